"""Scripted failures for the loopback fakes: the next N requests on a path go wrong on purpose."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from kalshi_wx.sources.loopback import Response


@dataclass(frozen=True)
class Fault:
    """One bad answer. Build with the class methods."""

    kind: str
    status: int = 200
    retry_after: str | None = None
    field: str | None = None
    body: bytes = b""
    content_type: str = "application/json"

    @classmethod
    def http(cls, status: int, *, retry_after: float | None = None) -> Fault:
        return cls("http", status, None if retry_after is None else f"{retry_after:g}")

    @classmethod
    def malformed(cls) -> Fault:
        """HTTP 200 whose JSON body ends mid-document under a matching Content-Length, as a proxy
        that lost its upstream connection and closed the document early would serve it."""
        return cls("raw", body=b'{"markets": [{"ticker": "KX')

    @classmethod
    def cut_off(cls) -> Fault:
        """The real answer's first half under its full Content-Length, then the connection closes."""
        return cls("cut")

    @classmethod
    def raw(cls, body: bytes, content_type: str = "application/json") -> Fault:
        """HTTP 200 with exactly ``body`` (e.g. a JSON array where an object is documented)."""
        return cls("raw", body=body, content_type=content_type)

    @classmethod
    def none(cls) -> Fault:
        """The real answer: queued ahead of a fault, it makes the fault hit a later request."""
        return cls("none")

    @classmethod
    def drop_field(cls, field: str) -> Fault:
        """The real answer without one top-level field."""
        return cls("drop", field=field)


class FaultPlan:
    """Per-path queues of faults, consumed one per request; thread-safe."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()

    def add(self, path: str, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._queues.setdefault(path, deque()).extend([fault] * times)

    def respond(self, path: str, build: Callable[[], Response]) -> Response:
        """The scripted fault for ``path`` if one is queued, else the real answer from ``build``."""
        with self._lock:
            queue = self._queues.get(path)
            fault = queue.popleft() if queue else None
        if fault is None or fault.kind == "none":
            return build()
        if fault.kind == "http":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            error = {"error": {"code": f"injected_{fault.status}", "message": f"injected HTTP {fault.status}"}}
            return Response.json(error, fault.status, headers)
        if fault.kind == "raw":
            return Response(200, fault.body, {"Content-Type": fault.content_type})
        real = build()
        if fault.kind == "cut":
            return Response(real.status, real.body, real.headers, truncate_at=len(real.body) // 2)
        payload = json.loads(real.body)
        payload.pop(fault.field, None)
        return Response.json(payload, real.status)
