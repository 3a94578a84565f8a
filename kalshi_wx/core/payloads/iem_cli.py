"""IEM's archive of NWS Daily Climate Reports: the daily values JSON, the raw products, product ids.

Three answers (reference/free_weather_sources.md s4):

* ``/json/cli.py?station=KNYC&year=2025``: ``{"generated_at", "results": [...]}``, one object per
  climate day with ``valid`` (the date), ``high``/``low`` (whole °F, ``"M"`` when missing),
  ``high_time``/``low_time`` as the CLI prints them (``"301 PM"``, local standard time) and
  ``product``, the IEM id of the CLI product the values came from. IEM keeps one row per day and
  replaces it with any product whose id sorts later, so these are the **latest** report's values
  (corrections included, a preliminary if nothing followed it): a cross-check, not the contract's
  settlement value.
* ``/cgi-bin/afos/retrieve.py?pil=CLINYC&fmt=text&...``: every product issued in the window, each
  wrapped in ``\\x01`` ... ``\\x03``; an empty window is the text ``ERROR: Could not Find: CLINYC``.
* ``/api/1/nwstext/{product_id}``: one product's text.

A product id is ``YYYYMMDDHHMM-CCCC-TTAAII-PIL[-BBB]``: the WMO heading's time (its day, hour and
minute; the year and month from when it was issued), issuing centre, WMO heading, AWIPS id and
the heading's BBB group when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.nws_cli import ClimateSummary, ReportType

_PRODUCT_ID = re.compile(
    r"^(?P<ts>\d{12})-(?P<cccc>[A-Z]{4})-(?P<ttaaii>[A-Z]{4}\d{2})-(?P<pil>[A-Z0-9]{4,6})(?:-(?P<bbb>[A-Z]{3}))?$"
)
_WMO_LINE = re.compile(r"^(?P<ttaaii>[A-Z]{4}\d{2}) (?P<cccc>[A-Z]{4}) (?P<ddhhmm>\d{6})(?: (?P<bbb>[A-Z]{3}))?\s*$")
_AWIPS_LINE = re.compile(r"^(?P<pil>[A-Z0-9]{4,6})\s*$")
NOT_FOUND_PREFIX = "ERROR: Could not Find"


@dataclass(frozen=True)
class IemCliDay:
    """One day of ``/json/cli.py``: the latest stored report's values."""

    station: str
    climate_date: date
    max_f: int | None
    max_time: str | None
    min_f: int | None
    product_id: str | None


def product_time(product_id: str) -> datetime:
    """The UTC time in an IEM product id (``202506020617-KOKX-CDUS41-CLINYC`` -> 2025-06-02 06:17Z)."""
    match = _PRODUCT_ID.match(product_id)
    if match is None:
        raise ValueError(f"{product_id!r} is not an IEM product id (YYYYMMDDHHMM-CCCC-TTAAII-PIL[-BBB])")
    return datetime.strptime(match["ts"], "%Y%m%d%H%M").replace(tzinfo=UTC)


def _whole_or_missing(value: Any, *, origin: str, field: str) -> int | None:
    if value == "M" or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(origin, f"expected a whole °F or 'M', got {value!r}", field=field)
    return int(value)


