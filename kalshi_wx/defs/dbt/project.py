"""The dbt project ``dbt_features/``: where it is, its profile target for a warehouse, its manifest.

The dbt profile target and its connection come from the warehouse URL, in ``dbt_connection``:
``duckdb://`` runs target ``local`` on that file, ``postgresql://`` runs target ``prod``. dbt
reads them from ``KALSHI_WX_*`` environment variables that exist only while a dbt command
starts, so two warehouses in one process (tests) never leak into each other.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from dagster_dbt import DbtProject
from filelock import FileLock

from kalshi_wx.defs.settings import default_warehouse_url, settings
from kalshi_wx.warehouse.backends import DuckDBBackend, PostgresBackend, backend_from_url

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_features"
# dbt-core is our dependency, installed next to this interpreter; a venv is often not on PATH (make test).
_VENV_DBT = Path(sys.executable).parent / "dbt"
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else (shutil.which("dbt") or "dbt")
# What `dbt parse` reads: a change to any of these makes the manifest stale.
_PROJECT_INPUTS = ("dbt_project.yml", "models", "macros", "tests")


@dataclass(frozen=True)
class DbtConnection:
    """The profiles.yml target for a warehouse and the environment its profile reads."""

    target: str
    env: Mapping[str, str] = field(repr=False)  # holds the PostgreSQL password


def dbt_connection(warehouse_url: str) -> DbtConnection:
    """Target and ``KALSHI_WX_*`` variables for ``warehouse_url``, interpreted as the warehouse itself does."""
    backend = backend_from_url(warehouse_url)
    if isinstance(backend, DuckDBBackend):
        return DbtConnection("local", {"KALSHI_WX_DUCKDB_PATH": str(backend.path)})
    if isinstance(backend, PostgresBackend):
        parts = urlsplit(backend.dsn)
        env = {
            "KALSHI_WX_PG_HOST": parts.hostname or "127.0.0.1",
            "KALSHI_WX_PG_PORT": str(parts.port or 5432),
            "KALSHI_WX_PG_USER": unquote(parts.username or "postgres"),
            "KALSHI_WX_PG_PASSWORD": unquote(parts.password or ""),
            "KALSHI_WX_PG_DB": unquote(parts.path.lstrip("/")) or "postgres",
            "KALSHI_WX_PG_SSLMODE": parse_qs(parts.query).get("sslmode", ["prefer"])[0],
        }
        return DbtConnection("prod", env)
    raise ValueError(f"dbt has no profile target for a {backend.kind} warehouse ({backend.display_url})")


def dbt_vars(partitions: Iterable[tuple[str, date]]) -> dict[str, list[dict[str, str]]]:
    """``--vars`` of one dbt build over a run's partitions: per city, inclusive runs of consecutive days.

    A backfill batch is a range of days, so its slices are few whatever its length. The models splice
    the values into SQL, so only configured cities and real dates pass.
    """
    days_by_city: dict[str, set[date]] = {}
    for city, climate_date in partitions:
        if city not in settings().cities:
            raise ValueError(f"unknown city {city!r}; configured: {', '.join(settings().cities)}")
        if not isinstance(climate_date, date):
            raise TypeError(f"climate_date must be a date, got {climate_date!r}")
        days_by_city.setdefault(city, set()).add(climate_date)
    if not days_by_city:
        raise ValueError("a dbt build needs at least one (city, climate_date) partition")
    slices = []
    for city, days in sorted(days_by_city.items()):
        ordered = sorted(days)
        first = previous = ordered[0]
        for day in [*ordered[1:], None]:
            if day is not None and day == previous + timedelta(days=1):
                previous = day
                continue
            slices.append({"city": city, "first": first.isoformat(), "last": previous.isoformat()})
            if day is not None:
                first = previous = day
    return {"slices": slices}


def manifest_is_current(project: DbtProject) -> bool:
    if not project.manifest_path.exists():
        return False
    built = project.manifest_path.stat().st_mtime
    for name in _PROJECT_INPUTS:
        path = project.project_dir / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        if any(f.stat().st_mtime > built for f in files):
            return False
    return True


def prepare_manifest(project: DbtProject) -> None:
    """Run ``dbt parse`` (no database connection) when the manifest is missing or older than the project.

    Definitions need the manifest at import time and it is not committed, so a fresh clone, CI and
    a model edit under ``dagster dev`` all land here; otherwise this is one stat per project file.
    """
    if manifest_is_current(project):
        return
    project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    # The webserver, daemon and code server import at once: one parses, the others find it current.
    with FileLock(f"{project.manifest_path}.lock"):
        if manifest_is_current(project):
            return
        log.info("dbt manifest %s is missing or stale: running `dbt parse`", project.manifest_path)
        started = time.monotonic()
        target = ["--target", project.target] if project.target is not None else []  # else the profile's default
        result = subprocess.run(
            [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(project.project_dir),
             "--profiles-dir", str(project.profiles_dir), *target,
             "--target-path", str(project.project_dir / project.target_path)],
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            capture_output=True,
            text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"`dbt parse` of {project.project_dir} failed:\n{result.stdout}{result.stderr}")
        log.info("dbt parse wrote %s in %.1fs", project.manifest_path, time.monotonic() - started)


dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=dbt_connection(default_warehouse_url()).target
)
prepare_manifest(dbt_project)
