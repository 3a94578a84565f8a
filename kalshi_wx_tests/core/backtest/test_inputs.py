from __future__ import annotations

import polars as pl
import pytest

from kalshi_wx.core.backtest import FeeSchedule, backtest_inputs, fee_schedule
from kalshi_wx_tests.core.backtest.scenario import TK, D, at, book, run, signal, trades


def test_crossed_book_names_ticker_and_ts():
    bad = book(5, quotes={(TK, 3): ("0.50", "0.45")})
    with pytest.raises(ValueError, match=rf"{TK} at 2026-06-01 05:03:00\+00:00 is crossed"):
        run({}, book_frame=bad)


@pytest.mark.parametrize(
    ("frame_fix", "match"),
    [
        (lambda b: b.with_columns(pl.col("yes_bid").cast(pl.Float64)), "must be Decimal"),
        (lambda b: b.filter(pl.col("ts") != at(2)), "regular 1-minute grid"),
        (lambda b: pl.concat([b, b.head(1)]), "dense grid"),
    ],
)
def test_malformed_book_is_refused(frame_fix, match):
    with pytest.raises(ValueError, match=match):
        run({}, book_frame=frame_fix(book(5)))


def test_backtest_inputs_shift_the_candles_and_name_the_signal():
    candles = book(3).with_columns(pl.lit(1).alias("volume"))
    fused = signal(0.3, n=3).rename({"p_yes": "p_fused_norm"}).with_columns(pl.lit(0.2).alias("p_wx"))
    raw_trades = trades((TK, 0.5, "0.40", "1")).with_columns(pl.lit("x").alias("trade_id"))
    inputs = backtest_inputs(candles, raw_trades, fused)
    assert inputs.book["yes_bid"].to_list() == [None, D("0.40"), D("0.40")]  # bar t-1 is the book at t
    assert inputs.signal.columns == ["ticker", "ts", "p_yes"] and inputs.signal["p_yes"].to_list() == [0.3] * 3
    assert inputs.trades.columns == ["ticker", "ts", "yes_price", "count"]
    with pytest.raises(ValueError, match="no column 'p_model'"):
        backtest_inputs(candles, raw_trades, fused, signal_column="p_model")


def test_fee_helper_reads_the_series_table():
    series = pl.DataFrame({"series_ticker": ["KXHIGHNY"], "fee_type": ["quadratic"], "fee_multiplier": [D("1.000000")]})
    assert fee_schedule(series, "KXHIGHNY") == FeeSchedule("quadratic", D(1))
    with pytest.raises(ValueError, match="0 rows for 'KXHIGHCHI'"):
        fee_schedule(series, "KXHIGHCHI")
