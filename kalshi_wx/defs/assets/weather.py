"""Raw weather assets: station observations, the forecast as issued, and the official settlement high."""

import contextlib
from datetime import datetime, timedelta

import dagster as dg
import polars as pl

from kalshi_wx.core.payloads.nws_cli import settlement_reports
from kalshi_wx.core.quality import observation_summary, observation_unit_problems
from kalshi_wx.core.settlement import settlement_frame
from kalshi_wx.defs.assets.common import MARKETS_INPUT, warehouse_asset
from kalshi_wx.defs.partitions import partition_day
from kalshi_wx.defs.resources import NwsResource, WeatherResource
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.station_weather import fetch_cli_reports, fetch_forecast, fetch_station_obs


@warehouse_asset("weather", "station_obs", source_kind="asos")
def station_obs(context: dg.AssetExecutionContext, weather: WeatherResource) -> dg.Output[pl.DataFrame]:
    """Observations at the settlement station from the city's configured source, with coverage and units audited."""
    p = partition_day(context)
    source = weather.sources(p.city).observations
    fetched = fetch_station_obs(source, p.city, p.day, weather)
    summary = observation_summary(fetched.frame, p.window)
    for problem in observation_unit_problems(fetched.frame):
        context.log.warning(problem)
    if summary["rows_from_other_stations"]:
        context.log.warning(f"{summary['rows_from_other_stations']} rows did not come from {p.city.station} alone")
    return dg.Output(
        fetched.frame,
        metadata={
            "source": source,
            "station": p.city.station,
            "url": dg.MetadataValue.url(fetched.origin),
            **summary,
            **fetched.metadata,
        },
    )


@warehouse_asset("weather", "forecast", source_kind="nws")
def forecast(context: dg.AssetExecutionContext, weather: WeatherResource) -> dg.Output[pl.DataFrame]:
    """Temperature forecast for the climate day as issued before it began: the Monte Carlo's baseline shape."""
    p = partition_day(context)
    source, mos = weather.sources(p.city).forecast, settings().weather.mos
    fetched = fetch_forecast(
        source,
        p.city,
        p.day,
        weather,
        mos_model=mos.model,
        publication_delay=mos.publication_delay,
        lookback=timedelta(hours=mos.lookback_hours),
    )
    frame = fetched.frame
    if frame.is_empty():
        context.log.warning(f"{source}: no forecast for {p.day} was issued before the day began")
    forecast_high_f = frame.filter(pl.col("ts").is_between(*p.window, closed="left"))["temp_f"].max()
    issued = frame["issued_at"].max()
    issued_at = issued if isinstance(issued, datetime) else None
    return dg.Output(
        frame,
        metadata={
            "source": source,
            "url": dg.MetadataValue.url(fetched.origin),
            "issued_at": issued_at.isoformat() if issued_at else None,
            "rows": frame.height,
            "forecast_high_f": forecast_high_f if isinstance(forecast_high_f, float) else None,
            **fetched.metadata,
        },
    )


@warehouse_asset("weather", "settlement", source_kind="nws", ins=MARKETS_INPUT)
def settlement(
    context: dg.AssetExecutionContext, nws: NwsResource, weather: WeatherResource, markets: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """The CLI high Kalshi settles on (first official report, as revised before expiration), with cross-checks."""
    p = partition_day(context)
    archive = weather.cli_archive()
    with nws.client() as client, archive or contextlib.nullcontext():
        reports = fetch_cli_reports(p.city, p.day, nws=client, iem=archive)
    chosen = settlement_reports(reports.summaries, p.day)
    frame = settlement_frame(
        city=p.city.key,
        climate_date=p.day,
        station=p.city.station,
        reports=chosen,
        settlement_source=reports.source,
        raw_text=reports.text_of(chosen.settled),
        markets=markets,
    )
    if frame.is_empty():
        context.log.warning(f"no official CLI report with an observed maximum for {p.city.station} on {p.day} yet")
        return dg.Output(frame, metadata={"max_f": None, "report_type": None, "n_reports": chosen.n_reports})
    row = frame.row(0, named=True)
    if row["revised_after_expiration"]:
        context.log.warning(
            f"a report after the {row['expiration']} expiration gives {row['latest_max_f']}, not {row['max_f']}"
        )
    if row["agrees_with_kalshi"] is False:
        context.log.warning(
            f"CLI max {row['max_f']} for {p.day} disagrees with Kalshi: YES {row['kalshi_yes_ticker']}, "
            f"expiration_value {row['kalshi_expiration_value']}"
        )
    return dg.Output(
        frame,
        metadata={
            "max_f": row["max_f"],
            "min_f": row["min_f"],
            "report_type": row["report_type"],
            "first_max_f": row["first_max_f"],
            "latest_max_f": row["latest_max_f"],
            "revised_after_expiration": row["revised_after_expiration"],
            "n_reports": row["n_reports"],
            "settlement_source": row["settlement_source"],
            "agrees_with_kalshi": row["agrees_with_kalshi"],
        },
    )
