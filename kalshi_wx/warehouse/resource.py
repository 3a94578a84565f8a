"""The ``Warehouse`` Dagster resource: where tables live, DuckDB or PostgreSQL by URL."""

from __future__ import annotations

from datetime import date
from functools import cached_property

import dagster as dg
import polars as pl

from kalshi_wx.warehouse.backends import DEFAULT_LOCK_TIMEOUT_S, LockWait, WarehouseBackend, backend_from_url
from kalshi_wx.warehouse.schemas import TableSchema


class Warehouse(dg.ConfigurableResource):
    """Tables of the platform in DuckDB (default) or PostgreSQL; partition writes are idempotent."""

    url: str  # duckdb:///path/file.duckdb or postgresql://user@host:5432/db
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S  # how long a DuckDB file held by another process is waited for

    @cached_property
    def backend(self) -> WarehouseBackend:
        return backend_from_url(self.url, lock_timeout_s=self.lock_timeout_s)

    @property
    def kind(self) -> str:
        return self.backend.kind

    def write_partition(
        self,
        table: TableSchema,
        frame: pl.DataFrame,
        city: str | None = None,
        climate_date: date | None = None,
        *,
        on_lock_wait: LockWait | None = None,
    ) -> int:
        return self.backend.write_partition(table, frame, city, climate_date, on_lock_wait=on_lock_wait)

    def read(
        self,
        table: TableSchema,
        city: str | None = None,
        climate_date: date | None = None,
        dates: tuple[date, date] | None = None,
        *,
        on_lock_wait: LockWait | None = None,
    ) -> pl.DataFrame:
        return self.backend.read(table, city, climate_date, dates, on_lock_wait=on_lock_wait)

    def latest_settled_day(self, city: str) -> date | None:
        return self.backend.latest_settled_day(city)
