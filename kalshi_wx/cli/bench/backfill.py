"""Backfill wall time on the simulator: one run per partition against the runs a batched backfill makes.

Both modes fill the same cities x days from scratch in this process (each its own warehouse and
instance), in-process runs as the local executor does:

- ``per_partition``: the ``daily`` job once per city-day, as a backfill without backfill policies
  runs it (dbt starts and parses twice per city-day: ``minute_panel``, then ``minute_panel_full``);
- ``batched``: what the asset backfill makes of the same request under the assets' backfill
  policies: the Python assets one partition per run, then one dbt build per city over its range of
  days (both panels), then the backtest per partition.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from kalshi_wx.definitions import build_definitions
from kalshi_wx.defs.jobs import CITY_DAY
from kalshi_wx.defs.resources import build_resources
from kalshi_wx.defs.runs import partition_keys, run_partitions, run_series
from kalshi_wx.warehouse.resource import Warehouse

BENCH_START = date(2026, 6, 1)
DBT = CITY_DAY & dg.AssetSelection.groups("features")
BACKTEST = CITY_DAY & dg.AssetSelection.groups("backtest")  # not the per-city range report
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _run(defs: dg.Definitions, instance, selection: dg.AssetSelection, **kwargs) -> None:
    job = defs.resolve_implicit_global_asset_job_def()
    keys = list(selection.resolve(defs.resolve_asset_graph()))
    # dagster-dbt echoes dbt's log to stdout, which would bury the JSON (defs/runs.py does the same).
    with contextlib.redirect_stdout(io.StringIO()):
        result = job.execute_in_process(asset_selection=keys, instance=instance, run_config=QUIET, **kwargs)
    if not result.success:
        raise RuntimeError(f"bench backfill: a run of {sorted(k.to_user_string() for k in keys)} failed ({kwargs})")


def _batched(defs: dg.Definitions, instance, cities: Sequence[str], keys: Sequence[dg.MultiPartitionKey]) -> None:
    upstream = CITY_DAY - DBT - BACKTEST
    for key in keys:
        _run(defs, instance, upstream, partition_key=key)
    for city in cities:
        mine = [k for k in keys if k.keys_by_dimension["city"] == city]
        _run(defs, instance, DBT, tags={RANGE_START: str(mine[0]), RANGE_END: str(mine[-1])})
    for key in keys:
        _run(defs, instance, BACKTEST, partition_key=key)


def _per_partition(defs: dg.Definitions, instance, keys: Sequence[dg.MultiPartitionKey]) -> None:
    failed = [o.key for o in run_partitions(defs, instance, keys, job_name="daily") if not o.success]
    if failed:
        raise RuntimeError(f"bench backfill: the daily run failed for {', '.join(failed)}")


def _panel_rows(warehouse: Warehouse) -> int:
    return int(warehouse.backend.query("SELECT count(*) AS n FROM features.minute_panel_full")["n"][0])


def run_backfill_benchmark(
    cities: Sequence[str] = ("nyc", "chi"), days: int = 14, start: date = BENCH_START
) -> dict[str, object]:
    keys = partition_keys(cities, start, start + timedelta(days=days - 1))
    figures: dict[str, object] = {"cities": ",".join(cities), "days": days, "city_days": len(keys)}
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        for mode in ("per_partition", "batched"):
            home = Path(tmp) / mode
            home.mkdir()
            resources = build_resources(mode="sim", warehouse_url=f"duckdb://{home / 'w.duckdb'}")
            defs = build_definitions(resources)
            with dg.DagsterInstance.ephemeral() as instance:
                if not run_series(defs, instance):
                    raise RuntimeError("bench backfill: kalshi/series failed")
                started = time.perf_counter()
                if mode == "batched":
                    _batched(defs, instance, cities, keys)
                else:
                    _per_partition(defs, instance, keys)
                wall = time.perf_counter() - started
            figures[f"{mode}_wall_s"] = round(wall, 1)
            # From the rounded wall time, so the printed figures agree with each other.
            figures[f"{mode}_s_per_city_day"] = round(round(wall, 1) / len(keys), 2)
            figures[f"{mode}_panel_rows"] = _panel_rows(resources["warehouse"])
    figures["speedup"] = round(figures["per_partition_wall_s"] / figures["batched_wall_s"], 2)  # type: ignore[operator]
    return figures
