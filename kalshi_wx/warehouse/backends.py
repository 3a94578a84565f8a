"""Warehouse backends: DuckDB (embedded default) and PostgreSQL behind one interface.

A partition write deletes the (city, climate_date) slice and inserts the new rows in one
transaction, so re-materialising never duplicates rows and a failed write leaves the old slice.
Connections are opened per operation: DuckDB allows one writer process, and a long-lived
read-write connection would lock out every other process. A DuckDB file another process holds is
waited for (``lock_timeout_s``), the wait reported through ``on_lock_wait`` (a run passes its
``context.log`` so the wait shows in the run's event log), then refused naming the holder's PID.
"""

from __future__ import annotations

import io
import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb
import polars as pl

from kalshi_wx.warehouse.schemas import PANEL, TableSchema

log = logging.getLogger(__name__)

# Long enough for another writer's partition (its dbt build holds the file for ~10 s), short enough
# that a notebook holding the file fails a run in half a minute rather than two.
DEFAULT_LOCK_TIMEOUT_S = 30.0
LockWait = Callable[[str], None]
"""Where a backend reports waiting for a lock: one message when the wait starts, one when it ends."""

# DuckDB 1.x: 'Could not set lock on file "...": Conflicting lock is held in /usr/bin/python3 (PID 4242).'
_LOCK_CONFLICT = "Could not set lock on file"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


@dataclass(frozen=True)
class LockHolder:
    """The process DuckDB names as holding a file: its executable and PID (``ps -p PID`` says more)."""

    program: str
    pid: int

    def __str__(self) -> str:
        return f"{self.program} (PID {self.pid})"


def lock_holder(error: Exception) -> LockHolder | None:
    """The holder a DuckDB lock conflict names; None if the error does not name one."""
    match = _LOCK_HOLDER.search(str(error))
    return LockHolder(match["program"], int(match["pid"])) if match else None


class WarehouseLockedError(RuntimeError):
    """Another process held the DuckDB file for longer than the backend waits for it."""

    def __init__(self, path: Path, holder: LockHolder | None, timeout_s: float):
        self.path = path
        self.holder = holder
        who = str(holder) if holder else "another process"
        waited = f" for {timeout_s:g}s" if timeout_s > 0 else ""
        super().__init__(
            f"DuckDB file {path} is locked by {who}{waited}: DuckDB admits one writing process (or only readers); "
            f"close that connection, or wait longer with KALSHI_WX_DUCKDB_LOCK_TIMEOUT"
        )


_DUCKDB_TYPES = {
    pl.Utf8: "VARCHAR",
    pl.Int32: "INTEGER",
    pl.Int64: "BIGINT",
    pl.Float64: "DOUBLE",
    pl.Boolean: "BOOLEAN",
    pl.Date: "DATE",
}
_POSTGRES_TYPES = {**_DUCKDB_TYPES, pl.Utf8: "TEXT", pl.Float64: "DOUBLE PRECISION"}


def _sql_type(dtype: pl.DataType | type[pl.DataType], base: dict) -> str:
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ"
    if isinstance(dtype, pl.Decimal):
        return f"{'DECIMAL' if base is _DUCKDB_TYPES else 'NUMERIC'}({dtype.precision},{dtype.scale})"
    return base[dtype.base_type()]


def _where(table: TableSchema, city: str | None, climate_date: date | None) -> tuple[str, list]:
    if not table.partitioned:
        return "TRUE", []
    if city is None or climate_date is None:
        raise ValueError(f"{table.name} is partitioned: a write needs city and climate_date")
    return "city = %s AND climate_date = %s", [city, climate_date]


def check_partition_frame(table: TableSchema, frame: pl.DataFrame, city: str | None, climate_date: date | None):
    """Conform ``frame`` to the schema and refuse rows outside the slice or with duplicate keys."""
    frame = table.conform(frame)
    if table.partitioned and frame.height:
        stray = frame.filter((pl.col("city") != city) | (pl.col("climate_date") != climate_date))
        if stray.height:
            raise ValueError(
                f"{stray.height} row(s) for {table.name} lie outside partition {city}|{climate_date}, "
                f"e.g. {stray.select('city', 'climate_date').row(0)}"
            )
    duplicated = frame.filter(pl.struct(list(table.key)).is_duplicated())
    if duplicated.height:
        raise ValueError(
            f"{duplicated.height} row(s) for {table.name} share a key {table.key}, "
            f"e.g. {duplicated.select(table.key).row(0)}"
        )
    return frame


