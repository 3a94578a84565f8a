"""Kalshi WebSocket client (reference/kalshi_api.md s7) on `websockets`' asyncio client.

What it guarantees:

* The handshake is signed (``KALSHI-ACCESS-*`` over ``timestamp + GET + /trade-api/ws/v2``) and
  re-signed on every reconnect, since a signature carries its timestamp.
* ``Subscription`` objects are what the caller holds; they outlive connections. After a reconnect
  every active subscription is sent again (sids change, sequence tracking restarts) and the handler
  is told that every book is invalid until its new snapshot.
* ``seq`` is read from the envelope and tracked per ``sid``: a duplicate (``seq <= last``) is
  dropped; a gap (``seq > last + 1``) invalidates every book on that sid, because the lost message
  may have been any of its markets, and asks for fresh snapshots (``update_subscription``
  ``get_snapshot``). A malformed message is logged with its type, sid and seq and skipped; on a
  book channel its market (or, unknown, every market of the sid) is resnapshotted, because a
  skipped delta leaves a wrong book.
* Server pings are answered by the library; the client's own keepalive pings detect a dead link.
  Reconnects back off exponentially with jitter, capped, and reset after a stable connection.
* An error reply (``type: error``) is surfaced with its documented code: raised as
  ``KalshiWsError`` from an awaited ``subscribe``, otherwise passed to ``WsHandler.on_error``.

Messages are parsed at the edge into the structures of ``kalshi_wx.core.payloads.kalshi_ws``; the
handler (the recorder, the executor) sees only those. Handler callbacks run on the reader: they must
not block, and schedule commands with ``asyncio.create_task`` rather than awaiting them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from kalshi_wx.core.errors import ConfigError
from kalshi_wx.core.payloads.kalshi_ws import (
    DataMessage,
    ErrorReply,
    Ok,
    Subscribed,
    Unsubscribed,
    WsPayloadError,
    envelope,
    parse_message,
)
from kalshi_wx.sources.kalshi.auth import KalshiSigner
from kalshi_wx.sources.kalshi.client import DEMO_BASE, PROD_BASE, resolve_base_url

log = logging.getLogger(__name__)

WS_PATH = "/trade-api/ws/v2"
PROD_WS_URL = f"wss://external-api-ws.kalshi.com{WS_PATH}"
DEMO_WS_URL = f"wss://external-api-ws.demo.kalshi.co{WS_PATH}"
_ALIASES = {"prod": PROD_WS_URL, "production": PROD_WS_URL, "demo": DEMO_WS_URL}
BOOK_CHANNEL = "orderbook_delta"
_CONTROL = frozenset({"subscribed", "unsubscribed", "ok", "error"})
_NEEDS_TICKERS = frozenset({BOOK_CHANNEL})


def resolve_ws_url(value: str | None, api_base: str | None = None) -> str:
    """``KALSHI_WS_URL``: ``prod`` / ``demo`` aliases or a ws(s) URL; empty -> from the REST base.

    Kalshi's own REST hosts map to their WebSocket hosts; any other REST base (a proxy, the
    simulator) serves the WebSocket on the same host and port at ``/trade-api/ws/v2``.
    """
    text = (value or "").strip()
    if text.lower() in _ALIASES:
        return _ALIASES[text.lower()]
    if text:
        parts = urlsplit(text)
        if parts.scheme not in ("ws", "wss") or not parts.netloc:
            raise ConfigError(f"KALSHI_WS_URL={text!r}: expected 'prod', 'demo' or a ws(s):// URL")
        return text
    base = resolve_base_url(api_base)
    if base == PROD_BASE:
        return PROD_WS_URL
    if base == DEMO_BASE:
        return DEMO_WS_URL
    parts = urlsplit(base)
    return urlunsplit(("wss" if parts.scheme == "https" else "ws", parts.netloc, WS_PATH, "", ""))


class KalshiWsError(Exception):
    """Kalshi refused a command: ``error.code`` is one of the documented codes (``ERROR_CODES``)."""

    def __init__(self, error: ErrorReply, command: dict[str, Any] | None):
        self.error, self.command = error, command
        name = (command or {}).get("cmd", "command")
        super().__init__(f"{error} ({name} {json.dumps((command or {}).get('params', {}))[:200]})")

    @property
    def code(self) -> int:
        return self.error.code


@dataclass(frozen=True)
class ReconnectPolicy:
    """Capped exponential backoff with jitter: attempt n waits ``min(max_s, initial_s * multiplier**n)``,
    less up to ``jitter`` of it at random, so many clients cut at once do not return in step."""

    initial_s: float = 0.5
    max_s: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5
    stable_after_s: float = 30.0  # a connection that lived this long starts the backoff over

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.max_s, self.initial_s * self.multiplier ** min(attempt, 64))
        return base * (1.0 - self.jitter * rng.random())


class Subscription:
    """A channel (and its markets) that the client keeps subscribed across reconnects.

    ``sid`` and ``last_seq`` belong to the current connection and are None between connections.
    ``market_tickers`` is None for a channel-wide subscription.
    """

    def __init__(self, channel: str, market_tickers: Iterable[str] | None):
        self.channel = channel
        self.market_tickers: set[str] | None = None if market_tickers is None else set(market_tickers)
        self.sid: int | None = None
        self.last_seq: int | None = None
        self.active = True

    def __repr__(self) -> str:
        markets = "all" if self.market_tickers is None else len(self.market_tickers)
        return f"Subscription({self.channel}, markets={markets}, sid={self.sid}, seq={self.last_seq})"


class WsHandler:
    """What a client's owner is told. Callbacks run on the reader task: keep them short, never block."""

    def on_message(self, message: DataMessage, subscription: Subscription) -> None:
        """A parsed data message that passed the sequence checks."""

    def on_stream_fault(self, subscription: Subscription, kind: str, detail: str) -> None:
        """A message was dropped (``duplicate``), lost (``gap``) or could not be parsed (``malformed``)."""

    def on_books_invalid(self, subscription: Subscription, market_tickers: Sequence[str], reason: str) -> None:
        """These books are wrong until their next snapshot (reason: gap, malformed, reconnect)."""

    def on_connection(self, connected: bool, reason: str) -> None:
        """Connected and subscriptions sent, or disconnected (with why)."""

    def on_error(self, error: ErrorReply, command: dict[str, Any] | None) -> None:
        """An error reply nobody was awaiting."""


