"""dbt feature panels through Dagster on DuckDB and PostgreSQL, over a raw partition from the simulator."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import dagster as dg
import polars as pl
import pytest
from dagster_dbt import DbtProject

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.definitions import build_definitions
from kalshi_wx.defs.dbt.assets import dbt_features_assets
from kalshi_wx.defs.dbt.project import dbt_connection, dbt_vars, manifest_is_current
from kalshi_wx.defs.partitions import city_date_key
from kalshi_wx.defs.resources import build_resources
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import (
    CANDLES_1M,
    FUSED_PMF,
    HAZARD_PMF,
    MARKETS,
    SETTLEMENT,
    STATION_OBS,
    TableSchema,
)

CITY, DAY = "phl", date(2026, 6, 3)  # a partition no other test module writes
KEY = city_date_key(CITY, DAY)
PANEL, FULL = dg.AssetKey(["features", "minute_panel"]), dg.AssetKey(["features", "minute_panel_full"])
RAW = [["kalshi", "markets"], ["kalshi", "candles_1m"], ["weather", "station_obs"], ["weather", "settlement"]]
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
MINUTES = 1440


# --- pure helpers -----------------------------------------------------------------------------


def test_dbt_vars_name_the_partitions_as_runs_of_consecutive_days():
    one_day = {"city": "nyc", "first": "2026-03-08", "last": "2026-03-08"}
    assert dbt_vars([("nyc", date(2026, 3, 8))]) == {"slices": [one_day]}
    # A backfill batch: unordered keys of two cities, one with a gap.
    keys = [("nyc", date(2026, 6, d)) for d in (3, 1, 2, 5)] + [("chi", date(2026, 6, 1))]
    assert json.loads(json.dumps(dbt_vars(keys))) == {
        "slices": [
            {"city": "chi", "first": "2026-06-01", "last": "2026-06-01"},
            {"city": "nyc", "first": "2026-06-01", "last": "2026-06-03"},
            {"city": "nyc", "first": "2026-06-05", "last": "2026-06-05"},
        ]
    }


@pytest.mark.parametrize(
    ("city", "day", "error"),
    [("atlantis", date(2026, 6, 1), ValueError), ("nyc' or '1'='1", date(2026, 6, 1), ValueError),
     ("nyc", "2026-06-01", TypeError)],
)  # fmt: skip
def test_dbt_vars_refuse_values_that_are_not_a_partition(city, day, error):
    with pytest.raises(error):
        dbt_vars([(city, day)])


def test_dbt_connection_for_duckdb_points_the_local_target_at_the_file(tmp_path):
    conn = dbt_connection(f"duckdb://{tmp_path / 'w.duckdb'}")
    assert conn.target == "local"
    assert conn.env == {"KALSHI_WX_DUCKDB_PATH": str((tmp_path / "w.duckdb").resolve())}


def test_dbt_connection_for_postgres_fills_the_prod_profile_and_hides_the_password():
    conn = dbt_connection("postgresql+psycopg2://kwx:s%3Acret@db.internal:6543/warehouse?sslmode=require")
    assert conn.target == "prod"
    assert conn.env == {
        "KALSHI_WX_PG_HOST": "db.internal",
        "KALSHI_WX_PG_PORT": "6543",
        "KALSHI_WX_PG_USER": "kwx",
        "KALSHI_WX_PG_PASSWORD": "s:cret",
        "KALSHI_WX_PG_DB": "warehouse",
        "KALSHI_WX_PG_SSLMODE": "require",
    }
    assert "s:cret" not in repr(conn) and "s%3Acret" not in repr(conn)
    assert dbt_connection("postgresql://postgres@127.0.0.1/test").env["KALSHI_WX_PG_PORT"] == "5432"


def test_manifest_is_stale_when_missing_or_older_than_a_project_file(tmp_path):
    project_dir = tmp_path / "dbt_features"
    (project_dir / "models").mkdir(parents=True)
    (project_dir / "dbt_project.yml").write_text("name: p\nprofile: p\n")
    model = project_dir / "models" / "m.sql"
    model.write_text("select 1")
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    assert not manifest_is_current(project)

    project.manifest_path.parent.mkdir()
    project.manifest_path.write_text("{}")
    newer = model.stat().st_mtime + 10
    os.utime(project.manifest_path, (newer, newer))
    assert manifest_is_current(project)
    os.utime(model, (newer + 10, newer + 10))
    assert not manifest_is_current(project)


def test_translator_names_groups_and_describes_the_panels():
    specs = {spec.key: spec for spec in dbt_features_assets.specs}
    assert set(specs) == {PANEL, FULL}
    for spec in specs.values():
        assert spec.group_name == "features" and spec.owners and "dbt" in spec.kinds
        assert spec.description and "\n" not in spec.description
    assert {d.asset_key for d in specs[FULL].deps} >= {PANEL, dg.AssetKey(["pmf", "hazard_pmf"])}
    assert {d.asset_key for d in specs[PANEL].deps} == {dg.AssetKey(k) for k in RAW[:3]}
    assert dbt_features_assets.can_subset
    assert {c.asset_key for c in dbt_features_assets.check_specs} == {PANEL, FULL}


# --- one raw partition per warehouse, materialized over the simulator -------------------------


@dataclass
class Env:
    defs: dg.Definitions
    warehouse: Warehouse
    instance: dg.DagsterInstance

    def materialize(self, key: dg.MultiPartitionKey, *assets: dg.AssetKey) -> dg.ExecuteInProcessResult:
        result = self.defs.resolve_implicit_global_asset_job_def().execute_in_process(
            partition_key=key, asset_selection=list(assets), instance=self.instance, run_config=QUIET,
            raise_on_error=False,
        )  # fmt: skip
        failures = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
        assert result.success, failures
        return result

    def panel(self, table: str = "minute_panel", city: str = CITY, day: date = DAY) -> pl.DataFrame:
        return self.warehouse.backend.query(
            f"SELECT * FROM features.{table} WHERE city = %s AND climate_date = %s ORDER BY ticker, ts", [city, day]
        )


def _pmf_frames(candles: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Stand-ins for pmf/hazard_pmf and pmf/fused_pmf on the partition's grid (their values are not under test)."""
    grid = candles.select("city", "climate_date", "ticker", "ts")
    hazard = grid.with_columns(
        running_max_f=pl.lit(70.0),
        p_wx=pl.lit(0.25),
        hazard_next_5m=pl.lit(0.05),
        hazard_next_60m=pl.lit(0.4),
        baseline=pl.lit("forecast"),
    )
    fused = grid.with_columns(
        p_wx=pl.lit(0.25), p_mkt=pl.lit(0.3), w_mkt=pl.lit(0.5), p_fused=pl.lit(0.27), p_fused_norm=pl.lit(0.26)
    )
    return hazard, fused


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request, tmp_path_factory):
    home = tmp_path_factory.mktemp("kalshi_wx_home")
    with pytest.MonkeyPatch.context() as mp, dg.DagsterInstance.ephemeral() as instance:
        mp.setenv("KALSHI_WX_HOME", str(home))
        mp.delenv("KALSHI_WX_WAREHOUSE_URL", raising=False)
        url = (
            f"duckdb://{home / 'warehouse.duckdb'}"
            if request.param == "duckdb"
            else request.getfixturevalue("postgres_url")
        )
        resources = build_resources(mode="sim", warehouse_url=url)
        env = Env(build_definitions(resources), resources["warehouse"], instance)
        env.materialize(KEY, *(dg.AssetKey(k) for k in RAW))
        # Written directly so that this module tests the dbt layer, not the Monte Carlo.
        hazard, fused = _pmf_frames(env.warehouse.read(CANDLES_1M, city=CITY, climate_date=DAY))
        env.warehouse.write_partition(HAZARD_PMF, hazard, CITY, DAY)
        env.warehouse.write_partition(FUSED_PMF, fused, CITY, DAY)
        yield env


