"""Shared fixtures: real data paths, a throwaway PostgreSQL database per session."""

from __future__ import annotations

import json
import os
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import pytest

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
if not REAL_DATA.exists():  # a clone elsewhere can point at the data explicitly
    REAL_DATA = Path(os.environ.get("KALSHI_WX_REAL_DATA", REAL_DATA))

PG_URL = os.environ.get("KALSHI_WX_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not REAL_DATA.exists():
        pytest.fail(f"real test data not found at {REAL_DATA}; set KALSHI_WX_REAL_DATA")
    return REAL_DATA


REAL_MARKETS_FILE = "kalshi/ericzzhang27_Kalshi-Weather-Trading/market_discovery_raw_KXHIGHNY_26JUN01-02.json"


@pytest.fixture
def real_markets(real_data) -> list[dict]:
    """The 12 real ``GET /markets`` objects of KXHIGHNY-26JUN01/02 (CLI highs 71 and 76), fresh per test."""
    return json.loads((real_data / REAL_MARKETS_FILE).read_text())


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A fresh database on the CI PostgreSQL server, dropped after the session.

    Skips only outside CI: in CI (CI=true) an unreachable server is a failure, never a skip.
    """
    import psycopg2

    try:
        admin = psycopg2.connect(PG_URL, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} not reachable: {exc}")
    admin.autocommit = True
    name = f"kalshi_wx_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(PG_URL)
    yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


@pytest.fixture
def kalshi_wx_home(tmp_path, monkeypatch) -> Path:
    """An empty KALSHI_WX_HOME so nothing touches ./data."""
    home = tmp_path / "kalshi_wx_home"
    home.mkdir()
    monkeypatch.setenv("KALSHI_WX_HOME", str(home))
    monkeypatch.delenv("KALSHI_WX_WAREHOUSE_URL", raising=False)
    return home


# One full city-day of the graph over the simulator, shared by the tests that read its tables.
DAY = date(2026, 6, 3)
LATEST = ("pmf/hazard_params", "pmf/fused_pmf", "backtest/backtest_report")


@pytest.fixture(scope="session")
def materialized(tmp_path_factory):
    """(outcome of the daily run for nyc|DAY, warehouse, latest materialization event per asset in LATEST)."""
    from kalshi_wx.definitions import build_definitions
    from kalshi_wx.defs.partitions import city_date_key
    from kalshi_wx.defs.resources import build_resources
    from kalshi_wx.defs.runs import partition_keys, run_partitions, run_series

    home = tmp_path_factory.mktemp("daily")
    resources = build_resources(mode="sim", warehouse_url=f"duckdb://{home / 'warehouse.duckdb'}")
    defs = build_definitions(resources)
    with dg.DagsterInstance.ephemeral() as instance:
        assert run_series(defs, instance)
        history = partition_keys(["nyc"], DAY - timedelta(days=5), DAY - timedelta(days=1))
        assert all(o.success for o in run_partitions(defs, instance, history, job_name="weather_history"))
        [outcome] = run_partitions(defs, instance, [city_date_key("nyc", DAY)], job_name="daily")
        events = {name: instance.get_latest_materialization_event(dg.AssetKey(name.split("/"))) for name in LATEST}
    return outcome, resources["warehouse"], events
