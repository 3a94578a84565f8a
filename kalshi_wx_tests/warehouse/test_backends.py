from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from kalshi_wx.core.payloads.kalshi import markets_frame
from kalshi_wx.warehouse.backends import DuckDBBackend, WarehouseLockedError, backend_from_url
from kalshi_wx.warehouse.schemas import MARKETS, PANEL, TableSchema

READINGS = TableSchema(
    "lab.readings",
    {
        "city": pl.Utf8,
        "climate_date": pl.Date,
        "ts": pl.Datetime("us", "UTC"),
        "temp_f": pl.Float64,
        "price": pl.Decimal(12, 6),
        "note": pl.Utf8,
    },
    key=("ts",),
)


def readings(city: str, day: date, temps: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "city": [city] * len(temps),
            "climate_date": [day] * len(temps),
            "ts": [datetime(day.year, day.month, day.day, 5 + i, tzinfo=UTC) for i in range(len(temps))],
            "temp_f": temps,
            "price": [Decimal("0.5600")] * len(temps),
            "note": ["", None] * (len(temps) // 2) + [""] * (len(temps) % 2),
        },
        schema=READINGS.columns,
    )


def test_partition_write_is_idempotent_and_isolated(backend):
    d1, d2 = date(2026, 6, 1), date(2026, 6, 2)
    backend.write_partition(READINGS, readings("nyc", d1, [70.0, 71.5]), "nyc", d1)
    backend.write_partition(READINGS, readings("nyc", d2, [60.0]), "nyc", d2)
    backend.write_partition(READINGS, readings("chi", d1, [50.0]), "chi", d1)
    before = backend.read(READINGS)
    backend.write_partition(READINGS, readings("nyc", d1, [70.0, 71.5]), "nyc", d1)
    assert backend.read(READINGS).equals(before)
    assert backend.row_counts([READINGS]) == {"lab.readings": 4}
    # A re-materialisation with different rows replaces exactly its own slice.
    backend.write_partition(READINGS, readings("nyc", d1, [72.0]), "nyc", d1)
    assert backend.read(READINGS, city="nyc", climate_date=d1)["temp_f"].to_list() == [72.0]
    assert backend.read(READINGS, city="nyc", climate_date=d2)["temp_f"].to_list() == [60.0]
    assert backend.read(READINGS, city="chi")["temp_f"].to_list() == [50.0]


def test_values_round_trip_exactly(backend):
    day = date(2026, 6, 1)
    frame = readings("nyc", day, [70.25, 71.0, 69.5])
    backend.write_partition(READINGS, frame, "nyc", day)
    back = backend.read(READINGS, city="nyc", climate_date=day)
    assert back.equals(frame)
    assert back["note"].to_list() == ["", None, ""]  # empty string and null stay distinct


def test_failed_write_rolls_back_and_keeps_the_old_slice(backend):
    day = date(2026, 6, 1)
    backend.write_partition(READINGS, readings("nyc", day, [70.0, 71.0]), "nyc", day)
    # A database-side constraint fails the INSERT after the DELETE ran in the same transaction.
    constraint = "ALTER TABLE lab.readings ADD CONSTRAINT plausible CHECK (temp_f < 150)"
    if backend.kind == "duckdb":
        # DuckDB cannot add a CHECK to an existing table: rebuild it with the same columns.
        import duckdb

        with duckdb.connect(str(backend.path)) as con:
            con.execute("CREATE TABLE lab.tmp AS SELECT * FROM lab.readings")
            con.execute("DROP TABLE lab.readings")
            con.execute(
                "CREATE TABLE lab.readings (city VARCHAR, climate_date DATE, ts TIMESTAMPTZ, "
                "temp_f DOUBLE CHECK (temp_f < 150), price DECIMAL(12,6), note VARCHAR)"
            )
            con.execute("INSERT INTO lab.readings SELECT * FROM lab.tmp")
            con.execute("DROP TABLE lab.tmp")
    else:
        with backend.connect() as con, con.cursor() as cur:
            cur.execute(constraint)
            con.commit()
    with pytest.raises(Exception, match="(?i)check|constraint"):
        backend.write_partition(READINGS, readings("nyc", day, [72.0, 999.0]), "nyc", day)
    assert backend.read(READINGS, city="nyc", climate_date=day)["temp_f"].to_list() == [70.0, 71.0]


def test_rows_outside_the_partition_or_duplicate_keys_are_refused(backend):
    day = date(2026, 6, 1)
    with pytest.raises(ValueError, match=r"outside partition nyc\|2026-06-01"):
        backend.write_partition(READINGS, readings("chi", day, [1.0]), "nyc", day)
    dup = pl.concat([readings("nyc", day, [1.0]), readings("nyc", day, [2.0])])
    with pytest.raises(ValueError, match=r"share a key \('ts',\)"):
        backend.write_partition(READINGS, dup, "nyc", day)
    with pytest.raises(ValueError, match=r"missing \['note'\]"):
        backend.write_partition(READINGS, readings("nyc", day, [1.0]).drop("note"), "nyc", day)
    assert "lab.readings" not in backend.existing_tables() or backend.read(READINGS).is_empty()


def test_real_market_objects_round_trip(backend, real_markets):
    day = date(2026, 6, 2)
    frame = markets_frame(
        [m for m in real_markets if m["event_ticker"] == "KXHIGHNY-26JUN02"],
        city="nyc",
        climate_date=day,
        source="fixture",
        tiers={},
    )
    backend.write_partition(MARKETS, frame, "nyc", day)
    back = backend.read(MARKETS, city="nyc", climate_date=day)
    assert back.equals(frame.sort("ticker"))


