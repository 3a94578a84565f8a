"""Client-side token buckets for Kalshi's per-account read and write limits.

Kalshi counts requests per account, not per connection, so every client in a process that talks
to the same host must draw from the same buckets: ``shared_limiter`` keeps one per host.
The same ``TokenBucket`` also plays the exchange's side in the benchmark and the test fakes.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_READ_RATE = 20.0  # Basic tier (reference s5)
DEFAULT_WRITE_RATE = 10.0
# Kalshi does not publish the bucket capacity per tier. A one-request burst paces requests evenly,
# which keeps the full sustained rate while never depending on a server-side burst allowance.
DEFAULT_BURST = 1.0

# Only order endpoints count against the write limit (reference s5); reading orders is a read.
_ORDER_PATH = re.compile(r"^/portfolio/(events/)?orders(/|$)")


class TokenBucket:
    """``rate`` tokens per second up to ``capacity``; thread-safe.

    ``acquire`` reserves its token at once and then sleeps outside the lock, so the balance may go
    negative: waiting callers queue up in arrival order, each one interval after the previous.
    """

    def __init__(
        self,
        rate: float,
        capacity: float = DEFAULT_BURST,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        if capacity < 1:
            raise ValueError(f"capacity must be at least one token, got {capacity}")
        self.rate = float(rate)
        self.capacity = float(capacity)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.capacity
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    @property
    def tokens(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take ``tokens`` if they are there now; never waits."""
        with self._lock:
            self._refill()
            if self._tokens < tokens:
                return False
            self._tokens -= tokens
            return True

    def wait_time(self, tokens: float = 1.0) -> float:
        """Seconds until ``tokens`` would be available (what a server puts in ``Retry-After``)."""
        with self._lock:
            self._refill()
            return max(0.0, tokens - self._tokens) / self.rate

    def acquire(self, tokens: float = 1.0) -> float:
        """Take ``tokens``, sleeping until they are earned; returns the seconds waited."""
        with self._lock:
            self._refill()
            self._tokens -= tokens
            wait = max(0.0, -self._tokens) / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait


def is_write(method: str, path: str) -> bool:
    """Whether ``method path`` (path relative to ``/trade-api/v2``) spends the write budget."""
    return method.upper() != "GET" and bool(_ORDER_PATH.match(path))


class KalshiRateLimiter:
    """Separate read and write buckets, as Kalshi limits the two independently."""

    def __init__(
        self,
        read_rate: float = DEFAULT_READ_RATE,
        write_rate: float = DEFAULT_WRITE_RATE,
        *,
        burst: float = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.read = TokenBucket(read_rate, burst, clock=clock, sleep=sleep)
        self.write = TokenBucket(write_rate, burst, clock=clock, sleep=sleep)

    def acquire(self, method: str, path: str) -> float:
        bucket = self.write if is_write(method, path) else self.read
        return bucket.acquire()

    def __repr__(self) -> str:
        return f"KalshiRateLimiter(read={self.read.rate:g}/s, write={self.write.rate:g}/s)"


_shared: dict[str, KalshiRateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(
    host: str, read_rate: float = DEFAULT_READ_RATE, write_rate: float = DEFAULT_WRITE_RATE
) -> KalshiRateLimiter:
    """The process-wide limiter for ``host`` (``netloc`` of the base URL), created on first use.

    The first caller's rates win: two budgets for one account would defeat the point.
    """
    with _shared_lock:
        limiter = _shared.get(host)
        if limiter is None:
            limiter = _shared[host] = KalshiRateLimiter(read_rate, write_rate)
        elif (limiter.read.rate, limiter.write.rate) != (read_rate, write_rate):
            log.warning(
                "Kalshi rate limiter for %s already runs at %s; ignoring requested read=%g/s write=%g/s",
                host,
                limiter,
                read_rate,
                write_rate,
            )
        return limiter
