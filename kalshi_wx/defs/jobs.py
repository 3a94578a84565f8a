"""Jobs: the raw layer for one city-day partition (used by backfills and the demo)."""

from __future__ import annotations

import dagster as dg

raw_daily_job = dg.define_asset_job(
    "raw_daily",
    selection=dg.AssetSelection.groups("kalshi", "weather") - dg.AssetSelection.assets(["kalshi", "series"]),
    description="Markets, candles, trades, weather and settlement for one city and climate day.",
)

series_job = dg.define_asset_job(
    "kalshi_series", selection=dg.AssetSelection.assets(["kalshi", "series"]), description="Kalshi series."
)
