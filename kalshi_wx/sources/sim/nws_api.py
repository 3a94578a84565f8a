"""The simulator's api.weather.gov products API: Daily Climate Reports (CLI) of the config's cities.

``GET /products/types/CLI/locations/{issuedby}`` lists the products issued by the clock, newest
first, and ``GET /products/{id}`` serves one with its text, in the shapes ``kalshi_wx.sources.nws``
reads. Each city-day gets a preliminary report in its afternoon and a final one after midnight.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from kalshi_wx.core.cities import City
from kalshi_wx.core.climate_day import climate_date_of, climate_day_window
from kalshi_wx.sources.loopback import Request, Response
from kalshi_wx.sources.sim.cli_product import render_cli_product
from kalshi_wx.sources.sim.common import SimConfig, stable_rng
from kalshi_wx.sources.sim.weather import simulate_weather

PREFIX = "/nws"
LISTING_DAYS = 30  # the products list reaches this far back (and to the first market day)

_PRELIMINARY_LST = time(16, 30)
_FINAL_LST = time(1, 30)
_WMO_HEADER = re.compile(r"^(?P<collective>[A-Z]{4}\d{2}) K[A-Z]{3} \d{6}", re.MULTILINE)
_CONTEXT = {"@version": "1.1", "@vocab": "https://api.weather.gov/ontology#"}


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
    first = min(config.market_start_date, (config.now - timedelta(days=LISTING_DAYS)).date())
    for city in config.cities:
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
    weather = simulate_weather(config.seed, issued.city, issued.climate_date)
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
    return {"@context": _CONTEXT, "@graph": [_product_fields(config, i, base_url)[0] for i in mine]}


def cli_product(config: SimConfig, product_id: str, base_url: str) -> dict[str, Any] | None:
    """``GET /products/{id}``, or None for an id the simulator never issued (by the clock)."""
    issued = _issuances(config).get(product_id)
    if issued is None:
        return None
    fields, text = _product_fields(config, issued, base_url)
    return {"@context": _CONTEXT, **fields, "productText": text}


def serve(config: SimConfig, req: Request, path: str, base_url: str) -> Response:
    """Answer ``req`` for ``path`` (below ``PREFIX``); ``base_url`` is where this API is served, for ``@id`` links."""
    if match := re.fullmatch(r"/products/types/CLI/locations/([A-Za-z0-9]+)", path):
        return Response.json(cli_listing(config, match[1].upper(), base_url))
    if match := re.fullmatch(r"/products/([^/]+)", path):
        product = cli_product(config, match[1], base_url)
        if product is not None:
            return Response.json(product)
        detail = f"Product {match[1]} not found"
    else:
        detail = f"no route for {req.method} {PREFIX}{path}"
    return not_found_problem(detail)


def not_found_problem(detail: str) -> Response:
    """api.weather.gov's 404: an RFC 7807 problem document."""
    problem = {
        "type": "https://api.weather.gov/problems/NotFound",
        "title": "Not Found",
        "status": 404,
        "detail": detail,
    }
    return Response(404, Response.json(problem).body, {"Content-Type": "application/problem+json"})
