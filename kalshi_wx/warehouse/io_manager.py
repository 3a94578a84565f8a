"""IO manager storing polars frames as warehouse tables: asset key ``[group, name]`` -> ``group.name``."""

from __future__ import annotations

from datetime import date

import dagster as dg
import polars as pl

from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import TableSchema, table_for


def _partition(context: dg.OutputContext | dg.InputContext) -> tuple[str, date] | None:
    # Imported here because defs depends on warehouse, not the other way round.
    from kalshi_wx.defs.partitions import city_and_date

    if not context.has_asset_partitions:
        return None
    keys = context.asset_partition_keys
    if len(keys) != 1:
        raise ValueError(f"{context.asset_key.to_user_string()}: one partition per run, got {len(keys)}")
    return city_and_date(keys[0])


def frame_metadata(table: TableSchema, frame: pl.DataFrame) -> dict:
    """Row count and the time range covered, for the Dagster UI."""
    metadata: dict = {"table": table.name, "dagster/row_count": frame.height}
    if "ts" in frame.columns and frame.height:
        metadata["first_ts"] = frame["ts"].min().isoformat()
        metadata["last_ts"] = frame["ts"].max().isoformat()
    return metadata


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Writes each asset partition as one idempotent slice; reads the same slice back."""

    warehouse: Warehouse

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        table = table_for(*context.asset_key.path)
        city, climate_date = _partition(context) or (None, None)
        rows = self.warehouse.write_partition(table, obj, city, climate_date)
        context.log.info(f"wrote {rows} rows to {table.name} ({self.warehouse.backend.display_url})")
        context.add_output_metadata(frame_metadata(table, obj))

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        table = table_for(*context.asset_key.path)
        partition = _partition(context)
        if partition is None:
            return self.warehouse.read(table)
        city, climate_date = partition
        return self.warehouse.read(table, city=city, climate_date=climate_date)
