"""The observation frame: every station observation of a climate day, whichever source served it.

``weather.station_obs`` holds one row per observation time at the settlement station. The IEM
1-minute archive, the NCEI 5-minute (DSI 6401) files and Visual Crossing each parse into this one
shape (``core.payloads.asos`` and ``core.payloads.visual_crossing``), so everything downstream (the
hazard model, the dbt panels, the checks) reads one frame and can ask how fine and how exact it is:

=================  ==================================================================================
``city``           partition: the city key
``climate_date``   partition: the climate day (local standard time)
``station``        the settlement station's ICAO id (``KNYC``)
``ts``             the observation's time, UTC; ``window[0] <= ts < window[1]`` of the climate day
``temp_f``         air temperature in °F, as exact as the source allows: a whole °F (IEM 1-minute,
                   the ASOS's own integer); the T group's tenths of °C rounded back to the whole °F
                   they came from (NCEI 5-minute); Visual Crossing's float. Null when the record has
                   no usable temperature (``M``, or a 5-minute record without a T group: its
                   whole-°C body value is off by up to 1 °F, enough to put an observed maximum above
                   the CLI's)
``temp_c_tenths``  the T group's tenths of °C (NCEI 5-minute), the reading before any rounding to °F;
                   null for sources that report °F
``dew_f``          dew point in °F where the source has it
``humidity``       relative humidity in % where the source has it (Visual Crossing)
``wind_mph``       wind speed in mph (knots converted) where the source has it
``stations``       comma-joined stations the value came from: the settlement station for the ASOS
                   archives, whatever Visual Crossing says it used
``source``         which service served the row: ``iem_1min``, ``ncei_5min`` or ``visual_crossing``
``station_ok``     the row came from the settlement station alone (always true for the ASOS archives)
``resolution_min`` the source's nominal spacing in minutes (1, 5): the observation model's
                   link from the observed maximum to the CLI's depends on it
``raw_json``       the record as received (the CSV row as an object, the 6401 line, VC's minute), so
                   a row can be re-parsed when a format is better understood
=================  ==================================================================================

The key within a partition is ``ts``. A repeated identical record is dropped; two different
records for one time are an error, since either could be the one the day's maximum rests on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal

import polars as pl

from kalshi_wx.core.dtypes import UTC_TS, ColumnTypes
from kalshi_wx.core.errors import PayloadError

ObservationSource = Literal["iem_1min", "ncei_5min", "visual_crossing"]
OBSERVATION_SOURCES: tuple[ObservationSource, ...] = ("iem_1min", "ncei_5min", "visual_crossing")
# Nominal spacing of each source's records, in minutes.
RESOLUTION_MIN: dict[ObservationSource, int] = {"iem_1min": 1, "ncei_5min": 5, "visual_crossing": 5}

_STATION_OBS_COLUMNS: ColumnTypes = {
    "city": pl.Utf8,
    "climate_date": pl.Date,
    "station": pl.Utf8,
    "ts": UTC_TS,
    "temp_f": pl.Float64,
    "temp_c_tenths": pl.Int32,
    "dew_f": pl.Float64,
    "humidity": pl.Float64,
    "wind_mph": pl.Float64,
    "stations": pl.Utf8,
    "source": pl.Utf8,
    "station_ok": pl.Boolean,
    "resolution_min": pl.Int32,
    "raw_json": pl.Utf8,
}
STATION_OBS_SCHEMA = pl.Schema(_STATION_OBS_COLUMNS)

KNOTS_TO_MPH = 1.150779


def station_obs_frame(
    rows: Iterable[Mapping[str, Any]],
    *,
    city: str,
    climate_date: date,
    station: str,
    source: ObservationSource,
    window: tuple[datetime, datetime],
    origin: str,
) -> pl.DataFrame:
    """The climate day's rows (``window[0] <= ts < window[1]``) in the observation frame, by time.

    Each row needs ``ts``, ``temp_f`` and ``raw_json``; the other measured columns default to null,
    ``stations`` to ``station`` and ``station_ok`` to true. ``origin`` (file or endpoint) names
    where the rows came from in errors.
    """
    by_ts: dict[datetime, dict[str, Any]] = {}
    for row in rows:
        ts = row["ts"]
        if not window[0] <= ts < window[1]:
            continue
        full = {
            "city": city,
            "climate_date": climate_date,
            "station": station,
            "ts": ts,
            "temp_f": row["temp_f"],
            "temp_c_tenths": row.get("temp_c_tenths"),
            "dew_f": row.get("dew_f"),
            "humidity": row.get("humidity"),
            "wind_mph": row.get("wind_mph"),
            "stations": row.get("stations", station),
            "source": source,
            "station_ok": row.get("station_ok", True),
            "resolution_min": RESOLUTION_MIN[source],
            "raw_json": row["raw_json"],
        }
        seen = by_ts.setdefault(ts, full)
        if seen["raw_json"] != full["raw_json"]:
            raise PayloadError(origin, f"two different records for {ts.isoformat()}", field="ts")
    return pl.DataFrame([row for _, row in sorted(by_ts.items())], schema=STATION_OBS_SCHEMA)
