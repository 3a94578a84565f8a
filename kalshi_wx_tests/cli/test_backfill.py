"""Backfills the Dagster way, with a real ``dagster-daemon``, gRPC code server and webserver on a temporary
instance (subprocesses, stopped in teardown): the UI's GraphQL asset backfill and ``kalshi-wx backfill``."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pytest

from kalshi_wx.cli.backfill import _refresh_series
from kalshi_wx.cli.main import main
from kalshi_wx.definitions import defs
from kalshi_wx.defs.backfills import backfill_progress, backfill_run_ids
from kalshi_wx.defs.jobs import CITY_DAY

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCATION = "kalshi_wx"
STARTUP_S = 300
BACKFILL_S = 1500  # 2 cores shared with other work: each run is a process that loads the code location

LAUNCH = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on PartitionSetNotFoundError { message }
    ... on InvalidSubsetError { message }
  }
}
"""
AUTOMATION_PAGE_QUERY = """
query {
  workspaceOrError { __typename ... on Workspace { locationEntries { name locationOrLoadError { __typename
    ... on RepositoryLocation { repositories { sensors { name sensorState { status } }
                                               schedules { name scheduleState { status } } } } } } } }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, ready, timeout_s: float, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for p in processes:
            if p.poll() is not None:
                raise RuntimeError(f"{what}: {p.args[0]} exited with {p.returncode} while starting")
        if ready():
            return
        time.sleep(1)
    raise TimeoutError(f"{what} not ready after {timeout_s:.0f}s")


@dataclass
class Services:
    home: Path
    dagster_home: Path
    env: dict[str, str]
    graphql_url: str

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.dagster_home))

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = httpx.post(self.graphql_url, json={"query": query, "variables": variables or {}}, timeout=60)
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]


def _stop(processes: list[subprocess.Popen]) -> None:
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.fixture(scope="module")
def services(tmp_path_factory) -> Iterator[Services]:
    home = tmp_path_factory.mktemp("backfill_home")
    dagster_home = home / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO_ROOT / "config" / "dagster.local.yaml", dagster_home / "dagster.yaml")
    grpc_port, web_port = _free_port(), _free_port()
    workspace = home / "workspace.yaml"
    workspace.write_text(
        f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {grpc_port}\n"
        f"      location_name: {LOCATION}\n"
    )
    env = {
        **os.environ,
        "KALSHI_WX_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        "KALSHI_WX_SOURCES": "sim",
        # The settlement sensor and the schedules would add runs of their own to this instance.
        "KALSHI_WX_AUTOMATION": "off",
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.pop("KALSHI_WX_WAREHOUSE_URL", None)
    logs = home / "logs"
    logs.mkdir()

    def start(name: str, *args: str) -> subprocess.Popen:
        out = (logs / f"{name}.log").open("w")
        return subprocess.Popen(args, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)

    processes = [
        start(
            "code_server", str(BIN / "dagster"), "api", "grpc", "-m", "kalshi_wx.definitions", "-a", "defs",
            "--location-name", LOCATION, "-h", "127.0.0.1", "-p", str(grpc_port),
        ),
    ]  # fmt: skip
    try:

        def code_server_up() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", grpc_port)) == 0

        _wait("code server", code_server_up, STARTUP_S, processes)
        processes.append(start("daemon", str(BIN / "dagster-daemon"), "run", "-w", str(workspace)))
        processes.append(
            start("webserver", str(BIN / "dagster-webserver"), "-w", str(workspace), "-h", "127.0.0.1",
                  "-p", str(web_port))
        )  # fmt: skip
        services = Services(home, dagster_home, env, f"http://127.0.0.1:{web_port}/graphql")

        def webserver_up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{web_port}/server_info", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        def daemon_up() -> bool:
            with services.instance() as instance:
                statuses = instance.get_daemon_statuses(daemon_types=["BACKFILL", "QUEUED_RUN_COORDINATOR"])
                return all(s.healthy for s in statuses.values())

        _wait("webserver", webserver_up, STARTUP_S, processes)
        _wait("daemon", daemon_up, STARTUP_S, processes)
        yield services
    finally:
        _stop(processes)


def _wait_for_backfill(services: Services, backfill_id: str) -> None:
    with services.instance() as instance:
        deadline = time.monotonic() + BACKFILL_S
        while not backfill_progress(instance, backfill_id).finished:
            assert time.monotonic() < deadline, f"backfill {backfill_id} still running after {BACKFILL_S}s"
            time.sleep(3)


def test_kalshi_wx_backfill_submits_a_dagster_backfill_and_follows_it(services):
    command = [str(BIN / "kalshi-wx"), "backfill", "--cities", "phl", "--start", "2026-06-12", "--end", "2026-06-12"]
    result = subprocess.run(
        command, env=services.env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=BACKFILL_S
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kalshi/series: never materialized: refreshing" in result.stdout
    assert re.search(r"\[1/1\] phl\|2026-06-12 +ok at \d+s", result.stdout), result.stdout
    assert "COMPLETED_SUCCESS: 1 of 1 partition(s) done, 0 failed" in result.stdout
    with services.instance() as instance:
        # The weather first (every fit then sees its trailing days), then the rest of the graph.
        rest, weather = instance.get_backfills()[:2]
        assert (weather.title, rest.title) == ("weather for phl 2026-06-12..2026-06-12", "phl 2026-06-12..2026-06-12")
        for backfill in (weather, rest):
            runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
            assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        weather_runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": weather.backfill_id}))
        assert {k.to_user_string() for r in weather_runs for k in r.asset_selection or ()} == {
            "weather/station_obs",
            "weather/forecast",
        }


def test_ui_asset_backfill_of_two_partitions_targets_exactly_them_and_succeeds(services, capsys, monkeypatch):
    keys = ["chi|2026-06-10", "nyc|2026-06-10"]
    monkeypatch.setenv("KALSHI_WX_HOME", str(services.home))
    with services.instance() as instance:
        # The backtest reads kalshi/series; materialized by the previous test, it is fresh and left alone.
        assert _refresh_series(instance, verbose=False)
    assert ": kept" in capsys.readouterr().out
    selection = sorted(CITY_DAY.resolve(defs.resolve_asset_graph()), key=lambda k: k.to_user_string())
    data = services.graphql(
        LAUNCH,
        {"params": {"partitionNames": keys, "assetSelection": [{"path": k.path} for k in selection]}},
    )["launchPartitionBackfill"]
    assert data["__typename"] == "LaunchBackfillSuccess", data
    backfill_id = data["backfillId"]
    _wait_for_backfill(services, backfill_id)
    with services.instance() as instance:
        progress = backfill_progress(instance, backfill_id)
        runs = instance.get_runs(filters=dg.RunsFilter(run_ids=backfill_run_ids(instance, backfill_id)))
        failed = [r.run_id for r in runs if r.status != dg.DagsterRunStatus.SUCCESS]
        assert progress.status.value == "COMPLETED_SUCCESS" and not failed, (progress.status, failed)
        assert set(progress.partitions) == set(keys) == set(progress.done)
        # Every asset materialized exactly the requested partitions (hazard_params included), and no other day
        # beyond what this instance's other backfills asked for.
        others = {
            p for b in instance.get_backfills() if b.backfill_id != backfill_id
            for p in backfill_progress(instance, b.backfill_id).partitions
        }  # fmt: skip
        for key in selection:
            materialized = instance.get_materialized_partitions(key) - others
            assert materialized == set(keys), (key.to_user_string(), sorted(materialized))
        # dbt ran once per batch of ready days, never once per asset and partition.
        dbt_runs = [r for r in runs if any(k.path[0] == "features" for k in r.asset_selection or ())]
        assert 1 <= len(dbt_runs) <= 2 * len(keys)
        for run in runs:
            assert run.tags.get("dagster/backfill") == backfill_id


def test_automation_page_lists_the_sensors_and_schedules(services):
    [entry] = services.graphql(AUTOMATION_PAGE_QUERY)["workspaceOrError"]["locationEntries"]
    assert entry["name"] == LOCATION
    [repository] = entry["locationOrLoadError"]["repositories"]
    sensors = {s["name"] for s in repository["sensors"]}
    schedules = {s["name"] for s in repository["schedules"]}
    assert {"settlement_poll", "automation", "highres_closed_days"} <= sensors
    assert "ingest_closed_day_nyc" in schedules


def test_without_a_daemon_nothing_is_submitted_and_the_command_says_how_to_start_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KALSHI_WX_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    code = main(["backfill", "--cities", "nyc", "--start", "2026-06-01", "--end", "2026-06-02"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no dagster-daemon is running on" in err and "dagster-daemon run -w workspace.yaml" in err
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        assert instance.get_backfills() == []
