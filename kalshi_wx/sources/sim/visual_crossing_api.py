"""The simulator's Visual Crossing Timeline API (reference/kalshi_api.md s11) for configured stations.

``GET .../timeline/{location}/{date1}[/{date2}]`` for ``stn:<ICAO>`` locations of the config's cities:
observations (5-minute rows and their hourly and daily roll-ups) or hourly forecasts as of a
``forecastBasisDate``. Like the real service, a refused request is a plain-text error. Nothing
stamped after the simulator clock is served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import numpy as np

from kalshi_wx.core.cities import City
from kalshi_wx.core.climate_day import climate_date_of
from kalshi_wx.sources.loopback import Request, Response
from kalshi_wx.sources.sim.common import SimConfig
from kalshi_wx.sources.sim.weather import WeatherDay, simulate_weather

PREFIX = "/VisualCrossingWebServices/rest/services/timeline"

# Station coordinates for the response header; a station missing here is served with nulls.
STATION_COORDINATES = {
    "KMDW": (41.7861, -87.7524),
    "KNYC": (40.7789, -73.9692),
    "KAUS": (30.1831, -97.6799),
    "KMIA": (25.7881, -80.3169),
    "KLAX": (33.9382, -118.3866),
    "KDEN": (39.8466, -104.6562),
    "KPHL": (39.8683, -75.2311),
}
MINUTE_INTERVALS = (5, 10, 15, 30, 60)
DEFAULT_MINUTE_INTERVAL = 15  # Visual Crossing's own default; clients ask for 5 explicitly
MAX_DAYS = 366


class VcRequestError(ValueError):
    """A request Visual Crossing would refuse; the message is the plain-text body it answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class VcQuery:
    city: City
    first: date
    last: date
    utc: bool  # timezone=Z: days are UTC days; otherwise local civil days of the station
    include: frozenset[str]
    minute_interval: int
    forecast_basis: date | None
    elements: tuple[str, ...] | None


