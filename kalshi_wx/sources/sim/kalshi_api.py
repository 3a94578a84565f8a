"""The simulator's Kalshi Trade API v2 market-data routes (reference/kalshi_api.md s2).

Requests are parsed and routed here; the objects they answer with are built by ``kalshi_wire``
(weather) and ``crypto`` (the simulated crypto series of ``SimConfig.crypto``). Weather markets that
settled before ``SimConfig.historical_cutoff`` are served only under ``/historical``; crypto markets
are recent (``CryptoSeries.history_hours``) and always live. Candles and trades are simulated for
weather only.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from kalshi_wx.core.cities import City
from kalshi_wx.sources.loopback import Request, Response
from kalshi_wx.sources.sim import crypto, kalshi_wire
from kalshi_wx.sources.sim.common import CryptoSeries, SimConfig, iso_z, stable_rng
from kalshi_wx.sources.sim.exchange import (
    CityDay,
    UnknownTicker,
    city_for_series,
    find_event,
    find_market,
    iter_city_days,
)
from kalshi_wx.sources.sim.params import (
    bad_request,
    bool_arg,
    get_only,
    int_arg,
    not_found,
    optional_int_arg,
    page,
    refuse,
)

PREFIX = "/trade-api/v2"

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


def _status_arg(req: Request) -> str | None:
    raw = req.arg("status")
    if raw in (None, ""):
        return None
    if raw not in _STATUS_FILTERS:
        raise bad_request("status", f"{raw!r} is not one of {', '.join(_STATUS_FILTERS)}")
    return raw


def _series_payload(config: SimConfig, city: City) -> dict[str, Any]:
    return kalshi_wire.series_payload(
        city, fee_type=config.market.fee_type, fee_multiplier=config.market.fee_multiplier
    )


def _series_filter(config: SimConfig, req: Request) -> City | None | Literal[False]:
    """The series asked for; False when it names a series the simulator does not list."""
    series = req.arg("series_ticker")
    if not series:
        return None
    try:
        return city_for_series(config, series)
    except UnknownTicker:
        return False


def _selected_days(config: SimConfig, req: Request) -> list[CityDay]:
    """City-days matching ``event_ticker`` / ``series_ticker`` (``tickers`` is applied per market)."""
    event = req.arg("event_ticker")
    if event and "," in event:
        raise bad_request("event_ticker", "takes a single event ticker")
    series = _series_filter(config, req)
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


def _crypto_selected(config: SimConfig, req: Request, status: str | None) -> list[crypto.CryptoMarket]:
    """Crypto markets matching ``series_ticker`` / ``event_ticker`` / ``status`` (``tickers`` is applied later)."""
    series_ticker, event = req.arg("series_ticker"), req.arg("event_ticker")
    chosen: list[CryptoSeries] = [c for c in config.crypto if not series_ticker or c.ticker == series_ticker]
    if event:
        try:
            found = crypto.find_event(config, event)
        except crypto.UnknownCryptoTicker:
            return []
        markets = [m for m in found if m.series in chosen]
    else:
        markets = [m for series in chosen for m in crypto.listed_markets(config, series)]
    return [m for m in markets if status is None or m.status(config.now) == _STATUS_FILTERS[status]]


def _markets_response(config: SimConfig, req: Request, *, historical: bool) -> dict[str, Any]:
    status = _status_arg(req) if not historical else None
    tickers = _ticker_set(req)
    markets: list[tuple[CityDay, int] | crypto.CryptoMarket] = []
    for day in _selected_days(config, req):
        if day.is_historical(config) != historical:
            continue
        if status and day.status(config.now) != _STATUS_FILTERS[status]:
            continue
        for i, spec in enumerate(day.markets):
            if tickers is None or spec.ticker in tickers:
                markets.append((day, i))
    if not historical:
        markets += [m for m in _crypto_selected(config, req, status) if tickers is None or m.ticker in tickers]
    markets_page, cursor = page(req, markets, default_limit=100, max_limit=1000)
    return {"markets": [_market_payload(config, item) for item in markets_page], "cursor": cursor}


def _market_payload(config: SimConfig, item: tuple[CityDay, int] | crypto.CryptoMarket) -> dict[str, Any]:
    if isinstance(item, crypto.CryptoMarket):
        return crypto.market_payload(config, item)
    return kalshi_wire.market_payload(config, *item)


def _crypto_market(config: SimConfig, ticker: str) -> crypto.CryptoMarket | None:
    if config.crypto_series(ticker.partition("-")[0]) is None:
        return None
    try:
        return crypto.find_market(config, ticker)
    except crypto.UnknownCryptoTicker as exc:
        raise not_found(str(exc)) from None


def _crypto_orderbook(config: SimConfig, market: crypto.CryptoMarket, depth: int) -> dict[str, Any]:
    seen = min(config.now.timestamp(), market.close_ts - 1)
    bid, ask = crypto.touch_cents(config.seed, market, seen)
    bid_size, ask_size = crypto.touch_sizes(config.seed, market, seen)
    rng = stable_rng(config.seed, market.ticker, int(seen // 60), "book")
    return kalshi_wire.book_payload(bid, ask, bid_size, ask_size, rng, depth)


def _market(config: SimConfig, ticker: str, *, historical: bool) -> tuple[CityDay, int]:
    try:
        day, i = find_market(config, ticker)
    except UnknownTicker as exc:
        raise not_found(str(exc)) from None
    if day.is_historical(config) and not historical:
        raise not_found(
            f"market {ticker} settled before the historical cutoff "
            f"{iso_z(config.historical_cutoff)}; use /historical/markets/{ticker}"
        )
    if historical and not day.is_historical(config):
        raise not_found(f"market {ticker} is not in the historical archive; use /markets/{ticker}")
    return day, i


def _candles_response(config: SimConfig, req: Request, ticker: str, *, historical: bool) -> dict[str, Any]:
    day, i = _market(config, ticker, historical=historical)
    start_ts = int_arg(req, "start_ts")
    end_ts = int_arg(req, "end_ts")
    period = int_arg(req, "period_interval")
    if period not in _CANDLE_PERIODS:
        raise bad_request("period_interval", f"{period} is not one of {_CANDLE_PERIODS}")
    if period != 1:
        raise bad_request("period_interval", "the simulator serves 1-minute candles only; aggregate them yourself")
    if bool_arg(req, "include_latest_before_start"):
        raise bad_request("include_latest_before_start", "is not supported by the simulator")
    if end_ts < start_ts:
        raise bad_request("end_ts", f"{end_ts} is before start_ts {start_ts}")
    return {"ticker": ticker, "candlesticks": kalshi_wire.candlesticks(config, day, i, start_ts, end_ts)}


def _trades_response(config: SimConfig, req: Request, *, historical: bool) -> dict[str, Any]:
    min_ts, max_ts = optional_int_arg(req, "min_ts"), optional_int_arg(req, "max_ts")
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
        if day.open_time.timestamp() * 1_000_000 > hi_us or day.end.timestamp() * 1_000_000 <= lo_us:
            continue
        upto = day.trade_slice(hi_us).stop
        for j in range(upto - 1, -1, -1):  # newest first, as Kalshi lists trades
            if day.trade_us[j] < lo_us:
                break
            if index is None or day.trade_market[j] == index:
                found.append((int(day.trade_us[j]), day, j))
    found.sort(key=lambda t: -t[0])
    trades_page, cursor = page(req, found, default_limit=100, max_limit=1000)
    return {"trades": [kalshi_wire.trade_payload(day, j) for _, day, j in trades_page], "cursor": cursor}


def _events_response(config: SimConfig, req: Request) -> dict[str, Any]:
    status = _status_arg(req)
    events: list[CityDay | tuple[crypto.CryptoMarket, ...]] = []
    if status != "unopened":
        series = _series_filter(config, req)
        days = [] if series is False else list(iter_city_days(config, series or None))
        events += [d for d in days if status is None or kalshi_wire.event_status(config, d) == status]
        windows: dict[str, list[crypto.CryptoMarket]] = {}
        for market in _crypto_selected(config, req, None):
            windows.setdefault(market.event_ticker, []).append(market)
        event_status = {"active": "open", "closed": "closed", "finalized": "settled"}
        events += [
            tuple(ms) for ms in windows.values() if status is None or event_status[ms[0].status(config.now)] == status
        ]
    events_page, cursor = page(req, events, default_limit=200, max_limit=200)
    nested = bool_arg(req, "with_nested_markets")
    return {
        "events": [
            kalshi_wire.event_payload(config, e, nested=nested)
            if isinstance(e, CityDay)
            else crypto.event_payload(config, e, nested=nested)
            for e in events_page
        ],
        "milestones": [],
        "cursor": cursor,
    }


def _route(config: SimConfig, req: Request, path: str) -> dict[str, Any]:
    if path == "/series":
        return {
            "series": [_series_payload(config, c) for c in config.cities]
            + [crypto.series_payload(c) for c in config.crypto]
        }
    if match := re.fullmatch(r"/series/([^/]+)", path):
        if (crypto_series := config.crypto_series(match[1])) is not None:
            return {"series": crypto.series_payload(crypto_series)}
        try:
            return {"series": _series_payload(config, city_for_series(config, match[1]))}
        except UnknownTicker as exc:
            raise not_found(str(exc)) from None
    if path == "/events":
        return _events_response(config, req)
    if match := re.fullmatch(r"/events/([^/]+)", path):
        if config.crypto_series(match[1].partition("-")[0]) is not None:
            try:
                window = crypto.find_event(config, match[1])
            except crypto.UnknownCryptoTicker as exc:
                raise not_found(str(exc)) from None
            nested = bool_arg(req, "with_nested_markets")
            markets = [crypto.market_payload(config, m) for m in window]
            return {"event": crypto.event_payload(config, window, nested=nested), "markets": markets}
        try:
            day = find_event(config, match[1])
        except UnknownTicker as exc:
            raise not_found(str(exc)) from None
        nested = bool_arg(req, "with_nested_markets")
        markets = [] if day.is_historical(config) else kalshi_wire.market_list(config, day)
        return {"event": kalshi_wire.event_payload(config, day, nested=nested), "markets": markets}
    if path == "/markets":
        refuse(req, _UNSUPPORTED_MARKET_FILTERS)
        return _markets_response(config, req, historical=False)
    if path == "/markets/trades":
        return _trades_response(config, req, historical=False)
    if match := re.fullmatch(r"/markets/([^/]+)/orderbook", path):
        depth = int_arg(req, "depth", default=0, hi=100)
        if (crypto_market := _crypto_market(config, match[1])) is not None:
            return _crypto_orderbook(config, crypto_market, depth)
        day, i = _market(config, match[1], historical=False)
        return kalshi_wire.orderbook_payload(config, day, i, depth)
    if match := re.fullmatch(r"/markets/([^/]+)", path):
        if (crypto_market := _crypto_market(config, match[1])) is not None:
            return {"market": crypto.market_payload(config, crypto_market)}
        day, i = _market(config, match[1], historical=False)
        return {"market": kalshi_wire.market_payload(config, day, i)}
    if match := re.fullmatch(r"/series/([^/]+)/markets/([^/]+)/candlesticks", path):
        series, ticker = match[1], match[2]
        if not ticker.startswith(f"{series}-"):
            raise not_found(f"market {ticker} is not in series {series}")
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
    raise not_found(f"no route for GET {PREFIX}{path}")


def serve(config: SimConfig, req: Request, path: str) -> Response:
    """Answer ``req`` for ``path`` (below ``PREFIX``) with Kalshi's JSON body or JSON error."""
    return get_only(req, "the simulator", lambda: _route(config, req, path))
