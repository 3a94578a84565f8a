"""The reconciler: the exchange's positions and resting orders are the truth.

At start the executor's state is ``rebuild``-t from the exchange alone. Every cycle after that,
``reconcile`` compares what the executor believes (its state after the last cycle, moved on by the
fills the exchange reported since) with what the exchange now says. Any difference it cannot
explain is a mismatch, and a mismatch halts trading with a message naming the ticker or order and
both numbers: someone else is trading the account, an order was placed whose answer was lost, or
a fill was missed. Orders that left the book without a fill we saw (the exchange cancels resting
orders at the close) are reported as notes, not mismatches: the exchange state is taken as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kalshi_wx.core.live.intents import RestingOrder
from kalshi_wx.core.payloads.kalshi_orders import Fill, MarketPosition, Order


@dataclass(frozen=True)
class LiveState:
    """Net YES contracts per ticker (no zero entries) and resting orders by order id."""

    positions: Mapping[str, int] = field(default_factory=dict)
    resting: Mapping[str, RestingOrder] = field(default_factory=dict)

    def position(self, ticker: str) -> int:
        return self.positions.get(ticker, 0)

    def resting_on(self, ticker: str) -> tuple[RestingOrder, ...]:
        return tuple(o for o in self.resting.values() if o.ticker == ticker)


@dataclass(frozen=True)
class Reconciliation:
    state: LiveState  # the exchange's state: what the next decision starts from
    mismatches: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def halt_message(self) -> str:
        return "reconciliation failed, trading halted: " + "; ".join(self.mismatches)


def rebuild(positions: Iterable[MarketPosition], orders: Iterable[Order]) -> LiveState:
    """The state the exchange reports: non-zero positions and the orders still resting."""
    held = {}
    for p in positions:
        if p.ticker in held:
            raise ValueError(f"the exchange listed a position in {p.ticker} twice")
        if p.position:
            held[p.ticker] = p.position
    resting = {o.order_id: RestingOrder.from_exchange(o) for o in orders if o.is_resting}
    return LiveState(held, resting)


def expected(local: LiveState, fills: Sequence[Fill]) -> LiveState:
    """``local`` moved on by ``fills``: positions change by each fill, resting orders shrink by theirs."""
    positions = dict(local.positions)
    filled: dict[str, int] = {}
    for f in fills:
        positions[f.ticker] = positions.get(f.ticker, 0) + f.signed_count
        filled[f.order_id] = filled.get(f.order_id, 0) + f.count
    resting = {}
    for order_id, order in local.resting.items():
        left = order.remaining - filled.get(order_id, 0)
        if left > 0:
            resting[order_id] = RestingOrder(
                order.order_id, order.client_order_id, order.ticker, order.side, order.yes_price, left, order.placed_at
            )
    return LiveState({t: n for t, n in positions.items() if n}, resting)


def reconcile(local: LiveState, fills: Sequence[Fill], exchange: LiveState) -> Reconciliation:
    """Compare ``local`` advanced by ``fills`` (those since the last cycle) with ``exchange``."""
    want = expected(local, fills)
    mismatches, notes = [], []
    for ticker in sorted(set(want.positions) | set(exchange.positions)):
        ours, theirs = want.position(ticker), exchange.position(ticker)
        if ours != theirs:
            mismatches.append(f"{ticker}: expected a position of {ours} contracts, the exchange has {theirs}")
    for order_id, order in sorted(exchange.resting.items()):
        known = want.resting.get(order_id)
        if known is None:
            mismatches.append(
                f"order {order_id} ({order.client_order_id or 'no client id'}) rests on {order.ticker} "
                f"for {order.remaining} {order.side}, but this executor does not know it"
            )
        elif known.remaining != order.remaining:
            mismatches.append(
                f"order {order_id} on {order.ticker}: expected {known.remaining} contracts resting, "
                f"the exchange has {order.remaining}"
            )
    for order_id, order in sorted(want.resting.items()):
        if order_id not in exchange.resting:
            notes.append(f"order {order_id} on {order.ticker} left the book with {order.remaining} unfilled")
    return Reconciliation(exchange, tuple(mismatches), tuple(notes))
