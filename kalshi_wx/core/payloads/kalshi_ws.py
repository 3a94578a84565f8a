"""Kalshi WebSocket messages (reference/kalshi_api.md s7): one typed structure per wire message.

The transport (``sources/kalshi/ws.py``) decodes each frame's JSON and hands the object to
``parse_message``; everything past that works with the structures below. ``seq`` is read from the
envelope, never from ``msg``. Prices are ``Decimal`` dollars and counts ``Decimal`` contracts
whether a message is fixed-point (``*_dollars`` / ``*_fp`` strings) or legacy (integer cents and
integer counts), so a book built from either format is the same book. Messages the platform acts
on for money (fills, user orders, lifecycle) keep their raw ``msg`` so they can be re-parsed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeAlias

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.fixed_point import ONE, ZERO

Side = Literal["yes", "no"]
PriceLevel: TypeAlias = tuple[Decimal, Decimal]
"""(price in dollars, resting contracts) of one bid level."""

ERROR_CODES: Mapping[int, str] = {
    1: "processing",
    2: "params required",
    3: "channels required",
    4: "sids required",
    5: "unknown command",
    7: "unknown sid",
    8: "unknown channel",
    9: "auth required",
    10: "channel error",
    11: "invalid parameter",
    12: "exactly one sid",
    13: "unsupported action",
}
PUBLIC_CHANNELS = ("orderbook_delta", "ticker", "ticker_v2", "trade", "market_lifecycle_v2", "event_lifecycle")
PRIVATE_CHANNELS = ("fill", "user_orders", "market_positions", "order_group_updates", "communications")
_HUNDRED = Decimal(100)


class WsPayloadError(PayloadError):
    """A WebSocket message that is not the documented shape; names its type, ``sid`` and ``seq``."""

    def __init__(
        self,
        message_type: str,
        sid: int | None,
        seq: int | None,
        problem: str,
        *,
        field: str | None = None,
        ticker: str | None = None,
    ):
        self.message_type, self.sid, self.seq = message_type, sid, seq
        super().__init__(f"kalshi ws {message_type} sid={sid} seq={seq}", problem, field=field, ticker=ticker)


# --- control replies ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscribed:
    """``subscribed``: the server's ``sid`` for one channel of a ``subscribe`` command."""

    id: int | None
    channel: str
    sid: int


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    id: int | None
    sid: int


@dataclass(frozen=True, slots=True)
class Ok:
    """``ok``: the reply to ``update_subscription`` (the markets now on ``sid`` when the server says)."""

    id: int | None
    sid: int | None
    market_tickers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """``type: error``: ``code`` is one of ``ERROR_CODES``; ``id`` is the command it answers."""

    id: int | None
    code: int
    message: str

    @property
    def name(self) -> str:
        return ERROR_CODES.get(self.code, "undocumented code")

    def __str__(self) -> str:
        command = f" to command {self.id}" if self.id is not None else ""
        return f"Kalshi WebSocket error {self.code} ({self.name}){command}: {self.message}"


# --- market data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderbookSnapshot:
    """Every resting bid of one market: YES bids and NO bids (a NO bid at p is a YES ask at 1 - p)."""

    sid: int
    seq: int | None
    market_ticker: str
    yes: tuple[PriceLevel, ...]
    no: tuple[PriceLevel, ...]


@dataclass(frozen=True, slots=True)
class OrderbookDelta:
    """A signed change of the contracts resting at one price of one side."""

    sid: int
    seq: int | None
    market_ticker: str
    side: Side
    price: Decimal
    delta: Decimal
    ts_ms: int | None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class TickerUpdate:
    sid: int
    seq: int | None
    market_ticker: str
    price: Decimal | None
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    yes_bid_size: Decimal | None
    yes_ask_size: Decimal | None
    volume: Decimal | None
    open_interest: Decimal | None
    ts_ms: int | None


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    sid: int
    seq: int | None
    trade_id: str
    market_ticker: str
    yes_price: Decimal
    count: Decimal
    taker_outcome_side: str | None
    taker_book_side: str | None
    ts_ms: int | None


