"""NCEI's 5-minute ASOS archive (DSI 6401): one text file per station and month.

``GET {NCEI_API_BASE}/data/automated-surface-observing-system-five-minute/access/YYYY/MM/asos-5min-KNYC-YYYYMM.dat``
(reference/free_weather_sources.md s2; default base ``https://www.ncei.noaa.gov``). A file's stamps are
local standard time, so a climate day lies inside one month's file. The current month's file is
partial and grows; a month not yet published is a 404. Parsing is ``core.payloads.asos``.

A client keeps the files it fetched (by URL), so the days of one month in one run cost one download.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kalshi_wx.sources.http import RetryPolicy, SourceClient, SourceHTTPError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.ncei.noaa.gov"
FIVE_MINUTE_PATH = "/data/automated-surface-observing-system-five-minute/access"


class NceiHTTPError(SourceHTTPError):
    def __init__(self, endpoint: str, status: int, message: str):
        super().__init__("ncei", endpoint, status, message)


@dataclass(frozen=True)
class NceiFile:
    text: str
    url: str


def five_minute_path(station: str, year: int, month: int) -> str:
    """The archive path of a station-month, e.g. ``/data/.../access/2025/07/asos-5min-KNYC-202507.dat``."""
    return f"{FIVE_MINUTE_PATH}/{year:04d}/{month:02d}/asos-5min-{station}-{year:04d}{month:02d}.dat"


class NceiClient(SourceClient):
    source = "ncei"
    _log = log

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__(
            base_url or DEFAULT_BASE_URL,
            timeout_s=timeout_s,
            headers={},
            retry=retry,
            follow_redirects=True,
            sleep=sleep,
        )
        self._files: dict[str, NceiFile] = {}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> NceiClient:
        """``NCEI_API_BASE`` (a full URL) or NCEI itself."""
        env = os.environ if environ is None else environ
        return cls(env.get("NCEI_API_BASE", "").strip() or None, **kwargs)

    def five_minute_month(self, station: str, year: int, month: int) -> NceiFile:
        """The 6401 file of an ICAO station (KNYC) for one month, from this client's cache after the first call."""
        path = five_minute_path(station, year, month)
        if path in self._files:
            return self._files[path]
        url = f"{self.base_url}{path}"
        response = self._send(lambda: self._http.get(url), f"GET {path}")
        if response.status_code >= 400:
            raise NceiHTTPError(
                f"GET {path}", response.status_code, response.text.strip()[:200] or response.reason_phrase
            )
        file = NceiFile(response.text, url)
        log.info("%s: %d bytes", url, len(response.content))
        self._files[path] = file
        return file
