"""What every outside HTTP source (Kalshi, Visual Crossing, NWS) shares: retries and the client base.

One retry policy for all sources, so that a change in how we treat 429s or outages is made once,
and one ``SourceClient`` owning the connection pool, so every client closes and prints the same way.
Also scrubs registered secrets from httpx's own log lines (and the loopback server's): httpx
logs every request URL at INFO, and Visual Crossing takes its key in the query string.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import ClassVar, Self
from urllib.parse import quote

import httpx

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
# Real keys are long random strings; a short placeholder (the simulator's "sim") would only
# mangle ordinary words that happen to contain it.
MIN_SECRET_LENGTH = 8


def register_secret(secret: str) -> None:
    """Have ``redact`` (and hence every httpx/httpcore log line) replace ``secret`` with ``***``."""
    if len(secret) >= MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.update({secret, quote(secret, safe="")})


def redact(text: str) -> str:
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


class _RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# The loopback server logs request lines, which carry the VC key when the simulator stands in for VC.
for _name in ("httpx", "httpcore", "kalshi_wx.sources.loopback"):
    logging.getLogger(_name).addFilter(_RedactSecrets())


class SourceHTTPError(Exception):
    """A non-success HTTP answer from an outside service; never retried once raised."""

    def __init__(self, source: str, endpoint: str, status: int, message: str):
        self.source = source
        self.endpoint = endpoint
        self.status = status
        self.message = message
        super().__init__(f"{source} {endpoint}: HTTP {status}: {message}")


class SourceUnavailableError(Exception):
    """The service could not be reached (timeouts, refused connections) within the retry budget."""

    def __init__(self, source: str, endpoint: str, attempts: int, reason: str):
        self.source = source
        self.endpoint = endpoint
        self.attempts = attempts
        super().__init__(f"{source} {endpoint}: unreachable after {attempts} attempt(s): {reason}")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    # A server asking for minutes of silence is better surfaced as an error than obeyed blindly.
    max_retry_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number ``attempt`` (1-based).

        "Equal jitter": at least half the exponential step, so retries never hammer a struggling
        server, and a random other half, so many workers that failed together do not retry together.
        """
        step = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return step / 2 + rng.uniform(0, step / 2)


def retry_after_seconds(value: str | None, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now()).total_seconds())


def _retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def send_with_retries(
    send: Callable[[], httpx.Response],
    *,
    source: str,
    endpoint: str,
    policy: RetryPolicy,
    logger: logging.Logger,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    idempotent: bool = True,
) -> httpx.Response:
    """Call ``send`` until it yields a final answer, and return that response (any status).

    ``send`` is called afresh for each attempt so that signatures, timestamps and rate-limit
    tokens are per attempt. ``endpoint`` appears in log lines, so it must hold no secrets;
    transport error texts pass through ``redact``.

    A non-idempotent request (placing an order) is retried only when it certainly did not reach
    the exchange: a 429, or a connection that was never established. A timeout or a 5xx after the
    body was sent may have been executed, and retrying it could double an order.
    """
    rng = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        last = attempt >= policy.max_attempts
        try:
            response = send()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            reason = redact(f"{type(exc).__name__}: {exc}")
            if last:
                raise SourceUnavailableError(source, endpoint, attempt, reason) from None
            delay = policy.backoff(attempt, rng)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            reason = redact(f"{type(exc).__name__}: {exc}")
            if last or not idempotent:
                raise SourceUnavailableError(source, endpoint, attempt, reason) from None
            delay = policy.backoff(attempt, rng)
        else:
            status = response.status_code
            if not _retryable_status(status) or last or (status != 429 and not idempotent):
                if attempt > 1:
                    logger.info("%s %s: HTTP %s after %d attempts", source, endpoint, status, attempt)
                return response
            reason = f"HTTP {status}"
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            if retry_after is not None and retry_after > policy.max_retry_after_s:
                logger.warning(
                    "%s %s: server asks to wait %.0f s (over %.0f s); giving up",
                    source,
                    endpoint,
                    retry_after,
                    policy.max_retry_after_s,
                )
                return response
            delay = retry_after if retry_after is not None else policy.backoff(attempt, rng)
        logger.warning(
            "%s %s: %s; retry %d/%d in %.2f s",
            source,
            endpoint,
            reason,
            attempt,
            policy.max_attempts - 1,
            delay,
        )
        sleep(delay)


class SourceClient:
    """One outside service: its base URL, an httpx connection pool and the retry policy; a context manager.

    Subclasses name their ``source`` (the label in errors and retry log lines) and ``_log``, and
    list what their repr may show in ``_repr_fields``, where credentials appear only masked.
    """

    source: ClassVar[str]
    _log: ClassVar[logging.Logger]

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        headers: Mapping[str, str],
        retry: RetryPolicy | None = None,
        follow_redirects: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.Client(timeout=timeout_s, headers=dict(headers), follow_redirects=follow_redirects)

    def _send(self, send: Callable[[], httpx.Response], endpoint: str, *, idempotent: bool = True) -> httpx.Response:
        """``send_with_retries`` under this client's policy; ``endpoint`` must hold no secrets."""
        return send_with_retries(
            send,
            source=self.source,
            endpoint=endpoint,
            policy=self._retry,
            logger=self._log,
            sleep=self._sleep,
            rng=self._rng,
            idempotent=idempotent,
        )

    def _repr_fields(self) -> dict[str, str]:
        return {}

    def __repr__(self) -> str:
        fields = {"base_url": repr(self.base_url), **self._repr_fields()}
        return redact(f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in fields.items())})")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
