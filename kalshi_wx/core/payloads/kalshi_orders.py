"""Kalshi order and portfolio messages (reference/kalshi_api.md "Portfolio", "Create / cancel orders: V2").

One typed structure per wire message, parsed at the edge: the REST client hands each JSON object to
a ``parse_*`` function (or builds a request and sends ``to_wire()``), and everything past that works
with the structures. Prices are ``Decimal`` YES-terms dollars and counts whole contracts (``int``)
end to end: a fixed-point count with a fraction (``"2.50"``) is refused, because the order path
trades whole contracts. The simulator parses the request bodies it receives with the same
``from_wire`` the client's ``to_wire`` is checked against, so both sides agree on one shape.

V2 orders are bids and asks on the YES book: buying YES is a bid at p, buying NO an ask at p (the
NO contract costs 1 - p). Shapes the reference does not spell out for V2 (amend, decrease, the
batch and cancel-all answers) follow the V1 SDK's field names with the V2 price and count strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeAlias, cast

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.fixed_point import ONE, ZERO, parse_count, parse_dollars, parse_price
from kalshi_wx.core.timestamps import parse_time

BookSide = Literal["bid", "ask"]
TimeInForce = Literal["fill_or_kill", "good_till_canceled", "immediate_or_cancel"]
OrderStatus = Literal["resting", "canceled", "executed"]
BOOK_SIDES: tuple[BookSide, ...] = ("bid", "ask")
TIMES_IN_FORCE: tuple[TimeInForce, ...] = ("fill_or_kill", "good_till_canceled", "immediate_or_cancel")
ORDER_STATUSES: tuple[OrderStatus, ...] = ("resting", "canceled", "executed")
PRICE_PLACES = Decimal("0.0001")  # requests accept 2-4 decimals (reference s3)
CLIENT_ORDER_ID_MAX = 64
JsonObject: TypeAlias = dict[str, Any]


def price_text(price: Decimal) -> str:
    """A YES-terms price as the 4-decimal dollar string requests carry: ``Decimal("0.45")`` -> ``"0.4500"``."""
    return str(price.quantize(PRICE_PLACES))


def count_text(count: int) -> str:
    """A whole contract count as the fixed-point string requests carry: ``10`` -> ``"10"``."""
    return str(count)


class _Obj:
    """Reads one JSON object's fields; errors name the source, the ticker (once known) and the field."""

    __slots__ = ("obj", "source", "ticker")

    def __init__(self, obj: Any, source: str):
        if not isinstance(obj, Mapping):
            raise PayloadError(source, f"expected a JSON object, got {type(obj).__name__}")
        self.obj: Mapping[str, Any] = obj
        self.source = source
        self.ticker: str | None = None

    def fail(self, message: str, name: str | None = None) -> PayloadError:
        return PayloadError(self.source, message, field=name, ticker=self.ticker)

    def text(self, name: str) -> str:
        value = self.obj.get(name)
        if not isinstance(value, str) or not value:
            raise self.fail(f"expected a non-empty string, got {value!r}", name)
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.obj.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(f"expected a string, got {value!r}", name)
        return value

    def choice(self, name: str, allowed: Sequence[str]) -> str:
        value = self.text(name)
        if value not in allowed:
            raise self.fail(f"{value!r} is not one of {', '.join(allowed)}", name)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.obj.get(name, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(f"expected true or false, got {value!r}", name)
        return value

    def integer(self, name: str, *, required: bool = True) -> int | None:
        value = self.obj.get(name)
        if value is None:
            if required:
                raise self.fail("required field is missing", name)
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"expected an integer, got {value!r}", name)
        return int(value)

    def count(self, name: str, *, signed: bool = False, required: bool = True) -> int | None:
        """A fixed-point count string (``"10.00"``) as whole contracts; a fraction is refused."""
        value = self.obj.get(name)
        if value is None or value == "":
            if required:
                raise self.fail("required field is missing", name)
            return None
        if signed:
            number = parse_dollars(value, source=self.source, field=name, ticker=self.ticker)
        else:
            number = parse_count(value, source=self.source, field=name, ticker=self.ticker)
        if number != number.to_integral_value():
            raise self.fail(f"{value!r} is not a whole number of contracts (the order path trades whole ones)", name)
        return int(number)

    def dollars(self, name: str, *, required: bool = True) -> Decimal | None:
        value = self.obj.get(name)
        if value is None or value == "":
            if required:
                raise self.fail("required field is missing", name)
            return None
        return parse_dollars(value, source=self.source, field=name, ticker=self.ticker)

    def price(self, name: str, *, required: bool = True) -> Decimal | None:
        value = self.obj.get(name)
        if value is None or value == "":
            if required:
                raise self.fail("required field is missing", name)
            return None
        return parse_price(value, source=self.source, field=name, ticker=self.ticker)

    def time(self, name: str, *, required: bool = True) -> datetime | None:
        when = parse_time(self.obj.get(name), source=self.source, field=name, ticker=self.ticker)
        if when is None and required:
            raise self.fail("required field is missing", name)
        return when

    def cents(self, name: str) -> Decimal:
        """An integer-cents money field (balance, settlement revenue) as Decimal dollars."""
        value = self.integer(name)
        assert value is not None
        return Decimal(value) / 100


