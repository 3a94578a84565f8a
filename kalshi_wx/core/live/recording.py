"""A recorded day of snapshots: which day a row belongs to, and what the day says about itself.

The day of a series is the UTC day, except for a series settled on a climate day (the weather
ladders), whose rows are filed by that climate day so a day of snapshots lines up with the city x
date partitions. Plain functions on the day's frame, so the ``highres/book_snapshots`` asset and
its checks stay thin and this is tested without Dagster. Times are epoch milliseconds throughout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

import polars as pl

from kalshi_wx.core.climate_day import climate_date_of, climate_day_window
from kalshi_wx.core.live.snapshots import PRICE_COLUMNS

COUNTERS = ("gaps", "duplicates", "malformed", "resnapshots", "reconnects", "book_errors", "crossed", "late_ticks")
"""Recorder counters kept with every part file (see ``warehouse/highres.py``)."""
_MAX_EXAMPLES = 5
_STATS_COLUMNS = {
    "market_ticker": pl.Utf8,
    "rows": pl.UInt32,
    "first_ts_ms": pl.Int64,
    "last_ts_ms": pl.Int64,
    "median_interval_ms": pl.Float64,
    "holes": pl.UInt32,
    "missing_ms": pl.Int64,
    "window_start_ms": pl.Int64,
    "window_end_ms": pl.Int64,
    "expected_rows": pl.Int64,
    "coverage": pl.Float64,
}


def recording_day(ts_ms: int, utc_offset_hours: int) -> date:
    """The day a row stamped ``ts_ms`` is filed under (``utc_offset_hours`` 0 for a UTC day)."""
    return climate_date_of(datetime.fromtimestamp(ts_ms / 1000, UTC), utc_offset_hours)


def day_window_ms(day: date, utc_offset_hours: int) -> tuple[int, int]:
    """[start, end) of a recording day in epoch milliseconds."""
    start, end = climate_day_window(day, utc_offset_hours)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def sum_counters(parts: Iterable[Mapping[str, object]]) -> dict[str, int]:
    """The recorder counters of a day: the sum over its part files' ``counters``."""
    total = dict.fromkeys(COUNTERS, 0)
    for counters in parts:
        for name in COUNTERS:
            value = counters.get(name, 0)
            total[name] += value if isinstance(value, int) else 0
    return total


def market_stats(
    frame: pl.DataFrame,
    *,
    snapshot_ms: int,
    day_window_ms: tuple[int, int],
    market_windows: Mapping[str, tuple[int, int]],
) -> pl.DataFrame:
    """Per market: rows, cadence, holes, and coverage of the part of its open interval inside the day.

    A market's open interval comes from ``market_windows`` (open, close) when known, else from its
    own first and last row; it is clipped to ``day_window_ms`` (the day, or the day so far). A
    *hole* is a step between consecutive rows longer than two snapshot intervals; ``missing_ms``
    is the time those holes cover beyond one interval each.
    """
    if frame.is_empty():
        return pl.DataFrame(schema=_STATS_COLUMNS)
    day_start, day_end = day_window_ms
    steps = (
        frame.select("market_ticker", "ts_ms")
        .sort("market_ticker", "ts_ms")
        .with_columns(pl.col("ts_ms").diff().over("market_ticker").alias("step"))
    )
    per_market = steps.group_by("market_ticker").agg(
        pl.len().cast(pl.UInt32).alias("rows"),
        pl.col("ts_ms").min().alias("first_ts_ms"),
        pl.col("ts_ms").max().alias("last_ts_ms"),
        pl.col("step").median().alias("median_interval_ms"),
        (pl.col("step") > 2 * snapshot_ms).sum().cast(pl.UInt32).alias("holes"),
        pl.when(pl.col("step") > 2 * snapshot_ms)
        .then(pl.col("step") - snapshot_ms)
        .otherwise(0)
        .sum()
        .cast(pl.Int64)
        .alias("missing_ms"),
    )
    known = pl.DataFrame(
        {
            "market_ticker": list(market_windows),
            "open_ms": [w[0] for w in market_windows.values()],
            "close_ms": [w[1] for w in market_windows.values()],
        },
        schema={"market_ticker": pl.Utf8, "open_ms": pl.Int64, "close_ms": pl.Int64},
    )
    windowed = per_market.join(known, on="market_ticker", how="left").with_columns(
        pl.max_horizontal(pl.coalesce("open_ms", "first_ts_ms"), pl.lit(day_start)).alias("window_start_ms"),
        pl.min_horizontal(pl.coalesce("close_ms", pl.col("last_ts_ms") + snapshot_ms), pl.lit(day_end)).alias(
            "window_end_ms"
        ),
    )
    in_window = (
        frame.select("market_ticker", "ts_ms")
        .join(windowed.select("market_ticker", "window_start_ms", "window_end_ms"), on="market_ticker")
        .filter(pl.col("ts_ms").is_between("window_start_ms", "window_end_ms", closed="left"))
        .group_by("market_ticker")
        .len(name="rows_in_window")
    )
    span = (pl.col("window_end_ms") - pl.col("window_start_ms")).clip(lower_bound=0)
    expected = (span + snapshot_ms - 1) // snapshot_ms
    return (
        windowed.join(in_window, on="market_ticker", how="left")
        .with_columns(expected.cast(pl.Int64).alias("expected_rows"))
        .with_columns(
            pl.when(pl.col("expected_rows") > 0)
            .then(pl.min_horizontal(pl.col("rows_in_window").fill_null(0) / pl.col("expected_rows"), pl.lit(1.0)))
            .otherwise(None)
            .alias("coverage")
        )
        .select(list(_STATS_COLUMNS))
        .cast(_STATS_COLUMNS)  # type: ignore[arg-type]  # polars' cast accepts this mapping of names to dtypes
        .sort("market_ticker")
    )


