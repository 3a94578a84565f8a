"""``kalshi-wx doctor`` against real components: the Kalshi fake checking signatures, a DuckDB file held
by another process, Dagster instances on SQLite and PostgreSQL with and without a real daemon."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshi_wx.cli.doctor import run_doctor
from kalshi_wx.defs.settings import REPO_ROOT
from kalshi_wx.sources.loopback import LoopbackServer, Response
from kalshi_wx_tests.conftest import fresh_postgres_database
from kalshi_wx_tests.fakes import FakeKalshi

KEY_ID = "5f0c2a8e-7d3b-4c1e-9a6f-0b8d2e4c6a1f"
VC_KEY = "vc-doctor-secret-31c4"


@pytest.fixture(scope="module")
def account_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def kalshi(account_key) -> Iterator[FakeKalshi]:
    with FakeKalshi(public_key=account_key.public_key()) as server:
        yield server


@pytest.fixture(scope="module")
def nws() -> Iterator[LoopbackServer]:
    with LoopbackServer(lambda request: Response.json({"@graph": []})) as server:
        yield server


def _pem(path: Path, key: rsa.RSAPrivateKey) -> str:
    text = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(text)
    path.chmod(0o600)
    return text


def _doctor() -> tuple[int, list[str]]:
    lines: list[str] = []
    return run_doctor(lines.append), lines


def _line(lines: list[str], name: str) -> str:
    [line] = [line for line in lines if line.split("] ", 1)[-1].startswith(f"{name}:")]
    return line


@pytest.fixture
def live_keys(kalshi, nws, kalshi_wx_home, tmp_path, monkeypatch):
    """Live sources pointed at the fakes, keys set; returns ``use_key(private_key) -> PEM text``."""
    kalshi.reset()
    monkeypatch.setenv("KALSHI_WX_SOURCES", "live")
    monkeypatch.setenv("KALSHI_API_BASE", kalshi.base_url)
    monkeypatch.setenv("NWS_API_BASE", nws.url)
    monkeypatch.setenv("KALSHI_API_KEY_ID", KEY_ID)
    monkeypatch.setenv("VISUAL_CROSSING_API_KEY", VC_KEY)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "no_instance"))

    def use_key(key: rsa.RSAPrivateKey) -> str:
        pem = tmp_path / "kalshi.pem"
        monkeypatch.setenv("KALSHI_PRIVATE_KEY_PATH", str(pem))
        return _pem(pem, key)

    return use_key


def _assert_no_secret(lines: list[str], pem: str) -> None:
    text = "\n".join(lines)
    body = "".join(pem.splitlines()[1:-1])
    assert KEY_ID not in text and VC_KEY not in text
    assert not any(chunk in text for chunk in pem.splitlines()[1:-1]) and body not in text


def test_a_right_key_reads_the_balance_with_one_signed_call(live_keys, account_key, kalshi):
    pem = live_keys(account_key)
    kalshi.balance = {"balance": 123456, "balance_dollars": "1234.5600", "portfolio_value": 0}
    code, lines = _doctor()
    assert code == 0, lines
    assert _line(lines, "kalshi signed read") == "[  ok] kalshi signed read: GET /portfolio/balance: balance $1,234.56"
    [call] = kalshi.calls_to("/portfolio/balance")
    assert call.status == 200 and call.headers["kalshi-access-key"] == KEY_ID  # signed, and verified
    assert lines[-1] == "all good"
    _assert_no_secret(lines, pem)


def test_a_well_formed_wrong_key_is_reported_as_rejected(live_keys, kalshi):
    pem = live_keys(rsa.generate_private_key(public_exponent=65537, key_size=2048))  # not the account's
    code, lines = _doctor()
    assert code == 1
    line = _line(lines, "kalshi signed read")
    assert line.startswith("[FAIL] kalshi signed read: kalshi GET /portfolio/balance: HTTP 401")
    assert "key 5f0c… and its PEM are set but Kalshi rejected them" in line
    assert _line(lines, "KALSHI_PRIVATE_KEY_PATH").startswith("[  ok]")  # the file itself is a fine key
    assert [c.status for c in kalshi.calls_to("/portfolio/balance")] == [401]  # a 401 is not retried
    _assert_no_secret(lines, pem)


def test_in_sim_mode_keys_are_not_sent_anywhere(live_keys, account_key, kalshi, monkeypatch):
    live_keys(account_key)
    monkeypatch.setenv("KALSHI_WX_SOURCES", "sim")
    code, lines = _doctor()
    assert code == 0, lines
    assert "not tried: sources are sim" in _line(lines, "kalshi signed read")
    assert kalshi.calls == []


def test_a_warehouse_file_held_by_another_process_is_named_with_its_pid(kalshi_wx_home, hold_duckdb, monkeypatch):
    monkeypatch.setenv("KALSHI_WX_SOURCES", "sim")
    monkeypatch.setenv("DAGSTER_HOME", str(kalshi_wx_home / "no_instance"))
    path = kalshi_wx_home / "warehouse.duckdb"
    notebook = hold_duckdb(path)
    code, lines = _doctor()
    assert code == 1
    line = _line(lines, "warehouse")
    assert line.startswith(f"[FAIL] warehouse: DuckDB file {path} is locked by ")
    assert f"(PID {notebook.pid}): DuckDB admits one writing process" in line
    notebook.release()
    code, lines = _doctor()
    assert code == 0 and _line(lines, "warehouse") == f"[  ok] warehouse: duckdb://{path}: 0 tables"


def test_a_laptop_instance_needs_no_daemon(kalshi_wx_home, monkeypatch):
    monkeypatch.setenv("KALSHI_WX_SOURCES", "sim")
    home = kalshi_wx_home / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    code, lines = _doctor()
    assert _line(lines, "dagster") == f"[  ok] dagster: {home}: no instance yet (the first demo or backfill creates it)"
    home.mkdir()
    shutil.copy(REPO_ROOT / "config" / "dagster.local.yaml", home / "dagster.yaml")
    code, lines = _doctor()
    assert code == 0, lines
    assert _line(lines, "dagster") == f"[  ok] dagster: {home} (SQLite storage): 0 runs"
    assert _line(lines, "dagster-daemon").startswith("[  ok] dagster-daemon: not running")


# -- the production instance (docker/dagster.yaml) on PostgreSQL ------------------------------------------


@pytest.fixture
def served_instance(kalshi_wx_home, tmp_path, monkeypatch) -> Iterator[Path]:
    """DAGSTER_HOME holding docker/dagster.yaml, its storage a fresh database on the test PostgreSQL server."""
    with fresh_postgres_database() as url:
        parts = urlsplit(url)
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(REPO_ROOT / "docker" / "dagster.yaml", home / "dagster.yaml")
        environment = {
            "DAGSTER_HOME": str(home),
            "DAGSTER_PG_HOST": parts.hostname or "127.0.0.1",
            "DAGSTER_PG_PORT": str(parts.port or 5432),
            "DAGSTER_PG_USER": parts.username or "postgres",
            "DAGSTER_PG_PASSWORD": parts.password or "",
            "DAGSTER_PG_DB": parts.path.lstrip("/"),
            "DAGSTER_COMPUTE_LOGS_DIR": str(tmp_path / "compute_logs"),
            "KALSHI_WX_SOURCES": "sim",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        yield home


@pytest.mark.postgres
def test_a_served_instance_without_a_daemon_fails_and_with_one_passes(served_instance, tmp_path):
    code, lines = _doctor()
    assert code == 1
    assert _line(lines, "dagster") == f"[  ok] dagster: {served_instance} (PostgreSQL storage): 0 runs"
    assert _line(lines, "dagster-daemon").startswith("[FAIL] dagster-daemon: no heartbeat on this served instance")

    workspace = tmp_path / "workspace.yaml"
    workspace.write_text("load_from: []\n")  # heartbeats need no code location
    daemon = subprocess.Popen(
        [Path(sys.executable).parent / "dagster-daemon", "run", "-w", str(workspace)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    try:
        with dg.DagsterInstance.get() as instance:
            deadline = time.monotonic() + 120
            while not all(s.healthy for s in instance.get_daemon_statuses().values()):
                assert daemon.poll() is None, "dagster-daemon exited"
                assert time.monotonic() < deadline, "no heartbeat from dagster-daemon within 120 s"
                time.sleep(0.5)
        code, lines = _doctor()
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    assert code == 0, lines
    daemons = _line(lines, "dagster-daemon")
    assert daemons.startswith("[  ok] dagster-daemon: 7 daemons alive")  # run monitoring and the queue among them


@pytest.mark.postgres
def test_unreachable_instance_storage_is_one_line(served_instance, monkeypatch, capfd):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound but never listening: connections are refused
        monkeypatch.setenv("DAGSTER_PG_PORT", str(closed.getsockname()[1]))
        code, lines = _doctor()
    assert code == 1
    line = _line(lines, "dagster")
    where = served_instance / "dagster.yaml"
    assert line.startswith(f"[FAIL] dagster: {where}: storage unreachable after 6 attempts: OperationalError: ")
    assert "Connection refused" in line and "Retrying" not in capfd.readouterr().err
