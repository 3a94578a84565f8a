"""The shared-data rule of conftest.py, run on a copy of that conftest in a throwaway project.

Tests that read ../shared/data/real (through ``real_data``, or marked ``shared_data``) are deselected with a
notice when it is absent, fail the run in CI, and run when it is present.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parent / "conftest.py"
TESTS = """
import pytest


def test_reads_the_shared_folder(real_data):
    assert (real_data / "marker.txt").read_text() == "real"


def test_reads_it_through_real_markets(real_markets):
    assert real_markets == [{"ticker": "KXHIGHNY-26JUN01-B70.5"}]


@pytest.mark.shared_data
def test_marked_by_hand():
    pass


def test_repository_data(test_data):
    assert test_data.name == "data"
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\nmarkers =\n    shared_data: x\n")
    pytester.makepyfile(test_project=TESTS)
    monkeypatch.delenv("CI", raising=False)
    return pytester


def _missing(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    missing = project.path / "shared" / "data" / "real"
    monkeypatch.setenv("KALSHI_WX_REAL_DATA", str(missing))
    return missing


def test_absent_shared_data_deselects_its_tests_with_a_notice(project, monkeypatch):
    missing = _missing(project, monkeypatch)
    result = project.runpytest("-v")
    result.assert_outcomes(passed=1, deselected=3)
    result.stdout.fnmatch_lines(["*::test_repository_data PASSED*"])
    result.stdout.fnmatch_lines(
        [f"3 tests need $KALSHI_WX_REAL_DATA (not found at {missing}; set KALSHI_WX_REAL_DATA): deselected"]
    )
    assert "SKIPPED" not in result.stdout.str()


def test_absent_shared_data_fails_at_once_in_ci(project, monkeypatch):
    _missing(project, monkeypatch)
    monkeypatch.setenv("CI", "true")
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: 3 tests need $KALSHI_WX_REAL_DATA (not found at *): CI runs every test*"])
    result.assert_outcomes()  # nothing ran


def test_in_ci_only_the_selected_tests_need_it(project, monkeypatch):
    _missing(project, monkeypatch)
    monkeypatch.setenv("CI", "true")
    result = project.runpytest("-m", "not shared_data")
    result.assert_outcomes(passed=1, deselected=3)
    assert "tests need" not in result.stdout.str()


def test_present_shared_data_runs_every_test(project, monkeypatch):
    real = project.mkdir("real")
    (real / "marker.txt").write_text("real")
    markets = real / "kalshi" / "ericzzhang27_Kalshi-Weather-Trading"
    markets.mkdir(parents=True)
    (markets / "market_discovery_raw_KXHIGHNY_26JUN01-02.json").write_text('[{"ticker": "KXHIGHNY-26JUN01-B70.5"}]')
    monkeypatch.setenv("KALSHI_WX_REAL_DATA", str(real))
    monkeypatch.setenv("CI", "true")
    result = project.runpytest()
    result.assert_outcomes(passed=4)
    assert "tests need" not in result.stdout.str()
