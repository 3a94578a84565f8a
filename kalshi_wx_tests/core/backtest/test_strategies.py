from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import polars as pl
import pytest

from kalshi_wx.cli.bench.backtest import sim_backtest_day, sim_days
from kalshi_wx.core.backtest import (
    BacktestConfig,
    Cancel,
    FeeSchedule,
    FusedEdgeStrategy,
    MarketState,
    MinuteView,
    MoveSignalStrategy,
    OpenOrder,
    Order,
    RandomStrategy,
    SignalThresholdStrategy,
    run_many,
)

D = Decimal
T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
TK = "KXHIGHNY-26JUN01-B72.5"
NO_MAKER_FEES = FeeSchedule("quadratic", D(1))
MAKER_FEES = FeeSchedule("quadratic_with_maker_fees", D(1))


def view(
    p, bid="0.40", ask="0.45", *, fees=NO_MAKER_FEES, config=None, open_orders=(), room=50, position=0
) -> MinuteView:
    market = MarketState(
        TK,
        None if bid is None else D(bid),
        None if ask is None else D(ask),
        p,
        position,
        room,
        room,
        tuple(open_orders),
    )
    return MinuteView(T0, 0, (market,), (), D(0), fees, config or BacktestConfig())


def decide(strategy, *args, **kwargs):
    return list(strategy.on_minute(view(*args, **kwargs)))


# FusedEdgeStrategy(margin 0.02), default config (taker_min_edge 0.03, order_size 10), book 0.40 / 0.45.
# Taker fee per contract on 10: at 0.45 0.17325 -> 0.18 -> 0.018; at 0.40 0.168 -> 0.17 -> 0.017.
@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.45, [Order(TK, "yes", D("0.41"), "maker")]),  # inside: 0.45 - 0.41 = 0.04 > 0.02
        # YES: inside 0.015 fails, at the bid 0.025 passes; NO: inside 0.015 fails, at the ask 0.025 passes.
        (0.425, [Order(TK, "yes", D("0.40"), "maker"), Order(TK, "no", D("0.45"), "maker")]),
        (0.60, [Order(TK, "yes", D("0.45"), "taker")]),  # 0.60 - 0.45 - 0.018 = 0.132 > 0.03
        (0.30, [Order(TK, "no", D("0.40"), "taker")]),  # 0.40 - 0.30 - 0.017 = 0.083 > 0.03
        (0.41, [Order(TK, "no", D("0.44"), "maker")]),  # inside the ask: 0.44 - 0.41 = 0.03 > 0.02
    ],
)
def test_fused_edge_decisions(p, expected):
    assert decide(FusedEdgeStrategy(D("0.02")), p) == expected


def test_fused_edge_stays_out_without_edge_and_quotes_both_sides_of_a_wide_spread():
    assert decide(FusedEdgeStrategy(D("0.02")), 0.425, "0.41", "0.44") == []  # 0.425 - 0.41 = 0.015 either way
    assert decide(FusedEdgeStrategy(D("0.02")), 0.50, "0.30", "0.70") == [
        Order(TK, "yes", D("0.31"), "maker"),
        Order(TK, "no", D("0.69"), "maker"),
    ]
    assert decide(FusedEdgeStrategy(D("0.02")), None) == []


def test_maker_fees_change_the_maker_decision():
    # p 0.433: inside 0.41 leaves 0.023. Without maker fees that clears the 0.02 margin. With them the
    # fee on 10 @ 0.41 is 0.0423 -> 0.05, 0.005 a contract: 0.018 does not, so it rests at the bid:
    # 0.033 - 0.005 (10 @ 0.40: 0.042 -> 0.05) = 0.028.
    assert decide(FusedEdgeStrategy(D("0.02")), 0.433) == [Order(TK, "yes", D("0.41"), "maker")]
    assert decide(FusedEdgeStrategy(D("0.02")), 0.433, fees=MAKER_FEES) == [Order(TK, "yes", D("0.40"), "maker")]


def test_taker_fallback_off_means_maker_only():
    config = BacktestConfig(taker_fallback=False)
    assert decide(FusedEdgeStrategy(D("0.02")), 0.60, config=config) == [Order(TK, "yes", D("0.41"), "maker")]


def test_requoting_keeps_a_resting_order_at_the_wanted_price_and_replaces_others():
    keep = OpenOrder(7, "yes", D("0.41"), 10, T0)
    assert decide(FusedEdgeStrategy(D("0.02")), 0.45, open_orders=[keep], room=40) == []
    stale = OpenOrder(8, "yes", D("0.40"), 10, T0)
    assert decide(FusedEdgeStrategy(D("0.02")), 0.45, open_orders=[stale], room=40) == [
        Cancel(8),
        Order(TK, "yes", D("0.41"), "maker"),
    ]
    # No signal, or no edge left: resting orders are pulled.
    assert decide(FusedEdgeStrategy(D("0.02")), None, open_orders=[keep]) == [Cancel(7)]
    # Position limit reached and nothing resting: no order.
    assert decide(FusedEdgeStrategy(D("0.02")), 0.45, room=0) == []


