"""Simulated city-days as market-statistics frames, the same minutes and trades the wire serves."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from kalshi_wx.sources.sim import kalshi_wire
from kalshi_wx.sources.sim.exchange import simulate_city_day
from kalshi_wx.sources.sim.tape import simulated_tape

DAYS = [date(2025, 4, 1), date(2025, 4, 2)]


def test_quotes_are_the_candles_the_exchange_serves_and_trades_the_whole_tape(sim_config):
    tape = simulated_tape(sim_config, "chi", DAYS)
    day = simulate_city_day(sim_config, "chi", DAYS[0])
    assert tape.std_offset == -6 and tape.dates == DAYS
    assert tape.trades.height == sum(simulate_city_day(sim_config, "chi", d).trade_us.size for d in DAYS)
    spec = day.markets[2]
    candles = kalshi_wire.candlesticks(sim_config, day, 2, day.start_ts, day.start_ts + 86_400)
    mine = tape.quotes.filter(pl.col("ticker") == spec.ticker).sort("ts")
    assert mine.height == len(candles)
    ends = (mine["ts"].dt.epoch("s") + 60).to_list()
    assert ends == [c["end_period_ts"] for c in candles]
    closes = [None if c["yes_bid"]["close_dollars"] == "0.0000" else float(c["yes_bid"]["close_dollars"])
              for c in candles]  # fmt: skip
    assert mine["bid"].to_list() == closes
    # Trades before the climate day are on the tape (the event opens the morning before).
    start = np.datetime64(day.start.replace(tzinfo=None), "us")
    first = tape.trades.filter(pl.col("climate_date") == DAYS[0])["ts"].min()
    assert np.datetime64(first.replace(tzinfo=None), "us") < start
    winners = tape.highs.join(tape.ladder, on="climate_date").filter(
        (pl.col("lo_f").is_null() | (pl.col("high_f") >= pl.col("lo_f")))
        & (pl.col("hi_f").is_null() | (pl.col("high_f") <= pl.col("hi_f")))
    )
    assert winners["ticker"].to_list() == [simulate_city_day(sim_config, "chi", d).markets[
        simulate_city_day(sim_config, "chi", d).winner].ticker for d in DAYS]  # fmt: skip
