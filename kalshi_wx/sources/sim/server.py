"""One loopback HTTP server speaking Kalshi, Visual Crossing and api.weather.gov from the simulation.

Paths, by prefix:

* ``/trade-api/v2/...``: the Kalshi Trade API market-data endpoints (reference/kalshi_api.md s2),
  live vs ``/historical`` split at ``SimConfig.historical_cutoff``.
* ``/VisualCrossingWebServices/rest/services/timeline/{location}/{date1}[/{date2}]``: the Timeline
  API for ``stn:<ICAO>`` locations of configured cities (s11).
* ``/nws/products/...``: the api.weather.gov CLI product list and products.

Clients are pointed at ``kalshi_base_url``, ``vc_base_url`` and ``nws_base_url`` and need no
other change. Every answer is a pure function of the config and the request.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import unquote

from kalshi_wx.core.cities import City
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.loopback import LoopbackServer, Request, Response
from kalshi_wx.sources.sim import kalshi_wire, weather_wire
from kalshi_wx.sources.sim.common import SimConfig, iso_z
from kalshi_wx.sources.sim.exchange import (
    CityDay,
    UnknownTicker,
    city_for_series,
    find_event,
    find_market,
    iter_city_days,
)

KALSHI_PREFIX = "/trade-api/v2"
VC_PREFIX = "/VisualCrossingWebServices/rest/services/timeline"
NWS_PREFIX = "/nws"

_STATUS_FILTERS = {"unopened": "initialized", "open": "active", "closed": "closed", "settled": "finalized"}
_CANDLE_PERIODS = (1, 60, 1440)
# Documented filters the simulator does not implement: refusing them beats silently ignoring them.
_UNSUPPORTED_MARKET_FILTERS = (
    "min_created_ts",
    "max_created_ts",
    "min_close_ts",
    "max_close_ts",
    "min_settled_ts",
    "max_settled_ts",
    "min_updated_ts",
    "max_updated_ts",
)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(param: str, message: str) -> ApiError:
    return ApiError(400, "bad_request", f"{param}: {message}")


def _not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


# ---- query parameters ------------------------------------------------------------------------


def _int_arg(
    req: Request, name: str, *, default: int | None = None, lo: int | None = None, hi: int | None = None
) -> int:
    raw = req.arg(name)
    if raw is None or raw == "":
        if default is None:
            raise _bad(name, "is required")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(name, f"expected an integer, got {raw!r}") from None
    if lo is not None and value < lo:
        raise _bad(name, f"{value} is below the minimum {lo}")
    if hi is not None and value > hi:
        raise _bad(name, f"{value} is above the maximum {hi}")
    return value


def _optional_int(req: Request, name: str) -> int | None:
    return None if req.arg(name) in (None, "") else _int_arg(req, name)


def _bool_arg(req: Request, name: str) -> bool:
    raw = (req.arg(name) or "false").lower()
    if raw not in ("true", "false"):
        raise _bad(name, f"expected true or false, got {raw!r}")
    return raw == "true"


def _status_arg(req: Request) -> str | None:
    raw = req.arg("status")
    if raw in (None, ""):
        return None
    if raw not in _STATUS_FILTERS:
        raise _bad("status", f"{raw!r} is not one of {', '.join(_STATUS_FILTERS)}")
    return raw


def _refuse(req: Request, names: Iterable[str]) -> None:
    for name in names:
        if req.arg(name) not in (None, ""):
            raise _bad(name, "is not supported by the simulator")


def _page(req: Request, items: list[Any], *, default_limit: int, max_limit: int) -> tuple[list[Any], str]:
    """Slice ``items`` by ``limit`` and an opaque ``cursor`` tied to this query's filters."""
    limit = _int_arg(req, "limit", default=default_limit, lo=1, hi=max_limit)
    filters = sorted((k, v) for k, vs in req.query.items() if k not in ("cursor", "limit") for v in vs)
    fingerprint = hashlib.blake2b(repr((req.path, filters)).encode(), digest_size=6).hexdigest()
    offset = 0
    cursor = req.arg("cursor")
    if cursor:
        try:
            raw_offset, _, raw_fingerprint = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
            offset = int(raw_offset)
        except (ValueError, UnicodeDecodeError):
            raise _bad("cursor", f"{cursor!r} is not a cursor this server issued") from None
        if raw_fingerprint != fingerprint or offset < 0:
            raise _bad("cursor", "belongs to a different query (filters changed between pages)")
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    next_cursor = base64.urlsafe_b64encode(f"{offset + limit}:{fingerprint}".encode()).decode() if more else ""
    return page, next_cursor


