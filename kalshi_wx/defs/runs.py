"""Run city x climate-day partitions through a real Dagster instance, with progress."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import dagster as dg

from kalshi_wx.defs.partitions import city_date_key

log = logging.getLogger(__name__)


@dataclass
class PartitionOutcome:
    key: str
    success: bool
    seconds: float
    failed_checks: list[str] = field(default_factory=list)
    error: str | None = None


def partition_keys(cities: Sequence[str], start: date, end: date) -> list[dg.MultiPartitionKey]:
    """Every (city, climate day) from ``start`` to ``end`` inclusive, city-major like Dagster's order."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return [city_date_key(c, d) for c in cities for d in days]


def run_series(defs: dg.Definitions, instance: dg.DagsterInstance, *, log_level: str = "WARNING") -> bool:
    result = defs.resolve_job_def("kalshi_series").execute_in_process(
        instance=instance,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=False,
    )
    return result.success


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
    # The event log is in the instance either way; the console only gets what was asked for.
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    outcomes = []
    for i, key in enumerate(keys, start=1):
        started = time.monotonic()
        result = job.execute_in_process(
            partition_key=key, instance=instance, run_config=run_config, raise_on_error=False
        )
        failed_checks = [
            f"{e.asset_key.to_user_string()}:{e.check_name}"
            for e in result.get_asset_check_evaluations()
            if not e.passed
        ]
        error = None
        if not result.success:
            failures = [e for e in result.all_events if e.is_step_failure]
            error = (
                "; ".join(
                    f"{e.step_key}: {e.step_failure_data.error.message.strip()}"
                    for e in failures
                    if e.step_failure_data
                )
                or "run failed"
            )
        outcome = PartitionOutcome(str(key), result.success, time.monotonic() - started, failed_checks, error)
        outcomes.append(outcome)
        if on_progress:
            on_progress(i, len(keys), outcome)
    return outcomes
