"""The ``dbt`` resource: dbt's CLI pointed at the platform's warehouse."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as installed_version
from typing import Any

from dagster_dbt import DbtCliResource
from packaging.version import Version

from kalshi_wx.defs.dbt.project import DBT_EXECUTABLE, dbt_connection, dbt_project
from kalshi_wx.warehouse.resource import Warehouse


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
    # At run time the inherited DbtCliResource.__init__ takes a DbtProject (and its profiles dir, target,
    # state path); mypy types this subclass's __init__ from its fields (dagster's dataclass_transform): str.
    return WarehouseDbtCliResource(
        project_dir=dbt_project,  # type: ignore[arg-type]
        target=dbt_connection(warehouse.url).target,
        dbt_executable=DBT_EXECUTABLE,
        warehouse=warehouse,
    )
