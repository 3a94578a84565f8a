"""Raw weather payloads to plain rows; pure functions, no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal, overload

import polars as pl

from kalshi_wx.core.dtypes import ColumnTypes
from kalshi_wx.core.errors import PayloadError

_VC_MINUTES_COLUMNS: ColumnTypes = {
    "city": pl.Utf8,
    "climate_date": pl.Date,
    "station": pl.Utf8,
    "ts": pl.Datetime("us", "UTC"),
    "temp_f": pl.Float64,
    "dew_f": pl.Float64,
    "humidity": pl.Float64,
    "wind_mph": pl.Float64,
    "stations": pl.Utf8,  # comma-joined: what VC says it used
    "source": pl.Utf8,
    "station_ok": pl.Boolean,  # the row came from the settlement station alone
    "raw_json": pl.Utf8,
}
VC_MINUTES_SCHEMA = pl.Schema(_VC_MINUTES_COLUMNS)


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
    ``stations`` and ``source`` (VC's own, inherited from the hour, then the day, when the
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
                        "source": minute.get("source") or hour.get("source") or day.get("source"),
                        "station_ok": stations == [station],
                        "raw_json": json.dumps(minute, sort_keys=True),
                    }
                )
    return rows


def vc_minutes_frame(
    doc: Mapping[str, Any],
    *,
    city: str,
    climate_date: date,
    station: str,
    window: tuple[datetime, datetime],
    source: str,
) -> pl.DataFrame:
    """The ``weather.vc_minutes`` rows of one climate day: ``window[0] <= ts < window[1]``, by time.

    VC may repeat a row (e.g. at an hour boundary); an exact repeat is dropped, but two different
    rows for one minute are an error, since either could be the one the day's maximum rests on.
    """
    by_ts: dict[datetime, dict[str, Any]] = {}
    for row in vc_minutes_rows(doc, station=station, source=source):
        if not window[0] <= row["ts"] < window[1]:
            continue
        seen = by_ts.setdefault(row["ts"], row)
        if seen["raw_json"] != row["raw_json"]:
            raise PayloadError(source, f"two different rows for {row['ts'].isoformat()}", field="minutes")
    rows = [
        {
            **row,
            "city": city,
            "climate_date": climate_date,
            "station": station,
            "stations": ",".join(row["stations"]),
        }
        for _, row in sorted(by_ts.items())
    ]
    return pl.DataFrame(rows, schema=VC_MINUTES_SCHEMA)


_VC_FORECAST_COLUMNS: ColumnTypes = {
    "city": pl.Utf8,
    "climate_date": pl.Date,
    "station": pl.Utf8,
    "issued_at": pl.Datetime("us", "UTC"),  # when this forecast was known: usable only from then on
    "ts": pl.Datetime("us", "UTC"),  # the forecast's valid time
    "temp_f": pl.Float64,
    "source": pl.Utf8,  # Visual Crossing's own label, "fcst" for forecasts
    "raw_json": pl.Utf8,
}
VC_FORECAST_SCHEMA = pl.Schema(_VC_FORECAST_COLUMNS)


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
    """Hourly forecast rows valid inside the climate day, stamped with when the forecast was issued.

    ``issued_at`` is the model run behind ``forecastBasisDate`` (00:00 UTC of that date): a
    consumer may use a row only from then on, which is what keeps the baseline free of look-ahead.
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
                    "source": hour.get("source") or day.get("source") or "fcst",
                    "raw_json": json.dumps(hour, sort_keys=True),
                }
            )
    return pl.DataFrame(rows, schema=VC_FORECAST_SCHEMA).unique(subset=["ts"], keep="first").sort("ts")
