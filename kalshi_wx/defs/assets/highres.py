"""highres: order-book snapshots recorded from Kalshi's WebSocket, one partition per series and day.

``kalshi-wx record`` writes the files; this asset validates a day's files and registers them
(rows, markets, cadence, what the recorder counted, each market's coverage) with asset checks.
It reads the Parquet parts in place: they are the storage, so there is no IO manager and no
warehouse table. Readers get the day as a LazyFrame from ``HighresFiles.scan_day``. The sensor
registers each day once it has closed, and again if its files change. Series and the first day
come from ``config/highres.yaml``; a weather series' day is its climate day.
"""

import json
import time
from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

from kalshi_wx.core.live.recording import (
    COUNTERS,
    cadence_problems,
    coverage_problems,
    day_window_ms,
    days_to_register,
    market_stats,
    snapshot_problems,
    sum_counters,
)
from kalshi_wx.defs.assets.common import OWNERS
from kalshi_wx.defs.resources import HighresFiles
from kalshi_wx.defs.settings import settings

GROUP = "highres"
BOOK_SNAPSHOTS = dg.AssetKey([GROUP, "book_snapshots"])
_CONFIG = settings().highres
highres_partitions = dg.MultiPartitionsDefinition(
    {
        "series": dg.StaticPartitionsDefinition(list(_CONFIG.series)),
        # end_offset=1: today's partition exists while it is being recorded.
        "date": dg.DailyPartitionsDefinition(start_date=_CONFIG.first_date.isoformat(), end_offset=1),
    }
)
_REGISTER_PER_TICK = 20
_LOOKBACK_DAYS = 3
_TABLE_ROWS = 50


def series_and_day(partition_key: str | dg.MultiPartitionKey) -> tuple[str, date]:
    """``(series, day)`` of a highres partition key (``"2026-06-01|KXBTC15M"`` as a plain string)."""
    if not isinstance(partition_key, dg.MultiPartitionKey):
        try:
            partition_key = highres_partitions.get_partition_key_from_str(partition_key)
        except Exception as exc:  # dagster raises several types for a malformed key
            raise ValueError(f"partition key {partition_key!r} is not 'YYYY-MM-DD|SERIES'") from exc
    dims = partition_key.keys_by_dimension
    if dims["series"] not in _CONFIG.series:
        raise ValueError(f"partition key {str(partition_key)!r}: series {dims['series']!r} is not in highres.yaml")
    return dims["series"], date.fromisoformat(dims["date"])


def _markdown(stats: pl.DataFrame) -> str:
    lines = ["| market | rows | coverage | median step ms | holes | missing s |", "|---|---:|---:|---:|---:|---:|"]
    for row in stats.sort("coverage", nulls_last=True).head(_TABLE_ROWS).iter_rows(named=True):
        coverage = "-" if row["coverage"] is None else f"{row['coverage']:.1%}"
        step = "-" if row["median_interval_ms"] is None else f"{row['median_interval_ms']:.0f}"
        lines.append(
            f"| {row['market_ticker']} | {row['rows']} | {coverage} | {step} | {row['holes']} | "
            f"{row['missing_ms'] / 1000:.1f} |"
        )
    if stats.height > _TABLE_ROWS:
        lines.append(f"| ... {stats.height - _TABLE_ROWS} more, lowest coverage first above | | | | | |")
    return "\n".join(lines)


