"""Visual Crossing Timeline documents to the observation frame (``core.payloads.observations``) and
forecast rows; pure functions, no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal, overload

import polars as pl

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.forecasts import FORECAST_SCHEMA
from kalshi_wx.core.payloads.observations import station_obs_frame


@overload
def _number(obj: Mapping[str, Any], field: str, *, source: str, where: str, required: Literal[True]) -> float: ...
@overload
def _number(obj: Mapping[str, Any], field: str, *, source: str, where: str, required: bool) -> float | None: ...
def _number(obj: Mapping[str, Any], field: str, *, source: str, where: str, required: bool) -> float | None:
    value = obj.get(field)
    if value is None:
        if required:
            raise PayloadError(source, f"{where}: required value is missing or null", field=field)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(source, f"{where}: expected a number, got {value!r}", field=field)
    return float(value)


def _list(obj: Mapping[str, Any], field: str, *, source: str, where: str) -> list[Any]:
    value = obj.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(source, f"{where}: expected a list, got {type(value).__name__}", field=field)
    return value


def _stations(obj: Mapping[str, Any], *, source: str, where: str) -> list[str] | None:
    value = obj.get("stations")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise PayloadError(source, f"{where}: expected a list of station ids, got {value!r}", field="stations")
    return value


def vc_minutes_rows(doc: Mapping[str, Any], *, station: str, source: str) -> list[dict[str, Any]]:
    """Flatten a Visual Crossing Timeline document's days -> hours -> minutes into rows.

    ``source`` names where ``doc`` came from (endpoint or file) for error messages. Each row:
    ``ts`` (UTC, from ``datetimeEpoch``), ``temp_f``, ``dew_f``, ``humidity``, ``wind_mph``,
    ``stations`` and ``vc_source`` (VC's own label, inherited from the hour, then the day, when the
    minute has none), ``station_ok``: the stations are exactly ``[station]``, and ``raw_json``
    (the minute object as received). Rows from
    another station are kept and flagged, so the audit can count them; dropping them here would
    hide how often VC fills gaps from a neighbour.
    """
    if not isinstance(doc, Mapping):
        raise PayloadError(source, f"expected a JSON object, got {type(doc).__name__}")
    if not isinstance(doc.get("days"), list):
        raise PayloadError(source, "missing or not a list", field="days")
    rows = []
    for d, day in enumerate(doc["days"]):
        day_where = f"day {day.get('datetime', d) if isinstance(day, Mapping) else d}"
        if not isinstance(day, Mapping):
            raise PayloadError(source, f"{day_where}: expected an object", field="days")
        day_stations = _stations(day, source=source, where=day_where)
        for h, hour in enumerate(_list(day, "hours", source=source, where=day_where)):
            hour_where = f"{day_where} hour {hour.get('datetime', h) if isinstance(hour, Mapping) else h}"
            if not isinstance(hour, Mapping):
                raise PayloadError(source, f"{hour_where}: expected an object", field="hours")
            hour_stations = _stations(hour, source=source, where=hour_where)
            inherited = hour_stations if hour_stations is not None else day_stations
            for m, minute in enumerate(_list(hour, "minutes", source=source, where=hour_where)):
                label = minute.get("datetime", m) if isinstance(minute, Mapping) else m
                where = f"{hour_where} minute {label}"
                if not isinstance(minute, Mapping):
                    raise PayloadError(source, f"{where}: expected an object", field="minutes")
                epoch = _number(minute, "datetimeEpoch", source=source, where=where, required=True)
                own = _stations(minute, source=source, where=where)
                stations = own if own is not None else (inherited or [])
                rows.append(
                    {
                        "ts": datetime.fromtimestamp(epoch, UTC),
                        "temp_f": _number(minute, "temp", source=source, where=where, required=True),
                        "dew_f": _number(minute, "dew", source=source, where=where, required=False),
                        "humidity": _number(minute, "humidity", source=source, where=where, required=False),
                        "wind_mph": _number(minute, "windspeed", source=source, where=where, required=False),
                        "stations": list(stations),
                        "vc_source": minute.get("source") or hour.get("source") or day.get("source"),
                        "station_ok": stations == [station],
                        "raw_json": json.dumps(minute, sort_keys=True),
                    }
                )
    return rows


def vc_obs_frame(
    doc: Mapping[str, Any],
    *,
    city: str,
    climate_date: date,
    station: str,
    window: tuple[datetime, datetime],
    source: str,
) -> pl.DataFrame:
    """The climate day's minutes of a Timeline document in the observation frame, by time.

    VC may repeat a row (e.g. at an hour boundary); an exact repeat is dropped, but two different
    rows for one minute are an error. Rows from other stations stay, flagged by ``station_ok``.
    """
    rows = [
        {**row, "stations": ",".join(row["stations"])} for row in vc_minutes_rows(doc, station=station, source=source)
    ]
    return station_obs_frame(
        rows,
        city=city,
        climate_date=climate_date,
        station=station,
        source="visual_crossing",
        window=window,
        origin=source,
    )


def vc_forecast_frame(
    doc: Mapping[str, Any],
    *,
    city: str,
    climate_date: date,
    station: str,
    issued_at: datetime,
    window: tuple[datetime, datetime],
    source: str,
) -> pl.DataFrame:
    """Hourly forecast rows valid inside the climate day in the forecast frame (``core.payloads.forecasts``).

    ``issued_at`` is the model run behind ``forecastBasisDate`` (00:00 UTC of that date): a
    consumer may use a row only from then on, which is what keeps the baseline free of look-ahead.
    VC names no model; its run is the basis date's 00:00 UTC.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("days"), list):
        raise PayloadError(source, "missing or not a list", field="days")
    rows = []
    for d, day in enumerate(doc["days"]):
        day_where = f"day {day.get('datetime', d) if isinstance(day, Mapping) else d}"
        for h, hour in enumerate(_list(day, "hours", source=source, where=day_where)):
            where = f"{day_where} hour {hour.get('datetime', h) if isinstance(hour, Mapping) else h}"
            epoch = _number(hour, "datetimeEpoch", source=source, where=where, required=True)
            ts = datetime.fromtimestamp(epoch, UTC)
            if not window[0] <= ts < window[1]:
                continue
            rows.append(
                {
                    "city": city,
                    "climate_date": climate_date,
                    "station": station,
                    "issued_at": issued_at,
                    "ts": ts,
                    "temp_f": _number(hour, "temp", source=source, where=where, required=True),
                    "source": "visual_crossing",
                    "model": None,
                    "runtime": issued_at,
                    "raw_json": json.dumps(hour, sort_keys=True),
                }
            )
    return pl.DataFrame(rows, schema=FORECAST_SCHEMA).unique(subset=["ts"], keep="first").sort("ts")