@dataclass(frozen=True, slots=True)
class FillUpdate:
    """One of our fills (private ``fill`` channel); ``post_position`` is signed (negative = NO)."""

    sid: int
    seq: int | None
    trade_id: str
    order_id: str
    market_ticker: str
    is_taker: bool
    yes_price: Decimal
    count: Decimal
    fee_cost: Decimal | None
    outcome_side: str | None
    book_side: str | None
    action: str | None
    post_position: Decimal | None
    client_order_id: str | None
    ts_ms: int | None
    raw: Mapping[str, Any] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class UserOrderUpdate:
    """A change to one of our orders (private ``user_orders`` channel)."""

    sid: int
    seq: int | None
    order_id: str
    market_ticker: str
    status: str
    outcome_side: str | None
    yes_price: Decimal | None
    fill_count: Decimal | None
    remaining_count: Decimal | None
    client_order_id: str | None
    created_ts_ms: int | None
    raw: Mapping[str, Any] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class MarketLifecycle:
    """``market_lifecycle_v2``: created, activated, deactivated, close_date_updated, determined, settled, ..."""

    sid: int
    seq: int | None
    event_type: str
    market_ticker: str
    open_ts: int | None
    close_ts: int | None
    result: str | None
    settled_ts: int | None
    raw: Mapping[str, Any] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A message type this client does not model (``ticker_v2``, ``event_lifecycle``, ...), kept raw."""

    type: str
    sid: int | None
    seq: int | None
    raw: Mapping[str, Any] = field(compare=False, repr=False)


ControlReply: TypeAlias = Subscribed | Unsubscribed | Ok | ErrorReply
DataMessage: TypeAlias = (
    OrderbookSnapshot
    | OrderbookDelta
    | TickerUpdate
    | TradeUpdate
    | FillUpdate
    | UserOrderUpdate
    | MarketLifecycle
    | UnknownMessage
)
WsMessage: TypeAlias = ControlReply | DataMessage


# --- field readers ----------------------------------------------------------------------------------


class _Reader:
    """Reads one message's fields; every error names the message type, sid, seq, ticker and field."""

    __slots__ = ("type", "sid", "seq", "msg", "ticker")

    def __init__(self, message_type: str, sid: int | None, seq: int | None, msg: Mapping[str, Any]):
        self.type, self.sid, self.seq, self.msg = message_type, sid, seq, msg
        self.ticker: str | None = None

    def fail(self, problem: str, field: str | None = None) -> WsPayloadError:
        return WsPayloadError(self.type, self.sid, self.seq, problem, field=field, ticker=self.ticker)

    def text(self, name: str, *, required: bool = True) -> str | None:
        value = self.msg.get(name)
        if value is None or value == "":
            if required:
                raise self.fail("required field is missing", name)
            return None
        if not isinstance(value, str):
            raise self.fail(f"expected a string, got {value!r}", name)
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name)
        assert value is not None  # required=True raised otherwise
        return value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.msg.get(name)
        if value is None:
            if required:
                raise self.fail("required field is missing", name)
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"expected an integer, got {value!r}", name)
        return int(value)

    def flag(self, name: str) -> bool:
        value = self.msg.get(name)
        if not isinstance(value, bool):
            raise self.fail(f"expected true or false, got {value!r}", name)
        return value

    def _decimal(self, value: Any, name: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(f"expected a fixed-point string, got {type(value).__name__} {value!r}", name)
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            raise self.fail(f"not a decimal number: {value!r}", name) from None
        if not parsed.is_finite():
            raise self.fail(f"not a finite number: {value!r}", name)
        return parsed

    def _cents(self, value: Any, name: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"expected integer cents, got {value!r}", name)
        return self._in_unit(Decimal(value) / _HUNDRED, value, name)

    def _in_unit(self, price: Decimal, given: Any, name: str) -> Decimal:
        if not ZERO <= price <= ONE:
            raise self.fail(f"price {given!r} is outside [0, 1] dollars", name)
        return price

    def price(self, dollars: str, cents: str | None, *, required: bool = True) -> Decimal | None:
        """``msg[dollars]`` (a dollar string), else the legacy integer-cent ``msg[cents]``."""
        if self.msg.get(dollars) is not None:
            return self._in_unit(self._decimal(self.msg[dollars], dollars), self.msg[dollars], dollars)
        if cents is not None and self.msg.get(cents) is not None:
            return self._cents(self.msg[cents], cents)
        if required:
            raise self.fail("required field is missing", dollars)
        return None

    def required_price(self, dollars: str, cents: str | None) -> Decimal:
        value = self.price(dollars, cents)
        assert value is not None
        return value

    def count(self, fp: str, legacy: str | None, *, signed: bool = False, required: bool = True) -> Decimal | None:
        """``msg[fp]`` (a fixed-point string), else the legacy integer ``msg[legacy]``."""
        for name in (fp, legacy):
            if name is None or self.msg.get(name) is None:
                continue
            value = self.msg[name]
            if name == legacy and (isinstance(value, bool) or not isinstance(value, int)):
                raise self.fail(f"expected an integer count, got {value!r}", name)
            parsed = self._decimal(value, name)
            if not signed and parsed < 0:
                raise self.fail(f"count {value!r} is negative", name)
            return parsed
        if required:
            raise self.fail("required field is missing", fp)
        return None

    def required_count(self, fp: str, legacy: str | None, *, signed: bool = False) -> Decimal:
        value = self.count(fp, legacy, signed=signed)
        assert value is not None
        return value

    def ts_ms(self) -> int | None:
        """``ts_ms``, else the deprecated whole-second ``ts``."""
        millis = self.integer("ts_ms")
        if millis is not None:
            return millis
        seconds = self.integer("ts")
        return None if seconds is None else seconds * 1000

    def levels(self, side: Side) -> tuple[PriceLevel, ...]:
        """One side of a snapshot: ``<side>_dollars_fp`` / ``<side>_dollars`` pairs, else legacy ``<side>``."""
        for name, legacy in ((f"{side}_dollars_fp", False), (f"{side}_dollars", False), (side, True)):
            if name in self.msg:
                return self._levels(self.msg[name], name, legacy)
        return ()  # an empty side is left out of the message

    def _levels(self, value: Any, name: str, legacy: bool) -> tuple[PriceLevel, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(f"expected a list of [price, count] pairs, got {value!r}", name)
        out = []
        for i, pair in enumerate(value):
            where = f"{name}[{i}]"
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise self.fail(f"expected a [price, count] pair, got {pair!r}", where)
            raw_price, raw_count = pair
            if legacy:
                price = self._cents(raw_price, where)
                if isinstance(raw_count, bool) or not isinstance(raw_count, int):
                    raise self.fail(f"expected an integer count, got {raw_count!r}", where)
            else:
                price = self._in_unit(self._decimal(raw_price, where), raw_price, where)
            count = self._decimal(raw_count, where)
            if count < 0:
                raise self.fail(f"count {raw_count!r} is negative", where)
            out.append((price, count))
        return tuple(out)


# --- parsing ------------------------------------------------------------------------------------------


def _envelope_int(obj: Mapping[str, Any], name: str, message_type: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise WsPayloadError(message_type, None, None, f"envelope {name} is not an integer: {value!r}", field=name)
    return int(value)


def envelope(obj: Any) -> tuple[str, int | None, int | None]:
    """(type, sid, seq) of a decoded message, for logging and sequencing before the body is parsed."""
    if not isinstance(obj, Mapping):
        raise WsPayloadError("?", None, None, f"expected a JSON object, got {type(obj).__name__}")
    message_type = obj.get("type")
    if not isinstance(message_type, str) or not message_type:
        raise WsPayloadError("?", None, None, f"envelope type is missing or not a string: {message_type!r}")
    return message_type, _envelope_int(obj, "sid", message_type), _envelope_int(obj, "seq", message_type)


def _msg(obj: Mapping[str, Any], message_type: str, sid: int | None, seq: int | None) -> Mapping[str, Any]:
    msg = obj.get("msg")
    if not isinstance(msg, Mapping):
        raise WsPayloadError(message_type, sid, seq, f"msg is not an object: {msg!r}", field="msg")
    return msg


def _tickers(value: Any, r: _Reader) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, Sequence) or isinstance(value, str) or not all(isinstance(t, str) for t in value):
        raise r.fail(f"expected a list of tickers, got {value!r}", "market_tickers")
    return tuple(value)


def _control(obj: Mapping[str, Any], message_type: str, sid: int | None, seq: int | None) -> ControlReply:
    command_id = _envelope_int(obj, "id", message_type)
    raw_msg = obj.get("msg")
    msg: Mapping[str, Any] = raw_msg if isinstance(raw_msg, Mapping) else {}
    r = _Reader(message_type, sid, seq, msg)
    if message_type == "error":
        code = r.integer("code", required=True)
        assert code is not None
        return ErrorReply(command_id, code, str(msg.get("msg", "")))
    if message_type == "subscribed":
        inner_sid = r.integer("sid", required=sid is None)
        return Subscribed(command_id, r.required_text("channel"), inner_sid if inner_sid is not None else sid or 0)
    inner = r.integer("sid")
    the_sid = inner if inner is not None else sid
    if message_type == "unsubscribed":
        if the_sid is None:
            raise r.fail("no sid on the envelope or in msg", "sid")
        return Unsubscribed(command_id, the_sid)
    tickers = raw_msg if isinstance(raw_msg, list) else msg.get("market_tickers")
    return Ok(command_id, the_sid, _tickers(tickers, r))


def _data(message_type: str, sid: int, seq: int | None, msg: Mapping[str, Any], raw: Mapping[str, Any]) -> DataMessage:
    r = _Reader(message_type, sid, seq, msg)
    if message_type == "orderbook_delta":
        r.ticker = r.required_text("market_ticker")
        side = r.required_text("side")
        if side not in ("yes", "no"):
            raise r.fail(f"side {side!r} is not yes or no", "side")
        return OrderbookDelta(
            sid,
            seq,
            r.ticker,
            "yes" if side == "yes" else "no",
            r.required_price("price_dollars", "price"),
            r.required_count("delta_fp", "delta", signed=True),
            r.ts_ms(),
            r.text("client_order_id", required=False),
        )
    if message_type == "orderbook_snapshot":
        r.ticker = r.required_text("market_ticker")
        return OrderbookSnapshot(sid, seq, r.ticker, r.levels("yes"), r.levels("no"))
    if message_type == "ticker":
        r.ticker = r.required_text("market_ticker")
        return TickerUpdate(
            sid,
            seq,
            r.ticker,
            r.price("price_dollars", "price", required=False),
            r.price("yes_bid_dollars", "yes_bid", required=False),
            r.price("yes_ask_dollars", "yes_ask", required=False),
            r.count("yes_bid_size_fp", None, required=False),
            r.count("yes_ask_size_fp", None, required=False),
            r.count("volume_fp", "volume", required=False),
            r.count("open_interest_fp", "open_interest", required=False),
            r.ts_ms(),
        )
    if message_type == "trade":
        r.ticker = r.required_text("market_ticker")
        return TradeUpdate(
            sid,
            seq,
            r.required_text("trade_id"),
            r.ticker,
            r.required_price("yes_price_dollars", "yes_price"),
            r.required_count("count_fp", "count"),
            r.text("taker_outcome_side", required=False) or r.text("taker_side", required=False),
            r.text("taker_book_side", required=False),
            r.ts_ms(),
        )
    if message_type == "fill":
        r.ticker = r.required_text("market_ticker")
        return FillUpdate(
            sid,
            seq,
            r.required_text("trade_id"),
            r.required_text("order_id"),
            r.ticker,
            r.flag("is_taker"),
            r.required_price("yes_price_dollars", "yes_price"),
            r.required_count("count_fp", "count"),
            r.count("fee_cost", None, required=False),
            r.text("outcome_side", required=False) or r.text("side", required=False),
            r.text("book_side", required=False),
            r.text("action", required=False),
            r.count("post_position_fp", "post_position", signed=True, required=False),
            r.text("client_order_id", required=False),
            r.ts_ms(),
            raw,
        )
    if message_type == "user_order":
        r.ticker = r.text("ticker", required=False) or r.required_text("market_ticker")
        return UserOrderUpdate(
            sid,
            seq,
            r.required_text("order_id"),
            r.ticker,
            r.required_text("status"),
            r.text("outcome_side", required=False) or r.text("side", required=False),
            r.price("yes_price_dollars", "yes_price", required=False),
            r.count("fill_count_fp", "fill_count", required=False),
            r.count("remaining_count_fp", "remaining_count", required=False),
            r.text("client_order_id", required=False),
            r.integer("created_ts_ms"),
            raw,
        )
    if message_type == "market_lifecycle_v2":
        r.ticker = r.required_text("market_ticker")
        return MarketLifecycle(
            sid,
            seq,
            r.required_text("event_type"),
            r.ticker,
            r.integer("open_ts"),
            r.integer("close_ts"),
            r.text("result", required=False),
            r.integer("settled_ts"),
            raw,
        )
    raise AssertionError(f"unhandled data message type {message_type}")  # _DATA_TYPES lists the branches above


_CONTROL_TYPES = frozenset({"subscribed", "unsubscribed", "ok", "error"})
_DATA_TYPES = frozenset(
    {"orderbook_delta", "orderbook_snapshot", "ticker", "trade", "fill", "user_order", "market_lifecycle_v2"}
)


def parse_message(obj: Any) -> WsMessage:
    """The typed structure of one decoded WebSocket message; ``WsPayloadError`` names what is wrong."""
    message_type, sid, seq = envelope(obj)
    if message_type in _CONTROL_TYPES:
        return _control(obj, message_type, sid, seq)
    if message_type not in _DATA_TYPES:
        return UnknownMessage(message_type, sid, seq, obj)
    if sid is None:
        raise WsPayloadError(message_type, None, seq, "data message without a sid", field="sid")
    return _data(message_type, sid, seq, _msg(obj, message_type, sid, seq), obj)