# ---- Kalshi ----------------------------------------------------------------------------------


def _series_filter(req: Request) -> City | None | bool:
    """The series asked for; False when it names a series the simulator does not list."""
    series = req.arg("series_ticker")
    if not series:
        return None
    try:
        return city_for_series(series)
    except UnknownTicker:
        return False


def _selected_days(config: SimConfig, req: Request) -> list[CityDay]:
    """City-days matching ``event_ticker`` / ``series_ticker`` (``tickers`` is applied per market)."""
    event = req.arg("event_ticker")
    if event and "," in event:
        raise _bad("event_ticker", "takes a single event ticker")
    series = _series_filter(req)
    if series is False:
        return []
    if event:
        try:
            day = find_event(config, event)
        except UnknownTicker:
            return []
        return [day] if series is None or day.city == series else []
    return list(iter_city_days(config, series or None))


def _ticker_set(req: Request) -> set[str] | None:
    raw = req.arg("tickers")
    return {t.strip() for t in raw.split(",") if t.strip()} if raw else None


def _markets_response(config: SimConfig, req: Request, *, historical: bool) -> dict[str, Any]:
    status = _status_arg(req) if not historical else None
    tickers = _ticker_set(req)
    markets = []
    for day in _selected_days(config, req):
        if day.is_historical(config) != historical:
            continue
        if status and day.status(config.now) != _STATUS_FILTERS[status]:
            continue
        for i, spec in enumerate(day.markets):
            if tickers is None or spec.ticker in tickers:
                markets.append((day, i))
    page, cursor = _page(req, markets, default_limit=100, max_limit=1000)
    return {"markets": [kalshi_wire.market_payload(config, d, i) for d, i in page], "cursor": cursor}


def _market(config: SimConfig, ticker: str, *, historical: bool) -> tuple[CityDay, int]:
    try:
        day, i = find_market(config, ticker)
    except UnknownTicker as exc:
        raise _not_found(str(exc)) from None
    if day.is_historical(config) and not historical:
        raise _not_found(
            f"market {ticker} settled before the historical cutoff "
            f"{iso_z(config.historical_cutoff)}; use /historical/markets/{ticker}"
        )
    if historical and not day.is_historical(config):
        raise _not_found(f"market {ticker} is not in the historical archive; use /markets/{ticker}")
    return day, i


def _candles_response(config: SimConfig, req: Request, ticker: str, *, historical: bool) -> dict[str, Any]:
    day, i = _market(config, ticker, historical=historical)
    start_ts = _int_arg(req, "start_ts")
    end_ts = _int_arg(req, "end_ts")
    period = _int_arg(req, "period_interval")
    if period not in _CANDLE_PERIODS:
        raise _bad("period_interval", f"{period} is not one of {_CANDLE_PERIODS}")
    if period != 1:
        raise _bad("period_interval", "the simulator serves 1-minute candles only; aggregate them yourself")
    if _bool_arg(req, "include_latest_before_start"):
        raise _bad("include_latest_before_start", "is not supported by the simulator")
    if end_ts < start_ts:
        raise _bad("end_ts", f"{end_ts} is before start_ts {start_ts}")
    return {"ticker": ticker, "candlesticks": kalshi_wire.candlesticks(config, day, i, start_ts, end_ts)}


