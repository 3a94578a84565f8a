"""Client-side token buckets for Kalshi's per-account read and write limits.

Kalshi counts requests per account, not per connection, so every client in a process that talks
to the same host must draw from the same buckets: ``shared_limiter`` keeps one per host.
The buckets pace below the tier's rate (``headroom``): see ``DEFAULT_HEADROOM``.
The same ``TokenBucket`` also plays the exchange's side in the benchmark and the test fakes.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_READ_RATE = 20.0  # Basic tier (reference s5)
DEFAULT_WRITE_RATE = 10.0
# Kalshi does not publish the bucket capacity per tier. A one-request burst paces requests evenly,
# so the client never depends on a server-side burst allowance.
DEFAULT_BURST = 1.0
# Share of the tier's rate the client paces at. Against a server whose bucket holds a single token,
# a request that reaches it late followed by one on time arrives less than 1/rate after its
# predecessor and is refused: pacing at exactly 20/s, 18-52% of 200 requests came back 429 here
# (`bench ingest`, headroom=1.0). At 90% each request has 1/(0.9 rate) - 1/rate of slack (5.6 ms at
# 20/s) for the jitter on the way: 0 refusals on a quiet machine, 0.5-2% with the CPUs oversubscribed.
DEFAULT_HEADROOM = 0.9

# Only order endpoints count against the write limit (reference s5); reading orders is a read.
_ORDER_PATH = re.compile(r"^/portfolio/(events/)?orders(/|$)")


class TokenBucket:
    """``rate`` tokens per second up to ``capacity``; thread-safe.

    ``acquire`` reserves its token at once and then sleeps outside the lock, so the balance may go
    negative: waiting callers queue up in arrival order, each one interval after the previous.
    With ``min_interval_s``, ``acquire`` also never returns sooner than that after the previous
    caller's ``acquire`` returned: a caller the scheduler woke late does not end up right in front
    of the next one, which a server without burst allowance would refuse.
    """

    def __init__(
        self,
        rate: float,
        capacity: float = DEFAULT_BURST,
        *,
        min_interval_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        if capacity < 1:
            raise ValueError(f"capacity must be at least one token, got {capacity}")
        self.rate = float(rate)
        self.capacity = float(capacity)
        self.min_interval_s = float(min_interval_s)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.capacity
        self._stamp = clock()
        self._last_release = -math.inf

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
        while True:
            with self._lock:
                now = self._clock()
                early = self._last_release + self.min_interval_s - now
                if early <= 0:
                    self._last_release = now
                    return wait
            self._sleep(early)
            wait += early


def is_write(method: str, path: str) -> bool:
    """Whether ``method path`` (path relative to ``/trade-api/v2``) spends the write budget."""
    return method.upper() != "GET" and bool(_ORDER_PATH.match(path))


class KalshiRateLimiter:
    """Separate read and write buckets, as Kalshi limits the two independently.

    ``read_rate`` and ``write_rate`` are the account's limits (requests per second); the buckets
    pace evenly at ``headroom`` times them.
    """

    def __init__(
        self,
        read_rate: float = DEFAULT_READ_RATE,
        write_rate: float = DEFAULT_WRITE_RATE,
        *,
        headroom: float = DEFAULT_HEADROOM,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not 0 < headroom <= 1:
            raise ValueError(f"headroom must be in (0, 1], got {headroom}")
        self.read_limit = float(read_rate)
        self.write_limit = float(write_rate)
        self.headroom = float(headroom)
        self.read = self._bucket(read_rate * headroom, clock, sleep)
        self.write = self._bucket(write_rate * headroom, clock, sleep)

    @staticmethod
    def _bucket(rate: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> TokenBucket:
        # One token, and each release a full interval after the previous one however late that one's
        # thread woke: lost time is never caught up, so the headroom is left whole for the jitter
        # on the way to the server (catching up spent it and drew 429s from a one-token server).
        return TokenBucket(rate, DEFAULT_BURST, min_interval_s=1 / rate, clock=clock, sleep=sleep)

    @property
    def limits(self) -> tuple[float, float, float]:
        """(read limit, write limit, headroom): what two clients of one host must agree on."""
        return self.read_limit, self.write_limit, self.headroom

    def acquire(self, method: str, path: str) -> float:
        bucket = self.write if is_write(method, path) else self.read
        return bucket.acquire()

    def __repr__(self) -> str:
        return (
            f"KalshiRateLimiter(read={self.read.rate:g}/s of {self.read_limit:g}/s, "
            f"write={self.write.rate:g}/s of {self.write_limit:g}/s)"
        )


_shared: dict[str, KalshiRateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(
    host: str,
    read_rate: float = DEFAULT_READ_RATE,
    write_rate: float = DEFAULT_WRITE_RATE,
    headroom: float = DEFAULT_HEADROOM,
) -> KalshiRateLimiter:
    """The process-wide limiter for ``host`` (``netloc`` of the base URL), created on first use.

    The first caller's settings win: two budgets for one account would defeat the point.
    """
    with _shared_lock:
        limiter = _shared.get(host)
        if limiter is None:
            limiter = _shared[host] = KalshiRateLimiter(read_rate, write_rate, headroom=headroom)
        elif limiter.limits != (read_rate, write_rate, headroom):
            log.warning(
                "Kalshi rate limiter for %s already runs at %s; ignoring requested read=%g/s write=%g/s headroom=%g",
                host,
                limiter,
                read_rate,
                write_rate,
                headroom,
            )
        return limiter
