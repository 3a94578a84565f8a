from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from kalshi_wx.cli.bench.backtest import sim_backtest_day, sim_days
from kalshi_wx.core.backtest import BacktestConfig, Cancel, Order, Pnl, RandomStrategy, run_backtest
from kalshi_wx.core.backtest.book import Book, Fill
from kalshi_wx.core.backtest.inputs import prepare_inputs
from kalshi_wx_tests.core.backtest.scenario import (
    MAKER_FEES,
    NO_MAKER_FEES,
    T0,
    TK,
    TK2,
    D,
    Recorder,
    Script,
    at,
    book,
    run,
    signal,
    trades,
)

# ---------------------------------------------------------------------------------------------
# Hand-computed scenarios


def test_resting_bid_filled_by_a_print_through_it_then_settled_yes():
    # Bid 10 YES at 0.41 (inside 0.40 / 0.45) at minute 0. The 0.30 print in minute 0 is in the
    # order's placement minute and must not fill it; the 0.39 print at 1m15s trades through 0.41
    # and fills all 10 (25 printed). Maker fee, quadratic_with_maker_fees, M = 1:
    #   0.0175 * 10 * 0.41 * 0.59 = 0.0423325 -> rounded up to $0.05.
    # Settles YES: gross = 10 * (1 - 0.41) = 5.90; net = 5.90 - 0.05 = 5.85.
    result, _ = run(
        {0: [Order(TK, "yes", D("0.41"), "maker")]},
        trades((TK, 0.33, "0.30", "100"), (TK, 1.25, "0.39", "25")),
        settled={TK: True},
    )
    assert result.pnl.gross == D("5.90") and result.pnl.fees == D("0.05") and result.pnl.net == D("5.85")
    fill = result.fills.row(0, named=True)
    assert result.fills.height == 1
    assert (fill["ts"], fill["side"], fill["price"], fill["count"], fill["liquidity"], fill["fee"], fill["payout"]) == (
        at(1.25),
        "yes",
        D("0.41"),
        10,
        "maker",
        D("0.05"),
        D(1),
    )
    order = result.orders.row(0, named=True)
    assert (order["status"], order["filled"], order["ts_placed"], order["ts_closed"]) == ("filled", 10, T0, at(1.25))
    # Equity: at minute 2 (first after the fill) cash -4.10, fee -0.05, 10 YES marked at the mid 0.425.
    equity = result.equity["equity_dollars"].to_list()
    assert equity[:2] == [0.0, 0.0] and equity[2] == pytest.approx(0.10)
    assert equity[-1] == pytest.approx(5.85) and result.equity["settled"].to_list()[-1]
    assert result.metrics["hit_rate"] == 1.0 and result.metrics["max_drawdown_dollars"] == pytest.approx(0.0)
    assert result.positions.filter(pl.col("ticker") == TK)["position"].item() == 10


def test_queue_haircut_at_the_limit_partial_fills_and_per_order_fee_rounding():
    # Sell YES (buy NO) 10 at 0.44 at minute 0: an ask on the YES book; NO costs 0.56.
    #   1m10s print 7 @ 0.44 (at the limit): credit 3.5 -> 3 filled.
    #   2m30s print 2 @ 0.44: credit 4.5 -> 1 more (4).
    #   2m50s print 2 @ 0.44: credit 5.5 -> 1 more (5).
    #   3m05s print 1 @ 0.43: below an ask, not through it: nothing.
    #   3m40s print 2.5 @ 0.45: through the ask, full count: credit 8.0 -> 3 more (8).
    # Maker fee on the order's cumulative fills at P = 0.44 (P(1-P) = 0.2464), rounded up per order:
    #   3: 0.012936 -> 0.02; 4: 0.017248 -> 0.02; 5: 0.02156 -> 0.03; 8: 0.034496 -> 0.04,
    # so the fills pay 0.02, 0.00, 0.01, 0.01 = 0.04 (rounding each fill would charge 0.02 + 3 x 0.01 = 0.05).
    # Settles NO: each NO contract pays $1: gross = 8 * (1 - 0.56) = 3.52; net = 3.48.
    result, _ = run(
        {0: [Order(TK, "no", D("0.44"), "maker")]},
        trades(
            (TK, 1 + 1 / 6, "0.44", "7"),
            (TK, 2.5, "0.44", "2"),
            (TK, 2 + 5 / 6, "0.44", "2"),
            (TK, 3 + 1 / 12, "0.43", "1"),
            (TK, 3 + 2 / 3, "0.45", "2.5"),
        ),
        settled={TK: False},
    )
    assert result.fills["count"].to_list() == [3, 1, 1, 3]
    assert result.fills["fee"].to_list() == [D("0.02"), D("0.00"), D("0.01"), D("0.01")]
    assert result.fills["price"].to_list() == [D("0.56")] * 4  # paid per NO contract
    assert result.fills["yes_price"].to_list() == [D("0.44")] * 4  # the V2 YES-book price
    assert result.fills["payout"].to_list() == [D(1)] * 4  # a NO contract pays $1 when the bracket settles NO
    assert result.pnl == Pnl(gross=D("3.52"), fees=D("0.04"), net=D("3.48"), settled=True)
    order = result.orders.row(0, named=True)
    assert (order["status"], order["filled"], order["fee"], order["ts_closed"]) == ("closed", 8, D("0.04"), None)
    assert result.positions["position"].to_list() == [-8]


