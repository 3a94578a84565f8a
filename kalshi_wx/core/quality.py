"""Data-quality rules for raw tables, as plain functions so they are tested without Dagster.

Each returns a list of human-readable problems (empty = passed), so an asset check can show
exactly which rows or brackets failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from kalshi_wx.core.brackets import brackets_of, validate_ladder
from kalshi_wx.core.errors import PayloadError

_MAX_EXAMPLES = 5


def duplicate_key_problems(frame: pl.DataFrame, key: tuple[str, ...]) -> list[str]:
    dupes = frame.group_by(list(key)).len().filter(pl.col("len") > 1)
    return [f"key {row[:-1]} appears {row[-1]} times" for row in dupes.head(_MAX_EXAMPLES).iter_rows()]


def window_problems(frame: pl.DataFrame, ts_col: str, window: tuple[datetime, datetime]) -> list[str]:
    start, end = window
    outside = frame.filter((pl.col(ts_col) < start) | (pl.col(ts_col) >= end))
    if outside.is_empty():
        return []
    return [
        f"{outside.height} row(s) have {ts_col} outside the climate day [{start.isoformat()}, {end.isoformat()}), "
        f"e.g. {outside[ts_col][0].isoformat()}"
    ]


def price_problems(frame: pl.DataFrame, columns: list[str]) -> list[str]:
    problems = []
    for column in columns:
        bad = frame.filter((pl.col(column) < 0) | (pl.col(column) > 1))
        if bad.height:
            problems.append(f"{bad.height} {column} value(s) outside [0, 1], e.g. {bad[column][0]}")
    return problems


def ladder_problems(markets: pl.DataFrame) -> list[str]:
    """Every event's brackets must cover each whole degree exactly once."""
    if markets.is_empty():
        return ["no markets"]
    problems = []
    for (event,), rows in markets.group_by("event_ticker", maintain_order=True):
        try:
            validate_ladder(brackets_of(rows), event=event)
        except PayloadError as exc:
            problems.append(str(exc))
    return problems


def pmf_sum_problems(frame: pl.DataFrame, column: str, tolerance: float = 1e-6) -> list[str]:
    """Every minute's probabilities over the ladder must sum to 1."""
    sums = frame.group_by("ts").agg(pl.col(column).sum().alias("total"))
    bad = sums.filter((pl.col("total") - 1).abs() > tolerance).sort("ts")
    if bad.is_empty():
        return []
    first = bad.row(0, named=True)
    return [f"{bad.height} minute(s) where {column} sums to other than 1, e.g. {first['total']:.6f} at {first['ts']}"]


# Plausible air temperatures in °F at a US settlement station: outside this the unit is wrong (°C read
# as °F, tenths read as degrees) rather than the weather extreme. The US records are -80 and 134.
PLAUSIBLE_TEMP_F = (-80.0, 135.0)


@dataclass(frozen=True)
class Coverage:
    """How much of a climate day an observation frame covers."""

    rows: int  # rows with a usable temperature
    expected: int  # 1440 / resolution: one per nominal interval
    longest_gap_min: int  # longest stretch between usable observations, the day's start and end counting as ones

    @property
    def share(self) -> float:
        return self.rows / self.expected if self.expected else 0.0


def frame_resolution(frame: pl.DataFrame) -> int:
    """The coarsest ``resolution_min`` of an observation frame (1 when it is empty)."""
    values = frame["resolution_min"].drop_nulls().to_list()
    return int(max(values, default=1))


