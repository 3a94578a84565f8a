"""The fused PMF for the current minute: the backtest's own functions on the day's data cut at now.

The assets compute ``pmf.hazard_pmf`` (``simulate_bracket_pmf`` over the whole day's observations)
and ``pmf.fused_pmf`` (``fuse`` with ``market_pmf`` of the whole day's candles), and the backtest
reads the row stamped t. Live, only what is known at ``now`` exists. ``fused_pmf_at`` runs the same
functions on the data cut at ``now`` and returns the row stamped ``now``; because both models are
causal (row t depends only on observations stamped in minutes <= t and candles closed by t), the
live row equals the backtest's row for that minute on the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from kalshi_wx.core.brackets import Bracket
from kalshi_wx.core.pmf.frames import hazard_frame
from kalshi_wx.core.pmf.fusion import FusionSettings, fuse, market_pmf
from kalshi_wx.core.pmf.hazard import Ar1Params, ladder_arrays, simulate_bracket_pmf
from kalshi_wx.core.pmf.inputs import observation_minutes

_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, eq=False)
class HazardDay:
    """What ``pmf.hazard_pmf`` simulates a city-day from, apart from the observations."""

    ladder: Sequence[Bracket]
    window: tuple[datetime, datetime]  # the climate day, UTC
    baseline: np.ndarray  # (1440,) °F
    params: Ar1Params
    n_paths: int
    seed: int


def fused_pmf_at(
    now: datetime, day: HazardDay, station_obs: pl.DataFrame, candles: pl.DataFrame, fusion: FusionSettings
) -> pl.DataFrame:
    """ticker, ts, p_wx, p_mkt, w_mkt, p_fused, p_fused_norm at minute ``now`` from what is known at ``now``.

    ``station_obs`` is ``weather.station_obs``-shaped (ts, temp_f, station_ok) and ``candles``
    ``kalshi.candles_1m``-shaped (ticker, ts, yes_bid, yes_ask; a dense grid of bars stamped by their
    start); rows after ``now`` are ignored, so a caller may pass the whole day without look-ahead.
    """
    start, end = day.window
    if now.tzinfo is None or not start <= now < end or (now - start) % _MINUTE:
        raise ValueError(f"fused_pmf_at: {now} is not a whole minute of the climate day [{start}, {end})")
    # The kernel knows an observation from the start of the minute it is stamped in, as the asset does.
    known_obs = station_obs.filter(pl.col("ts") < now + _MINUTE)
    minute_idx, temps = observation_minutes(known_obs, day.window)
    lo, hi = ladder_arrays(day.ladder)
    result = simulate_bracket_pmf(day.baseline, minute_idx, temps, day.params, lo, hi, day.n_paths, day.seed)
    hazard = hazard_frame(result, day.ladder, day.window).filter(pl.col("ts") == now)
    # The bar stamped now is still forming: only bars that closed by now are read. The row stamped
    # now carries no prices of its own; market_pmf reads the bar before it (core.quotes.book_known_at).
    closed = candles.select("ticker", "ts", "yes_bid", "yes_ask").filter(pl.col("ts") < now)
    forming = pl.DataFrame({"ticker": [b.ticker for b in day.ladder]}).with_columns(
        pl.lit(now).cast(closed.schema["ts"]).alias("ts"),
        pl.lit(None).cast(closed.schema["yes_bid"]).alias("yes_bid"),
        pl.lit(None).cast(closed.schema["yes_ask"]).alias("yes_ask"),
    )
    market = market_pmf(pl.concat([closed, forming]), fusion).filter(pl.col("ts") == now)
    return fuse(hazard, market, fusion)
