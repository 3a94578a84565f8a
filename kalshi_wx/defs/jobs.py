"""Jobs over the city x climate-day graph (used by backfills, the demo and schedules)."""

import dagster as dg

SERIES = dg.AssetSelection.assets(["kalshi", "series"])
MODELS = dg.AssetSelection.groups("models")
RANGE_REPORT = dg.AssetSelection.assets(["backtest", "backtest_range_report"])
FORECAST_SCORES = dg.AssetSelection.assets(["pmf", "forecast_scores"])
# Partitioned by city alone (they span many days): never part of one city-day run.
PER_CITY = MODELS | RANGE_REPORT | FORECAST_SCORES
# Partitioned by series x day, with its own job (defs/assets/highres.py).
HIGHRES = dg.AssetSelection.groups("highres")

# Everything of one city and climate day: what `daily` runs and `kalshi-wx backfill` backfills.
CITY_DAY = dg.AssetSelection.all() - SERIES - PER_CITY - HIGHRES
WEATHER_HISTORY = dg.AssetSelection.assets(["weather", "station_obs"], ["weather", "forecast"])

daily_job = dg.define_asset_job(
    "daily",
    selection=CITY_DAY,
    description="Everything for one city and climate day: raw data, features, probabilities, backtest.",
)

raw_daily_job = dg.define_asset_job(
    "raw_daily",
    selection=dg.AssetSelection.groups("kalshi", "weather") - SERIES,
    description="Only the raw layer for one city and climate day: markets, candles, trades, weather, settlement.",
)

weather_history_job = dg.define_asset_job(
    "weather_history",
    selection=WEATHER_HISTORY,
    description="Observations and forecasts only: the trailing days the AR(1) fit reads.",
)

models_job = dg.define_asset_job(
    "models", selection=MODELS, description="Per-city models, trained on the configured window of days."
)

series_job = dg.define_asset_job("kalshi_series", selection=SERIES, description="Kalshi series.")

reports_job = dg.define_asset_job(
    "reports", selection=RANGE_REPORT, description="Per-city HTML backtest report over the backtested days."
)

forecast_scores_job = dg.define_asset_job(
    "forecast_scores",
    selection=FORECAST_SCORES,
    description="Per-city scores of the PMFs over the configured window of settled days.",
)

settlement_job = dg.define_asset_job(
    "settlement",
    # The markets come along: settlement cross-checks Kalshi's result, which is settled around the same time.
    selection=dg.AssetSelection.assets(["kalshi", "markets"], ["weather", "settlement"]),
    description="The official CLI high of one city and climate day with its markets (the settlement sensor's job).",
)