def _trades_response(config: SimConfig, req: Request, *, historical: bool) -> dict[str, Any]:
    min_ts, max_ts = _optional_int(req, "min_ts"), _optional_int(req, "max_ts")
    cutoff_us = int(config.historical_cutoff.timestamp() * 1_000_000)
    now_us = int(config.now.timestamp() * 1_000_000)
    lo_us = -1 if min_ts is None else min_ts * 1_000_000
    hi_us = now_us if max_ts is None else min(now_us, max_ts * 1_000_000 + 999_999)
    if historical:
        hi_us = min(hi_us, cutoff_us - 1)
    else:
        lo_us = max(lo_us, cutoff_us)
    ticker = req.arg("ticker")
    if ticker:
        try:
            day, index = find_market(config, ticker)
        except UnknownTicker:
            days, index = [], None
        else:
            days = [day]
    else:
        days, index = list(iter_city_days(config)), None
    found = []
    for day in days:
        if day.start.timestamp() * 1_000_000 > hi_us or day.end.timestamp() * 1_000_000 <= lo_us:
            continue
        upto = day.trade_slice(hi_us).stop
        for j in range(upto - 1, -1, -1):  # newest first, as Kalshi lists trades
            if day.trade_us[j] < lo_us:
                break
            if index is None or day.trade_market[j] == index:
                found.append((int(day.trade_us[j]), day, j))
    found.sort(key=lambda t: -t[0])
    page, cursor = _page(req, found, default_limit=100, max_limit=1000)
    return {"trades": [kalshi_wire.trade_payload(day, j) for _, day, j in page], "cursor": cursor}


def _events_response(config: SimConfig, req: Request) -> dict[str, Any]:
    status = _status_arg(req)
    if status == "unopened":
        events = []
    else:
        series = _series_filter(req)
        days = [] if series is False else list(iter_city_days(config, series or None))
        events = [d for d in days if status is None or kalshi_wire.event_status(config, d) == status]
    page, cursor = _page(req, events, default_limit=200, max_limit=200)
    nested = _bool_arg(req, "with_nested_markets")
    return {
        "events": [kalshi_wire.event_payload(config, d, nested=nested) for d in page],
        "milestones": [],
        "cursor": cursor,
    }


def _kalshi(config: SimConfig, req: Request, path: str) -> dict[str, Any]:
    if path == "/series":
        return {"series": [kalshi_wire.series_payload(c) for c in settings().cities.values()]}
    if match := re.fullmatch(r"/series/([^/]+)", path):
        try:
            return {"series": kalshi_wire.series_payload(city_for_series(match[1]))}
        except UnknownTicker as exc:
            raise _not_found(str(exc)) from None
    if path == "/events":
        return _events_response(config, req)
    if match := re.fullmatch(r"/events/([^/]+)", path):
        try:
            day = find_event(config, match[1])
        except UnknownTicker as exc:
            raise _not_found(str(exc)) from None
        nested = _bool_arg(req, "with_nested_markets")
        markets = [] if day.is_historical(config) else kalshi_wire.market_list(config, day)
        return {"event": kalshi_wire.event_payload(config, day, nested=nested), "markets": markets}
    if path == "/markets":
        _refuse(req, _UNSUPPORTED_MARKET_FILTERS)
        return _markets_response(config, req, historical=False)
    if path == "/markets/trades":
        return _trades_response(config, req, historical=False)
    if match := re.fullmatch(r"/markets/([^/]+)/orderbook", path):
        day, i = _market(config, match[1], historical=False)
        depth = _int_arg(req, "depth", default=0, hi=100)
        return kalshi_wire.orderbook_payload(config, day, i, depth)
    if match := re.fullmatch(r"/markets/([^/]+)", path):
        day, i = _market(config, match[1], historical=False)
        return {"market": kalshi_wire.market_payload(config, day, i)}
    if match := re.fullmatch(r"/series/([^/]+)/markets/([^/]+)/candlesticks", path):
        series, ticker = match[1], match[2]
        if not ticker.startswith(f"{series}-"):
            raise _not_found(f"market {ticker} is not in series {series}")
        return _candles_response(config, req, ticker, historical=False)
    if path == "/historical/cutoff":
        cutoff = iso_z(config.historical_cutoff)
        return {
            "market_settled_ts": cutoff,
            "trades_created_ts": cutoff,
            "orders_updated_ts": cutoff,
            "market_positions_last_updated_ts": cutoff,
        }
    if path == "/historical/markets":
        return _markets_response(config, req, historical=True)
    if match := re.fullmatch(r"/historical/markets/([^/]+)/candlesticks", path):
        return _candles_response(config, req, match[1], historical=True)
    if match := re.fullmatch(r"/historical/markets/([^/]+)", path):
        day, i = _market(config, match[1], historical=True)
        return {"market": kalshi_wire.market_payload(config, day, i)}
    if path == "/historical/trades":
        return _trades_response(config, req, historical=True)
    raise _not_found(f"no route for GET {KALSHI_PREFIX}{path}")


