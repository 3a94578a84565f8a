from __future__ import annotations

import dagster as dg

from kalshi_wx.definitions import defs
from kalshi_wx.defs.partitions import city_date_partitions

RAW_ASSETS = {
    "kalshi/series", "kalshi/markets", "kalshi/candles_1m", "kalshi/trades",
    "weather/station_obs", "weather/forecast", "weather/settlement",
}  # fmt: skip
PMF_ASSETS = {"pmf/hazard_params", "pmf/hazard_pmf", "pmf/fused_pmf"}


def test_assets_have_description_group_kinds_and_partitions():
    specs = {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}
    assert set(specs) >= RAW_ASSETS
    for name in RAW_ASSETS:
        spec = specs[name]
        assert spec.description and "\n" not in spec.description.strip(), name
        assert spec.group_name == spec.key.path[0], name
        assert spec.kinds, name
        assert spec.owners, name
        expected = None if name == "kalshi/series" else city_date_partitions
        assert spec.partitions_def == expected, name


def test_definitions_validate_and_jobs_resolve():
    dg.Definitions.validate_loadable(defs)
    for job in ("daily", "raw_daily", "weather_history"):
        assert defs.resolve_job_def(job).partitions_def == city_date_partitions
    checks = {k.asset_key.to_user_string() for k in defs.resolve_asset_graph().asset_check_keys}
    assert RAW_ASSETS - {"kalshi/series"} <= checks
    assert {"pmf/hazard_pmf", "pmf/fused_pmf"} <= checks
