"""The production topology of docker/compose.yaml, run as plain processes on this machine (`make prod-local`).

PostgreSQL-backed Dagster instance storage (docker/dagster.yaml: runs, event logs, schedules, the
QueuedRunCoordinator's limits, run monitoring), a gRPC code server for the location `kalshi_wx`,
`dagster-daemon` and `dagster-webserver` as separate processes, and the warehouse on PostgreSQL.
docker/dagster.yaml is used as it is and the workspace is docker/workspace.yaml pointed at the local
code server, so what runs here is what the containers run.

    python docker/prod_local.py start   # creates the databases if needed, starts, waits for health,
                                        # prints the UI URL; Ctrl-C (or SIGTERM) stops every process
    python docker/prod_local.py stop    # from another shell: stops what `start` started (pid files)

Settings (environment): PROD_LOCAL_PG_URL, the PostgreSQL server and a role that may create databases
(default postgresql://postgres@127.0.0.1:5432); PROD_LOCAL_DB_PREFIX, the databases' names
(<prefix>_dagster, <prefix>_warehouse; default kalshi_wx_local); PROD_LOCAL_UI_PORT (3000);
PROD_LOCAL_GRPC_PORT (4000); KALSHI_WX_HOME (./data): the state lives in $KALSHI_WX_HOME/prod_local
(dagster_home, compute_logs, logs/<process>.log, pids/). Source keys and KALSHI_WX_SOURCES are read by
the code server as on a laptop; with none set the sources are the simulator.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import yaml
from psycopg2 import sql

DOCKER = Path(__file__).resolve().parent
REPO_ROOT = DOCKER.parent
BIN = Path(sys.executable).parent  # the venv's dagster commands
LOCATION = "kalshi_wx"
# Started in this order, stopped in the reverse one; the name is the pid file's and the log's.
PROCESSES = ("code_server", "daemon", "webserver")
STOP_GRACE_S = 30.0
HEALTH_TIMEOUT_S = 600.0  # the code server imports dagster, dbt, polars and numba on a loaded machine


class ProdLocalError(Exception):
    """Something the user can fix (a port in use, a database the role cannot create): one line, exit 2."""


@dataclass(frozen=True)
class Layout:
    state: Path

    @property
    def dagster_home(self) -> Path:
        return self.state / "dagster_home"

    @property
    def compute_logs(self) -> Path:
        return self.state / "compute_logs"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def workspace(self) -> Path:
        return self.dagster_home / "workspace.yaml"

    def pid_file(self, name: str) -> Path:
        return self.pids / f"{name}.pid"


def kalshi_wx_home() -> Path:
    return Path(os.environ.get("KALSHI_WX_HOME", REPO_ROOT / "data")).resolve()


def default_state_dir() -> Path:
    return kalshi_wx_home() / "prod_local"


# --- PostgreSQL --------------------------------------------------------------------------------------


def database_url(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


def ensure_databases(server_url: str, names: list[str]) -> None:
    """Create the databases that do not exist yet (a restart keeps the instance's history)."""
    try:
        connection = psycopg2.connect(database_url(server_url, "postgres"), connect_timeout=10)
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ProdLocalError(f"PROD_LOCAL_PG_URL {_display(server_url)}: cannot connect: {first}") from None
    connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    print(f"created database {name}", flush=True)
    except psycopg2.Error as exc:
        raise ProdLocalError(f"{_display(server_url)}: {str(exc).strip()}") from None
    finally:
        connection.close()


def _display(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}{host}", parts.path, "", ""))


# --- the instance and the workspace ------------------------------------------------------------------


def prepare(layout: Layout, grpc_port: int) -> None:
    """docker/dagster.yaml as the instance; docker/workspace.yaml with the code server on loopback."""
    for directory in (layout.dagster_home, layout.compute_logs, layout.logs, layout.pids):
        directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DOCKER / "dagster.yaml", layout.dagster_home / "dagster.yaml")
    workspace = yaml.safe_load((DOCKER / "workspace.yaml").read_text())
    [entry] = workspace["load_from"]
    server = entry["grpc_server"]
    if server["location_name"] != LOCATION:
        raise ProdLocalError(f"docker/workspace.yaml: location_name {server['location_name']!r}, expected {LOCATION}")
    server.update(host="127.0.0.1", port=grpc_port)
    header = "# Written by docker/prod_local.py from docker/workspace.yaml: the code server on loopback.\n"
    layout.workspace.write_text(header + yaml.safe_dump(workspace, sort_keys=False))


