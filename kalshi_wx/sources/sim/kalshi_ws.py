"""The simulator's Kalshi WebSocket API on loopback (reference/kalshi_api.md s7).

The same commands and messages as ``wss://.../trade-api/ws/v2``: ``subscribe`` /
``unsubscribe`` / ``update_subscription`` (``add_markets``, ``delete_markets``,
``get_snapshot``); ``orderbook_delta`` (a snapshot per market, then deltas), ``ticker``,
``trade``, ``market_lifecycle_v2``; ``seq`` on the envelope, per ``sid``; error replies with the
documented codes; a Ping every ``ping_interval_s`` with body ``heartbeat``. The private ``fill``
and ``user_orders`` channels need an authenticated connection and carry nothing yet (the
simulator has no orders). When a public key is configured the handshake must carry a valid
``KALSHI-ACCESS-*`` signature over ``timestamp + GET + /trade-api/ws/v2``.

The books come from ``live_book.LiveBookFeed``, stepped every ``tick_s`` on the server's clock.
``WsFaults`` injects what a real link does (sequence gaps, duplicates, stale snapshots, cut
connections, refused subscriptions), and ``price_format="legacy"`` speaks the integer-cent format of 2025.

It runs `websockets`' asyncio server on its own thread and event loop, like ``sources/loopback.py``
does for HTTP; the control methods (``drop_connections``, ``freeze``, ``book``, ...) are called
from any thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from decimal import Decimal
from http import HTTPStatus
from itertools import count
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from kalshi_wx.sources.kalshi.auth import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, PublicKey, verify_signature
from kalshi_wx.sources.sim.common import SimConfig, centi_to_count, cents_to_dollars
from kalshi_wx.sources.sim.live_book import (
    BookDelta,
    FeedEvent,
    Lifecycle,
    LiveBookFeed,
    LiveMarket,
    TopChange,
    Trade,
    sim_universe,
)

log = logging.getLogger(__name__)

WS_PATH = "/trade-api/ws/v2"
PriceFormat = Literal["fixed_point", "legacy"]
_BOOK_CHANNEL = "orderbook_delta"
# Channels that need market tickers, and the private ones that need an authenticated connection.
_TICKER_CHANNELS = frozenset({_BOOK_CHANNEL})
_PRIVATE = frozenset({"fill", "user_orders"})
_CHANNELS = frozenset({_BOOK_CHANNEL, "ticker", "trade", "market_lifecycle_v2", *_PRIVATE})
_ACTIONS = frozenset({"add_markets", "delete_markets", "get_snapshot"})
_MAX_CLOCK_SKEW_MS = 5_000
T = TypeVar("T")


@dataclass(frozen=True)
class WsFaults:
    """What goes wrong on the link, deterministically. Counts are per subscription; 0 turns a fault off."""

    gap_every: int = 0  # every Nth orderbook delta is not sent although its seq is used: a gap
    duplicate_every: int = 0  # every Nth orderbook delta is sent twice, same seq
    stale_snapshot_every: int = 0  # after every Nth delta, the market's last snapshot again, old seq and all
    drop_every_s: float = 0.0  # every connection is cut (TCP reset, no close frame) this often
    refuse_book_subscriptions: int = 0  # the first N orderbook_delta subscribes get error 10 (channel error)


@dataclass
class WsServerStats:
    connections: int = 0
    rejected_handshakes: int = 0
    commands: int = 0
    messages_sent: int = 0
    deltas_sent: int = 0
    gaps_injected: int = 0
    duplicates_sent: int = 0
    stale_snapshots_sent: int = 0
    drops: int = 0
    pings_sent: int = 0
    pongs_received: int = 0


@dataclass(frozen=True, slots=True)
class SentDelta:
    """One orderbook delta as it left the server (the bench's log, to measure the recorder's lag)."""

    connection: int
    sid: int
    seq: int
    market_ticker: str
    ts_ms: int


@dataclass
class _Sub:
    sid: int
    channel: str
    tickers: set[str] | None  # None: every market
    seq: int = 0
    deltas: int = 0
    snapshots: dict[str, str] = field(default_factory=dict)  # the last snapshot text sent per market

    def wants(self, ticker: str) -> bool:
        return self.tickers is None or ticker in self.tickers


@dataclass
class _Conn:
    id: int
    ws: ServerConnection
    authenticated: bool
    subs: dict[int, _Sub] = field(default_factory=dict)
    next_sid: int = 1
    closed: bool = False


class _CommandError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


class SimWsServer:
    """The simulator's WebSocket API for ``series`` (weather and crypto series of ``config``).

    ``clock`` gives epoch seconds; the REST simulator serving discovery must use the same clock
    (``SimServer(config, clock=...)``). ``log_sent`` keeps every orderbook delta sent (``sent_deltas``).
    """

    def __init__(
        self,
        config: SimConfig,
        *,
        series: Sequence[str],
        clock: Callable[[], float] = time.time,
        deltas_per_s: float = 2.0,
        levels: int = 5,
        public_key: PublicKey | None = None,
        ping_interval_s: float = 10.0,
        pong_timeout_s: float = 10.0,
        faults: WsFaults = WsFaults(),
        price_format: PriceFormat = "fixed_point",
        tick_s: float = 0.02,
        log_sent: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.config = config
        self.series = tuple(series)
        self._clock = clock
        self._feed = LiveBookFeed(
            sim_universe(config, self.series), seed=config.seed, deltas_per_s=deltas_per_s, levels=levels
        )
        self._public_key = public_key
        self._ping_interval_s = ping_interval_s
        self._pong_timeout_s = pong_timeout_s
        self._faults = faults
        self._format = price_format
        self._tick_s = tick_s
        self._log_sent = log_sent
        self._host, self._port = host, port
        self.stats = WsServerStats()
        self.handshake_timestamps: list[str | None] = []
        self._sent: list[SentDelta] = []
        self._conns: dict[int, _Conn] = {}
        self._conn_ids = count(1)
        self._authenticated: set[int] = set()
        self._frozen = False
        self._gap_once = False
        self._refusals = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"ws://{self._host}:{self._port}{WS_PATH}"

    def start(self) -> SimWsServer:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="sim-kalshi-ws", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError(f"simulated Kalshi WebSocket failed to start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None or self._stop is None:
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self._thread = None

    def __enter__(self) -> SimWsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to start() instead of dying silently in a thread
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        server: Server
        async with serve(
            self._handler,
            self._host,
            self._port,
            process_request=self._process_request,
            ping_interval=None,  # Kalshi's own heartbeat below, with its body
            close_timeout=1,
            max_queue=None,
        ) as server:
            self._port = server.sockets[0].getsockname()[1] if not self._port else self._port
            pump = asyncio.create_task(self._pump())
            self._ready.set()
            await self._stop.wait()
            pump.cancel()
            for conn in list(self._conns.values()):
                conn.ws.transport.abort()

    # -- controls (any thread) --------------------------------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        if self._loop is None:
            raise RuntimeError("the simulated WebSocket server is not running")

        async def run() -> T:
            return fn()

        future: Future[T] = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return future.result(30)

    def _await(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            raise RuntimeError("the simulated WebSocket server is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    def set_faults(self, faults: WsFaults) -> None:
        self._call(lambda: setattr(self, "_faults", faults))

    def freeze(self) -> None:
        """Stop the books moving (no deltas) until ``thaw``: lets a test compare books at rest."""
        self._call(lambda: setattr(self, "_frozen", True))

    def thaw(self) -> None:
        self._call(lambda: setattr(self, "_frozen", False))

    def inject_gap(self) -> None:
        """Skip the next orderbook delta sent (its seq is still used): one gap on one subscription."""
        self._call(lambda: setattr(self, "_gap_once", True))

    def drop_connections(self) -> int:
        """Cut every connection without a close frame, as a broken link does; how many were cut."""

        def drop() -> int:
            conns = [c for c in self._conns.values() if not c.closed]
            for conn in conns:
                conn.closed = True
                conn.ws.transport.abort()
            self.stats.drops += len(conns)
            return len(conns)

        return self._call(drop)

    def send_raw(self, text: str) -> None:
        """Send ``text`` as is to every connection (e.g. a malformed message)."""

        async def send() -> None:
            for conn in list(self._conns.values()):
                await self._send(conn, text)

        self._await(send())

    def send_malformed_delta(self, ticker: str) -> list[tuple[int, int]]:
        """Send every subscription of ``ticker``'s book an ``orderbook_delta`` whose price is not a number,
        in sequence (it uses the next seq); the (sid, seq) of each."""

        async def send() -> list[tuple[int, int]]:
            sent = []
            for conn in list(self._conns.values()):
                for sub in list(conn.subs.values()):
                    if sub.channel == _BOOK_CHANNEL and sub.wants(ticker):
                        sub.seq += 1
                        msg = {"market_ticker": ticker, "price_dollars": "n/a", "delta_fp": "1.00", "side": "yes"}
                        await self._send(
                            conn, _json({"type": _BOOK_CHANNEL, "sid": sub.sid, "seq": sub.seq, "msg": msg})
                        )
                        sent.append((sub.sid, sub.seq))
            return sent

        return self._await(send())

    def book(self, ticker: str) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]] | None:
        """The server's (YES bids, NO bids) of ``ticker`` as {dollars: contracts}; None when not open."""
        levels = self._call(lambda: self._feed.levels_of(ticker))
        if levels is None:
            return None
        yes, no = levels
        return (
            {Decimal(p) / 100: Decimal(s) / 100 for p, s in yes.items()},
            {Decimal(p) / 100: Decimal(s) / 100 for p, s in no.items()},
        )

    def open_tickers(self) -> list[str]:
        return self._call(lambda: self._feed.tickers)

    def subscriptions(self) -> list[tuple[int, int, str, int]]:
        """(connection, sid, channel, last seq) of every live subscription."""
        return self._call(
            lambda: [
                (c.id, s.sid, s.channel, s.seq) for c in self._conns.values() if not c.closed for s in c.subs.values()
            ]
        )

    def sent_deltas(self) -> list[SentDelta]:
        return self._call(lambda: list(self._sent))

    def stats_snapshot(self) -> WsServerStats:
        return self._call(lambda: replace(self.stats))

    # -- handshake -----------------------------------------------------------------------------------

    def _reject(self, connection: ServerConnection, status: HTTPStatus, message: str) -> Response:
        self.stats.rejected_handshakes += 1
        return connection.respond(status, message + "\n")

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path != WS_PATH:
            return self._reject(connection, HTTPStatus.NOT_FOUND, f"no WebSocket at {path}; use {WS_PATH}")
        headers: Headers = request.headers
        timestamp = headers.get(HEADER_TIMESTAMP)
        self.handshake_timestamps.append(timestamp)
        if self._public_key is None:
            return None
        key, signature = headers.get(HEADER_KEY), headers.get(HEADER_SIGNATURE)
        if not (key and timestamp and signature):
            return self._reject(connection, HTTPStatus.UNAUTHORIZED, "authentication required: KALSHI-ACCESS-* headers")
        if not timestamp.isdigit() or abs(int(self._clock() * 1000) - int(timestamp)) > _MAX_CLOCK_SKEW_MS:
            return self._reject(connection, HTTPStatus.UNAUTHORIZED, f"stale or invalid timestamp {timestamp!r}")
        if not verify_signature(
            self._public_key, timestamp_ms=timestamp, method="GET", path=WS_PATH, signature=signature
        ):
            return self._reject(connection, HTTPStatus.UNAUTHORIZED, "signature does not verify")
        self._authenticated.add(id(connection))
        return None

    # -- a connection --------------------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        conn = _Conn(next(self._conn_ids), ws, id(ws) in self._authenticated)
        self._authenticated.discard(id(ws))
        self._conns[conn.id] = conn
        self.stats.connections += 1
        pinger = asyncio.create_task(self._ping(conn))
        try:
            async for raw in ws:
                self.stats.commands += 1
                await self._command(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            conn.closed = True
            pinger.cancel()
            self._conns.pop(conn.id, None)

    async def _ping(self, conn: _Conn) -> None:
        while not conn.closed:
            await asyncio.sleep(self._ping_interval_s)
            try:
                waiter = await conn.ws.ping(b"heartbeat")
                self.stats.pings_sent += 1
                await asyncio.wait_for(waiter, self._pong_timeout_s)
                self.stats.pongs_received += 1
            except TimeoutError:
                log.info("sim ws: connection %s sent no pong in %.0f s; closing it", conn.id, self._pong_timeout_s)
                await conn.ws.close(1011, "keepalive ping timeout")
                return
            except ConnectionClosed:
                return

    async def _send(self, conn: _Conn, text: str) -> bool:
        if conn.closed:
            return False
        try:
            await conn.ws.send(text)
        except ConnectionClosed:
            conn.closed = True
            return False
        self.stats.messages_sent += 1
        return True

    async def _reply(self, conn: _Conn, obj: dict[str, Any]) -> None:
        await self._send(conn, _json(obj))

    async def _command(self, conn: _Conn, raw: str | bytes) -> None:
        command_id = None
        try:
            try:
                command = json.loads(raw)
            except ValueError:
                raise _CommandError(5, "command is not JSON") from None
            if not isinstance(command, dict):
                raise _CommandError(5, "command is not a JSON object")
            command_id = command.get("id")
            name = command.get("cmd")
            params = command.get("params") or {}
            if not isinstance(params, dict):
                raise _CommandError(2, "params must be an object")
            if name == "subscribe":
                await self._subscribe(conn, command_id, params)
            elif name == "unsubscribe":
                await self._unsubscribe(conn, command_id, params)
            elif name == "update_subscription":
                await self._update(conn, command_id, params)
            else:
                raise _CommandError(5, f"unknown command {name!r}")
        except _CommandError as exc:
            await self._reply(conn, {"id": command_id, "type": "error", "msg": {"code": exc.code, "msg": exc.message}})

    @staticmethod
    def _tickers(params: dict[str, Any]) -> list[str] | None:
        raw = params.get("market_tickers")
        if raw is None and params.get("market_ticker") is not None:
            raw = [params["market_ticker"]]
        if raw is None:
            return None
        if not isinstance(raw, list) or not all(isinstance(t, str) and t for t in raw):
            raise _CommandError(11, f"market_tickers must be a list of tickers, got {raw!r}")
        return raw

    async def _subscribe(self, conn: _Conn, command_id: Any, params: dict[str, Any]) -> None:
        channels = params.get("channels")
        if not channels:
            raise _CommandError(3, "channels required")
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise _CommandError(11, f"channels must be a list of names, got {channels!r}")
        unknown = [c for c in channels if c not in _CHANNELS]
        if unknown:
            raise _CommandError(8, f"unknown channel {unknown[0]!r}")
        tickers = self._tickers(params)
        if tickers is None and any(c in _TICKER_CHANNELS for c in channels):
            raise _CommandError(2, "orderbook_delta needs market_tickers")
        if not conn.authenticated and any(c in _PRIVATE for c in channels):
            raise _CommandError(9, "authentication required for private channels")
        if _BOOK_CHANNEL in channels and self._refusals < self._faults.refuse_book_subscriptions:
            self._refusals += 1
            raise _CommandError(10, "channel error: orderbook_delta is unavailable, try again")
        for channel in channels:
            sub = _Sub(conn.next_sid, channel, None if tickers is None else set(tickers))
            conn.next_sid += 1
            conn.subs[sub.sid] = sub
            await self._reply(
                conn, {"id": command_id, "type": "subscribed", "msg": {"channel": channel, "sid": sub.sid}}
            )
            if channel == _BOOK_CHANNEL:
                for ticker in tickers or ():
                    await self._snapshot(conn, sub, ticker)

    async def _unsubscribe(self, conn: _Conn, command_id: Any, params: dict[str, Any]) -> None:
        sids = params.get("sids")
        if not sids:
            raise _CommandError(4, "sids required")
        if not isinstance(sids, list) or not all(isinstance(s, int) for s in sids):
            raise _CommandError(11, f"sids must be a list of integers, got {sids!r}")
        missing = [s for s in sids if s not in conn.subs]
        if missing:
            raise _CommandError(7, f"unknown sid {missing[0]}")
        for sid in sids:
            conn.subs.pop(sid)
            await self._reply(conn, {"id": command_id, "type": "unsubscribed", "sid": sid})

    async def _update(self, conn: _Conn, command_id: Any, params: dict[str, Any]) -> None:
        sids = params.get("sids", [params["sid"]] if "sid" in params else None)
        if not sids:
            raise _CommandError(4, "sids required")
        if not isinstance(sids, list) or len(sids) != 1:
            raise _CommandError(12, "update_subscription takes exactly one sid")
        sub = conn.subs.get(sids[0])
        if sub is None:
            raise _CommandError(7, f"unknown sid {sids[0]}")
        action = params.get("action")
        if action not in _ACTIONS:
            raise _CommandError(13, f"unsupported action {action!r}")
        tickers = self._tickers(params)
        if not tickers:
            raise _CommandError(2, f"{action} needs market_tickers")
        if sub.tickers is None:
            raise _CommandError(11, f"sid {sub.sid} covers every market; {action} does not apply")
        if action == "add_markets":
            sub.tickers.update(tickers)
        elif action == "delete_markets":
            sub.tickers.difference_update(tickers)
        await self._reply(
            conn, {"id": command_id, "type": "ok", "sid": sub.sid, "msg": {"market_tickers": sorted(sub.tickers)}}
        )
        if sub.channel == _BOOK_CHANNEL and action != "delete_markets":
            for ticker in tickers:
                if ticker in sub.tickers:
                    await self._snapshot(conn, sub, ticker)

    # -- market data ----------------------------------------------------------------------------------

    def _levels(self, levels: dict[int, int]) -> list[list[Any]]:
        if self._format == "legacy":
            return [[price, size // 100] for price, size in sorted(levels.items())]
        return [[cents_to_dollars(price), centi_to_count(size)] for price, size in sorted(levels.items())]

    async def _snapshot(self, conn: _Conn, sub: _Sub, ticker: str) -> None:
        market = self._feed.market(ticker)
        levels = self._feed.levels_of(ticker)
        if market is None or levels is None:
            return  # not open (yet, or any more): nothing to show, as for a market with no book
        yes, no = levels
        msg: dict[str, Any] = {"market_ticker": ticker, "market_id": market.market_id}
        names = ("yes", "no") if self._format == "legacy" else ("yes_dollars_fp", "no_dollars_fp")
        for name, side in zip(names, (yes, no), strict=True):
            if side:
                msg[name] = self._levels(side)
        sub.seq += 1
        text = _json({"type": "orderbook_snapshot", "sid": sub.sid, "seq": sub.seq, "msg": msg})
        sub.snapshots[ticker] = text
        await self._send(conn, text)

    def _delta_msg(self, event: BookDelta, market: LiveMarket | None) -> str:
        msg: dict[str, Any] = {"market_ticker": event.ticker, "side": event.side, "ts_ms": event.ts_ms}
        if market is not None:
            msg["market_id"] = market.market_id
        if self._format == "legacy":
            msg |= {"price": event.price, "delta": event.delta // 100}
        else:
            msg |= {"price_dollars": cents_to_dollars(event.price), "delta_fp": centi_to_count(event.delta)}
        return _json(msg)

    def _ticker_msg(self, event: TopChange) -> str:
        if self._format == "legacy":
            return _json(
                {"market_ticker": event.ticker, "yes_bid": event.yes_bid, "yes_ask": event.yes_ask,
                 "volume": event.volume // 100, "ts": event.ts_ms // 1000}
            )  # fmt: skip
        return _json(
            {
                "market_ticker": event.ticker,
                "yes_bid_dollars": cents_to_dollars(event.yes_bid),
                "yes_ask_dollars": cents_to_dollars(event.yes_ask),
                "yes_bid_size_fp": centi_to_count(event.yes_bid_size),
                "yes_ask_size_fp": centi_to_count(event.yes_ask_size),
                "volume_fp": centi_to_count(event.volume),
                "ts_ms": event.ts_ms,
            }
        )

    def _trade_msg(self, event: Trade) -> str:
        side = "yes" if event.taker_yes else "no"
        msg: dict[str, Any] = {
            "trade_id": event.trade_id,
            "market_ticker": event.ticker,
            "taker_side": side,
            "taker_outcome_side": side,
            "taker_book_side": "bid" if event.taker_yes else "ask",
            "ts_ms": event.ts_ms,
            "ts": event.ts_ms // 1000,
        }
        if self._format == "legacy":
            msg |= {"yes_price": event.yes_price, "no_price": 100 - event.yes_price, "count": event.count // 100}
        else:
            msg |= {
                "yes_price_dollars": cents_to_dollars(event.yes_price),
                "no_price_dollars": cents_to_dollars(100 - event.yes_price),
                "count_fp": centi_to_count(event.count),
            }
        return _json(msg)

    @staticmethod
    def _lifecycle_msg(event: Lifecycle) -> str:
        msg: dict[str, Any] = {
            "event_type": event.event_type,
            "market_ticker": event.ticker,
            "open_ts": event.open_ts,
            "close_ts": event.close_ts,
        }
        if event.result is not None:
            msg |= {"result": event.result, "determination_ts": event.ts_ms // 1000}
        return _json(msg)

    async def _pump(self) -> None:
        next_drop = time.monotonic() + self._faults.drop_every_s if self._faults.drop_every_s else None
        while True:
            await asyncio.sleep(self._tick_s)
            if self._faults.drop_every_s:
                if next_drop is None:
                    next_drop = time.monotonic() + self._faults.drop_every_s
                elif time.monotonic() >= next_drop:
                    next_drop += self._faults.drop_every_s
                    for conn in [c for c in self._conns.values() if not c.closed]:
                        conn.closed = True
                        conn.ws.transport.abort()
                        self.stats.drops += 1
            else:
                next_drop = None
            if self._frozen:
                continue
            events = self._feed.step(self._clock())
            if events and self._conns:
                await self._dispatch(events)

    async def _dispatch(self, events: list[FeedEvent]) -> None:
        for event in events:
            if isinstance(event, BookDelta):
                msg = self._delta_msg(event, self._feed.market(event.ticker))
                kind, channel = "orderbook_delta", _BOOK_CHANNEL
            elif isinstance(event, TopChange):
                msg, kind, channel = self._ticker_msg(event), "ticker", "ticker"
            elif isinstance(event, Trade):
                msg, kind, channel = self._trade_msg(event), "trade", "trade"
            else:
                msg, kind, channel = self._lifecycle_msg(event), "market_lifecycle_v2", "market_lifecycle_v2"
            for conn in list(self._conns.values()):
                for sub in list(conn.subs.values()):
                    if sub.channel != channel or not sub.wants(event.ticker):
                        continue
                    if channel == _BOOK_CHANNEL:
                        assert isinstance(event, BookDelta)
                        await self._send_delta(conn, sub, event, msg)
                    else:
                        await self._send(conn, f'{{"type":"{kind}","sid":{sub.sid},"msg":{msg}}}')

    async def _send_delta(self, conn: _Conn, sub: _Sub, event: BookDelta, msg: str) -> None:
        faults = self._faults
        sub.seq += 1
        sub.deltas += 1
        if self._gap_once or (faults.gap_every and sub.deltas % faults.gap_every == 0):
            self._gap_once = False
            self.stats.gaps_injected += 1
            return
        text = f'{{"type":"orderbook_delta","sid":{sub.sid},"seq":{sub.seq},"msg":{msg}}}'
        if not await self._send(conn, text):
            return
        self.stats.deltas_sent += 1
        if self._log_sent:
            self._sent.append(SentDelta(conn.id, sub.sid, sub.seq, event.ticker, event.ts_ms))
        if faults.duplicate_every and sub.deltas % faults.duplicate_every == 0 and await self._send(conn, text):
            self.stats.duplicates_sent += 1
        stale = sub.snapshots.get(event.ticker)
        replay = bool(faults.stale_snapshot_every) and sub.deltas % faults.stale_snapshot_every == 0
        if replay and stale is not None and await self._send(conn, stale):
            self.stats.stale_snapshots_sent += 1
