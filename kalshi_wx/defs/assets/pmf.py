"""Probability assets: AR(1) parameters, the hazard Monte Carlo PMF, and its fusion with market prices.

No `from __future__ import annotations` here: Dagster validates the `context` annotation.
"""

import base64
from datetime import timedelta

import dagster as dg
import numpy as np
import polars as pl

from kalshi_wx.core.pmf.frames import hazard_frame
from kalshi_wx.core.pmf.fusion import day_market_pmf, fuse
from kalshi_wx.core.pmf.inputs import (
    EXCESS_COLUMNS,
    bracket_caps,
    daily_extremes,
    day_hazard,
    excess_from_history,
    market_ladder,
    params_from_history,
    stored_params,
    trailing_high_low,
)
from kalshi_wx.core.seeds import stable_seed
from kalshi_wx.core.settlement import settled_winners
from kalshi_wx.defs.assets.common import MARKETS_INPUT, OWNERS, warehouse_asset
from kalshi_wx.defs.automation import REFRESH_ON_UPSTREAM_UPDATE
from kalshi_wx.defs.diagnostics import pmf_diagnostics
from kalshi_wx.defs.evaluation import evaluate_window
from kalshi_wx.defs.partitions import city_of, city_of_city_day, city_partitions, partition_day
from kalshi_wx.defs.settings import kalshi_wx_home, settings
from kalshi_wx.reports.markdown import markdown_table
from kalshi_wx.reports.plots import reliability_png
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import FORECAST, SETTLEMENT, STATION_OBS

SETTINGS = settings().pmf

# The fit reads the trailing window of days that ends the day before the partition (and the official
# highs of twice as many days, for each day's climatology baseline), straight from the warehouse. Dagster
# cannot be told so: an asset backfill targets every child of a requested partition, and under a
# trailing-window mapping a day's observations are parents of the next 14 days' fits, so a backfill of
# one day would fit 14 unrequested days and skip the one asked for. The same-day dependency orders the
# fit after the day's weather in a run; its rows carry the span (fit_start, fit_end) and n_days.
# `kalshi-wx backfill` fills the weather of every day first, so no fit depends on the order days run in.
SAME_DAY_WEATHER = [dg.AssetDep(["weather", "station_obs"]), dg.AssetDep(["weather", "forecast"])]


