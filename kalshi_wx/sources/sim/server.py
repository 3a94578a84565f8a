"""One loopback HTTP server speaking Kalshi, Visual Crossing and api.weather.gov from the simulation.

Paths, by prefix, each served by its API module:

* ``/trade-api/v2/...``: the Kalshi Trade API market-data endpoints (``kalshi_api``), and with a
  ``MatchingEngine`` the account's ``/portfolio/...`` endpoints (``matching``).
* ``/VisualCrossingWebServices/rest/services/timeline/...``: the Timeline API (``visual_crossing_api``).
* ``/nws/products/...``: the api.weather.gov CLI product list and products (``nws_api``).

Clients are pointed at ``kalshi_base_url``, ``vc_base_url`` and ``nws_base_url`` and need no
other change. Every answer is a pure function of the config and the request. With a ``clock``
(epoch seconds) the simulated present moves: each request is answered at ``clock()`` instead of
``config.now``, as the live WebSocket simulator (``kalshi_ws``) needs for discovery.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from kalshi_wx.sources.loopback import MultiServiceServer, Request, Response, Route
from kalshi_wx.sources.sim import kalshi_api, nws_api, visual_crossing_api
from kalshi_wx.sources.sim.common import SimConfig
from kalshi_wx.sources.sim.matching import MatchingEngine
from kalshi_wx.sources.sim.params import error_response, not_found


class SimServer(MultiServiceServer):
    """The simulator on one loopback port; a context manager. Counts requests per service: kalshi, vc, nws."""

    def __init__(
        self,
        config: SimConfig,
        *,
        clock: Callable[[], float] | None = None,
        trading: MatchingEngine | None = None,
    ):
        self.config = config
        self._clock = clock
        self.trading = trading
        super().__init__()

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

    def routes(self) -> Sequence[Route]:
        return (
            ("kalshi", kalshi_api.PREFIX, self._kalshi),
            ("vc", visual_crossing_api.PREFIX, self._vc),
            ("nws", nws_api.PREFIX, self._nws),
        )

    def unrouted(self, req: Request) -> Response:
        return error_response(not_found(f"no route for {req.method} {req.path}"))

    def _world(self) -> SimConfig:
        if self._clock is None:
            return self.config
        return replace(self.config, now=datetime.fromtimestamp(self._clock(), UTC))

    def _kalshi(self, req: Request, path: str) -> Response:
        if self.trading is not None and path.startswith("/portfolio/"):
            return self.trading.serve(self._world(), req, path)
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
