"""The backtest asset on a simulated city-day: fills, fees by series, settlement by the CLI high."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from kalshi_wx.core.fees import trading_fee
from kalshi_wx.core.settlement import settled_winners
from kalshi_wx.warehouse.schemas import BACKTEST_FILLS, MARKETS, SERIES, SETTLEMENT
from kalshi_wx_tests.conftest import DAY


def test_fills_are_settled_by_the_official_high_and_pay_series_fees(materialized):
    outcome, warehouse, events = materialized
    assert outcome.success, outcome.error
    fills = warehouse.read(BACKTEST_FILLS, city="nyc", climate_date=DAY)
    assert set(fills["strategy"]) <= {"fused_edge", "wx_edge"} and fills.height > 0
    winners = settled_winners(
        warehouse.read(MARKETS, city="nyc", climate_date=DAY), warehouse.read(SETTLEMENT, city="nyc", climate_date=DAY)
    )
    for row in fills.iter_rows(named=True):
        won = winners[row["ticker"]] == (row["side"] == "yes")
        assert row["payout"] == (Decimal(1) if won else Decimal(0)), row
        assert Decimal(0) < row["price"] < Decimal(1) and row["count"] > 0
    # An order's fills add up to one fee, rounded up to the cent on its total (the series' fee type).
    series = warehouse.read(SERIES).filter(pl.col("series_ticker") == "KXHIGHNY").row(0, named=True)
    orders = fills.group_by("strategy", "order_id", "liquidity", "price").agg(
        pl.col("count").sum(), pl.col("fee").sum()
    )
    for row in orders.iter_rows(named=True):
        expected = trading_fee(
            series["fee_type"], series["fee_multiplier"], row["count"], row["price"], maker=row["liquidity"] == "maker"
        )
        assert row["fee"] == expected, row
    metadata = events["backtest/backtest_report"].asset_materialization.metadata
    assert metadata["settled"].value is True and "fused_edge" in metadata["summary"].value
