"""What every outside HTTP source (Kalshi, Visual Crossing, NWS) shares: retries and the client base.

One retry policy for all sources, so that a change in how we treat 429s, outages or cut-off bodies
is made once, and one ``SourceClient`` owning the connection pool, so every client closes, labels
its requests and prints the same way. Also scrubs registered secrets from httpx's own log lines
(and the loopback server's): httpx logs every request URL at INFO, and Visual Crossing takes its
key in the query string.
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
from typing import Any, ClassVar, Self
from urllib.parse import quote

import httpx

from kalshi_wx.core.errors import PayloadError

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


# A selector longer than this (a list of 100 tickers) is shortened in labels.
MAX_SELECTOR_LENGTH = 60


def request_label(method: str, path: str, params: Mapping[str, object] | None, selectors: tuple[str, ...]) -> str:
    """``GET /markets?event_ticker=...``: the request as errors and log lines name it.

    Only the query parameters listed in ``selectors`` appear, so a key sent in the query string (or
    any parameter nobody vetted) never reaches a message; long values (ticker lists) are shortened.
    """
    shown = []
    for name in selectors:
        value = (params or {}).get(name)
        if value is None or value == "":
            continue
        text = ",".join(map(str, value)) if isinstance(value, list | tuple | set | frozenset) else str(value)
        if len(text) > MAX_SELECTOR_LENGTH:
            text = f"{text[: MAX_SELECTOR_LENGTH - 1]}…"
        shown.append(f"{name}={text}")
    return f"{method} {path}" + (f"?{'&'.join(shown)}" if shown else "")


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


def is_transient(exc: BaseException) -> bool:
    """A failure that trying again later may cure: the service unreachable, busy (429) or failing (5xx).

    Anything else (a 4xx answer, a payload that does not parse, a bug) fails the same way every time.
    """
    if isinstance(exc, SourceUnavailableError):
        return True
    return isinstance(exc, SourceHTTPError) and (exc.status == 429 or exc.status >= 500)


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


class UnreadableBodyError(Exception):
    """A success status whose body is not the JSON it claims to be: a transfer cut short.

    Raised inside an attempt (by ``read_json``) so that ``send_with_retries`` retries it like any
    other transient fault; callers see a ``PayloadError`` once the attempts are spent.
    """


def declares_json(response: httpx.Response) -> bool:
    """``application/json`` or any ``+json`` type (NWS serves ``application/ld+json``)."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def read_json(response: httpx.Response) -> Any:
    """The body as JSON; ``UnreadableBodyError`` when it is cut off or not JSON at all."""
    try:
        return response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        head = redact(response.content[:80].decode("utf-8", "replace"))
        raise UnreadableBodyError(
            f"malformed JSON (HTTP {response.status_code}, {len(response.content)} bytes): {head!r}"
        ) from None


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

    ``send`` may raise ``UnreadableBodyError`` (see ``read_json``): a body cut off on the way is
    retried when idempotent, and becomes a ``PayloadError`` naming the request when the attempts
    are spent.
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
            # Includes a body shorter than its Content-Length (RemoteProtocolError).
            reason = redact(f"{type(exc).__name__}: {exc}")
            if last or not idempotent:
                raise SourceUnavailableError(source, endpoint, attempt, reason) from None
            delay = policy.backoff(attempt, rng)
        except UnreadableBodyError as exc:
            reason = str(exc)
            if last or not idempotent:
                raise PayloadError(f"{source} {endpoint}", f"{reason}; {attempt} attempt(s)") from None
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

    Subclasses name their ``source`` (the label in errors and retry log lines) and ``_log``, list
    the query parameters that say which data a request is about in ``_selectors`` (never a key),
    and what their repr may show in ``_repr_fields``, where credentials appear only masked.

    A success whose body declares JSON but does not parse is retried like a dropped connection,
    through ``_send`` as well as ``_send_json``; ``_send_json`` also hands back the parsed body.
    """

    source: ClassVar[str]
    _log: ClassVar[logging.Logger]
    _selectors: ClassVar[tuple[str, ...]] = ()

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

    def _label(self, method: str, path: str, params: Mapping[str, object] | None = None) -> str:
        """How errors and log lines name a request: method, path and this source's selectors."""
        return request_label(method, path, params, self._selectors)

    def _send(self, send: Callable[[], httpx.Response], endpoint: str, *, idempotent: bool = True) -> httpx.Response:
        """``send_with_retries`` under this client's policy; ``endpoint`` must hold no secrets."""

        def attempt() -> httpx.Response:
            response = send()
            if response.is_success and declares_json(response):
                read_json(response)
            return response

        return self._retrying(attempt, endpoint, idempotent)

    def _send_json(
        self, send: Callable[[], httpx.Response], endpoint: str, *, idempotent: bool = True
    ) -> tuple[httpx.Response, Any]:
        """Like ``_send``, and the JSON document of a success (whatever its declared type); None otherwise."""
        document: Any = None

        def attempt() -> httpx.Response:
            nonlocal document
            response = send()
            document = read_json(response) if response.is_success else None
            return response

        return self._retrying(attempt, endpoint, idempotent), document

    def _retrying(self, attempt: Callable[[], httpx.Response], endpoint: str, idempotent: bool) -> httpx.Response:
        return send_with_retries(
            attempt,
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
