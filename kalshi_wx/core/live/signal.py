"""The fused PMF for the current minute: the backtest's own functions on the day's data cut at now.

The assets compute ``pmf.hazard_pmf`` (``day_hazard`` over the whole day's observations) and
``pmf.fused_pmf`` (``fuse`` with ``day_market_pmf`` of the whole day's candles or trades), and the
backtest reads the row stamped t. Live, only what is known at ``now`` exists. ``fused_pmf_at`` runs
the same functions on the data cut at ``now`` and returns the row stamped ``now``; where both models
are causal (row t depends only on observations stamped in minutes <= t, candles closed by t and trades
stamped by t), the live row equals the backtest's row for that minute on the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from kalshi_wx.core.brackets import Bracket
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.pmf.frames import hazard_frame
from kalshi_wx.core.pmf.fusion import FusionSettings, day_market_pmf, fuse
from kalshi_wx.core.pmf.hazard import Ar1Params
from kalshi_wx.core.pmf.inputs import bracket_caps, day_hazard

_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, eq=False)
class HazardDay:
    """What ``pmf.hazard_pmf`` simulates a city-day from, apart from the observations (``day_hazard``'s inputs)."""

    ladder: list[Bracket]
    forecast: pl.DataFrame  # weather.forecast-shaped: only what was issued before the day is read
    params: Ar1Params
    excess: np.ndarray  # P(CLI - record max = 0, 1, ...)
    climatology: tuple[float, float] | None  # trailing (high, low) °F when there is no forecast
    climate_date: date
    std_offset: int
    n_paths: int
    seed: int

    @property
    def window(self) -> tuple[datetime, datetime]:
        return climate_day_window(self.climate_date, self.std_offset)


def hazard_day_frame(day: HazardDay, station_obs: pl.DataFrame) -> pl.DataFrame:
    """``pmf.hazard_pmf``'s frame (without city and date) for ``day`` from ``station_obs``."""
    result, source = day_hazard(
        ladder=day.ladder,
        station_obs=station_obs,
        forecast=day.forecast,
        params=day.params,
        excess=day.excess,
        climatology=day.climatology,
        climate_date=day.climate_date,
        std_offset=day.std_offset,
        n_paths=day.n_paths,
        seed=day.seed,
    )
    return hazard_frame(result, day.ladder, day.window).with_columns(pl.lit(source).alias("baseline"))


def fused_pmf_at(
    now: datetime,
    day: HazardDay,
    station_obs: pl.DataFrame,
    candles: pl.DataFrame,
    trades: pl.DataFrame,
    fusion: FusionSettings,
) -> pl.DataFrame:
    """ticker, ts, p_wx, p_mkt, w_mkt, p_fused, p_fused_norm at minute ``now`` from what is known at ``now``.

    ``station_obs`` is ``weather.station_obs``-shaped (ts, temp_f, station_ok), ``candles``
    ``kalshi.candles_1m``-shaped (ticker, ts, yes_bid, yes_ask; bars stamped by their start) and
    ``trades`` ``kalshi.trades``-shaped (ticker, ts, yes_price); rows after ``now`` are ignored, so a
    caller may pass the whole day without look-ahead.
    """
    start, end = day.window
    if now.tzinfo is None or not start <= now < end or (now - start) % _MINUTE:
        raise ValueError(f"fused_pmf_at: {now} is not a whole minute of the climate day [{start}, {end})")
    # The kernel knows an observation from the start of the minute it is stamped in, as the asset does.
    hazard = hazard_day_frame(day, station_obs.filter(pl.col("ts") < now + _MINUTE)).filter(pl.col("ts") <= now)
    # The bar stamped now is still forming: only bars that closed by now are read. The row stamped
    # now carries no prices of its own; market_pmf reads the bar before it (core.quotes.book_known_at).
    closed = candles.select("ticker", "ts", "yes_bid", "yes_ask").filter(pl.col("ts") < now)
    forming = pl.DataFrame({"ticker": [b.ticker for b in day.ladder]}).with_columns(
        pl.lit(now).cast(closed.schema["ts"]).alias("ts"),
        pl.lit(None).cast(closed.schema["yes_bid"]).alias("yes_bid"),
        pl.lit(None).cast(closed.schema["yes_ask"]).alias("yes_ask"),
    )
    caps = bracket_caps(day.ladder)
    known_trades = trades.filter(pl.col("ts") <= now)  # trade_pmf reads trades stamped at or before a minute
    market = day_market_pmf(pl.concat([closed, forming]), known_trades, hazard, caps, fusion)
    now_only = pl.col("ts") == now
    return fuse(hazard.filter(now_only), market.filter(now_only), fusion, caps)
