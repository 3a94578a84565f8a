"""The probability layer end to end on the simulator: fit on earlier days, Monte Carlo, fusion.

``materialized`` (conftest) runs the whole daily graph once for nyc on DAY.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from kalshi_wx.warehouse.schemas import FUSED_PMF, HAZARD_PARAMS, HAZARD_PMF, MARKETS, SETTLEMENT
from kalshi_wx_tests.conftest import DAY


def test_daily_job_succeeds_with_every_check_passing(materialized):
    outcome, _, _ = materialized
    assert outcome.success, outcome.error
    assert outcome.failed_checks == []


def test_fit_uses_only_earlier_days(materialized):
    _, warehouse, events = materialized
    params = warehouse.read(HAZARD_PARAMS, city="nyc", climate_date=DAY)
    assert params.height == 24 and set(params["method"]) == {"fit"}
    assert params["fit_end"].max() == DAY - timedelta(days=1) and params["n_days"][0] == 5
    assert 0 < params["phi"][0] < 1
    assert events["pmf/hazard_params"].asset_materialization.metadata["method"].value == "fit"


def test_pmfs_are_distributions_that_never_undercut_the_running_max(materialized):
    _, warehouse, _ = materialized
    hazard = warehouse.read(HAZARD_PMF, city="nyc", climate_date=DAY)
    markets = warehouse.read(MARKETS, city="nyc", climate_date=DAY)
    assert hazard.height == 1440 * markets.height
    sums = hazard.group_by("ts").agg(pl.col("p_wx").sum())["p_wx"]
    assert (sums - 1).abs().max() < 1e-9
    joined = hazard.join(markets.select("ticker", "hi_f"), on="ticker")
    undercut = joined.filter(pl.col("hi_f").is_not_null() & (pl.col("hi_f") < pl.col("running_max_f").round(0)))
    assert undercut.height > 0 and undercut["p_wx"].max() == 0.0
    assert (hazard["hazard_next_60m"] >= hazard["hazard_next_5m"]).all()


def test_fused_pmf_and_diagnostics_against_settlement(materialized):
    _, warehouse, events = materialized
    fused = warehouse.read(FUSED_PMF, city="nyc", climate_date=DAY)
    sums = fused.group_by("ts").agg(pl.col("p_fused_norm").sum())["p_fused_norm"]
    assert (sums - 1).abs().max() < 1e-9
    assert fused["p_mkt"].null_count() < fused.height  # the market is quoted for part of the day
    settled = warehouse.read(SETTLEMENT, city="nyc", climate_date=DAY)
    assert settled.height == 1
    metadata = events["pmf/fused_pmf"].asset_materialization.metadata
    for pmf in ("p_wx", "p_fused_norm"):
        for hhmm in ("1000", "1300", "1600"):
            assert 0 <= metadata[f"brier_{pmf}_{hhmm}"].value <= 2
    assert "data:image/png;base64," in metadata["p_wx_reliability"].value
    assert metadata["max_abs_pmf_sum_error"].value < 1e-9