def _trailing(warehouse: Warehouse, city_key: str, day) -> tuple[pl.DataFrame, ...]:
    """Observations, forecasts, settlements and daily highs (official where settled) of the days before ``day``."""
    n = SETTINGS.hazard.fit_window_days
    span, highs_span = (day - timedelta(days=n), day - timedelta(days=1)), (day - timedelta(days=2 * n), day)
    obs = warehouse.read(STATION_OBS, city=city_key, dates=span)
    settled = warehouse.read(SETTLEMENT, city=city_key, dates=highs_span).filter(pl.col("climate_date") < day)
    daily = daily_extremes(obs, settled)
    return obs, warehouse.read(FORECAST, city=city_key, dates=span), settled, daily


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
    obs, forecasts, settled, daily = _trailing(warehouse, city_key, day)
    n = SETTINGS.hazard.fit_window_days
    params, n_days = params_from_history(
        obs,
        forecasts,
        daily,
        std_offset=cfg.std_utc_offset_hours,
        climatology_days=n,
        min_fit_days=SETTINGS.hazard.min_fit_days,
    )
    if params.source == "prior":
        context.log.warning(f"{n_days} usable trailing day(s) (need {SETTINGS.hazard.min_fit_days}): using the prior")
    excess = excess_from_history(obs, settled, std_offset=cfg.std_utc_offset_hours)
    span_start = day - timedelta(days=n)
    fallback = trailing_high_low(daily, day, n)
    frame = pl.DataFrame(
        {
            "city": city_key,
            "climate_date": day,
            "hour_lst": np.arange(24, dtype=np.int32),
            "phi": params.phi,
            "sigma": params.sigma_by_hour,
            "noise_sd": params.noise_sd,
            "fit_start": span_start,
            "fit_end": day - timedelta(days=1),
            "n_days": n_days,
            "method": params.source,
            "trailing_high_f": fallback[0] if fallback else None,
            "trailing_low_f": fallback[1] if fallback else None,
            **dict(zip(EXCESS_COLUMNS, excess.pmf.tolist(), strict=True)),
            "excess_days": excess.n_days,
        }
    )
    return dg.Output(
        frame, metadata={"phi": params.phi, "noise_sd": params.noise_sd, "method": params.source, "n_days": n_days}
    )


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
    trailing = hazard_params.row(0, named=True)
    climatology = (
        None if trailing["trailing_high_f"] is None else (trailing["trailing_high_f"], trailing["trailing_low_f"])
    )
    # Metadata integers must fit in 64 bits; the kernel only needs the seed to be stable.
    seed = stable_seed(SETTINGS.hazard.seed, city_key, day.isoformat()) % 2**63
    params, excess = stored_params(hazard_params)
    context.log.info(f"simulating {SETTINGS.hazard.n_paths} paths x 1440 minutes")
    result, baseline_source = day_hazard(
        ladder=ladder,
        station_obs=station_obs,
        forecast=forecast,
        params=params,
        excess=excess,
        climatology=climatology,
        climate_date=day,
        std_offset=cfg.std_utc_offset_hours,
        n_paths=SETTINGS.hazard.n_paths,
        seed=seed,
    )
    frame = hazard_frame(result, ladder, window).select(
        pl.lit(city_key).alias("city"),
        pl.lit(day).alias("climate_date"),
        pl.all(),
        pl.lit(baseline_source).alias("baseline"),
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
        "trades": dg.AssetIn(["kalshi", "trades"]),
        # Only the diagnostics read the settlement; the fused values never see it.
        "settlement": dg.AssetIn(["weather", "settlement"]),
    },
)
def fused_pmf(
    context: dg.AssetExecutionContext,
    markets: pl.DataFrame,
    hazard_pmf: pl.DataFrame,
    candles_1m: pl.DataFrame,
    trades: pl.DataFrame,
    settlement: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Market-implied p_mkt, logit-pooled with p_wx by hazard and liquidity, renormalised over the ladder."""
    p = partition_day(context)
    cfg, city_key, day = p.city, p.city.key, p.day
    caps = bracket_caps(market_ladder(markets))
    market = day_market_pmf(candles_1m, trades, hazard_pmf, caps, SETTINGS.fusion)
    fused = fuse(hazard_pmf, market, SETTINGS.fusion, caps)
    frame = fused.select(pl.lit(city_key).alias("city"), pl.lit(day).alias("climate_date"), pl.all())
    metadata = pmf_diagnostics(
        fused, settled_winners(markets, settlement), day, cfg.std_utc_offset_hours, SETTINGS.score_times_lst
    )
    return dg.Output(frame, metadata=metadata)


@dg.asset(
    key=["pmf", "forecast_scores"],
    group_name="pmf",
    kinds={"polars", "matplotlib"},
    owners=OWNERS,
    partitions_def=city_partitions,
    deps=[dg.AssetDep(["pmf", name], partition_mapping=city_of_city_day) for name in ("hazard_pmf", "fused_pmf")],
)
def forecast_scores(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Brier, log loss and p(winner) of p_wx, p_mkt, p_fused_norm and persistence over a window of settled days."""
    city_key = city_of(context.partition_key)
    end = warehouse.latest_settled_day(city_key)
    if end is None:
        raise dg.Failure(description=f"no settled day for {city_key} in the warehouse: materialize weather/settlement")
    start = end - timedelta(days=SETTINGS.diagnostics.score_window_days - 1)
    result = evaluate_window(warehouse, settings().city(city_key), start, end, SETTINGS, progress=context.log.info)
    out = kalshi_wx_home() / "artifacts" / "forecast_scores"
    out.mkdir(parents=True, exist_ok=True)
    metadata: dict = {
        "window": f"{start}..{end}",
        "days_scored": result.days.height,
        "scores": dg.MetadataValue.md(markdown_table(result.table)),
        "paired_brier_differences": dg.MetadataValue.md(markdown_table(result.paired)),
    }
    for pmf, (p, outcome) in result.reliability.items():
        png = reliability_png(p, outcome, f"{pmf} reliability, {city_key} {start}..{end}")
        path = out / f"reliability_{city_key}_{start}_{end}_{pmf}.png"
        path.write_bytes(png)
        metadata[f"reliability_{pmf}"] = dg.MetadataValue.md(
            f"![{pmf} reliability](data:image/png;base64,{base64.b64encode(png).decode()})"
        )
    return dg.MaterializeResult(metadata=metadata)
