"""The simulator's WebSocket server speaks Kalshi's protocol: commands, replies, error codes, seq per sid, auth.

Driven with the bare `websockets` client and JSON written out by hand, so these tests check the wire
format independently of our own client.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from kalshi_wx.sources.kalshi.auth import KalshiSigner
from kalshi_wx.sources.sim.common import CryptoSeries
from kalshi_wx.sources.sim.kalshi_ws import WS_PATH, SimWsServer


@pytest.fixture
def server(sim_config):
    with SimWsServer(replace(sim_config, crypto=(CryptoSeries(),)), series=["KXHIGHNY"], deltas_per_s=30.0,
                     tick_s=0.01) as ws:  # fmt: skip
        deadline = time.monotonic() + 10
        while len(ws.open_tickers()) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        yield ws


async def _recv_until(ws, predicate, limit: int = 2000) -> dict:
    for _ in range(limit):
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if predicate(message):
            return message
    raise AssertionError("no such message")


async def _command(ws, command_id: int, cmd: str, **params) -> dict:
    await ws.send(json.dumps({"id": command_id, "cmd": cmd, "params": params}))
    return await _recv_until(ws, lambda m: m.get("id") == command_id)


def test_subscribe_snapshots_then_deltas_with_seq_per_sid(server):
    tickers = server.open_tickers()

    async def run():
        async with connect(server.url) as ws:
            for command_id, markets in ((1, tickers[:2]), (2, tickers[2:3])):
                params = {"channels": ["orderbook_delta"], "market_tickers": markets}
                await ws.send(json.dumps({"id": command_id, "cmd": "subscribe", "params": params}))
            seqs: dict[int, list[int]] = {1: [], 2: []}
            kinds: dict[int, list[str]] = {1: [], 2: []}
            replies = []
            while len(seqs[1]) < 30 or len(seqs[2]) < 10:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if message["type"] == "subscribed":
                    replies.append(message)
                elif message["type"] in ("orderbook_snapshot", "orderbook_delta"):
                    seqs[message["sid"]].append(message["seq"])
                    kinds[message["sid"]].append(message["type"])
                    assert "seq" not in message["msg"]
            assert replies == [
                {"id": 1, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 1}},
                {"id": 2, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 2}},
            ]
            return seqs, kinds

    seqs, kinds = asyncio.run(run())
    for sid, count in ((1, 2), (2, 1)):
        assert seqs[sid] == list(range(1, len(seqs[sid]) + 1))  # 1, 2, 3 ... on each sid
        assert kinds[sid][:count] == ["orderbook_snapshot"] * count and set(kinds[sid][count:]) == {"orderbook_delta"}


def test_update_subscription_and_unsubscribe(server):
    tickers = server.open_tickers()

    async def run():
        async with connect(server.url) as ws:
            await _command(ws, 1, "subscribe", channels=["orderbook_delta"], market_tickers=tickers[:1])
            add = {"sids": [1], "action": "add_markets", "market_tickers": tickers[1:]}
            ok = await _command(ws, 2, "update_subscription", **add)
            assert ok == {"id": 2, "type": "ok", "sid": 1, "msg": {"market_tickers": sorted(tickers)}}
            snapshot = await _recv_until(
                ws, lambda m: m["type"] == "orderbook_snapshot" and m["msg"]["market_ticker"] == tickers[2]
            )
            assert set(snapshot["msg"]) >= {"market_ticker", "market_id"}
            await _command(ws, 3, "update_subscription", sid=1, action="get_snapshot", market_tickers=[tickers[0]])
            again = await _recv_until(ws, lambda m: m["type"] == "orderbook_snapshot")
            assert again["msg"]["market_ticker"] == tickers[0]
            deleted = await _command(
                ws, 4, "update_subscription", sids=[1], action="delete_markets", market_tickers=tickers[1:]
            )
            assert deleted["msg"]["market_tickers"] == [tickers[0]]
            assert await _command(ws, 5, "unsubscribe", sids=[1]) == {"id": 5, "type": "unsubscribed", "sid": 1}

    asyncio.run(run())  # fmt: skip


@pytest.mark.parametrize(
    ("cmd", "params", "code"),
    [
        ("subscribe", {}, 3),
        ("subscribe", {"channels": ["orderbook"]}, 8),
        ("subscribe", {"channels": ["orderbook_delta"]}, 2),
        ("subscribe", {"channels": ["fill"]}, 9),
        ("unsubscribe", {}, 4),
        ("unsubscribe", {"sids": [42]}, 7),
        ("update_subscription", {"sids": [1, 2], "action": "add_markets", "market_tickers": ["X"]}, 12),
        ("update_subscription", {"sids": [1], "action": "replace", "market_tickers": ["X"]}, 13),
        ("update_subscription", {"sids": [1], "action": "add_markets", "market_tickers": "X"}, 11),
        ("resubscribe", {}, 5),
    ],
)
def test_bad_commands_get_error_replies_with_the_documented_codes(server, cmd, params, code):
    async def run():
        async with connect(server.url) as ws:
            await _command(ws, 1, "subscribe", channels=["ticker"])
            return await _command(ws, 9, cmd, **params)

    reply = asyncio.run(run())
    assert reply["type"] == "error" and reply["msg"]["code"] == code, reply
    assert isinstance(reply["msg"]["msg"], str) and reply["msg"]["msg"]


def test_legacy_price_format_is_integer_cents(sim_config):
    with SimWsServer(sim_config, series=["KXHIGHNY"], deltas_per_s=30.0, tick_s=0.01, price_format="legacy") as ws:
        deadline = time.monotonic() + 10
        while len(ws.open_tickers()) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)

        async def run():
            async with connect(ws.url) as client:
                await _command(client, 1, "subscribe", channels=["orderbook_delta"], market_tickers=ws.open_tickers())
                snapshot = await _recv_until(client, lambda m: m["type"] == "orderbook_snapshot")
                delta = await _recv_until(client, lambda m: m["type"] == "orderbook_delta")
                return snapshot, delta

        snapshot, delta = asyncio.run(run())
    side = snapshot["msg"].get("yes") or snapshot["msg"]["no"]
    assert all(isinstance(p, int) and isinstance(c, int) for p, c in side)
    assert isinstance(delta["msg"]["price"], int) and isinstance(delta["msg"]["delta"], int)
    assert "price_dollars" not in delta["msg"]


def test_handshake_path_and_signature(sim_config):
    key = ed25519.Ed25519PrivateKey.generate()
    with SimWsServer(sim_config, series=["KXHIGHNY"], public_key=key.public_key()) as ws:
        base = ws.url.removesuffix(WS_PATH)

        async def status(url: str, headers: dict | None = None) -> int:
            try:
                async with connect(url, additional_headers=headers):
                    return 101
            except InvalidStatus as exc:
                return exc.response.status_code

        signer = KalshiSigner("k", key)
        stale = signer.headers("GET", WS_PATH, timestamp_ms=int(time.time() * 1000) - 60_000)

        async def all_of() -> list[int]:
            return [
                await status(base + "/trade-api/ws/v1"),
                await status(ws.url),
                await status(ws.url, signer.headers("GET", "/trade-api/v2/portfolio/balance")),
                await status(ws.url, stale),
                await status(ws.url, signer.headers("GET", WS_PATH)),
            ]

        results = asyncio.run(all_of())
    assert results == [404, 401, 401, 401, 101]