def test_sub_cent_touch_rounds_to_the_cent_grid():
    assert decide(FusedEdgeStrategy(D("0.02")), 0.45, "0.405", "0.455") == [Order(TK, "yes", D("0.41"), "maker")]
    # No ask: one tick inside the 0.99 bid would be 1.00, which cannot be sent; the touch can.
    assert decide(FusedEdgeStrategy(D("0.005")), 1.0, "0.99", None) == [Order(TK, "yes", D("0.99"), "maker")]


def test_signal_threshold_needs_both_the_threshold_and_the_edge():
    strategy = SignalThresholdStrategy(yes_above=0.6, no_below=0.2, min_edge=D("0.01"))
    assert decide(strategy, 0.55) == []  # 0.14 of edge at the bid + 1, but below the threshold
    assert decide(strategy, 0.65) == [Order(TK, "yes", D("0.45"), "taker")]
    assert decide(strategy, 0.65, config=BacktestConfig(taker_fallback=False)) == [Order(TK, "yes", D("0.41"), "maker")]
    assert decide(strategy, 0.30) == []  # NO edge 0.10 but p is above no_below
    assert decide(strategy, 0.15) == [Order(TK, "no", D("0.40"), "taker")]
    with pytest.raises(ValueError, match="no_below < yes_above"):
        SignalThresholdStrategy(yes_above=0.3, no_below=0.4)


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.70, [Order(TK, "yes", D("0.40"), "maker")]),  # an up move is likely: join the bid
        (0.60, [Order(TK, "yes", D("0.40"), "maker")]),  # the threshold itself counts
        (0.30, [Order(TK, "no", D("0.45"), "maker")]),  # a down move is likely: offer at the ask
        (0.55, []),  # not sure enough either way
        (None, []),  # no model output at t (no mid)
    ],
)
def test_move_signal_rests_at_the_touch_on_the_favoured_side(p, expected):
    assert decide(MoveSignalStrategy(up_above=0.6), p) == expected


def test_move_signal_keeps_a_matching_order_and_enters_only_when_flat():
    resting = OpenOrder(3, "yes", D("0.40"), 10, T0)
    assert decide(MoveSignalStrategy(), 0.7, open_orders=[resting]) == []
    # The touch moved: re-post at the new bid.
    assert decide(MoveSignalStrategy(), 0.7, "0.41", "0.45", open_orders=[resting]) == [
        Cancel(3),
        Order(TK, "yes", D("0.41"), "maker"),
    ]
    # A position is open (part of the entry filled): pull the rest, leave the position to the exit rule.
    assert decide(MoveSignalStrategy(), 0.7, open_orders=[resting], position=4) == [Cancel(3)]
    assert decide(MoveSignalStrategy(), 0.7, "0.005", "0.45") == []  # the bid's cent floor is off the grid
    assert decide(MoveSignalStrategy(), 0.7, room=0) == []
    with pytest.raises(ValueError, match=r"\(0.5, 1\]"):
        MoveSignalStrategy(up_above=0.5)


def test_random_strategy_is_seeded_per_day_and_skips_one_sided_books():
    def orders(seed, p_bid="0.40"):
        strategy = RandomStrategy(seed, rate=0.5)
        strategy.start_day((TK,), T0)
        return [list(strategy.on_minute(view(0.5, p_bid))) for _ in range(40)]

    assert orders(1) == orders(1) and orders(1) != orders(2)
    flat = [o for minute in orders(1) for o in minute]
    assert {(o.side, o.liquidity) for o in flat} == {
        ("yes", "maker"),
        ("yes", "taker"),
        ("no", "maker"),
        ("no", "taker"),
    }
    assert {o.yes_price for o in flat} == {D("0.40"), D("0.45")}  # the touch, joined or crossed
    assert all(m == [] for m in orders(1, p_bid=None))


# ---------------------------------------------------------------------------------------------
# A strategy that knows nothing, over many simulated city-days
#
# Statement. For a random *taker* the side is a fair coin drawn independently of the market, and
# the order fills at the touch known when it is drawn. Writing m for the mid known then, a fill
# of c contracts on side s (+1 YES, -1 NO) at YES-price x has gross PnL s * (Y - x) * c
# = s * (Y - m) * c + s * (m - x) * c. The first term has mean exactly 0 (E[s] = 0, s independent
# of Y and m; position limits never bind at this rate, asserted below); the second is minus the
# half-spread, known per fill. So E[gross - markout] = 0 with markout = sum s * (m - x) * c < 0,
# i.e. gross ~ -half-spread costs, and net = gross - fees ~ -(half-spread + fees) < 0. Tolerance:
# |mean_day(gross - markout)| <= 3 standard errors of the per-day values (a 0.3% false-alarm rate
# for a correct engine at ~normal day means; 210 days).
#
# A random *maker* is different: it is filled by the simulator's takers at its resting price, so
# it earns what those takers give up. They are calibrated to the real KXHIGHCHI tape, where takers
# lose about a cent a contract to settlement (core.market_stats.taker_markout_cents): informed, but
# less than the half-spread. What must hold is that knowing nothing earns no more than the flow gives
# up: gross per contract <= what the day's takers lose per contract + 3 SE (one-sided). An engine
# with optimistic fills (filled at the touch without the adverse selection the flow carries, or at
# prices the flow never traded) would fail it.

