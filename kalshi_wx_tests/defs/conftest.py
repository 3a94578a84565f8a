"""Five simulated days of the daily graph for one city, shared by the model and backtest asset tests."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from kalshi_wx.definitions import build_definitions
from kalshi_wx.defs.resources import build_resources
from kalshi_wx.defs.runs import partition_keys, run_partitions, run_series
from kalshi_wx.warehouse.resource import Warehouse

CITY, FIRST, LAST = "aus", date(2026, 6, 1), date(2026, 6, 5)
MODEL = dg.AssetKey(["models", "cross_bracket_model"])
METRICS_ASSET, ARTIFACTS_ASSET = dg.AssetKey(["models", "metrics"]), dg.AssetKey(["models", "artifacts"])
# Training writes the model, its scores and its artifact row in one step: the keys are materialized together.
TRAINING = [MODEL, METRICS_ASSET, ARTIFACTS_ASSET]


@contextlib.contextmanager
def _home(path: Path) -> Iterator[None]:
    # Set only while a run executes, so the session-long fixture does not leak it into other tests.
    before = os.environ.get("KALSHI_WX_HOME")
    os.environ["KALSHI_WX_HOME"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("KALSHI_WX_HOME", None)
        else:
            os.environ["KALSHI_WX_HOME"] = before


@dataclass
class SimDays:
    """A warehouse and instance holding the daily graph of CITY for FIRST..LAST (and 3 days of weather before)."""

    home: Path
    warehouse: Warehouse
    defs: dg.Definitions
    instance: dg.DagsterInstance

    def materialize(
        self, keys: Sequence[dg.AssetKey], partition_key: str | dg.MultiPartitionKey, ops: dict | None = None
    ) -> dg.ExecuteInProcessResult:
        run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
        if ops:
            run_config["ops"] = {op: {"config": config} for op, config in ops.items()}
        with _home(self.home):
            return self.defs.resolve_implicit_global_asset_job_def().execute_in_process(
                partition_key=partition_key,
                asset_selection=list(keys),
                instance=self.instance,
                run_config=run_config,
                raise_on_error=False,
            )

    def train(self, start: date, end: date) -> dg.ExecuteInProcessResult:
        window = {"start": start.isoformat(), "end": end.isoformat()}
        return self.materialize(TRAINING, CITY, {"models__cross_bracket_model": window})


def step_errors(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]


@pytest.fixture(scope="session")
def sim_days(tmp_path_factory) -> Iterator[SimDays]:
    home = tmp_path_factory.mktemp("sim_days_home")
    with dg.DagsterInstance.ephemeral() as instance:
        with _home(home):
            resources = build_resources(mode="sim", warehouse_url=f"duckdb://{home / 'warehouse.duckdb'}")
            defs = build_definitions(resources)
            assert run_series(defs, instance)
            warmup = partition_keys([CITY], FIRST - timedelta(days=3), FIRST - timedelta(days=1))
            assert all(o.success for o in run_partitions(defs, instance, warmup, job_name="weather_history"))
            days = run_partitions(defs, instance, partition_keys([CITY], FIRST, LAST), job_name="daily")
            assert all(o.success for o in days), [o.error for o in days]
        yield SimDays(home, resources["warehouse"], defs, instance)
