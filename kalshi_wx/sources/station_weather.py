"""One city-day of weather from whichever source the city is configured with, in the common frames.

Observations (``core.payloads.observations``) come from IEM's 1-minute archive, NCEI's 5-minute files
or Visual Crossing; forecasts (``core.payloads.forecasts``) from IEM's MOS archive or Visual Crossing;
CLI reports from api.weather.gov, and from IEM's archive for days it no longer lists. Clients come
from a ``WeatherClients`` (the Dagster resource in ``defs``), which knows the source mode.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, TypedDict

import polars as pl

from kalshi_wx.core.cities import City
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.payloads.asos import dsi6401_frame, iem_1min_frame
from kalshi_wx.core.payloads.forecasts import ForecastSource
from kalshi_wx.core.payloads.iem_cli import iem_cli_days, iem_cli_summary, product_id_of, product_time
from kalshi_wx.core.payloads.iem_mos import mos_forecast_frame
from kalshi_wx.core.payloads.nws_cli import ClimateSummary, parse_cli_product
from kalshi_wx.core.payloads.observations import ObservationSource
from kalshi_wx.core.payloads.visual_crossing import vc_forecast_frame, vc_obs_frame
from kalshi_wx.sources.iem import IemClient
from kalshi_wx.sources.ncei import NceiClient
from kalshi_wx.sources.nws import REPORT_WINDOW_AFTER_DAY, NwsClient, city_summaries
from kalshi_wx.sources.visual_crossing import VisualCrossingClient

log = logging.getLogger(__name__)


class _CityDay(TypedDict):
    city: str
    climate_date: date
    station: str
    window: tuple[datetime, datetime]


def _city_day(city: City, day: date) -> _CityDay:
    window = climate_day_window(day, city.std_utc_offset_hours)
    return {"city": city.key, "climate_date": day, "station": city.station, "window": window}


class WeatherClients(Protocol):
    """Makes the clients of the weather services (each a context manager that closes its pool)."""

    def visual_crossing(self) -> VisualCrossingClient: ...
    def iem(self) -> IemClient: ...
    def ncei(self) -> NceiClient: ...


@dataclass(frozen=True)
class Fetched:
    """A frame, the URL it came from, and what the source said about it (e.g. records billed)."""

    frame: pl.DataFrame
    origin: str
    metadata: dict[str, Any] = field(default_factory=dict)


def fetch_station_obs(source: ObservationSource, city: City, day: date, clients: WeatherClients) -> Fetched:
    """The climate day's observations at the city's settlement station from ``source``."""
    common = _city_day(city, day)
    window = common["window"]
    if source == "iem_1min":
        with clients.iem() as iem:
            answer = iem.asos_1min(city.station, *window)
        return Fetched(iem_1min_frame(answer.text, origin=answer.url, **common), answer.url)
    if source == "ncei_5min":
        # Stamps are local standard time, so the whole climate day is in its own month's file.
        with clients.ncei() as ncei:
            file = ncei.five_minute_month(city.station, day.year, day.month)
        frame = dsi6401_frame(file.text, std_utc_offset_hours=city.std_utc_offset_hours, origin=file.url, **common)
        return Fetched(frame, file.url)
    # The climate day straddles two UTC days; the client asks Visual Crossing for both (timezone=Z).
    with clients.visual_crossing() as vc:
        result = vc.get_observations(city.station, window[0].date(), (window[1] - timedelta(seconds=1)).date())
    return Fetched(
        vc_obs_frame(result.document, source=result.url, **common), result.url, {"query_cost": result.query_cost}
    )


def fetch_forecast(
    source: ForecastSource,
    city: City,
    day: date,
    clients: WeatherClients,
    *,
    mos_model: str,
    publication_delay: timedelta,
    lookback: timedelta,
) -> Fetched:
    """The forecast for the climate day as issued before it began (``core.payloads.forecasts``)."""
    common = _city_day(city, day)
    window = common["window"]
    if source == "iem_mos":
        with clients.iem() as iem:
            answer = iem.mos(city.station, mos_model, window[0] - lookback, window[0])
        frame = mos_forecast_frame(
            answer.text, model=mos_model, publication_delay=publication_delay, origin=answer.url, **common
        )
        return Fetched(frame, answer.url, {"model": mos_model})
    # forecastBasisDate D is Visual Crossing's 00:00 UTC model run: the evening before every US
    # climate day D starts, so nothing in it was known later than the day's first minute.
    issued_at = datetime.combine(day, time(0), UTC)
    with clients.visual_crossing() as vc:
        result = vc.get_forecast(
            city.station, window[0].date(), (window[1] - timedelta(seconds=1)).date(), basis_date=day
        )
    frame = vc_forecast_frame(result.document, issued_at=issued_at, source=result.url, **common)
    return Fetched(frame, result.url, {"query_cost": result.query_cost})


@dataclass(frozen=True)
class CliReports:
    """Every CLI report of a city-day with an observed value, their raw texts and where they came from."""

    summaries: tuple[ClimateSummary, ...]
    texts: dict[str, str]  # product id -> raw text
    source: str  # nws_api | iem_afos | iem_cli_json

    def text_of(self, summary: ClimateSummary | None) -> str:
        return self.texts.get(summary.product_id or "", "") if summary is not None else ""


def _official(summaries: tuple[ClimateSummary, ...]) -> bool:
    return any(s.report_type != "preliminary" and s.max_f is not None for s in summaries)


def fetch_cli_reports(city: City, day: date, *, nws: NwsClient, iem: IemClient | None) -> CliReports:
    """The city-day's CLI reports: api.weather.gov's, else (it keeps about a week) IEM's raw archive, else
    IEM's daily values (the latest report only). ``iem`` None (the simulator) means api.weather.gov only."""
    products = nws.fetch_cli_products(city, day)
    from_nws = tuple(s for p in products for s in p.summaries)
    nws_reports = CliReports(from_nws, {p.raw.id: p.raw.text for p in products}, "nws_api")
    if _official(from_nws) or iem is None:
        return nws_reports
    start, end = climate_day_window(day, city.std_utc_offset_hours)
    texts, url = iem.cli_products(city.cli_product, start, end + REPORT_WINDOW_AFTER_DAY)
    summaries: list[ClimateSummary] = []
    by_id: dict[str, str] = {}
    for text in texts:
        product_id = product_id_of(text, issued_near=end, origin=url)
        origin = f"{url} ({product_id})"
        named = city_summaries(parse_cli_product(text, source=origin), city, origin)
        mine = [
            dataclasses.replace(s, product_id=product_id, issued_at=product_time(product_id))
            for s in named
            if s.climate_date == day
        ]
        if mine:
            summaries.extend(mine)
            by_id[product_id] = text
    if _official(tuple(summaries)):
        return CliReports(tuple(summaries), by_id, "iem_afos")
    # IEM names a CLI site by its issuing centre's first letter and the CLI id (KOKX + CLINYC: KNYC),
    # which for every configured city is its ASOS station.
    doc, json_url = iem.cli_year(city.station, day.year)
    days = [d for d in iem_cli_days(doc, station=city.station, origin=json_url) if d.climate_date == day]
    values = tuple(
        iem_cli_summary(d, station_name=city.station_name, issuedby=city.issuedby, day_end=end, origin=json_url)
        for d in days
    )
    if _official(values):
        log.info("%s %s: settled from IEM's daily values (no raw product found)", city.key, day)
        return CliReports(values, {}, "iem_cli_json")
    # Nothing official anywhere yet: the preliminary reports, for the cross-checks.
    return nws_reports if from_nws else CliReports(tuple(summaries), by_id, "iem_afos")
