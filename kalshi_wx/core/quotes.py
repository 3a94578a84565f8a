"""The order book as it was known at each minute, from the dense 1-minute candle grid.

A candle stamped s is the bar [s, s + 1 min) and carries that bar's close, which is only known at
s + 1 min. Everything that acts at minute t (features, fusion, the backtest) must therefore use
the bar stamped t - 1 min. This is the one place that shift is made.
"""

from __future__ import annotations

import polars as pl


def book_known_at(candles: pl.DataFrame) -> pl.DataFrame:
    """ticker, ts, yes_bid, yes_ask (exact decimals; null = empty side) as known at ts.

    ``candles`` is a dense grid (every minute of every ticker, as ``kalshi.candles_1m``); the first
    minute of each ticker has no closed bar before it and so no book.
    """
    return (
        candles.select("ticker", "ts", "yes_bid", "yes_ask")
        .sort("ticker", "ts")
        .with_columns(pl.col("yes_bid", "yes_ask").shift(1).over("ticker"))
    )