@pytest.fixture(scope="module")
def built(env):
    """minute_panel, then (as after the Python PMFs) minute_panel_full: two runs of the subsettable dbt asset."""
    first = env.materialize(KEY, PANEL)
    second = env.materialize(KEY, FULL)
    return first, second, env.panel(), env.panel("minute_panel_full")


def _check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed for e in result.get_asset_check_evaluations()}


def test_each_run_builds_its_subset_for_the_partition_and_every_dbt_test_passes(env, built):
    first, second, panel, full = built
    for result, key in ((first, PANEL), (second, FULL)):
        materialized = result.asset_materializations_for_node("dbt_features")
        assert [(m.asset_key, m.partition) for m in materialized] == [(key, str(KEY))]
        expected = {c.name for c in dbt_features_assets.check_specs if c.asset_key == key}
        outcomes = _check_outcomes(result)
        assert {name.split(":")[1] for name in outcomes} == expected
        assert all(outcomes.values()), [name for name, ok in outcomes.items() if not ok]
        assert any(name.startswith("unique_combination") for name in expected)

    markets = env.warehouse.read(MARKETS, city=CITY, climate_date=DAY)
    assert markets.height == 6
    assert panel.height == full.height == 6 * MINUTES
    assert full.select("ticker", "ts").equals(panel.select("ticker", "ts"))
    assert full["p_wx"].null_count() == 0 and full["p_fused_norm"].null_count() == 0

    [settled] = env.warehouse.read(SETTLEMENT, city=CITY, climate_date=DAY).iter_rows(named=True)
    labels = full.group_by("ticker").agg(pl.col("settled_yes").unique()).sort("ticker")
    assert all(len(v) == 1 for v in labels["settled_yes"])
    winners = set(labels.filter(pl.col("settled_yes").list.first() == 1)["ticker"])
    assert winners == {settled["kalshi_yes_ticker"]}, settled["max_f"]


