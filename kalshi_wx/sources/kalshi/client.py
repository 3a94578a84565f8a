"""Kalshi Trade API v2 REST client (reference s1, s2, s5).

Returns raw JSON objects: typed frames are built in ``kalshi_wx.core``, which keeps every raw
payload so it can be re-parsed when Kalshi changes a format. This module only guarantees the
envelope (the documented top-level keys and their JSON types) and routes each request to the
live or the historical tier.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from kalshi_wx.core.errors import ConfigError, PayloadError
from kalshi_wx.core.timestamps import parse_time
from kalshi_wx.sources.http import RetryPolicy, SourceClient, SourceHTTPError
from kalshi_wx.sources.kalshi.auth import KalshiSigner
from kalshi_wx.sources.kalshi.ratelimit import (
    DEFAULT_HEADROOM,
    DEFAULT_READ_RATE,
    DEFAULT_WRITE_RATE,
    KalshiRateLimiter,
    shared_limiter,
)

log = logging.getLogger(__name__)

PROD_BASE = "https://external-api.kalshi.com/trade-api/v2"
DEMO_BASE = "https://external-api.demo.kalshi.co/trade-api/v2"
_ALIASES = {"prod": PROD_BASE, "production": PROD_BASE, "demo": DEMO_BASE}

# Kalshi documents no per-request cap for single-market candles; the batch endpoint caps at 10,000
# and peers saw 5,000 per event, so 5,000 periods per request stays under every reported limit.
MAX_CANDLES_PER_REQUEST = 5000
CUTOFF_TTL_S = 300.0  # the cutoff moves daily at most; re-reading it per call would waste the budget

# Largest page each listing accepts (reference s1); portfolio maxima are undocumented.
_MAX_LIMIT = {"markets": 1000, "trades": 1000, "events": 200, "portfolio": 100}


def resolve_base_url(value: str | None) -> str:
    """``KALSHI_API_BASE``: empty -> production, ``prod``/``demo`` aliases, else a full URL."""
    text = (value or "").strip()
    if not text:
        return PROD_BASE
    if text.lower() in _ALIASES:
        return _ALIASES[text.lower()]
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"KALSHI_API_BASE={text!r}: expected 'prod', 'demo' or an http(s) base URL")
    return text.rstrip("/")


class KalshiHTTPError(SourceHTTPError):
    """Kalshi answered 4xx (or still 429/5xx after every retry); ``message`` is Kalshi's own text."""

    def __init__(self, endpoint: str, status: int, message: str):
        super().__init__("kalshi", endpoint, status, message)


@dataclass(frozen=True)
class HistoricalCutoff:
    """Where the live tier ends (reference s2, historical): older data is only under /historical."""

    market_settled_ts: datetime
    trades_created_ts: datetime
    raw: dict[str, Any]


