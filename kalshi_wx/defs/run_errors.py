"""Why a run failed, in one line per failed partition: the cause a user can act on, not Dagster's wrapper.

A step that raises is recorded as ``DagsterExecutionStepExecutionError: Error occurred while executing
op "..."`` (or ``DagsterResourceFunctionError`` for a resource) with the user's exception as its cause;
the command line and the backfill summary follow that chain to the exception that started it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

FAILED_STATUSES = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
# Tags Dagster puts on a run of one partition, or of a range of them (a single-run backfill policy).
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG, RANGE_END_TAG = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _is_dagster(error: SerializableErrorInfo) -> bool:
    return (error.cls_name or "").startswith("Dagster")


def _one_line(error: SerializableErrorInfo) -> str:
    # The message is ``traceback.format_exception_only``: "package.module.Class: text", possibly many lines.
    text = error.message.strip()
    qualified, sep, rest = text.partition(": ")
    if sep and qualified.split(".")[-1] == error.cls_name:
        text = rest
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else "(no message)"
    more = f" (+{len(lines) - 1} more lines in the run's log)" if len(lines) > 1 else ""
    return f"{error.cls_name}: {first}{more}" if error.cls_name else f"{first}{more}"


def root_cause(error: SerializableErrorInfo) -> str:
    """One line: the first exception of the chain that is not Dagster's wrapper, and what it was raised from.

    ``ConfigError: KALSHI_PRIVATE_KEY_PATH=/x.pem: cannot read (No such file or directory)`` rather than
    ``DagsterExecutionStepExecutionError: Error occurred while executing op ...``. Our errors name the
    request, file or partition and are raised ``from`` the low-level one (a refused connection), so both
    are kept: ``SourceUnavailableError: kalshi GET /markets ...: failed (from ConnectError: ...)``.
    ``context`` (raised while handling another) is followed only out of Dagster's own errors: a user's
    ``raise X`` inside ``except`` means X.
    """
    chain = [error]
    while (inner := error.cause or (error.context if _is_dagster(error) else None)) is not None:
        chain.append(inner)
        error = inner
    ours = [e for e in chain if not _is_dagster(e)]
    if not ours:
        return _one_line(chain[-1])
    first, last = _one_line(ours[0]), _one_line(ours[-1])
    if last == first or last.partition(": ")[2] in first:
        return first
    return f"{first} (from {last})"


@dataclass(frozen=True)
class FailedPartition:
    """One failed step (or run, when no step failed) of a run: where, which run, and why."""

    partition: str | None  # "nyc|2026-06-01", a range "nyc|2026-06-01...nyc|2026-06-03", or None (unpartitioned)
    run_id: str
    step_key: str | None
    cause: str

    def line(self, unpartitioned: str = "(unpartitioned)") -> str:
        """``nyc|2026-06-01 (run <id>): <step>: <cause>``; ``unpartitioned`` names a run of no partition."""
        where = self.partition or unpartitioned
        step = f"{self.step_key}: " if self.step_key else ""
        return f"{where} (run {self.run_id}): {step}{self.cause}"


def run_partition(tags: dict[str, str]) -> str | None:
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    if RANGE_START_TAG in tags:
        return f"{tags[RANGE_START_TAG]}...{tags[RANGE_END_TAG]}"
    return None


def failed_partitions(instance: dg.DagsterInstance, run_ids: Sequence[str]) -> list[FailedPartition]:
    """Every failed step of the failed or canceled runs among ``run_ids``, in the order of ``run_ids``.

    A run that failed without a failed step (it never started, run monitoring gave up on it, it was
    canceled) is one entry with the run's own error, or the failure event's message.
    """
    runs = {r.run_id: r for r in instance.get_runs(filters=dg.RunsFilter(run_ids=list(run_ids)))}
    failures: list[FailedPartition] = []
    for run_id in run_ids:
        run = runs.get(run_id)
        if run is None or run.status not in FAILED_STATUSES:
            continue
        partition = run_partition(dict(run.tags))
        steps = []
        run_level = None
        for record in instance.all_logs(
            run_id,
            of_type={
                dg.DagsterEventType.STEP_FAILURE,
                dg.DagsterEventType.RUN_FAILURE,
                dg.DagsterEventType.RUN_CANCELED,
            },
        ):
            event = record.get_dagster_event()
            error = getattr(event.event_specific_data, "error", None)
            if event.event_type == dg.DagsterEventType.STEP_FAILURE:
                cause = root_cause(error) if error else record.message
                steps.append(FailedPartition(partition, run_id, event.step_key, cause))
            elif run_level is None:
                run_level = root_cause(error) if error else (event.message or record.message)
        if steps:
            failures.extend(steps)
        else:
            failures.append(FailedPartition(partition, run_id, None, run_level or f"run {run.status.value}"))
    return failures