# ---- Visual Crossing -------------------------------------------------------------------------

_VC_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _vc_date(raw: str, what: str) -> date:
    if not _VC_DATE.fullmatch(raw):
        raise weather_wire.VcRequestError(f"Bad API Request:Invalid {what} date format: {raw!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise weather_wire.VcRequestError(f"Bad API Request:Invalid {what} date: {raw!r}") from None


def _vc_query(req: Request, rest: str) -> weather_wire.VcQuery:
    if not (req.arg("key") or "").strip():
        raise weather_wire.VcRequestError(
            "No API key or session found. Please verify that your API key parameter is correct.", status=401
        )
    parts = [unquote(p) for p in rest.strip("/").split("/")]
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise weather_wire.VcRequestError("Bad API Request:expected /timeline/{location}/{date1}/{date2}")
    by_station = {f"stn:{c.station}": c for c in settings().cities.values()}
    city = by_station.get(parts[0])
    if city is None:
        raise weather_wire.VcRequestError(
            f"Bad API Request:Invalid location parameter value. The simulator serves only {', '.join(by_station)}."
        )
    if len(parts) < 2:
        raise weather_wire.VcRequestError("Bad API Request:the simulator needs an explicit date1")
    first = _vc_date(parts[1], "start")
    last = _vc_date(parts[2], "end") if len(parts) == 3 else first
    if last < first or (last - first).days >= weather_wire.VC_MAX_DAYS:
        raise weather_wire.VcRequestError(f"Bad API Request:Invalid date range {first} to {last}")
    unit = req.arg("unitGroup") or "us"
    if unit != "us":
        raise weather_wire.VcRequestError(f"Bad API Request:the simulator serves unitGroup=us only, not {unit!r}")
    timezone = req.arg("timezone")
    if timezone not in (None, "", "Z"):
        raise weather_wire.VcRequestError(
            f"Bad API Request:the simulator supports timezone=Z or the station's own zone, not {timezone!r}"
        )
    include = frozenset(t.strip() for t in (req.arg("include") or "days,hours").split(",") if t.strip())
    interval = weather_wire.VC_DEFAULT_MINUTE_INTERVAL
    for option in (req.arg("options") or "").split(","):
        if option.startswith("minuteinterval_"):
            try:
                interval = int(option.removeprefix("minuteinterval_"))
            except ValueError:
                interval = -1
            if interval not in weather_wire.VC_MINUTE_INTERVALS:
                raise weather_wire.VcRequestError(f"Bad API Request:Invalid option {option!r}")
    basis_raw = req.arg("forecastBasisDate")
    basis = _vc_date(basis_raw, "forecastBasisDate") if basis_raw else None
    if basis is not None and "minutes" in include:
        raise weather_wire.VcRequestError(
            "Bad API Request:the simulator keeps hourly historical forecasts; drop minutes from include"
        )
    if basis is None and "fcst" in include and "obs" not in include:
        raise weather_wire.VcRequestError(
            "Bad API Request:the simulator serves forecasts only as of a forecastBasisDate"
        )
    elements_raw = req.arg("elements")
    elements = tuple(e.strip() for e in elements_raw.split(",") if e.strip()) if elements_raw else None
    return weather_wire.VcQuery(city, first, last, timezone == "Z", include, interval, basis, elements)


# ---- the server ------------------------------------------------------------------------------


def _error_json(exc: ApiError) -> Response:
    return Response.json({"error": {"code": exc.code, "message": exc.message}}, status=exc.status)


class SimServer:
    """The simulator on one loopback port; a context manager. Counts requests per service."""

    def __init__(self, config: SimConfig | None = None):
        self.config = config or SimConfig()
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._server = LoopbackServer(self._app)
        self._started = False

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def kalshi_base_url(self) -> str:
        return f"{self.url}{KALSHI_PREFIX}"

    @property
    def vc_base_url(self) -> str:
        """The Timeline endpoint base, to which ``/{location}/{date1}/{date2}`` is appended."""
        return f"{self.url}{VC_PREFIX}"

    @property
    def nws_base_url(self) -> str:
        return f"{self.url}{NWS_PREFIX}"

    @property
    def request_counts(self) -> dict[str, int]:
        """Requests served so far by service: kalshi, vc, nws, unknown."""
        with self._lock:
            return dict(self._counts)

    @property
    def requests_served(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def start(self) -> SimServer:
        with self._lock:
            if not self._started:
                self._server.start()
                self._started = True
        return self

    def stop(self) -> None:
        with self._lock:
            if self._started:
                self._server.stop()
                self._started = False

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _count(self, service: str) -> None:
        with self._lock:
            self._counts[service] += 1

    def _app(self, req: Request) -> Response:
        path = req.path
        for service, prefix, handler in (
            ("kalshi", KALSHI_PREFIX, self._kalshi),
            ("vc", VC_PREFIX, self._vc),
            ("nws", NWS_PREFIX, self._nws),
        ):
            if path.startswith(prefix + "/"):
                self._count(service)
                return handler(req, path.removeprefix(prefix))
        self._count("unknown")
        return _error_json(_not_found(f"no route for {req.method} {path}"))

    def _kalshi(self, req: Request, path: str) -> Response:
        if req.method != "GET":
            return _error_json(ApiError(405, "method_not_allowed", f"the simulator serves GET only, not {req.method}"))
        try:
            return Response.json(_kalshi(self.config, req, path))
        except ApiError as exc:
            return _error_json(exc)

    def _vc(self, req: Request, rest: str) -> Response:
        try:
            return Response.json(weather_wire.timeline(self.config, _vc_query(req, rest)))
        except weather_wire.VcRequestError as exc:
            return Response.text(str(exc), status=exc.status)

    def _nws(self, req: Request, path: str) -> Response:
        base = self.nws_base_url
        if match := re.fullmatch(r"/products/types/CLI/locations/([A-Za-z0-9]+)", path):
            return Response.json(weather_wire.cli_listing(self.config, match[1].upper(), base))
        if match := re.fullmatch(r"/products/([^/]+)", path):
            product = weather_wire.cli_product(self.config, match[1], base)
            if product is not None:
                return Response.json(product)
            detail = f"Product {match[1]} not found"
        else:
            detail = f"no route for {req.method} {NWS_PREFIX}{path}"
        problem = {
            "type": "https://api.weather.gov/problems/NotFound",
            "title": "Not Found",
            "status": 404,
            "detail": detail,
        }
        return Response(404, Response.json(problem).body, {"Content-Type": "application/problem+json"})


_shared_lock = threading.Lock()
_shared: dict[SimConfig, SimServer] = {}


def shared_sim_server(config: SimConfig | None = None) -> SimServer:
    """The process's running simulator for ``config`` (default ``SimConfig()``), started on first use.

    Dagster resources in sim mode point their clients at it; it lives until the process exits.
    """
    config = config or SimConfig()
    with _shared_lock:
        server = _shared.get(config)
        if server is None:
            server = _shared[config] = SimServer(config).start()
        return server