def _check_price(price: Decimal, where: str, name: str = "price") -> None:
    if not isinstance(price, Decimal) or not price.is_finite():
        raise PayloadError(where, f"expected a Decimal price, got {price!r}", field=name)
    if not ZERO < price < ONE:
        raise PayloadError(where, f"price {price} is outside (0, 1)", field=name)
    if price != price.quantize(PRICE_PLACES):
        raise PayloadError(where, f"price {price} has more than 4 decimals", field=name)


def _check_count(count: int, where: str, name: str = "count") -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise PayloadError(where, f"expected a whole number of contracts >= 1, got {count!r}", field=name)


# --- requests ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateOrderRequest:
    """``POST /portfolio/events/orders``: a limit order on the YES book.

    ``post_only`` rests or is rejected (never takes); ``reduce_only`` is accepted only with
    immediate-or-cancel, ``expiration_ts`` only with good-till-canceled (reference, V2 body).
    """

    ticker: str
    client_order_id: str
    side: BookSide
    price: Decimal
    count: int
    time_in_force: TimeInForce
    post_only: bool = False
    reduce_only: bool = False
    expiration_ts: int | None = None

    def __post_init__(self) -> None:
        where = f"order {self.client_order_id or '?'} on {self.ticker or '?'}"
        if not self.ticker:
            raise PayloadError(where, "empty", field="ticker")
        if not self.client_order_id or len(self.client_order_id) > CLIENT_ORDER_ID_MAX:
            raise PayloadError(where, f"must be 1-{CLIENT_ORDER_ID_MAX} characters", field="client_order_id")
        if self.side not in BOOK_SIDES:
            raise PayloadError(where, f"{self.side!r} is not bid or ask", field="side")
        if self.time_in_force not in TIMES_IN_FORCE:
            raise PayloadError(where, f"{self.time_in_force!r} is not one of {TIMES_IN_FORCE}", field="time_in_force")
        _check_price(self.price, where)
        _check_count(self.count, where)
        if self.reduce_only and self.time_in_force != "immediate_or_cancel":
            raise PayloadError(where, "reduce_only needs time_in_force immediate_or_cancel", field="reduce_only")
        if self.post_only and self.time_in_force != "good_till_canceled":
            raise PayloadError(where, "post_only needs time_in_force good_till_canceled", field="post_only")
        if self.expiration_ts is not None and self.time_in_force != "good_till_canceled":
            raise PayloadError(where, "expiration_ts needs time_in_force good_till_canceled", field="expiration_ts")

    def to_wire(self) -> JsonObject:
        body: JsonObject = {
            "ticker": self.ticker,
            "client_order_id": self.client_order_id,
            "side": self.side,
            "price": price_text(self.price),
            "count": count_text(self.count),
            "time_in_force": self.time_in_force,
            "post_only": self.post_only,
            "reduce_only": self.reduce_only,
        }
        if self.expiration_ts is not None:
            body["expiration_time"] = self.expiration_ts
        return body

    @classmethod
    def from_wire(cls, obj: Any, source: str = "create order request") -> CreateOrderRequest:
        r = _Obj(obj, source)
        r.ticker = r.text("ticker")
        price = r.price("price")
        count = r.count("count")
        assert price is not None and count is not None
        return cls(
            ticker=r.ticker,
            client_order_id=r.text("client_order_id"),
            side=cast(BookSide, r.choice("side", BOOK_SIDES)),
            price=price,
            count=count,
            time_in_force=cast(TimeInForce, r.choice("time_in_force", TIMES_IN_FORCE)),
            post_only=r.flag("post_only"),
            reduce_only=r.flag("reduce_only"),
            expiration_ts=r.integer("expiration_time", required=False),
        )


