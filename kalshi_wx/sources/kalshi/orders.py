"""The order path: V2 create / cancel / amend / decrease / batch, and typed portfolio reads.

Every request is signed and goes through ``KalshiClient.request``; every answer is parsed into the
structures of ``core.payloads.kalshi_orders`` right here, so callers never see raw JSON.

Placing an order is never blindly retried. ``sources/http.py`` re-sends a POST only when it
certainly did not reach the exchange (a 429, a refused connection). When the outcome is unknown
(a timeout after the body was sent, a 5xx, an answer cut off), ``create_order`` sends the *same*
body once more: the ``client_order_id`` is derived from the decision, and the exchange refuses a
second order with an id it has seen (409 ``order_already_exists``). So the second attempt either
places the order (the first never arrived) or is refused, which proves the first landed; the order
is then looked up by its ``client_order_id`` and returned as a replay. A 409 on the first attempt
(a decision replayed after a crash) is resolved the same way. If the outcome is still unknown,
``OrderStateUnknown`` is raised and the caller must reconcile before deciding again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.live.intents import CancelIntent, Intent, PlaceIntent
from kalshi_wx.core.payloads.kalshi_orders import (
    AmendOrderRequest,
    Balance,
    BatchCreateResult,
    CancelOrderResponse,
    CreateOrderRequest,
    DecreaseOrderRequest,
    Fill,
    MarketPosition,
    Order,
    Settlement,
    parse_balance,
    parse_batch_create_response,
    parse_cancel_order_response,
    parse_create_order_response,
    parse_fill,
    parse_market_position,
    parse_order,
    parse_settlement,
)
from kalshi_wx.sources.http import SourceUnavailableError
from kalshi_wx.sources.kalshi.client import KalshiClient, KalshiHTTPError

log = logging.getLogger(__name__)

ORDERS_PATH = "/portfolio/events/orders"
BATCH_PATH = f"{ORDERS_PATH}/batched"
DUPLICATE_STATUS = 409
DUPLICATE_CODE = "order_already_exists"


class OrderStateUnknown(Exception):
    """An order request whose outcome could not be established; reconcile before trading again."""

    def __init__(self, client_order_id: str, ticker: str, reason: str):
        self.client_order_id, self.ticker = client_order_id, ticker
        super().__init__(
            f"order {client_order_id} on {ticker}: outcome unknown ({reason}); reconcile with the exchange before "
            "placing anything else"
        )


@dataclass(frozen=True, slots=True)
class Placement:
    """What became of a create: the exchange's order and how much filled at once.

    ``replayed`` is True when the exchange already had an order with this ``client_order_id``
    (a retried or replayed decision): nothing new was placed.
    """

    order_id: str
    client_order_id: str
    fill_count: int
    remaining_count: int
    average_fill_price: Decimal | None
    replayed: bool


OutcomeStatus = Literal["dry_run", "placed", "replayed", "rejected", "cancelled", "gone", "unknown", "not_sent"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What sending one intent did: ``dry_run`` (nothing sent), ``placed`` / ``replayed`` (an order the
    exchange already had), ``rejected`` (refused, ``message`` says why), ``cancelled``, ``gone`` (the order
    to cancel had already left the book), ``unknown`` (outcome not established: halt and reconcile), or
    ``not_sent`` (skipped after an unknown outcome)."""

    intent: Intent
    status: OutcomeStatus
    order_id: str | None = None
    fill_count: int = 0
    message: str = ""


def is_duplicate(exc: KalshiHTTPError) -> bool:
    return exc.status == DUPLICATE_STATUS and DUPLICATE_CODE in exc.message


def _ambiguous(exc: Exception) -> bool:
    """True when a failed POST may still have been executed by the exchange."""
    if isinstance(exc, KalshiHTTPError):
        return exc.status >= 500
    return isinstance(exc, SourceUnavailableError | PayloadError)


