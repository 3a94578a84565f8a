"""One decision cycle: reconcile, kill switch, decide, walls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kalshi_wx.core.backtest import BacktestConfig, FeeSchedule, FusedEdgeStrategy
from kalshi_wx.core.live.cycle import CycleInputs, decide_cycle
from kalshi_wx.core.live.intents import CancelIntent, PlaceIntent, RestingOrder
from kalshi_wx.core.live.reconcile import LiveState
from kalshi_wx.core.live.walls import RiskLimits
from kalshi_wx.core.payloads.kalshi_orders import Fill

TS = datetime(2026, 6, 10, 17, 0, tzinfo=UTC)
A, B = "KXHIGHNY-26JUN10-B81.5", "KXHIGHNY-26JUN10-B83.5"
D = Decimal


def inputs(**change) -> CycleInputs:
    base = dict(
        strategy=FusedEdgeStrategy(D("0.02")),
        ts=TS,
        minute=720,
        quotes={A: (D("0.27"), D("0.30")), B: (D("0.40"), D("0.42"))},
        p_yes={A: 0.60, B: 0.41},  # A: take YES at the ask; B: no edge on either side
        close_time={A: TS + timedelta(hours=12), B: TS + timedelta(hours=12)},
        event_of={A: "KXHIGHNY-26JUN10", B: "KXHIGHNY-26JUN10"},
        fees=FeeSchedule("quadratic", D(1)),
        config=BacktestConfig(order_size=5),
        limits=RiskLimits(),
        exchange=LiveState(),
    )
    return CycleInputs(**{**base, **change})


def resting(order_id: str, ticker: str, remaining: int) -> RestingOrder:
    return RestingOrder(order_id, f"c-{order_id}", ticker, "yes", D("0.20"), remaining, TS - timedelta(minutes=5))


def test_first_cycle_starts_from_the_exchange_and_sends_what_passes_the_walls():
    decision = decide_cycle(inputs())
    assert decision.halted is None and decision.reconciliation.ok
    (order,) = decision.to_send
    assert isinstance(order, PlaceIntent) and (order.ticker, order.side, order.yes_price, order.count) == (
        A, "yes", D("0.30"), 5,
    )  # fmt: skip
    assert decision.intents == decision.to_send and decision.wall_hits == ()


def test_a_wall_blocks_and_says_why():
    decision = decide_cycle(inputs(limits=RiskLimits(max_contracts_per_market=4)))
    assert decision.to_send == () and len(decision.intents) == 1
    (hit,) = decision.wall_hits
    assert hit.wall == "per_market" and "allow 5 contracts; the limit is 4" in hit.reason


def test_an_unexplained_position_halts_before_deciding():
    decision = decide_cycle(inputs(previous=LiveState({A: 5}), exchange=LiveState({A: 8})))
    assert decision.to_send == () and decision.intents == ()
    assert decision.halted == (
        f"reconciliation failed, trading halted: {A}: expected a position of 5 contracts, the exchange has 8"
    )


def test_fills_since_the_last_cycle_explain_the_move():
    fill = Fill("f1", "o1", A, "bid", D("0.30"), 3, False, D(0), TS, None, {})
    previous = LiveState({A: 5}, {"o1": resting("o1", A, 3)})
    decision = decide_cycle(inputs(previous=previous, fills_since=[fill], exchange=LiveState({A: 8})))
    assert decision.halted is None and len(decision.to_send) == 1


def test_the_kill_switch_cancels_every_resting_order_and_decides_nothing():
    exchange = LiveState({A: 5}, {"o2": resting("o2", B, 4), "o1": resting("o1", A, 3)})
    decision = decide_cycle(inputs(exchange=exchange, kill_switch="KALSHI_WX_KILL=1"))
    assert decision.intents == ()
    assert decision.to_send == (
        CancelIntent("kill_switch", TS, A, "o1"),
        CancelIntent("kill_switch", TS, B, "o2"),
    )
    assert decision.halted is not None and "KALSHI_WX_KILL=1" in decision.halted
