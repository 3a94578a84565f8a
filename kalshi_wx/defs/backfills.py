"""Dagster asset backfills of city x climate-day partitions: submit one to the instance, follow it, find its runs.

A backfill submitted here is the one the UI's "Materialize" of a partition selection creates: it is on
the backfills page, its runs carry the ``dagster/backfill`` tag and can be re-executed, and the daemon
runs it (honouring the assets' backfill policies, so dbt builds a batch of days at once).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import dagster as dg
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES, BulkActionStatus, PartitionBackfill
from dagster._core.utils import make_new_backfill_id

BACKFILL_TAG = "dagster/backfill"
SERIES = dg.AssetKey(["kalshi", "series"])
# What must be alive for a submitted backfill to make progress: the backfill loop launches its runs,
# the queued-run coordinator starts them.
BACKFILL_DAEMONS = ("BACKFILL", "QUEUED_RUN_COORDINATOR")


def daemon_running(instance: dg.DagsterInstance) -> bool:
    statuses = instance.get_daemon_statuses(daemon_types=list(BACKFILL_DAEMONS))
    return all(s.healthy for s in statuses.values())


def submit_asset_backfill(
    instance: dg.DagsterInstance,
    defs: dg.Definitions,
    partition_keys: Sequence[str],
    selection: dg.AssetSelection,
    *,
    title: str,
) -> str:
    """Add an asset backfill of ``selection`` x ``partition_keys`` to the instance; its id."""
    graph = defs.resolve_asset_graph()
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(),
        asset_graph=graph,
        partition_names=list(partition_keys),
        asset_selection=sorted(selection.resolve(graph), key=lambda k: k.to_user_string()),
        backfill_timestamp=time.time(),
        tags={},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=title,
        description=None,
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill.backfill_id


@dataclass(frozen=True)
class BackfillProgress:
    """Where a backfill stands, per requested partition: every target asset materialized, or one failed."""

    status: BulkActionStatus
    partitions: tuple[str, ...]
    done: frozenset[str]
    failed: frozenset[str]

    @property
    def finished(self) -> bool:
        return self.status in BULK_ACTION_TERMINAL_STATUSES


def backfill_progress(instance: dg.DagsterInstance, backfill_id: str) -> BackfillProgress:
    backfill = instance.get_backfill(backfill_id)
    if backfill is None:
        raise ValueError(f"no backfill {backfill_id!r} on this instance")
    data = backfill.asset_backfill_data
    if data is None:
        raise ValueError(f"backfill {backfill_id} is not an asset backfill")
    targets: dict[str, set[dg.AssetKey]] = {}
    for entry in data.target_subset.iterate_asset_partitions():
        if entry.partition_key is not None:
            targets.setdefault(entry.partition_key, set()).add(entry.asset_key)
    failed = {e.partition_key for e in data.failed_and_downstream_subset.iterate_asset_partitions()}
    done = {
        partition
        for partition, assets in targets.items()
        if all(AssetKeyPartitionKey(asset, partition) in data.materialized_subset for asset in assets)
    }
    return BackfillProgress(
        status=backfill.status,
        partitions=tuple(sorted(targets)),
        done=frozenset(done),
        failed=frozenset(p for p in failed if p is not None),
    )


def backfill_run_ids(instance: dg.DagsterInstance, backfill_id: str) -> list[str]:
    """The backfill's runs, oldest first."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_TAG: backfill_id}))
    return [r.run_id for r in reversed(runs)]


def series_age(instance: dg.DagsterInstance) -> timedelta | None:
    """How long ago ``kalshi/series`` was last materialized on this instance; None if never."""
    event = instance.get_latest_materialization_event(SERIES)
    return None if event is None else timedelta(seconds=time.time() - event.timestamp)
