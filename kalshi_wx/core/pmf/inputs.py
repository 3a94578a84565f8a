"""Warehouse frames to the hazard kernel's arrays: observation minutes, baselines, seeds, ladders.

Everything here respects the no-look-ahead rule: a baseline uses only forecasts issued before the
climate day starts, and the fallback climatology only days before it. The residual fit sees each
past day against the baseline that would have been built for it at prediction time (``fit_days``):
its as-issued forecast, else the trailing climatology of the days before *it*, never a curve made
from the day's own high and low.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import cast

import numpy as np
import polars as pl

from kalshi_wx.core.brackets import Bracket, brackets_of, validate_ladder
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.pmf.hazard import (
    Ar1Params,
    HazardResult,
    floor_live_brackets,
    ladder_arrays,
    simulate_bracket_pmf,
)
from kalshi_wx.core.pmf.hazard_fit import baseline_from_forecast, climatology_baseline, fit_ar1, prior_params
from kalshi_wx.core.pmf.observation import MAX_EXCESS_F, ExcessFit, draw_excess, excess_pmf, hole_minutes, record_excess

MIN_FORECAST_HOURS = 18  # fewer hours than this is a partial forecast: use the fallback shape
DEFAULT_DAILY_RANGE_F = 15.0  # high minus low when no low is known at all: a typical mid-latitude day


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
            f"climate day {climate_date}: no forecast issued before it and no earlier daily highs to build a "
            "climatology from; materialize weather/forecast, or weather/settlement for earlier days"
        )
    high, low = fallback_high_low
    return climatology_baseline(std_offset, climate_date, high, low), "climatology"


def daily_extremes(obs: pl.DataFrame, settlement: pl.DataFrame) -> pl.DataFrame:
    """climate_date, high, low per day: the official CLI values where settled, else the observed ones.

    Official daily highs reach back further than intraday records (``weather/settlement`` backfills
    from IEM's CLI archive), so a city with little observation history still gets a climatology.
    """
    observed = (
        obs.filter(pl.col("station_ok") & pl.col("temp_f").is_not_null())
        .group_by("climate_date")
        .agg(pl.col("temp_f").max().alias("obs_high"), pl.col("temp_f").min().alias("obs_low"))
    )
    official = settlement.select(
        "climate_date",
        pl.col("max_f").cast(pl.Float64).alias("cli_high"),
        pl.col("min_f").cast(pl.Float64).alias("cli_low"),
    ).unique("climate_date", keep="last")
    both = observed.join(official, on="climate_date", how="full", coalesce=True)
    return (
        both.select(
            "climate_date",
            pl.coalesce("cli_high", "obs_high").alias("high"),
            pl.coalesce("cli_low", "obs_low").alias("low"),
        )
        .drop_nulls("high")
        .sort("climate_date")
    )


def trailing_high_low(daily: pl.DataFrame, day: date, n_days: int) -> tuple[float, float] | None:
    """Mean high and low of the ``n_days`` climate days before ``day`` (a forecast-free climatology).

    ``daily`` is ``daily_extremes`` output. A missing low (a CLI row without one) is read as the
    high minus the mean range of the days that have both.
    """
    window = daily.filter((pl.col("climate_date") < day) & (pl.col("climate_date") >= day - timedelta(days=n_days)))
    if window.is_empty():
        return None
    # polars types Series.mean() as any scalar; a float column's mean is a float.
    high = float(cast(float, window["high"].mean()))
    lows = window.drop_nulls("low")
    if lows.is_empty():
        return high, high - DEFAULT_DAILY_RANGE_F
    low_range = float(cast(float, (lows["high"] - lows["low"]).mean()))
    return high, high - low_range


def fit_days(
    obs: pl.DataFrame,
    forecasts: pl.DataFrame,
    daily: pl.DataFrame,
    *,
    std_offset: int,
    climatology_days: int,
    min_observations: int = 24,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Past days as ``fit_ar1`` takes them, each against the baseline built as at its own prediction time.

    A day with fewer than ``min_observations`` usable observations, or with neither an as-issued
    forecast nor earlier daily highs, is left out.
    """
    days = []
    for (past,), day_obs in obs.group_by("climate_date", maintain_order=True):
        window = climate_day_window(past, std_offset)
        minute_idx, temps = observation_minutes(day_obs, window)
        if len(temps) < min_observations:
            continue
        fallback = trailing_high_low(daily, past, climatology_days)
        day_forecast = forecasts.filter(pl.col("climate_date") == past)
        if fallback is None and day_forecast.filter(pl.col("issued_at") <= window[0]).height < MIN_FORECAST_HOURS:
            continue
        baseline, _ = day_baseline(
            day_forecast, window, climate_date=past, std_offset=std_offset, fallback_high_low=fallback
        )
        days.append((minute_idx, temps, baseline))
    return days


def bracket_caps(ladder: list[Bracket]) -> dict[str, int | None]:
    """Each bracket's whole-degree top (None = open above), which ``fusion.ruled_out`` compares with."""
    return {b.ticker: b.hi for b in ladder}


def market_ladder(markets: pl.DataFrame) -> list[Bracket]:
    """The event's validated ladder, low to high, from a ``kalshi.markets`` slice."""
    return validate_ladder(
        brackets_of(markets),
        event=markets["event_ticker"][0] if markets.height else "event",
    )


def params_from_history(
    obs: pl.DataFrame,
    forecasts: pl.DataFrame,
    daily: pl.DataFrame,
    *,
    std_offset: int,
    climatology_days: int,
    min_fit_days: int,
) -> tuple[Ar1Params, int]:
    """The residual model fitted on trailing days (``fit_days``), or the prior with too few; and the day count.

    With too few days of intraday records and no forecasts, the baseline will be the climatology of
    official highs, so the prior's spread is that climatology's own error (``climatology_spread``).
    """
    days = fit_days(obs, forecasts, daily, std_offset=std_offset, climatology_days=climatology_days)
    if len(days) >= min_fit_days:
        return fit_ar1(days), len(days)
    spread = climatology_spread(daily, climatology_days) if forecasts.is_empty() else None
    if spread is None:
        return prior_params(len(days)), len(days)
    return prior_params(len(days), stationary_sd_f=spread, efold_minutes=CLIMATOLOGY_EFOLD_MINUTES), len(days)


MIN_SPREAD_DAYS = 5  # fewer departures than this: keep the prior's spread
CLIMATOLOGY_EFOLD_MINUTES = 1440.0  # a departure from the climatology lasts the day


def climatology_spread(daily: pl.DataFrame, n_days: int) -> float | None:
    """RMS departure of each day's high from the trailing climatology built for it (days before it only)."""
    departures = []
    for row in daily.iter_rows(named=True):
        climatology = trailing_high_low(daily, row["climate_date"], n_days)
        if climatology is not None:
            departures.append(row["high"] - climatology[0])
    if len(departures) < MIN_SPREAD_DAYS:
        return None
    return float(np.sqrt(np.mean(np.square(departures))))


def record_resolution(obs: pl.DataFrame, default: int = 5) -> int:
    """The most common record spacing (minutes) of an observation frame; ``default`` when it has none."""
    spacing = obs["resolution_min"].drop_nulls()
    return int(spacing.mode().sort()[0]) if spacing.len() else default


def excess_from_history(obs: pl.DataFrame, settled: pl.DataFrame, *, std_offset: int) -> ExcessFit:
    """The observation model's excess distribution fitted on past days with a record and a CLI high."""
    return excess_pmf(record_excess(obs, settled, std_offset), record_resolution(obs))


def day_hazard(
    *,
    ladder: list[Bracket],
    station_obs: pl.DataFrame,
    forecast: pl.DataFrame,
    params: Ar1Params,
    excess: np.ndarray,
    climatology: tuple[float, float] | None,
    climate_date: date,
    std_offset: int,
    n_paths: int,
    seed: int,
) -> tuple[HazardResult, str]:
    """The day's hazard Monte Carlo as ``pmf/hazard_pmf`` runs it, and where its baseline came from.

    ``excess`` is the observation model's P(CLI - record max = 0, 1, ...) (``ExcessFit.pmf``); gaps
    longer than ``observation.hole_minutes`` of the day's record spacing are simulated as holes.
    """
    window = climate_day_window(climate_date, std_offset)
    baseline, source = day_baseline(
        forecast, window, climate_date=climate_date, std_offset=std_offset, fallback_high_low=climatology
    )
    lo, hi = ladder_arrays(ladder)
    minute_idx, temps = observation_minutes(station_obs, window)
    result = simulate_bracket_pmf(
        baseline,
        minute_idx,
        temps,
        params,
        lo,
        hi,
        n_paths,
        seed,
        excess=draw_excess(excess, n_paths, seed % 2**32),
        hole_minutes=hole_minutes(record_resolution(station_obs)),
    )
    # One path's worth: the least the simulation could have said about a bracket it never reached.
    p_wx = floor_live_brackets(result.p_wx, result.running_max_f, hi, 1.0 / n_paths)
    return dataclasses.replace(result, p_wx=p_wx), source


EXCESS_COLUMNS = tuple(f"p_excess_{d}f" for d in range(MAX_EXCESS_F + 1))


def stored_params(hazard_params: pl.DataFrame) -> tuple[Ar1Params, np.ndarray]:
    """The residual model and the excess distribution of a ``pmf.hazard_params`` slice (one row per LST hour)."""
    params = Ar1Params(
        phi=float(hazard_params["phi"][0]),
        sigma_by_hour=hazard_params.sort("hour_lst")["sigma"].to_numpy(),
        n_days=int(hazard_params["n_days"][0]),
        n_pairs=0,
        source=hazard_params["method"][0],
        noise_sd=float(hazard_params["noise_sd"][0]),
    )
    return params, np.array([float(hazard_params[c][0]) for c in EXCESS_COLUMNS])