def test_taker_fills_at_the_known_ask_and_pays_the_taker_fee():
    # Buy 10 YES as taker at minute 2, limit 0.50; the known ask is 0.45, so it fills there.
    # Taker fee: 0.07 * 10 * 0.45 * 0.55 = 0.17325 -> $0.18 (the same with or without maker fees).
    # Settles NO: gross = -4.50; net = -4.68.
    for fees in (MAKER_FEES, NO_MAKER_FEES):
        result, _ = run({2: [Order(TK, "yes", D("0.50"), "taker")]}, fees=fees, settled={TK: False})
        fill = result.fills.row(0, named=True)
        assert (fill["ts"], fill["price"], fill["count"], fill["liquidity"], fill["fee"]) == (
            at(2),
            D("0.45"),
            10,
            "taker",
            D("0.18"),
        )
        assert (result.pnl.gross, result.pnl.fees, result.pnl.net) == (D("-4.50"), D("0.18"), D("-4.68"))
        assert result.orders["status"].to_list() == ["filled"]


def test_book_crossing_a_resting_order_fills_it_but_only_once_it_rests():
    # Bid 0.41 placed at minute 0. The book known at minute 1 (the close of bar 0, the order's
    # placement minute) shows an ask of 0.41, but the order is not resting yet: no fill. The book
    # known at minute 3 (close of bar 2) crosses it again: all 10 fill at 0.41, stamped minute 3.
    quotes = {(TK, 1): ("0.38", "0.41"), (TK, 3): ("0.37", "0.40")}
    result, _ = run({0: [Order(TK, "yes", D("0.41"), "maker")]}, book_frame=book(5, quotes=quotes), fees=NO_MAKER_FEES)
    fill = result.fills.row(0, named=True)
    assert result.fills.height == 1
    assert (fill["ts"], fill["price"], fill["count"], fill["fee"]) == (at(3), D("0.41"), 10, D("0.00"))
    assert not result.pnl.settled and result.pnl.gross == D("-4.10") + 10 * D("0.425")  # last mid 0.425


def test_a_print_is_shared_once_among_our_orders_most_aggressive_first():
    # Two resting bids, 0.42 (order 2) and 0.41 (order 1); one print of 12 @ 0.40 goes through
    # both: 10 to the better-priced order 2, the remaining 2 to order 1.
    plan = {0: [Order(TK, "yes", D("0.41"), "maker"), Order(TK, "yes", D("0.42"), "maker")]}
    result, _ = run(plan, trades((TK, 1.5, "0.40", "12")), fees=NO_MAKER_FEES)
    assert result.fills.select("order_id", "count").rows() == [(2, 10), (1, 2)]


def test_a_taker_fill_is_recorded_as_a_fill():
    # Buy 10 NO as taker at minute 2 at the known bid 0.40 (NO costs 0.60). Taker fee on a
    # "quadratic" series: 0.07 * 10 * 0.40 * 0.60 = 0.168 -> $0.17. Net YES -10, cash +4.00.
    inputs = prepare_inputs(book(5), trades(), signal())
    state = Book(inputs, NO_MAKER_FEES, BacktestConfig(), "script")
    state.place(Order(TK, "no", D("0.40"), "taker"), 2, {TK: 0})
    assert state.fills == [Fill(1, 0, at(2), int(inputs.ts_us[2]), "no", D("0.40"), 10, "taker", D("0.17"))]
    assert state.fills[0].price == D("0.60")
    assert (state.position, state.cash, state.fee_paid) == ([-10], [D("4.00")], [D("0.17")])
    assert state.orders[0].status == "filled" and state.open == [[]]


# ---------------------------------------------------------------------------------------------
# Fees and limits


def test_fee_type_changes_only_maker_fills_fees():
    day = sim_backtest_day(next(sim_days(1, start=date(2025, 7, 1))))
    config = BacktestConfig(order_ttl_minutes=30)
    with_maker, without = (
        run_backtest(day.book, day.trades, day.signal, RandomStrategy(5, rate=0.03), fees, day.settled_yes, config)
        for fees in (MAKER_FEES, NO_MAKER_FEES)
    )
    a, b = with_maker.fills, without.fills
    assert a.drop("fee").equals(b.drop("fee")) and a.height > 10
    maker = a["liquidity"] == "maker"
    assert maker.any() and (~maker).any()
    assert a.filter(~maker)["fee"].equals(b.filter(~maker)["fee"])
    assert (b.filter(maker)["fee"] == 0).all() and a.filter(maker)["fee"].cast(pl.Float64).sum() > 0
    assert with_maker.pnl.gross == without.pnl.gross and with_maker.pnl.fees > without.pnl.fees


