"""One loopback HTTP server speaking Kalshi, IEM, NCEI and api.weather.gov from a replay directory.

Paths by prefix: ``/kalshi/trade-api/v2/...``, ``/iem/...``, ``/ncei/...``, ``/nws/...``; the clients
are pointed at ``kalshi_base_url``, ``iem_base_url``, ``ncei_base_url`` and ``nws_base_url``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from kalshi_wx.sources.loopback import MultiServiceServer, Request, Response, Route
from kalshi_wx.sources.replay import iem_api, kalshi_api, ncei_api, nws_api
from kalshi_wx.sources.replay.layout import ReplayDir


class ReplayServer(MultiServiceServer):
    """The replay of one directory on one loopback port; a context manager. Counts requests per service."""

    def __init__(self, root: Path):
        self.replay = ReplayDir.open(root)
        super().__init__()

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

    def routes(self) -> Sequence[Route]:
        return (
            ("kalshi", kalshi_api.PREFIX, lambda req, path: kalshi_api.serve(self.replay, req, path)),
            ("iem", iem_api.PREFIX, lambda req, path: iem_api.serve(self.replay, req, path)),
            ("ncei", ncei_api.PREFIX, lambda req, path: ncei_api.serve(self.replay, req, path)),
            ("nws", nws_api.PREFIX, lambda req, path: nws_api.serve(self.replay, req, path, self.nws_base_url)),
        )

    def unrouted(self, req: Request) -> Response:
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
