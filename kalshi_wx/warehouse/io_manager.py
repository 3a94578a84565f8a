"""IO manager storing polars frames as warehouse tables: asset key ``[group, name]`` -> ``group.name``.

An asset partition maps to the (city, climate_date) slice of its table. A city x date partition
names both. A per-city partition names the city: a write replaces the slice of the one climate_date
its rows carry (a training window's last day), and a read returns every climate_date of the city.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import polars as pl

from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import TableSchema, table_for


def _slice(
    context: dg.OutputContext | dg.InputContext, table: TableSchema, rows: pl.DataFrame | None = None
) -> tuple[str | None, date | None]:
    """(city, climate_date) of the slice ``context`` reads, or writes as ``rows``; None where it spans every value."""
    if not context.has_asset_partitions:
        return None, None
    asset = context.asset_key.to_user_string()
    keys = context.asset_partition_keys
    if len(keys) != 1:
        raise ValueError(f"{asset}: one partition per run, got {len(keys)}")
    key, partitions_def = str(keys[0]), context.asset_partitions_def
    if isinstance(partitions_def, dg.StaticPartitionsDefinition):
        if rows is None:
            return key, None
        days = table.conform(rows)["climate_date"].unique()
        if days.len() != 1:
            raise ValueError(
                f"{asset}: partition {key!r} is a city, so its rows name the slice's climate_date; "
                f"they hold {days.len()} distinct ({', '.join(map(str, days.sort())) or 'no rows'})"
            )
        return key, days.item()
    if not isinstance(partitions_def, dg.MultiPartitionsDefinition):
        raise ValueError(f"{asset}: partitions {type(partitions_def).__name__} are neither per city nor city x date")
    # Runs launched by tag carry a plain str key, so parse it through the asset's own partitions.
    try:
        dims = partitions_def.get_partition_key_from_str(key).keys_by_dimension
        return dims["city"], date.fromisoformat(dims["date"])
    except Exception as exc:  # dagster raises several types for a malformed key
        raise ValueError(f"{asset}: partition key {key!r} is not 'city|YYYY-MM-DD'") from exc


def frame_metadata(table: TableSchema, frame: pl.DataFrame) -> dict:
    """Row count and the time range covered, for the Dagster UI."""
    metadata: dict = {"table": table.name, "dagster/row_count": frame.height}
    if "ts" in frame.columns and frame.height:
        first, last = frame["ts"].min(), frame["ts"].max()
        assert isinstance(first, date) and isinstance(last, date), "ts is a timestamp column"
        metadata["first_ts"] = first.isoformat()
        metadata["last_ts"] = last.isoformat()
    return metadata


class MissingUpstreamPartitionError(RuntimeError):
    """An input's partition was never materialized: reading it would hand the asset an empty frame."""


def _require_materialized(context: dg.InputContext, key: str) -> None:
    """Refuse an empty slice of a partition that no run has materialized (an empty day that was is fine)."""
    try:
        instance = context.instance
    except dg.DagsterInvariantViolationError:  # a context built by hand, without an instance
        return
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=context.asset_key, asset_partitions=[key]), limit=1
    ).records
    if not records:
        asset = context.asset_key.to_user_string()
        raise MissingUpstreamPartitionError(
            f"upstream partition {asset} {key} has not been materialized: materialize {asset} for {key} "
            "first (or include it in the same run or backfill)"
        )


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Writes each asset partition as one idempotent slice; reads the same slice back."""

    warehouse: Warehouse

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        table = table_for(*context.asset_key.path)
        city, climate_date = _slice(context, table, obj)
        rows = self.warehouse.write_partition(table, obj, city, climate_date, on_lock_wait=context.log.warning)
        context.log.info(f"wrote {rows} rows to {table.name} ({self.warehouse.backend.display_url})")
        context.add_output_metadata(frame_metadata(table, obj))

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        table = table_for(*context.asset_key.path)
        city, climate_date = _slice(context, table)
        frame = self.warehouse.read(table, city=city, climate_date=climate_date, on_lock_wait=context.log.warning)
        if (
            frame.is_empty()
            and climate_date is not None
            and isinstance(context.asset_partitions_def, dg.MultiPartitionsDefinition)
        ):
            _require_materialized(context, str(context.asset_partition_keys[0]))
        return frame
