"""Printed summaries of what the warehouse holds (used by ``kalshi-wx demo`` and ``backfill``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import SETTLEMENT, TABLES


def table_counts(warehouse: Warehouse, cities: Sequence[str], start: date, end: date) -> pl.DataFrame:
    """Rows per table for the given cities and dates (all rows for unpartitioned tables)."""
    rows = []
    for table in TABLES.values():
        frame = warehouse.read(table) if not table.partitioned else pl.concat(
            [warehouse.read(table, city=c, dates=(start, end)) for c in cities]
        )  # fmt: skip
        rows.append({"table": table.name, "rows": frame.height})
    return pl.DataFrame(rows)


def settlement_table(warehouse: Warehouse, cities: Sequence[str], start: date, end: date) -> pl.DataFrame:
    frame = pl.concat([warehouse.read(SETTLEMENT, city=c, dates=(start, end)) for c in cities])
    return frame.select(
        "city", "climate_date", "max_f", "min_f", "report_type", "kalshi_yes_ticker", "agrees_with_kalshi"
    ).sort("city", "climate_date")


def print_summary(cities: Sequence[str], start: date, end: date, warehouse: Warehouse | None = None) -> None:
    warehouse = warehouse or Warehouse.from_env()
    with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, tbl_rows=100, tbl_width_chars=120):
        print(f"\nWarehouse {warehouse.backend.display_url}")
        print(table_counts(warehouse, cities, start, end))
        print("\nSettlement per city-day (NWS CLI, cross-checked against Kalshi):")
        print(settlement_table(warehouse, cities, start, end))
