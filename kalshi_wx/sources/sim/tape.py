"""Simulated city-days as the frames of ``core.market_stats``, to set beside the real market's.

Quotes are the minutes the simulated exchange emits a candle for (a quote change or a trade, as
``kalshi_wire.candlesticks`` serves them); trades are the whole tape from the event's open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import polars as pl

from kalshi_wx.sources.replay.real_market import MarketTape
from kalshi_wx.sources.sim.common import SimConfig
from kalshi_wx.sources.sim.exchange import NO_ASK, NO_BID, CityDay, simulate_city_day

_US = pl.Datetime("us", "UTC")


def _frames(day: CityDay) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    tickers = np.array([m.ticker for m in day.markets])
    n, minutes = day.bid.shape
    bid, ask = day.bid.astype(np.int64), day.ask.astype(np.int64)
    prev_bid = np.concatenate([np.full((n, 1), NO_BID), bid[:, :-1]], axis=1)
    prev_ask = np.concatenate([np.full((n, 1), NO_ASK), ask[:, :-1]], axis=1)
    emitted = (bid != prev_bid) | (ask != prev_ask) | (day.volume > 0)
    market, minute = np.nonzero(emitted)
    quotes = pl.DataFrame(
        {
            "climate_date": [day.climate_date] * market.size,
            "ticker": tickers[market],
            "ts": day.start_ts * 1_000_000 + minute.astype(np.int64) * 60_000_000,
            "bid": np.where(bid[market, minute] == NO_BID, np.nan, bid[market, minute] / 100.0),
            "ask": np.where(ask[market, minute] == NO_ASK, np.nan, ask[market, minute] / 100.0),
        }
    ).with_columns(pl.col("ts").cast(_US), pl.col("bid").fill_nan(None), pl.col("ask").fill_nan(None))
    trades = pl.DataFrame(
        {
            "climate_date": [day.climate_date] * day.trade_us.size,
            "ticker": tickers[day.trade_market.astype(np.int64)],
            "ts": day.trade_us,
            "yes_price": day.trade_price / 100.0,
            "count": day.trade_count / 100.0,
            "taker_yes": day.trade_taker_yes,
        }
    ).with_columns(pl.col("ts").cast(_US))
    ladder = pl.DataFrame(
        {
            "climate_date": [day.climate_date] * n,
            "ticker": tickers,
            "lo_f": [m.bracket.lo for m in day.markets],
            "hi_f": [m.bracket.hi for m in day.markets],
        },
        schema={"climate_date": pl.Date, "ticker": pl.Utf8, "lo_f": pl.Int32, "hi_f": pl.Int32},
    )
    return trades, quotes, ladder


def simulated_tape(config: SimConfig, city_key: str, dates: Iterable[date]) -> MarketTape:
    """The simulated city-days of ``dates`` in one tape."""
    frames = [_frames(simulate_city_day(config, city_key, day)) for day in dates]
    if not frames:
        raise ValueError("simulated_tape needs at least one date")
    trades, quotes, ladder = (pl.concat(part) for part in zip(*frames, strict=True))
    highs = pl.DataFrame(
        {
            "climate_date": [f[2]["climate_date"][0] for f in frames],
            "high_f": [simulate_city_day(config, city_key, d).cli_max_f for d in dates],
        }
    )
    return MarketTape(trades, quotes, ladder, highs, std_offset=config.city(city_key).std_utc_offset_hours)
