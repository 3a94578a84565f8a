"""Probability assets: AR(1) parameters, the hazard Monte Carlo PMF, and its fusion with market prices.

No `from __future__ import annotations` here: Dagster validates the `context` annotation.
"""

from datetime import timedelta

import dagster as dg
import numpy as np
import polars as pl

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.pmf.fusion import fuse, market_pmf
from kalshi_wx.core.pmf.hazard import Ar1Params, ladder_arrays, simulate_bracket_pmf
from kalshi_wx.core.pmf.hazard_fit import fit_ar1, prior_params
from kalshi_wx.core.pmf.inputs import (
    day_baseline,
    market_ladder,
    observation_minutes,
    trailing_high_low,
)
from kalshi_wx.core.seeds import stable_seed
from kalshi_wx.core.settlement import settled_winners
from kalshi_wx.defs.assets.common import MARKETS_INPUT, warehouse_asset
from kalshi_wx.defs.automation import REFRESH_ON_UPSTREAM_UPDATE
from kalshi_wx.defs.diagnostics import pmf_diagnostics
from kalshi_wx.defs.partitions import partition_day
from kalshi_wx.defs.settings import settings
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import FORECAST, STATION_OBS

SETTINGS = settings().pmf

# The fit reads the trailing window of days that ends the day before the partition, straight from the
# warehouse. Dagster cannot be told so: an asset backfill targets every child of a requested partition,
# and under a trailing-window mapping a day's observations are parents of the next 14 days' fits, so a
# backfill of one day would fit 14 unrequested days and skip the one asked for. The same-day dependency
# orders the fit after the day's weather in a run; its rows carry the span (fit_start, fit_end) and n_days.
# `kalshi-wx backfill` fills the weather of every day first, so no fit depends on the order days run in.
SAME_DAY_WEATHER = [dg.AssetDep(["weather", "station_obs"]), dg.AssetDep(["weather", "forecast"])]


def _trailing(warehouse: Warehouse, city_key: str, day) -> tuple[pl.DataFrame, pl.DataFrame]:
    span = (day - timedelta(days=SETTINGS.hazard.fit_window_days), day - timedelta(days=1))
    return (
        warehouse.read(STATION_OBS, city=city_key, dates=span),
        warehouse.read(FORECAST, city=city_key, dates=span),
    )


