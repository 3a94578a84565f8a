"""Forecast scores over a window of settled days, from whatever the warehouse holds.

For each settled climate day of a city, at the scoring times (local standard time), the four PMFs
over the event's ladder are scored against the CLI high: ``p_wx`` (weather model), ``p_mkt`` (the
market's prices), ``p_fused_norm`` and flat persistence (the day ends at the rounded running max).
Stored ``pmf.hazard_pmf`` / ``pmf.fused_pmf`` rows are used where they exist; otherwise the same
core functions the assets call build them from the raw tables, so a day with weather but no market
(or a market but no intraday weather) is still scored on what it has. A day without a Kalshi ladder
is scored on a Kalshi-shaped ladder centred on what was known before the day (the as-issued
forecast high, else the trailing climatology).

Used by ``kalshi-wx evaluate`` and the ``pmf/forecast_scores`` asset; no Dagster here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from kalshi_wx.core.brackets import Bracket
from kalshi_wx.core.cities import City
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.pmf.fusion import day_market_pmf, fuse
from kalshi_wx.core.pmf.inputs import (
    MIN_FORECAST_HOURS,
    bracket_caps,
    daily_extremes,
    day_hazard,
    excess_from_history,
    market_ladder,
    params_from_history,
    trailing_high_low,
)
from kalshi_wx.core.pmf.scoring import (
    DAY_SCORES_SCHEMA,
    day_score,
    paired_differences,
    persistence_pmf,
    summarise_scores,
)
from kalshi_wx.core.seeds import stable_seed
from kalshi_wx.defs.settings import PmfSettings
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import (
    CANDLES_1M,
    FORECAST,
    FUSED_PMF,
    HAZARD_PMF,
    MARKETS,
    SETTLEMENT,
    STATION_OBS,
    TRADES,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    city: str
    start: date
    end: date
    day_scores: pl.DataFrame  # DAY_SCORES_SCHEMA
    table: pl.DataFrame  # summarise_scores output
    paired: pl.DataFrame  # paired_differences output
    days: pl.DataFrame  # climate_date, cli_max_f, ladder (kalshi | synthetic), p_wx_from, p_mkt_from, n_obs
    reliability: dict[str, tuple[np.ndarray, np.ndarray]]  # pmf -> (bracket probabilities, outcomes)


def synthetic_ladder(centre: int) -> list[Bracket]:
    """Kalshi's shape: two open tails around four 2-degree brackets, centred on ``centre``."""
    edges = [centre - 3, centre - 1, centre + 1, centre + 3, centre + 5]
    brackets = [Bracket(f"SYN-T{edges[0] - 1}", None, edges[0] - 1)]
    brackets += [Bracket(f"SYN-B{lo}", lo, lo + 1) for lo in edges[:-1]]
    return [*brackets, Bracket(f"SYN-T{edges[-1]}", edges[-1], None)]


def _slice(frame: pl.DataFrame, day: date) -> pl.DataFrame:
    return frame.filter(pl.col("climate_date") == day)


