"""The simulator's router over real HTTP: deterministic across servers, counted requests, the shared server."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import httpx

from kalshi_wx.sources.sim import SimServer, shared_sim_server
from kalshi_wx_tests.sources.sim.conftest import VC_PARAMS, ok

# ---- determinism ------------------------------------------------------------------------------


def _snapshot(http: httpx.Client, server: SimServer) -> list[bytes]:
    k = server.kalshi_base_url
    markets = http.get(f"{k}/markets", params={"event_ticker": "KXHIGHCHI-26JUN09"})
    ticker = markets.json()["markets"][2]["ticker"]
    candles = {"start_ts": 0, "end_ts": 2**31, "period_interval": 1}
    bodies = [
        markets.content,
        http.get(f"{k}/markets/trades", params={"ticker": ticker}).content,
        http.get(f"{k}/series/KXHIGHCHI/markets/{ticker}/candlesticks", params=candles).content,
        http.get(f"{k}/historical/markets", params={"series_ticker": "KXHIGHCHI"}).content,
        http.get(f"{server.vc_base_url}/stn:KMDW/2026-06-03", params=VC_PARAMS).content,
    ]
    listing = http.get(f"{server.nws_base_url}/products/types/CLI/locations/MDW").json()["@graph"]
    product = http.get(f"{server.nws_base_url}/products/{listing[0]['id']}").json()
    bodies.append(json.dumps([listing[0]["id"], product["productText"]]).encode())
    return bodies


def test_same_seed_same_payloads_across_servers_and_another_seed_differs(http, sim, sim_config):
    with SimServer(sim_config) as twin, SimServer(replace(sim_config, seed=8)) as other:
        assert twin.url != sim.url
        ours, theirs, different = _snapshot(http, sim), _snapshot(http, twin), _snapshot(http, other)
    assert ours == theirs
    assert all(a != b for a, b in zip(ours, different, strict=True))


def test_unknown_paths_are_json_404s_and_requests_are_counted(http, sim):
    before = sim.request_counts
    for path in (f"{sim.kalshi_base_url}/portfolio/balance", f"{sim.url}/nothing"):
        response = http.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    after = sim.request_counts
    assert after["kalshi"] == before.get("kalshi", 0) + 1
    assert after["unknown"] == before.get("unknown", 0) + 1


# ---- the shared server ----------------------------------------------------------------------------


def test_shared_server_is_one_per_config_and_thread_safe(http, sim_config):
    config = replace(sim_config, seed=99)
    got: list[SimServer] = []
    threads = [threading.Thread(target=lambda: got.append(shared_sim_server(config))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in got}) == 1
    assert shared_sim_server(config) is got[0] and shared_sim_server(replace(sim_config, seed=98)) is not got[0]
    assert ok(http.get(f"{got[0].kalshi_base_url}/historical/cutoff"))