@dataclass
class WsCounters:
    connects: int = 0
    disconnects: int = 0
    messages: int = 0
    gaps: int = 0
    duplicates: int = 0
    malformed: int = 0
    resnapshots: int = 0  # markets whose snapshot was asked for again
    errors: int = 0

    @property
    def reconnects(self) -> int:
        return max(0, self.connects - 1)


@dataclass
class _Pending:
    command: dict[str, Any]
    subscription: Subscription | None
    future: asyncio.Future[Any] | None
    tickers_sent: frozenset[str] = frozenset()


class KalshiWebSocket:
    """One connection to Kalshi's WebSocket, kept up by ``run`` until ``close``."""

    def __init__(
        self,
        url: str,
        handler: WsHandler,
        *,
        signer: KalshiSigner | None = None,
        policy: ReconnectPolicy = ReconnectPolicy(),
        rng: random.Random | None = None,
        open_timeout_s: float = 10.0,
        ping_interval_s: float | None = 10.0,
        ping_timeout_s: float | None = 20.0,
        reply_timeout_s: float = 10.0,
    ):
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.netloc:
            raise ConfigError(f"Kalshi WebSocket URL {url!r}: expected ws:// or wss://")
        self.url = url
        self._path = parts.path or WS_PATH
        self.handler = handler
        self._signer = signer
        self.policy = policy
        self._rng = rng or random.Random()
        self._open_timeout_s = open_timeout_s
        self._ping_interval_s = ping_interval_s
        self._ping_timeout_s = ping_timeout_s
        self._reply_timeout_s = reply_timeout_s
        self.counters = WsCounters()
        self._subs: list[Subscription] = []
        self._by_sid: dict[int, Subscription] = {}
        self._pending: dict[int, _Pending] = {}
        self._next_id = 1
        self._ws: ClientConnection | None = None
        self._closing = False
        self._wake: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.last_disconnect_reason = ""

    def __repr__(self) -> str:
        return f"KalshiWebSocket({self.url!r}, signer={self._signer!r}, subscriptions={len(self._subs)})"

    @property
    def connected(self) -> bool:
        return self._ws is not None

    @property
    def closing(self) -> bool:
        """``close`` was called: the next disconnect is the intended one."""
        return self._closing

    @property
    def subscriptions(self) -> list[Subscription]:
        return list(self._subs)

    # -- the connection loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, subscribe, read; on any loss wait and do it again, until ``close``."""
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        attempt = 0
        while not self._closing:
            started = loop.time()
            reason = "closed"
            try:
                await self._session()
            except InvalidStatus as exc:
                status = exc.response.status_code
                body = exc.response.body.decode(errors="replace").strip()[:200] if exc.response.body else ""
                reason = f"handshake rejected with HTTP {status}: {body}"
                log.error("kalshi ws %s: %s (signer %r)", self.url, reason, self._signer)
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                self._disconnected(reason)
            if self._closing:
                break
            if loop.time() - started >= self.policy.stable_after_s:
                attempt = 0
            delay = self.policy.delay(attempt, self._rng)
            attempt += 1
            log.warning("kalshi ws: disconnected (%s); reconnecting in %.2f s", reason, delay)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def close(self) -> None:
        """Stop ``run`` after the current connection closes cleanly."""
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        if self._ws is not None:
            await self._ws.close()

    async def _session(self) -> None:
        headers = self._signer.headers("GET", self._path) if self._signer is not None else None
        async with connect(
            self.url,
            additional_headers=headers,
            open_timeout=self._open_timeout_s,
            ping_interval=self._ping_interval_s,
            ping_timeout=self._ping_timeout_s,
            close_timeout=2,
            max_size=2**24,  # a snapshot of a deep book can exceed the library's 1 MiB default
        ) as ws:
            self._ws = ws
            self.counters.connects += 1
            log.info("kalshi ws: connected to %s (connection %d)", self.url, self.counters.connects)
            for sub in self._subs:
                await self._send_subscribe(sub)
            self.handler.on_connection(True, "connected")
            async for raw in ws:
                self._on_raw(raw)

    def _disconnected(self, reason: str) -> None:
        was_connected = self._ws is not None
        self._ws = None
        self._by_sid.clear()
        for pending in self._pending.values():
            if pending.future is not None and not pending.future.done():
                pending.future.set_result(None)  # the subscription stays wanted; it is sent again on reconnect
        self._pending.clear()
        if not was_connected:
            return
        self.counters.disconnects += 1
        self.last_disconnect_reason = reason
        for sub in self._subs:
            sub.sid, sub.last_seq = None, None
            if sub.channel == BOOK_CHANNEL and sub.market_tickers:
                self.handler.on_books_invalid(sub, sorted(sub.market_tickers), "reconnect")
        self.handler.on_connection(False, reason)

    # -- commands --------------------------------------------------------------------------------------

    async def _send(
        self,
        cmd: str,
        params: dict[str, Any],
        *,
        subscription: Subscription | None = None,
        wait: bool = False,
        tickers_sent: Collection[str] = (),
    ) -> Any:
        ws = self._ws
        if ws is None:
            return None
        command_id = self._next_id
        self._next_id += 1
        command = {"id": command_id, "cmd": cmd, "params": params}
        future = asyncio.get_running_loop().create_future() if wait else None
        self._pending[command_id] = _Pending(command, subscription, future, frozenset(tickers_sent))
        try:
            await ws.send(json.dumps(command))
        except ConnectionClosed:
            self._pending.pop(command_id, None)
            return None
        if future is None:
            return None
        try:
            return await asyncio.wait_for(future, self._reply_timeout_s)
        except TimeoutError:
            self._pending.pop(command_id, None)
            log.warning("kalshi ws: no reply to %s %s within %.0f s", cmd, command_id, self._reply_timeout_s)
            return None

    async def _send_subscribe(self, sub: Subscription, *, wait: bool = False) -> Any:
        params: dict[str, Any] = {"channels": [sub.channel]}
        tickers: list[str] = []
        if sub.market_tickers is not None:
            tickers = sorted(sub.market_tickers)
            if not tickers and sub.channel in _NEEDS_TICKERS:
                return None  # nothing to subscribe to yet; add_markets sends it
            params["market_tickers"] = tickers
        return await self._send("subscribe", params, subscription=sub, wait=wait, tickers_sent=tickers)

    async def subscribe(self, channel: str, market_tickers: Iterable[str] | None = None) -> Subscription:
        """Subscribe ``channel`` (for ``market_tickers``, or every market when None) on every connection.

        Connected, it waits for the reply and raises ``KalshiWsError`` if Kalshi refuses; otherwise
        the subscription is sent when the connection comes up. Do not await this from a handler callback.
        """
        sub = Subscription(channel, market_tickers)
        self._subs.append(sub)
        await self._send_subscribe(sub, wait=True)  # a refusal drops it from the subscriptions (_on_control)
        return sub

    async def add_markets(self, sub: Subscription, tickers: Iterable[str]) -> None:
        """Add markets to ``sub`` (their snapshots follow on a book channel)."""
        if sub.market_tickers is None:
            raise ValueError(f"{sub} covers every market")
        new = sorted(set(tickers) - sub.market_tickers)
        if not new:
            return
        sub.market_tickers.update(new)
        if not sub.active:
            return  # refused or unsubscribed: its owner subscribes again if it wants the markets
        if sub.sid is not None:
            params = {"sids": [sub.sid], "action": "add_markets", "market_tickers": new}
            await self._send("update_subscription", params, subscription=sub)
        elif not any(p.subscription is sub for p in self._pending.values()):
            await self._send_subscribe(sub)  # was empty, so never sent on this connection

    async def remove_markets(self, sub: Subscription, tickers: Iterable[str]) -> None:
        if sub.market_tickers is None:
            raise ValueError(f"{sub} covers every market")
        gone = sorted(set(tickers) & sub.market_tickers)
        if not gone:
            return
        sub.market_tickers.difference_update(gone)
        if sub.sid is not None:
            params = {"sids": [sub.sid], "action": "delete_markets", "market_tickers": gone}
            await self._send("update_subscription", params, subscription=sub)

    async def request_snapshot(self, sub: Subscription, tickers: Iterable[str]) -> None:
        """Ask for fresh snapshots of ``tickers`` on ``sub`` (``update_subscription`` ``get_snapshot``)."""
        wanted = sorted(set(tickers) & (sub.market_tickers or set()))
        if not wanted or sub.sid is None:
            return  # without a sid the next connection's subscribe brings snapshots anyway
        self.counters.resnapshots += len(wanted)
        params = {"sids": [sub.sid], "action": "get_snapshot", "market_tickers": wanted}
        await self._send("update_subscription", params, subscription=sub)

    async def unsubscribe(self, sub: Subscription) -> None:
        sub.active = False
        if sub in self._subs:
            self._subs.remove(sub)
        if sub.sid is not None:
            sid, sub.sid = sub.sid, None
            await self._send("unsubscribe", {"sids": [sid]}, subscription=sub)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- reading ---------------------------------------------------------------------------------------

    def _on_raw(self, raw: str | bytes) -> None:
        self.counters.messages += 1
        try:
            obj = json.loads(raw)
            message_type, sid, seq = envelope(obj)
        except (ValueError, WsPayloadError) as exc:
            self.counters.malformed += 1
            log.warning("kalshi ws: undecodable message skipped (%s): %.120r", exc, raw)
            return
        if message_type in _CONTROL:
            self._on_control(obj, message_type, sid, seq)
            return
        sub = self._by_sid.get(sid) if sid is not None else None
        if sub is None:
            log.debug("kalshi ws: %s for sid %s, which is not subscribed; ignored", message_type, sid)
            return
        if seq is not None:
            last = sub.last_seq
            if last is not None and seq <= last:
                self.counters.duplicates += 1
                self.handler.on_stream_fault(sub, "duplicate", f"{message_type} sid {sid} seq {seq} after {last}")
                return
            sub.last_seq = seq
            if last is not None and seq != last + 1:
                self.counters.gaps += 1
                detail = f"{sub.channel} sid {sid}: seq jumped from {last} to {seq}"
                log.warning("kalshi ws: %s; resnapshotting its markets", detail)
                self.handler.on_stream_fault(sub, "gap", detail)
                self._invalidate(sub, None, "gap")
        try:
            message = parse_message(obj)
        except WsPayloadError as exc:
            self.counters.malformed += 1
            log.warning("kalshi ws: malformed message skipped: %s", exc)
            self.handler.on_stream_fault(sub, "malformed", str(exc))
            ticker = exc.ticker or _ticker_of(obj)
            self._invalidate(sub, [ticker] if ticker else None, "malformed")
            return
        assert not isinstance(message, Subscribed | Unsubscribed | Ok | ErrorReply)  # control types returned above
        self.handler.on_message(message, sub)

    def _invalidate(self, sub: Subscription, tickers: Sequence[str] | None, reason: str) -> None:
        if sub.channel != BOOK_CHANNEL or not sub.market_tickers:
            return
        wanted = sorted(sub.market_tickers if tickers is None else set(tickers) & sub.market_tickers)
        if not wanted:
            return
        self.handler.on_books_invalid(sub, wanted, reason)
        self._spawn(self.request_snapshot(sub, wanted))

    def _on_control(self, obj: Any, message_type: str, sid: int | None, seq: int | None) -> None:
        try:
            reply = parse_message(obj)
        except WsPayloadError as exc:
            self.counters.malformed += 1
            log.warning("kalshi ws: malformed %s reply skipped: %s", message_type, exc)
            return
        assert isinstance(reply, Subscribed | Unsubscribed | Ok | ErrorReply)  # _CONTROL types parse to these
        pending = self._pending.pop(reply.id, None) if reply.id is not None else None
        if isinstance(reply, ErrorReply):
            self.counters.errors += 1
            command = pending.command if pending else None
            log.warning("kalshi ws: %s", reply)
            refused = pending.subscription if pending is not None and pending.command["cmd"] == "subscribe" else None
            if refused is not None:
                # It would be refused again on every reconnect: it is dropped, and its owner decides.
                if refused in self._subs:
                    self._subs.remove(refused)
                refused.active = False
            if pending is not None and pending.future is not None and not pending.future.done():
                pending.future.set_exception(KalshiWsError(reply, command))
            else:
                self.handler.on_error(reply, command)
            return
        if isinstance(reply, Subscribed):
            sub = pending.subscription if pending else None
            if sub is None:
                log.warning("kalshi ws: subscribed sid %d for no pending command (id %s)", reply.sid, reply.id)
                return
            if not sub.active:
                self._spawn(self._send("unsubscribe", {"sids": [reply.sid]}))
                return
            sub.sid, sub.last_seq = reply.sid, None
            self._by_sid[reply.sid] = sub
            assert pending is not None
            late = sorted((sub.market_tickers or set()) - pending.tickers_sent)
            if sub.market_tickers is not None and late:
                self._spawn(
                    self._send(
                        "update_subscription",
                        {"sids": [reply.sid], "action": "add_markets", "market_tickers": late},
                        subscription=sub,
                    )
                )
        elif isinstance(reply, Unsubscribed):
            self._by_sid.pop(reply.sid, None)
        if pending is not None and pending.future is not None and not pending.future.done():
            pending.future.set_result(reply)


def _ticker_of(obj: Any) -> str | None:
    msg = obj.get("msg") if isinstance(obj, dict) else None
    ticker = msg.get("market_ticker") if isinstance(msg, dict) else None
    return ticker if isinstance(ticker, str) and ticker else None
