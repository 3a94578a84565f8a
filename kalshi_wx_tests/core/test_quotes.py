from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl

from kalshi_wx.core.quotes import book_known_at

T0 = datetime(2026, 6, 1, 5, tzinfo=UTC)


def test_book_at_t_is_the_bar_that_closed_at_t():
    candles = pl.DataFrame(
        {
            "ticker": ["B", "A", "A", "A"],
            "ts": [T0, T0 + timedelta(minutes=2), T0, T0 + timedelta(minutes=1)],
            "yes_bid": [Decimal("0.5"), Decimal("0.3"), Decimal("0.1"), Decimal("0.2")],
            "yes_ask": [Decimal("0.6"), None, Decimal("0.15"), Decimal("0.25")],
            "volume": [1, 2, 3, 4],
        }
    )
    book = book_known_at(candles)
    assert book.columns == ["ticker", "ts", "yes_bid", "yes_ask"]
    assert book.filter(pl.col("ticker") == "A")["yes_bid"].to_list() == [None, Decimal("0.1"), Decimal("0.2")]
    assert book.filter(pl.col("ticker") == "A")["yes_ask"].to_list() == [None, Decimal("0.15"), Decimal("0.25")]
    assert book.filter(pl.col("ticker") == "B")["yes_bid"].to_list() == [None]  # never borrows another ticker
