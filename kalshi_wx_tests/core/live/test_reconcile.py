"""The reconciler: the exchange is the truth; what the executor cannot explain halts it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kalshi_wx.core.live.intents import RestingOrder
from kalshi_wx.core.live.reconcile import LiveState, rebuild, reconcile
from kalshi_wx.core.payloads.kalshi_orders import Fill, MarketPosition, Order

NOW = datetime(2026, 6, 10, 17, 0, tzinfo=UTC)
A, B = "KXHIGHNY-26JUN10-B81.5", "KXHIGHNY-26JUN10-B83.5"


def position(ticker: str, n: int) -> MarketPosition:
    zero = Decimal(0)
    return MarketPosition(ticker, n, zero, zero, zero, zero)


def exchange_order(order_id: str, ticker: str, side: str, remaining: int, status: str = "resting") -> Order:
    return Order(order_id, f"c-{order_id}", ticker, side, status, Decimal("0.30"), 10, 10 - remaining,  # type: ignore[arg-type]
                 remaining, NOW, {})  # fmt: skip


def fill(order_id: str, ticker: str, side: str, count: int) -> Fill:
    return Fill(f"f-{order_id}-{count}", order_id, ticker, side, Decimal("0.30"), count, False, Decimal(0), NOW,  # type: ignore[arg-type]
                None, {})  # fmt: skip


def resting(order_id: str, ticker: str, side: str, remaining: int) -> RestingOrder:
    return RestingOrder(order_id, f"c-{order_id}", ticker, side, Decimal("0.30"), remaining, NOW)  # type: ignore[arg-type]


def test_rebuild_takes_nonzero_positions_and_resting_orders_only():
    state = rebuild(
        [position(A, 5), position(B, 0)],
        [exchange_order("o1", A, "ask", 4), exchange_order("o2", B, "bid", 0, "executed"),
         exchange_order("o3", B, "bid", 3, "canceled")],
    )  # fmt: skip
    assert state.positions == {A: 5}
    assert list(state.resting) == ["o1"] and state.resting["o1"].side == "no" and state.resting["o1"].remaining == 4
    with pytest.raises(ValueError, match=f"position in {A} twice"):
        rebuild([position(A, 1), position(A, 2)], [])


def test_fills_explain_the_moves():
    local = LiveState({A: 5}, {"o1": resting("o1", A, "yes", 10), "o2": resting("o2", B, "no", 4)})
    exchange = rebuild([position(A, 9), position(B, -4)], [exchange_order("o1", A, "bid", 6)])
    result = reconcile(local, [fill("o1", A, "bid", 4), fill("o2", B, "ask", 4)], exchange)
    assert result.ok and result.notes == () and result.state == exchange


def test_a_position_nobody_explains_halts():
    local = LiveState({A: 5}, {})
    result = reconcile(local, [], rebuild([position(A, 7)], []))
    assert not result.ok
    assert result.halt_message() == (
        f"reconciliation failed, trading halted: {A}: expected a position of 5 contracts, the exchange has 7"
    )


def test_an_unknown_resting_order_halts_and_a_missing_fill_shows_as_a_count_mismatch():
    local = LiveState({}, {"o1": resting("o1", A, "yes", 10)})
    exchange = rebuild([], [exchange_order("o1", A, "bid", 8), exchange_order("o9", B, "ask", 2)])
    result = reconcile(local, [], exchange)
    assert result.mismatches == (
        f"order o1 on {A}: expected 10 contracts resting, the exchange has 8",
        f"order o9 (c-o9) rests on {B} for 2 no, but this executor does not know it",
    )


def test_orders_the_exchange_cancelled_are_notes_not_mismatches():
    local = LiveState({}, {"o1": resting("o1", A, "yes", 10)})
    result = reconcile(local, [], rebuild([], []))
    assert result.ok and result.notes == (f"order o1 on {A} left the book with 10 unfilled",)