def _instant(value: Any, *, source: str, field: str, ticker: str | None = None) -> datetime | None:
    """RFC 3339 text or Unix seconds (the cutoff endpoint has used both) as aware UTC; None when absent."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return parse_time(value, source=source, field=field, ticker=ticker)


def _query(params: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = str(value)
    return out


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        parts = [str(error[k]) for k in ("code", "message", "details") if error.get(k)]
        if parts:
            return ": ".join(parts)
    if isinstance(error, str):
        return error
    return json.dumps(body)[:300]


_JSON_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}


def _json_type(value: Any) -> str:
    return "null" if value is None else _JSON_NAMES.get(type(value), type(value).__name__)


def _member(body: dict, key: str, kinds: tuple[type, ...], source: str) -> Any:
    """``body[key]``, which must exist and have one of the JSON types ``kinds``."""
    if key not in body:
        raise PayloadError(source, "missing from the response", field=key)
    value = body[key]
    # bool is an int in Python but not a number in JSON
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        wanted = " or ".join(_JSON_NAMES.get(k, "null") for k in kinds)
        raise PayloadError(source, f"expected {wanted}, got {_json_type(value)}", field=key)
    return value


def _objects(body: dict, key: str, source: str) -> list[dict]:
    items = _member(body, key, (list,), source)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise PayloadError(source, f"expected object, got {_json_type(item)}", field=f"{key}[{i}]")
    return items


def _key(item: dict, field: str, source: str) -> str:
    value = item.get(field)
    if not isinstance(value, str) or not value:
        raise PayloadError(source, f"expected a non-empty string, got {value!r}", field=field)
    return value


class KalshiClient(SourceClient):
    """One httpx connection pool, a process-wide rate limiter per host, retries, signing.

    Listing methods follow every cursor and return the concatenated items; single-object methods
    return the object under the envelope key. ``sleep``/``clock``/``rng`` are injectable so tests
    can observe waits without spending them.
    """

    source = "kalshi"
    _log = log
    # Which market, event, series, window or page a request was about; never keys or signatures.
    _selectors = (
        "ticker",
        "tickers",
        "event_ticker",
        "series_ticker",
        "min_ts",
        "max_ts",
        "start_ts",
        "end_ts",
        "cursor",
    )

    def __init__(
        self,
        base_url: str | None = None,
        *,
        signer: KalshiSigner | None = None,
        limiter: KalshiRateLimiter | None = None,
        read_rate: float = DEFAULT_READ_RATE,
        write_rate: float = DEFAULT_WRITE_RATE,
        headroom: float = DEFAULT_HEADROOM,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        cutoff_ttl_s: float = CUTOFF_TTL_S,
    ):
        resolved = resolve_base_url(base_url)
        parts = urlsplit(resolved)
        self._limiter = limiter or shared_limiter(parts.netloc, read_rate, write_rate, headroom)
        super().__init__(
            resolved, timeout_s=timeout_s, headers={"Accept": "application/json"}, retry=retry, sleep=sleep, rng=rng
        )
        self._base_path = parts.path.rstrip("/")
        self._signer = signer
        self._clock = clock
        self._cutoff_ttl_s = cutoff_ttl_s
        self._cutoff: tuple[float, HistoricalCutoff] | None = None
        self._cutoff_lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> KalshiClient:
        """Configure from ``KALSHI_API_BASE``, ``KALSHI_API_KEY_ID``, ``KALSHI_PRIVATE_KEY_PATH``,
        ``KALSHI_READ_RATE`` and ``KALSHI_WRITE_RATE`` (the account's limits, requests/s) and
        ``KALSHI_RATE_HEADROOM`` (the share of them to use); without a key only public data works."""
        env = os.environ if environ is None else environ
        signer = KalshiSigner.from_env(env)
        return cls(
            env.get("KALSHI_API_BASE"),
            signer=signer,
            read_rate=_rate(env, "KALSHI_READ_RATE", DEFAULT_READ_RATE),
            write_rate=_rate(env, "KALSHI_WRITE_RATE", DEFAULT_WRITE_RATE),
            headroom=_headroom(env, "KALSHI_RATE_HEADROOM", DEFAULT_HEADROOM),
            **kwargs,
        )

    @property
    def limiter(self) -> KalshiRateLimiter:
        return self._limiter

    def _repr_fields(self) -> dict[str, str]:
        return {"signer": repr(self._signer), "limiter": repr(self._limiter)}

    # -- transport ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        signed: bool = False,
    ) -> dict[str, Any]:
        """One call to ``path`` (relative to the base URL, e.g. ``/portfolio/balance``).

        Returns the JSON object. Raises ``KalshiHTTPError`` for error statuses and
        ``PayloadError`` (naming the endpoint) for a body that is not a JSON object.
        """
        method = method.upper()
        label = self._label(method, path, params)
        endpoint = f"kalshi {label}"
        signer = self._signer if signed else None
        if signed and signer is None:
            raise ConfigError(f"{endpoint} needs KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH")
        url = self.base_url + path
        signed_path = self._base_path + path
        query = _query(params or {})

        def send() -> httpx.Response:
            self._limiter.acquire(method, path)
            headers = signer.headers(method, signed_path) if signer is not None else None
            started = time.perf_counter()
            response = self._http.request(method, url, params=query, json=json_body, headers=headers)
            log.debug("%s -> %s (%.0f ms)", endpoint, response.status_code, 1000 * (time.perf_counter() - started))
            return response

        response, body = self._send_json(send, label, idempotent=method in ("GET", "HEAD", "DELETE"))
        if response.status_code >= 400:
            raise KalshiHTTPError(label, response.status_code, _error_message(response))
        if not isinstance(body, dict):
            raise PayloadError(endpoint, f"expected a JSON object, got {_json_type(body)}")
        return body

    def _get_object(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        source = f"kalshi {self._label('GET', path, params)}"
        return _member(self.request("GET", path, params=params), key, (dict,), source)

    def _pages(
        self, path: str, params: Mapping[str, Any], *, limit: int, signed: bool = False
    ) -> Iterator[tuple[dict, str]]:
        """Each page's body with its request label (selectors and cursor), following ``cursor`` until it is empty."""
        query = {**params, "limit": limit}
        seen: set[str] = set()
        while True:
            source = f"kalshi {self._label('GET', path, query)}"
            body = self.request("GET", path, params=query, signed=signed)
            yield body, source
            cursor = _member(body, "cursor", (str, type(None)), source)
            if not cursor:
                return
            if cursor in seen:
                raise PayloadError(source, f"cursor {cursor!r} came back twice; the listing loops", field="cursor")
            seen.add(cursor)
            query["cursor"] = cursor

    def _collect(
        self, path: str, key: str, params: Mapping[str, Any], *, limit: int, signed: bool = False
    ) -> list[dict[str, Any]]:
        items: list[dict] = []
        for body, source in self._pages(path, params, limit=limit, signed=signed):
            items.extend(_objects(body, key, source))
        return items

    # -- public market data --------------------------------------------------------------------

    def get_series(self, series_ticker: str) -> dict[str, Any]:
        return self._get_object(f"/series/{quote(series_ticker, safe='')}", "series")

    def get_events(self, **filters: Any) -> list[dict[str, Any]]:
        """``GET /events`` with any documented filter (``series_ticker``, ``status``, ...)."""
        return self._collect("/events", "events", filters, limit=_MAX_LIMIT["events"])

    def get_event(self, event_ticker: str, *, with_nested_markets: bool = False) -> dict[str, Any]:
        """The whole ``GET /events/{t}`` body: ``event`` plus, unless nested, ``markets``."""
        path = f"/events/{quote(event_ticker, safe='')}"
        body = self.request("GET", path, params={"with_nested_markets": with_nested_markets})
        _member(body, "event", (dict,), f"kalshi {self._label('GET', path)}")
        return body

    def get_markets(self, **filters: Any) -> list[dict[str, Any]]:
        """Live-tier ``GET /markets``; markets settled before the cutoff are not in it."""
        return self._collect("/markets", "markets", filters, limit=_MAX_LIMIT["markets"])

    def get_market(self, ticker: str) -> dict[str, Any]:
        return self._get_object(f"/markets/{quote(ticker, safe='')}", "market")

    def get_orderbook(self, ticker: str, *, depth: int | None = None) -> dict[str, Any]:
        """``orderbook_fp``: ``yes_dollars``/``no_dollars`` bid levels as [price, count] strings."""
        path = f"/markets/{quote(ticker, safe='')}/orderbook"
        return self._get_object(path, "orderbook_fp", {"depth": depth})

    def get_live_candlesticks(
        self, series_ticker: str, ticker: str, start_ts: int, end_ts: int, period_interval: int = 1
    ) -> list[dict[str, Any]]:
        path = f"/series/{quote(series_ticker, safe='')}/markets/{quote(ticker, safe='')}/candlesticks"
        return self._candles(path, start_ts, end_ts, period_interval)

    def get_live_trades(self, **filters: Any) -> list[dict[str, Any]]:
        return self._collect("/markets/trades", "trades", filters, limit=_MAX_LIMIT["trades"])

    # -- historical tier -----------------------------------------------------------------------

    def get_historical_cutoff(self, *, refresh: bool = False) -> HistoricalCutoff:
        """``GET /historical/cutoff``, cached for ``cutoff_ttl_s``."""
        with self._cutoff_lock:
            now = self._clock()
            if not refresh and self._cutoff is not None and now - self._cutoff[0] < self._cutoff_ttl_s:
                return self._cutoff[1]
        source = "kalshi GET /historical/cutoff"
        body = self.request("GET", "/historical/cutoff")
        times = {}
        for field in ("market_settled_ts", "trades_created_ts"):
            value = _instant(_member(body, field, (str, int), source), source=source, field=field)
            if value is None:
                raise PayloadError(source, "empty", field=field)
            times[field] = value
        cutoff = HistoricalCutoff(raw=body, **times)
        with self._cutoff_lock:
            self._cutoff = (now, cutoff)
        return cutoff

    def get_historical_markets(self, **filters: Any) -> list[dict[str, Any]]:
        return self._collect("/historical/markets", "markets", filters, limit=_MAX_LIMIT["markets"])

    def get_historical_candlesticks(
        self, ticker: str, start_ts: int, end_ts: int, period_interval: int = 1
    ) -> list[dict[str, Any]]:
        path = f"/historical/markets/{quote(ticker, safe='')}/candlesticks"
        return self._candles(path, start_ts, end_ts, period_interval)

    def get_historical_trades(self, **filters: Any) -> list[dict[str, Any]]:
        return self._collect("/historical/trades", "trades", filters, limit=_MAX_LIMIT["trades"])

    # -- routed by the cutoff --------------------------------------------------------------------

    def get_event_markets(
        self, event_ticker: str, series_ticker: str | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Every market of an event from whichever tier holds it, and ``{ticker: "live"|"historical"}``.

        Live wins on a duplicate ticker. The historical tier is asked only when the live one cannot
        be the whole answer: it returned nothing, or some market closed before the cutoff, so a
        sibling may have settled before it. ``series_ticker`` narrows the historical query (which
        also matches legacy tickers of the series).
        """
        live = self.get_markets(event_ticker=event_ticker)
        cutoff = self.get_historical_cutoff().market_settled_ts
        selectors = {"event_ticker": event_ticker}
        source = f"kalshi {self._label('GET', '/markets', selectors)}"
        tiers = {_key(m, "ticker", source): "live" for m in live}
        if live and all(self._routing_time(m, source, ("close_time",)) >= cutoff for m in live):
            return live, tiers
        historical = self.get_historical_markets(event_ticker=event_ticker, series_ticker=series_ticker)
        source = f"kalshi {self._label('GET', '/historical/markets', selectors)}"
        older = [m for m in historical if _key(m, "ticker", source) not in tiers]
        tiers.update({m["ticker"]: "historical" for m in older})
        return older + live, tiers

    def get_candlesticks(
        self,
        series_ticker: str,
        market: Mapping[str, Any] | str,
        start_ts: int,
        end_ts: int,
        period_interval: int = 1,
        *,
        historical: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Candles of one market from the tier that holds it.

        The tier is ``historical`` when given (e.g. from ``get_event_markets``); otherwise
        ``market`` must be the raw market object and its ``settlement_ts`` (else ``close_time``,
        else ``expiration_time``) is compared with the cutoff. The fallbacks can misplace a market
        that closed before the cutoff but settled after it, and the cutoff can advance between
        calls, so a 404 from the chosen tier is retried once on the other.
        """
        if isinstance(market, str):
            if historical is None:
                raise ValueError(f"{market}: pass the raw market object or historical=True/False")
            ticker = market
        else:
            ticker = _key(dict(market), "ticker", "kalshi market")
            if historical is None:
                fields = ("settlement_ts", "close_time", "expiration_time")
                historical = self._routing_time(market, "kalshi market", fields) < (
                    self.get_historical_cutoff().market_settled_ts
                )
        tiers = [
            lambda: self.get_historical_candlesticks(ticker, start_ts, end_ts, period_interval),
            lambda: self.get_live_candlesticks(series_ticker, ticker, start_ts, end_ts, period_interval),
        ]
        first, second = tiers if historical else tiers[::-1]
        try:
            return first()
        except KalshiHTTPError as exc:
            if exc.status != 404:
                raise
            log.info("%s: %s; trying the %s tier", ticker, exc, "live" if historical else "historical")
            return second()

    def get_trades(self, ticker: str, min_ts: int | None = None, max_ts: int | None = None) -> list[dict[str, Any]]:
        """Trades of one market in [min_ts, max_ts] (Unix s), split at ``trades_created_ts``.

        Both tiers are asked for the cutoff's own second, whatever their bound semantics, and
        duplicates are dropped by ``trade_id`` (live wins). Order: historical, then live.
        """
        cutoff = self.get_historical_cutoff().trades_created_ts.timestamp()
        historical: list[dict] = []
        live: list[dict] = []
        if min_ts is None or min_ts < cutoff:
            upper = math.ceil(cutoff) if max_ts is None else min(max_ts, math.ceil(cutoff))
            historical = self.get_historical_trades(ticker=ticker, min_ts=min_ts, max_ts=upper)
        if max_ts is None or max_ts >= cutoff:
            lower = math.floor(cutoff) if min_ts is None else max(min_ts, math.floor(cutoff))
            live = self.get_live_trades(ticker=ticker, min_ts=lower, max_ts=max_ts)
        selectors = {"ticker": ticker}
        live_source = f"kalshi {self._label('GET', '/markets/trades', selectors)}"
        historical_source = f"kalshi {self._label('GET', '/historical/trades', selectors)}"
        live_ids = {_key(t, "trade_id", live_source) for t in live}
        older = [t for t in historical if _key(t, "trade_id", historical_source) not in live_ids]
        return older + live

    def _routing_time(self, market: Mapping[str, Any], source: str, fields: tuple[str, ...]) -> datetime:
        ticker = market.get("ticker") if isinstance(market.get("ticker"), str) else None
        for field in fields:
            when = _instant(market.get(field), source=source, field=field, ticker=ticker)
            if when is not None:
                return when
        raise PayloadError(source, "no time to route by", field="/".join(fields), ticker=ticker)

    def _candles(self, path: str, start_ts: int, end_ts: int, period_interval: int) -> list[dict[str, Any]]:
        """Candles are selected by end time in [start_ts, end_ts]; chunks abut without overlap."""
        if period_interval not in (1, 60, 1440):
            raise ValueError(f"period_interval must be 1, 60 or 1440 minutes, got {period_interval}")
        span = MAX_CANDLES_PER_REQUEST * period_interval * 60
        candles: list[dict] = []
        lo = start_ts
        while lo <= end_ts:
            hi = min(end_ts, lo + span - 1)
            params = {"start_ts": lo, "end_ts": hi, "period_interval": period_interval}
            body = self.request("GET", path, params=params)
            candles.extend(_objects(body, "candlesticks", f"kalshi {self._label('GET', path, params)}"))
            lo = hi + 1
        return candles

    # -- signed portfolio ------------------------------------------------------------------------

    def get_balance(self) -> dict[str, Any]:
        """The whole body: ``balance`` and ``portfolio_value`` in integer cents, ``balance_dollars``."""
        body = self.request("GET", "/portfolio/balance", signed=True)
        _member(body, "balance", (int,), "kalshi GET /portfolio/balance")
        return body

    def get_positions(self, **filters: Any) -> dict[str, list[dict[str, Any]]]:
        """``market_positions`` and ``event_positions``, each concatenated over all pages."""
        out: dict[str, list[dict]] = {"market_positions": [], "event_positions": []}
        pages = self._pages("/portfolio/positions", filters, limit=_MAX_LIMIT["portfolio"], signed=True)
        for body, source in pages:
            for key in out:
                out[key].extend(_objects(body, key, source))
        return out

    def get_fills(self, **filters: Any) -> list[dict[str, Any]]:
        return self._collect("/portfolio/fills", "fills", filters, limit=_MAX_LIMIT["portfolio"], signed=True)

    def get_orders(self, **filters: Any) -> list[dict[str, Any]]:
        return self._collect("/portfolio/orders", "orders", filters, limit=_MAX_LIMIT["portfolio"], signed=True)

    def get_settlements(self, **filters: Any) -> list[dict[str, Any]]:
        path = "/portfolio/settlements"
        return self._collect(path, "settlements", filters, limit=_MAX_LIMIT["portfolio"], signed=True)


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not rate > 0 or math.isinf(rate):
        raise ConfigError(f"{name}={text!r}: expected a positive number of requests per second")
    return rate


def _headroom(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        share = float(text)
    except ValueError:
        share = math.nan
    if not 0 < share <= 1:
        raise ConfigError(f"{name}={text!r}: expected the share of the rate limit to use, in (0, 1], e.g. 0.9")
    return share
