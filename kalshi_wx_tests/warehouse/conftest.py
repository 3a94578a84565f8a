from __future__ import annotations

import pytest

from kalshi_wx.warehouse.backends import DuckDBBackend, PostgresBackend


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, tmp_path):
    """Each warehouse backend, empty: a DuckDB file in tmp, or the CI PostgreSQL."""
    if request.param == "duckdb":
        yield DuckDBBackend(tmp_path / "warehouse.duckdb")
        return
    backend = PostgresBackend(request.getfixturevalue("postgres_url"))
    yield backend
    with backend.connect() as con, con.cursor() as cur:
        cur.execute(
            "SELECT schema_name FROM information_schema.schemata "
            "WHERE schema_name NOT LIKE 'pg_%' AND schema_name NOT IN ('information_schema', 'public')"
        )
        for (schema,) in cur.fetchall():
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        con.commit()
