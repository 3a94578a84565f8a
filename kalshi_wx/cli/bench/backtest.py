"""Backtest engine speed on simulated city-days, and the simulator-to-engine conversion it needs.

Work is counted in *bracket-minutes*: every minute of the climate day for every market of the
event (1440 x 6 per city-day), all of which the engine steps through. The strategy is
``FusedEdgeStrategy`` on a synthetic signal: the simulated market maker's own belief behind the
quote that closed bar t - 1, stamped t (so known at t, exactly like the book). It is a noisy
estimate close to the mid, so the strategy trades where the spread is wide; the figure measures
the engine, not an edge. Only ``run_backtest`` is timed (input validation included); simulating
the days and building their frames is reported separately.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import polars as pl

from kalshi_wx.core.backtest import (
    BacktestConfig,
    BacktestDay,
    FeeSchedule,
    FusedEdgeStrategy,
    backtest_inputs,
    run_backtest,
)
from kalshi_wx.defs.resources import sim_config
from kalshi_wx.sources.sim.common import SimMarket
from kalshi_wx.sources.sim.exchange import NO_ASK, NO_BID, CityDay, simulate_city_day

SIM_FEES = FeeSchedule(SimMarket().fee_type, Decimal(str(SimMarket().fee_multiplier)))  # the simulator's GET /series
BENCH_START = date(2025, 6, 1)
_UTC_US = pl.Datetime("us", "UTC")
_PRICE = pl.Decimal(12, 6)
_CENTS = [Decimal(c) / 100 for c in range(101)]
_CENTI = pl.Decimal(18, 2)


def sim_backtest_day(day: CityDay, fees: FeeSchedule = SIM_FEES) -> BacktestDay:
    """A simulated event as the engine's inputs, through the same path as warehouse frames.

    Candle k closes on quote k (``bid[:, k]``; the empty-side sentinels become null) and the
    signal is ``belief[:, k]`` stamped at the end of bar k.
    """
    n, minutes = day.bid.shape
    tickers = [spec.ticker for spec in day.markets]
    start_us = day.start_ts * 1_000_000
    grid_us = start_us + np.arange(minutes, dtype=np.int64) * 60_000_000
    bids, asks = day.bid.tolist(), day.ask.tolist()
    candles = pl.DataFrame(
        {
            "ticker": np.repeat(tickers, minutes),
            "ts": np.tile(grid_us, n),
            "yes_bid": [None if c == NO_BID else _CENTS[c] for row in bids for c in row],
            "yes_ask": [None if c == NO_ASK else _CENTS[c] for row in asks for c in row],
        },
        schema={"ticker": pl.Utf8, "ts": pl.Int64, "yes_bid": _PRICE, "yes_ask": _PRICE},
    ).with_columns(pl.col("ts").cast(_UTC_US))
    trades = pl.DataFrame(
        {
            "ticker": [tickers[i] for i in day.trade_market.tolist()],
            "ts": day.trade_us,
            "yes_price": [_CENTS[c] for c in day.trade_price.tolist()],
            "count": [Decimal(c).scaleb(-2) for c in day.trade_count.tolist()],
        },
        schema={"ticker": pl.Utf8, "ts": pl.Int64, "yes_price": _PRICE, "count": _CENTI},
    ).with_columns(pl.col("ts").cast(_UTC_US))
    signal = pl.DataFrame(
        {
            "ticker": np.repeat(tickers, minutes),
            "ts": np.tile(grid_us + 60_000_000, n),
            "belief": day.belief.reshape(-1),
        }
    ).with_columns(pl.col("ts").cast(_UTC_US))
    book, trades, signal = backtest_inputs(candles, trades, signal, signal_column="belief")
    settled = {t: i == day.winner for i, t in enumerate(tickers)}
    return BacktestDay(f"{day.city.key}|{day.climate_date}", book, trades, signal, fees, settled)


def sim_days(n_days: int, *, seed: int = 7, start: date = BENCH_START) -> Iterator[CityDay]:
    """``n_days`` simulated city-days: every configured city on each date from ``start`` on."""
    config = replace(sim_config(), seed=seed)
    keys = [city.key for city in config.cities]
    for j in range(n_days):
        yield simulate_city_day(config, keys[j % len(keys)], start + timedelta(days=j // len(keys)))


def run_backtest_benchmark(days: int = 20, seed: int = 7) -> dict:
    """Bracket-minutes per second of ``run_backtest`` with ``FusedEdgeStrategy`` over simulated days."""
    t0 = time.perf_counter()
    inputs = [sim_backtest_day(day) for day in sim_days(days, seed=seed)]
    prepare_s = time.perf_counter() - t0

    strategy, config = FusedEdgeStrategy(margin=Decimal("0.01")), BacktestConfig()
    engine_s, bracket_minutes, orders, fills, net = 0.0, 0, 0, 0, Decimal(0)
    for day in inputs:
        t1 = time.perf_counter()
        result = run_backtest(day.book, day.trades, day.signal, strategy, day.fees, day.settled_yes, config)
        engine_s += time.perf_counter() - t1
        bracket_minutes += day.book.height
        orders += result.metrics["n_orders"]
        fills += result.metrics["n_fills"]
        net += result.pnl.net
    return {
        "benchmark": "backtest_engine",
        "strategy": strategy.name,
        "signal": "simulated maker belief of the last closed bar",
        "city_days": len(inputs),
        "bracket_minutes": bracket_minutes,
        "engine_s": round(engine_s, 4),
        "bracket_minutes_per_s": round(bracket_minutes / engine_s) if engine_s > 0 else None,
        "ms_per_city_day": round(1000 * engine_s / len(inputs), 2) if inputs else None,
        "prepare_s": round(prepare_s, 4),
        "orders": orders,
        "fills": fills,
        "net_dollars": float(net),
    }