def _mid(bid: Decimal | None, ask: Decimal | None) -> float | None:
    return None if bid is None or ask is None else float((bid + ask) / 2)


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def test_kinematics_neighbours_and_weather_match_a_hand_computation(env, built):
    *_, panel, _ = built
    candles = env.warehouse.read(CANDLES_1M, city=CITY, climate_date=DAY)
    markets = env.warehouse.read(MARKETS, city=CITY, climate_date=DAY)
    obs = env.warehouse.read(STATION_OBS, city=CITY, climate_date=DAY).filter(pl.col("station_ok"))
    ladder = markets.sort("lo_f", nulls_last=False)["ticker"].to_list()
    # The candle stamped s closes at s + 1 min: that is when its mid becomes known.
    mid = {
        (r["ticker"], r["ts"] + timedelta(minutes=1)): _mid(r["yes_bid"], r["yes_ask"])
        for r in candles.iter_rows(named=True)
    }
    observed = list(zip(obs["ts"], obs["temp_f"], strict=True))

    rows = panel.gather_every(97).iter_rows(named=True)  # ~90 rows over every ticker and the whole day
    checked = {"mid_chg_5m": 0, "mid_below_delta": 0, "mid_above_delta": 0}
    for row in rows:
        ticker, ts = row["ticker"], row["ts"]
        rung = ladder.index(ticker)
        here = mid.get((ticker, ts))
        expected = {
            "mid": here,
            "mid_chg_1m": _minus(here, mid.get((ticker, ts - timedelta(minutes=1)))),
            "mid_chg_5m": _minus(here, mid.get((ticker, ts - timedelta(minutes=5)))),
            "mid_chg_15m": _minus(here, mid.get((ticker, ts - timedelta(minutes=15)))),
            "mid_below_delta": _minus(mid.get((ladder[rung - 1], ts)), here) if rung > 0 else None,
            "mid_above_delta": _minus(mid.get((ladder[rung + 1], ts)), here) if rung + 1 < len(ladder) else None,
        }
        so_far = [(t, temp) for t, temp in observed if t <= ts]
        latest_ts, latest_temp = max(so_far)
        expected |= {
            "obs_temp_f": latest_temp,
            "obs_age_min": (ts - latest_ts).total_seconds() / 60,
            "obs_running_max_f": max(temp for _, temp in so_far),
        }
        for column, value in expected.items():
            got = row[column]
            assert (got is None) == (value is None), (column, ticker, ts, got, value)
            if value is not None:
                assert got == pytest.approx(value, abs=1e-9), (column, ticker, ts)
        checked = {c: n + (expected[c] is not None) for c, n in checked.items()}
    assert all(n >= 10 for n in checked.values()), checked  # the sample exercised real values, not only nulls


