"""Visual Crossing Timeline API client (reference s11), locked to one station.

Every request pins the location to ``stn:<ICAO>`` with ``maxStations=1`` and a small
``maxDistance``; without them VC silently interpolates up to three stations within ~50 miles,
which is not what Kalshi settles on. The key travels in the query string, so it is registered
for redaction and never appears in our log lines, httpx's, or an exception.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from kalshi_wx.core.errors import ConfigError, PayloadError
from kalshi_wx.sources.http import RetryPolicy, SourceClient, SourceHTTPError, redact, register_secret

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://weather.visualcrossing.com/VisualCrossingWebServices/rest/services/timeline"
ELEMENTS = "datetime,datetimeEpoch,temp,dew,humidity,windspeed,stations,source"
# Metres. A stn: location sits on its station, so 1 km admits that station and no neighbour.
DEFAULT_MAX_DISTANCE_M = 1000


class VisualCrossingHTTPError(SourceHTTPError):
    def __init__(self, endpoint: str, status: int, message: str):
        super().__init__("visual_crossing", endpoint, status, message)


@dataclass(frozen=True)
class VCResponse:
    document: dict[str, Any]  # the raw Timeline JSON document
    query_cost: int  # records billed for this request
    url: str  # without the query string (so without the key): provenance for PayloadError sources


class VisualCrossingClient(SourceClient):
    source = "visual_crossing"
    _log = log
    _selectors = ("forecastBasisDate",)  # the key travels in the query too: it is never a selector

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE,
        *,
        max_distance_m: int = DEFAULT_MAX_DISTANCE_M,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        if not api_key:
            raise ConfigError("VISUAL_CROSSING_API_KEY is empty")
        register_secret(api_key)
        super().__init__(
            base_url, timeout_s=timeout_s, headers={"Accept": "application/json"}, retry=retry, sleep=sleep, rng=rng
        )
        self._key = api_key
        self.max_distance_m = max_distance_m

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> VisualCrossingClient:
        env = os.environ if environ is None else environ
        key = env.get("VISUAL_CROSSING_API_KEY", "").strip()
        if not key:
            raise ConfigError("VISUAL_CROSSING_API_KEY is not set")
        base = env.get("VISUAL_CROSSING_API_BASE", "").strip() or DEFAULT_BASE
        return cls(key, base, **kwargs)

    def _repr_fields(self) -> dict[str, str]:
        return {"key": "***"}

    def get_observations(self, station: str, start: date, end: date) -> VCResponse:
        """Observed 5-minute rows for ``station`` from ``start`` to ``end`` (UTC days, inclusive)."""
        return self._timeline(station, start, end, {"include": "obs,minutes", "options": "minuteinterval_5"})

    def get_forecast(self, station: str, start: date, end: date, *, basis_date: date) -> VCResponse:
        """Hourly forecast for ``start``..``end`` as issued on ``basis_date`` (no look-ahead)."""
        params = {"include": "fcst,hours", "forecastBasisDate": basis_date.isoformat()}
        return self._timeline(station, start, end, params)

    def _timeline(self, station: str, start: date, end: date, extra: dict[str, str]) -> VCResponse:
        location = f"stn:{station}"
        path = f"{quote(location, safe=':')}/{start.isoformat()}/{end.isoformat()}"
        params = {
            "key": self._key,
            "unitGroup": "us",
            "maxStations": "1",
            "maxDistance": str(self.max_distance_m),
            "timezone": "Z",
            "contentType": "json",
            "elements": ELEMENTS,
            **extra,
        }
        endpoint = self._label("GET", f"{location}/{start.isoformat()}/{end.isoformat()}", params)
        source = f"visual_crossing {endpoint}"
        url = f"{self.base_url}/{path}"
        response, doc = self._send_json(lambda: self._http.get(url, params=params), endpoint)
        if response.status_code >= 400:
            # VC answers errors in plain text, which may echo the request
            raise VisualCrossingHTTPError(endpoint, response.status_code, redact(response.text.strip()[:300]))
        if not isinstance(doc, dict):
            raise PayloadError(source, f"expected a JSON object, got {type(doc).__name__}")
        if not isinstance(doc.get("days"), list):
            raise PayloadError(source, "missing or not a list", field="days")
        cost = doc.get("queryCost")
        if isinstance(cost, bool) or not isinstance(cost, int):
            raise PayloadError(source, f"expected an integer record count, got {cost!r}", field="queryCost")
        log.info("%s: %d record(s) billed", source, cost)
        return VCResponse(doc, cost, url)
