"""A fake Visual Crossing Timeline API on a real loopback socket.

It refuses requests without the right key or without the station lock (``stn:`` location,
``maxStations=1``, a small ``maxDistance``), the parameters whose absence would silently blend
neighbouring stations into the settlement station's series. Observations are served as
days -> hours -> minutes in UTC (``timezone=Z``); a minute listed in ``foreign`` is reported as
coming from another station, the way VC does when it fills a gap from a neighbour.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

from kalshi_wx.sources.loopback import LoopbackServer, Request, Response
from kalshi_wx_tests.fakes.faults import Fault, FaultPlan

TIMELINE_PATH = "/VisualCrossingWebServices/rest/services/timeline"
REQUIRED_ELEMENTS = {
    "datetime",
    "datetimeEpoch",
    "temp",
    "dew",
    "humidity",
    "windspeed",
    "stations",
    "source",
}


@dataclass(frozen=True)
class VCCall:
    location: str
    date1: str
    date2: str
    query: dict[str, str]  # last value of each parameter
    status: int


class FakeVisualCrossing:
    """Fill ``observations[station]`` with minute dicts (``datetimeEpoch``, ``temp``, ``dew``,
    ``humidity``, ``windspeed``) and ``forecasts[(station, basis_date)]`` with hour dicts."""

    def __init__(self, *, api_key: str = "vc-test-key", max_distance_m: int = 5000):
        self.api_key = api_key
        self.max_distance_m = max_distance_m
        self.observations: dict[str, list[dict]] = defaultdict(list)
        self.forecasts: dict[tuple[str, str], list[dict]] = defaultdict(list)
        self.foreign: dict[int, str] = {}  # datetimeEpoch -> station it really came from
        self.calls: list[VCCall] = []
        self.faults = FaultPlan()
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._app)

    @property
    def base_url(self) -> str:
        return self._http.url + TIMELINE_PATH

    def __enter__(self) -> FakeVisualCrossing:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.stop()

    def fail(self, fault: Fault, times: int = 1) -> None:
        self.faults.add("timeline", fault, times)

    def _app(self, request: Request) -> Response:
        query = {k: v[-1] for k, v in request.query.items()}
        parts = unquote(request.path.removeprefix(TIMELINE_PATH)).strip("/").split("/")
        location, date1, date2 = (parts + ["", "", ""])[:3]
        if request.path.startswith(TIMELINE_PATH + "/") and len(parts) == 3:
            response = self.faults.respond("timeline", lambda: self._answer(location, date1, date2, query))
        else:
            response = Response.text("Bad API Request:Invalid location parameter value.", 400)
        with self._lock:
            self.calls.append(VCCall(location, date1, date2, query, response.status))
        return response

    def _answer(self, location: str, date1: str, date2: str, query: dict[str, str]) -> Response:
        if query.get("key") != self.api_key:
            return Response.text("No account found with API key", 401)
        if problem := self._lock_problem(location, query):
            return Response.text(f"Bad API Request:{problem}", 400)
        try:
            first, last = date.fromisoformat(date1), date.fromisoformat(date2)
        except ValueError:
            return Response.text("Bad API Request:Invalid date.", 400)
        station = location.removeprefix("stn:")
        include = set(query.get("include", "").split(","))
        if {"obs", "minutes"} <= include:
            if "minuteinterval_5" not in query.get("options", "").split(","):
                return Response.text("Bad API Request:expected options=minuteinterval_5", 400)
            rows, source = self.observations.get(station, []), "obs"
        elif {"fcst", "hours"} <= include and query.get("forecastBasisDate"):
            rows, source = self.forecasts.get((station, query["forecastBasisDate"]), []), "fcst"
        else:
            return Response.text("Bad API Request:unsupported include", 400)
        days, cost = self._days(station, rows, source, first, last, nested_minutes=source == "obs")
        doc = {
            "queryCost": cost,
            "latitude": 40.779,
            "longitude": -73.969,
            "resolvedAddress": location,
            "address": location,
            "timezone": "Z",
            "tzoffset": 0.0,
            "days": days,
            "stations": {station: {"id": station, "name": station, "distance": 0.0, "useCount": 0}},
        }
        return Response.json(doc)

    def _lock_problem(self, location: str, query: dict[str, str]) -> str | None:
        if not location.startswith("stn:"):
            return f"location {location!r} is not station-locked (stn:<ICAO>)"
        if query.get("maxStations") != "1":
            return "maxStations=1 is required"
        distance = query.get("maxDistance", "")
        if not distance.isdigit() or int(distance) > self.max_distance_m:
            return f"maxDistance must be at most {self.max_distance_m} m"
        expected = {"unitGroup": "us", "timezone": "Z", "contentType": "json"}
        for name, value in expected.items():
            if query.get(name) != value:
                return f"{name}={value} is required"
        missing = REQUIRED_ELEMENTS - set(query.get("elements", "").split(","))
        if missing:
            return f"elements lacks {sorted(missing)}"
        return None

    def _days(
        self, station: str, rows: list[dict], source: str, first: date, last: date, *, nested_minutes: bool
    ) -> tuple[list[dict], int]:
        by_hour: dict[date, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for row in sorted(rows, key=lambda r: r["datetimeEpoch"]):
            ts = datetime.fromtimestamp(row["datetimeEpoch"], UTC)
            if first <= ts.date() <= last:
                by_hour[ts.date()][ts.hour].append(row)
        days, cost = [], 0
        day = first
        while day <= last:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            hours = []
            for hour, members in sorted(by_hour[day].items()):
                at = start + timedelta(hours=hour)
                entry = {
                    "datetime": at.strftime("%H:%M:%S"),
                    "datetimeEpoch": int(at.timestamp()),
                    "temp": members[0]["temp"],
                    "stations": [station],
                    "source": source,
                }
                if nested_minutes:
                    entry["minutes"] = [self._minute(row, source) for row in members]
                    cost += len(members)
                else:
                    entry.update(members[0])
                    cost += 1
                hours.append(entry)
            days.append(
                {
                    "datetime": day.isoformat(),
                    "datetimeEpoch": int(start.timestamp()),
                    "stations": [station],
                    "source": source,
                    "hours": hours,
                }
            )
            day += timedelta(days=1)
        return days, cost

    def _minute(self, row: dict, source: str) -> dict:
        ts = datetime.fromtimestamp(row["datetimeEpoch"], UTC)
        minute = {"datetime": ts.strftime("%H:%M:%S"), **row, "source": source}
        if row["datetimeEpoch"] in self.foreign:
            minute["stations"] = [self.foreign[row["datetimeEpoch"]]]
        return minute