def test_no_look_ahead_rows_up_to_t_ignore_later_observations(env, built):
    *_, panel, _ = built
    original = env.warehouse.read(STATION_OBS, city=CITY, climate_date=DAY)
    t = climate_day_window(DAY, -5)[0] + timedelta(hours=9, minutes=2)
    later = pl.col("ts") > t
    hotter = original.with_columns(pl.when(later).then(pl.col("temp_f") + 30).otherwise("temp_f").alias("temp_f"))
    try:
        env.warehouse.write_partition(STATION_OBS, hotter, CITY, DAY)
        env.materialize(KEY, PANEL)
        rebuilt = env.panel()
    finally:
        # Only the raw slice is restored: every test compares with `built` or rebuilds what it reads.
        env.warehouse.write_partition(STATION_OBS, original, CITY, DAY)
    assert rebuilt.filter(~later).equals(panel.filter(~later))
    # ...while rows after t did see the change, so the comparison above could have failed.
    assert (rebuilt.filter(later)["obs_temp_f"] - panel.filter(later)["obs_temp_f"]).max() == pytest.approx(30)


def test_rerun_is_idempotent(env, built):
    *_, panel, full = built
    env.materialize(KEY, PANEL, FULL)
    assert env.panel().equals(panel)
    assert env.panel("minute_panel_full").equals(full)


def test_a_batch_of_days_is_one_dbt_build_with_the_same_rows_as_one_day_at_a_time(env, built):
    """What a backfill batch runs: one dbt invocation over a range of days of the city."""
    *_, panel, full = built
    next_key = city_date_key(CITY, DAY + timedelta(days=1))
    env.materialize(next_key, *(dg.AssetKey(k) for k in RAW))
    hazard, fused = _pmf_frames(env.warehouse.read(CANDLES_1M, city=CITY, climate_date=DAY + timedelta(days=1)))
    env.warehouse.write_partition(HAZARD_PMF, hazard, CITY, DAY + timedelta(days=1))
    env.warehouse.write_partition(FUSED_PMF, fused, CITY, DAY + timedelta(days=1))
    result = env.defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[PANEL, FULL], instance=env.instance, run_config=QUIET,
        tags={"dagster/asset_partition_range_start": str(KEY), "dagster/asset_partition_range_end": str(next_key)},
    )  # fmt: skip
    assert result.success
    dbt_steps = [e for e in result.all_events if e.is_step_start and e.step_key.startswith("dbt_features")]
    assert len(dbt_steps) == 1  # both models and both days in one dbt build
    materialized = sorted((m.asset_key.to_user_string(), m.partition) for m in result.get_asset_materialization_events()
                          for m in [m.materialization])  # fmt: skip
    assert materialized == sorted((k.to_user_string(), str(p)) for k in (PANEL, FULL) for p in (KEY, next_key))
    assert all(_check_outcomes(result).values())
    assert env.panel().equals(panel) and env.panel("minute_panel_full").equals(full)
    assert env.panel(day=DAY + timedelta(days=1)).height == 6 * MINUTES


