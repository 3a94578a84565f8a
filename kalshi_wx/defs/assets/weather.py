"""Raw weather assets: station observations, the forecast as issued, and the official settlement high."""

import contextlib
import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl

from kalshi_wx.core.cities import City
from kalshi_wx.core.cli_poll import ListedProduct, PollState
from kalshi_wx.core.payloads.nws_cli import parse_cli_product, settlement_reports
from kalshi_wx.core.quality import observation_summary, observation_unit_problems
from kalshi_wx.core.settlement import settlement_frame
from kalshi_wx.defs.assets.common import MARKETS_INPUT, warehouse_asset
from kalshi_wx.defs.automation import SENSOR_STATUS
from kalshi_wx.defs.jobs import settlement_job
from kalshi_wx.defs.partitions import FIRST_CLIMATE_DAY, city_date_key, city_date_partitions, partition_day
from kalshi_wx.defs.resources import NwsResource, WeatherResource
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.nws import city_summaries
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


# On its first poll (no cursor) the sensor looks this far back: a day's final report and any
# correction of it are issued within a day or so of the climate day's end.
FIRST_POLL_LOOKBACK = timedelta(days=2)
FIRST_DAY = date.fromisoformat(FIRST_CLIMATE_DAY)


def _poll_location(
    context: dg.SensorEvaluationContext, client, city: City, state: PollState
) -> tuple[list[dg.RunRequest], PollState]:
    """Run requests for the city's CLI products not handled yet, and the location's next cursor."""
    refs = [ListedProduct(r.id, r.issuance_time) for r in client.list_cli_products(city.issuedby, since=state.since)]
    requests, handled, held = [], [], []
    for ref in state.unhandled(refs):
        product = client.fetch_product(ref.id)
        summaries = city_summaries(parse_cli_product(product.text, source=product.endpoint), city, product.endpoint)
        days = sorted({s.climate_date for s in summaries if s.climate_date >= FIRST_DAY})
        keys = [city_date_key(city.key, day) for day in days]
        if not all(city_date_partitions.has_partition_key(str(key)) for key in keys):
            held.append(ref)  # a preliminary of a day still under way: its partition is not offered yet
            continue
        for key in keys:
            context.log.info(
                f"{city.cli_product} product {ref.id} issued {ref.issued_at.isoformat()}: settlement {key}"
            )
            requests.append(
                dg.RunRequest(run_key=f"{ref.id}|{key}", partition_key=key, tags={"kalshi_wx/cli_product": ref.id})
            )
        handled.append(ref.id)
    return requests, state.advance(refs, handled, held)


@dg.sensor(
    name="settlement_poll",
    job=settlement_job,
    minimum_interval_seconds=settings().automation.settlement_poll_minutes * 60,
    default_status=SENSOR_STATUS,
    description="Polls NWS for new or corrected CLI products of each city and re-materializes the day each one "
    "reports (its markets and weather/settlement; a run key per product, so a product is never handled twice).",
)
def settlement_poll(context: dg.SensorEvaluationContext, nws: NwsResource) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    start = datetime.now(UTC) - FIRST_POLL_LOOKBACK
    requests = []
    with nws.client() as client:
        for city in settings().cities.values():
            state = PollState.from_json(cursor[city.issuedby]) if city.issuedby in cursor else PollState(since=start)
            city_requests, state = _poll_location(context, client, city, state)
            requests.extend(city_requests)
            cursor[city.issuedby] = state.to_json()
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))
