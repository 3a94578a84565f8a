"""The replay directory: which recorded file answers which request.

Every file holds a payload exactly as the service sent it (or, where noted, the documented format
rebuilt from a recorded derivative by ``kalshi-wx replay build``)::

    <dir>/replay.json                         optional manifest: {"historical_cutoff": RFC 3339 (default 1970: all
                                              live), "weather_sources": {<city>: {"observations": ...}} (what
                                              was recorded; overrides config/weather.yaml), provenance}
    <dir>/kalshi/series/<SERIES>.json         GET /series/<SERIES>                 ({"series": {...}})
    <dir>/kalshi/events/<EVENT>.json          GET /events/<EVENT> ({"event", "markets"}); also answers
                                              /markets?event_ticker=, ?series_ticker=, /markets/<TICKER>
                                              and the /historical/markets twins
    <dir>/kalshi/trades/<EVENT>.json          {<market ticker>: [trade, ...]}: /markets/trades?ticker=&min_ts=&max_ts=
                                              (and /historical/trades), newest first, paged by cursor
    <dir>/kalshi/candles/<TICKER>.json        {"candlesticks": [...]}: the candlestick endpoints, by end_period_ts
    <dir>/iem/asos1min/<IEM ID>/<YYYY-MM-DD>.csv   asos1min.py CSV (valid(UTC)) of one UTC day; a request
                                              gets the rows in [sts, ets) and the columns it names
    <dir>/iem/cli/<STATION>/<YYYY>.json       /json/cli.py?station=<STATION>&year=<YYYY>
    <dir>/iem/afos/<PIL>/<PRODUCT ID>.txt     one raw product: /api/1/nwstext/<PRODUCT ID>, and retrieve.py?pil=<PIL>
                                              for the products whose id time is in [sdate, edate]
    <dir>/iem/mos/<STATION>/<MODEL>/<YYYY-MM-DD>.csv   mos.py CSV rows of the runs of that UTC date
    <dir>/ncei/<the NCEI URL path>            e.g. ncei/data/automated-surface-observing-system-five-minute/
                                              access/2025/07/asos-5min-KNYC-202507.dat, byte for byte
    <dir>/nws/products/<ID>.json              api.weather.gov GET /products/<ID>; the CLI listing of a location
                                              is built from the products whose AWIPS id is CLI<location>

A request with no recorded file gets what the service answers when it has no data (an empty list,
IEM's "ERROR: Could not Find", a 404), so a replay covers exactly the days it holds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kalshi_wx.core.errors import ConfigError, PayloadError
from kalshi_wx.core.timestamps import parse_time

# Path components come from requests: only these shapes may name a file, so no request escapes the directory.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MANIFEST = "replay.json"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReplayDir:
    root: Path

    @classmethod
    def open(cls, root: Path) -> ReplayDir:
        if not root.is_dir():
            raise ConfigError(f"replay directory {root} does not exist")
        return cls(root.resolve())

    def file(self, *parts: str) -> Path | None:
        """``root/parts...`` when every part is a safe name and the file exists, else None."""
        if not parts or not all(SAFE_NAME.match(p) for p in parts):
            return None
        path = self.root.joinpath(*parts)
        return path if path.is_file() else None

    def files(self, *parts: str, suffix: str) -> list[Path]:
        """The files ending in ``suffix`` in the directory ``root/parts...``, sorted by name."""
        if not all(SAFE_NAME.match(p) for p in parts):
            return []
        folder = self.root.joinpath(*parts)
        return sorted(p for p in folder.glob(f"*{suffix}") if p.is_file()) if folder.is_dir() else []

    def json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text())
        except ValueError as exc:
            raise PayloadError(str(path), f"recorded payload is not JSON: {exc}") from None

    def manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        if not path.is_file():
            return {}
        body = self.json(path)
        if not isinstance(body, dict):
            raise PayloadError(str(path), "expected a JSON object")
        return body

    def historical_cutoff(self) -> datetime:
        """The manifest's ``historical_cutoff``; by default everything recorded is served as live."""
        value = self.manifest().get("historical_cutoff")
        return parse_time(value, source=str(self.root / MANIFEST), field="historical_cutoff") or EPOCH

    def weather_sources(self) -> dict[str, Any]:
        """The manifest's ``weather_sources``: per city, the sources the replay recorded."""
        value = self.manifest().get("weather_sources", {})
        if not isinstance(value, dict):
            raise PayloadError(str(self.root / MANIFEST), "expected an object", field="weather_sources")
        return value
