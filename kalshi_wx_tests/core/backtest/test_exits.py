from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from kalshi_wx.cli.bench.backtest import sim_backtest_day, sim_days
from kalshi_wx.core.backtest import (
    BacktestConfig,
    MarketState,
    MoveSignalStrategy,
    Order,
    Pnl,
    TimedExit,
    exit_order,
    run_backtest,
    with_exit_rule,
)
from kalshi_wx_tests.core.backtest.scenario import NO_MAKER_FEES, TK, D, at, book, run, trades

BUY_AT_MINUTE_0 = {0: [Order(TK, "yes", D("0.50"), "taker")]}  # fills 10 at the known ask 0.45, fee 0.18


def timed(after: int, patience: int) -> BacktestConfig:
    return BacktestConfig(exit_rule="time", exit_after_minutes=after, exit_patience_minutes=patience)


def test_hold_keeps_the_position_to_settlement():
    result, _ = run(BUY_AT_MINUTE_0, fees=NO_MAKER_FEES, settled={TK: True}, n=6)
    # 10 x (1 - 0.45) = 5.50 gross, less the 0.18 taker fee.
    assert result.pnl == Pnl(D("5.50"), D("0.18"), D("5.32"), True)
    assert result.positions["position"].to_list() == [10]


def test_patient_exit_rests_at_the_ask_and_is_filled_by_a_print_through_it():
    # Bought 10 YES at 0.45 at minute 0. exit_after 2: at minute 2 the exit offers 10 at the YES
    # ask 0.45 (a NO buy at 0.45, NO costs 0.55). It rests from minute 3; a print at 0.47 at 3m30s
    # trades through it and fills all 10 at 0.45. The taker fee was 0.07 * 10 * 0.45 * 0.55 =
    # 0.17325 -> 0.18; makers pay nothing on a "quadratic" series. Bought and sold at 0.45: gross 0.
    result, strategy = run(
        BUY_AT_MINUTE_0,
        trades((TK, 3.5, "0.47", "20")),
        fees=NO_MAKER_FEES,
        settled={TK: True},
        config=timed(2, 2),
        n=6,
    )
    assert result.pnl == Pnl(D("0.00"), D("0.18"), D("-0.18"), True)
    assert result.fills.select("ts", "side", "price", "yes_price", "count", "liquidity", "fee").rows() == [
        (at(0), "yes", D("0.45"), D("0.45"), 10, "taker", D("0.18")),
        (at(3.5), "no", D("0.55"), D("0.45"), 10, "maker", D("0.00")),
    ]
    # A round trip's fills settle to the same PnL: YES pays 1, NO pays 0, 0.55 + 0.45 = 1.
    assert result.fills["payout"].to_list() == [D(1), D(0)]
    assert result.positions["position"].to_list() == [0]
    seen = [(v.markets[0].position, v.markets[0].position_since) for v in strategy.views]
    assert seen == [(0, None), (10, at(0)), (10, at(0)), (10, at(0)), (0, None), (0, None)]


def test_impatient_exit_crosses_the_spread_once_patience_runs_out():
    # patience 1: the minute-2 offer at 0.45 is not filled, so at minute 3 it is cancelled and the
    # exit sells at the bid 0.40 as taker: fee 0.07 * 10 * 0.40 * 0.60 = 0.168 -> 0.17.
    # Gross 10 x (0.40 - 0.45) = -0.50; fees 0.18 + 0.17.
    result, _ = run(BUY_AT_MINUTE_0, fees=NO_MAKER_FEES, settled={TK: False}, config=timed(2, 1), n=6)
    assert result.pnl == Pnl(D("-0.50"), D("0.35"), D("-0.85"), True)
    assert result.orders.select("ts_placed", "side", "yes_price", "liquidity", "status").rows() == [
        (at(0), "yes", D("0.50"), "taker", "filled"),
        (at(2), "no", D("0.45"), "maker", "cancelled"),
        (at(3), "no", D("0.40"), "taker", "filled"),
    ]