@warehouse_asset(
    "pmf",
    "hazard_params",
    automation_condition=REFRESH_ON_UPSTREAM_UPDATE,
    source_kind="numpy",
    deps=SAME_DAY_WEATHER,
)
def hazard_params(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.Output[pl.DataFrame]:
    """AR(1) residual parameters (phi, sigma by hour) fitted on trailing days, never the day itself."""
    p = partition_day(context)
    cfg, city_key, day = p.city, p.city.key, p.day
    obs, forecasts = _trailing(warehouse, city_key, day)
    fit_days = []
    for (past,), day_obs in obs.group_by("climate_date", maintain_order=True):
        window = climate_day_window(past, cfg.std_utc_offset_hours)
        minute_idx, temps = observation_minutes(day_obs, window)
        if len(temps) < 24:
            continue
        baseline, _ = day_baseline(
            forecasts.filter(pl.col("climate_date") == past),
            window,
            climate_date=past,
            std_offset=cfg.std_utc_offset_hours,
            fallback_high_low=(float(temps.max()), float(temps.min())),  # a past day: its own range is known
        )
        fit_days.append((minute_idx, temps, baseline))
    params = fit_ar1(fit_days) if len(fit_days) >= SETTINGS.hazard.min_fit_days else prior_params()
    if params.source == "prior":
        context.log.warning(
            f"{len(fit_days)} usable trailing day(s) (need {SETTINGS.hazard.min_fit_days}): using the prior"
        )
    span_start = day - timedelta(days=SETTINGS.hazard.fit_window_days)
    fallback = trailing_high_low(obs)
    frame = pl.DataFrame(
        {
            "city": city_key,
            "climate_date": day,
            "hour_lst": np.arange(24, dtype=np.int32),
            "phi": params.phi,
            "sigma": params.sigma_by_hour,
            "fit_start": span_start,
            "fit_end": day - timedelta(days=1),
            "n_days": len(fit_days),
            "method": params.source,
            "trailing_high_f": fallback[0] if fallback else None,
            "trailing_low_f": fallback[1] if fallback else None,
        }
    )
    return dg.Output(frame, metadata={"phi": params.phi, "method": params.source, "n_days": len(fit_days)})


@warehouse_asset(
    "pmf",
    "hazard_pmf",
    automation_condition=REFRESH_ON_UPSTREAM_UPDATE,
    source_kind="numba",
    ins={
        **MARKETS_INPUT,
        "station_obs": dg.AssetIn(["weather", "station_obs"]),
        "forecast": dg.AssetIn(["weather", "forecast"]),
        "hazard_params": dg.AssetIn(["pmf", "hazard_params"]),
    },
)
def hazard_pmf(
    context: dg.AssetExecutionContext,
    markets: pl.DataFrame,
    station_obs: pl.DataFrame,
    forecast: pl.DataFrame,
    hazard_params: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Monte Carlo p_wx per bracket per minute, with the chance of a new high in the next 5 and 60 minutes."""
    p = partition_day(context)
    cfg, city_key, day, window = p.city, p.city.key, p.day, p.window
    ladder = market_ladder(markets)
    lo, hi = ladder_arrays(ladder)
    trailing = hazard_params.row(0, named=True)
    trailing_high_low = (trailing["trailing_high_f"], trailing["trailing_low_f"])
    baseline, baseline_source = day_baseline(
        forecast,
        window,
        climate_date=day,
        std_offset=cfg.std_utc_offset_hours,
        fallback_high_low=None if trailing_high_low[0] is None else trailing_high_low,
    )
    params = Ar1Params(
        phi=float(hazard_params["phi"][0]),
        sigma_by_hour=hazard_params.sort("hour_lst")["sigma"].to_numpy(),
        n_days=int(hazard_params["n_days"][0]),
        n_pairs=0,
        source=hazard_params["method"][0],
    )
    minute_idx, temps = observation_minutes(station_obs, window)
    # Metadata integers must fit in 64 bits; the kernel only needs the seed to be stable.
    seed = stable_seed(SETTINGS.hazard.seed, city_key, day.isoformat()) % 2**63
    context.log.info(f"simulating {SETTINGS.hazard.n_paths} paths x 1440 minutes, baseline from {baseline_source}")
    result = simulate_bracket_pmf(baseline, minute_idx, temps, params, lo, hi, SETTINGS.hazard.n_paths, seed)
    minutes = pl.datetime_range(
        window[0], window[1] - timedelta(minutes=1), interval="1m", time_unit="us", time_zone="UTC", eager=True
    )
    frame = pl.concat(
        [
            pl.DataFrame(
                {
                    "city": city_key,
                    "climate_date": day,
                    "ticker": bracket.ticker,
                    "ts": minutes,
                    "running_max_f": result.running_max_f,
                    "p_wx": result.p_wx[:, j],
                    "hazard_next_5m": result.hazard_next_5m,
                    "hazard_next_60m": result.hazard_next_60m,
                }
            )
            for j, bracket in enumerate(ladder)
        ]
    )
    return dg.Output(frame, metadata={"baseline": baseline_source, "n_paths": SETTINGS.hazard.n_paths, "seed": seed})


@warehouse_asset(
    "pmf",
    "fused_pmf",
    automation_condition=REFRESH_ON_UPSTREAM_UPDATE,
    source_kind="polars",
    ins={
        **MARKETS_INPUT,
        "hazard_pmf": dg.AssetIn(["pmf", "hazard_pmf"]),
        "candles_1m": dg.AssetIn(["kalshi", "candles_1m"]),
        # Only the diagnostics read the settlement; the fused values never see it.
        "settlement": dg.AssetIn(["weather", "settlement"]),
    },
)
def fused_pmf(
    context: dg.AssetExecutionContext,
    markets: pl.DataFrame,
    hazard_pmf: pl.DataFrame,
    candles_1m: pl.DataFrame,
    settlement: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Market-implied p_mkt, logit-pooled with p_wx by hazard and liquidity, renormalised over the ladder."""
    p = partition_day(context)
    cfg, city_key, day = p.city, p.city.key, p.day
    fused = fuse(hazard_pmf, market_pmf(candles_1m, SETTINGS.fusion), SETTINGS.fusion)
    frame = fused.select(pl.lit(city_key).alias("city"), pl.lit(day).alias("climate_date"), pl.all())
    metadata = pmf_diagnostics(
        fused, settled_winners(markets, settlement), day, cfg.std_utc_offset_hours, SETTINGS.score_times_lst
    )
    return dg.Output(frame, metadata=metadata)