@dataclass(frozen=True, slots=True)
class AmendOrderRequest:
    """``POST /portfolio/events/orders/{id}/amend``: a new price and total count for a resting order."""

    ticker: str
    side: BookSide
    price: Decimal
    count: int
    updated_client_order_id: str | None = None

    def __post_init__(self) -> None:
        where = f"amend on {self.ticker or '?'}"
        if self.side not in BOOK_SIDES:
            raise PayloadError(where, f"{self.side!r} is not bid or ask", field="side")
        _check_price(self.price, where)
        _check_count(self.count, where)

    def to_wire(self) -> JsonObject:
        body: JsonObject = {
            "ticker": self.ticker,
            "side": self.side,
            "price": price_text(self.price),
            "count": count_text(self.count),
        }
        if self.updated_client_order_id is not None:
            body["updated_client_order_id"] = self.updated_client_order_id
        return body

    @classmethod
    def from_wire(cls, obj: Any, source: str = "amend order request") -> AmendOrderRequest:
        r = _Obj(obj, source)
        r.ticker = r.text("ticker")
        price, count = r.price("price"), r.count("count")
        assert price is not None and count is not None
        return cls(
            r.ticker,
            cast(BookSide, r.choice("side", BOOK_SIDES)),
            price,
            count,
            r.optional_text("updated_client_order_id"),
        )


@dataclass(frozen=True, slots=True)
class DecreaseOrderRequest:
    """``POST /portfolio/events/orders/{id}/decrease``: take ``reduce_by`` contracts off, or leave ``reduce_to``."""

    reduce_by: int | None = None
    reduce_to: int | None = None

    def __post_init__(self) -> None:
        if (self.reduce_by is None) == (self.reduce_to is None):
            raise PayloadError("decrease order request", "give exactly one of reduce_by and reduce_to")
        if self.reduce_by is not None:
            _check_count(self.reduce_by, "decrease order request", "reduce_by")
        if self.reduce_to is not None and (isinstance(self.reduce_to, bool) or self.reduce_to < 0):
            raise PayloadError("decrease order request", f"{self.reduce_to!r} is negative", field="reduce_to")

    def to_wire(self) -> JsonObject:
        if self.reduce_by is not None:
            return {"reduce_by": count_text(self.reduce_by)}
        assert self.reduce_to is not None
        return {"reduce_to": count_text(self.reduce_to)}

    @classmethod
    def from_wire(cls, obj: Any, source: str = "decrease order request") -> DecreaseOrderRequest:
        r = _Obj(obj, source)
        reduce_to = r.obj.get("reduce_to")
        return cls(
            reduce_by=r.count("reduce_by", required=False),
            reduce_to=None if reduce_to is None else int(parse_count(reduce_to, source=source, field="reduce_to")),
        )


# --- responses --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateOrderResponse:
    """The answer to a create: how much filled at once and what rests."""

    order_id: str
    client_order_id: str
    fill_count: int
    remaining_count: int
    average_fill_price: Decimal | None
    average_fee_paid: Decimal | None
    ts_ms: int

    def to_wire(self) -> JsonObject:
        return {
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "fill_count": f"{self.fill_count}.00",
            "remaining_count": f"{self.remaining_count}.00",
            "average_fill_price": None if self.average_fill_price is None else str(self.average_fill_price),
            "average_fee_paid": None if self.average_fee_paid is None else str(self.average_fee_paid),
            "ts_ms": self.ts_ms,
        }