def evaluate_window(
    warehouse: Warehouse,
    city: City,
    start: date,
    end: date,
    settings: PmfSettings,
    *,
    progress: Callable[[str], None] = log.info,
) -> Evaluation:
    """Score every settled day of ``city`` in ``start..end`` (inclusive); see the module docstring."""
    if end < start:
        raise ValueError(f"evaluate window {start}..{end}: the end is before the start")
    n = settings.hazard.fit_window_days
    span = (start - timedelta(days=2 * n), end)

    def read(table) -> pl.DataFrame:
        return warehouse.read(table, city=city.key, dates=span)

    obs, forecasts, settled = read(STATION_OBS), read(FORECAST), read(SETTLEMENT)
    markets, trades, candles = read(MARKETS), read(TRADES), read(CANDLES_1M)
    hazard_stored, fused_stored = read(HAZARD_PMF), read(FUSED_PMF)
    daily = daily_extremes(obs, settled)
    offset = city.std_utc_offset_hours
    score_rows: list[dict] = []
    day_rows: list[dict] = []
    reliability: dict[str, tuple[list[float], list[bool]]] = {}
    days = [d for d in sorted(settled["climate_date"].unique()) if start <= d <= end]
    for i, day in enumerate(days):
        cli_max = int(_slice(settled, day)["max_f"][0])
        window = climate_day_window(day, offset)
        day_obs, day_forecast, day_markets = _slice(obs, day), _slice(forecasts, day), _slice(markets, day)
        climatology = trailing_high_low(daily.filter(pl.col("climate_date") < day), day, n)
        ladder, ladder_from = None, "kalshi"
        if day_markets.height:
            ladder = market_ladder(day_markets)
        else:
            ladder_from = "synthetic"
            issued = day_forecast.filter(pl.col("issued_at") <= window[0])
            if issued.height >= MIN_FORECAST_HOURS:
                ladder = synthetic_ladder(int(np.floor(float(issued["temp_f"].max()) + 0.5)))  # type: ignore[arg-type]
            elif climatology is not None:
                ladder = synthetic_ladder(int(np.floor(climatology[0] + 0.5)))
        if ladder is None:
            continue
        caps = bracket_caps(ladder)
        tickers = list(caps)
        winner = next(j for j, b in enumerate(ladder) if b.wins(cli_max))
        minutes = pl.datetime_range(
            window[0], window[1] - timedelta(minutes=1), interval="1m", time_unit="us", time_zone="UTC", eager=True
        )

        p_wx_from: str | None = "stored"
        p_mkt_from: str | None = "stored"
        hazard = _slice(hazard_stored, day)
        if hazard.is_empty():
            hazard, p_wx_from = _computed_hazard(
                ladder, obs, forecasts, settled, daily, day_obs, day_forecast, climatology, day, city, settings, minutes
            )
        fused = _slice(fused_stored, day)
        if fused.is_empty() and day_markets.height:
            grid = hazard if not hazard.is_empty() else _running_max_grid(day_obs, window, tickers, minutes)
            market = day_market_pmf(_slice(candles, day), _slice(trades, day), grid, caps, settings.fusion)
            p_mkt_from = "computed"
            if not hazard.is_empty():
                fused = fuse(hazard, market, settings.fusion, caps)
            else:
                fused = market.with_columns(p_wx=pl.lit(None, pl.Float64), p_fused_norm=pl.lit(None, pl.Float64))
        elif fused.is_empty():
            p_mkt_from = None
        running = _running_max_grid(day_obs, window, tickers, minutes).unique("ts")
        for at in settings.score_times_lst:
            ts = window[0] + timedelta(hours=at.hour, minutes=at.minute)
            label = f"{at:%H:%M}"
            pmfs: dict[str, list[float] | None] = {
                "p_wx": _at(hazard, ts, "p_wx", tickers),
                "p_mkt": _at(fused, ts, "p_mkt", tickers),
                "p_fused_norm": _at(fused, ts, "p_fused_norm", tickers),
            }
            max_now = running.filter(pl.col("ts") == ts)["running_max_f"].drop_nulls()
            pmfs["persistence"] = persistence_pmf(float(max_now[0]), list(caps.values())) if max_now.len() else None
            for name, p in pmfs.items():
                if p is None:
                    continue
                score_rows.append({"climate_date": day, "time_lst": label, "pmf": name, **day_score(p, winner)})
                probs, outcomes = reliability.setdefault(name, ([], []))
                probs.extend(p)
                outcomes.extend(j == winner for j in range(len(p)))
        day_rows.append(
            {"climate_date": day, "cli_max_f": cli_max, "ladder": ladder_from, "p_wx_from": p_wx_from,
             "p_mkt_from": p_mkt_from, "n_obs": day_obs.height}
        )  # fmt: skip
        progress(f"{city.key} {day}: scored ({i + 1}/{len(days)})")
    day_scores = pl.DataFrame(score_rows, schema=DAY_SCORES_SCHEMA)
    boot_seed = stable_seed("evaluate", city.key, start, end) % 2**32
    return Evaluation(
        city=city.key,
        start=start,
        end=end,
        day_scores=day_scores,
        table=summarise_scores(day_scores, seed=boot_seed),
        paired=paired_differences(day_scores, seed=boot_seed),
        days=pl.DataFrame(
            day_rows,
            schema={
                "climate_date": pl.Date,
                "cli_max_f": pl.Int64,
                "ladder": pl.Utf8,
                "p_wx_from": pl.Utf8,
                "p_mkt_from": pl.Utf8,
                "n_obs": pl.Int64,
            },
        ),  # fmt: skip
        reliability={k: (np.asarray(p), np.asarray(o)) for k, (p, o) in reliability.items()},
    )


