"""The forecast frame: the day's temperature forecast as it was issued before the climate day began.

``weather.forecast`` holds one forecast run per city-day, whichever source served it (Visual
Crossing's ``forecastBasisDate`` history, or IEM's archive of the NWS MOS/NBM text guidance,
``core.payloads.iem_mos``). The hazard model's baseline reads it, so every row carries when it
became known, and nothing issued after the climate day's first minute is stored:

================  ==================================================================================
``city``          partition: the city key
``climate_date``  partition: the climate day (local standard time)
``station``       the settlement station's ICAO id
``issued_at``     when the run became available (UTC): its cycle time plus the source's publication
                  delay; a consumer may use the row only from then on. Never after the day's start
``ts``            the forecast's valid time (UTC). Rows lie in the climate day, except that a run on a
                  3-hour grid keeps its last point before and first point after the day, so that
                  interpolation covers the day's edges
``temp_f``        forecast air temperature, °F
``source``        which service served the row: ``visual_crossing`` or ``iem_mos``
``model``         the guidance product (``NBS``, ``GFS``, ``LAV``, ...); null for Visual Crossing,
                  which does not name its model
``runtime``       the model cycle (UTC): the MOS runtime, VC's basis date at 00:00 UTC
``raw_json``      the record as received (VC's hour object, the MOS CSV row), for re-parsing
================  ==================================================================================

The key within a partition is ``(issued_at, ts)``.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from kalshi_wx.core.dtypes import UTC_TS, ColumnTypes

ForecastSource = Literal["iem_mos", "visual_crossing"]
FORECAST_SOURCES: tuple[ForecastSource, ...] = ("iem_mos", "visual_crossing")

_FORECAST_COLUMNS: ColumnTypes = {
    "city": pl.Utf8,
    "climate_date": pl.Date,
    "station": pl.Utf8,
    "issued_at": UTC_TS,
    "ts": UTC_TS,
    "temp_f": pl.Float64,
    "source": pl.Utf8,
    "model": pl.Utf8,
    "runtime": UTC_TS,
    "raw_json": pl.Utf8,
}
FORECAST_SCHEMA = pl.Schema(_FORECAST_COLUMNS)
