"""One loopback HTTP server speaking Kalshi, IEM, NCEI and api.weather.gov from a replay directory.

Paths by prefix: ``/kalshi/trade-api/v2/...``, ``/iem/...``, ``/ncei/...``, ``/nws/...``; the clients
are pointed at ``kalshi_base_url``, ``iem_base_url``, ``ncei_base_url`` and ``nws_base_url``.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from kalshi_wx.sources.loopback import LoopbackServer, Request, Response
from kalshi_wx.sources.replay import iem_api, kalshi_api, ncei_api, nws_api
from kalshi_wx.sources.replay.layout import ReplayDir


class ReplayServer:
    """The replay of one directory on one loopback port; a context manager. Counts requests per service."""

    def __init__(self, root: Path):
        self.replay = ReplayDir.open(root)
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._server = LoopbackServer(self._app)
        self._started = False

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def kalshi_base_url(self) -> str:
        return f"{self.url}{kalshi_api.PREFIX}"

    @property
    def iem_base_url(self) -> str:
        return f"{self.url}{iem_api.PREFIX}"

    @property
    def ncei_base_url(self) -> str:
        return f"{self.url}{ncei_api.PREFIX}"

    @property
    def nws_base_url(self) -> str:
        return f"{self.url}{nws_api.PREFIX}"

    @property
    def request_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def start(self) -> ReplayServer:
        with self._lock:
            if not self._started:
                self._server.start()
                self._started = True
        return self

    def stop(self) -> None:
        with self._lock:
            if self._started:
                self._server.stop()
                self._started = False

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _app(self, req: Request) -> Response:
        for service, prefix in (
            ("kalshi", kalshi_api.PREFIX),
            ("iem", iem_api.PREFIX),
            ("ncei", ncei_api.PREFIX),
            ("nws", nws_api.PREFIX),
        ):
            if req.path.startswith(prefix + "/"):
                with self._lock:
                    self._counts[service] += 1
                path = req.path.removeprefix(prefix)
                if service == "kalshi":
                    return kalshi_api.serve(self.replay, req, path)
                if service == "iem":
                    return iem_api.serve(self.replay, req, path)
                if service == "ncei":
                    return ncei_api.serve(self.replay, req, path)
                return nws_api.serve(self.replay, req, path, self.nws_base_url)
        with self._lock:
            self._counts["unknown"] += 1
        return Response.text(f"no route for {req.method} {req.path} in the replay", status=404)


_shared_lock = threading.Lock()
_shared: dict[Path, ReplayServer] = {}


def shared_replay_server(root: Path) -> ReplayServer:
    """The process's running replay of ``root``, started on first use; it lives until the process exits."""
    key = root.resolve()
    with _shared_lock:
        server = _shared.get(key)
        if server is None:
            server = _shared[key] = ReplayServer(key).start()
        return server