def environment(layout: Layout, server_url: str, prefix: str) -> dict[str, str]:
    """What docker/compose.yaml gives the containers, pointed at this machine."""
    parts = urlsplit(server_url)
    return {
        **os.environ,
        "DAGSTER_HOME": str(layout.dagster_home),
        "DAGSTER_PG_HOST": parts.hostname or "127.0.0.1",
        "DAGSTER_PG_PORT": str(parts.port or 5432),
        "DAGSTER_PG_USER": parts.username or "postgres",
        "DAGSTER_PG_PASSWORD": parts.password or "",
        "DAGSTER_PG_DB": f"{prefix}_dagster",
        "DAGSTER_COMPUTE_LOGS_DIR": str(layout.compute_logs),
        "KALSHI_WX_WAREHOUSE_URL": database_url(server_url, f"{prefix}_warehouse"),
        "KALSHI_WX_HOME": str(kalshi_wx_home()),  # models and reports, as on a laptop
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def commands(layout: Layout, ui_port: int, grpc_port: int) -> dict[str, list[str]]:
    """The commands of docker/compose.yaml's user_code, daemon and webserver services, on loopback."""
    return {
        "code_server": [
            str(BIN / "dagster"), "api", "grpc", "-h", "127.0.0.1", "-p", str(grpc_port),
            "-m", "kalshi_wx.definitions", "-a", "defs", "--location-name", LOCATION,
        ],
        "daemon": [str(BIN / "dagster-daemon"), "run", "-w", str(layout.workspace)],
        "webserver": [
            str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(ui_port), "-w", str(layout.workspace),
        ],
    }  # fmt: skip


# --- processes -----------------------------------------------------------------------------------------


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def alive(pid: int) -> bool:
    """Running (a zombie has exited: only its parent has not collected it yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group: a process started here and whatever it started (run workers)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def stop_group(name: str, pgid: int, grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM to the process group started for ``name``, SIGKILL to what is left after ``grace_s``."""
    if not group_members(pgid):
        return
    print(f"stopping {name} (process group {pgid})", flush=True)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if group_members(pgid):
        print(f"{name}: still running after {grace_s:g} s, killing", flush=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


def wait_until(what: str, ready: Callable[[], bool], processes: dict[str, subprocess.Popen], layout: Layout) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while not ready():
        for name, process in processes.items():
            if process.poll() is not None:
                log = layout.logs / f"{name}.log"
                raise ProdLocalError(f"{name} exited ({process.returncode}) while waiting for {what}: see {log}")
        if time.monotonic() > deadline:
            raise ProdLocalError(f"{what}: not healthy after {HEALTH_TIMEOUT_S:g} s (logs in {layout.logs})")
        time.sleep(1.0)


def _succeeds(command: list[str], env: dict[str, str]) -> Callable[[], bool]:
    def check() -> bool:
        result = subprocess.run(command, env=env, capture_output=True, timeout=120)
        return result.returncode == 0

    return check


def _answers(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    return check


def check_port_free(variable: str, port: int) -> None:
    """Refuse before starting anything: a process that cannot bind would only fail later, in its log."""
    with socket.socket() as probe:
        # As the servers bind: a port left in TIME_WAIT by the previous run is free, a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ProdLocalError(f"{variable}={port}: 127.0.0.1:{port} is in use ({exc.strerror})") from None


def running(layout: Layout) -> dict[str, int]:
    """What a previous `start` left running, by name: itself (the supervisor) and its process groups."""
    found = {}
    supervisor = read_pid(layout.pid_file("supervisor"))
    # A pid file outliving its process may name an unrelated one by now: check it is this script.
    if supervisor is not None and alive(supervisor) and __file__ in _cmdline(supervisor):
        found["supervisor"] = supervisor
    for name in PROCESSES:
        pid = read_pid(layout.pid_file(name))
        if pid is not None and group_members(pid):
            found[name] = pid
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""


def start(layout: Layout, server_url: str, prefix: str, ui_port: int, grpc_port: int) -> int:
    if left := running(layout):
        listed = ", ".join(f"{name} {pid}" for name, pid in left.items())
        raise ProdLocalError(f"already running ({listed}): stop it first with `make prod-local-stop`")
    for variable, port in (("PROD_LOCAL_UI_PORT", ui_port), ("PROD_LOCAL_GRPC_PORT", grpc_port)):
        check_port_free(variable, port)
    ensure_databases(server_url, [f"{prefix}_dagster", f"{prefix}_warehouse"])
    prepare(layout, grpc_port)
    env = environment(layout, server_url, prefix)
    layout.pid_file("supervisor").write_text(f"{os.getpid()}\n")
    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop_all(signum: int = 0, frame: object = None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for name in reversed(list(processes)):
            stop_group(name, processes[name].pid)
        for name, process in processes.items():
            process.wait()
            layout.pid_file(name).unlink(missing_ok=True)
        layout.pid_file("supervisor").unlink(missing_ok=True)
        print("stopped every process", flush=True)

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    # Started in the background by a shell, this process ignores SIGINT, and so would its children:
    # the code server maps SIGTERM to its SIGINT handler, so it would ignore the stop request too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        checks = {
            "code_server": (
                f"the code server on 127.0.0.1:{grpc_port}",
                _succeeds([str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(grpc_port)], env),
            ),
            "daemon": ("the daemon's heartbeat", _succeeds([str(BIN / "dagster-daemon"), "liveness-check"], env)),
            "webserver": (
                f"the webserver on 127.0.0.1:{ui_port}",
                _answers(f"http://127.0.0.1:{ui_port}/server_info"),
            ),
        }
        for name, command in commands(layout, ui_port, grpc_port).items():
            with (layout.logs / f"{name}.log").open("ab") as log:
                # A session of its own: a stop reaches the process and what it starts (the runs).
                processes[name] = subprocess.Popen(
                    command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            layout.pid_file(name).write_text(f"{processes[name].pid}\n")
            what, ready = checks[name]
            print(f"started {name} (pid {processes[name].pid}); waiting for {what}", flush=True)
            wait_until(what, ready, processes, layout)
        print(f"Dagster UI: http://127.0.0.1:{ui_port}", flush=True)
        print(f"instance:  {layout.dagster_home} (storage: PostgreSQL database {env['DAGSTER_PG_DB']})")
        print(f"warehouse: {_display(env['KALSHI_WX_WAREHOUSE_URL'])}")
        print(f"logs:      {layout.logs}")
        print("ready: Ctrl-C or `make prod-local-stop` stops every process", flush=True)
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    raise ProdLocalError(f"{name} exited with code {process.returncode}: see {layout.logs / name}.log")
            time.sleep(1.0)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second stop request does not interrupt this one
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_all()


def stop(layout: Layout, timeout_s: float = 3 * STOP_GRACE_S + 30) -> int:
    """Ask `start` to stop (it stops its processes in order), then stop whatever a killed `start` left."""
    left = running(layout)
    if not left:
        print(f"nothing running (no live pid in {layout.pids})")
        return 0
    if supervisor := left.pop("supervisor", None):
        os.kill(supervisor, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while alive(supervisor) and time.monotonic() < deadline:
            time.sleep(0.2)
    for name in reversed(PROCESSES):
        if (pid := left.get(name)) is not None:
            stop_group(name, pid)
        layout.pid_file(name).unlink(missing_ok=True)
    layout.pid_file("supervisor").unlink(missing_ok=True)
    print("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="prod_local.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--state-dir", type=Path, default=default_state_dir(), help="($KALSHI_WX_HOME/prod_local)")
    args = parser.parse_args(argv)
    layout = Layout(args.state_dir.resolve())
    try:
        if args.action == "stop":
            return stop(layout)
        return start(
            layout,
            server_url=os.environ.get("PROD_LOCAL_PG_URL", "postgresql://postgres@127.0.0.1:5432"),
            prefix=os.environ.get("PROD_LOCAL_DB_PREFIX", "kalshi_wx_local"),
            ui_port=int(os.environ.get("PROD_LOCAL_UI_PORT", "3000")),
            grpc_port=int(os.environ.get("PROD_LOCAL_GRPC_PORT", "4000")),
        )
    except ProdLocalError as exc:
        print(f"prod-local: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