def iem_cli_days(doc: Any, *, station: str, origin: str) -> list[IemCliDay]:
    """The days of a ``/json/cli.py`` answer for ``station`` (4-letter, e.g. KNYC), in date order."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("results"), list):
        raise PayloadError(origin, "expected an object with a 'results' list", field="results")
    days = []
    for i, item in enumerate(doc["results"]):
        where = f"results[{i}]"
        if not isinstance(item, Mapping):
            raise PayloadError(origin, f"{where}: expected an object", field="results")
        if item.get("station") != station:
            raise PayloadError(
                origin, f"{where}: station {item.get('station')!r}, asked for {station!r}", field="station"
            )
        try:
            valid = date.fromisoformat(str(item.get("valid")))
        except ValueError:
            raise PayloadError(origin, f"{where}: valid {item.get('valid')!r} is not a date", field="valid") from None
        product = item.get("product")
        if product is not None and (not isinstance(product, str) or _PRODUCT_ID.match(product) is None):
            raise PayloadError(origin, f"{where}: product {product!r} is not an IEM product id", field="product")
        high_time = item.get("high_time")
        days.append(
            IemCliDay(
                station=station,
                climate_date=valid,
                max_f=_whole_or_missing(item.get("high"), origin=origin, field=f"{where}.high"),
                max_time=high_time if isinstance(high_time, str) and high_time.strip() else None,
                min_f=_whole_or_missing(item.get("low"), origin=origin, field=f"{where}.low"),
                product_id=product,
            )
        )
    return sorted(days, key=lambda d: d.climate_date)


def afos_products(text: str, *, origin: str) -> list[str]:
    """The products of a ``retrieve.py?fmt=text`` answer, each without its ``\\x01``/``\\x03`` wrapping."""
    if text.startswith(NOT_FOUND_PREFIX):
        return []
    stripped = text.strip()
    if stripped and not stripped.startswith("\x01"):
        raise PayloadError(origin, f"expected products wrapped in \\x01 ... \\x03, got {stripped[:60]!r}")
    products: list[str] = []
    for chunk in text.split("\x01")[1:]:
        body, sep, _ = chunk.partition("\x03")
        if not sep:
            raise PayloadError(origin, f"product {len(products) + 1} has no closing \\x03 (truncated answer?)")
        products.append(body.strip("\n"))
    return products


def product_id_of(text: str, *, issued_near: datetime, origin: str) -> str:
    """The IEM product id of a raw product, its year and month taken from the issuance nearest ``issued_near``.

    The WMO heading carries only day, hour and minute; the month is the one (of the three around
    ``issued_near``) that puts that day closest to it.
    """
    lines = [line.strip() for line in text.splitlines()[:8]]
    found = next(((i, m) for i, line in enumerate(lines) if (m := _WMO_LINE.match(line))), None)
    if found is None:
        raise PayloadError(origin, "no WMO heading (e.g. 'CDUS41 KOKX 030616') in the first lines", field="WMO heading")
    index, heading = found
    pil = next((m["pil"] for line in lines[index + 1 :] if (m := _AWIPS_LINE.match(line))), None)
    if pil is None:
        raise PayloadError(origin, "no AWIPS id line after the WMO heading", field="AWIPS id")
    day, hour, minute = (int(heading["ddhhmm"][i : i + 2]) for i in (0, 2, 4))
    candidates = []
    for months in (-1, 0, 1):
        year, month = divmod(issued_near.year * 12 + issued_near.month - 1 + months, 12)
        try:
            candidates.append(datetime(year, month + 1, day, hour, minute, tzinfo=UTC))
        except ValueError:  # day 31 in a 30-day month
            continue
    if not candidates:
        raise PayloadError(
            origin, f"WMO heading day {day} exists in no month near {issued_near:%Y-%m}", field="WMO heading"
        )
    stamp = min(candidates, key=lambda c: abs(c - issued_near))
    if abs(stamp - issued_near) > timedelta(days=3):
        raise PayloadError(
            origin, f"WMO heading time {heading['ddhhmm']} is {stamp - issued_near} from {issued_near:%Y-%m-%d %H:%MZ}"
        )
    suffix = f"-{heading['bbb']}" if heading["bbb"] else ""
    return f"{stamp:%Y%m%d%H%M}-{heading['cccc']}-{heading['ttaaii']}-{pil}{suffix}"


def iem_cli_summary(
    day: IemCliDay, *, station_name: str, issuedby: str, day_end: datetime, origin: str
) -> ClimateSummary:
    """A ``/json/cli.py`` day as a report, for settling when no raw product can be had.

    It is the **latest** stored report, so the contract's first-report rule cannot be applied to it:
    preliminary when its product was issued before the climate day ended, a correction when the
    product id carries a CC/AA group, final otherwise; issued at the product id's time.
    """
    issued_at = product_time(day.product_id) if day.product_id else None
    match = _PRODUCT_ID.match(day.product_id or "")
    bbb = match["bbb"] if match else None
    report_type: ReportType
    if issued_at is not None and issued_at < day_end:
        report_type = "preliminary"
    elif bbb is not None and bbb[:2] in {"CC", "AA"}:
        report_type = "correction"
    else:
        report_type = "final"
    return ClimateSummary(
        station=station_name,
        issuedby=issuedby,
        climate_date=day.climate_date,
        max_f=day.max_f,
        max_time=day.max_time,
        min_f=day.min_f,
        min_time=None,
        report_type=report_type,
        issued_text=None,
        issued_at=issued_at,
        source=origin,
        product_id=day.product_id,
        notes=("from IEM's daily values: the latest stored report, not necessarily the first",),
    )