# --- a daylight-saving day: everything is UTC, whatever the session time zone -------------------


def _synthetic_day(city: str, day: date, offset_hours: int) -> list[tuple[TableSchema, pl.DataFrame]]:
    """Two brackets (<= 49, >= 50), a quote every minute that drifts, an observation every 5 minutes."""
    start, end = climate_day_window(day, offset_hours)
    minutes = [start + timedelta(minutes=i) for i in range(MINUTES)]
    base = {"city": city, "climate_date": day}
    tickers = [("KXSYN-LO", None, 49), ("KXSYN-HI", 50, None)]
    markets = pl.DataFrame(
        [base | {"event_ticker": "KXSYN", "ticker": t, "lo_f": lo, "hi_f": hi, "close_time": end - timedelta(minutes=1)}
         for t, lo, hi in tickers],
        schema=MARKETS.polars_schema, strict=False,
    )  # fmt: skip
    candles = pl.DataFrame(
        [base | {"ticker": t, "ts": ts, "yes_bid": Decimal(i % 50) / 100 + Decimal("0.20"),
                 "yes_ask": Decimal(i % 50) / 100 + Decimal("0.22"), "has_quote": True, "volume": Decimal(0),
                 "is_filled": False}
         for t, *_ in tickers for i, ts in enumerate(minutes)],
        schema=CANDLES_1M.polars_schema, strict=False,
    )  # fmt: skip
    obs = pl.DataFrame(
        [base | {"station": "KSYN", "ts": ts, "temp_f": 40.0 + i / 10, "station_ok": True}
         for i, ts in enumerate(minutes[::5])],
        schema=STATION_OBS.polars_schema, strict=False,
    )  # fmt: skip
    return [(MARKETS, markets), (CANDLES_1M, candles), (STATION_OBS, obs)]


def test_panel_is_right_across_the_spring_forward_day(env, monkeypatch):
    # 2026-03-08: New York jumps 02:00 EST -> 03:00 EDT at 07:00Z; the climate day is still 05:00Z to 05:00Z.
    day = date(2026, 3, 8)
    other_partition = env.panel() if "features.minute_panel" in env.warehouse.backend.existing_tables() else None
    for table, frame in _synthetic_day("nyc", day, -5):
        env.warehouse.write_partition(table, frame, "nyc", day)
    # A session in the local zone must not shift anything: dbt's subprocess inherits these.
    monkeypatch.setenv("TZ", "America/New_York")
    monkeypatch.setenv("PGTZ", "America/New_York")
    env.materialize(city_date_key("nyc", day), PANEL)
    panel = env.panel(city="nyc", day=day)

    start = datetime(2026, 3, 8, 5, tzinfo=UTC)
    for (ticker,), rows in panel.group_by("ticker"):
        assert rows["ts"].to_list() == [start + timedelta(minutes=i) for i in range(MINUTES)], ticker
        assert rows["minutes_to_close"].to_list() == [float(MINUTES - 1 - i) for i in range(MINUTES)], ticker
        assert rows["obs_age_min"].to_list() == [float(i % 5) for i in range(MINUTES)], ticker
        assert rows["obs_temp_f"].to_list() == pytest.approx([40.0 + (i // 5) / 10 for i in range(MINUTES)])
    around_jump = panel.filter(
        (pl.col("ticker") == "KXSYN-HI") & pl.col("ts").is_between(datetime(2026, 3, 8, 6, 58, tzinfo=UTC),
                                                                   datetime(2026, 3, 8, 7, 2, tzinfo=UTC))
    )  # fmt: skip
    assert around_jump["mid_chg_1m"].to_list() == pytest.approx([0.01] * 5)
    assert around_jump["mid_below_delta"].to_list() == pytest.approx([0.0] * 5)
    if other_partition is not None:  # building nyc's slice replaced only that slice
        assert env.panel().equals(other_partition)
