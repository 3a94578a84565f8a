"""Risk walls: rules every live order passes, outside and after the strategy.

Each wall is a plain function of the order, the account's state and the limits that returns None
(passes) or a one-line reason naming the ticker and the numbers. ``check_order`` runs them in
``WALLS`` order and reports the first that blocks; ``apply_walls`` screens a cycle's intents one
after another, counting each accepted order into the state the next one is checked against, so ten
orders cannot each pass a limit that together they break. Cancels always pass: they only take risk
off.

Sizes are worst case: resting orders count as if they filled. Limits come from ``config/live.yaml``
(``RiskLimits``); money is ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import Field
from pydantic.dataclasses import dataclass as settings_dataclass

from kalshi_wx.core.config_types import SETTINGS_CONFIG, Money, Whole
from kalshi_wx.core.live.intents import CancelIntent, Intent, PlaceIntent, RestingOrder

ORDER_RATE_WINDOW = timedelta(minutes=1)


@settings_dataclass(frozen=True, config=SETTINGS_CONFIG)
class RiskLimits:
    max_contracts_per_market: Annotated[Whole, Field(ge=0)] = 50  # |net YES| per market, resting counted as filled
    max_contracts_per_event: Annotated[Whole, Field(ge=0)] = 150  # sum over the event's markets of the above
    max_contracts_per_day: Annotated[Whole, Field(ge=0)] = 300  # contracts bought today, filled or resting
    max_open_orders: Annotated[Whole, Field(ge=0)] = 12
    max_daily_loss: Annotated[Money, Field(ge=0)] = Decimal("100")  # dollars, today's realized + marked PnL
    max_orders_per_minute: Annotated[Whole, Field(ge=0)] = 10
    price_collar: Annotated[Money, Field(ge=0)] = Decimal("0.05")  # dollars a limit may lie outside [bid, ask]
    no_trade_minutes_before_close: Annotated[Whole, Field(ge=0)] = 30


@dataclass(frozen=True)
class AccountState:
    """What the walls look at, as of ``now``; built by the cycle from the reconciled exchange state."""

    now: datetime
    close_time: Mapping[str, datetime]  # per ticker
    event_of: Mapping[str, str]  # ticker -> event ticker
    touch: Mapping[str, tuple[Decimal | None, Decimal | None]]  # ticker -> (YES bid, YES ask)
    positions: Mapping[str, int] = field(default_factory=dict)  # net YES contracts
    resting: tuple[RestingOrder, ...] = ()
    contracts_today: int = 0  # contracts bought today in fills
    daily_pnl: Decimal = Decimal(0)  # negative is a loss
    recent_orders: tuple[datetime, ...] = ()  # when orders were sent
    kill_switch: str | None = None  # why trading is stopped; None = not engaged


@dataclass(frozen=True, slots=True)
class WallHit:
    wall: str
    client_order_id: str
    ticker: str
    reason: str

    def __str__(self) -> str:
        return f"{self.wall}: {self.reason}"


Wall = Callable[[PlaceIntent, AccountState, RiskLimits], str | None]


def _kill_switch(o: PlaceIntent, s: AccountState, limits: RiskLimits) -> str | None:
    return f"kill switch engaged ({s.kill_switch}); no order on {o.ticker}" if s.kill_switch else None


def _near_close(o: PlaceIntent, s: AccountState, limits: RiskLimits) -> str | None:
    close = s.close_time.get(o.ticker)
    if close is None:
        return f"{o.ticker}: close time unknown, so the no-trade window cannot be checked"
    cutoff = close - timedelta(minutes=limits.no_trade_minutes_before_close)
    if s.now >= cutoff:
        return f"{o.ticker} closes at {close:%H:%M}Z; no trading from {cutoff:%H:%M}Z ({s.now:%H:%M}Z now)"
    return None


def _daily_loss(o: PlaceIntent, s: AccountState, limits: RiskLimits) -> str | None:
    if -s.daily_pnl >= limits.max_daily_loss:
        return f"today's PnL {s.daily_pnl} has reached the daily loss limit -{limits.max_daily_loss}"
    return None


def _order_rate(o: PlaceIntent, s: AccountState, limits: RiskLimits) -> str | None:
    recent = sum(1 for t in s.recent_orders if s.now - t < ORDER_RATE_WINDOW)
    if recent >= limits.max_orders_per_minute:
        return f"{recent} orders in the last minute; the limit is {limits.max_orders_per_minute}"
    return None


def _open_orders(o: PlaceIntent, s: AccountState, limits: RiskLimits) -> str | None:
    if len(s.resting) >= limits.max_open_orders:
        return f"{len(s.resting)} orders resting; the limit is {limits.max_open_orders}"
    return None


def _collar(o: PlaceIntent, s: AccountState, limits: RiskLimits) -> str | None:
    bid, ask = s.touch.get(o.ticker, (None, None))
    if bid is None and ask is None:
        return f"{o.ticker}: empty book, no touch to collar the price {o.yes_price} against"
    low, high = (bid if bid is not None else ask), (ask if ask is not None else bid)
    assert low is not None and high is not None
    lo, hi = low - limits.price_collar, high + limits.price_collar
    if not lo <= o.yes_price <= hi:
        return f"{o.ticker}: price {o.yes_price} is outside the collar [{lo}, {hi}] around bid {bid} / ask {ask}"
    return None


def _worst(position: int, resting: Sequence[RestingOrder]) -> int:
    """The largest |net YES| the market can reach if every resting order fills."""
    yes = sum(r.remaining for r in resting if r.side == "yes")
    no = sum(r.remaining for r in resting if r.side == "no")
    return max(abs(position + yes), abs(position - no))


def _after(o: PlaceIntent, s: AccountState, ticker: str) -> int:
    mine = [r for r in s.resting if r.ticker == ticker]
    if ticker == o.ticker:
        mine.append(RestingOrder("?", o.client_order_id, o.ticker, o.side, o.yes_price, o.count, s.now))
    return _worst(s.positions.get(ticker, 0), mine)


def _per_market(o: PlaceIntent, s: AccountState, limits: RiskLimits) -> str | None:
    worst = _after(o, s, o.ticker)
    if worst > limits.max_contracts_per_market:
        return (
            f"{o.ticker}: {o.count} more would allow {worst} contracts; the limit is {limits.max_contracts_per_market}"
        )
    return None


def _per_event(o: PlaceIntent, s: AccountState, limits: RiskLimits) -> str | None:
    event = s.event_of.get(o.ticker)
    if event is None:
        return f"{o.ticker}: event unknown, so the per-event limit cannot be checked"
    tickers = {t for t, e in s.event_of.items() if e == event}
    total = sum(_after(o, s, t) for t in tickers)
    if total > limits.max_contracts_per_event:
        limit = limits.max_contracts_per_event
        return f"{event}: {o.count} more on {o.ticker} would allow {total} contracts; the limit is {limit}"
    return None


def _per_day(o: PlaceIntent, s: AccountState, limits: RiskLimits) -> str | None:
    total = s.contracts_today + sum(r.remaining for r in s.resting) + o.count
    if total > limits.max_contracts_per_day:
        limit = limits.max_contracts_per_day
        return f"{o.count} more on {o.ticker} would make {total} contracts today; the limit is {limit}"
    return None


WALLS: tuple[tuple[str, Wall], ...] = (
    ("kill_switch", _kill_switch),
    ("near_close", _near_close),
    ("daily_loss", _daily_loss),
    ("order_rate", _order_rate),
    ("open_orders", _open_orders),
    ("price_collar", _collar),
    ("per_market", _per_market),
    ("per_event", _per_event),
    ("per_day", _per_day),
)


def check_order(order: PlaceIntent, state: AccountState, limits: RiskLimits) -> WallHit | None:
    """The first wall that blocks ``order``, or None when it may be sent."""
    for name, wall in WALLS:
        reason = wall(order, state, limits)
        if reason is not None:
            return WallHit(name, order.client_order_id, order.ticker, reason)
    return None


def apply_walls(
    intents: Sequence[Intent], state: AccountState, limits: RiskLimits
) -> tuple[list[Intent], list[WallHit], AccountState]:
    """Screen a cycle's intents in order: (what may be sent, what was blocked and why, the state after).

    Cancels come first and always pass; each accepted order is counted as resting and as sent
    before the next is checked.
    """
    cancels = [i for i in intents if isinstance(i, CancelIntent)]
    cancelled = {c.order_id for c in cancels}
    state = replace(state, resting=tuple(r for r in state.resting if r.order_id not in cancelled))
    accepted: list[Intent] = list(cancels)
    hits: list[WallHit] = []
    for intent in intents:
        if not isinstance(intent, PlaceIntent):
            continue
        hit = check_order(intent, state, limits)
        if hit is not None:
            hits.append(hit)
            continue
        accepted.append(intent)
        placed = RestingOrder(
            intent.client_order_id,
            intent.client_order_id,
            intent.ticker,
            intent.side,
            intent.yes_price,
            intent.count,
            state.now,
        )
        state = replace(state, resting=(*state.resting, placed), recent_orders=(*state.recent_orders, state.now))
    return accepted, hits, state


KILL_SWITCH_ENV = "KALSHI_WX_KILL"


def kill_switch_reason(env_value: str | None, file_present: bool, file_name: str) -> str | None:
    """Why the kill switch is engaged: ``KALSHI_WX_KILL`` set to anything but empty/0, or the kill file exists."""
    if env_value is not None and env_value.strip() not in ("", "0"):
        return f"{KILL_SWITCH_ENV}={env_value.strip()}"
    if file_present:
        return f"kill file {file_name} exists"
    return None
