"""What a user meets when something is wrong: the real ``kalshi-wx`` console script, as a subprocess.

A user error is one line on stderr naming what is wrong, exit code 2, nothing written (no warehouse,
no Dagster instance, so no failed run in the UI); a traceback only with ``--verbose``. A run that
fails prints, per failed partition, the key, the run id and the root cause.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from kalshi_wx.defs.settings import CONFIG_DIR, REPO_ROOT

KALSHI_WX = Path(sys.executable).parent / "kalshi-wx"
# Variables of the developer's shell that would change what these commands do.
SCRUBBED = (
    "KALSHI_WX_SOURCES",
    "KALSHI_API_KEY_ID",
    "KALSHI_PRIVATE_KEY_PATH",
    "VISUAL_CROSSING_API_KEY",
    "KALSHI_WX_WAREHOUSE_URL",
    "KALSHI_WX_CONFIG_DIR",
    "DAGSTER_HOME",
)


@pytest.fixture
def home(tmp_path) -> Path:
    """KALSHI_WX_HOME, not created: a refused command must leave it so."""
    return tmp_path / "home"


def kalshi_wx(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    # Run from an empty directory so no .env of the developer's is read.
    cwd = home.parent / "cwd"
    cwd.mkdir(exist_ok=True)
    # The package under test, whichever checkout the console script was installed from.
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    environment.update(KALSHI_WX_HOME=str(home), PYTHONPATH=path, **env)
    return subprocess.run(
        [str(KALSHI_WX), *args], env=environment, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def assert_refused(result: subprocess.CompletedProcess, home: Path, *expected: str) -> str:
    """One line on stderr containing ``expected``, exit code 2, and nothing written under ``home``."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    for text in expected:
        assert text in lines[0], lines[0]
    assert not home.exists(), sorted(home.rglob("*"))
    return lines[0]


@pytest.fixture
def broken_config(tmp_path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    (config / "cities.yaml").write_text("cities:\n  - key: nyc\n    series: [KXHIGHNY\n")
    return config


def test_help_and_doctor_work_with_a_broken_cities_file(home, broken_config):
    env = {"KALSHI_WX_CONFIG_DIR": str(broken_config), "DAGSTER_HOME": str(home / "dagster_home")}
    help_text = kalshi_wx(home, "--help", **env)
    assert help_text.returncode == 0 and "backfill" in help_text.stdout and help_text.stderr == ""
    report_help = kalshi_wx(home, "report", "--help", **env)
    assert report_help.returncode == 0 and "--city CITY" in report_help.stdout

    doctor = kalshi_wx(home, "doctor", **env)
    assert doctor.returncode == 1 and "Traceback" not in doctor.stderr, doctor.stderr
    lines = doctor.stdout.splitlines()
    where = f"{broken_config / 'cities.yaml'}: line 4, column 1: not valid YAML"
    assert [line for line in lines if line.startswith("[FAIL] config: ")] == [
        f"[FAIL] config: {where}: while parsing a flow sequence expected ',' or ']', but got '<stream end>'"
    ]
    assert "[FAIL] keys: not checked: needs the config above" in lines
    assert lines[-1].endswith("problem(s)")

    # A command that needs the cities says the same, in one line.
    backfill = kalshi_wx(home, "backfill", "--cities", "nyc", "--start", "2026-06-01", "--end", "2026-06-01", **env)
    assert_refused(backfill, home, f"kalshi-wx backfill: error: {where}")


def test_an_unknown_source_mode_is_one_line(home):
    result = kalshi_wx(
        home, "backfill", "--cities", "nyc", "--start", "2026-06-01", "--end", "2026-06-01", KALSHI_WX_SOURCES="bogus"
    )
    assert_refused(result, home, "KALSHI_WX_SOURCES='bogus': expected 'sim', 'live' or 'replay'")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("backfill", "--cities", "nyc", "--start", "2026-06-03", "--end", "2026-06-01"), "--end 2026-06-01 is before"),
        (("report", "--city", "nyc", "--start", "2026-06-03", "--end", "2026-06-01"), "--end 2026-06-01 is before"),
        (
            ("backfill", "--cities", "nyc", "--start", "2025-01-03", "--end", "2025-01-04", "--warmup-days", "5"),
            "less --warmup-days 5 (2024-12-29) is before the first climate-day partition 2025-01-01",
        ),
        (("report", "--city", "nyc", "--start", "2026-06-01", "--end", "2999-01-01"), "--end 2999-01-01 is after"),
        (("report", "--city", "bos", "--start", "2026-06-01", "--end", "2026-06-01"), "--city: unknown city bos"),
        (("backfill", "--cities", "nyc", "--start", "2026-13-01", "--end", "2026-06-01"), "'2026-13-01' is not a date"),
    ],
)
def test_bad_arguments_are_refused_before_any_run(home, args, expected):
    line = assert_refused(kalshi_wx(home, *args), home, expected)
    assert line.startswith(f"kalshi-wx {args[0]}: error: ")


def test_a_bad_private_key_path_names_the_path(home, tmp_path):
    pem = tmp_path / "keys" / "kalshi.pem"
    result = kalshi_wx(
        home,
        "backfill",
        "--cities",
        "nyc",
        "--start",
        "2026-06-01",
        "--end",
        "2026-06-01",
        KALSHI_WX_SOURCES="live",
        KALSHI_API_KEY_ID="5f0c2a8e-7d3b-4c1e-9a6f-0b8d2e4c6a1f",
        KALSHI_PRIVATE_KEY_PATH=str(pem),
    )
    line = assert_refused(result, home, f"KALSHI_PRIVATE_KEY_PATH={pem}: cannot read (No such file or directory)")
    assert "5f0c2a8e" not in line  # the key id is a secret


def test_verbose_shows_the_traceback(home):
    result = kalshi_wx(home, "--verbose", "report", "--city", "nyc", "--start", "2026-06-03", "--end", "2026-06-01")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "UsageError: --end 2026-06-01 is before --start" in result.stderr


def test_a_failed_run_prints_the_root_cause_with_its_run_id(home, hold_duckdb):
    home.mkdir()
    notebook = hold_duckdb(home / "warehouse.duckdb")  # another process holds the warehouse
    # A report's run is in process (a backfill's are the daemon's): it fails reading the held file.
    result = kalshi_wx(
        home,
        "report",
        "--city",
        "nyc",
        "--start",
        "2026-06-01",
        "--end",
        "2026-06-01",
        KALSHI_WX_SOURCES="sim",
        KALSHI_WX_DUCKDB_LOCK_TIMEOUT="0",
    )
    assert result.returncode == 2, result.stderr  # a report that cannot be written is exit 2, as before
    [line] = result.stderr.splitlines()
    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        [run] = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert line.startswith(f"error: nyc (run {run.run_id}): backtest__backtest_range_report: WarehouseLockedError: ")
    assert f"(PID {notebook.pid})" in line and "Error occurred while executing" not in line
    assert "Traceback" not in result.stdout
