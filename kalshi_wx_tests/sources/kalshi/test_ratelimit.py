"""Token buckets with an injected clock, the shared per-host limiter against a strict server, the ingest benchmark."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kalshi_wx.cli.bench.ingest import run_ingest_benchmark
from kalshi_wx.sources.http import RetryPolicy
from kalshi_wx.sources.kalshi import KalshiClient
from kalshi_wx.sources.kalshi.ratelimit import KalshiRateLimiter, TokenBucket, is_write, shared_limiter
from kalshi_wx_tests.fakes import FakeKalshi


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_bucket_starts_full_refills_at_rate_and_caps_at_capacity():
    clock = FakeClock()
    bucket = TokenBucket(8.0, 3.0, clock=clock, sleep=clock.sleep)  # 1/8 s per token: exact in binary
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.0625  # half a token
    assert not bucket.try_acquire()
    assert bucket.wait_time() == 0.0625
    clock.now += 0.0625
    assert bucket.try_acquire()
    clock.now += 60  # a long idle earns no more than the capacity
    assert bucket.tokens == pytest.approx(3.0)


def test_acquire_paces_requests_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(20.0, 1.0, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.05, 0.05, 0.05, 0.05])
    assert clock.now - 100.0 == pytest.approx(0.2)


def test_waiting_callers_queue_behind_each_other():
    # Reservations: three callers arriving together wait one, two and three intervals.
    clock = FakeClock()
    bucket = TokenBucket(10.0, 1.0, clock=clock, sleep=lambda s: clock.sleeps.append(s))
    for _ in range(4):
        bucket.acquire()
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.3])


def test_bucket_is_thread_safe_under_contention():
    bucket = TokenBucket(400.0, 1.0)
    threads = [threading.Thread(target=lambda: [bucket.acquire() for _ in range(10)]) for _ in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 40 tokens at 400/s with one in hand: no thread may have slipped past the lock.
    assert time.monotonic() - started >= 39 / 400


def test_invalid_bucket_settings():
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(10, 0.5)


@pytest.mark.parametrize(
    ("method", "path", "write"),
    [
        ("POST", "/portfolio/events/orders", True),
        ("DELETE", "/portfolio/events/orders/abc", True),
        ("POST", "/portfolio/events/orders/batched", True),
        ("POST", "/portfolio/orders", True),
        ("GET", "/portfolio/orders", False),
        ("GET", "/portfolio/events/orders", False),
        ("GET", "/markets", False),
        ("POST", "/portfolio/order_groups", False),
    ],
)
def test_only_order_endpoints_are_writes(method, path, write):
    assert is_write(method, path) is write


def test_limiter_paces_at_its_headroom_below_the_limits():
    clock = FakeClock()
    limiter = KalshiRateLimiter(20.0, 10.0, clock=clock, sleep=clock.sleep)
    assert (limiter.read.rate, limiter.write.rate) == pytest.approx((18.0, 9.0))  # default headroom 0.9
    waits = [limiter.acquire("GET", "/markets") for _ in range(4)]
    assert waits == pytest.approx([0.0, 1 / 18, 1 / 18, 1 / 18])
    assert repr(limiter) == "KalshiRateLimiter(read=18/s of 20/s, write=9/s of 10/s)"
    with pytest.raises(ValueError, match="headroom"):
        KalshiRateLimiter(20.0, 10.0, headroom=1.5)


def test_default_headroom_draws_no_refusal_from_a_server_without_burst():
    # The exchange's side: a bucket of one token refilled at exactly the limit, 429 on anything faster.
    # The slack headroom 0.9 leaves per request is 1/(0.9 limit) - 1/limit: 5.6 ms at the Basic tier's
    # 20/s, which client and server threads sharing one busy 2-core machine can exceed on their own
    # (bench ingest measures 20/s); at 5/s it is 22 ms, beyond that scheduling noise.
    limit = 5.0
    with FakeKalshi(rate_limit=limit, rate_burst=1.0) as strict:
        strict.markets = {"M": {"ticker": "M", "event_ticker": "KXTEST-26JUN01"}}
        with (
            KalshiClient(strict.base_url, limiter=KalshiRateLimiter(limit), retry=RetryPolicy(max_attempts=1)) as c,
            ThreadPoolExecutor(max_workers=2) as pool,
        ):
            # A cold first request (lazy imports on both sides of a fresh process) is start-up, not
            # pacing: it is paid before the paced run.
            c.get_market("M")
            time.sleep(2 / limit)  # both buckets full again
            list(pool.map(lambda _: c.get_market("M"), range(20)))
        statuses = [call.status for call in strict.calls]
    assert statuses == [200] * 21


def test_a_thread_woken_late_does_not_crowd_the_next_request():
    clock = FakeClock()
    late = [0.030]

    def sleep(seconds: float) -> None:  # the first sleeper's thread is scheduled 30 ms late
        clock.sleep(seconds + (late.pop() if late else 0.0))

    limiter = KalshiRateLimiter(20.0, clock=clock, sleep=sleep)
    limiter.acquire("GET", "/markets")  # released at once
    limiter.acquire("GET", "/markets")  # due 1/18 s later, released 30 ms after that
    released = clock.now
    limiter.acquire("GET", "/markets")  # due 2/18 s after the first: 26 ms after the late one
    assert clock.now - released == pytest.approx(1 / 18)  # held back to a full interval


def test_reads_and_writes_have_separate_buckets():
    clock = FakeClock()
    limiter = KalshiRateLimiter(20.0, 10.0, headroom=1.0, clock=clock, sleep=clock.sleep)
    assert limiter.acquire("GET", "/markets") == 0.0
    assert limiter.acquire("POST", "/portfolio/events/orders") == 0.0  # the read did not spend it
    assert limiter.acquire("POST", "/portfolio/events/orders") == pytest.approx(0.1)
    assert limiter.acquire("GET", "/markets") == pytest.approx(0.0)  # 0.1 s passed: read refilled


def test_shared_limiter_is_per_host_and_first_configuration_wins(caplog):
    a = shared_limiter("shared-test.example:443", 7.0, 3.0)
    assert shared_limiter("shared-test.example:443", 7.0, 3.0) is a
    assert shared_limiter("other-test.example:443", 7.0, 3.0) is not a
    with caplog.at_level(logging.WARNING):
        assert shared_limiter("shared-test.example:443", 50.0, 3.0) is a
    assert a.read_limit == 7.0 and "ignoring requested read=50/s" in caplog.text
    assert shared_limiter("shared-test.example:443", 7.0, 3.0, headroom=0.5) is a and a.headroom == 0.9


def test_clients_of_one_host_share_a_limiter():
    base = "http://127.0.0.1:9/trade-api/v2"  # never contacted
    with KalshiClient(base) as first, KalshiClient(base) as second:
        assert first.limiter is second.limiter
        assert first.limiter.limits == (20.0, 10.0, 0.9)
    with KalshiClient("http://127.0.0.2:9/trade-api/v2") as third:
        assert third.limiter is not first.limiter


def test_ingest_benchmark_accounts_for_every_request():
    # The bench's own arithmetic is under test here, so its server allows a quarter second of burst
    # (the scheduler of a busy machine is not); the one-token server is tested above.
    result = run_ingest_benchmark(requests=20, server_burst=5.0)
    assert result["requests"] == result["served"] == 20
    assert result["http_429"] == 0 and result["server_burst"] == 5.0
    assert result["limit_per_s"] == 20.0 and result["client_read_rate"] == pytest.approx(18.0)
    # One request is free (the bucket starts with a token): 20 requests need at least 19/18 s.
    assert result["seconds"] >= 19 / 18
    assert 0.5 < result["ratio_to_client_rate"] <= 1.01
