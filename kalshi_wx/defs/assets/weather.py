"""Raw weather assets: station-locked 5-minute observations and the official settlement high."""

from datetime import UTC, datetime, time, timedelta

import dagster as dg
import polars as pl

from kalshi_wx.core.payloads.nws_cli import select_settlement_report
from kalshi_wx.core.payloads.visual_crossing import vc_forecast_frame, vc_minutes_frame
from kalshi_wx.core.settlement import settlement_frame
from kalshi_wx.defs.assets.common import MARKETS_INPUT, warehouse_asset
from kalshi_wx.defs.partitions import partition_day
from kalshi_wx.defs.resources import NwsResource, VisualCrossingResource


@warehouse_asset("weather", "vc_minutes", source_kind="visualcrossing")
def vc_minutes(context: dg.AssetExecutionContext, weather: VisualCrossingResource) -> dg.Output[pl.DataFrame]:
    """5-minute observations at the settlement station, each row audited for the station it came from."""
    p = partition_day(context)
    cfg, day, window = p.city, p.day, p.window
    # The climate day straddles two UTC days; the client asks Visual Crossing for both (timezone=Z).
    with weather.client() as client:
        result = client.get_observations(cfg.station, window[0].date(), (window[1] - timedelta(seconds=1)).date())
    frame = vc_minutes_frame(
        result.document,
        city=cfg.key,
        climate_date=day,
        station=cfg.station,
        window=window,
        source=result.url,
    )
    off_station = frame.filter(~pl.col("station_ok")).height
    if off_station:
        context.log.warning(f"{off_station} of {frame.height} rows did not come from {cfg.station} alone")
    max_temp_f = frame["temp_f"].max()  # Float64: a float, or None when there are no rows
    return dg.Output(
        frame,
        metadata={
            "station": cfg.station,
            "query_cost": result.query_cost,
            "rows_from_other_stations": off_station,
            "max_temp_f": max_temp_f if isinstance(max_temp_f, float) else None,
        },
    )


@warehouse_asset("weather", "vc_forecast", source_kind="visualcrossing")
def vc_forecast(context: dg.AssetExecutionContext, weather: VisualCrossingResource) -> dg.Output[pl.DataFrame]:
    """Hourly forecast for the climate day as issued before it began: the Monte Carlo's baseline shape."""
    p = partition_day(context)
    cfg, day, window = p.city, p.day, p.window
    # forecastBasisDate D is Visual Crossing's 00:00 UTC model run: the evening before every US
    # climate day D starts, so nothing in it was known later than the day's first minute.
    issued_at = datetime.combine(day, time(0), UTC)
    with weather.client() as client:
        result = client.get_forecast(
            cfg.station, window[0].date(), (window[1] - timedelta(seconds=1)).date(), basis_date=day
        )
    frame = vc_forecast_frame(
        result.document,
        city=cfg.key,
        climate_date=day,
        station=cfg.station,
        issued_at=issued_at,
        window=window,
        source=result.url,
    )
    if frame.height < 24:
        context.log.warning(f"forecast covers {frame.height} of the climate day's 24 hours")
    forecast_high_f = frame["temp_f"].max()  # Float64: a float, or None when there are no rows
    return dg.Output(
        frame,
        metadata={
            "issued_at": issued_at.isoformat(),
            "query_cost": result.query_cost,
            "forecast_high_f": forecast_high_f if isinstance(forecast_high_f, float) else None,
        },
    )


@warehouse_asset("weather", "settlement", source_kind="nws", ins=MARKETS_INPUT)
def settlement(context: dg.AssetExecutionContext, nws: NwsResource, markets: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    """Official NWS CLI high and low of the climate day, cross-checked against Kalshi's settled result."""
    p = partition_day(context)
    cfg, day = p.city, p.day
    with nws.client() as client:
        products = client.fetch_cli_products(cfg, day)
    chosen = select_settlement_report([s for p in products for s in p.summaries], day)
    product = next((p for p in products if chosen is not None and chosen in p.summaries), None)
    frame = settlement_frame(
        city=cfg.key,
        climate_date=day,
        station=cfg.station,
        summary=chosen,
        raw_text=product.raw.text if product else "",
        markets=markets,
    )
    if frame.is_empty():
        context.log.warning(f"no CLI report with an observed maximum for {cfg.station} on {day} yet")
        return dg.Output(frame, metadata={"max_f": None, "report_type": None})
    row = frame.row(0, named=True)
    if row["agrees_with_kalshi"] is False:
        context.log.warning(
            f"CLI max {row['max_f']} for {day} disagrees with Kalshi: YES {row['kalshi_yes_ticker']}, "
            f"expiration_value {row['kalshi_expiration_value']}"
        )
    return dg.Output(
        frame,
        metadata={
            "max_f": row["max_f"],
            "min_f": row["min_f"],
            "report_type": row["report_type"],
            "agrees_with_kalshi": row["agrees_with_kalshi"],
        },
    )
