"""Data-quality rules for raw tables, as plain functions so they are tested without Dagster.

Each returns a list of human-readable problems (empty = passed), so an asset check can show
exactly which rows or brackets failed.
"""

from __future__ import annotations

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
