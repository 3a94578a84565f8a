"""The simulator's trading side: one account's orders matched against the simulated market.

``MatchingEngine`` holds the account (cash, positions, orders, fills, settlements) and matches its
orders against what the simulated exchange (``exchange.CityDay``) shows at the server's clock:

- An order that crosses takes the simulated maker's book as ``GET /markets/{t}/orderbook`` serves
  it at that moment, best level first, at each level's price; what it took stays taken until the
  maker requotes (the next minute's book). Taker fees apply.
- What does not cross rests (good-till-canceled), is cancelled (immediate-or-cancel), or cancels
  the whole order (fill-or-kill: all or nothing). A post-only order that would cross is refused.
- Resting orders fill, in price-time priority (best price first, then the oldest), from the
  simulated takers' trades that print at or through their price, up to each print's whole
  contracts, and in full at their own price when the maker's quote crosses them (a quote that
  could only be posted by trading with them). The engine catches up with the market on every
  request, so a crossing quote is seen if it is still there when the account next calls. Maker
  fees apply where the series' fee type has them.
- Fees: each fill's exact ``core.fees.trading_fee`` is accrued per order (and maker / taker), the
  order's fee is that sum rounded up to the cent, and each fill is charged the increase: what
  Kalshi's per-order fee accumulator converges to for retail accounts (reference s8).
- Positions are net YES contracts (buying NO while long YES closes YES, the pair redeemed for $1).
  Cash pays each opening contract's cost at once and must cover it and the open orders' cost.
  Markets settle at ``settlement_ts``: a YES pays $1 per contract held, a NO likewise.
- A ``client_order_id`` seen before is refused with 409 ``order_already_exists``, as the exchange
  refuses it, so a retried or replayed decision cannot place a second order.

``order_requests`` counts every request to the order endpoints (``/portfolio/events/orders...``,
any method but GET): what the dry-run and replay tests count at the server. ``serve`` answers
``/portfolio/*`` with the REST wire format of reference/kalshi_api.md ("Portfolio", V2 orders).
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

from kalshi_wx.core.backtest.interface import FeeSchedule
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.fees import CENT, trading_fee
from kalshi_wx.core.payloads.kalshi_orders import (
    AmendOrderRequest,
    CancelOrderResponse,
    CreateOrderRequest,
    CreateOrderResponse,
    DecreaseOrderRequest,
)
from kalshi_wx.sources.kalshi.auth import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, PublicKey, verify_signature
from kalshi_wx.sources.loopback import Request, Response
from kalshi_wx.sources.sim import kalshi_wire
from kalshi_wx.sources.sim.common import SimConfig, cents_to_dollars, decimal_dollars, epoch_us_to_iso, iso_z
from kalshi_wx.sources.sim.exchange import CityDay, UnknownTicker, find_market
from kalshi_wx.sources.sim.params import ApiError, bad_request, error_response, not_found, page

ORDERS = "/portfolio/events/orders"
_ONE = Decimal(1)
_ZERO = Decimal(0)
_EXACT = Decimal("1E-12")  # a fee's rounding step when it is accrued unrounded


@dataclass
class SimOrder:
    order_id: str
    client_order_id: str
    ticker: str
    side: str  # bid | ask on the YES book
    price: int  # YES cents
    initial: int
    created_us: int
    filled: int = 0
    status: str = "resting"
    maker_fee: Decimal = _ZERO
    taker_fee: Decimal = _ZERO
    maker_raw: Decimal = _ZERO  # unrounded fees accrued so far
    taker_raw: Decimal = _ZERO
    updated_us: int = 0

    @property
    def remaining(self) -> int:
        return self.initial - self.filled if self.status == "resting" else 0

    def payload(self) -> dict[str, Any]:
        outcome = "yes" if self.side == "bid" else "no"
        return {
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "ticker": self.ticker,
            "book_side": self.side,
            "outcome_side": outcome,
            "side": outcome,
            "action": "buy",
            "type": "limit",
            "status": self.status,
            "yes_price_dollars": cents_to_dollars(self.price),
            "no_price_dollars": cents_to_dollars(100 - self.price),
            "initial_count_fp": f"{self.initial}.00",
            "fill_count_fp": f"{self.filled}.00",
            "remaining_count_fp": f"{self.remaining}.00",
            "taker_fees_dollars": decimal_dollars(self.taker_fee),
            "maker_fees_dollars": decimal_dollars(self.maker_fee),
            "created_time": _iso_us(self.created_us),
            "last_update_time": _iso_us(self.updated_us or self.created_us),
        }


@dataclass
class _Position:
    contracts: int = 0  # net YES
    cost: Decimal = _ZERO  # cash paid for the open contracts
    realized: Decimal = _ZERO
    fees: Decimal = _ZERO
    traded: Decimal = _ZERO
    yes_cost: Decimal = _ZERO
    no_cost: Decimal = _ZERO
    settled: bool = False


@dataclass
class MatchingEngine:
    """One simulated account trading the simulated markets; thread-safe; ``serve`` answers ``/portfolio``."""

    config: SimConfig
    balance: Decimal = Decimal("1000")
    public_key: PublicKey | None = None
    # Per series, a fee schedule other than the one ``GET /series`` shows (to test maker fees).
    fee_overrides: dict[str, FeeSchedule] = field(default_factory=dict)
    order_requests: int = 0
    orders: dict[str, SimOrder] = field(default_factory=dict)
    fills: list[dict[str, Any]] = field(default_factory=list)
    settlements: list[dict[str, Any]] = field(default_factory=list)
    _positions: dict[str, _Position] = field(default_factory=dict)
    _by_client_id: dict[str, str] = field(default_factory=dict)
    _taken: dict[tuple[str, int, str, int], int] = field(default_factory=dict)  # maker liquidity we took
    _seen_us: int | None = None
    _world: SimConfig | None = None  # the config at the last ``advance``: what is listed then
    _seq: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- the account, as of a moment -------------------------------------------------------------

    def position(self, ticker: str) -> int:
        with self._lock:
            return self._positions.get(ticker, _Position()).contracts

    def advance(self, now: datetime) -> None:
        """Apply everything the simulated market did up to ``now``: prints, quotes, closes, settlements."""
        with self._lock:
            self._world = _at(self.config, now)
            now_us = _us(now)
            since = self._seen_us if self._seen_us is not None else now_us
            if now_us < since:
                return
            days = {id(d): d for d in (self._day(o.ticker)[0] for o in self.orders.values() if o.status == "resting")}
            for day in days.values():
                self._fill_from_prints(day, since, now_us)
            for order in [o for o in self.orders.values() if o.status == "resting"]:
                day, i = self._day(order.ticker)
                if now >= day.close_time:
                    order.status, order.updated_us = "canceled", _us(day.close_time)
                    continue
                bid, ask = _touch(self.config, day, i, now)
                crossed = (order.side == "bid" and ask is not None and ask <= order.price) or (
                    order.side == "ask" and bid is not None and bid >= order.price
                )
                if crossed:
                    self._fill(order, order.remaining, order.price, maker=True, ts_us=now_us)
            self._settle(now)
            self._seen_us = now_us

    def _fill_from_prints(self, day: CityDay, since_us: int, now_us: int) -> None:
        lo = int(day.trade_slice(since_us).stop)
        hi = int(day.trade_slice(now_us).stop)
        for j in range(lo, hi):
            ticker = day.markets[int(day.trade_market[j])].ticker
            price = int(day.trade_price[j])
            left = int(day.trade_count[j]) // 100
            # A YES taker lifts asks at or below its price; a NO taker hits bids at or above it.
            side = "ask" if bool(day.trade_taker_yes[j]) else "bid"
            queue = [
                o
                for o in self.orders.values()
                if o.status == "resting"
                and o.ticker == ticker
                and o.side == side
                and (o.price <= price if side == "ask" else o.price >= price)
            ]
            queue.sort(key=lambda o: (o.price if side == "ask" else -o.price, o.created_us))
            for order in queue:
                if left <= 0:
                    break
                take = min(left, order.remaining)
                self._fill(order, take, order.price, maker=True, ts_us=int(day.trade_us[j]))
                left -= take

    def _settle(self, now: datetime) -> None:
        for ticker, pos in self._positions.items():
            if pos.settled:
                continue
            day, i = self._day(ticker)
            if now < day.settlement_ts:
                continue
            yes_won = i == day.winner
            payout = Decimal(max(pos.contracts, 0)) if yes_won else Decimal(max(-pos.contracts, 0))
            self.balance += payout
            pos.realized += payout - pos.cost
            self.settlements.append(
                {
                    "ticker": ticker,
                    "event_ticker": day.event_ticker,
                    "market_result": "yes" if yes_won else "no",
                    "yes_count_fp": f"{max(pos.contracts, 0)}.00",
                    "no_count_fp": f"{max(-pos.contracts, 0)}.00",
                    "yes_total_cost_dollars": decimal_dollars(pos.yes_cost),
                    "no_total_cost_dollars": decimal_dollars(pos.no_cost),
                    "revenue": int(payout * 100),
                    "value": 100 if yes_won else 0,
                    "settled_time": iso_z(day.settlement_ts),
                    "fee_cost": decimal_dollars(pos.fees),
                }
            )
            pos.contracts, pos.cost, pos.settled = 0, _ZERO, True

    # -- matching ------------------------------------------------------------------------------

    def _day(self, ticker: str) -> tuple[CityDay, int]:
        try:
            return find_market(self._world or self.config, ticker)
        except UnknownTicker as exc:
            raise not_found(str(exc)) from None

    def _fees(self, day: CityDay) -> tuple[str, Decimal]:
        override = self.fee_overrides.get(day.city.series)
        if override is not None:
            return override.fee_type, override.fee_multiplier
        # The schedule GET /series serves for every simulated weather series.
        market = (self._world or self.config).market
        return market.fee_type, Decimal(str(market.fee_multiplier))

    def _fill(self, order: SimOrder, count: int, price: int, *, maker: bool, ts_us: int) -> None:
        if count <= 0:
            return
        day, _ = self._day(order.ticker)
        fee_type, multiplier = self._fees(day)
        p = Decimal(price) / 100
        # Each fill's exact fee is accrued per order and liquidity; the order's fee is that sum rounded up
        # to the cent, and each fill is charged the increase (Kalshi's per-order fee accumulator).
        raw = trading_fee(fee_type, multiplier, count, p, maker=maker, precision=_EXACT)
        if maker:
            before, order.maker_raw = order.maker_fee, order.maker_raw + raw
            order.maker_fee = order.maker_raw.quantize(CENT, rounding=ROUND_CEILING)
            fee = order.maker_fee - before
        else:
            before, order.taker_raw = order.taker_fee, order.taker_raw + raw
            order.taker_fee = order.taker_raw.quantize(CENT, rounding=ROUND_CEILING)
            fee = order.taker_fee - before
        order.filled += count
        order.updated_us = ts_us
        if order.filled == order.initial:
            order.status = "executed"
        pos = self._positions.setdefault(order.ticker, _Position())
        signed = count if order.side == "bid" else -count
        held = pos.contracts
        closing = min(count, max(-held, 0) if signed > 0 else max(held, 0))
        opening = count - closing
        unit_cost = p if signed > 0 else _ONE - p  # what one contract of the side bought costs
        # Closing: the new contract and the one held against it are redeemed for $1 together.
        avg_cost = pos.cost / abs(held) if held else _ZERO
        cash = closing * (_ONE - unit_cost) - opening * unit_cost - fee
        pos.realized += closing * (_ONE - unit_cost - avg_cost)
        pos.cost += opening * unit_cost - closing * avg_cost
        pos.contracts += signed
        pos.fees += fee
        pos.traded += count * unit_cost
        if signed > 0:
            pos.yes_cost += count * unit_cost
        else:
            pos.no_cost += count * unit_cost
        self.balance += cash
        self._seq += 1
        self.fills.append(
            {
                "fill_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{order.order_id}/{self._seq}")),
                "trade_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{order.order_id}/{self._seq}")),
                "order_id": order.order_id,
                "ticker": order.ticker,
                "market_ticker": order.ticker,
                "book_side": order.side,
                "outcome_side": "yes" if order.side == "bid" else "no",
                "side": "yes" if order.side == "bid" else "no",
                "action": "buy",
                "count_fp": f"{count}.00",
                "yes_price_dollars": cents_to_dollars(price),
                "no_price_dollars": cents_to_dollars(100 - price),
                "is_taker": not maker,
                "fee_cost": decimal_dollars(fee),
                "created_time": _iso_us(ts_us),
                "ts": ts_us // 1_000_000,
            }
        )

    def _opposite_levels(self, day: CityDay, i: int, side: str, now: datetime) -> list[tuple[int, int]]:
        """(YES cents, whole contracts) a ``side`` order can take now, best first, net of what we took."""
        world = _at(self.config, now)
        book = kalshi_wire.orderbook_payload(world, day, i, 0)["orderbook_fp"]
        bars = day.bars_done(min(now, day.close_time))
        ticker = day.markets[i].ticker
        if side == "bid":  # takes YES asks: NO bids at q are YES asks at 1 - q
            levels = [(100 - _cents(p), _whole(c)) for p, c in book["no_dollars"]]
            levels.sort()
        else:  # takes YES bids
            levels = [(_cents(p), _whole(c)) for p, c in book["yes_dollars"]]
            levels.sort(reverse=True)
        return [(p, c - self._taken.get((ticker, bars, side, p), 0)) for p, c in levels]

    def _resting_cost(self) -> Decimal:
        total = _ZERO
        for o in self.orders.values():
            if o.status == "resting":
                unit = Decimal(o.price) / 100 if o.side == "bid" else _ONE - Decimal(o.price) / 100
                total += unit * o.remaining
        return total

    def create(self, request: CreateOrderRequest, now: datetime) -> CreateOrderResponse:
        with self._lock:
            self.advance(now)
            if request.client_order_id in self._by_client_id:
                raise ApiError(
                    409,
                    "order_already_exists",
                    f"an order with client_order_id {request.client_order_id} already exists "
                    f"({self._by_client_id[request.client_order_id]})",
                )
            day, i = self._day(request.ticker)
            if day.status(now) != "active" or now < day.open_time:
                raise ApiError(400, "market_closed", f"market {request.ticker} is not open for trading")
            if request.reduce_only:
                raise bad_request("reduce_only", "is not supported by the simulator")
            price = _cents(str(request.price))
            if Decimal(price) / 100 != request.price:
                raise bad_request("price", f"{request.price} is not on the market's cent grid (linear_cent)")
            levels = self._opposite_levels(day, i, request.side, now)
            crosses = [(p, c) for p, c in levels if c > 0 and (p <= price if request.side == "bid" else p >= price)]
            if request.post_only and crosses:
                raise ApiError(400, "post_only_cross", f"post-only order at {request.price} would cross the book")
            available = sum(c for _, c in crosses)
            if request.time_in_force == "fill_or_kill" and available < request.count:
                crosses = []
            unit = request.price if request.side == "bid" else _ONE - request.price
            if unit * request.count > self.balance - self._resting_cost():
                raise ApiError(400, "insufficient_balance", f"balance {self.balance} cannot cover the order")
            now_us = _us(now)
            order = SimOrder(
                order_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"sim-order/{request.client_order_id}")),
                client_order_id=request.client_order_id,
                ticker=request.ticker,
                side=request.side,
                price=price,
                initial=request.count,
                created_us=now_us,
            )
            self.orders[order.order_id] = order
            self._by_client_id[request.client_order_id] = order.order_id
            bars = day.bars_done(min(now, day.close_time))
            taken_cost, taken = _ZERO, 0
            for level_price, size in crosses:
                take = min(size, order.initial - order.filled)
                if take <= 0:
                    break
                key = (request.ticker, bars, request.side, level_price)
                self._taken[key] = self._taken.get(key, 0) + take
                self._fill(order, take, level_price, maker=False, ts_us=now_us)
                taken_cost += Decimal(level_price) / 100 * take
                taken += take
            if order.status == "resting" and request.time_in_force != "good_till_canceled":
                order.status, order.updated_us = "canceled", now_us
            average = (taken_cost / taken).quantize(Decimal("0.0001")) if taken else None
            return CreateOrderResponse(
                order.order_id,
                order.client_order_id,
                order.filled,
                order.remaining,
                average,
                (order.taker_fee / taken).quantize(Decimal("0.0001")) if taken else None,
                now_us // 1000,
            )

    def cancel(self, order_id: str, now: datetime) -> CancelOrderResponse:
        with self._lock:
            self.advance(now)
            order = self.orders.get(order_id)
            if order is None:
                raise not_found(f"order {order_id} not found")
            if order.status != "resting":
                raise ApiError(404, "not_found", f"order {order_id} is {order.status}, not resting")
            reduced = order.remaining
            order.status, order.updated_us = "canceled", _us(now)
            return CancelOrderResponse(order.order_id, order.client_order_id, reduced)

    def cancel_all(self, now: datetime) -> list[CancelOrderResponse]:
        with self._lock:
            self.advance(now)
            resting = [o.order_id for o in self.orders.values() if o.status == "resting"]
            return [self.cancel(order_id, now) for order_id in resting]

    def amend(self, order_id: str, request: AmendOrderRequest, now: datetime) -> SimOrder:
        """A new price or total count: the order loses its time priority unless only the count went down."""
        with self._lock:
            self.advance(now)
            order = self.orders.get(order_id)
            if order is None or order.status != "resting":
                raise not_found(f"order {order_id} is not resting")
            if request.ticker != order.ticker or request.side != order.side:
                raise bad_request("ticker", "an amend keeps the order's ticker and side")
            if request.count < order.filled + 1:
                raise bad_request("count", f"{request.count} is not above the {order.filled} already filled")
            price = _cents(str(request.price))
            day, i = self._day(order.ticker)
            levels = self._opposite_levels(day, i, order.side, now)
            if any(c > 0 and (p <= price if order.side == "bid" else p >= price) for p, c in levels):
                raise ApiError(
                    400, "invalid_order", "the simulator amends resting orders only to prices that do not cross"
                )
            if price != order.price or request.count > order.initial:
                order.created_us = _us(now)
            order.price, order.initial, order.updated_us = price, request.count, _us(now)
            if request.updated_client_order_id:
                order.client_order_id = request.updated_client_order_id
                self._by_client_id[request.updated_client_order_id] = order.order_id
            return order

    def decrease(self, order_id: str, request: DecreaseOrderRequest, now: datetime) -> SimOrder:
        with self._lock:
            self.advance(now)
            order = self.orders.get(order_id)
            if order is None or order.status != "resting":
                raise not_found(f"order {order_id} is not resting")
            target = order.remaining - request.reduce_by if request.reduce_by is not None else request.reduce_to
            assert target is not None
            order.initial = order.filled + max(0, min(target, order.remaining))
            order.updated_us = _us(now)
            if order.remaining == 0:
                order.status = "canceled"
            return order

    # -- HTTP ------------------------------------------------------------------------------------

    def serve(self, world: SimConfig, req: Request, path: str) -> Response:
        """Answer ``req`` for ``path`` (below ``/trade-api/v2``, starting ``/portfolio/``) at ``world.now``."""
        if path.startswith(ORDERS) and req.method != "GET":
            with self._lock:
                self.order_requests += 1
        problem = self._auth_problem(req)
        if problem:
            return error_response(ApiError(401, "authentication_error", problem))
        try:
            return Response.json(self._route(world.now, req, path))
        except ApiError as exc:
            return error_response(exc)
        except PayloadError as exc:
            return error_response(ApiError(400, "invalid_parameters", str(exc)))

    def _auth_problem(self, req: Request) -> str | None:
        if self.public_key is None:
            return None
        ts = req.headers.get(HEADER_TIMESTAMP.lower())
        signature = req.headers.get(HEADER_SIGNATURE.lower())
        if not req.headers.get(HEADER_KEY.lower()) or not ts or not signature or not ts.isdigit():
            return "missing or malformed KALSHI-ACCESS-* headers"
        if not verify_signature(
            self.public_key, timestamp_ms=ts, method=req.method, path=req.path, signature=signature
        ):
            return "invalid signature"
        return None

    def _route(self, now: datetime, req: Request, path: str) -> dict[str, Any]:
        method = req.method
        if method == "GET":
            with self._lock:
                self.advance(now)
                return self._read(req, path)
        body = _body(req)
        if path == ORDERS and method == "POST":
            return self.create(CreateOrderRequest.from_wire(body), now).to_wire()
        if path == ORDERS and method == "DELETE":
            return {"orders": [c.to_wire() for c in self.cancel_all(now)]}
        if path == f"{ORDERS}/batched" and method == "POST":
            items = body.get("orders") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise bad_request("orders", "expected an array of orders")
            return {"orders": [self._batch_one(item, now) for item in items]}
        if path == f"{ORDERS}/batched" and method == "DELETE":
            ids = body.get("ids") if isinstance(body, dict) else None
            if not isinstance(ids, list):
                raise bad_request("ids", "expected an array of order ids")
            return {"orders": [self.cancel(str(order_id), now).to_wire() for order_id in ids]}
        if (match := re.fullmatch(rf"{ORDERS}/([^/]+)", path)) and method == "DELETE":
            return self.cancel(match[1], now).to_wire()
        if (match := re.fullmatch(rf"{ORDERS}/([^/]+)/amend", path)) and method == "POST":
            return {"order": self.amend(match[1], AmendOrderRequest.from_wire(body), now).payload()}
        if (match := re.fullmatch(rf"{ORDERS}/([^/]+)/decrease", path)) and method == "POST":
            return {"order": self.decrease(match[1], DecreaseOrderRequest.from_wire(body), now).payload()}
        raise ApiError(405, "method_not_allowed", f"no route for {method} /trade-api/v2{path}")

    def _batch_one(self, item: Any, now: datetime) -> dict[str, Any]:
        cid = item.get("client_order_id") if isinstance(item, dict) else None
        try:
            return {
                "client_order_id": cid,
                "order": self.create(CreateOrderRequest.from_wire(item), now).to_wire(),
                "error": None,
            }
        except ApiError as exc:
            return {"client_order_id": cid, "order": None, "error": {"code": exc.code, "message": exc.message}}
        except PayloadError as exc:
            return {"client_order_id": cid, "order": None, "error": {"code": "invalid_parameters", "message": str(exc)}}

    def _read(self, req: Request, path: str) -> dict[str, Any]:
        ticker = req.arg("ticker")
        if path == "/portfolio/balance":
            cents = int(self.balance * 100)
            # The simulator values open contracts at what they cost.
            portfolio = int(sum((p.cost for p in self._positions.values()), _ZERO) * 100)
            return {
                "balance": cents,
                "balance_dollars": decimal_dollars(self.balance),
                "portfolio_value": portfolio,
                "updated_ts": int(self._seen_us or 0) // 1_000_000,
            }
        if path == "/portfolio/positions":
            rows = [
                self._position_payload(t, p)
                for t, p in sorted(self._positions.items())
                if (ticker is None or t == ticker) and (p.contracts != 0 or req.arg("count_filter") != "position")
            ]
            rows_page, cursor = page(req, rows, default_limit=100, max_limit=1000)
            return {"market_positions": rows_page, "event_positions": [], "cursor": cursor}
        if path == "/portfolio/orders":
            status = req.arg("status")
            orders = [
                o.payload()
                for o in sorted(self.orders.values(), key=lambda o: o.created_us)
                if (ticker is None or o.ticker == ticker) and (status is None or o.status == status)
            ]
            orders_page, cursor = page(req, orders, default_limit=100, max_limit=1000)
            return {"orders": orders_page, "cursor": cursor}
        if match := re.fullmatch(r"/portfolio/orders/([^/]+)", path):
            order = self.orders.get(match[1])
            if order is None:
                raise not_found(f"order {match[1]} not found")
            return {"order": order.payload()}
        if path == "/portfolio/fills":
            order_id = req.arg("order_id")
            fills = [
                f
                for f in self.fills
                if (ticker is None or f["ticker"] == ticker) and (order_id is None or f["order_id"] == order_id)
            ]
            fills_page, cursor = page(req, fills, default_limit=100, max_limit=1000)
            return {"fills": fills_page, "cursor": cursor}
        if path == "/portfolio/settlements":
            rows = [s for s in self.settlements if ticker is None or s["ticker"] == ticker]
            rows_page, cursor = page(req, rows, default_limit=100, max_limit=1000)
            return {"settlements": rows_page, "cursor": cursor}
        raise not_found(f"no route for GET /trade-api/v2{path}")

    @staticmethod
    def _position_payload(ticker: str, p: _Position) -> dict[str, Any]:
        return {
            "ticker": ticker,
            "position_fp": f"{p.contracts}.00",
            "market_exposure_dollars": decimal_dollars(p.cost),
            "realized_pnl_dollars": decimal_dollars(p.realized),
            "fees_paid_dollars": decimal_dollars(p.fees),
            "total_traded_dollars": decimal_dollars(p.traded),
        }


def _touch(config: SimConfig, day: CityDay, i: int, now: datetime) -> tuple[int | None, int | None]:
    """The maker's YES bid and ask (cents) at ``now``; None for an empty side."""
    bars = day.bars_done(min(now, day.close_time))
    if bars <= 0:
        return None, None
    bid, ask = int(day.bid[i, bars - 1]), int(day.ask[i, bars - 1])
    return (bid if bid > 0 else None), (ask if ask < 100 else None)


def _at(config: SimConfig, now: datetime) -> SimConfig:
    return config if config.now == now else replace(config, now=now)


def _body(req: Request) -> Any:
    try:
        return req.json()
    except (ValueError, UnicodeDecodeError):
        raise bad_request("body", "is not JSON") from None


def _cents(text: str) -> int:
    value = Decimal(text) * 100
    return int(value.to_integral_value())


def _whole(count: str) -> int:
    return int(Decimal(count))


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _iso_us(epoch_us: int) -> str:
    return epoch_us_to_iso(epoch_us)
