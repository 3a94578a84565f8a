"""The engine's inputs from warehouse-shaped frames (``kalshi.candles_1m``, ``kalshi.trades``,
``kalshi.markets``, ``kalshi.series`` and a per-minute probability such as ``pmf.fused_pmf``)."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import polars as pl

from kalshi_wx.core.backtest.interface import FeeSchedule
from kalshi_wx.core.quotes import book_known_at


class BacktestInputs(NamedTuple):
    book: pl.DataFrame  # ticker, ts, yes_bid, yes_ask as known at ts
    trades: pl.DataFrame  # ticker, ts, yes_price, count
    signal: pl.DataFrame  # ticker, ts, p_yes


def backtest_inputs(
    candles_1m: pl.DataFrame, trades: pl.DataFrame, signal: pl.DataFrame, *, signal_column: str = "p_fused_norm"
) -> BacktestInputs:
    """Book as known at each minute (the bar that closed at t, never the bar stamped t), trades and
    the probability column renamed to ``p_yes``. ``signal`` must already be as known at its ts."""
    if signal_column not in signal.columns:
        raise ValueError(f"signal frame has no column {signal_column!r}; has {signal.columns}")
    return BacktestInputs(
        book_known_at(candles_1m),
        trades.select("ticker", "ts", "yes_price", "count"),
        signal.select("ticker", "ts", pl.col(signal_column).cast(pl.Float64).alias("p_yes")),
    )


def fee_schedule(series: pl.DataFrame, series_ticker: str) -> FeeSchedule:
    """The fee type and multiplier of one series from ``kalshi.series``."""
    rows = series.filter(pl.col("series_ticker") == series_ticker)
    if rows.height != 1:
        raise ValueError(f"kalshi.series has {rows.height} rows for {series_ticker!r}; need exactly one")
    row = rows.row(0, named=True)
    return FeeSchedule(row["fee_type"], Decimal(str(row["fee_multiplier"])))
