"""The layers of docs/ARCHITECTURE.md hold: the import contract passes, and breaks on a wrong-way import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the repo's contracts, on the copy of the package under ``root``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(REPO / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("contract")
    shutil.copytree(REPO / "kalshi_wx", root / "kalshi_wx", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_package_keeps_its_contracts(package_copy):
    result = _lint(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "reported"),
    [
        ("core/climate_day.py", "import duckdb", "kalshi_wx.core.climate_day -> duckdb"),
        ("core/brackets.py", "import dagster", "kalshi_wx.core.brackets -> dagster"),
        ("core/fees.py", "import kalshi_wx.warehouse.schemas", "kalshi_wx.core.fees -> kalshi_wx.warehouse.schemas"),
        ("warehouse/backends.py", "import kalshi_wx.defs.settings", "kalshi_wx.warehouse.backends -> kalshi_wx.defs"),
        ("sources/http.py", "import kalshi_wx.warehouse.resource", "kalshi_wx.sources.http -> kalshi_wx.warehouse"),
    ],
)
def test_a_wrong_way_import_breaks_the_contract(tmp_path, package_copy, module, line, reported):
    root = tmp_path / "broken"
    shutil.copytree(package_copy, root)
    path = root / "kalshi_wx" / module
    path.write_text(f"{path.read_text()}\n{line}\n")
    result = _lint(root)
    assert result.returncode != 0
    assert reported in result.stdout, result.stdout