def test_schema_drift_is_reported_not_silently_mixed(backend):
    day = date(2026, 6, 1)
    backend.write_partition(READINGS, readings("nyc", day, [1.0]), "nyc", day)
    drifted = TableSchema("lab.readings", {**READINGS.columns, "extra": pl.Utf8}, key=("ts",))
    with pytest.raises(RuntimeError, match=r"lab.readings has columns .* expects"):
        drifted_frame = readings("nyc", day, [1.0]).with_columns(extra=pl.lit("x"))
        backend.write_partition(drifted, drifted_frame, "nyc", day)


def test_latest_settled_day_is_the_last_day_whose_panel_has_the_settled_high(backend):
    assert backend.latest_settled_day("nyc") is None  # no panel yet
    # The panel columns the query reads; dbt builds the real table.
    panel = TableSchema(
        PANEL.name,
        {"city": pl.Utf8, "climate_date": pl.Date, "ticker": pl.Utf8, "settled_max_f": pl.Int32},
        key=("ticker",),
    )
    d1, d2, d3 = date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)
    for city, day, settled in (("nyc", d1, 71), ("nyc", d2, 75), ("nyc", d3, None), ("chi", d3, 60)):
        frame = pl.DataFrame(
            {"city": [city], "climate_date": [day], "ticker": ["KXHIGH-B72.5"], "settled_max_f": [settled]},
            schema=panel.columns,
        )
        backend.write_partition(panel, frame, city, day)
    assert backend.latest_settled_day("nyc") == d2  # d3 is in the panel but not settled yet
    assert backend.latest_settled_day("chi") == d3
    assert backend.latest_settled_day("aus") is None


def test_backend_from_url_and_redaction(tmp_path):
    duck = backend_from_url(f"duckdb://{tmp_path}/w.duckdb")
    assert duck.kind == "duckdb" and duck.path == tmp_path / "w.duckdb"
    pg = backend_from_url("postgresql+psycopg2://trader:s3cret@db.example:5433/wx")
    assert pg.kind == "postgres"
    assert "s3cret" not in pg.display_url and pg.display_url == "postgresql://trader@db.example:5433/wx"
    with pytest.raises(ValueError, match="expected duckdb"):
        backend_from_url("mysql://x/y")


# -- a DuckDB file held by another process ---------------------------------------------------------


def test_a_file_held_by_another_process_is_refused_naming_its_pid(tmp_path, hold_duckdb):
    path = tmp_path / "warehouse.duckdb"
    backend = DuckDBBackend(path, lock_timeout_s=0.3)
    backend.write_partition(READINGS, readings("nyc", date(2026, 6, 1), [70.0]), "nyc", date(2026, 6, 1))
    notebook = hold_duckdb(path)
    waits: list[str] = []
    with pytest.raises(WarehouseLockedError) as err:
        backend.write_partition(READINGS, readings("nyc", date(2026, 6, 1), [99.0]), "nyc", date(2026, 6, 1),
                                on_lock_wait=waits.append)  # fmt: skip
    assert err.value.holder is not None and err.value.holder.pid == notebook.pid
    assert f"DuckDB file {path} is locked by " in str(err.value) and f"(PID {notebook.pid}) for 0.3s" in str(err.value)
    assert waits == [f"DuckDB file {path} is locked by {err.value.holder}; waiting up to 0.3s for it"]
    with pytest.raises(WarehouseLockedError, match=f"PID {notebook.pid}"):
        backend.read(READINGS)  # a reader is refused too: the holder has it read-write
    notebook.release()
    assert backend.read(READINGS)["temp_f"].to_list() == [70.0]  # nothing was written


def test_a_lock_released_while_waiting_is_taken_and_the_wait_reported(tmp_path, hold_duckdb):
    path = tmp_path / "warehouse.duckdb"
    backend = DuckDBBackend(path, lock_timeout_s=60)
    backend.write_partition(READINGS, readings("nyc", date(2026, 6, 1), [70.0]), "nyc", date(2026, 6, 1))
    notebook = hold_duckdb(path)
    waits: list[str] = []

    def on_lock_wait(message: str) -> None:
        waits.append(message)
        if len(waits) == 1:
            notebook.release()  # the other process lets go while we wait

    rows = backend.write_partition(READINGS, readings("nyc", date(2026, 6, 1), [71.0, 72.0]), "nyc",
                                   date(2026, 6, 1), on_lock_wait=on_lock_wait)  # fmt: skip
    assert rows == 2 and backend.read(READINGS)["temp_f"].to_list() == [71.0, 72.0]
    assert len(waits) == 2 and f"(PID {notebook.pid}); waiting up to 60s" in waits[0]
    assert waits[1].startswith(f"DuckDB file {path}: lock obtained after ")


def test_an_unreadable_file_is_an_error_at_once_not_a_lock_wait(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    path.write_bytes(b"not a database" * 100)
    waits: list[str] = []
    with pytest.raises(Exception, match="not a valid DuckDB database file") as err:
        DuckDBBackend(path, lock_timeout_s=60).existing_tables(on_lock_wait=waits.append)
    assert not isinstance(err.value, WarehouseLockedError) and waits == []
