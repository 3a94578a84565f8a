"""Visual Crossing Timeline and api.weather.gov CLI payloads rendered from the simulated weather.

Shapes follow reference/kalshi_api.md s11 (Visual Crossing) and the products API that
``kalshi_wx.sources.nws`` reads. Nothing stamped after the simulator clock is served.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from kalshi_wx.core.cities import City
from kalshi_wx.core.climate_day import climate_date_of, climate_day_window
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.sim.common import SimConfig, stable_rng
from kalshi_wx.sources.sim.weather import WeatherDay, simulate_weather

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
VC_MINUTE_INTERVALS = (5, 10, 15, 30, 60)
VC_DEFAULT_MINUTE_INTERVAL = 15  # Visual Crossing's own default; clients ask for 5 explicitly
VC_MAX_DAYS = 366


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


def _day_window(query: VcQuery, day: date) -> tuple[datetime, datetime]:
    zone = UTC if query.utc else ZoneInfo(query.city.timezone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _weather_days(seed: int, city: City, start: datetime, end: datetime) -> list[WeatherDay]:
    """The climate days that overlap the UTC span [start, end)."""
    first = climate_date_of(start, city.std_utc_offset_hours)
    last = climate_date_of(end - timedelta(microseconds=1), city.std_utc_offset_hours)
    return [simulate_weather(seed, city.key, first + timedelta(days=i)) for i in range((last - first).days + 1)]


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
        offset_hours = first_start.utcoffset().total_seconds() / 3600
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


# ---- NWS api.weather.gov CLI products -------------------------------------------------------

NWS_LISTING_DAYS = 30  # the products list reaches this far back (and to the first market day)
_PRELIMINARY_LST = time(16, 30)
_FINAL_LST = time(1, 30)


@dataclass(frozen=True)
class CliIssuance:
    id: str
    city: City
    climate_date: date
    report_type: str  # preliminary | final
    issued_at: datetime


def _issuance(config: SimConfig, city: City, climate_date: date, report_type: str) -> CliIssuance:
    day_start, day_end = climate_day_window(climate_date, city.std_utc_offset_hours)
    late = timedelta(minutes=int(stable_rng(config.seed, city.key, climate_date, report_type).integers(0, 25)))
    if report_type == "preliminary":
        issued = day_start + timedelta(hours=_PRELIMINARY_LST.hour, minutes=_PRELIMINARY_LST.minute) + late
    else:
        issued = day_end + timedelta(hours=_FINAL_LST.hour, minutes=_FINAL_LST.minute) + late
    digest = hashlib.blake2b(f"{config.seed}|{city.key}|{climate_date}|{report_type}".encode(), digest_size=16).digest()
    product_id = str(uuid.UUID(bytes=digest, version=4))
    return CliIssuance(product_id, city, climate_date, report_type, issued)


@lru_cache(maxsize=64)
def _issuances(config: SimConfig) -> dict[str, CliIssuance]:
    """Every CLI product issued by the clock within the listing window, by id."""
    index: dict[str, CliIssuance] = {}
    first = min(config.market_start_date, (config.now - timedelta(days=NWS_LISTING_DAYS)).date())
    for city in settings().cities.values():
        last = climate_date_of(config.now, city.std_utc_offset_hours)
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            for report_type in ("preliminary", "final"):
                issued = _issuance(config, city, day, report_type)
                if issued.issued_at <= config.now:
                    index[issued.id] = issued
    return index


def _lst_clock(minute_of_day: int) -> str:
    """A CLI table time in local standard time, e.g. minute 901 -> ``"301 PM"``."""
    hour, minute = divmod(int(minute_of_day), 60)
    return f"{hour % 12 or 12}{minute:02d} {'AM' if hour < 12 else 'PM'}"


@lru_cache(maxsize=4096)
def _product_text(config: SimConfig, issued: CliIssuance) -> str:
    # Imported here: cli_product is optional for every other route of the simulator.
    from kalshi_wx.sources.sim.cli_product import render_cli_product

    weather = simulate_weather(config.seed, issued.city.key, issued.climate_date)
    if issued.report_type == "preliminary":
        max_f, max_minute, min_f, min_minute = weather.extremes_before(issued.issued_at)
    else:
        max_f, max_minute = weather.cli_max_f, weather.cli_max_minute
        min_f, min_minute = weather.cli_min_f, weather.cli_min_minute
    return render_cli_product(
        city=issued.city,
        climate_date=issued.climate_date,
        max_f=max_f,
        max_time=_lst_clock(max_minute),
        min_f=min_f,
        min_time=_lst_clock(min_minute),
        issued_at=issued.issued_at,
        report_type=issued.report_type,
    )


def _product_fields(config: SimConfig, issued: CliIssuance, base_url: str) -> tuple[dict[str, Any], str]:
    text = _product_text(config, issued)
    # The listing's collective id must match the product's own WMO header line.
    header = _WMO_HEADER.search(text)
    fields = {
        "@id": f"{base_url}/products/{issued.id}",
        "id": issued.id,
        "wmoCollectiveId": header["collective"] if header else "",
        "issuingOffice": f"K{issued.city.wfo}",
        "issuanceTime": issued.issued_at.isoformat(),
        "productCode": "CLI",
        "productName": "Climatological Report (Daily)",
    }
    return fields, text


def cli_listing(config: SimConfig, issuedby: str, base_url: str) -> dict[str, Any]:
    """``GET /products/types/CLI/locations/{issuedby}``: newest first, as api.weather.gov lists."""
    mine = [i for i in _issuances(config).values() if i.city.issuedby == issuedby]
    mine.sort(key=lambda i: i.issued_at, reverse=True)
    return {"@context": _NWS_CONTEXT, "@graph": [_product_fields(config, i, base_url)[0] for i in mine]}


def cli_product(config: SimConfig, product_id: str, base_url: str) -> dict[str, Any] | None:
    """``GET /products/{id}``, or None for an id the simulator never issued (by the clock)."""
    issued = _issuances(config).get(product_id)
    if issued is None:
        return None
    fields, text = _product_fields(config, issued, base_url)
    return {"@context": _NWS_CONTEXT, **fields, "productText": text}


_WMO_HEADER = re.compile(r"^(?P<collective>[A-Z]{4}\d{2}) K[A-Z]{3} \d{6}", re.MULTILINE)
_NWS_CONTEXT = {"@version": "1.1", "@vocab": "https://api.weather.gov/ontology#"}
