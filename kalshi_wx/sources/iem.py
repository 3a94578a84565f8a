"""Iowa Environmental Mesonet (IEM): ASOS 1-minute observations, the CLI archive, MOS guidance.

Free and public domain (reference/free_weather_sources.md s1, s4, s5). Endpoints, relative to
``IEM_API_BASE`` (default ``https://mesonet.agron.iastate.edu``):

* ``GET /cgi-bin/request/asos1min.py?station=NYC&vars=tmpf,dwpf,sknt&sts=..Z&ets=..Z&tz=UTC``: the
  NCEI 1-minute archive as CSV (``core.payloads.asos``). IEM ids drop the K (``NYC``, not ``KNYC``);
  the query is ``sts <= valid < ets``; data lag NCEI by a day or more.
* ``GET /json/cli.py?station=KNYC&year=2025``: daily CLI values (``core.payloads.iem_cli``).
* ``GET /cgi-bin/afos/retrieve.py?pil=CLINYC&fmt=text&sdate=..&edate=..&limit=9999&order=asc``:
  every raw CLI product issued in the window, beyond api.weather.gov's few days of retention.
* ``GET /api/1/nwstext/{product_id}``: one raw product.
* ``GET /cgi-bin/request/mos.py?station=KNYC&model=NBS&sts=..&ets=..&format=csv``: MOS/NBM runs by
  cycle time (``core.payloads.iem_mos``).

IEM throttles per IP (HTTP 429 "Too many requests from your IP address, slow down", one second on
``asos.py``, ``mos.py`` and DSM products) and answers 503 under load, so requests from one process to
one host are spaced a second apart (``RequestSpacing``) and 429/5xx are retried. Bad parameters get HTTP 422
with a one-line reason. A ``retrieve.py`` window with no product answers HTTP 200
``ERROR: Could not Find: ...``, which is an empty result, not an error.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.asos import iem_station_id
from kalshi_wx.core.payloads.iem_cli import afos_products
from kalshi_wx.sources.http import RetryPolicy, SourceClient, SourceHTTPError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://mesonet.agron.iastate.edu"
DEFAULT_USER_AGENT = "kalshi-wx (https://github.com/kalshi-wx)"
# IEM's documented per-IP throttle is one second on its busiest services; spacing every request keeps
# a backfill under it without knowing which services are throttled today.
DEFAULT_MIN_INTERVAL_S = 1.0
ASOS_1MIN_VARS = ("tmpf", "dwpf", "sknt")


class IemHTTPError(SourceHTTPError):
    def __init__(self, endpoint: str, status: int, message: str):
        super().__init__("iem", endpoint, status, message)


@dataclass(frozen=True)
class IemText:
    """One answer as served, with the URL it came from (provenance for PayloadError sources)."""

    text: str
    url: str


class RequestSpacing:
    """Requests through it start at least ``interval_s`` apart; one per IEM host is shared by the process."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self._clock = clock
        self._next_at: float | None = None
        self._lock = threading.Lock()

    def wait(self, sleep: Callable[[float], None]) -> None:
        with self._lock:
            now = self._clock()
            start = now if self._next_at is None else max(now, self._next_at)
            self._next_at = start + self.interval_s
        if start > now:
            sleep(start - now)


_spacings: dict[str, RequestSpacing] = {}
_spacings_lock = threading.Lock()


def shared_spacing(host: str) -> RequestSpacing:
    """The process's spacing of requests to ``host`` (every client and thread of a backfill shares it)."""
    with _spacings_lock:
        return _spacings.setdefault(host, RequestSpacing(DEFAULT_MIN_INTERVAL_S))


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


class IemClient(SourceClient):
    """IEM over HTTP: text answers with their URLs; parsing happens in ``core.payloads``."""

    source = "iem"
    _log = log

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout_s: float = 60.0,
        user_agent: str = DEFAULT_USER_AGENT,
        retry: RetryPolicy | None = None,
        spacing: RequestSpacing | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__(
            base_url or DEFAULT_BASE_URL,
            timeout_s=timeout_s,
            headers={"User-Agent": user_agent},
            retry=retry,
            follow_redirects=True,
            sleep=sleep,
        )
        self._spacing = spacing or shared_spacing(urlsplit(self.base_url).netloc)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> IemClient:
        """``IEM_API_BASE`` (a full URL) or IEM itself."""
        env = os.environ if environ is None else environ
        return cls(env.get("IEM_API_BASE", "").strip() or None, **kwargs)

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> IemText:
        url = f"{self.base_url}{path}"

        def send() -> httpx.Response:
            self._spacing.wait(self._sleep)
            return self._http.get(url, params=params)

        response = self._send(send, f"GET {path}")
        if response.status_code >= 400:
            raise IemHTTPError(f"GET {path}", response.status_code, response.text.strip()[:300])
        return IemText(response.text, str(response.url))

    def asos_1min(self, station: str, start: datetime, end: datetime) -> IemText:
        """1-minute observations of an ASOS (ICAO id, e.g. KNYC) with ``start <= valid < end``, stamped in UTC."""
        params = {
            "station": iem_station_id(station),
            "vars": ",".join(ASOS_1MIN_VARS),
            "sts": _iso_z(start),
            "ets": _iso_z(end),
            "tz": "UTC",
            "sample": "1min",
            "delim": "comma",
            "what": "download",
        }
        return self._get("/cgi-bin/request/asos1min.py", params)

    def cli_year(self, station: str, year: int) -> tuple[Any, str]:
        """``/json/cli.py`` for a 4-letter CLI station (KNYC) and year: the JSON document and its URL."""
        answer = self._get("/json/cli.py", {"station": station, "year": str(year), "fmt": "json"})
        try:
            return json.loads(answer.text), answer.url
        except ValueError:
            raise PayloadError(answer.url, f"malformed JSON: {answer.text[:80]!r}") from None

    def cli_products(self, pil: str, start: datetime, end: datetime) -> tuple[list[str], str]:
        """Every raw product of an AWIPS id (CLINYC) entered in [start, end], oldest first, and the URL."""
        params = {
            "pil": pil,
            "fmt": "text",
            "sdate": _iso_z(start),
            "edate": _iso_z(end),
            "limit": "9999",
            "order": "asc",
        }
        answer = self._get("/cgi-bin/afos/retrieve.py", params)
        return afos_products(answer.text, origin=answer.url), answer.url

    def product_text(self, product_id: str) -> IemText:
        """One raw product by its IEM id (``202506020617-KOKX-CDUS41-CLINYC``)."""
        return self._get(f"/api/1/nwstext/{product_id}")

    def mos(self, station: str, model: str, start: datetime, end: datetime) -> IemText:
        """Every run of a MOS/NBM product (NBS, GFS, LAV, ...) of a 4-letter station with cycle in [start, end]."""
        params = {"station": station, "model": model, "sts": _iso_z(start), "ets": _iso_z(end), "format": "csv"}
        return self._get("/cgi-bin/request/mos.py", params)
