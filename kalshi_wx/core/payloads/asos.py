"""ASOS archives to the observation frame (``core.payloads.observations``): pure text in, frames out.

Two formats (reference/free_weather_sources.md s1-2):

* **IEM 1-minute CSV** (``/cgi-bin/request/asos1min.py``): a header
  ``station,station_name,valid(<tz>),<vars>`` then one row per minute; ``valid`` is
  ``YYYY-MM-DD HH:MM`` in the requested zone; ``tmpf``/``dwpf`` are the ASOS's whole-°F integers,
  the series the CLI maximum is computed from; a missing value is ``M``. Only ``tz=UTC`` is read:
  local wall-clock stamps repeat an hour every autumn.
* **NCEI DSI-6401 5-minute text** (``asos-5min-KNYC-YYYYMM.dat``): one line per record,
  ``<WBAN><ICAO> <FAA><YYYYMMDDHHMM><len><MM/DD/YY HH:MM:SS>  5-MIN <ICAO> <DDHHMMZ> <METAR body> RMK ...``.
  The ``YYYYMMDDHHMM`` stamp is local **standard** time all year; only the body's ``DDHHMMZ`` is
  UTC, and the parser checks that the two agree. The temperature comes from the remark
  ``Tsnnnsnnn`` (tenths of °C, sign digit 1 = negative): an ASOS whole °F converted to tenths of a
  degree C errs by at most 0.05 °C, so rounding back recovers the exact °F. The body's ``26/22`` is
  whole °C (up to 1 °F off) and is never used as the temperature.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.csv_records import data_records
from kalshi_wx.core.payloads.observations import KNOTS_TO_MPH, station_obs_frame

MISSING = "M"


def iem_station_id(icao: str) -> str:
    """IEM's ASOS id: the K stripped from a 4-letter K id (``KNYC`` -> ``NYC``); ``asos1min.py`` rejects ``KNYC``."""
    return icao[1:] if len(icao) == 4 and icao.startswith("K") else icao


def tenths_c_to_f(tenths: int) -> int:
    """Tenths of °C to the whole °F an ASOS reported: 256 (25.6 °C = 78.08 °F) -> 78, rounding half up."""
    hundredths_f = 18 * tenths + 3200
    return (hundredths_f + 50) // 100


# ---- IEM 1-minute CSV ----------------------------------------------------------------------------

_VALID_HEADER = re.compile(r"^valid\((?P<tz>[^)]*)\)$")


def _whole(value: str, *, origin: str, field: str, line: int) -> int | None:
    text = value.strip()
    if text == MISSING:
        return None
    try:
        return int(text)
    except ValueError:
        raise PayloadError(origin, f"line {line}: expected a whole number or M, got {value!r}", field=field) from None