# ---- the request ---------------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _query_date(raw: str, what: str) -> date:
    if not _DATE.fullmatch(raw):
        raise VcRequestError(f"Bad API Request:Invalid {what} date format: {raw!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise VcRequestError(f"Bad API Request:Invalid {what} date: {raw!r}") from None


def _parse_query(config: SimConfig, req: Request, rest: str) -> VcQuery:
    if not (req.arg("key") or "").strip():
        raise VcRequestError(
            "No API key or session found. Please verify that your API key parameter is correct.", status=401
        )
    parts = [unquote(p) for p in rest.strip("/").split("/")]
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise VcRequestError("Bad API Request:expected /timeline/{location}/{date1}/{date2}")
    by_station = {f"stn:{c.station}": c for c in config.cities}
    city = by_station.get(parts[0])
    if city is None:
        raise VcRequestError(
            f"Bad API Request:Invalid location parameter value. The simulator serves only {', '.join(by_station)}."
        )
    if len(parts) < 2:
        raise VcRequestError("Bad API Request:the simulator needs an explicit date1")
    first = _query_date(parts[1], "start")
    last = _query_date(parts[2], "end") if len(parts) == 3 else first
    if last < first or (last - first).days >= MAX_DAYS:
        raise VcRequestError(f"Bad API Request:Invalid date range {first} to {last}")
    unit = req.arg("unitGroup") or "us"
    if unit != "us":
        raise VcRequestError(f"Bad API Request:the simulator serves unitGroup=us only, not {unit!r}")
    timezone = req.arg("timezone")
    if timezone not in (None, "", "Z"):
        raise VcRequestError(
            f"Bad API Request:the simulator supports timezone=Z or the station's own zone, not {timezone!r}"
        )
    include = frozenset(t.strip() for t in (req.arg("include") or "days,hours").split(",") if t.strip())
    interval = DEFAULT_MINUTE_INTERVAL
    for option in (req.arg("options") or "").split(","):
        if option.startswith("minuteinterval_"):
            try:
                interval = int(option.removeprefix("minuteinterval_"))
            except ValueError:
                interval = -1
            if interval not in MINUTE_INTERVALS:
                raise VcRequestError(f"Bad API Request:Invalid option {option!r}")
    basis_raw = req.arg("forecastBasisDate")
    basis = _query_date(basis_raw, "forecastBasisDate") if basis_raw else None
    if basis is not None and "minutes" in include:
        raise VcRequestError(
            "Bad API Request:the simulator keeps hourly historical forecasts; drop minutes from include"
        )
    if basis is None and "fcst" in include and "obs" not in include:
        raise VcRequestError("Bad API Request:the simulator serves forecasts only as of a forecastBasisDate")
    elements_raw = req.arg("elements")
    elements = tuple(e.strip() for e in elements_raw.split(",") if e.strip()) if elements_raw else None
    return VcQuery(city, first, last, timezone == "Z", include, interval, basis, elements)


# ---- the Timeline document ----------------------------------------------------------------------


def _day_window(query: VcQuery, day: date) -> tuple[datetime, datetime]:
    zone = UTC if query.utc else ZoneInfo(query.city.timezone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _weather_days(seed: int, city: City, start: datetime, end: datetime) -> list[WeatherDay]:
    """The climate days that overlap the UTC span [start, end)."""
    first = climate_date_of(start, city.std_utc_offset_hours)
    last = climate_date_of(end - timedelta(microseconds=1), city.std_utc_offset_hours)
    return [simulate_weather(seed, city, first + timedelta(days=i)) for i in range((last - first).days + 1)]


def _clock_label(epoch: int, query: VcQuery) -> str:
    zone = UTC if query.utc else ZoneInfo(query.city.timezone)
    return datetime.fromtimestamp(epoch, zone).strftime("%H:%M:%S")


def _pick(row: dict[str, Any], elements: tuple[str, ...] | None) -> dict[str, Any]:
    """Keep only the requested elements (VC's ``elements``), never the nested ``hours``/``minutes``."""
    if elements is None:
        return row
    return {k: v for k, v in row.items() if k in elements or k in ("hours", "minutes")}


def _round1(values: np.ndarray) -> float:
    return round(float(np.mean(values)), 1)


def _obs_day(config: SimConfig, query: VcQuery, day: date) -> tuple[dict[str, Any] | None, int]:
    start, end = _day_window(query, day)
    weather = _weather_days(config.seed, query.city, start, end)
    epoch = np.concatenate([w.obs_epoch for w in weather])
    keep = (epoch >= start.timestamp()) & (epoch < end.timestamp()) & (epoch <= config.now_ts)
    keep &= (epoch // 60) % query.minute_interval == 0
    if not keep.any():
        return None, 0
    epoch = epoch[keep]
    fields = {
        name: np.concatenate([getattr(w, f"obs_{name}") for w in weather])[keep]
        for name in ("temp", "dew", "humidity", "windspeed")
    }
    stations = [query.city.station]

    def row(j: int) -> dict[str, Any]:
        return {
            "datetime": _clock_label(int(epoch[j]), query),
            "datetimeEpoch": int(epoch[j]),
            "temp": float(fields["temp"][j]),
            "dew": float(fields["dew"][j]),
            "humidity": float(fields["humidity"][j]),
            "windspeed": float(fields["windspeed"][j]),
            "stations": stations,
            "source": "obs",
        }

    doc: dict[str, Any] = {
        "datetime": day.isoformat(),
        "datetimeEpoch": int(start.timestamp()),
        "tempmax": float(fields["temp"].max()),
        "tempmin": float(fields["temp"].min()),
        "temp": _round1(fields["temp"]),
        "dew": _round1(fields["dew"]),
        "humidity": round(float(np.mean(fields["humidity"])), 2),
        "windspeed": float(fields["windspeed"].max()),
        "stations": stations,
        "source": "obs",
    }
    # VC bills the rows of the finest level returned: 288 for a day of 5-minute rows, 24 hourly.
    records = 1
    if query.include & {"hours", "minutes"}:
        hour_of = epoch // 3600
        hours = []
        for hour in np.unique(hour_of).tolist():
            rows = np.flatnonzero(hour_of == hour).tolist()
            hour_doc = {
                **row(rows[0]),
                "datetime": _clock_label(hour * 3600, query),
                "datetimeEpoch": hour * 3600,
            }
            if "minutes" in query.include:
                hour_doc["minutes"] = [_pick(row(j), query.elements) for j in rows]
            hours.append(_pick(hour_doc, query.elements))
        doc["hours"] = hours
        records = int(epoch.size) if "minutes" in query.include else len(hours)
    return _pick(doc, query.elements), records


def _forecast_day(config: SimConfig, query: VcQuery, day: date, basis: date) -> tuple[dict[str, Any], int]:
    basis_time = datetime.combine(basis, time(0), UTC)
    start, end = _day_window(query, day)
    hours = np.arange(int(start.timestamp()), int(end.timestamp()), 3600)
    served, temps = [], []
    for weather in _weather_days(config.seed, query.city, start, end):
        # One forecast per climate day: hours of a day whose forecast was not issued by the basis
        # time are left out (the real service would extrapolate further; the sim does not).
        if weather.forecast_issued_at > basis_time:
            continue
        mine = hours[(hours >= weather.start.timestamp()) & (hours < weather.end.timestamp())]
        minutes = (mine - int(weather.start.timestamp())) // 60
        served.append(mine)
        temps.append(np.round(weather.forecast_minute_temp[minutes], 1))
    if not temps:
        raise VcRequestError(f"Bad API Request:no simulated forecast for {day} was issued by forecastBasisDate {basis}")
    hours, temp = np.concatenate(served), np.concatenate(temps)
    hour_docs = [
        _pick(
            {
                "datetime": _clock_label(int(h), query),
                "datetimeEpoch": int(h),
                "temp": float(t),
                "source": "fcst",
            },
            query.elements,
        )
        for h, t in zip(hours.tolist(), temp.tolist(), strict=True)
    ]
    doc = {
        "datetime": day.isoformat(),
        "datetimeEpoch": int(start.timestamp()),
        "tempmax": float(temp.max()),
        "tempmin": float(temp.min()),
        "temp": _round1(temp),
        "source": "fcst",
    }
    if query.include & {"hours", "minutes"}:
        doc["hours"] = hour_docs
        return _pick(doc, query.elements), len(hour_docs)
    return _pick(doc, query.elements), 1


def timeline(config: SimConfig, query: VcQuery) -> dict[str, Any]:
    """A Timeline API document for ``query`` as Visual Crossing would serve it at ``config.now``.

    Observation days with nothing observed by the clock are left out; forecasts need a
    ``forecastBasisDate`` no later than the clock's date.
    """
    if query.forecast_basis is not None and datetime.combine(query.forecast_basis, time(0), UTC) > config.now:
        raise VcRequestError(f"Bad API Request:forecastBasisDate {query.forecast_basis} is in the future")
    days, cost = [], 0
    for offset in range((query.last - query.first).days + 1):
        day = query.first + timedelta(days=offset)
        doc: dict[str, Any] | None
        if query.forecast_basis is not None:
            doc, records = _forecast_day(config, query, day, query.forecast_basis)
        else:
            doc, records = _obs_day(config, query, day)
        if doc is not None:
            days.append(doc)
            cost += records
    lat, lon = STATION_COORDINATES.get(query.city.station, (None, None))
    if query.utc:
        zone_name, offset_hours = "UTC", 0.0
    else:
        zone = ZoneInfo(query.city.timezone)
        zone_name = query.city.timezone
        first_start = datetime.combine(query.first, time(12), zone)
        utc_offset = first_start.utcoffset()
        assert utc_offset is not None  # first_start is aware
        offset_hours = utc_offset.total_seconds() / 3600
    return {
        "queryCost": cost,
        "latitude": lat,
        "longitude": lon,
        "resolvedAddress": query.city.station,
        "address": f"stn:{query.city.station}",
        "timezone": zone_name,
        "tzoffset": offset_hours,
        "days": days,
        "stations": {
            query.city.station: {
                "distance": 0.0,
                "latitude": lat,
                "longitude": lon,
                "useCount": 0,
                "id": query.city.station,
                "name": query.city.station_name,
                "quality": 100,
                "contribution": 0.0,
            }
        },
    }


def serve(config: SimConfig, req: Request, path: str) -> Response:
    """Answer ``req`` for ``path`` (below ``PREFIX``): a Timeline document, or VC's plain-text error."""
    try:
        return Response.json(timeline(config, _parse_query(config, req, path)))
    except VcRequestError as exc:
        return Response.text(str(exc), status=exc.status)
