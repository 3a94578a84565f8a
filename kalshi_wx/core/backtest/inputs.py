"""The engine's inputs: built from warehouse-shaped frames (``kalshi.candles_1m``, ``kalshi.trades``,
``kalshi.markets``, ``kalshi.series`` and a per-minute probability such as ``pmf.fused_pmf``), then
checked and laid out per ticker and minute for the engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import polars as pl

from kalshi_wx.core.backtest.interface import FeeSchedule
from kalshi_wx.core.quotes import book_known_at

_MINUTE_US = 60_000_000


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


# ----------------------------------------------------------------------------------------------
# Checked and laid out for the engine


def _require(frame: pl.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks column(s) {missing}; has {frame.columns}")


def _require_decimal(frame: pl.DataFrame, name: str, columns: Sequence[str]) -> None:
    for c in columns:
        if not isinstance(frame.schema[c], pl.Decimal):
            raise ValueError(f"{name}.{c} must be Decimal (the order path never uses floats), got {frame.schema[c]}")


@dataclass
class PreparedInputs:
    """One event laid out for the engine: rows per ticker (in ``tickers`` order), columns per grid minute."""

    tickers: tuple[str, ...]
    ts: list[datetime]
    ts_us: np.ndarray
    bids: list[list[Decimal | None]]
    asks: list[list[Decimal | None]]
    p_yes: list[list[float | None]]
    marks: np.ndarray  # (tickers, minutes) float mid, empty side as 0 / 1, carried over empty books
    trades_by_minute: list[list[tuple[int, int, Decimal, Decimal, datetime]]]  # (i, ts_us, price, count, ts)


def prepare_inputs(book: pl.DataFrame, trades: pl.DataFrame, signal: pl.DataFrame) -> PreparedInputs:
    """Check the frames (columns, Decimal prices, a dense uncrossed 1-minute book, positive trades only on its
    tickers, one signal per ticker and minute) and lay them out per ticker and minute."""
    _require(book, "book", ("ticker", "ts", "yes_bid", "yes_ask"))
    _require(trades, "trades", ("ticker", "ts", "yes_price", "count"))
    _require(signal, "signal", ("ticker", "ts", "p_yes"))
    _require_decimal(book, "book", ("yes_bid", "yes_ask"))
    _require_decimal(trades, "trades", ("yes_price",))
    if book.height == 0:
        raise ValueError("book is empty: nothing to backtest")

    book = book.select("ticker", "ts", "yes_bid", "yes_ask").sort("ticker", "ts")
    crossed = book.filter(pl.col("yes_bid") > pl.col("yes_ask"))
    if crossed.height:
        row = crossed.row(0, named=True)
        raise ValueError(
            f"book for {row['ticker']} at {row['ts']} is crossed: yes_bid {row['yes_bid']} > yes_ask {row['yes_ask']}"
        )
    tickers = tuple(book["ticker"].unique().sort().to_list())
    grid = book["ts"].unique().sort()
    n, t_len = len(tickers), grid.len()
    if book.height != n * t_len or book.select(pl.struct("ticker", "ts").is_duplicated().any()).item():
        raise ValueError(
            f"book must be a dense grid with one row per (ticker, ts): {book.height} rows for {n} tickers x "
            f"{t_len} minutes"
        )
    ts_us = grid.dt.epoch("us").to_numpy()
    if t_len > 1 and not (np.diff(ts_us) == _MINUTE_US).all():
        raise ValueError("book ts must be a regular 1-minute grid (the engine's clock is the grid index)")

    bid_col = book["yes_bid"].to_list()
    ask_col = book["yes_ask"].to_list()
    bids = [bid_col[i * t_len : (i + 1) * t_len] for i in range(n)]
    asks = [ask_col[i * t_len : (i + 1) * t_len] for i in range(n)]

    # An empty side is a bound: no bid = nobody pays more than 0, no ask = nobody sells below 1.
    marks = (
        book.select(
            pl.when(pl.col("yes_bid").is_not_null() | pl.col("yes_ask").is_not_null())
            .then(
                (pl.col("yes_bid").cast(pl.Float64).fill_null(0.0) + pl.col("yes_ask").cast(pl.Float64).fill_null(1.0))
                / 2
            )
            .forward_fill()
            .over(pl.col("ticker"))
            .alias("mark")
        )["mark"]
        .to_numpy()
        .reshape(n, t_len)
    )

    frame = pl.DataFrame({"ticker": list(tickers)}).join(pl.DataFrame({"ts": grid}), how="cross")
    sig = signal.select("ticker", "ts", pl.col("p_yes").cast(pl.Float64))
    if sig.select(pl.struct("ticker", "ts").is_duplicated().any()).item():
        raise ValueError("signal has more than one p_yes for some (ticker, ts)")
    # Signal rows off the grid (another ticker, another minute) are ignored; NaN is no signal.
    p_col = (
        frame.join(sig.with_columns(pl.col("ts").cast(grid.dtype)), on=["ticker", "ts"], how="left")
        .sort("ticker", "ts")["p_yes"]
        .fill_nan(None)
        .to_list()
    )
    p_yes = [p_col[i * t_len : (i + 1) * t_len] for i in range(n)]

    index = {t: i for i, t in enumerate(tickers)}
    unknown = set(trades["ticker"].unique().to_list()) - set(index)
    if unknown:
        raise ValueError(f"trades for ticker(s) {sorted(unknown)} that the book does not have")
    tr = (
        trades.select(
            "ticker",
            pl.col("ts").cast(grid.dtype),
            pl.col("ts").dt.epoch("us").alias("ts_us"),
            "yes_price",
            pl.col("count").cast(pl.Decimal(18, 2)),
        )
        .with_columns(((pl.col("ts_us") - int(ts_us[0])) // _MINUTE_US).alias("minute"))
        .filter((pl.col("minute") >= 0) & (pl.col("minute") < t_len))
        .sort("ts_us", "ticker", "yes_price", "count", maintain_order=True)
    )
    trades_by_minute: list[list[tuple[int, int, Decimal, Decimal, datetime]]] = [[] for _ in range(t_len)]
    for ticker, ts, us, price, count, minute in tr.iter_rows():
        if count <= 0:
            raise ValueError(f"trade on {ticker} at {ts} has count {count}")
        trades_by_minute[minute].append((index[ticker], us, price, count, ts))
    return PreparedInputs(tickers, grid.to_list(), ts_us, bids, asks, p_yes, marks, trades_by_minute)