def iem_1min_rows(text: str, *, station: str, origin: str) -> list[dict[str, Any]]:
    """Rows of an ``asos1min.py`` CSV answer for ``station`` (ICAO or IEM id): ts, temp_f, dew_f, wind_mph.

    An answer for another station, a zone other than UTC, or a header without ``tmpf`` is an error:
    each would silently put the wrong series (or the wrong hour) under the settlement station.
    """
    want = iem_station_id(station)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or header[:2] != ["station", "station_name"] or len(header) < 4:
        shown = ",".join(header) if header else text[:80]
        raise PayloadError(origin, f"not an asos1min.py CSV: header is {shown!r}", field="header")
    valid = _VALID_HEADER.match(header[2])
    if valid is None:
        raise PayloadError(origin, f"third column is {header[2]!r}, expected valid(<tz>)", field="valid")
    if valid["tz"] != "UTC":
        raise PayloadError(origin, f"stamps are in {valid['tz']!r}; request tz=UTC", field="valid")
    columns = {name: i for i, name in enumerate(header)}
    if "tmpf" not in columns:
        raise PayloadError(origin, f"no tmpf column among {header[3:]}", field="tmpf")
    rows = []
    for line, record in data_records(reader, header, origin=origin):
        if record[0] != want:
            raise PayloadError(origin, f"line {line}: station {record[0]!r}, asked for {want!r}", field="station")
        try:
            ts = datetime.strptime(record[2], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        except ValueError:
            raise PayloadError(
                origin, f"line {line}: valid {record[2]!r} is not YYYY-MM-DD HH:MM", field="valid"
            ) from None
        temp = _whole(record[columns["tmpf"]], origin=origin, field="tmpf", line=line)
        dew = _whole(record[columns["dwpf"]], origin=origin, field="dwpf", line=line) if "dwpf" in columns else None
        knots = _whole(record[columns["sknt"]], origin=origin, field="sknt", line=line) if "sknt" in columns else None
        rows.append(
            {
                "ts": ts,
                "temp_f": None if temp is None else float(temp),
                "dew_f": None if dew is None else float(dew),
                "wind_mph": None if knots is None else round(knots * KNOTS_TO_MPH, 2),
                "raw_json": json.dumps(dict(zip(header, record, strict=True)), sort_keys=True),
            }
        )
    return rows


def iem_1min_frame(
    text: str, *, city: str, climate_date: date, station: str, window: tuple[datetime, datetime], origin: str
) -> pl.DataFrame:
    """The climate day's rows of an ``asos1min.py`` answer, in the observation frame."""
    rows = iem_1min_rows(text, station=station, origin=origin)
    return station_obs_frame(
        rows, city=city, climate_date=climate_date, station=station, source="iem_1min", window=window, origin=origin
    )


# ---- NCEI DSI-6401 5-minute text -------------------------------------------------------------------

_6401_LINE = re.compile(
    r"^(?P<wban>\d{5})(?P<icao>[A-Z0-9]{4}) (?P<faa>[A-Z0-9]{3})(?P<lst>\d{12})(?P<length>\d{3})"
    r"(?P<local>\d\d/\d\d/\d\d \d\d:\d\d:\d\d)\s+5-MIN\s+(?P<icao2>[A-Z0-9]{4})\s+"
    r"(?P<zday>\d\d)(?P<zhhmm>\d{4})Z\s(?P<body>.*)$"
)
_T_GROUP = re.compile(r"(?:^|\s)T(?P<ts>[01])(?P<t>\d{3})(?:(?P<ds>[01])(?P<d>\d{3}))?(?=\s|$)")
_WIND = re.compile(r"(?:^|\s)(?:\d{3}|VRB)(?P<speed>\d{2,3})(?:G\d{2,3})?KT(?=\s|$)")


def _signed(sign: str, digits: str) -> int:
    return -int(digits) if sign == "1" else int(digits)


def dsi6401_rows(text: str, *, station: str, std_utc_offset_hours: int, origin: str) -> list[dict[str, Any]]:
    """Every record of a 6401 file as a row: ts (UTC), temp_f and temp_c_tenths from the T group, dew_f, wind_mph.

    A line that does not follow the format, names another station, or whose local-standard stamp
    disagrees with its own UTC group is an error naming the line: any of them means the file is not
    what the hour arithmetic assumes.
    """
    rows = []
    offset = timedelta(hours=std_utc_offset_hours)
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _6401_LINE.match(line)
        if match is None:
            raise PayloadError(origin, f"line {line_no}: not a DSI-6401 5-minute record: {line[:60]!r}", field="line")
        if station not in (match["icao"], match["icao2"]) or match["icao"] != match["icao2"]:
            raise PayloadError(
                origin, f"line {line_no}: station {match['icao']}/{match['icao2']}, expected {station}", field="station"
            )
        try:
            local = datetime.strptime(match["lst"], "%Y%m%d%H%M")
        except ValueError:
            raise PayloadError(origin, f"line {line_no}: bad stamp {match['lst']!r}", field="YYYYMMDDHHMM") from None
        ts = (local - offset).replace(tzinfo=UTC)
        if (f"{ts.day:02d}", f"{ts:%H%M}") != (match["zday"], match["zhhmm"]):
            raise PayloadError(
                origin,
                f"line {line_no}: local standard stamp {match['lst']} is {ts:%d%H%M}Z at UTC{std_utc_offset_hours:+d}, "
                f"but the record says {match['zday']}{match['zhhmm']}Z",
                field="DDHHMMZ",
            )
        body = match["body"]
        remarks = body.split(" RMK ", 1)[1] if " RMK " in body else ""
        group = _T_GROUP.search(remarks)
        tenths = _signed(group["ts"], group["t"]) if group else None
        dew_tenths = _signed(group["ds"], group["d"]) if group and group["d"] else None
        wind = _WIND.search(body.split(" RMK ", 1)[0])
        rows.append(
            {
                "ts": ts,
                "temp_f": None if tenths is None else float(tenths_c_to_f(tenths)),
                "temp_c_tenths": tenths,
                "dew_f": None if dew_tenths is None else float(tenths_c_to_f(dew_tenths)),
                "wind_mph": None if wind is None else round(int(wind["speed"]) * KNOTS_TO_MPH, 2),
                "raw_json": json.dumps({"line": line}),
            }
        )
    return rows


def dsi6401_frame(
    text: str,
    *,
    city: str,
    climate_date: date,
    station: str,
    std_utc_offset_hours: int,
    window: tuple[datetime, datetime],
    origin: str,
) -> pl.DataFrame:
    """The climate day's records of a monthly 6401 file, in the observation frame."""
    rows = dsi6401_rows(text, station=station, std_utc_offset_hours=std_utc_offset_hours, origin=origin)
    return station_obs_frame(
        rows, city=city, climate_date=climate_date, station=station, source="ncei_5min", window=window, origin=origin
    )
