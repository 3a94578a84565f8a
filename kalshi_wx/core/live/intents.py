"""Intents from a strategy's signals: the backtest's strategies, asked about the live minute.

The live path does not have its own trading rules. ``decide`` lays the live state out as the
``MinuteView`` the backtest engine hands a strategy (``core.backtest.interface``), with the rooms
computed by the backtest's own ``position_room``, calls the same ``Strategy.on_minute`` (e.g.
``FusedEdgeStrategy``), and turns what it returns into intents: a V2 order with a deterministic
``client_order_id`` per ``Order``, and the exchange order id per ``Cancel``. So a live decision and a
backtest decision on the same minute cannot differ by construction.

Sizing: an order's count is ``Order.count`` or ``config.order_size``, cut to the position room, as
the backtest engine cuts it; the backtest's exposure budget is not applied here (the risk walls,
``core.live.walls``, bound what a live order may add).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

from kalshi_wx.core.backtest.book import position_room
from kalshi_wx.core.backtest.interface import (
    BacktestConfig,
    Cancel,
    FeeSchedule,
    Liquidity,
    MarketState,
    MinuteView,
    OpenOrder,
    Order,
    Side,
    Strategy,
    TradePrint,
)
from kalshi_wx.core.live.ids import client_order_id
from kalshi_wx.core.payloads.kalshi_orders import BookSide, CreateOrderRequest
from kalshi_wx.core.payloads.kalshi_orders import Order as ExchangeOrder


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """One of our orders resting on the exchange, in strategy terms (the contract it buys)."""

    order_id: str
    client_order_id: str | None
    ticker: str
    side: Side
    yes_price: Decimal
    remaining: int
    placed_at: datetime

    @classmethod
    def from_exchange(cls, order: ExchangeOrder) -> RestingOrder:
        side: Side = "yes" if order.side == "bid" else "no"
        return cls(
            order.order_id,
            order.client_order_id,
            order.ticker,
            side,
            order.yes_price,
            order.remaining_count,
            order.created_time,
        )


@dataclass(frozen=True, slots=True)
class LiveMarket:
    """One market at the decision minute: the book, the signal, and our position and resting orders."""

    ticker: str
    bid: Decimal | None  # YES bid; None = empty side
    ask: Decimal | None
    p_yes: float | None
    position: int  # net YES contracts
    resting: tuple[RestingOrder, ...] = ()
    position_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlaceIntent:
    """Buy ``count`` contracts of ``side`` at YES-terms ``yes_price``, as maker (post-only) or taker (IOC)."""

    strategy: str
    decision_ts: datetime
    ticker: str
    side: Side
    yes_price: Decimal
    count: int
    liquidity: Liquidity
    client_order_id: str

    @property
    def book_side(self) -> BookSide:
        """Buying YES is a bid on the YES book; buying NO an ask at the same YES price."""
        return "bid" if self.side == "yes" else "ask"

    def request(self) -> CreateOrderRequest:
        maker = self.liquidity == "maker"
        return CreateOrderRequest(
            ticker=self.ticker,
            client_order_id=self.client_order_id,
            side=self.book_side,
            price=self.yes_price,
            count=self.count,
            time_in_force="good_till_canceled" if maker else "immediate_or_cancel",
            post_only=maker,
        )


@dataclass(frozen=True, slots=True)
class CancelIntent:
    strategy: str
    decision_ts: datetime
    ticker: str
    order_id: str


Intent: TypeAlias = PlaceIntent | CancelIntent


def intent_key(side: Side, liquidity: Liquidity, yes_price: Decimal, count: int) -> str:
    """What an order decides, as the text its ``client_order_id`` is derived from."""
    return f"buy:{side}:{liquidity}:{yes_price.quantize(Decimal('0.0001'))}:{count}"


def decide(
    strategy: Strategy,
    *,
    ts: datetime,
    minute: int,
    markets: Sequence[LiveMarket],
    fees: FeeSchedule,
    config: BacktestConfig,
    exposure: Decimal = Decimal(0),
    prints: Iterable[TradePrint] = (),
) -> list[Intent]:
    """Ask ``strategy`` about minute ``ts`` (index ``minute`` of the day's grid) and return its intents.

    Markets are handed to the strategy in ticker order, as the backtest does. Resting orders get
    the integer handles the strategy interface uses; a ``Cancel`` is mapped back to the exchange id.
    """
    ordered = sorted(markets, key=lambda m: m.ticker)
    if len({m.ticker for m in ordered}) != len(ordered):
        raise ValueError("decide: a ticker is listed twice")
    handles: dict[int, RestingOrder] = {}
    states = []
    for m in ordered:
        opens = []
        for order in sorted(m.resting, key=lambda o: (o.placed_at, o.order_id)):
            handle = len(handles) + 1
            handles[handle] = order
            opens.append(OpenOrder(handle, order.side, order.yes_price, order.remaining, order.placed_at))
        room_yes, room_no = position_room(
            config.max_position_per_market, m.position, ((o.side, o.remaining) for o in m.resting)
        )
        states.append(
            MarketState(m.ticker, m.bid, m.ask, m.p_yes, m.position, room_yes, room_no, tuple(opens), m.position_since)
        )
    view = MinuteView(ts, minute, tuple(states), tuple(prints), exposure, fees, config)
    name = getattr(strategy, "name", type(strategy).__name__)
    by_ticker = {s.ticker: s for s in states}
    intents: list[Intent] = []
    for item in strategy.on_minute(view):
        if isinstance(item, Cancel):
            cancelled = handles.get(item.order_id)
            if cancelled is None:
                raise ValueError(f"{name} cancelled unknown order handle {item.order_id}")
            intents.append(CancelIntent(name, ts, cancelled.ticker, cancelled.order_id))
        elif isinstance(item, Order):
            state = by_ticker.get(item.ticker)
            if state is None:
                raise ValueError(f"{name} ordered unknown ticker {item.ticker!r}")
            wanted = config.order_size if item.count is None else item.count
            count = min(wanted, state.room_yes if item.side == "yes" else state.room_no)
            if count <= 0:
                continue
            key = intent_key(item.side, item.liquidity, item.yes_price, count)
            cid = client_order_id(name, item.ticker, ts, key)
            intents.append(PlaceIntent(name, ts, item.ticker, item.side, item.yes_price, count, item.liquidity, cid))
        else:
            raise TypeError(f"{name} returned {item!r}; expected Order or Cancel")
    return intents
