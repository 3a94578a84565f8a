from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from kalshi_wx.cli.bench.backtest import sim_backtest_day, sim_days
from kalshi_wx.core.backtest import (
    BacktestConfig,
    BacktestDay,
    Cancel,
    FusedEdgeStrategy,
    Order,
    RandomStrategy,
    run_backtest,
    run_many,
)
from kalshi_wx_tests.core.backtest.scenario import PRICE, TK, D, Recorder, at, run, trades

# ---------------------------------------------------------------------------------------------
# The minute loop


def test_orders_expire_after_their_ttl_and_cancels_apply_before_new_orders():
    config = BacktestConfig(order_ttl_minutes=3)
    plan = {0: [Order(TK, "yes", D("0.41"), "maker")], 1: [Order(TK, "no", D("0.44"), "maker")], 2: [Cancel(2)]}
    # A print through 0.41 in minute 3: order 1 expired at minute 3 (0 + ttl) and never sees it.
    result, strategy = run(plan, trades((TK, 3.5, "0.39", "50")), config=config, n=6)
    assert result.orders["status"].to_list() == ["expired", "cancelled"]
    assert result.orders["ts_closed"].to_list() == [at(3), at(2)]
    assert result.fills.height == 0
    assert [len(v.markets[0].open_orders) for v in strategy.views] == [0, 1, 2, 0, 0, 0]


def test_same_inputs_same_result():
    day = sim_backtest_day(next(sim_days(1, start=date(2025, 8, 3))))
    for make in (lambda: FusedEdgeStrategy(D("0.01")), lambda: RandomStrategy(3, rate=0.02)):
        a, b = (
            run_backtest(day.book, day.trades, day.signal, make(), day.fees, day.settled_yes, BacktestConfig())
            for _ in range(2)
        )
        assert a.orders.height > 0
        for name in ("orders", "fills", "positions", "equity"):
            assert getattr(a, name).equals(getattr(b, name)), name
        assert a.pnl == b.pnl and a.metrics == b.metrics


def test_run_many_adds_up_the_days():
    days = [sim_backtest_day(d) for d in sim_days(3, start=date(2025, 7, 1))]
    days.append(BacktestDay("unsettled", days[0].book, days[0].trades, days[0].signal, days[0].fees, None))
    many = run_many(days, FusedEdgeStrategy(D("0.01")), BacktestConfig())
    assert many.days["label"].to_list()[-1] == "unsettled" and not many.metrics["all_settled"]
    assert many.days["net"].to_list() == [r.pnl.net for r in many.results]
    assert many.metrics["net"] == pytest.approx(sum(float(r.pnl.net) for r in many.results))
    assert many.metrics["n_days"] == 4 and many.metrics["sharpe_by_day"] is not None
    first = many.results[0]
    assert first.pnl.net == first.pnl.gross - first.pnl.fees
    assert first.fills["fee"].cast(pl.Float64).sum() == pytest.approx(float(first.pnl.fees))
    assert first.metrics["pnl_by_ticker"] and first.equity.height == 1440 + 1  # every minute, then settled


# ---------------------------------------------------------------------------------------------
# No look-ahead


def test_changing_everything_after_t_changes_nothing_up_to_t():
    day = sim_backtest_day(next(sim_days(1, start=date(2025, 7, 20))))
    t = day.book["ts"].min() + timedelta(minutes=800)
    later = pl.col("ts") > t
    wild_book = day.book.with_columns(
        pl.when(later).then(pl.lit(D("0.97")).cast(PRICE)).otherwise("yes_bid").alias("yes_bid"),
        pl.when(later).then(pl.lit(D("0.98")).cast(PRICE)).otherwise("yes_ask").alias("yes_ask"),
    )
    wild_signal = day.signal.with_columns(pl.when(later).then(pl.lit(0.999)).otherwise("p_yes").alias("p_yes"))
    wild_trades = pl.concat(
        [
            day.trades.with_columns(
                pl.when(later).then(pl.lit(D("0.01")).cast(PRICE)).otherwise("yes_price").alias("yes_price"),
                pl.when(later).then(pl.lit(D("5000")).cast(pl.Decimal(18, 2))).otherwise("count").alias("count"),
            ),
            # A flood of prints just after t, on every ticker.
            day.book.filter(pl.col("ts") == t).select(
                "ticker",
                (pl.col("ts") + timedelta(seconds=1)).alias("ts"),
                pl.lit(D("0.01")).cast(PRICE).alias("yes_price"),
                pl.lit(D("999")).cast(pl.Decimal(18, 2)).alias("count"),
            ),  # fmt: skip
        ]
    )
    decision_cols = ["order_id", "ticker", "ts_placed", "side", "yes_price", "count", "liquidity"]
    for make in (lambda: FusedEdgeStrategy(D("0.005")), lambda: RandomStrategy(9, rate=0.05)):
        runs = []
        for b, tr, sig in ((day.book, day.trades, day.signal), (wild_book, wild_trades, wild_signal)):
            rec = Recorder(make())
            result = run_backtest(b, tr, sig, rec, day.fees, day.settled_yes, BacktestConfig())
            runs.append((rec, result))
        (rec_a, a), (rec_b, b) = runs
        upto = [v for v in rec_a.views if v.ts <= t]
        assert len(upto) == 801 and upto == rec_b.views[:801]  # every view up to t, field by field
        assert rec_a.views[801:] != rec_b.views[801:]  # and the change did reach the later minutes
        placed = pl.col("ts_placed") <= t
        assert a.orders.filter(placed).height > 5
        assert a.orders.filter(placed).select(decision_cols).equals(b.orders.filter(placed).select(decision_cols))
        assert a.fills.filter(pl.col("ts") <= t).equals(b.fills.filter(pl.col("ts") <= t))
        for view in rec_a.views:
            assert all(p.ts < view.ts for p in view.trades)
