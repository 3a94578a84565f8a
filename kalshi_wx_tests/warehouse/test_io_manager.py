"""The warehouse IO manager: which slice of its table an asset partition writes and reads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import dagster as dg
import polars as pl
import pytest

from kalshi_wx.warehouse.io_manager import MissingUpstreamPartitionError, WarehouseIOManager
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import FUSED_PMF, MODEL_ARTIFACTS

CITIES = dg.StaticPartitionsDefinition(["nyc", "chi"])
CITY_DAYS = dg.MultiPartitionsDefinition(
    {"city": CITIES, "date": dg.DailyPartitionsDefinition(start_date="2026-01-01")}
)
ARTIFACTS_KEY = dg.AssetKey(["models", "artifacts"])
FUSED_KEY = dg.AssetKey(["pmf", "fused_pmf"])


@pytest.fixture
def io_manager(tmp_path) -> WarehouseIOManager:
    return WarehouseIOManager(warehouse=Warehouse(url=f"duckdb://{tmp_path / 'warehouse.duckdb'}"))


def _artifact(city: str, end: date, sha256: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "city": [city],
            "climate_date": [end],
            "window_start": [date(2026, 6, 1)],
            "path": [f"artifacts/models/{city}/{sha256}.pkl"],
            "sha256": [sha256],
        },
        schema=MODEL_ARTIFACTS.columns,
    )


def _write(io_manager: WarehouseIOManager, key: dg.AssetKey, partition: str, partitions_def, frame) -> None:
    context = dg.build_output_context(asset_key=key, partition_key=partition, asset_partitions_def=partitions_def)
    io_manager.handle_output(context, frame)


def _read(io_manager: WarehouseIOManager, key: dg.AssetKey, partition: str, partitions_def) -> pl.DataFrame:
    context = dg.build_input_context(asset_key=key, partition_key=partition, asset_partitions_def=partitions_def)
    return io_manager.load_input(context)


def test_a_per_city_partition_replaces_the_slice_its_rows_name(io_manager):
    first, second = date(2026, 6, 4), date(2026, 6, 5)
    _write(io_manager, ARTIFACTS_KEY, "nyc", CITIES, _artifact("nyc", first, "a"))
    _write(io_manager, ARTIFACTS_KEY, "nyc", CITIES, _artifact("nyc", second, "b"))
    _write(io_manager, ARTIFACTS_KEY, "chi", CITIES, _artifact("chi", second, "c"))
    # Re-training a window replaces its row; the other windows and cities stay.
    _write(io_manager, ARTIFACTS_KEY, "nyc", CITIES, _artifact("nyc", first, "a2"))
    assert _read(io_manager, ARTIFACTS_KEY, "nyc", CITIES).select("climate_date", "sha256").rows() == [
        (first, "a2"),
        (second, "b"),
    ]
    assert _read(io_manager, ARTIFACTS_KEY, "chi", CITIES)["sha256"].to_list() == ["c"]


def test_a_per_city_partition_refuses_rows_of_several_days_or_another_city(io_manager):
    two_days = pl.concat([_artifact("nyc", date(2026, 6, 4), "a"), _artifact("nyc", date(2026, 6, 5), "b")])
    with pytest.raises(ValueError, match=r"models/artifacts: partition 'nyc' is a city.* 2 distinct"):
        _write(io_manager, ARTIFACTS_KEY, "nyc", CITIES, two_days)
    with pytest.raises(ValueError, match="no rows"):
        _write(io_manager, ARTIFACTS_KEY, "nyc", CITIES, _artifact("nyc", date(2026, 6, 4), "a").head(0))
    with pytest.raises(ValueError, match=r"outside partition nyc\|2026-06-04"):
        _write(io_manager, ARTIFACTS_KEY, "nyc", CITIES, _artifact("chi", date(2026, 6, 4), "a"))


def test_a_city_day_partition_is_its_slice(io_manager):
    day = date(2026, 6, 2)
    fused = pl.DataFrame(
        {
            "city": ["nyc"],
            "climate_date": [day],
            "ticker": ["KXHIGHNY-26JUN02-B72.5"],
            "ts": [datetime(2026, 6, 2, 5, tzinfo=UTC)],
            **dict.fromkeys(("p_wx", "p_mkt", "w_mkt", "p_fused", "p_fused_norm"), [0.5]),
        },
        schema=FUSED_PMF.columns,
    )
    _write(io_manager, FUSED_KEY, "nyc|2026-06-02", CITY_DAYS, fused)
    assert _read(io_manager, FUSED_KEY, "nyc|2026-06-02", CITY_DAYS).equals(fused)
    assert _read(io_manager, FUSED_KEY, "nyc|2026-06-03", CITY_DAYS).is_empty()


def test_a_key_that_is_not_city_and_day_names_the_asset_and_the_key(io_manager):
    # A run launched by tag hands the IO manager the key as a plain string, unchecked.
    context = SimpleNamespace(
        asset_key=FUSED_KEY,
        has_asset_partitions=True,
        asset_partition_keys=["nyc-2026-06-02"],
        asset_partitions_def=CITY_DAYS,
    )
    with pytest.raises(ValueError, match=r"pmf/fused_pmf: partition key 'nyc-2026-06-02' is not 'city\|YYYY-MM-DD'"):
        io_manager.load_input(context)


def test_waiting_for_a_held_duckdb_file_shows_in_the_runs_event_log(tmp_path, hold_duckdb):
    path = tmp_path / "warehouse.duckdb"
    io_manager = WarehouseIOManager(warehouse=Warehouse(url=f"duckdb://{path}", lock_timeout_s=0.2))

    @dg.asset(key=ARTIFACTS_KEY, partitions_def=CITIES)
    def artifacts() -> pl.DataFrame:
        return _artifact("nyc", date(2026, 6, 4), "a")

    notebook = hold_duckdb(path)
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [artifacts], partition_key="nyc", resources={"io_manager": io_manager}, instance=instance,
            raise_on_error=False,
        )  # fmt: skip
        messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert not result.success
    assert any(f"(PID {notebook.pid}); waiting up to 0.2s for it" in m for m in messages)
    [failure] = result.get_step_failure_events()
    cause = failure.event_specific_data.error.cause  # under Dagster's "Error occurred while handling output"
    assert cause.cls_name == "WarehouseLockedError" and f"PID {notebook.pid}" in cause.message


def test_an_input_partition_never_materialized_is_an_error_naming_it(io_manager):
    key = "nyc|2026-06-10"
    with dg.DagsterInstance.ephemeral() as instance:

        def read() -> pl.DataFrame:
            context = dg.build_input_context(
                asset_key=FUSED_KEY, partition_key=key, asset_partitions_def=CITY_DAYS, instance=instance
            )
            return io_manager.load_input(context)

        with pytest.raises(MissingUpstreamPartitionError, match=r"pmf/fused_pmf nyc\|2026-06-10 has not been"):
            read()
        # A partition that was materialized with no rows (a quiet day) reads as the empty frame it is.
        _write(io_manager, FUSED_KEY, key, CITY_DAYS, pl.DataFrame(schema=FUSED_PMF.polars_schema))
        instance.report_runless_asset_event(dg.AssetMaterialization(FUSED_KEY, partition=key))
        assert read().is_empty()
