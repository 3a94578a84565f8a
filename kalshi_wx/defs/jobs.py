"""Jobs over the city x climate-day graph (used by backfills, the demo and schedules)."""

import dagster as dg

SERIES = dg.AssetSelection.assets(["kalshi", "series"])
# Partitioned by city alone (trained on a window of days): never part of one city-day run.
MODELS = dg.AssetSelection.groups("models")

daily_job = dg.define_asset_job(
    "daily",
    selection=dg.AssetSelection.all() - SERIES - MODELS,
    description="Everything for one city and climate day: raw data, features, probabilities, backtest.",
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

models_job = dg.define_asset_job(
    "models", selection=MODELS, description="Per-city models, trained on the configured window of days."
)

series_job = dg.define_asset_job("kalshi_series", selection=SERIES, description="Kalshi series.")