def test_zero_patience_crosses_at_once_and_waits_while_the_far_side_is_empty():
    # The bid is gone at minutes 2 and 3, so there is nothing to sell to until minute 4 (bid 0.38).
    quotes = {(TK, 2): (None, "0.45"), (TK, 3): (None, "0.46")}
    result, _ = run(
        BUY_AT_MINUTE_0,
        book_frame=book(6, quotes=quotes),
        fees=NO_MAKER_FEES,
        settled={TK: True},
        config=timed(2, 0),
        n=6,
    )
    exit_fill = result.fills.row(1, named=True)
    assert (exit_fill["ts"], exit_fill["yes_price"], exit_fill["liquidity"]) == (at(4), D("0.40"), "taker")
    assert result.positions["position"].to_list() == [0]


def test_the_strategy_has_no_say_on_a_ticker_while_it_is_being_closed():
    # A resting bid from minute 1 would add to the position: the exit cancels it at minute 2, and the
    # strategy's new orders on the ticker are dropped while the exit rests (minute 2) and crosses
    # (minute 3); flat again at minute 4, the strategy's order is accepted.
    plan = {
        **BUY_AT_MINUTE_0,
        1: [Order(TK, "yes", D("0.40"), "maker")],
        2: [Order(TK, "yes", D("0.41"), "maker")],
        3: [Order(TK, "yes", D("0.41"), "maker")],
        4: [Order(TK, "yes", D("0.41"), "maker")],
    }
    result, _ = run(plan, fees=NO_MAKER_FEES, config=timed(2, 1), n=6)
    assert result.orders.select("ts_placed", "side", "yes_price", "status", "ts_closed").rows() == [
        (at(0), "yes", D("0.50"), "filled", at(0)),
        (at(1), "yes", D("0.40"), "cancelled", at(2)),
        (at(2), "no", D("0.45"), "cancelled", at(3)),
        (at(3), "no", D("0.40"), "filled", at(3)),
        (at(4), "yes", D("0.41"), "closed", None),
    ]


def test_exit_order_prices_on_the_cent_grid():
    def market(position, bid, ask):
        return MarketState(TK, D(bid) if bid else None, D(ask) if ask else None, None, position, 50, 50, ())

    assert exit_order(market(10, "0.405", "0.455"), patient=True) == Order(TK, "no", D("0.46"), "maker", 10)
    assert exit_order(market(10, "0.405", "0.455"), patient=False) == Order(TK, "no", D("0.40"), "taker", 10)
    assert exit_order(market(-7, "0.405", "0.455"), patient=True) == Order(TK, "yes", D("0.40"), "maker", 7)
    assert exit_order(market(-7, "0.405", "0.455"), patient=False) == Order(TK, "yes", D("0.46"), "taker", 7)
    assert exit_order(market(-7, "0.405", None), patient=False) is None
    assert exit_order(market(0, "0.40", "0.45"), patient=False) is None


def test_with_exit_rule_wraps_only_for_time():
    strategy = MoveSignalStrategy()
    assert with_exit_rule(strategy, BacktestConfig()) is strategy
    wrapped = with_exit_rule(strategy, timed(5, 2))
    assert isinstance(wrapped, TimedExit) and wrapped.name == "model_move"


@pytest.mark.parametrize("after", [1, 5])
def test_on_simulated_days_every_exit_starts_after_the_holding_time(after):
    # The simulated fused PMF is only a source of entries here (the strategy enters only when flat);
    # what is checked is that nothing reduces a position before the exit rule may.
    config = timed(after, 2)
    for day in (sim_backtest_day(d) for d in sim_days(3, start=date(2025, 7, 1))):
        strategy = MoveSignalStrategy(up_above=0.6)
        result = run_backtest(day.book, day.trades, day.signal, strategy, day.fees, day.settled_yes, config)
        fills = result.fills.sort("ts", "fill_id")
        assert fills.height > 0
        for (ticker,), rows in fills.group_by("ticker"):
            position, opened = 0, None
            for row in rows.iter_rows(named=True):
                signed = row["count"] if row["side"] == "yes" else -row["count"]
                if position != 0 and (position > 0) != (signed > 0):
                    # A fill against the position: only the exit rule sends those, never before `after`.
                    order = result.orders.filter(pl.col("order_id") == row["order_id"]).row(0, named=True)
                    assert (order["ts_placed"] - opened).total_seconds() >= after * 60, (ticker, row)
                if position == 0:
                    opened = row["ts"]
                position += signed
                if position == 0:
                    opened = None
