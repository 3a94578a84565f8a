"""Fakes of IEM and NCEI on real loopback sockets: the replay's handlers over a test's own files.

The handlers are the ones ``KALSHI_WX_SOURCES=replay`` serves (``kalshi_wx.sources.replay``): they
check parameters the way IEM does (HTTP 422 with a one-line reason) and answer in the documented
formats. The fakes add what a test needs on top: files written into a temporary directory, a log of
the requests, and scripted faults per path (429 with Retry-After, 5xx, a cut-off body).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kalshi_wx.sources.loopback import LoopbackServer, Request, Response
from kalshi_wx.sources.ncei import five_minute_path
from kalshi_wx.sources.replay import iem_api, ncei_api
from kalshi_wx.sources.replay.layout import ReplayDir
from kalshi_wx_tests.fakes.faults import Fault, FaultPlan


@dataclass(frozen=True)
class ArchiveCall:
    path: str
    query: dict[str, str]  # last value of each parameter
    status: int


class _ArchiveFake:
    """A loopback server over ``root`` answering with ``serve(replay, request, path)``; a context manager."""

    def __init__(self, root: Path, serve: Callable[[ReplayDir, Request, str], Response]):
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.replay = ReplayDir.open(root)
        self.calls: list[ArchiveCall] = []
        self.faults = FaultPlan()
        self._serve = serve
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._app)

    @property
    def base_url(self) -> str:
        return self._http.url

    def __enter__(self) -> _ArchiveFake:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.stop()

    def fail(self, path: str, fault: Fault, times: int = 1) -> None:
        self.faults.add(path, fault, times)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
        self.faults = FaultPlan()

    def _app(self, request: Request) -> Response:
        response = self.faults.respond(request.path, lambda: self._serve(self.replay, request, request.path))
        with self._lock:
            self.calls.append(ArchiveCall(request.path, {k: v[-1] for k, v in request.query.items()}, response.status))
        return response

    def _write(self, *parts: str, content: str) -> Path:
        path = self.root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return path


class FakeIem(_ArchiveFake):
    """IEM's asos1min.py, json/cli.py, afos/retrieve.py, api/1/nwstext and mos.py over files the test adds."""

    def __init__(self, root: Path):
        super().__init__(root, iem_api.serve)

    def add_1min(self, iem_id: str, day: date, csv_text: str) -> None:
        self._write("iem", "asos1min", iem_id, f"{day.isoformat()}.csv", content=csv_text)

    def add_cli_year(self, station: str, year: int, doc: dict[str, Any]) -> None:
        self._write("iem", "cli", station, f"{year}.json", content=json.dumps(doc))

    def add_product(self, pil: str, product_id: str, text: str) -> None:
        self._write("iem", "afos", pil, f"{product_id}.txt", content=text)

    def add_mos(self, station: str, model: str, day: date, csv_text: str) -> None:
        self._write("iem", "mos", station, model, f"{day.isoformat()}.csv", content=csv_text)


class FakeNcei(_ArchiveFake):
    """NCEI's 5-minute archive files at their own paths."""

    def __init__(self, root: Path):
        super().__init__(root, ncei_api.serve)

    def add_month(self, station: str, year: int, month: int, text: str) -> str:
        """Serve ``text`` as the station-month's file; returns its URL path."""
        path = five_minute_path(station, year, month)
        self._write("ncei", *path.strip("/").split("/"), content=text)
        return path