class WarehouseBackend(ABC):
    kind: str

    @property
    @abstractmethod
    def display_url(self) -> str:
        """Where the data lives, safe to print (no password)."""

    @abstractmethod
    def write_partition(
        self,
        table: TableSchema,
        frame: pl.DataFrame,
        city: str | None = None,
        climate_date: date | None = None,
        *,
        on_lock_wait: LockWait | None = None,
    ) -> int:
        """Replace the (city, climate_date) slice (or the whole table if unpartitioned); rows written."""

    @abstractmethod
    def query(self, sql: str, params: list | None = None, *, on_lock_wait: LockWait | None = None) -> pl.DataFrame:
        """Run a read-only query with ``%s`` placeholders."""

    @abstractmethod
    def existing_tables(self, *, on_lock_wait: LockWait | None = None) -> set[str]:
        """``group.table`` names that exist."""

    def read(
        self,
        table: TableSchema,
        city: str | None = None,
        climate_date: date | None = None,
        dates: tuple[date, date] | None = None,
        *,
        on_lock_wait: LockWait | None = None,
    ) -> pl.DataFrame:
        """Rows of ``table``, optionally one city and one date or an inclusive date range."""
        if table.name not in self.existing_tables(on_lock_wait=on_lock_wait):
            return pl.DataFrame(schema=table.polars_schema)
        clauses: list[str] = []
        params: list[object] = []
        if city is not None:
            clauses.append("city = %s")
            params.append(city)
        if climate_date is not None:
            clauses.append("climate_date = %s")
            params.append(climate_date)
        if dates is not None:
            clauses.append("climate_date BETWEEN %s AND %s")
            params.extend(dates)
        where = " AND ".join(clauses) or "TRUE"
        order = ", ".join(["city", "climate_date", *table.key] if table.partitioned else table.key)
        columns = ", ".join(table.columns)
        sql = f"SELECT {columns} FROM {table.name} WHERE {where} ORDER BY {order}"
        return table.conform(self.query(sql, params, on_lock_wait=on_lock_wait))

    def latest_settled_day(self, city: str) -> date | None:
        """The last climate day of ``city`` whose feature panel carries the settled high (its panel is complete)."""
        if PANEL.name not in self.existing_tables():
            return None
        return self.query(
            f"SELECT max(climate_date) AS day FROM {PANEL.name} WHERE city = %s AND settled_max_f IS NOT NULL", [city]
        ).item()

    def row_counts(self, tables: list[TableSchema]) -> dict[str, int]:
        existing = self.existing_tables()
        return {
            t.name: (self.query(f"SELECT count(*) AS n FROM {t.name}").item() if t.name in existing else 0)
            for t in tables
        }


class DuckDBBackend(WarehouseBackend):
    kind = "duckdb"

    def __init__(self, path: str | Path, *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S):
        if lock_timeout_s < 0:
            raise ValueError(f"lock_timeout_s must be >= 0, got {lock_timeout_s}")
        self.path = Path(path).resolve()
        self.lock_timeout_s = lock_timeout_s

    @property
    def display_url(self) -> str:
        return f"duckdb://{self.path}"

    @contextmanager
    def connect(
        self, *, read_only: bool = False, on_lock_wait: LockWait | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        if read_only and not self.path.exists():
            con = duckdb.connect(":memory:")
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = self._connect_waiting_for_lock(read_only, on_lock_wait)
        try:
            con.execute("SET TimeZone = 'UTC'")
            yield con
        finally:
            con.close()

    def _connect_waiting_for_lock(self, read_only: bool, on_lock_wait: LockWait | None) -> duckdb.DuckDBPyConnection:
        # Another process (a second run, dagster dev, a notebook) may hold the file: a writer's hold
        # is short, so wait for it; a notebook's is not, so give up after lock_timeout_s.
        started = time.monotonic()
        delay = 0.1
        waiting = False
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if _LOCK_CONFLICT not in str(exc):
                    raise  # permissions, a corrupt file: waiting would not help
                holder = lock_holder(exc)
                remaining = self.lock_timeout_s - (time.monotonic() - started)
                if remaining <= 0:
                    raise WarehouseLockedError(self.path, holder, self.lock_timeout_s) from None
                if not waiting:
                    who = holder or "another process"
                    self._report(on_lock_wait, f"DuckDB file {self.path} is locked by {who}; waiting up to "
                                 f"{self.lock_timeout_s:g}s for it")  # fmt: skip
                    waiting = True
                log.debug("DuckDB file %s still locked; retrying in %.1fs", self.path, min(delay, remaining))
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 2.0)
                continue
            if waiting:
                waited = time.monotonic() - started
                self._report(on_lock_wait, f"DuckDB file {self.path}: lock obtained after {waited:.1f}s")
            return con

    @staticmethod
    def _report(on_lock_wait: LockWait | None, message: str) -> None:
        log.info(message)
        if on_lock_wait is not None:
            on_lock_wait(message)

    def write_partition(self, table, frame, city=None, climate_date=None, *, on_lock_wait=None) -> int:
        frame = check_partition_frame(table, frame, city, climate_date)
        where, params = _where(table, city, climate_date)
        columns = ", ".join(f"{c} {_sql_type(t, _DUCKDB_TYPES)}" for c, t in table.columns.items())
        with self.connect(on_lock_wait=on_lock_wait) as con:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.group}")
            con.execute(f"CREATE TABLE IF NOT EXISTS {table.name} ({columns})")
            self._check_columns(con, table)
            con.register("incoming_rows", frame.to_arrow())
            con.begin()
            try:
                con.execute(f"DELETE FROM {table.name} WHERE {where.replace('%s', '?')}", params)
                con.execute(f"INSERT INTO {table.name} SELECT {', '.join(table.columns)} FROM incoming_rows")
                con.commit()
            except BaseException:
                con.rollback()
                raise
        return frame.height

    def _check_columns(self, con: duckdb.DuckDBPyConnection, table: TableSchema) -> None:
        found = [
            row[0]
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position",
                [table.group, table.table],
            ).fetchall()
        ]
        if found != list(table.columns):
            raise RuntimeError(
                f"{self.path}: table {table.name} has columns {found}, the code expects {list(table.columns)}; "
                f"drop the table (it is rebuilt by re-materialising) or migrate it"
            )

    def query(self, sql: str, params: list | None = None, *, on_lock_wait: LockWait | None = None) -> pl.DataFrame:
        with self.connect(read_only=True, on_lock_wait=on_lock_wait) as con:
            return con.execute(sql.replace("%s", "?"), params or []).pl()

    def existing_tables(self, *, on_lock_wait: LockWait | None = None) -> set[str]:
        sql = "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables"
        return set(self.query(sql, on_lock_wait=on_lock_wait)["name"].to_list())


