"""Jobs over the city x climate-day graph (used by backfills, the demo and schedules)."""

import dagster as dg

SERIES = dg.AssetSelection.assets(["kalshi", "series"])

daily_job = dg.define_asset_job(
    "daily",
    selection=dg.AssetSelection.all() - SERIES,
    description="Everything for one city and climate day: raw data, features, probabilities.",
)

raw_daily_job = dg.define_asset_job(
    "raw_daily",
    selection=dg.AssetSelection.groups("kalshi", "weather") - SERIES,
    description="Only the raw layer for one city and climate day: markets, candles, trades, weather, settlement.",
)

weather_history_job = dg.define_asset_job(
    "weather_history",
    selection=dg.AssetSelection.assets(["weather", "vc_minutes"], ["weather", "vc_forecast"]),
    description="Observations and forecasts only: the trailing days the AR(1) fit reads.",
)

series_job = dg.define_asset_job("kalshi_series", selection=SERIES, description="Kalshi series.")
