"""The ``Warehouse`` Dagster resource: where tables live, DuckDB or PostgreSQL by URL."""

from __future__ import annotations

from datetime import date
from functools import cached_property

import dagster as dg
import polars as pl

from kalshi_wx.warehouse.backends import WarehouseBackend, backend_from_url
from kalshi_wx.warehouse.schemas import TableSchema


class Warehouse(dg.ConfigurableResource):
    """Tables of the platform in DuckDB (default) or PostgreSQL; partition writes are idempotent."""

    url: str  # duckdb:///path/file.duckdb or postgresql://user@host:5432/db

    @cached_property
    def backend(self) -> WarehouseBackend:
        return backend_from_url(self.url)

    @property
    def kind(self) -> str:
        return self.backend.kind

    def write_partition(
        self,
        table: TableSchema,
        frame: pl.DataFrame,
        city: str | None = None,
        climate_date: date | None = None,
    ) -> int:
        return self.backend.write_partition(table, frame, city, climate_date)

    def read(self, table: TableSchema, city=None, climate_date=None, dates=None) -> pl.DataFrame:
        return self.backend.read(table, city, climate_date, dates)

    def latest_settled_day(self, city: str) -> date | None:
        return self.backend.latest_settled_day(city)