def _examples(frame: pl.DataFrame, condition: pl.Expr, what: str, show: list[str]) -> list[str]:
    bad = frame.filter(condition)
    if bad.is_empty():
        return []
    first = ", ".join(f"{name}={value}" for name, value in bad.select(show).row(0, named=True).items())
    return [f"{bad.height} row(s) {what}, e.g. {first}"]


def snapshot_problems(frame: pl.DataFrame, *, day_window_ms: tuple[int, int]) -> list[str]:
    """Rows that cannot be right: repeated (market, ts_ms), crossed or inconsistent prices, negative sizes,
    prices outside [0, 1], timestamps outside the day."""
    if frame.is_empty():
        return []
    problems = []
    dupes = frame.group_by("market_ticker", "ts_ms").len().filter(pl.col("len") > 1)
    if dupes.height:
        ticker, ts_ms, count = dupes.sort("ts_ms").row(0)
        problems.append(f"{dupes.height} (market_ticker, ts_ms) key(s) repeat, e.g. {ticker} at {ts_ms} x{count}")
    key = ["market_ticker", "ts_ms"]
    problems += _examples(
        frame, pl.col("yes_bid") >= pl.col("yes_ask"), "are crossed (yes_bid >= yes_ask)", [*key, "yes_bid", "yes_ask"]
    )
    problems += _examples(
        frame,
        (pl.col("no_bid") != 1 - pl.col("yes_ask")) | (pl.col("no_ask") != 1 - pl.col("yes_bid")),
        "have NO prices that are not 1 - the YES prices",
        [*key, "yes_bid", "yes_ask", "no_bid", "no_ask"],
    )
    problems += _examples(
        frame,
        pl.col("spread") != pl.col("yes_ask") - pl.col("yes_bid"),
        "have spread != yes_ask - yes_bid",
        [*key, "yes_bid", "yes_ask", "spread"],
    )
    for column in PRICE_COLUMNS:
        if column == "spread":
            continue
        problems += _examples(
            frame, (pl.col(column) < 0) | (pl.col(column) > 1), f"have {column} outside [0, 1]", [*key, column]
        )
    for column in ("yes_bid_size", "yes_ask_size"):
        problems += _examples(frame, pl.col(column) < 0, f"have a negative {column}", [*key, column])
    start, end = day_window_ms
    problems += _examples(
        frame, (pl.col("ts_ms") < start) | (pl.col("ts_ms") >= end), f"lie outside the day [{start}, {end})", key
    )
    return problems


def cadence_problems(stats: pl.DataFrame, *, snapshot_ms: int, tolerance: float = 0.1) -> list[str]:
    """Markets whose median step between rows is off ``snapshot_ms`` by more than ``tolerance``."""
    off = stats.filter(
        pl.col("median_interval_ms").is_not_null()
        & ((pl.col("median_interval_ms") - snapshot_ms).abs() > tolerance * snapshot_ms)
    )
    return [
        f"{ticker}: median step {step:.0f} ms, expected {snapshot_ms} ms"
        for ticker, step in off.select("market_ticker", "median_interval_ms").head(_MAX_EXAMPLES).iter_rows()
    ] + ([f"... and {off.height - _MAX_EXAMPLES} more market(s)"] if off.height > _MAX_EXAMPLES else [])


def coverage_problems(stats: pl.DataFrame, *, min_coverage: float) -> list[str]:
    """Markets with snapshots for less than ``min_coverage`` of their open interval within the day."""
    low = stats.filter(pl.col("coverage") < min_coverage).sort("coverage")
    return [
        f"{ticker}: {coverage:.1%} of its open interval has snapshots ({rows} rows of {expected})"
        for ticker, coverage, rows, expected in low.select("market_ticker", "coverage", "rows", "expected_rows")
        .head(_MAX_EXAMPLES)
        .iter_rows()
    ] + ([f"... and {low.height - _MAX_EXAMPLES} more market(s)"] if low.height > _MAX_EXAMPLES else [])


def days_to_register(
    recorded: Mapping[date, str],
    *,
    utc_offset_hours: int,
    now_ms: int,
    grace_ms: int,
    registered: Mapping[date, str],
) -> list[date]:
    """Closed days (ended at least ``grace_ms`` ago) whose files are new or changed since registered.

    ``recorded`` and ``registered`` map a day to the fingerprint of its files, now and when it was
    last registered; a late part or an import changes the fingerprint, so the day is registered again.
    """
    return sorted(
        day
        for day, fingerprint in recorded.items()
        if day_window_ms(day, utc_offset_hours)[1] + grace_ms <= now_ms and registered.get(day) != fingerprint
    )
