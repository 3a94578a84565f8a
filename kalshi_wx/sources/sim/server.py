"""One loopback HTTP server speaking Kalshi, Visual Crossing and api.weather.gov from the simulation.

Paths, by prefix, each served by its API module:

* ``/trade-api/v2/...``: the Kalshi Trade API market-data endpoints (``kalshi_api``).
* ``/VisualCrossingWebServices/rest/services/timeline/...``: the Timeline API (``visual_crossing_api``).
* ``/nws/products/...``: the api.weather.gov CLI product list and products (``nws_api``).

Clients are pointed at ``kalshi_base_url``, ``vc_base_url`` and ``nws_base_url`` and need no
other change. Every answer is a pure function of the config and the request. With a ``clock``
(epoch seconds) the simulated present moves: each request is answered at ``clock()`` instead of
``config.now``, as the live WebSocket simulator (``kalshi_ws``) needs for discovery.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from kalshi_wx.sources.loopback import LoopbackServer, Request, Response
from kalshi_wx.sources.sim import kalshi_api, nws_api, visual_crossing_api
from kalshi_wx.sources.sim.common import SimConfig
from kalshi_wx.sources.sim.params import error_response, not_found


class SimServer:
    """The simulator on one loopback port; a context manager. Counts requests per service."""

    def __init__(self, config: SimConfig, *, clock: Callable[[], float] | None = None):
        self.config = config
        self._clock = clock
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
    def vc_base_url(self) -> str:
        """The Timeline endpoint base, to which ``/{location}/{date1}/{date2}`` is appended."""
        return f"{self.url}{visual_crossing_api.PREFIX}"

    @property
    def nws_base_url(self) -> str:
        return f"{self.url}{nws_api.PREFIX}"

    @property
    def request_counts(self) -> dict[str, int]:
        """Requests served so far by service: kalshi, vc, nws, unknown."""
        with self._lock:
            return dict(self._counts)

    @property
    def requests_served(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def start(self) -> SimServer:
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

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _count(self, service: str) -> None:
        with self._lock:
            self._counts[service] += 1

    def _app(self, req: Request) -> Response:
        path = req.path
        for service, prefix, serve in (
            ("kalshi", kalshi_api.PREFIX, self._kalshi),
            ("vc", visual_crossing_api.PREFIX, self._vc),
            ("nws", nws_api.PREFIX, self._nws),
        ):
            if path.startswith(prefix + "/"):
                self._count(service)
                return serve(req, path.removeprefix(prefix))
        self._count("unknown")
        return error_response(not_found(f"no route for {req.method} {path}"))

    def _world(self) -> SimConfig:
        if self._clock is None:
            return self.config
        return replace(self.config, now=datetime.fromtimestamp(self._clock(), UTC))

    def _kalshi(self, req: Request, path: str) -> Response:
        return kalshi_api.serve(self._world(), req, path)

    def _vc(self, req: Request, path: str) -> Response:
        return visual_crossing_api.serve(self._world(), req, path)

    def _nws(self, req: Request, path: str) -> Response:
        return nws_api.serve(self._world(), req, path, self.nws_base_url)


_shared_lock = threading.Lock()
_shared: dict[SimConfig, SimServer] = {}


def shared_sim_server(config: SimConfig) -> SimServer:
    """The process's running simulator for ``config``, started on first use.

    Dagster resources in sim mode point their clients at it; it lives until the process exits.
    """
    with _shared_lock:
        server = _shared.get(config)
        if server is None:
            server = _shared[config] = SimServer(config).start()
        return server