@dg.asset(
    key=BOOK_SNAPSHOTS,
    group_name=GROUP,
    kinds={"parquet", "polars"},
    owners=OWNERS,
    partitions_def=highres_partitions,
    check_specs=[
        dg.AssetCheckSpec(
            "rows_well_formed",
            asset=BOOK_SNAPSHOTS,
            description="No repeated (market, ts_ms), crossed or inconsistent prices, negative sizes; all in the day.",
        ),
        dg.AssetCheckSpec(
            "cadence_matches_snapshot_ms",
            asset=BOOK_SNAPSHOTS,
            description="Every market's median step between rows is the recorder's snapshot_ms.",
        ),
        dg.AssetCheckSpec(
            "markets_covered",
            asset=BOOK_SNAPSHOTS,
            description="Every market has rows for at least min_coverage of its open interval in the day.",
        ),
    ],
)
def book_snapshots(context: dg.AssetExecutionContext, highres: HighresFiles) -> dg.MaterializeResult:
    """Order-book snapshots of one series and day, recorded every 100 ms from Kalshi's WebSocket (Parquet)."""
    series, day = series_and_day(context.partition_key)
    parts = highres.parts(series, day)
    if not parts:
        raise dg.Failure(f"highres {series} {day}: no part files under {highres.day_dir(series, day)}")
    frame = highres.scan_day(series, day).collect()
    recorded_ms = [p.recording["snapshot_ms"] for p in parts if "snapshot_ms" in p.recording]
    snapshot_ms = max(set(recorded_ms), key=recorded_ms.count) if recorded_ms else _CONFIG.snapshot_ms
    offset = settings().recording_offset_hours(series)
    start_ms, end_ms = day_window_ms(day, offset)
    windows = {t: (w[0], w[1]) for p in parts for t, w in p.recording.get("markets", {}).items()}
    stats = market_stats(
        frame,
        snapshot_ms=snapshot_ms,
        day_window_ms=(start_ms, min(end_ms, int(time.time() * 1000))),
        market_windows=windows,
    )
    counters = sum_counters(p.recording.get("counters", {}) for p in parts)
    row_problems = snapshot_problems(frame, day_window_ms=(start_ms, end_ms))
    cadence = cadence_problems(stats, snapshot_ms=snapshot_ms)
    coverage = coverage_problems(stats, min_coverage=_CONFIG.min_coverage)
    events = [e for p in parts for e in p.recording.get("events", [])][:_TABLE_ROWS]
    context.log.info(
        f"{series} {day}: {frame.height} rows of {stats.height} markets in {len(parts)} parts; "
        + ", ".join(f"{k} {counters[k]}" for k in COUNTERS if counters[k])
    )
    summary = (
        frame.select(first_ts=pl.col("ts_ms").min() / 1000, last_ts=pl.col("ts_ms").max() / 1000)
        .hstack(
            stats.select(
                median_step_ms=pl.col("median_interval_ms").median(),
                coverage_min=pl.col("coverage").min(),
                coverage_median=pl.col("coverage").median(),
            )
        )
        .row(0, named=True)
    )
    metadata = {
        "dagster/row_count": frame.height,
        "path": dg.MetadataValue.path(str(highres.day_dir(series, day))),
        "parts": len(parts),
        "bytes": sum(p.bytes for p in parts),
        "markets": stats.height,
        "snapshot_ms": snapshot_ms,
        "first_ts": None if summary["first_ts"] is None else dg.MetadataValue.timestamp(summary["first_ts"]),
        "last_ts": None if summary["last_ts"] is None else dg.MetadataValue.timestamp(summary["last_ts"]),
        "median_step_ms": summary["median_step_ms"],
        "coverage_min": summary["coverage_min"],
        "coverage_median": summary["coverage_median"],
        **{counter: counters[counter] for counter in COUNTERS},
        "markets_table": dg.MetadataValue.md(_markdown(stats)),
        "events": dg.MetadataValue.md("\n".join(f"- {json.dumps(e)}" for e in events) or "none"),
        "reader": dg.MetadataValue.text(f"HighresFiles.scan_day({series!r}, date({day.year}, {day.month}, {day.day}))"),
    }
    return dg.MaterializeResult(
        metadata={k: v for k, v in metadata.items() if v is not None},
        check_results=[
            dg.AssetCheckResult(
                check_name="rows_well_formed",
                passed=not row_problems,
                metadata={"problems": dg.MetadataValue.md("\n".join(row_problems) or "none")},
            ),
            dg.AssetCheckResult(
                check_name="cadence_matches_snapshot_ms",
                passed=not cadence,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"problems": dg.MetadataValue.md("\n".join(cadence) or "none")},
            ),
            dg.AssetCheckResult(
                check_name="markets_covered",
                passed=not coverage,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "min_coverage": _CONFIG.min_coverage,
                    "problems": dg.MetadataValue.md("\n".join(coverage) or "none"),
                },
            ),
        ],
    )


highres_job = dg.define_asset_job(
    "highres",
    selection=dg.AssetSelection.groups(GROUP),
    description="Validate and register one series-day of recorded order-book snapshots.",
)


@dg.sensor(
    job=highres_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers each closed day of recorded snapshots (and again when its files change).",
)
def highres_closed_days(context: dg.SensorEvaluationContext, highres: HighresFiles) -> dg.SensorResult:
    """Cursor: {"SERIES|DATE": fingerprint of the files when last requested}, for the last few days."""
    registered: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    now_ms = int(time.time() * 1000)
    oldest = max(_CONFIG.first_date, datetime.fromtimestamp(now_ms / 1000 - _LOOKBACK_DAYS * 86_400, UTC).date())
    requests: list[dg.RunRequest] = []
    cursor: dict[str, str] = {}
    for series in _CONFIG.series:
        recorded = {d: f for d, f in highres.recorded_days(series).items() if d >= oldest}
        done = {d: registered[f"{series}|{d}"] for d in recorded if f"{series}|{d}" in registered}
        cursor.update({f"{series}|{d}": f for d, f in done.items()})
        due = days_to_register(
            recorded,
            utc_offset_hours=settings().recording_offset_hours(series),
            now_ms=now_ms,
            grace_ms=_CONFIG.closed_day_grace_minutes * 60_000,
            registered=done,
        )
        for day in due[: _REGISTER_PER_TICK - len(requests)]:
            fingerprint = recorded[day]
            requests.append(
                dg.RunRequest(
                    run_key=f"{series}|{day}|{fingerprint}",
                    partition_key=dg.MultiPartitionKey({"series": series, "date": day.isoformat()}),
                )
            )
            cursor[f"{series}|{day}"] = fingerprint
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))
