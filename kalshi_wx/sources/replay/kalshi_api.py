"""Recorded Kalshi REST payloads served at the Trade API v2 paths (``layout`` says which file answers what).

The payloads are served as recorded, cents-era fields included: ``core.payloads.kalshi`` reads them.
The tiers split at the manifest's cutoff as the exchange splits them (reference/kalshi_api.md s2): a
market settled before it (its ``settlement_ts``, or in cents-era payloads its ``close_time``) is only
under ``/historical/markets``, a trade created before it only under ``/historical/trades``. The
default cutoff (1970) leaves everything live. Candles are served on both tiers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kalshi_wx.core.timestamps import parse_time
from kalshi_wx.sources.loopback import Request, Response
from kalshi_wx.sources.replay.layout import ReplayDir
from kalshi_wx.sources.sim.common import iso_z
from kalshi_wx.sources.sim.params import (
    ApiError,
    bad_request,
    get_only,
    int_arg,
    not_found,
    optional_int_arg,
    page,
    refuse,
)

PREFIX = "/kalshi/trade-api/v2"
_UNSUPPORTED_MARKET_FILTERS = ("status", "min_close_ts", "max_close_ts", "min_settled_ts", "max_settled_ts")


def event_of(ticker: str) -> str:
    """``KXHIGHCHI-25APR07-T43`` -> ``KXHIGHCHI-25APR07``."""
    return ticker.rsplit("-", 1)[0]


def _event_markets(replay: ReplayDir, event: str) -> list[dict[str, Any]]:
    path = replay.file("kalshi", "events", f"{event}.json")
    if path is None:
        return []
    markets = replay.json(path).get("markets")
    if not isinstance(markets, list):
        raise ApiError(500, "bad_recording", f"{path}: no 'markets' list")
    return markets


def _events(replay: ReplayDir, series: str | None) -> Iterator[str]:
    for path in replay.files("kalshi", "events", suffix=".json"):
        event = path.stem
        if series is None or event.split("-")[0] == series:
            yield event


def _settled_before_cutoff(market: dict[str, Any], replay: ReplayDir) -> bool:
    for field in ("settlement_ts", "close_time"):
        when = parse_time(market.get(field), source="replay", field=field)
        if when is not None:
            return when < replay.historical_cutoff()
    return False


def _markets(replay: ReplayDir, req: Request, *, historical: bool) -> dict[str, Any]:
    refuse(req, _UNSUPPORTED_MARKET_FILTERS)
    event, series, tickers = req.arg("event_ticker"), req.arg("series_ticker"), req.arg("tickers")
    if event:
        markets = _event_markets(replay, event)
    elif tickers:
        wanted = [t.strip() for t in tickers.split(",") if t.strip()]
        markets = [m for e in dict.fromkeys(event_of(t) for t in wanted) for m in _event_markets(replay, e)]
        markets = [m for m in markets if m.get("ticker") in wanted]
    else:
        markets = [m for e in _events(replay, series or None) for m in _event_markets(replay, e)]
    if series:
        markets = [m for m in markets if str(m.get("event_ticker", "")).split("-")[0] == series]
    markets = [m for m in markets if _settled_before_cutoff(m, replay) == historical]
    items, cursor = page(req, markets, default_limit=100, max_limit=1000)
    return {"markets": items, "cursor": cursor}


def _market(replay: ReplayDir, ticker: str) -> dict[str, Any]:
    for market in _event_markets(replay, event_of(ticker)):
        if market.get("ticker") == ticker:
            return {"market": market}
    raise not_found(f"market {ticker} is not in the replay")


def _created_us(trade: dict[str, Any], source: str) -> int:
    when = parse_time(trade.get("created_time"), source=source, field="created_time")
    if when is None:
        raise ApiError(500, "bad_recording", f"{source}: a trade has no created_time")
    return int(when.timestamp() * 1_000_000)


def _trades(replay: ReplayDir, req: Request, *, historical: bool) -> dict[str, Any]:
    ticker = req.arg("ticker")
    if not ticker:
        raise bad_request("ticker", "the replay serves trades per market: pass ticker")
    min_ts, max_ts = optional_int_arg(req, "min_ts"), optional_int_arg(req, "max_ts")
    path = replay.file("kalshi", "trades", f"{event_of(ticker)}.json")
    recorded = replay.json(path).get(ticker, []) if path else []
    source = str(path)
    cutoff = int(replay.historical_cutoff().timestamp() * 1_000_000)
    lo = -1 if min_ts is None else min_ts * 1_000_000
    hi = None if max_ts is None else max_ts * 1_000_000 + 999_999
    if historical:
        hi = cutoff - 1 if hi is None else min(hi, cutoff - 1)
    else:
        lo = max(lo, cutoff)
    stamped = [(_created_us(t, source), t) for t in recorded]
    chosen = [t for us, t in sorted(stamped, key=lambda p: -p[0]) if us >= lo and (hi is None or us <= hi)]
    items, cursor = page(req, chosen, default_limit=100, max_limit=1000)
    return {"trades": items, "cursor": cursor}


def _candles(replay: ReplayDir, req: Request, ticker: str) -> dict[str, Any]:
    start_ts, end_ts = int_arg(req, "start_ts"), int_arg(req, "end_ts")
    int_arg(req, "period_interval")
    path = replay.file("kalshi", "candles", f"{ticker}.json")
    recorded = replay.json(path).get("candlesticks", []) if path else []
    return {
        "ticker": ticker,
        "candlesticks": [c for c in recorded if start_ts <= int(c.get("end_period_ts", -1)) <= end_ts],
    }


def _route(replay: ReplayDir, req: Request, path: str) -> dict[str, Any]:
    if match := re.fullmatch(r"/series/([^/]+)", path):
        file = replay.file("kalshi", "series", f"{match[1]}.json")
        if file is None:
            raise not_found(f"series {match[1]} is not in the replay")
        body: dict[str, Any] = replay.json(file)
        return body
    if match := re.fullmatch(r"/events/([^/]+)", path):
        file = replay.file("kalshi", "events", f"{match[1]}.json")
        if file is None:
            raise not_found(f"event {match[1]} is not in the replay")
        event: dict[str, Any] = replay.json(file)
        return event
    if path in ("/markets", "/historical/markets"):
        return _markets(replay, req, historical=path.startswith("/historical"))
    if path in ("/markets/trades", "/historical/trades"):
        return _trades(replay, req, historical=path.startswith("/historical"))
    if match := re.fullmatch(r"/series/[^/]+/markets/([^/]+)/candlesticks", path):
        return _candles(replay, req, match[1])
    if match := re.fullmatch(r"/historical/markets/([^/]+)/candlesticks", path):
        return _candles(replay, req, match[1])
    if match := re.fullmatch(r"/(?:historical/)?markets/([^/]+)", path):
        return _market(replay, match[1])
    if path == "/historical/cutoff":
        cutoff = iso_z(replay.historical_cutoff())
        return {"market_settled_ts": cutoff, "trades_created_ts": cutoff, "orders_updated_ts": cutoff}
    raise not_found(f"no route for GET {PREFIX}{path} in the replay")


def serve(replay: ReplayDir, req: Request, path: str) -> Response:
    """Answer ``req`` for ``path`` (below ``PREFIX``) from the recorded files, or Kalshi's JSON error."""
    return get_only(req, "the replay", lambda: _route(replay, req, path))
