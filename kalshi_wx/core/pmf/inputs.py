"""Warehouse frames to the hazard kernel's arrays: observation minutes, baselines, seeds, ladders.

Everything here respects the no-look-ahead rule: a baseline uses only forecasts issued before the
climate day starts, and the fallback climatology only days before it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

import numpy as np
import polars as pl

from kalshi_wx.core.brackets import Bracket, brackets_of, validate_ladder
from kalshi_wx.core.pmf.hazard_fit import baseline_from_forecast, climatology_baseline

MIN_FORECAST_HOURS = 18  # fewer hours than this is a partial forecast: use the fallback shape


def observation_minutes(obs: pl.DataFrame, window: tuple[datetime, datetime]) -> tuple[np.ndarray, np.ndarray]:
    """Minute index in the climate day and temperature of each settlement-station observation."""
    usable = obs.filter(pl.col("station_ok") & pl.col("temp_f").is_not_null()).sort("ts")
    seconds = (usable["ts"].dt.epoch("s") - int(window[0].timestamp())).to_numpy()
    inside = (seconds >= 0) & (seconds < 86_400)
    return (seconds[inside] // 60).astype(np.int64), usable["temp_f"].to_numpy()[inside].astype(np.float64)


def day_baseline(
    forecast: pl.DataFrame,
    window: tuple[datetime, datetime],
    *,
    climate_date: date,
    std_offset: int,
    fallback_high_low: tuple[float, float] | None,
) -> tuple[np.ndarray, str]:
    """The day's baseline path and where it came from ("forecast" or "climatology")."""
    known = forecast.filter(pl.col("issued_at") <= window[0]).sort("ts")
    if known.height >= MIN_FORECAST_HOURS:
        ts = known["ts"].dt.epoch("s").to_numpy()
        return baseline_from_forecast(ts, known["temp_f"].to_numpy(), window), "forecast"
    if fallback_high_low is None:
        raise ValueError(
            f"climate day {climate_date}: no forecast issued before it and no earlier observations to build "
            "a climatology from; materialize weather/forecast (and weather/station_obs for earlier days)"
        )
    high, low = fallback_high_low
    return climatology_baseline(std_offset, climate_date, high, low), "climatology"


def trailing_high_low(obs: pl.DataFrame) -> tuple[float, float] | None:
    """Mean daily high and low of earlier days' observations (a forecast-free climatology)."""
    daily = (
        obs.filter(pl.col("station_ok"))
        .group_by("climate_date")
        .agg(pl.col("temp_f").max().alias("high"), pl.col("temp_f").min().alias("low"))
    )
    if daily.is_empty():
        return None
    # polars types Series.mean() as any scalar; a float column's mean is a float.
    high, low = cast(float, daily["high"].mean()), cast(float, daily["low"].mean())
    return float(high), float(low)


def market_ladder(markets: pl.DataFrame) -> list[Bracket]:
    """The event's validated ladder, low to high, from a ``kalshi.markets`` slice."""
    return validate_ladder(
        brackets_of(markets),
        event=markets["event_ticker"][0] if markets.height else "event",
    )