def parse_create_order_response(obj: Any, source: str = "kalshi POST /portfolio/events/orders") -> CreateOrderResponse:
    r = _Obj(obj, source)
    fill, remaining, ts_ms = r.count("fill_count"), r.count("remaining_count"), r.integer("ts_ms")
    assert fill is not None and remaining is not None and ts_ms is not None
    return CreateOrderResponse(
        order_id=r.text("order_id"),
        client_order_id=r.text("client_order_id"),
        fill_count=fill,
        remaining_count=remaining,
        average_fill_price=r.dollars("average_fill_price", required=False),
        average_fee_paid=r.dollars("average_fee_paid", required=False),
        ts_ms=ts_ms,
    )


@dataclass(frozen=True, slots=True)
class CancelOrderResponse:
    """One cancelled order: ``reduced_by`` is what was still resting."""

    order_id: str
    client_order_id: str | None
    reduced_by: int

    def to_wire(self) -> JsonObject:
        return {
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "reduced_by": f"{self.reduced_by}.00",
        }


def parse_cancel_order_response(obj: Any, source: str) -> CancelOrderResponse:
    r = _Obj(obj, source)
    reduced = r.count("reduced_by")
    assert reduced is not None
    return CancelOrderResponse(r.text("order_id"), r.optional_text("client_order_id"), reduced)


@dataclass(frozen=True, slots=True)
class Order:
    """An order as ``GET /portfolio/orders`` (and amend / decrease) show it."""

    order_id: str
    client_order_id: str | None
    ticker: str
    side: BookSide
    status: OrderStatus
    yes_price: Decimal
    initial_count: int
    fill_count: int
    remaining_count: int
    created_time: datetime
    raw: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def is_resting(self) -> bool:
        return self.status == "resting" and self.remaining_count > 0


# Pre-V2 orders say outcome side and action instead of the book side (reference s2, Order).
_LEGACY_BOOK_SIDE: Mapping[tuple[str, str], BookSide] = {
    ("yes", "buy"): "bid",
    ("no", "sell"): "bid",
    ("no", "buy"): "ask",
    ("yes", "sell"): "ask",
}


def _book_side(r: _Obj) -> BookSide:
    if r.obj.get("book_side") not in (None, ""):
        return cast(BookSide, r.choice("book_side", BOOK_SIDES))
    outcome = r.obj.get("outcome_side") or r.obj.get("side")
    action = r.obj.get("action") or "buy"
    side = _LEGACY_BOOK_SIDE.get((str(outcome), str(action)))
    if side is None:
        raise r.fail(f"no book_side, and side {outcome!r} with action {action!r} names none", "book_side")
    return side


