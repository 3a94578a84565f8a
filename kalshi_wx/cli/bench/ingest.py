"""Ingest throughput against a rate-limited server: does the client use its budget without 429s?

The server is a minimal Kalshi stand-in on loopback that enforces ``limit_per_s`` with a token
bucket of one token, the strictest an exchange can be: any request arriving less than 1/limit after
the previous one is refused with a 429 (and ``Retry-After``). The client runs with its default,
process-wide limiter, as ingestion does, so the figure shows what the default headroom costs
(``ratio_to_limit`` near the headroom) and buys (``http_429`` of 0).
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from kalshi_wx.sources.kalshi.client import KalshiClient
from kalshi_wx.sources.kalshi.ratelimit import DEFAULT_HEADROOM, TokenBucket
from kalshi_wx.sources.loopback import LoopbackServer, Request, Response

_MARKET = {
    "ticker": "KXHIGHNY-26JUN02-T80",
    "event_ticker": "KXHIGHNY-26JUN02",
    "status": "active",
    "yes_bid_dollars": "0.0000",
    "yes_ask_dollars": "0.0100",
}


class RateLimitedServer:
    """Answers ``GET /trade-api/v2/markets/{ticker}`` within ``limit_per_s`` (a bucket of ``burst``
    tokens); counts what it did."""

    def __init__(self, limit_per_s: float, burst: float = 1.0):
        self.bucket = TokenBucket(limit_per_s, burst)
        self.served = 0
        self.rejected = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        if not self.bucket.try_acquire():
            with self._lock:
                self.rejected += 1
            retry_after = str(max(1, math.ceil(self.bucket.wait_time())))
            error = {"error": {"code": "too_many_requests", "message": "rate limit exceeded"}}
            return Response.json(error, 429, {"Retry-After": retry_after})
        with self._lock:
            self.served += 1
        ticker = request.path.rsplit("/", 1)[-1]
        return Response.json({"market": {**_MARKET, "ticker": ticker}})


def run_ingest_benchmark(
    requests: int = 200,
    limit_per_s: float = 20.0,
    *,
    concurrency: int = 2,
    headroom: float = DEFAULT_HEADROOM,
    server_burst: float = 1.0,
) -> dict:
    """Drive ``requests`` market reads through ``KalshiClient`` against a server limited to
    ``limit_per_s``; the target is ``http_429 == 0`` with the client at >= 95% of its own paced rate.

    ``concurrency`` threads share one client so a request's latency overlaps the next one's wait;
    ``headroom`` is the client's (``headroom=1.0`` shows what pacing at the limit itself draws);
    ``server_burst`` the server bucket's capacity (1: no burst at all).
    """
    if requests < 2:
        raise ValueError("requests must be at least 2")
    server = RateLimitedServer(limit_per_s, server_burst)
    with (
        LoopbackServer(server) as http,
        KalshiClient(http.url + "/trade-api/v2", read_rate=limit_per_s, headroom=headroom) as client,
    ):
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(lambda i: client.get_market(f"KXHIGHNY-26JUN02-B{i}"), range(requests)))
        seconds = time.perf_counter() - began
        limiter = client.limiter
    rate = requests / seconds
    # The first request spends the token the bucket starts with; the others wait their turn.
    paced = (requests - 1) / seconds
    return {
        "benchmark": "kalshi_ingest",
        "requests": requests,
        "seconds": round(seconds, 3),
        "requests_per_s": round(rate, 2),
        "limit_per_s": limit_per_s,
        "ratio_to_limit": round(rate / limit_per_s, 3),
        "client_read_rate": round(limiter.read.rate, 3),
        "client_headroom": limiter.headroom,
        "ratio_to_client_rate": round(paced / limiter.read.rate, 3),
        "http_429": server.rejected,
        "served": server.served,
        "server_burst": server.bucket.capacity,
        "client_burst": limiter.read.capacity,
        "concurrency": concurrency,
        "target_met": paced / limiter.read.rate >= 0.95 and server.rejected == 0,
    }
