"""The raw layer end to end: simulator over loopback HTTP -> Dagster -> DuckDB / PostgreSQL."""

from __future__ import annotations

from datetime import date

import dagster as dg
import polars as pl
import pytest

from kalshi_wx.definitions import build_definitions
from kalshi_wx.defs.checks import observation_checks, raw_table_checks
from kalshi_wx.defs.partitions import city_date_key
from kalshi_wx.defs.resources import build_resources
from kalshi_wx.defs.runs import run_partitions, run_series
from kalshi_wx.warehouse.schemas import CANDLES_1M, MARKETS, SETTLEMENT, STATION_OBS, TABLES, TRADES

DAY = date(2026, 6, 1)  # before the simulator's historical cutoff: exercises /historical routing


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path, kalshi_wx_home):
    if request.param == "duckdb":
        return f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    return request.getfixturevalue("postgres_url")


def _snapshot(warehouse) -> dict[str, pl.DataFrame]:
    raw = [t for t in TABLES.values() if t.partitioned and t.group in ("kalshi", "weather")]
    return {t.name: warehouse.read(t, city="nyc", climate_date=DAY) for t in raw}


def test_raw_layer_materializes_checks_pass_and_rerun_is_idempotent(warehouse_url):
    resources = build_resources(mode="sim", warehouse_url=warehouse_url)
    warehouse = resources["warehouse"]
    defs = build_definitions(resources)
    with dg.DagsterInstance.ephemeral() as instance:
        assert run_series(defs, instance)
        [first] = run_partitions(defs, instance, [city_date_key("nyc", DAY)], job_name="raw_daily")
        assert first.success, first.error
        assert first.failed_checks == []
        before = _snapshot(warehouse)
        [second] = run_partitions(defs, instance, [city_date_key("nyc", DAY)], job_name="raw_daily")
        assert second.success, second.error
    after = _snapshot(warehouse)

    for name, frame in before.items():
        assert frame.height > 0, f"{name} is empty"
        assert after[name].equals(frame), f"{name} changed on re-materialization"

    markets = before[MARKETS.name]
    assert markets.height == 6 and markets["event_ticker"].unique().to_list() == ["KXHIGHNY-26JUN01"]
    assert set(markets["tier"]) == {"historical"}
    assert before[CANDLES_1M.name].height == 6 * 1440
    assert before[STATION_OBS.name].height == 288 and before[STATION_OBS.name]["station_ok"].all()
    assert before[TRADES.name]["ticker"].is_in(markets["ticker"].implode()).all()
    [settled] = before[SETTLEMENT.name].iter_rows(named=True)
    assert settled["report_type"] == "final" and settled["agrees_with_kalshi"] is True
    assert settled["kalshi_expiration_value"] == settled["max_f"]
    series = warehouse.read(TABLES["kalshi.series"])
    assert series.height == 7 and series["fee_type"].null_count() == 0


def test_every_raw_check_runs_for_the_partition(warehouse_url):
    resources = build_resources(mode="sim", warehouse_url=warehouse_url)
    defs = build_definitions(resources)
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("raw_daily").execute_in_process(
            partition_key=city_date_key("chi", DAY), instance=instance
        )
    evaluations = result.get_asset_check_evaluations()
    expected = {(k.asset_key, k.name) for c in [*raw_table_checks, *observation_checks] for k in c.check_keys}
    assert {(e.asset_key, e.check_name) for e in evaluations} == expected
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]
    assert {e.partition for e in evaluations} == {"chi|2026-06-01"}
