"""The Kalshi WebSocket client against the simulator's WebSocket server on loopback (a real server, real frames).

Books kept from the stream must equal the server's books once it is at rest, whatever the link did:
sequence gaps, duplicates, stale snapshots, malformed messages, dropped connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshi_wx.core.errors import ConfigError
from kalshi_wx.core.live.book import BookError, OrderBook
from kalshi_wx.core.payloads.kalshi_ws import MarketLifecycle, OrderbookDelta, OrderbookSnapshot
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.kalshi.auth import KalshiSigner
from kalshi_wx.sources.kalshi.ws import (
    DEMO_WS_URL,
    PROD_WS_URL,
    KalshiWebSocket,
    KalshiWsError,
    ReconnectPolicy,
    Subscription,
    WsHandler,
    resolve_ws_url,
)
from kalshi_wx.sources.sim.common import CryptoSeries, SimConfig
from kalshi_wx.sources.sim.kalshi_ws import SimWsServer, WsFaults

SERIES = "KXHIGHNY"
FAST = ReconnectPolicy(initial_s=0.05, max_s=0.2)


@pytest.fixture(scope="module")
def config() -> SimConfig:
    return SimConfig(cities=tuple(settings().cities.values()), crypto=(CryptoSeries(),))


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _server(config: SimConfig, **kwargs) -> SimWsServer:
    kwargs.setdefault("deltas_per_s", 25.0)
    kwargs.setdefault("tick_s", 0.01)
    return SimWsServer(config, series=[SERIES], **kwargs).start()


class Books(WsHandler):
    """A minimal consumer: books from snapshots and deltas, and a log of what the client reported."""

    def __init__(self) -> None:
        self.books: dict[str, OrderBook] = {}
        self.invalid: list[tuple[str, tuple[str, ...]]] = []
        self.faults: list[str] = []
        self.connections: list[tuple[bool, str]] = []
        self.errors: list = []
        self.lifecycle: list[MarketLifecycle] = []

    def on_message(self, message, subscription):
        if isinstance(message, OrderbookSnapshot):
            book = self.books.setdefault(message.market_ticker, OrderBook(message.market_ticker))
            book.apply_snapshot(message.yes, message.no, seq=message.seq)
        elif isinstance(message, OrderbookDelta):
            book = self.books.get(message.market_ticker)
            if book is not None and book.has_snapshot:
                with contextlib.suppress(BookError):  # the book is invalid until its snapshot
                    book.apply_delta(message.side, message.price, message.delta, seq=message.seq)
        elif isinstance(message, MarketLifecycle):
            self.lifecycle.append(message)

    def on_stream_fault(self, subscription, kind, detail):
        self.faults.append(kind)

    def on_books_invalid(self, subscription, market_tickers, reason):
        self.invalid.append((reason, tuple(market_tickers)))
        for ticker in market_tickers:
            if ticker in self.books:
                self.books[ticker].invalidate()

    def on_connection(self, connected, reason):
        self.connections.append((connected, reason))

    def on_error(self, error, command):
        self.errors.append(error)


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def same_books(handler: Books, server: SimWsServer, tickers: list[str]) -> bool:
    for ticker in tickers:
        book = handler.books.get(ticker)
        truth = server.book(ticker)
        if book is None or truth is None or not book.has_snapshot:
            return False
        if (book.levels("yes"), book.levels("no")) != truth:
            return False
    return True


async def _session(server: SimWsServer, body, *, signer: KalshiSigner | None = None, channels=("orderbook_delta",)):
    """A client on ``server`` with ``channels`` for the open markets, then ``body(client, handler, tickers)``."""
    handler = Books()
    client = KalshiWebSocket(server.url, handler, signer=signer, policy=FAST, rng=random.Random(1))
    runner = asyncio.create_task(client.run())
    try:
        await until(lambda: len(server.open_tickers()) == 6, "the simulated markets")
        tickers = server.open_tickers()
        await until(lambda: client.connected, "the connection")
        for channel in channels:
            await client.subscribe(channel, tickers if channel == "orderbook_delta" else None)
        await body(client, handler, tickers)
    finally:
        await client.close()
        await asyncio.wait_for(runner, 10)
    return client, handler


def test_resolve_ws_url():
    assert resolve_ws_url(None) == PROD_WS_URL == "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
    assert resolve_ws_url("", "demo") == DEMO_WS_URL
    assert resolve_ws_url("", "https://external-api.demo.kalshi.co/trade-api/v2") == DEMO_WS_URL
    assert resolve_ws_url(None, "http://127.0.0.1:8123/trade-api/v2") == "ws://127.0.0.1:8123/trade-api/ws/v2"
    assert resolve_ws_url("wss://proxy.example/trade-api/ws/v2") == "wss://proxy.example/trade-api/ws/v2"
    with pytest.raises(ConfigError, match="KALSHI_WS_URL='http://x': expected 'prod', 'demo' or a ws"):
        resolve_ws_url("http://x")


def test_reconnect_backoff_is_exponential_capped_and_jittered():
    policy = ReconnectPolicy(initial_s=0.5, max_s=8.0, multiplier=2.0, jitter=0.5)
    rng = random.Random(3)
    delays = [[policy.delay(n, rng) for _ in range(200)] for n in range(8)]
    for n, draws in enumerate(delays):
        base = min(8.0, 0.5 * 2**n)
        assert all(base / 2 <= d <= base for d in draws), n
        assert max(draws) - min(draws) > base / 4  # jittered, not a fixed step
    assert max(delays[7]) <= 8.0


def test_books_follow_the_server(config):
    server = _server(config)
    try:

        async def body(client, handler, tickers):
            await asyncio.sleep(1.0)
            server.freeze()
            await until(lambda: same_books(handler, server, tickers), "the books to match the server's")
            assert client.counters.gaps == 0 and client.counters.duplicates == 0

        asyncio.run(_session(server, body))
    finally:
        server.stop()


def test_a_gap_drops_the_books_of_its_sid_and_resnapshots_them(config):
    server = _server(config)
    try:

        async def body(client, handler, tickers):
            await until(lambda: len(handler.books) == 6, "the snapshots")
            server.inject_gap()
            await until(lambda: client.counters.gaps == 1, "the gap to be seen")
            assert ("gap", tuple(sorted(tickers))) in handler.invalid  # every market of the sid
            assert handler.faults.count("gap") == 1
            await until(lambda: client.counters.resnapshots == 6, "the snapshot request for all 6 markets")
            await asyncio.sleep(0.5)
            server.freeze()
            await until(lambda: same_books(handler, server, tickers), "the resnapshotted books to match")

        asyncio.run(_session(server, body))
        assert server.stats_snapshot().gaps_injected == 1
    finally:
        server.stop()


def test_duplicates_and_stale_snapshots_are_dropped(config):
    server = _server(config, faults=WsFaults(duplicate_every=5, stale_snapshot_every=7))
    try:

        async def body(client, handler, tickers):
            await until(lambda: client.counters.duplicates >= 20, "duplicates and stale snapshots")
            server.freeze()
            await until(lambda: same_books(handler, server, tickers), "the books to match the server's")
            assert client.counters.gaps == 0 and not handler.invalid

        client, handler = asyncio.run(_session(server, body))
        stats = server.stats_snapshot()
        assert stats.duplicates_sent > 0 and stats.stale_snapshots_sent > 0
        assert handler.faults.count("duplicate") == client.counters.duplicates
    finally:
        server.stop()


def test_a_dropped_connection_is_recovered_with_every_subscription_and_a_fresh_signature(config, key):
    server = _server(config, public_key=key.public_key())
    signer = KalshiSigner("key-id-for-tests", key)
    try:

        async def body(client, handler, tickers):
            await until(lambda: len(handler.books) == 6, "the first snapshots")
            await asyncio.sleep(0.01)  # the handshake timestamps are milliseconds: make the second one differ
            assert server.drop_connections() == 1
            await until(lambda: client.counters.connects == 2, "the reconnect")
            await until(lambda: len(server.subscriptions()) == 3, "the resubscription")
            assert sorted(c for _, _, c, _ in server.subscriptions()) == [
                "market_lifecycle_v2", "orderbook_delta", "ticker",
            ]  # fmt: skip
            assert ("reconnect", tuple(sorted(tickers))) in handler.invalid
            await asyncio.sleep(0.5)
            server.freeze()
            await until(lambda: same_books(handler, server, tickers), "the books after the reconnect")

        client, handler = asyncio.run(
            _session(server, body, signer=signer, channels=("orderbook_delta", "ticker", "market_lifecycle_v2"))
        )
        assert [c for c, _ in handler.connections][:3] == [True, False, True]
        stamps = server.handshake_timestamps
        assert len(stamps) == 2 and stamps[0] != stamps[1]  # signed again, with a new timestamp
        assert server.stats_snapshot().rejected_handshakes == 0
    finally:
        server.stop()


def test_a_handshake_with_the_wrong_key_is_refused_and_retried(config, key):
    server = _server(config, public_key=key.public_key())
    wrong = KalshiSigner("key-id-for-tests", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    try:

        async def run():
            handler = Books()
            client = KalshiWebSocket(server.url, handler, signer=wrong, policy=FAST, rng=random.Random(2))
            runner = asyncio.create_task(client.run())
            await until(lambda: server.stats_snapshot().rejected_handshakes >= 3, "retried handshakes")
            await client.close()
            await asyncio.wait_for(runner, 10)
            return client, handler

        client, handler = asyncio.run(run())
        assert client.counters.connects == 0 and not handler.connections
    finally:
        server.stop()


def test_a_malformed_message_is_logged_with_sid_and_seq_and_skipped(config, caplog):
    server = _server(config)
    try:

        async def body(client, handler, tickers):
            await until(lambda: len(handler.books) == 6, "the snapshots")
            with caplog.at_level(logging.WARNING, logger="kalshi_wx.sources.kalshi.ws"):
                [(sid, seq)] = server.send_malformed_delta(tickers[0])
                server.send_raw("{this is not json")
                await until(lambda: client.counters.malformed == 2, "both malformed messages")
            assert f"kalshi ws orderbook_delta sid={sid} seq={seq}, ticker {tickers[0]}" in caplog.text
            assert "field 'price_dollars'" in caplog.text and "undecodable message skipped" in caplog.text
            assert ("malformed", (tickers[0],)) in handler.invalid  # only that market's book is redone
            await asyncio.sleep(0.3)
            server.freeze()
            await until(lambda: same_books(handler, server, tickers), "the books after the malformed message")
            assert client.connected and client.counters.connects == 1 and client.counters.gaps == 0

        asyncio.run(_session(server, body))
    finally:
        server.stop()


def test_error_replies_surface_their_code(config):
    server = _server(config)
    try:

        async def body(client, handler, tickers):
            with pytest.raises(KalshiWsError) as unknown:
                await client.subscribe("no_such_channel")
            assert unknown.value.code == 8 and "error 8 (unknown channel)" in str(unknown.value)
            with pytest.raises(KalshiWsError) as private:
                await client.subscribe("fill")  # this connection is not authenticated
            assert private.value.code == 9
            assert [s.channel for s in client.subscriptions] == ["orderbook_delta"]  # refused ones are not kept
            stale = Subscription("orderbook_delta", [tickers[0]])
            stale.sid = 999
            await client.unsubscribe(stale)
            await until(lambda: handler.errors, "the unawaited error")
            assert handler.errors[0].code == 7 and handler.errors[0].name == "unknown sid"

        asyncio.run(_session(server, body))
    finally:
        server.stop()


def test_server_pings_are_answered(config):
    server = _server(config, ping_interval_s=0.1, pong_timeout_s=1.0)
    try:

        async def body(client, handler, tickers):
            await until(lambda: server.stats_snapshot().pongs_received >= 3, "pongs")

        client, _ = asyncio.run(_session(server, body))
        assert client.counters.connects == 1
    finally:
        server.stop()


def test_markets_are_added_and_removed_and_lifecycle_announces_new_ones(config):
    # The simulator's clock starts 1.5 s before a 15-minute boundary: a KXBTC15M window closes and one opens.
    boundary = (int(time.time()) // 900 + 2) * 900
    offset = boundary - 1.5 - time.time()
    server = SimWsServer(
        config, series=["KXBTC15M"], clock=lambda: time.time() + offset, deltas_per_s=25.0, tick_s=0.01
    ).start()
    try:

        async def run():
            handler = Books()
            client = KalshiWebSocket(server.url, handler, policy=FAST)
            runner = asyncio.create_task(client.run())
            await until(lambda: len(server.open_tickers()) == 1, "the open window")
            [first] = server.open_tickers()
            await until(lambda: client.connected, "the connection")
            book = await client.subscribe("orderbook_delta", [])
            await client.subscribe("market_lifecycle_v2")
            await client.add_markets(book, [first])  # an empty subscription is sent with its first market
            await until(lambda: first in handler.books, "the first market's snapshot")
            await until(lambda: any(m.event_type == "created" for m in handler.lifecycle), "the next window", 5)
            created = next(m for m in handler.lifecycle if m.event_type == "created")
            assert created.open_ts == boundary and created.close_ts == boundary + 900
            assert datetime.fromtimestamp(created.close_ts, UTC).minute == int(created.market_ticker[-2:])
            determined = [m for m in handler.lifecycle if m.event_type == "determined"]
            assert [m.market_ticker for m in determined] == [first] and determined[0].result in ("yes", "no")
            await client.remove_markets(book, [first])
            await client.add_markets(book, [created.market_ticker])
            await until(lambda: created.market_ticker in handler.books, "the new market's snapshot")
            assert book.market_tickers == {created.market_ticker}
            await client.close()
            await asyncio.wait_for(runner, 10)

        asyncio.run(run())
    finally:
        server.stop()


def test_legacy_integer_cent_messages_build_the_same_books(config):
    server = _server(config, price_format="legacy")
    try:

        async def body(client, handler, tickers):
            await asyncio.sleep(0.8)
            server.freeze()
            await until(lambda: same_books(handler, server, tickers), "the books from the legacy format")

        asyncio.run(_session(server, body))
    finally:
        server.stop()


def test_connections_cut_on_a_schedule_are_recovered_each_time(config):
    server = _server(config, faults=WsFaults(drop_every_s=0.4))
    try:

        async def body(client, handler, tickers):
            await until(lambda: client.counters.connects >= 3, "two reconnects")
            server.set_faults(WsFaults())
            await asyncio.sleep(0.3)
            server.freeze()
            await until(lambda: same_books(handler, server, tickers), "the books after the reconnects")

        client, handler = asyncio.run(_session(server, body))
        assert server.stats_snapshot().drops >= 2 and client.counters.disconnects >= 2
    finally:
        server.stop()
