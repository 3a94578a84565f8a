"""Run-failure analysis on runs recorded in a real Dagster instance: partition, run id and root cause."""

from __future__ import annotations

import sys
from datetime import date

import dagster as dg
import pytest
from dagster._utils.error import serializable_error_info_from_exc_info

from kalshi_wx.core.errors import ConfigError
from kalshi_wx.defs.partitions import city_date_key, city_date_partitions
from kalshi_wx.defs.run_errors import FailedPartition, failed_partitions, root_cause

BAD_DAY = "2026-06-02"


@dg.asset(partitions_def=city_date_partitions)
def signed_read(context) -> None:
    """Fails on one day as a source with a bad key file would, and on another through a wrapped OS error."""
    day = context.partition_key.keys_by_dimension["date"]
    if day == BAD_DAY:
        raise ConfigError("KALSHI_PRIVATE_KEY_PATH=/keys/kalshi.pem: cannot read (No such file or directory)")
    if day == "2026-06-03":
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as exc:
            raise RuntimeError("kalshi GET /markets (event KXHIGHNY-26JUN03): unreachable after 5 attempt(s)") from exc


@dg.resource
def keys(_) -> None:
    raise ConfigError("KALSHI_WX_SOURCES='bogus': expected 'sim', 'live' or 'replay'")


@dg.asset(required_resource_keys={"keys"})
def needs_keys() -> None:
    """Never runs: its resource fails to start."""


@pytest.fixture
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield instance


def _run(instance, assets, **kwargs) -> str:
    return dg.materialize(assets, instance=instance, raise_on_error=False, **kwargs).run_id


def test_each_failed_partition_names_its_run_and_the_error_under_dagsters_wrapper(instance):
    ok = _run(instance, [signed_read], partition_key=city_date_key("nyc", date.fromisoformat("2026-06-01")))
    bad = _run(instance, [signed_read], partition_key=city_date_key("nyc", date.fromisoformat(BAD_DAY)))
    wrapped = _run(instance, [signed_read], partition_key=city_date_key("chi", date.fromisoformat("2026-06-03")))

    assert failed_partitions(instance, [ok, bad, wrapped]) == [
        FailedPartition(
            f"nyc|{BAD_DAY}",
            bad,
            "signed_read",
            "ConfigError: KALSHI_PRIVATE_KEY_PATH=/keys/kalshi.pem: cannot read (No such file or directory)",
        ),
        FailedPartition(
            "chi|2026-06-03",
            wrapped,
            "signed_read",
            # What our code said (which request), and the low-level error it was raised from.
            "RuntimeError: kalshi GET /markets (event KXHIGHNY-26JUN03): unreachable after 5 attempt(s)"
            " (from ConnectionRefusedError: [Errno 111] Connection refused)",
        ),
    ]
    [failure] = failed_partitions(instance, [bad])
    assert failure.line() == (
        f"nyc|{BAD_DAY} (run {bad}): signed_read: ConfigError: KALSHI_PRIVATE_KEY_PATH=/keys/kalshi.pem: "
        "cannot read (No such file or directory)"
    )


def test_a_resource_that_fails_to_start_is_named_by_its_error(instance):
    run_id = _run(instance, [needs_keys], resources={"keys": keys})
    [failure] = failed_partitions(instance, [run_id])
    # In process, resources start before any step: the run fails under DagsterResourceFunctionError.
    assert failure.partition is None and failure.step_key is None
    assert failure.line("kalshi/series") == (
        f"kalshi/series (run {run_id}): ConfigError: KALSHI_WX_SOURCES='bogus': expected 'sim', 'live' or 'replay'"
    )


def test_a_run_failed_without_a_failed_step_gives_the_runs_message(instance):
    # What run monitoring does to a run whose worker never started: no step ran, the run is failed.
    job = dg.Definitions(assets=[signed_read], jobs=[dg.define_asset_job("only", [signed_read])]).resolve_job_def(
        "only"
    )
    run = instance.create_run_for_job(job, tags={"dagster/partition": "nyc|2026-06-04"})
    instance.report_run_failed(run, "Run timed out due to taking longer than 300 seconds to start.")
    [failure] = failed_partitions(instance, [run.run_id])
    assert failure == FailedPartition(
        "nyc|2026-06-04", run.run_id, None, "Run timed out due to taking longer than 300 seconds to start."
    )


def test_root_cause_of_a_many_line_message_is_its_first_line():
    try:
        raise ValueError("dbt build failed\n  model minute_panel: relation missing\n  1 of 3 ERROR")
    except ValueError:
        error = serializable_error_info_from_exc_info(sys.exc_info())
    assert root_cause(error) == "ValueError: dbt build failed (+2 more lines in the run's log)"