class KalshiOrders:
    """Orders and portfolio of the account ``client`` signs for."""

    def __init__(self, client: KalshiClient):
        self.client = client

    def _send(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client.request(method, path, params=params, json_body=body, signed=True)

    # -- create --------------------------------------------------------------------------------

    def create_order(self, request: CreateOrderRequest) -> Placement:
        source = f"kalshi POST {ORDERS_PATH}"
        try:
            body = self._send("POST", ORDERS_PATH, request.to_wire())
        except KalshiHTTPError as exc:
            if is_duplicate(exc):
                return self._existing(request, "the exchange already has this client_order_id")
            if not _ambiguous(exc):
                raise
            first: Exception = exc
        except (SourceUnavailableError, PayloadError) as exc:
            first = exc
        else:
            return _placement(parse_create_order_response(body, source), replayed=False)
        log.warning(
            "%s on %s: %s; sending the same client_order_id once more", request.client_order_id, request.ticker, first
        )
        try:
            body = self._send("POST", ORDERS_PATH, request.to_wire())
        except KalshiHTTPError as exc:
            if is_duplicate(exc):
                return self._existing(request, "the first attempt had reached the exchange")
            if _ambiguous(exc):
                raise OrderStateUnknown(request.client_order_id, request.ticker, str(exc)) from None
            raise
        except (SourceUnavailableError, PayloadError) as exc:
            raise OrderStateUnknown(request.client_order_id, request.ticker, str(exc)) from None
        return _placement(parse_create_order_response(body, source), replayed=False)

    def _existing(self, request: CreateOrderRequest, why: str) -> Placement:
        order = self.find_order(request.ticker, request.client_order_id)
        if order is None:
            raise OrderStateUnknown(
                request.client_order_id, request.ticker, f"refused as a duplicate, yet no such order is listed ({why})"
            )
        log.info(
            "order %s on %s not placed again: %s (order %s)",
            request.client_order_id,
            request.ticker,
            why,
            order.order_id,
        )
        return Placement(order.order_id, request.client_order_id, order.fill_count, order.remaining_count, None, True)

    def find_order(self, ticker: str, client_order_id: str) -> Order | None:
        """Our order on ``ticker`` with ``client_order_id``, whatever its status; None when there is none."""
        for order in self.orders(ticker=ticker):
            if order.client_order_id == client_order_id:
                return order
        return None

    def create_orders(self, requests: Sequence[CreateOrderRequest]) -> list[BatchCreateResult]:
        """``POST .../batched``: each order's own answer or error; a batch is not retried on an unknown outcome."""
        body = self._send("POST", BATCH_PATH, {"orders": [r.to_wire() for r in requests]})
        return parse_batch_create_response(body, f"kalshi POST {BATCH_PATH}")

    # -- cancel, amend, decrease -----------------------------------------------------------------

    def cancel_order(self, order_id: str, *, ticker: str | None = None) -> CancelOrderResponse:
        path = f"{ORDERS_PATH}/{quote(order_id, safe='')}"
        body = self._send("DELETE", path, params={"market_ticker": ticker})
        return parse_cancel_order_response(body, f"kalshi DELETE {path}")

    def cancel_orders(self, order_ids: Sequence[str]) -> list[CancelOrderResponse]:
        body = self._send("DELETE", BATCH_PATH, {"ids": list(order_ids)})
        return self._cancelled(body, f"kalshi DELETE {BATCH_PATH}")

    def cancel_all(self) -> list[CancelOrderResponse]:
        """``DELETE /portfolio/events/orders``: every resting order of the account."""
        return self._cancelled(self._send("DELETE", ORDERS_PATH), f"kalshi DELETE {ORDERS_PATH}")

    @staticmethod
    def _cancelled(body: dict[str, Any], source: str) -> list[CancelOrderResponse]:
        items = body.get("orders")
        if not isinstance(items, list):
            raise PayloadError(source, f"expected an array, got {items!r}", field="orders")
        return [parse_cancel_order_response(item, f"{source} orders[{i}]") for i, item in enumerate(items)]

    def amend_order(self, order_id: str, request: AmendOrderRequest) -> Order:
        path = f"{ORDERS_PATH}/{quote(order_id, safe='')}/amend"
        return self._order(self._send("POST", path, request.to_wire()), f"kalshi POST {path}")

    def decrease_order(self, order_id: str, request: DecreaseOrderRequest) -> Order:
        path = f"{ORDERS_PATH}/{quote(order_id, safe='')}/decrease"
        return self._order(self._send("POST", path, request.to_wire()), f"kalshi POST {path}")

    @staticmethod
    def _order(body: dict[str, Any], source: str) -> Order:
        if not isinstance(body.get("order"), dict):
            raise PayloadError(source, "missing from the response", field="order")
        return parse_order(body["order"], source)

    # -- a cycle's intents ------------------------------------------------------------------------

    def execute(self, intents: Sequence[Intent], *, dry_run: bool) -> list[Outcome]:
        """Send ``intents`` in order (cancels as given, orders through ``create_order``).

        A dry run sends nothing at all. A refusal (4xx) is recorded and the next intent is sent; an
        order whose outcome stays unknown stops the cycle, because what rests is no longer known.
        """
        if dry_run:
            return [Outcome(intent, "dry_run") for intent in intents]
        out: list[Outcome] = []
        for n, intent in enumerate(intents):
            try:
                out.append(self._execute_one(intent))
            except OrderStateUnknown as exc:
                out.append(Outcome(intent, "unknown", message=str(exc)))
                out += [Outcome(rest, "not_sent", message="an earlier order's outcome is unknown")
                        for rest in intents[n + 1 :]]  # fmt: skip
                break
        return out

    def _execute_one(self, intent: Intent) -> Outcome:
        if isinstance(intent, CancelIntent):
            try:
                self.cancel_order(intent.order_id, ticker=intent.ticker)
            except KalshiHTTPError as exc:
                if exc.status != 404:
                    raise
                return Outcome(intent, "gone", intent.order_id, message=exc.message)
            return Outcome(intent, "cancelled", intent.order_id)
        assert isinstance(intent, PlaceIntent)
        try:
            placed = self.create_order(intent.request())
        except KalshiHTTPError as exc:  # a refusal: an unknown outcome is OrderStateUnknown
            return Outcome(intent, "rejected", message=f"HTTP {exc.status}: {exc.message}")
        return Outcome(intent, "replayed" if placed.replayed else "placed", placed.order_id, placed.fill_count)

    # -- portfolio reads -------------------------------------------------------------------------

    def balance(self) -> Balance:
        return parse_balance(self.client.get_balance())

    def positions(self, **filters: Any) -> list[MarketPosition]:
        """Market positions (non-zero ones by default: ``count_filter=position``)."""
        filters.setdefault("count_filter", "position")
        rows = self.client.get_positions(**filters)["market_positions"]
        return [
            parse_market_position(row, f"kalshi GET /portfolio/positions market_positions[{i}]")
            for i, row in enumerate(rows)
        ]

    def orders(self, **filters: Any) -> list[Order]:
        rows = self.client.get_orders(**filters)
        return [parse_order(row, f"kalshi GET /portfolio/orders orders[{i}]") for i, row in enumerate(rows)]

    def resting_orders(self, **filters: Any) -> list[Order]:
        return [o for o in self.orders(status="resting", **filters) if o.is_resting]

    def fills(self, **filters: Any) -> list[Fill]:
        rows = self.client.get_fills(**filters)
        return [parse_fill(row, f"kalshi GET /portfolio/fills fills[{i}]") for i, row in enumerate(rows)]

    def settlements(self, **filters: Any) -> list[Settlement]:
        rows = self.client.get_settlements(**filters)
        return [
            parse_settlement(row, f"kalshi GET /portfolio/settlements settlements[{i}]") for i, row in enumerate(rows)
        ]


def _placement(response: Any, *, replayed: bool) -> Placement:
    return Placement(
        response.order_id,
        response.client_order_id,
        response.fill_count,
        response.remaining_count,
        response.average_fill_price,
        replayed,
    )
