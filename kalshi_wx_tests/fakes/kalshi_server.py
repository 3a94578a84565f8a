"""A scriptable fake of Kalshi's REST API (Trade API v2) on a real loopback socket.

It holds one set of markets, candles and trades and splits them between the live and the
historical tier by its ``cutoff``, as the exchange does: a market settled before
``market_settled_ts`` (and its candles) is only under ``/historical``, a trade created before
``trades_created_ts`` only under ``/historical/trades``. ``/portfolio/*`` requires a valid
signature over exactly timestamp + METHOD + path-without-query, with a fresh timestamp.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kalshi_wx.sources.kalshi.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    PublicKey,
    verify_signature,
)
from kalshi_wx.sources.kalshi.ratelimit import TokenBucket
from kalshi_wx.sources.loopback import LoopbackServer, Request, Response
from kalshi_wx_tests.fakes.faults import Fault, FaultPlan

PREFIX = "/trade-api/v2"
_MAX_LIMIT = {"/events": 200}
_DEFAULT_LIMIT = {"/events": 200}


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # relative to /trade-api/v2, no query
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival
    status: int


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response.json({"error": {"code": code, "message": message}}, status, headers)


class FakeKalshi:
    """Usage: ``with FakeKalshi(public_key=pk) as fake: KalshiClient(fake.base_url, ...)``.

    Tests fill ``series``, ``events``, ``markets`` (by ticker), ``candles`` (by ticker),
    ``trades``, ``orderbooks`` and the portfolio attributes, set ``page_size`` to force small
    pages, queue faults with ``fail(path, Fault...)``, and read ``calls``.
    """

    def __init__(
        self,
        *,
        public_key: PublicKey | None = None,
        page_size: int | None = None,
        rate_limit: float | None = None,
        rate_burst: float = 1.0,
        max_clock_skew_s: float = 5.0,
        wall_clock: Callable[[], float] = time.time,
    ):
        self._settings = (public_key, page_size, rate_limit, rate_burst)
        self.max_clock_skew_s = max_clock_skew_s
        self._wall_clock = wall_clock
        self.reset()
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._app)

    def reset(self) -> None:
        """Back to the state after construction, so one server can serve a whole test module."""
        public_key, page_size, rate_limit, rate_burst = self._settings
        self.public_key = public_key
        self.page_size = page_size
        self.bucket = TokenBucket(rate_limit, rate_burst) if rate_limit else None
        self.cutoff = {
            "market_settled_ts": "2026-05-01T00:00:00Z",
            "trades_created_ts": "2026-05-01T00:00:00Z",
            "orders_updated_ts": "2026-05-01T00:00:00Z",
        }
        self.series: dict[str, dict] = {}
        self.events: dict[str, dict] = {}
        self.markets: dict[str, dict] = {}
        self.candles: dict[str, list[dict]] = {}
        self.trades: list[dict] = []
        self.orderbooks: dict[str, dict] = {}
        self.balance: dict[str, Any] = {"balance": 0, "balance_dollars": "0.0000", "portfolio_value": 0}
        self.market_positions: list[dict] = []
        self.event_positions: list[dict] = []
        self.fills: list[dict] = []
        self.orders: list[dict] = []
        self.calls: list[Call] = []
        self.faults = FaultPlan()

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._http.url + PREFIX

    def __enter__(self) -> FakeKalshi:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.stop()

    def fail(self, path: str, fault: Fault, times: int = 1) -> None:
        """The next ``times`` requests on ``path`` (relative, e.g. ``/markets``) get ``fault``."""
        self.faults.add(path, fault, times)

    def calls_to(self, path: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.path == path]

    # -- tiers --------------------------------------------------------------------------------

    def is_historical_market(self, market: dict) -> bool:
        settled = market.get("settlement_ts")
        return bool(settled) and _ts(settled) < _ts(self.cutoff["market_settled_ts"])

    def is_historical_trade(self, trade: dict) -> bool:
        return _ts(trade["created_time"]) < _ts(self.cutoff["trades_created_ts"])

    # -- HTTP ---------------------------------------------------------------------------------

    def _app(self, request: Request) -> Response:
        path = request.path.removeprefix(PREFIX)
        if self.bucket is not None and not self.bucket.try_acquire():
            wait = self.bucket.wait_time()
            response = _error(429, "too_many_requests", "rate limit exceeded", {"Retry-After": str(math.ceil(wait))})
        elif not request.path.startswith(PREFIX + "/"):
            response = _error(404, "not_found", f"no route {request.path}")
        elif path.startswith("/portfolio/") and (problem := self._auth_problem(request)):
            response = _error(401, "authentication_error", problem)
        else:
            response = self.faults.respond(path, lambda: self._route(request, path))
        with self._lock:
            self.calls.append(
                Call(request.method, path, request.query, request.headers, time.monotonic(), response.status)
            )
        return response

    def _auth_problem(self, request: Request) -> str | None:
        if self.public_key is None:
            return "this fake has no public key registered"
        ts = request.headers.get(HEADER_TIMESTAMP.lower())
        signature = request.headers.get(HEADER_SIGNATURE.lower())
        if not request.headers.get(HEADER_KEY.lower()) or not ts or not signature:
            return "missing KALSHI-ACCESS-* headers"
        if not ts.isdigit():
            return "KALSHI-ACCESS-TIMESTAMP must be milliseconds"
        if abs(self._wall_clock() * 1000 - int(ts)) > self.max_clock_skew_s * 1000:
            return "stale KALSHI-ACCESS-TIMESTAMP"
        if not verify_signature(
            self.public_key, timestamp_ms=ts, method=request.method, path=request.path, signature=signature
        ):
            return "invalid signature"
        return None

    def _route(self, request: Request, path: str) -> Response:
        if request.method != "GET":
            return _error(405, "method_not_allowed", f"{request.method} {path}")
        parts = path.strip("/").split("/")
        match parts:
            case ["series", ticker]:
                return self._one("series", self.series.get(ticker), ticker)
            case ["events"]:
                return self._list(request, path, "events", self._events(request))
            case ["events", ticker]:
                return self._event(request, ticker)
            case ["markets"]:
                rows = [m for m in self._filter_markets(request) if not self.is_historical_market(m)]
                return self._list(request, path, "markets", rows)
            case ["markets", "trades"]:
                return self._list(request, path, "trades", self._trades(request, historical=False))
            case ["markets", ticker]:
                market = self.markets.get(ticker)
                if market is not None and self.is_historical_market(market):
                    market = None
                return self._one("market", market, ticker)
            case ["markets", ticker, "orderbook"]:
                return self._one("orderbook_fp", self.orderbooks.get(ticker), ticker)
            case ["series", _series, "markets", ticker, "candlesticks"]:
                return self._candles(request, ticker, historical=False)
            case ["historical", "cutoff"]:
                return Response.json(self.cutoff)
            case ["historical", "markets"]:
                rows = [m for m in self._filter_markets(request) if self.is_historical_market(m)]
                return self._list(request, path, "markets", rows)
            case ["historical", "markets", ticker, "candlesticks"]:
                return self._candles(request, ticker, historical=True)
            case ["historical", "trades"]:
                return self._list(request, path, "trades", self._trades(request, historical=True))
            case ["portfolio", "balance"]:
                return Response.json(self.balance)
            case ["portfolio", "positions"]:
                return self._positions(request, path)
            case ["portfolio", "fills"]:
                return self._list(request, path, "fills", self.fills)
            case ["portfolio", "orders"]:
                return self._list(request, path, "orders", self.orders)
        return _error(404, "not_found", f"no route {path}")

    def _one(self, key: str, obj: dict | None, ticker: str) -> Response:
        if obj is None:
            return _error(404, "not_found", f"{key} {ticker} not found")
        return Response.json({key: obj})

    def _page(self, request: Request, path: str, rows: list) -> tuple[list, str] | Response:
        limit_text = request.arg("limit") or str(_DEFAULT_LIMIT.get(path, 100))
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= _MAX_LIMIT.get(path, 1000):
            return _error(400, "invalid_parameters", f"limit {limit_text!r} out of range")
        size = min(int(limit_text), self.page_size or int(limit_text))
        cursor = request.arg("cursor") or ""
        if cursor and not re.fullmatch(r"page-\d+", cursor):
            return _error(400, "invalid_cursor", f"bad cursor {cursor!r}")
        start = int(cursor.removeprefix("page-")) if cursor else 0
        end = start + size
        return rows[start:end], (f"page-{end}" if end < len(rows) else "")

    def _list(self, request: Request, path: str, key: str, rows: list) -> Response:
        page = self._page(request, path, rows)
        if isinstance(page, Response):
            return page
        items, cursor = page
        return Response.json({key: items, "cursor": cursor})

    def _positions(self, request: Request, path: str) -> Response:
        # market and event positions page together in the real API; the fake pages the longer list
        longest = max(len(self.market_positions), len(self.event_positions))
        page = self._page(request, path, list(range(longest)))
        if isinstance(page, Response):
            return page
        idx, cursor = page
        lo, hi = (idx[0], idx[-1] + 1) if idx else (0, 0)
        return Response.json(
            {
                "market_positions": self.market_positions[lo:hi],
                "event_positions": self.event_positions[lo:hi],
                "cursor": cursor,
            }
        )

    def _filter_markets(self, request: Request) -> list[dict]:
        rows = list(self.markets.values())
        if event := request.arg("event_ticker"):
            rows = [m for m in rows if m.get("event_ticker") == event]
        if series := request.arg("series_ticker"):
            rows = [m for m in rows if str(m.get("event_ticker", "")).split("-")[0] == series]
        if tickers := request.arg("tickers"):
            wanted = set(tickers.split(","))
            rows = [m for m in rows if m.get("ticker") in wanted]
        return rows

    def _events(self, request: Request) -> list[dict]:
        rows = list(self.events.values())
        if series := request.arg("series_ticker"):
            rows = [e for e in rows if e.get("series_ticker") == series]
        return rows

    def _event(self, request: Request, ticker: str) -> Response:
        event = self.events.get(ticker)
        if event is None:
            return _error(404, "not_found", f"event {ticker} not found")
        live = [m for m in self.markets.values() if m.get("event_ticker") == ticker]
        live = [m for m in live if not self.is_historical_market(m)]
        if request.arg("with_nested_markets") == "true":
            return Response.json({"event": {**event, "markets": live}})
        return Response.json({"event": event, "markets": live})

    def _trades(self, request: Request, *, historical: bool) -> list[dict]:
        rows = [t for t in self.trades if self.is_historical_trade(t) == historical]
        if ticker := request.arg("ticker"):
            rows = [t for t in rows if t.get("ticker") == ticker]
        lo, hi = request.arg("min_ts"), request.arg("max_ts")
        if lo:
            rows = [t for t in rows if _ts(t["created_time"]).timestamp() >= int(lo)]
        if hi:
            rows = [t for t in rows if _ts(t["created_time"]).timestamp() <= int(hi)]
        return rows

    def _candles(self, request: Request, ticker: str, *, historical: bool) -> Response:
        market = self.markets.get(ticker)
        if market is None or self.is_historical_market(market) != historical:
            return _error(404, "not_found", f"market {ticker} not found")
        try:
            lo, hi = int(request.arg("start_ts", "")), int(request.arg("end_ts", ""))
            period = int(request.arg("period_interval", ""))
        except ValueError:
            return _error(400, "invalid_parameters", "start_ts, end_ts and period_interval are required integers")
        if period not in (1, 60, 1440):
            return _error(400, "invalid_parameters", f"period_interval {period} not in 1, 60, 1440")
        rows = [c for c in self.candles.get(ticker, []) if lo <= c["end_period_ts"] <= hi]
        return Response.json({"ticker": ticker, "candlesticks": rows})