def parse_order(obj: Any, source: str = "kalshi order") -> Order:
    r = _Obj(obj, source)
    r.ticker = r.text("ticker")
    initial, filled, remaining = r.count("initial_count_fp"), r.count("fill_count_fp"), r.count("remaining_count_fp")
    price, created = r.price("yes_price_dollars"), r.time("created_time")
    assert initial is not None and filled is not None and remaining is not None
    assert price is not None and created is not None
    return Order(
        order_id=r.text("order_id"),
        client_order_id=r.optional_text("client_order_id"),
        ticker=r.ticker,
        side=_book_side(r),
        status=cast(OrderStatus, r.choice("status", ORDER_STATUSES)),
        yes_price=price,
        initial_count=initial,
        fill_count=filled,
        remaining_count=remaining,
        created_time=created,
        raw=r.obj,
    )


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of one of our orders (``GET /portfolio/fills``); ``fee_cost`` is what was charged."""

    fill_id: str
    order_id: str
    ticker: str
    side: BookSide
    yes_price: Decimal
    count: int
    is_taker: bool
    fee_cost: Decimal
    created_time: datetime
    client_order_id: str | None
    raw: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def signed_count(self) -> int:
        """Net YES contracts this fill adds: a bid buys YES, an ask buys NO (sells YES)."""
        return self.count if self.side == "bid" else -self.count


def parse_fill(obj: Any, source: str = "kalshi fill") -> Fill:
    r = _Obj(obj, source)
    r.ticker = r.optional_text("market_ticker") or r.text("ticker")
    fill_id = r.optional_text("fill_id") or r.text("trade_id")
    count, price, fee = r.count("count_fp"), r.price("yes_price_dollars"), r.dollars("fee_cost")
    created = r.time("created_time")
    assert count is not None and price is not None and fee is not None and created is not None
    return Fill(
        fill_id=fill_id,
        order_id=r.text("order_id"),
        ticker=r.ticker,
        side=_book_side(r),
        yes_price=price,
        count=count,
        is_taker=r.flag("is_taker"),
        fee_cost=fee,
        created_time=created,
        client_order_id=r.optional_text("client_order_id"),
        raw=r.obj,
    )


@dataclass(frozen=True, slots=True)
class MarketPosition:
    """Net YES contracts held in one market (negative = NO), and its money so far."""

    ticker: str
    position: int
    market_exposure: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    total_traded: Decimal


def parse_market_position(obj: Any, source: str = "kalshi market position") -> MarketPosition:
    r = _Obj(obj, source)
    r.ticker = r.text("ticker")
    position = r.count("position_fp", signed=True)
    exposure, realized = r.dollars("market_exposure_dollars"), r.dollars("realized_pnl_dollars")
    fees, traded = r.dollars("fees_paid_dollars"), r.dollars("total_traded_dollars")
    assert position is not None and exposure is not None and realized is not None
    assert fees is not None and traded is not None
    return MarketPosition(r.ticker, position, exposure, realized, fees, traded)


@dataclass(frozen=True, slots=True)
class Balance:
    """Cash available (``balance``) and the value of open positions, in dollars (the wire has cents)."""

    balance: Decimal
    portfolio_value: Decimal


def parse_balance(obj: Any, source: str = "kalshi GET /portfolio/balance") -> Balance:
    r = _Obj(obj, source)
    return Balance(r.cents("balance"), r.cents("portfolio_value"))


@dataclass(frozen=True, slots=True)
class Settlement:
    """One market's settlement of our position: ``revenue`` is what it paid out."""

    ticker: str
    event_ticker: str | None
    market_result: str
    yes_count: int
    no_count: int
    yes_total_cost: Decimal
    no_total_cost: Decimal
    revenue: Decimal
    fee_cost: Decimal
    settled_time: datetime


def parse_settlement(obj: Any, source: str = "kalshi settlement") -> Settlement:
    r = _Obj(obj, source)
    r.ticker = r.text("ticker")
    yes, no = r.count("yes_count_fp"), r.count("no_count_fp")
    yes_cost, no_cost = r.dollars("yes_total_cost_dollars"), r.dollars("no_total_cost_dollars")
    fee, settled = r.dollars("fee_cost"), r.time("settled_time")
    assert yes is not None and no is not None and yes_cost is not None and no_cost is not None
    assert fee is not None and settled is not None
    return Settlement(
        ticker=r.ticker,
        event_ticker=r.optional_text("event_ticker"),
        market_result=r.text("market_result"),
        yes_count=yes,
        no_count=no,
        yes_total_cost=yes_cost,
        no_total_cost=no_cost,
        revenue=r.cents("revenue"),
        fee_cost=fee,
        settled_time=settled,
    )


@dataclass(frozen=True, slots=True)
class BatchCreateResult:
    """One order of a batch: the exchange's answer, or its error (code and message)."""

    client_order_id: str | None
    order: CreateOrderResponse | None
    error: str | None


def parse_batch_create_response(obj: Any, source: str) -> list[BatchCreateResult]:
    r = _Obj(obj, source)
    items = r.obj.get("orders")
    if not isinstance(items, list):
        raise r.fail(f"expected an array, got {items!r}", "orders")
    out = []
    for i, item in enumerate(items):
        one = _Obj(item, f"{source} orders[{i}]")
        error = one.obj.get("error")
        order = one.obj.get("order")
        out.append(
            BatchCreateResult(
                client_order_id=one.optional_text("client_order_id"),
                order=None if order is None else parse_create_order_response(order, one.source),
                error=None if error is None else _error_text(error),
            )
        )
    return out


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping):
        return ": ".join(str(error[k]) for k in ("code", "message") if error.get(k))
    return str(error)
