"""highres/book_snapshots: a real Dagster run over part files on disk, its checks and metadata, and the sensor."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from kalshi_wx.core.live.book import OrderBook
from kalshi_wx.core.live.recording import day_window_ms
from kalshi_wx.core.live.snapshots import SnapshotBuffer, snapshot_row
from kalshi_wx.definitions import build_definitions
from kalshi_wx.defs.assets.highres import highres_closed_days, highres_partitions, series_and_day
from kalshi_wx.defs.resources import HighresFiles, build_resources
from kalshi_wx.warehouse import highres

SERIES = "KXBTC15M"
DAY = date(2026, 9, 6)
ASSET = dg.AssetKey(["highres", "book_snapshots"])


def _rows(ticks: dict[str, range]):
    buffer = SnapshotBuffer()
    for ticker, stamps in ticks.items():
        book = OrderBook(ticker)
        book.apply_snapshot([(Decimal("0.40"), Decimal(3))], [(Decimal("0.55"), Decimal(2))], seq=9)
        row = snapshot_row(book, 2)
        for ts in stamps:
            buffer.append(ts, row)
    return buffer.take()


def _write_day(root: Path, day: date, writer: str = "rtest", **counters) -> tuple[int, int]:
    """Market A recorded over its whole 10 s window, B with a 4 s hole: two parts of 5 s."""
    start, _ = day_window_ms(day, 0)
    start += 3_600_000
    a, b = f"{SERIES}-A", f"{SERIES}-B"
    markets = {a: [start, start + 10_000], b: [start, start + 10_000]}
    for k, (lo, hi) in enumerate(((start, start + 5_000), (start + 5_000, start + 10_000))):
        frame = _rows({a: range(lo, hi, 100), b: range(lo, hi, 100) if k == 0 else range(lo + 4_000, hi, 100)})
        recording = {"series": SERIES, "snapshot_ms": 100, "counters": counters if k == 0 else {"gaps": 1},
                     "markets": markets, "events": [{"ts_ms": lo, "kind": "gaps", "detail": "seq jumped"}]}  # fmt: skip
        highres.write_part(highres.day_dir(root, SERIES, day), highres.part_name(lo, writer), frame, recording)
    return start, start + 10_000


@pytest.fixture(scope="module")
def highres_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("highres_home")


@pytest.fixture(scope="module")
def defs(highres_root, tmp_path_factory):
    home = tmp_path_factory.mktemp("highres_warehouse")
    resources = build_resources(
        mode="sim", warehouse_url=f"duckdb://{home / 'warehouse.duckdb'}", highres_root=str(highres_root)
    )
    return build_definitions(resources)


def _materialize(defs, day: date, series: str = SERIES) -> dg.ExecuteInProcessResult:
    with dg.DagsterInstance.ephemeral() as instance:
        return defs.resolve_job_def("highres").execute_in_process(
            partition_key=dg.MultiPartitionKey({"series": series, "date": day.isoformat()}),
            instance=instance,
            raise_on_error=False,
        )


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_a_day_is_validated_and_registered_with_its_counters(defs, highres_root):
    _write_day(highres_root, DAY, reconnects=1, gaps=2, resnapshots=4)
    result = _materialize(defs, DAY)
    assert result.success
    [materialization] = result.asset_materializations_for_node("highres__book_snapshots")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["dagster/row_count"] == 100 + 60 and metadata["markets"] == 2 and metadata["parts"] == 2
    assert (metadata["gaps"], metadata["reconnects"], metadata["resnapshots"]) == (3, 1, 4)
    assert metadata["snapshot_ms"] == 100 and metadata["median_step_ms"] == 100.0
    assert metadata["coverage_min"] == pytest.approx(0.6) and metadata["path"].endswith("date=2026-09-06")
    assert f"{SERIES}-B | 60 | 60.0%" in metadata["markets_table"] and "seq jumped" in metadata["events"]
    checks = _checks(result)
    assert checks["rows_well_formed"].passed and checks["cadence_matches_snapshot_ms"].passed
    coverage = checks["markets_covered"]
    assert not coverage.passed and coverage.severity == dg.AssetCheckSeverity.WARN
    assert f"{SERIES}-B: 60.0% of its open interval" in coverage.metadata["problems"].value


def test_duplicated_rows_fail_the_row_check(defs, highres_root):
    day = DAY + timedelta(days=1)
    _write_day(highres_root, day)
    _write_day(highres_root, day, writer="import-copy")  # the same rows filed twice
    checks = _checks(_materialize(defs, day))
    assert not checks["rows_well_formed"].passed
    assert "(market_ticker, ts_ms) key(s) repeat" in checks["rows_well_formed"].metadata["problems"].value


def test_a_day_without_files_fails_naming_the_directory(defs, highres_root):
    result = _materialize(defs, DAY - timedelta(days=1))
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert f"highres {SERIES} 2026-09-05: no part files under {highres_root}" in message


def test_partition_keys_parse_and_the_asset_is_not_in_the_city_day_jobs(defs):
    assert series_and_day("2026-09-06|KXBTC15M") == (SERIES, DAY)
    with pytest.raises(ValueError, match="is not 'YYYY-MM-DD|SERIES'"):
        series_and_day("KXBTC15M")
    spec = {s.key: s for s in defs.resolve_all_asset_specs()}[ASSET]
    assert spec.group_name == "highres" and spec.kinds >= {"parquet"} and spec.owners
    assert spec.partitions_def == highres_partitions and "\n" not in (spec.description or "\n")
    assert ASSET not in defs.resolve_job_def("daily").asset_layer.selected_asset_keys
    assert defs.resolve_job_def("highres").asset_layer.selected_asset_keys == {ASSET}
    assert defs.resolve_sensor_def("highres_closed_days").default_status == dg.DefaultSensorStatus.RUNNING


def test_the_sensor_registers_closed_days_once_and_again_when_files_change(tmp_path):
    today = datetime.now(UTC).date()
    closed = today - timedelta(days=2)  # closed whatever the time of day (the grace period is 15 minutes)
    _write_day(tmp_path, closed)
    _write_day(tmp_path, today)  # still open: not registered
    resources = {"highres": HighresFiles(root=str(tmp_path))}
    with dg.DagsterInstance.ephemeral() as instance:
        first = highres_closed_days(dg.build_sensor_context(instance=instance, resources=resources))
        assert [r.partition_key for r in first.run_requests] == [
            dg.MultiPartitionKey({"series": SERIES, "date": closed.isoformat()})
        ]
        cursor = json.loads(first.cursor)
        assert list(cursor) == [f"{SERIES}|{closed}"]
        again = highres_closed_days(
            dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=resources)
        )
        assert again.run_requests == []
        _write_day(tmp_path, closed, writer="late")  # a late part (or an import) changes the day's files
        changed = highres_closed_days(
            dg.build_sensor_context(instance=instance, cursor=again.cursor, resources=resources)
        )
        assert len(changed.run_requests) == 1 and changed.run_requests[0].run_key != first.run_requests[0].run_key