def _computed_hazard(
    ladder: list[Bracket],
    obs: pl.DataFrame,
    forecasts: pl.DataFrame,
    settled: pl.DataFrame,
    daily: pl.DataFrame,
    day_obs: pl.DataFrame,
    day_forecast: pl.DataFrame,
    climatology: tuple[float, float] | None,
    day: date,
    city: City,
    settings: PmfSettings,
    minutes: pl.Series,
) -> tuple[pl.DataFrame, str | None]:
    """``hazard_pmf`` rows built as the assets build them, from the trailing days before ``day``."""
    n = settings.hazard.fit_window_days
    before = (pl.col("climate_date") < day) & (pl.col("climate_date") >= day - timedelta(days=n))
    params, _ = params_from_history(
        obs.filter(before),
        forecasts.filter(before),
        daily.filter(pl.col("climate_date") < day),
        std_offset=city.std_utc_offset_hours,
        climatology_days=n,
        min_fit_days=settings.hazard.min_fit_days,
    )
    excess = excess_from_history(obs.filter(before), settled.filter(before), std_offset=city.std_utc_offset_hours)
    try:
        result, source = day_hazard(
            ladder=ladder,
            station_obs=day_obs,
            forecast=day_forecast,
            params=params,
            excess=excess.pmf,
            climatology=climatology,
            climate_date=day,
            std_offset=city.std_utc_offset_hours,
            n_paths=settings.hazard.n_paths,
            seed=stable_seed(settings.hazard.seed, city.key, day.isoformat()) % 2**63,
        )
    except ValueError as exc:  # no baseline: no forecast and no earlier highs
        log.warning(f"{city.key} {day}: no p_wx ({exc})")
        return pl.DataFrame(), None
    return (
        pl.concat(
            [
                pl.DataFrame(
                    {
                        "ticker": b.ticker,
                        "ts": minutes,
                        "running_max_f": result.running_max_f,
                        "p_wx": result.p_wx[:, j],
                        "hazard_next_60m": result.hazard_next_60m,
                        "baseline": source,
                    }
                )
                for j, b in enumerate(ladder)
            ]
        ),
        "computed",
    )


def _running_max_grid(day_obs: pl.DataFrame, window, tickers: list[str], minutes: pl.Series) -> pl.DataFrame:
    """ticker, ts, running_max_f (null before the first observation) and a zero hazard: the market's grid."""
    usable = day_obs.filter(pl.col("station_ok") & pl.col("temp_f").is_not_null()).sort("ts")
    running = usable.select("ts", pl.col("temp_f").cum_max().alias("running_max_f"))
    grid = pl.DataFrame({"ts": minutes}).join_asof(running, on="ts", strategy="backward", check_sortedness=False)
    return grid.join(pl.DataFrame({"ticker": tickers}), how="cross").with_columns(
        p_wx=pl.lit(None, pl.Float64), hazard_next_60m=pl.lit(0.0)
    )


def _at(frame: pl.DataFrame, ts, column: str, tickers: list[str]) -> list[float] | None:
    """The PMF column over the ladder at minute ``ts``; None when any bracket lacks a value."""
    if frame.is_empty() or column not in frame.columns:
        return None
    minute = frame.filter(pl.col("ts") == ts)
    values = dict(zip(minute["ticker"], minute[column], strict=True))
    if any(values.get(t) is None for t in tickers):
        return None
    return [float(values[t]) for t in tickers]
