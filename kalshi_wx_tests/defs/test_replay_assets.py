"""The raw graph on recorded real data: KALSHI_WX_SOURCES=replay through Dagster into DuckDB."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from kalshi_wx.definitions import build_definitions
from kalshi_wx.defs.partitions import city_date_key
from kalshi_wx.defs.resources import build_resources
from kalshi_wx.defs.runs import run_partitions
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.replay.build import build_replay
from kalshi_wx.warehouse.schemas import CANDLES_1M, MARKETS, SETTLEMENT, STATION_OBS, TRADES
from kalshi_wx_tests.conftest import TEST_DATA

CHI_DAY, NYC_DAY = date(2025, 4, 7), date(2025, 7, 10)


def _run(tmp_path: Path, monkeypatch, replay: Path, keys: list[dg.MultiPartitionKey]):
    monkeypatch.setenv("KALSHI_WX_REPLAY_DIR", str(replay))
    resources = build_resources(mode="replay", warehouse_url=f"duckdb://{tmp_path / 'warehouse.duckdb'}")
    defs = build_definitions(resources)
    with dg.DagsterInstance.ephemeral() as instance:
        outcomes = run_partitions(defs, instance, keys, job_name="raw_daily")
        checks = {}
        for check in ("observations_cover_the_day", "temperatures_are_plausible_fahrenheit"):
            key = dg.AssetCheckKey(dg.AssetKey(["weather", "station_obs"]), check)
            record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])
            checks[check] = record[key].status.value if key in record else None
    return outcomes, resources["warehouse"], checks


def test_cents_era_market_and_trades_run_through_the_graph(tmp_path, monkeypatch):
    replay = tmp_path / "replay"
    for kind, name in (("events", "2025-04-07.json"), ("trades", "2025-04-07.json")):
        target = replay / "kalshi" / kind / "KXHIGHCHI-25APR07.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(TEST_DATA / "kalshi" / "cpratim_KXHIGHCHI" / kind / name, target)
    [outcome], warehouse, _ = _run(tmp_path, monkeypatch, replay, [city_date_key("chi", CHI_DAY)])
    assert outcome.success, outcome.error
    markets = warehouse.read(MARKETS, city="chi", climate_date=CHI_DAY)
    assert markets.height == 6 and markets.filter(pl.col("result") == "yes")["ticker"].to_list() == [
        "KXHIGHCHI-25APR07-T43"
    ]
    trades = warehouse.read(TRADES, city="chi", climate_date=CHI_DAY)
    assert trades.height > 0 and trades["yes_price"].min() >= Decimal("0.01")
    candles = warehouse.read(CANDLES_1M, city="chi", climate_date=CHI_DAY)
    assert candles.height == 6 * 1440 and not candles["has_quote"].any()  # no candles recorded: no quotes
    # Nothing recorded for Midway's weather or its CLI: empty, not invented.
    assert warehouse.read(STATION_OBS, city="chi", climate_date=CHI_DAY).is_empty()
    assert warehouse.read(SETTLEMENT, city="chi", climate_date=CHI_DAY).is_empty()


@pytest.fixture(scope="module")
def built_replay(tmp_path_factory, real_data) -> Path:
    out = tmp_path_factory.mktemp("replay")
    build_replay(real_data, out, cities=dict(settings().cities))
    return out


def test_built_replay_runs_chicago_and_central_park_on_real_days(tmp_path, monkeypatch, built_replay):
    keys = [city_date_key("chi", CHI_DAY), city_date_key("nyc", NYC_DAY)]
    outcomes, warehouse, checks = _run(tmp_path, monkeypatch, built_replay, keys)
    assert all(o.success for o in outcomes), [o.error for o in outcomes]

    chi = warehouse.read(SETTLEMENT, city="chi", climate_date=CHI_DAY).row(0, named=True)
    # Midway's official high (IEM's daily values) is what Kalshi settled KXHIGHCHI-25APR07 on.
    assert (chi["max_f"], chi["settlement_source"], chi["kalshi_expiration_value"]) == (47, "iem_cli_json", 47)
    assert chi["agrees_with_kalshi"] is True and chi["kalshi_yes_ticker"] == "KXHIGHCHI-25APR07-T43"

    obs = warehouse.read(STATION_OBS, city="nyc", climate_date=NYC_DAY)
    # The manifest switches Central Park to the NCEI 5-minute files it recorded.
    assert set(obs["source"]) == {"ncei_5min"} and obs.height == 144 and obs["temp_f"].max() == 78.0
    nyc = warehouse.read(SETTLEMENT, city="nyc", climate_date=NYC_DAY).row(0, named=True)
    assert (nyc["max_f"], nyc["product_id"], nyc["settlement_source"]) == (
        84,
        "202507110617-KOKX-CDUS41-CLINYC",
        "iem_cli_json",
    )
    assert nyc["agrees_with_kalshi"] is None  # no NYC market was recorded for that day
    # 144 of 288 five-minute records, with a hole over the 1:13 PM peak: the coverage warning fires.
    assert checks == {"observations_cover_the_day": "FAILED", "temperatures_are_plausible_fahrenheit": "SUCCEEDED"}
