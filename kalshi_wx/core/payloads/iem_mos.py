"""IEM's archive of NWS MOS / NBM text guidance (``/cgi-bin/request/mos.py``) to the forecast frame.

The answer is a CSV with a header (reference/free_weather_sources.md s5; IEM
``pylib/iemweb/request/mos.py`` over the ``alldata`` table of ``init/mos.sql``): ``runtime`` and
``ftime`` (UTC, ``YYYY-MM-DD HH:MM:SS``), ``station``, ``model``, then the guidance variables under
their bulletin abbreviations, ``tmp`` the temperature in °F. Columns that are empty for every row are
left out, and a whole number with a missing value somewhere in its column prints as ``78.0``.

Which run is the day's baseline: the latest whose cycle time plus the product's publication delay is
no later than the climate day's first minute. A run issued after that knew part of the day, so it is
never stored (the forecast frame's no-look-ahead rule, ``core.payloads.forecasts``).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.csv_records import data_records
from kalshi_wx.core.payloads.forecasts import FORECAST_SCHEMA

# IEM stores GFS MOS under its old name AVN and NAM under ETA, and answers a request for one with both.
MODEL_ALIASES = {"GFS": "AVN", "NAM": "ETA"}
_REQUIRED = ("runtime", "ftime", "station", "model", "tmp")


@dataclass(frozen=True)
class MosRow:
    runtime: datetime
    ftime: datetime
    temp_f: float | None
    raw_json: str


def _utc(text: str, *, origin: str, field: str, line: int) -> datetime:
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)
    except ValueError:
        raise PayloadError(origin, f"line {line}: {field} {text!r} is not YYYY-MM-DD HH:MM:SS", field=field) from None


def _temperature(text: str, *, origin: str, line: int) -> float | None:
    value = text.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise PayloadError(origin, f"line {line}: tmp {text!r} is not a number", field="tmp") from None
    if number != round(number):  # MOS prints whole °F
        raise PayloadError(origin, f"line {line}: tmp {text!r} is not a whole °F", field="tmp")
    return number


def mos_rows(text: str, *, station: str, model: str, origin: str) -> list[MosRow]:
    """Every (runtime, ftime) row of a ``mos.py`` CSV for ``station`` and ``model`` (or IEM's alias of it)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise PayloadError(origin, "empty answer: no CSV header", field="header")
    columns = {name: i for i, name in enumerate(header)}
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        # An answer with no rows has every column (nothing to drop); one with rows but no tmp is not MOS as we know it.
        raise PayloadError(origin, f"not a mos.py CSV: header lacks {missing}; got {header[:6]}", field="header")
    models = {model, MODEL_ALIASES.get(model, model)}
    rows = []
    for line, record in data_records(reader, header, origin=origin):
        if record[columns["station"]] != station:
            raise PayloadError(
                origin, f"line {line}: station {record[columns['station']]!r}, asked for {station!r}", field="station"
            )
        if record[columns["model"]] not in models:
            raise PayloadError(
                origin, f"line {line}: model {record[columns['model']]!r}, asked for {model!r}", field="model"
            )
        rows.append(
            MosRow(
                runtime=_utc(record[columns["runtime"]], origin=origin, field="runtime", line=line),
                ftime=_utc(record[columns["ftime"]], origin=origin, field="ftime", line=line),
                temp_f=_temperature(record[columns["tmp"]], origin=origin, line=line),
                raw_json=json.dumps(dict(zip(header, record, strict=True)), sort_keys=True),
            )
        )
    return rows


def latest_run_before(runtimes: set[datetime], start: datetime, delay: timedelta) -> datetime | None:
    """The latest cycle that was published (cycle + ``delay``) by ``start``, or None."""
    usable = [r for r in runtimes if r + delay <= start]
    return max(usable, default=None)


def mos_forecast_frame(
    text: str,
    *,
    city: str,
    climate_date: date,
    station: str,
    model: str,
    window: tuple[datetime, datetime],
    publication_delay: timedelta,
    origin: str,
) -> pl.DataFrame:
    """The day's baseline run of a ``mos.py`` answer in the forecast frame; empty when no run was out in time.

    Keeps the run's temperatures valid in the climate day plus the nearest one on each side of it.
    """
    rows = [r for r in mos_rows(text, station=station, model=model, origin=origin) if r.temp_f is not None]
    runtime = latest_run_before({r.runtime for r in rows}, window[0], publication_delay)
    run = sorted((r for r in rows if r.runtime == runtime), key=lambda r: r.ftime)
    before = [r for r in run if r.ftime < window[0]][-1:]
    after = [r for r in run if r.ftime >= window[1]][:1]
    inside = [r for r in run if window[0] <= r.ftime < window[1]]
    by_ftime: dict[datetime, MosRow] = {}
    for row in before + inside + after:
        if by_ftime.setdefault(row.ftime, row).raw_json != row.raw_json:
            raise PayloadError(origin, f"run {runtime}: two different rows for {row.ftime.isoformat()}", field="ftime")
    frame_rows = [
        {
            "city": city,
            "climate_date": climate_date,
            "station": station,
            "issued_at": row.runtime + publication_delay,
            "ts": row.ftime,
            "temp_f": row.temp_f,
            "source": "iem_mos",
            "model": model,
            "runtime": row.runtime,
            "raw_json": row.raw_json,
        }
        for row in by_ftime.values()
    ]
    return pl.DataFrame(frame_rows, schema=FORECAST_SCHEMA)