N_DAYS = 210  # 7 cities x 30 days


@pytest.fixture(scope="module")
def many_days():
    return [sim_backtest_day(day) for day in sim_days(N_DAYS, start=date(2025, 6, 1))]


def _per_day(result) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    days = result.days
    gross, fees, net = (days[c].cast(pl.Float64).to_numpy() for c in ("gross", "fees", "net"))
    markout = []
    for r in result.results:
        f = r.fills
        sign = np.where(f["side"].to_numpy() == "yes", 1.0, -1.0)
        mid = f["mid_after"].to_numpy()  # for a taker fill: the mid known at the minute it filled
        markout.append(float((sign * (mid - f["yes_price"].cast(pl.Float64).to_numpy()) * f["count"].to_numpy()).sum()))
    return gross, fees, net, np.array(markout)


def _se(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / np.sqrt(len(x)))


def test_random_taker_loses_the_half_spread_and_the_fees(many_days):
    result = run_many(many_days, RandomStrategy(seed=1, rate=0.01, taker_share=1.0), BacktestConfig())
    gross, fees, net, markout = _per_day(result)
    assert all(not r.metrics["rejected"] and r.metrics["n_clipped"] == 0 for r in result.results)
    assert all(r.metrics["n_maker_fills"] == 0 for r in result.results)
    assert np.mean([r.metrics["n_fills"] for r in result.results]) > 30
    # Observed (seed 1): gross -6.68 +- 1.52 a day, markout -6.41, fees 5.22, net -11.89 +- 1.52.
    residual = gross - markout
    assert abs(residual.mean()) <= 3 * _se(residual)
    assert markout.mean() < 0 and fees.mean() > 0
    assert net.mean() + 3 * _se(net) < 0
    np.testing.assert_allclose(net, gross - fees, atol=1e-9)


def _takers_give_up(n_days: int, start: date) -> float:
    """Dollars per contract the simulated takers lose to settlement over the same city-days."""
    lost = contracts = 0.0
    for day in sim_days(n_days, start=start):
        won = (day.trade_market == day.winner).astype(float)
        sign = np.where(day.trade_taker_yes, 1.0, -1.0)
        lost -= float((sign * (won - day.trade_price / 100.0) * day.trade_count).sum())
        contracts += float(day.trade_count.sum())
    return lost / contracts


def test_random_maker_earns_no_more_than_the_takers_give_up(many_days):
    days = [replace(day, fees=MAKER_FEES) for day in many_days]
    result = run_many(days, RandomStrategy(seed=1, rate=0.01, taker_share=0.0), BacktestConfig())
    gross, fees, net, _ = _per_day(result)
    assert all(r.metrics["n_fills"] == r.metrics["n_maker_fills"] for r in result.results)
    assert sum(r.metrics["n_fills"] for r in result.results) > 10 * N_DAYS
    contracts = np.array([float(r.fills["count"].sum()) for r in result.results])
    per_contract = gross.sum() / contracts.sum()
    se = _se(gross) * N_DAYS / contracts.sum()
    # Observed (seed 1): gross 0.018 +- 0.008 a contract (1.96 a day, maker fees 0.40); the takers
    # give up 0.015.
    assert per_contract <= _takers_give_up(N_DAYS, date(2025, 6, 1)) + 3 * se
    assert fees.mean() > 0 and net.mean() < gross.mean()


def test_fused_edge_with_an_oracle_signal_makes_money_on_both_sides():
    # p_yes = the settled outcome: every YES bought is the winner and every NO a loser, so a sign
    # slip anywhere between signal, side, price, fee and settlement shows up as a losing day.
    days = []
    for day in sim_days(7, start=date(2025, 8, 1)):
        inputs = sim_backtest_day(day)
        oracle = inputs.signal.with_columns(
            pl.col("ticker").replace_strict(inputs.settled_yes, return_dtype=pl.Float64).alias("p_yes")
        )
        days.append(replace(inputs, signal=oracle))
    result = run_many(days, FusedEdgeStrategy(D("0.02")), BacktestConfig())
    assert all(r.pnl.net > 0 for r in result.results)
    fills = pl.concat([r.fills for r in result.results])
    assert set(fills["side"]) == {"yes", "no"} and set(fills["liquidity"]) == {"maker", "taker"}
    assert (fills["payout"] == 1).all()
