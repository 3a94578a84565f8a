"""The dbt feature panels (``dbt_features/``) as Dagster assets, one (city, climate day) per run.

The dbt profile target and its connection come from the warehouse URL, in ``dbt_connection``:
``duckdb://`` runs target ``local`` on that file, ``postgresql://`` runs target ``prod``. dbt
reads them from ``KALSHI_WX_*`` environment variables that exist only while a dbt command
starts, so two warehouses in one process (tests) never leak into each other.

No `from __future__ import annotations` here: Dagster validates the `context` annotation.
"""

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from filelock import FileLock
from packaging.version import Version

from kalshi_wx.config import cities
from kalshi_wx.defs.assets.common import OWNERS
from kalshi_wx.defs.partitions import city_and_date, city_date_partitions
from kalshi_wx.defs.resources import WAREHOUSE_POOL, storage_kind
from kalshi_wx.warehouse.backends import DuckDBBackend, PostgresBackend, backend_from_url
from kalshi_wx.warehouse.resource import Warehouse, default_warehouse_url

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_features"
FEATURES_GROUP = "features"
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


def dbt_vars(city: str, climate_date: date) -> dict[str, str]:
    """``--vars`` of a partition's dbt build. The models splice them into SQL, so only known values pass."""
    if city not in cities():
        raise ValueError(f"unknown city {city!r}; configured: {', '.join(cities())}")
    if not isinstance(climate_date, date):
        raise TypeError(f"climate_date must be a date, got {climate_date!r}")
    return {"city": city, "date": climate_date.isoformat()}


@contextmanager
def _environ(overrides: Mapping[str, str]) -> Iterator[None]:
    # DbtCliResource has no env argument: it copies os.environ into the dbt subprocess and reads
    # the profile from it for its in-process adapter handle, both when `cli` is called.
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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
        result = subprocess.run(
            [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(project.project_dir),
             "--profiles-dir", str(project.profiles_dir), "--target", project.target,
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


class WarehouseDbtCliResource(DbtCliResource):
    """dbt CLI pointed at the platform's warehouse: its connection is derived from the Warehouse URL."""

    warehouse: Warehouse

    @cached_property
    def _cli_version(self) -> Version:
        # dagster-dbt asks `dbt --version` (a 2 s subprocess) once per resource instance, i.e. once
        # per run; DBT_EXECUTABLE is the entry point of the dbt-core installed with this package.
        return Version(installed_version("dbt-core"))

    def cli(self, args: Sequence[str], **kwargs: Any):
        with _environ(dbt_connection(self.warehouse.url).env):
            return super().cli(args, **kwargs)


def dbt_cli_resource(warehouse: Warehouse) -> WarehouseDbtCliResource:
    """The ``dbt`` resource for ``warehouse``."""
    return WarehouseDbtCliResource(
        project_dir=dbt_project,
        target=dbt_connection(warehouse.url).target,
        dbt_executable=DBT_EXECUTABLE,
        warehouse=warehouse,
    )


class FeaturesTranslator(DagsterDbtTranslator):
    """dbt model ``x`` is asset ``features/x`` in group ``features``, like the warehouse tables' keys."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            return dg.AssetKey([FEATURES_GROUP, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return FEATURES_GROUP

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        # The one-line description from schema.yml, without the raw SQL dagster-dbt appends.
        return dbt_resource_props["description"]

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        return OWNERS

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        # dagster-dbt takes the kind from the adapter that last parsed the manifest; the warehouse decides it.
        return super().get_asset_spec(manifest, unique_id, project).replace_attributes(kinds={"dbt", storage_kind()})


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="dbt_features",
    partitions_def=city_date_partitions,
    pool=WAREHOUSE_POOL,
    dagster_dbt_translator=FeaturesTranslator(),
)
def dbt_features_assets(context: dg.AssetExecutionContext, dbt: WarehouseDbtCliResource):
    # dagster-dbt turns the selected subset into --select, so a run can build minute_panel, then
    # the Python PMFs, then minute_panel_full; each dbt test reports as an asset check.
    city, day = city_and_date(context.partition_key)
    args = ["build", "--vars", json.dumps(dbt_vars(city, day))]
    # dagster-dbt would keep every invocation's artifacts (~2 MB) under dbt_features/target, which a
    # backfill turns into gigabytes; dbt's errors still reach the step failure and the event log.
    with tempfile.TemporaryDirectory(prefix="dbt_features-") as target_path:
        yield from dbt.cli(args, context=context, target_path=Path(target_path)).stream()