def test_position_limit_counts_resting_orders_and_clips_then_rejects():
    config = BacktestConfig(order_size=10, max_position_per_market=25)
    # Minute 0: a resting bid for 10, then a taker for 10: room 25 - 0 - 10 resting = 15, all 10 fill.
    # Minute 1: room 25 - 10 - 10 = 5 -> clipped to 5. Minute 2: room 0 -> rejected.
    # Minute 3: NO room is 25 + 15 long = 40, so selling 40 fills and leaves -25.
    plan = {
        0: [Order(TK, "yes", D("0.41"), "maker"), Order(TK, "yes", D("0.45"), "taker")],
        1: [Order(TK, "yes", D("0.45"), "taker")],
        2: [Order(TK, "yes", D("0.45"), "taker")],
        3: [Order(TK, "no", D("0.40"), "taker", count=40)],
    }
    result, strategy = run(plan, config=config)
    assert result.orders.select("liquidity", "side", "count", "filled").rows() == [
        ("maker", "yes", 10, 0),
        ("taker", "yes", 10, 10),
        ("taker", "yes", 5, 5),
        ("taker", "no", 40, 40),
    ]
    assert result.metrics["rejected"] == {"position_limit": 1} and result.metrics["n_clipped"] == 1
    assert result.positions["position"].to_list() == [15 - 40]
    for view in strategy.views:
        m = view.markets[0]
        resting = sum(o.remaining for o in m.open_orders if o.side == "yes")
        assert m.position + resting <= 25 and m.room_yes == max(0, 25 - m.position - resting)


def test_exposure_limit_is_worst_case_loss_across_tickers():
    config = BacktestConfig(max_exposure_dollars=D("3.00"))
    # TK: YES at 0.45 -> floor(3.00 / 0.45) = 6 contracts ($2.70 at risk). TK2: $0.30 left, a NO
    # at bid 0.40 risks 0.60 each -> 0 contracts: rejected. Selling TK (NO at 0.40) lowers the
    # worst case, so it is allowed: loss if YES = -(cash + pos) = -(−2.70 + 6) = −3.30 < budget.
    plan = {
        0: [Order(TK, "yes", D("0.45"), "taker")],
        1: [Order(TK2, "no", D("0.40"), "taker")],
        2: [Order(TK, "no", D("0.40"), "taker", count=6)],
    }
    strategy = Script(plan)
    result = run_backtest(
        book(5, (TK, TK2)), trades(), signal(tickers=(TK, TK2)), strategy, NO_MAKER_FEES, None, config
    )
    assert result.fills.select("ticker", "side", "count").rows() == [(TK, "yes", 6), (TK, "no", 6)]
    assert result.metrics["rejected"] == {"exposure_limit": 1}
    assert max(v.exposure_dollars for v in strategy.views) == D("2.70")
    assert strategy.views[-1].exposure_dollars == D("0.30")  # flat: 6 * (0.45 - 0.40) lost for sure


def test_post_only_and_marketability():
    plan = {
        0: [
            Order(TK, "yes", D("0.45"), "maker"),
            Order(TK, "no", D("0.40"), "maker"),
            Order(TK, "yes", D("0.44"), "taker"),
        ]
    }
    result, _ = run(plan)
    assert result.orders.height == 0
    assert result.metrics["rejected"] == {"not_marketable": 1, "post_only": 2}
    empty_ask = book(5, quotes={(TK, 0): ("0.40", None)})
    result, _ = run({0: [Order(TK, "yes", D("0.99"), "taker")]}, book_frame=empty_ask)
    assert result.metrics["rejected"] == {"no_liquidity": 1}


def test_limits_hold_at_every_minute_of_a_busy_day():
    day = sim_backtest_day(next(sim_days(1, start=date(2025, 7, 9))))
    config = BacktestConfig(max_position_per_market=20, max_exposure_dollars=D("15"), order_ttl_minutes=60)
    rec = Recorder(RandomStrategy(4, rate=0.2))
    result = run_backtest(day.book, day.trades, day.signal, rec, day.fees, day.settled_yes, config)
    assert result.metrics["rejected"].get("exposure_limit", 0) > 0 and result.metrics["n_fills"] > 20
    for view in rec.views:
        assert view.exposure_dollars <= D("15")
        for m in view.markets:
            resting_yes = sum(o.remaining for o in m.open_orders if o.side == "yes")
            resting_no = sum(o.remaining for o in m.open_orders if o.side == "no")
            assert m.position + resting_yes <= 20 and -m.position + resting_no <= 20
    assert result.positions["position"].abs().max() <= 20


@pytest.mark.parametrize(
    ("intent", "match"),
    [
        (Order(TK, "yes", D("0.415"), "maker"), "not a Decimal cent"),
        (Order(TK, "yes", D("1.00"), "taker"), "not a Decimal cent"),
        (Order("NOPE", "yes", D("0.41"), "maker"), "unknown ticker"),
        (Order(TK, "buy", D("0.41"), "maker"), "bad order"),
        (Order(TK, "yes", D("0.41"), "maker", count=0), "positive int"),
        (Cancel(7), "unknown order 7"),
    ],
)
def test_bad_intents_are_programming_errors(intent, match):
    with pytest.raises(ValueError, match=match):
        run({0: [intent]})
