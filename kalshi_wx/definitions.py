"""The code location: every asset, check, job and resource of kalshi-wx."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from kalshi_wx.defs.assets import backtest, highres, kalshi, models, pmf, weather
from kalshi_wx.defs.automation import automation_sensor, ingest_schedules
from kalshi_wx.defs.checks import observation_checks, pmf_checks, raw_table_checks
from kalshi_wx.defs.dbt.assets import dbt_features_assets
from kalshi_wx.defs.jobs import (
    daily_job,
    forecast_scores_job,
    models_job,
    raw_daily_job,
    reports_job,
    series_job,
    settlement_job,
    weather_history_job,
)
from kalshi_wx.defs.resources import build_resources


def build_definitions(resources: Mapping[str, object] | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=[*dg.load_assets_from_modules([kalshi, weather, pmf, models, backtest, highres]), dbt_features_assets],
        asset_checks=[*raw_table_checks, *observation_checks, *pmf_checks],
        jobs=[
            daily_job,
            raw_daily_job,
            weather_history_job,
            series_job,
            settlement_job,
            models_job,
            reports_job,
            forecast_scores_job,
            highres.highres_job,
        ],
        sensors=[highres.highres_closed_days, weather.settlement_poll, automation_sensor],
        schedules=ingest_schedules,
        resources=resources if resources is not None else build_resources(),
        # DuckDB takes one writer process; in-process runs also start ~4x faster on a laptop.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
