"""Run city x climate-day partitions through a real Dagster instance, with progress."""

from __future__ import annotations

import contextlib
import io
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import dagster as dg

from kalshi_wx.defs.partitions import city_date_key
from kalshi_wx.defs.run_errors import FailedPartition, failed_partitions

log = logging.getLogger(__name__)


@dataclass
class PartitionOutcome:
    key: str
    success: bool
    seconds: float
    run_id: str
    failed_checks: list[str] = field(default_factory=list)
    failures: list[FailedPartition] = field(default_factory=list)  # each failed step's root cause
    materializations: dict[str, Mapping[str, dg.MetadataValue]] = field(default_factory=dict)  # asset key -> metadata

    @property
    def error(self) -> str | None:
        """Every failed step as ``partition (run id): step: root cause``, on one line."""
        return "; ".join(f.line() for f in self.failures) or None


def _execute(job: dg.JobDefinition, log_level: str, **kwargs) -> dg.ExecuteInProcessResult:
    """``job.execute_in_process``; below INFO the console stays for progress lines.

    dagster-dbt echoes every dbt log line to stdout, which would bury the progress; the run's events
    and any error are still in the instance and in the outcome.
    """
    if log_level in ("DEBUG", "INFO"):
        return job.execute_in_process(raise_on_error=False, **kwargs)
    with contextlib.redirect_stdout(io.StringIO()):
        return job.execute_in_process(raise_on_error=False, **kwargs)


def _console(log_level: str) -> dict:
    # The event log is in the instance either way; the console only gets what was asked for.
    return {"loggers": {"console": {"config": {"log_level": log_level}}}}


def _outcome(
    key: str, result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance, started: float
) -> PartitionOutcome:
    failed_checks = [
        f"{e.asset_key.to_user_string()}:{e.check_name}" for e in result.get_asset_check_evaluations() if not e.passed
    ]
    materializations = {
        e.materialization.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    failures = [] if result.success else failed_partitions(instance, [result.run_id])
    return PartitionOutcome(
        key, result.success, time.monotonic() - started, result.run_id, failed_checks, failures, materializations
    )


def partition_keys(cities: Sequence[str], start: date, end: date) -> list[dg.MultiPartitionKey]:
    """Every (city, climate day) from ``start`` to ``end`` inclusive, city-major like Dagster's order."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return [city_date_key(c, d) for c in cities for d in days]


def run_series_job(
    defs: dg.Definitions, instance: dg.DagsterInstance, *, log_level: str = "WARNING"
) -> PartitionOutcome:
    """One run of ``kalshi/series`` (unpartitioned: every configured series' fee schedule)."""
    started = time.monotonic()
    result = _execute(
        defs.resolve_job_def("kalshi_series"), log_level, instance=instance, run_config=_console(log_level)
    )
    return _outcome("kalshi/series", result, instance, started)


def run_series(defs: dg.Definitions, instance: dg.DagsterInstance, *, log_level: str = "WARNING") -> bool:
    return run_series_job(defs, instance, log_level=log_level).success


def run_partitions(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    keys: Sequence[dg.MultiPartitionKey],
    *,
    job_name: str = "daily",
    log_level: str = "WARNING",
    on_progress: Callable[[int, int, PartitionOutcome], None] | None = None,
) -> list[PartitionOutcome]:
    """One in-process run per partition (DuckDB takes one writer; a failure does not stop the rest)."""
    job = defs.resolve_job_def(job_name)
    run_config = _console(log_level)
    outcomes = []
    for i, key in enumerate(keys, start=1):
        started = time.monotonic()
        result = _execute(job, log_level, partition_key=key, instance=instance, run_config=run_config)
        outcome = _outcome(str(key), result, instance, started)
        outcomes.append(outcome)
        if on_progress:
            on_progress(i, len(keys), outcome)
    return outcomes


def run_city_job(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    job_name: str,
    city: str,
    *,
    op_config: dict[str, dict] | None = None,
    log_level: str = "WARNING",
) -> PartitionOutcome:
    """One run of a city-partitioned job (the per-city models, the range report); ``op_config`` by op name."""
    started = time.monotonic()
    run_config = _console(log_level)
    if op_config:
        run_config["ops"] = {op: {"config": config} for op, config in op_config.items()}
    result = _execute(
        defs.resolve_job_def(job_name), log_level, partition_key=city, instance=instance, run_config=run_config
    )
    return _outcome(city, result, instance, started)
