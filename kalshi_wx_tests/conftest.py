"""Shared fixtures: test data paths, a throwaway PostgreSQL database per session.

Two data locations. ``TEST_DATA`` (``kalshi_wx_tests/data``, see its README.md) holds the real files whose licence
lets this repository redistribute them. ``REAL_DATA`` is the shared folder of files with no stated licence:
``../shared/data/real`` beside the repository, or ``KALSHI_WX_REAL_DATA``. Every test that reads it is marked
``shared_data``: automatically when it uses the ``real_data`` fixture (directly or through ``real_markets``),
explicitly otherwise. Without the folder those tests are deselected with a notice; in CI (CI=true) that is an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import pytest

TEST_DATA = Path(__file__).resolve().parent / "data"
REAL_DATA = Path(
    os.environ.get("KALSHI_WX_REAL_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
)
SHARED_DATA_NAME = "$KALSHI_WX_REAL_DATA" if os.environ.get("KALSHI_WX_REAL_DATA") else "../shared/data/real"
SHARED_DATA_FIXTURE = "real_data"
_shared_data_notice = pytest.StashKey[str]()

PG_URL = os.environ.get("KALSHI_WX_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def pytest_itemcollected(item: pytest.Item) -> None:
    # Before -m/-k filter the items, so `-m "not shared_data"` and `-m shared_data` see this marker.
    if SHARED_DATA_FIXTURE in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.shared_data)


@pytest.hookimpl(trylast=True)  # after -m/-k: count and drop only the tests that would otherwise run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REAL_DATA.is_dir():
        return
    shared = [item for item in items if item.get_closest_marker("shared_data")]
    if not shared:
        return
    notice = f"{len(shared)} tests need {SHARED_DATA_NAME} (not found at {REAL_DATA}; set KALSHI_WX_REAL_DATA)"
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"{notice}: CI runs every test, so the shared data is required")
    config.hook.pytest_deselected(items=shared)
    items[:] = [item for item in items if not item.get_closest_marker("shared_data")]
    config.stash[_shared_data_notice] = f"{notice}: deselected"


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if notice := config.stash.get(_shared_data_notice, None):
        terminalreporter.write_line(notice, yellow=True, bold=True)


@pytest.fixture(scope="session")
def test_data() -> Path:
    """The real files copied into the repository (kalshi_wx_tests/data/README.md: sources and licences)."""
    return TEST_DATA


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The shared folder of real files with no stated licence; its users are marked shared_data."""
    if not REAL_DATA.is_dir():  # unreachable through collection, which deselects these tests
        pytest.fail(f"real test data not found at {REAL_DATA}; set KALSHI_WX_REAL_DATA")
    return REAL_DATA


REAL_MARKETS_FILE = "kalshi/ericzzhang27_Kalshi-Weather-Trading/market_discovery_raw_KXHIGHNY_26JUN01-02.json"


@pytest.fixture
def real_markets(real_data) -> list[dict]:
    """The 12 real ``GET /markets`` objects of KXHIGHNY-26JUN01/02 (CLI highs 71 and 76), fresh per test."""
    return json.loads((real_data / REAL_MARKETS_FILE).read_text())


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new database on the test PostgreSQL server, dropped afterwards.

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
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the CI PostgreSQL server for the whole session (the warehouse tests)."""
    with fresh_postgres_database() as url:
        yield url


# Another process with a DuckDB file open, as a notebook leaves it: a line on stdin releases the file,
# closing stdin ends the process.
_HOLD_DUCKDB = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
sys.stdin.readline()
con.close()
print("released", flush=True)
sys.stdin.read()
"""


class DuckDBHolder:
    """A separate Python process holding a DuckDB file open read-write."""

    def __init__(self, path: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLD_DUCKDB, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "held"

    @property
    def pid(self) -> int:
        return self.process.pid

    def release(self) -> None:
        """Close the file (the process stays alive), and return once it is closed."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("release\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "released"

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def hold_duckdb() -> Iterator[Callable[[Path], DuckDBHolder]]:
    """``hold_duckdb(path)`` opens ``path`` in another process until the test ends."""
    holders: list[DuckDBHolder] = []

    def hold(path: Path) -> DuckDBHolder:
        holders.append(DuckDBHolder(path))
        return holders[-1]

    yield hold
    for holder in holders:
        holder.stop()


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