def observation_coverage(frame: pl.DataFrame, window: tuple[datetime, datetime], resolution_min: int) -> Coverage:
    """Usable rows (non-null ``temp_f`` from the settlement station) against one per ``resolution_min``.

    The longest gap counts the day's edges, so a day whose records stop at 19:35 shows a gap of
    about 4.5 hours even though every record before it is there: a peak can hide in either.
    """
    usable = frame.filter(pl.col("station_ok") & pl.col("temp_f").is_not_null())
    stamps = sorted({window[0], *usable["ts"].to_list(), window[1]})
    gaps = [int((b - a).total_seconds() // 60) for a, b in zip(stamps, stamps[1:], strict=False)]
    return Coverage(rows=usable.height, expected=1440 // resolution_min, longest_gap_min=max(gaps, default=1440))


def observation_unit_problems(frame: pl.DataFrame) -> list[str]:
    """Temperatures that cannot be °F at a US station, dew points above the temperature, and
    tenths of °C that do not round to the row's °F."""
    problems = []
    lo, hi = PLAUSIBLE_TEMP_F
    out = frame.filter((pl.col("temp_f") < lo) | (pl.col("temp_f") > hi))
    if out.height:
        problems.append(
            f"{out.height} temp_f value(s) outside [{lo:g}, {hi:g}] °F, e.g. {out['temp_f'][0]} at {out['ts'][0]}"
        )
    # A reading's dew point cannot exceed its temperature; rounding each to whole °F allows 1 °F.
    above = frame.filter(pl.col("dew_f") > pl.col("temp_f") + 1)
    if above.height:
        problems.append(
            f"{above.height} row(s) with dew_f above temp_f, e.g. {above['dew_f'][0]} > {above['temp_f'][0]}"
        )
    tenths = frame.filter(pl.col("temp_c_tenths").is_not_null())
    converted = ((pl.col("temp_c_tenths") * 18 + 3200 + 50) // 100).cast(pl.Float64)
    mismatch = tenths.filter(converted != pl.col("temp_f"))
    if mismatch.height:
        problems.append(
            f"{mismatch.height} row(s) whose temp_c_tenths does not round to temp_f, "
            f"e.g. {mismatch['temp_c_tenths'][0]} vs {mismatch['temp_f'][0]}"
        )
    whole = frame.filter((pl.col("source") == "iem_1min") & (pl.col("temp_f") != pl.col("temp_f").round(0)))
    if whole.height:
        problems.append(f"{whole.height} IEM 1-minute temp_f value(s) not whole °F, e.g. {whole['temp_f'][0]}")
    return problems


def observation_summary(frame: pl.DataFrame, window: tuple[datetime, datetime]) -> dict[str, int | float | None]:
    """What an observation day's metadata shows: usable rows against expected ones, the longest hole,
    rows from other stations, unit problems found, and the day's observed maximum."""
    coverage = observation_coverage(frame, window, frame_resolution(frame))
    max_temp_f = frame.filter(pl.col("station_ok"))["temp_f"].drop_nulls().to_list()
    return {
        "rows": frame.height,
        "usable_rows": coverage.rows,
        "expected_rows": coverage.expected,
        "coverage": round(coverage.share, 4),
        "longest_gap_min": coverage.longest_gap_min,
        "rows_from_other_stations": frame.filter(~pl.col("station_ok")).height,
        "unit_problems": len(observation_unit_problems(frame)),
        "max_temp_f": float(max(max_temp_f)) if max_temp_f else None,
    }


def coverage_problems(
    frame: pl.DataFrame, window: tuple[datetime, datetime], *, min_share: float, max_gap_minutes: int
) -> list[str]:
    """Too few usable observations, or a hole long enough to hide the day's peak."""
    if frame.is_empty():
        return ["no observations"]
    resolution = frame_resolution(frame)
    coverage = observation_coverage(frame, window, resolution)
    problems = []
    if coverage.share < min_share:
        problems.append(
            f"{coverage.rows} of {coverage.expected} expected {resolution}-minute observations "
            f"({coverage.share:.0%}, below {min_share:.0%})"
        )
    if coverage.longest_gap_min > max_gap_minutes:
        problems.append(f"{coverage.longest_gap_min} minutes without a usable observation (over {max_gap_minutes})")
    return problems
