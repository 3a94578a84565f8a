"""The climate day: local *standard* time midnight to midnight, all year.

The NWS CLI reports and Kalshi settles on this day. During daylight time it runs 01:00 to 01:00
civil time, so it is never a civil local day and never a UTC day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl


def climate_day_window(climate_date: date, std_utc_offset_hours: int) -> tuple[datetime, datetime]:
    """UTC [start, end) of a climate day for a station whose standard offset is given (e.g. -5)."""
    start = datetime(climate_date.year, climate_date.month, climate_date.day, tzinfo=UTC) - timedelta(
        hours=std_utc_offset_hours
    )
    return start, start + timedelta(days=1)


def climate_date_of(ts_utc: datetime, std_utc_offset_hours: int) -> date:
    """The climate day a UTC instant belongs to."""
    if ts_utc.tzinfo is None:
        raise ValueError(f"climate_date_of needs an aware UTC timestamp, got naive {ts_utc!r}")
    return (ts_utc.astimezone(UTC) + timedelta(hours=std_utc_offset_hours)).date()


def climate_date_expr(ts_col: str, std_utc_offset_hours: int) -> pl.Expr:
    """Polars expression: the climate date of a UTC timestamp column."""
    return (pl.col(ts_col) + pl.duration(hours=std_utc_offset_hours)).dt.date()


def minutes_of_climate_day(climate_date: date, std_utc_offset_hours: int) -> pl.Series:
    """The 1440 minute starts of a climate day as a UTC timestamp series."""
    start, end = climate_day_window(climate_date, std_utc_offset_hours)
    return pl.datetime_range(
        start, end - timedelta(minutes=1), interval="1m", time_unit="us", time_zone="UTC", eager=True
    ).alias("ts")