class PostgresBackend(WarehouseBackend):
    kind = "postgres"

    def __init__(self, url: str):
        import psycopg2  # only needed when PostgreSQL is configured

        self._psycopg2 = psycopg2
        parts = urlsplit(url)
        # SQLAlchemy-style schemes (postgresql+psycopg2://) are accepted for symmetry with dagster.yaml.
        self.dsn = urlunsplit(("postgresql", *parts[1:]))

    @property
    def display_url(self) -> str:
        parts = urlsplit(self.dsn)
        netloc = parts.hostname or ""
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    @contextmanager
    def connect(self):
        con = self._psycopg2.connect(self.dsn)
        try:
            with con.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
            yield con
        finally:
            con.close()

    # PostgreSQL takes concurrent writers and queues lock waits itself: on_lock_wait is never called.

    def write_partition(self, table, frame, city=None, climate_date=None, *, on_lock_wait=None) -> int:
        frame = check_partition_frame(table, frame, city, climate_date)
        where, params = _where(table, city, climate_date)
        columns = ", ".join(f"{c} {_sql_type(t, _POSTGRES_TYPES)}" for c, t in table.columns.items())
        buffer = io.StringIO(frame.write_csv(include_header=False, null_value="\\N"))
        with self.connect() as con:
            try:
                with con.cursor() as cur:
                    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {table.group}")
                    cur.execute(f"CREATE TABLE IF NOT EXISTS {table.name} ({columns})")
                    self._check_columns(cur, table)
                    cur.execute(f"DELETE FROM {table.name} WHERE {where}", params)
                    cur.copy_expert(
                        f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                        buffer,
                    )
                con.commit()
            except BaseException:
                con.rollback()
                raise
        return frame.height

    def _check_columns(self, cur, table: TableSchema) -> None:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "ORDER BY ordinal_position",
            [table.group, table.table],
        )
        found = [row[0] for row in cur.fetchall()]
        if found != list(table.columns):
            raise RuntimeError(
                f"{self.display_url}: table {table.name} has columns {found}, the code expects "
                f"{list(table.columns)}; drop the table (it is rebuilt by re-materialising) or migrate it"
            )

    def query(self, sql: str, params: list | None = None, *, on_lock_wait: LockWait | None = None) -> pl.DataFrame:
        with self.connect() as con, con.cursor() as cur:
            cur.execute(sql, params or [])
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)

    def existing_tables(self, *, on_lock_wait: LockWait | None = None) -> set[str]:
        frame = self.query(
            "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        return set(frame["name"].to_list()) if frame.height else set()


def backend_from_url(url: str, *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> WarehouseBackend:
    """``duckdb://<path>`` (``duckdb:///abs/file.duckdb``), a bare path, or ``postgresql://...``.

    ``lock_timeout_s`` is how long a DuckDB file held by another process is waited for.
    """
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg2://")):
        return PostgresBackend(url)
    if url.startswith("duckdb://"):
        return DuckDBBackend(url.removeprefix("duckdb://"), lock_timeout_s=lock_timeout_s)
    if "://" in url:
        raise ValueError(f"warehouse URL {url!r}: expected duckdb:///path or postgresql://... ")
    return DuckDBBackend(url, lock_timeout_s=lock_timeout_s)
