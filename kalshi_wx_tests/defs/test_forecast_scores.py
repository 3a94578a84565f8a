"""pmf/forecast_scores and the evaluation behind ``kalshi-wx evaluate``: stored PMFs, and PMFs from raw real data."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import numpy as np
import polars as pl
import pytest

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.pmf.scoring import multiclass_brier
from kalshi_wx.core.settlement import settled_winners
from kalshi_wx.definitions import build_definitions
from kalshi_wx.defs.evaluation import evaluate_window, synthetic_ladder
from kalshi_wx.defs.partitions import city_date_key
from kalshi_wx.defs.resources import build_resources
from kalshi_wx.defs.runs import run_partitions
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.replay.build import build_replay
from kalshi_wx.warehouse.schemas import FUSED_PMF, MARKETS, SETTLEMENT
from kalshi_wx_tests.defs.conftest import CITY, FIRST, LAST

SCORES = dg.AssetKey(["pmf", "forecast_scores"])


def test_synthetic_ladder_is_kalshis_shape():
    ladder = synthetic_ladder(80)
    assert [(b.lo, b.hi) for b in ladder] == [(None, 76), (77, 78), (79, 80), (81, 82), (83, 84), (85, None)]


def test_stored_pmfs_are_scored_as_stored(sim_days):
    result = evaluate_window(sim_days.warehouse, settings().city(CITY), FIRST, LAST, settings().pmf)
    assert result.days["climate_date"].to_list() == [FIRST + timedelta(days=i) for i in range(5)]
    assert set(result.days["p_wx_from"]) == {"stored"} and set(result.days["ladder"]) == {"kalshi"}
    at = {(r["pmf"], r["time_lst"]): r for r in result.table.iter_rows(named=True)}
    for pmf in ("p_wx", "p_mkt", "p_fused_norm", "persistence"):
        assert at[(pmf, "16:00")]["n"] == 5 and at[(pmf, "all")]["n"] == 15
    # The 13:00 Brier of p_fused_norm, recomputed from the stored table and the settlement.
    fused = sim_days.warehouse.read(FUSED_PMF, city=CITY, dates=(FIRST, LAST))
    briers = []
    for i in range(5):
        day = FIRST + timedelta(days=i)
        winners = settled_winners(
            sim_days.warehouse.read(MARKETS, city=CITY, climate_date=day),
            sim_days.warehouse.read(SETTLEMENT, city=CITY, climate_date=day),
        )
        ts = climate_day_window(day, settings().city(CITY).std_utc_offset_hours)[0] + timedelta(hours=13)
        minute = fused.filter((pl.col("climate_date") == day) & (pl.col("ts") == ts)).sort("ticker")
        tickers = minute["ticker"].to_list()
        winner = np.array([tickers.index(next(t for t in tickers if winners[t]))])
        briers.append(multiclass_brier(minute["p_fused_norm"].to_numpy()[None, :], winner))
    assert at[("p_fused_norm", "13:00")]["brier"] == pytest.approx(np.mean(briers))
    assert at[("p_fused_norm", "13:00")]["brier_se"] > 0 or len(set(briers)) == 1


def test_forecast_scores_asset_reports_the_table_and_plots(sim_days):
    result = sim_days.materialize([SCORES], CITY)
    assert result.success
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == SCORES]
    metadata = event.materialization.metadata
    assert metadata["days_scored"].value == 5
    assert metadata["window"].value.endswith(str(LAST))
    assert "| p_fused_norm | 5 |" in metadata["scores"].value.replace("| 16:00 ", "")
    assert metadata["reliability_p_wx"].value.startswith("![p_wx reliability](data:image/png;base64,")


@pytest.fixture(scope="module")
def central_park(tmp_path_factory, real_data):
    """Real Central Park weather (NCEI 5-minute files, CLI highs) loaded through the replay path, 2025-07-01..07."""
    home = tmp_path_factory.mktemp("central_park")
    replay = home / "replay"
    build_replay(real_data, replay, cities=dict(settings().cities), sets=["knyc"])
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KALSHI_WX_REPLAY_DIR", str(replay))
        resources = build_resources(mode="replay", warehouse_url=f"duckdb://{home / 'warehouse.duckdb'}")
        defs = build_definitions(resources)
        keys = [city_date_key("nyc", date(2025, 7, 1) + timedelta(days=i)) for i in range(7)]
        with dg.DagsterInstance.ephemeral() as instance:
            outcomes = run_partitions(defs, instance, keys, job_name="raw_daily")
    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    return resources["warehouse"]


def test_real_weather_without_a_market_scores_p_wx_and_persistence(central_park):
    start, end = date(2025, 7, 5), date(2025, 7, 7)
    result = evaluate_window(central_park, settings().city("nyc"), start, end, settings().pmf)
    days = result.days.to_dicts()
    assert [d["climate_date"] for d in days] == [start, date(2025, 7, 6), end]
    # No market was recorded: a Kalshi-shaped ladder around the trailing climatology, p_wx built
    # from the raw tables (fitted on the days before each one), no p_mkt.
    assert {(d["ladder"], d["p_wx_from"], d["p_mkt_from"]) for d in days} == {("synthetic", "computed", None)}
    assert all(d["n_obs"] > 0 for d in days)  # 5-minute records, some with hours-long holes
    at = {(r["pmf"], r["time_lst"]): r for r in result.table.iter_rows(named=True)}
    for time_lst in ("10:00", "13:00", "16:00"):
        assert at[("p_wx", time_lst)]["n"] == 3 and at[("persistence", time_lst)]["n"] == 3
        assert at[("p_mkt", time_lst)]["n"] == 0
    # Each day's p_wx is a distribution whose winner never gets exactly 0 (only ruled-out brackets may).
    wx = result.day_scores.filter(pl.col("pmf") == "p_wx")
    assert (wx["p_win"] > 0).all() and (wx["brier"] <= 2).all()
    probs, outcomes = result.reliability["p_wx"]
    assert probs.size == outcomes.size == 9 * 6 and outcomes.sum() == 9
