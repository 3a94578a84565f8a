"""`make prod-local` (docker/prod_local.py) run for real: the production topology as separate processes.

PostgreSQL instance storage and warehouse (fresh databases), the gRPC code server, dagster-daemon and
dagster-webserver with docker/dagster.yaml. A partition backfill is launched through the webserver's
GraphQL as the UI launches one, the daemon completes it, a sensor tick is recorded; then `stop` (and, after
a restart on the same databases, Ctrl-C) ends every process the topology started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from kalshi_wx.defs.settings import REPO_ROOT
from kalshi_wx_tests.conftest import PG_URL

SCRIPT = REPO_ROOT / "docker" / "prod_local.py"
PROCESSES = ("code_server", "daemon", "webserver")
PARTITIONS = ["nyc|2026-06-01", "chi|2026-06-01"]
STARTUP_S = 900  # three processes importing dagster (one also dbt, polars, numba) on a shared 2-core machine

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_url() -> str:
    parts = urlsplit(PG_URL)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _admin():
    try:
        connection = psycopg2.connect(PG_URL, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} not reachable: {exc}")
    connection.autocommit = True
    return connection


def _live_members(pgid: int) -> list[int]:
    """Processes (not zombies) of a process group, read from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


class Topology:
    def __init__(self, tmp_path: Path, prefix: str):
        self.state = tmp_path / "state"
        self.ui_port = _free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("KALSHI_", "VISUAL_CROSSING_", "DAGSTER_"))},
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
            "KALSHI_WX_HOME": str(tmp_path / "home"),
            "KALSHI_WX_SOURCES": "sim",
            "PROD_LOCAL_PG_URL": _server_url(),
            "PROD_LOCAL_DB_PREFIX": prefix,
            "PROD_LOCAL_UI_PORT": str(self.ui_port),
            "PROD_LOCAL_GRPC_PORT": str(_free_port()),
        }
        self.output: list[str] = []
        self.process: subprocess.Popen | None = None

    def command(self, action: str) -> list[str]:
        return [sys.executable, str(SCRIPT), action, "--state-dir", str(self.state)]

    def start(self) -> None:
        self.output = []
        self.process = subprocess.Popen(
            self.command("start"), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + STARTUP_S
        while not (self.output and self.output[-1].startswith("ready:")):
            line = self.process.stdout.readline()
            assert line, f"prod_local.py start exited ({self.process.poll()}):\n" + "".join(self.output)
            self.output.append(line)
            assert time.monotonic() < deadline, "".join(self.output)

    def pids(self) -> dict[str, int]:
        return {name: int((self.state / "pids" / f"{name}.pid").read_text()) for name in PROCESSES}

    def graphql(self, query: str, **variables) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ui_port}/graphql",
            data=json.dumps({"query": query, "variables": variables}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            body = json.loads(response.read())
        assert "errors" not in body, body
        return body["data"]


LAUNCH = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
BACKFILL = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status numPartitions runs { runId status } }
  }
}"""
RUN = """
query($id: ID!) {
  runOrError(runId: $id) {
    __typename
    ... on Run { status tags { key value } assetMaterializations { assetKey { path } partition } }
  }
}"""
SENSOR = """
{
  sensorOrError(sensorSelector: {repositoryLocationName: "kalshi_wx", repositoryName: "__repository__",
                                 sensorName: "highres_closed_days"}) {
    ... on Sensor { sensorState { status ticks(limit: 5) { status } } }
  }
}"""


def _wait(what: str, check, timeout_s: float, interval_s: float = 3.0):
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:g} s"
        time.sleep(interval_s)
    return result


def test_prod_local_runs_a_backfill_through_the_daemon_and_stops_every_process(tmp_path):
    admin = _admin()
    prefix = f"kwx_prod_local_{uuid.uuid4().hex[:8]}"
    topology = Topology(tmp_path, prefix)
    started: dict[str, int] = {}
    try:
        topology.start()
        assert f"Dagster UI: http://127.0.0.1:{topology.ui_port}\n" in topology.output
        started = topology.pids()

        # What the UI does for "Materialize selected partitions": an asset backfill the daemon runs.
        launched = topology.graphql(
            LAUNCH, params={"assetSelection": [{"path": ["kalshi", "markets"]}], "partitionNames": PARTITIONS}
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]

        def finished():
            backfill = topology.graphql(BACKFILL, id=backfill_id)["partitionBackfillOrError"]
            return backfill if backfill["status"] not in ("REQUESTED", "CANCELING") else None

        backfill = _wait("the backfill", finished, timeout_s=900)
        assert backfill["status"] == "COMPLETED_SUCCESS", backfill
        assert backfill["numPartitions"] == 2 and len(backfill["runs"]) == 2
        assert {r["status"] for r in backfill["runs"]} == {"SUCCESS"}

        # Each run through the webserver: its partition, and what it materialized.
        seen = set()
        for entry in backfill["runs"]:
            run = topology.graphql(RUN, id=entry["runId"])["runOrError"]
            tags = {t["key"]: t["value"] for t in run["tags"]}
            assert run["__typename"] == "Run" and tags["dagster/backfill"] == backfill_id
            assert tags["dagster/code_location"] == "kalshi_wx"
            [materialization] = run["assetMaterializations"]
            assert materialization["assetKey"]["path"] == ["kalshi", "markets"]
            assert materialization["partition"] == tags["dagster/partition"]
            seen.add(materialization["partition"])
        assert seen == set(PARTITIONS)

        # The warehouse is the PostgreSQL database, written by runs the code server launched.
        with psycopg2.connect(f"{_server_url()}/{prefix}_warehouse") as warehouse, warehouse.cursor() as cursor:
            cursor.execute("SELECT city, count(*) FROM kalshi.markets GROUP BY city ORDER BY city")
            counts = dict(cursor.fetchall())
        # The automations run too (the settlement sensor ingests every city's markets), so more may be there.
        assert counts.get("chi", 0) > 0 and counts.get("nyc", 0) > 0

        # The daemon evaluates the sensor declared RUNNING and records its ticks.
        def ticked():
            state = topology.graphql(SENSOR)["sensorOrError"]["sensorState"]
            return state if state["ticks"] else None

        state = _wait("a sensor tick", ticked, timeout_s=300)
        assert state["status"] == "RUNNING"

        stop = subprocess.run(topology.command("stop"), env=topology.env, capture_output=True, text=True, timeout=300)
        assert stop.returncode == 0, stop.stderr
        assert topology.process.wait(timeout=300) == 0
        rest = topology.process.stdout.read()
        assert "stopped every process" in rest, rest
        assert {name: _live_members(pid) for name, pid in started.items()} == dict.fromkeys(PROCESSES, [])
        assert list((topology.state / "pids").iterdir()) == []

        # Started again on the same databases, the instance remembers; Ctrl-C stops everything too.
        topology.start()
        started = topology.pids()
        again = topology.graphql(BACKFILL, id=backfill_id)["partitionBackfillOrError"]
        assert again["status"] == "COMPLETED_SUCCESS" and len(again["runs"]) == 2
        topology.process.send_signal(signal.SIGINT)
        assert topology.process.wait(timeout=300) == 0
        assert "stopped every process" in topology.process.stdout.read()
        assert {name: _live_members(pid) for name, pid in started.items()} == dict.fromkeys(PROCESSES, [])
    finally:
        if topology.process is not None and topology.process.poll() is None:
            topology.process.kill()
            topology.process.wait()
        for pgid in started.values():  # only what this test started
            if _live_members(pgid):
                os.killpg(pgid, signal.SIGKILL)
        with admin.cursor() as cursor:
            for name in (f"{prefix}_dagster", f"{prefix}_warehouse"):
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def test_a_port_in_use_is_refused_before_anything_starts(tmp_path):
    admin = _admin()
    prefix = f"kwx_prod_local_{uuid.uuid4().hex[:8]}"
    topology = Topology(tmp_path, prefix)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", topology.ui_port))
        taken.listen()
        command = topology.command("start")
        result = subprocess.run(command, env=topology.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"prod-local: error: PROD_LOCAL_UI_PORT={topology.ui_port}: 127.0.0.1:{topology.ui_port} is in use"
        " (Address already in use)\n"
    )
    assert not topology.state.exists()  # no instance, no process
    with admin.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{prefix}%",))
        assert cursor.fetchall() == []
    admin.close()
