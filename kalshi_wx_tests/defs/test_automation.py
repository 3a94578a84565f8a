"""The graph running by itself: the settlement-polling sensor against a fake api.weather.gov, the
per-city ingest schedules, and declarative automation refreshing what a late correction touches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from kalshi_wx.core.cli_poll import PollState
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.definitions import build_definitions
from kalshi_wx.defs.assets.common import INGESTION_RETRY, retry_only_transient
from kalshi_wx.defs.assets.weather import settlement_poll
from kalshi_wx.defs.automation import closed_climate_day, ingest_schedules, standard_time_zone
from kalshi_wx.defs.partitions import city_date_key
from kalshi_wx.defs.resources import NwsResource, build_resources
from kalshi_wx.defs.runs import run_partitions, run_series
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.http import SourceHTTPError, SourceUnavailableError
from kalshi_wx.sources.loopback import LoopbackServer
from kalshi_wx.sources.sim.cli_product import render_cli_product
from kalshi_wx_tests.fakes.nws_server import FakeNwsApi

NYC = settings().city("nyc")
DAY = date(2026, 6, 10)


@pytest.fixture
def nws(monkeypatch) -> Iterator[FakeNwsApi]:
    fake = FakeNwsApi()
    with LoopbackServer(fake) as server:
        monkeypatch.setenv("NWS_API_BASE", server.url)
        yield fake


def _product(report_type: str, issued: datetime, max_f: int, day: date = DAY) -> str:
    return render_cli_product(
        city=NYC, climate_date=day, max_f=max_f, max_time="301 PM", min_f=60, min_time="510 AM",
        issued_at=issued, report_type=report_type,
    )  # fmt: skip


def _poll(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"nws": NwsResource(mode="live")})
    return settlement_poll(context)


def test_settlement_sensor_requests_each_product_once_preliminary_final_correction(nws):
    start, end = climate_day_window(DAY, NYC.std_utc_offset_hours)
    cursor = json.dumps({NYC.issuedby: PollState(since=start).to_json()})
    with dg.DagsterInstance.ephemeral() as instance:
        result = _poll(instance, cursor)
        assert result.run_requests == []  # nothing issued yet

        issued = {
            "preliminary": start + timedelta(hours=16, minutes=30),
            "final": end + timedelta(hours=1, minutes=20),
            "correction": end + timedelta(hours=9),
        }
        requested = []
        for report_type, max_f in (("preliminary", 84), ("final", 86), ("correction", 85)):
            product_id = nws.add_text(
                NYC.issuedby, _product(report_type, issued[report_type], max_f), issued[report_type]
            )
            result = _poll(instance, result.cursor)
            assert [(r.partition_key, r.run_key) for r in result.run_requests] == [
                (city_date_key("nyc", DAY), f"{product_id}|nyc|{DAY}")
            ], report_type
            requested.append(result.run_requests[0].tags["kalshi_wx/cli_product"])
            unchanged = _poll(instance, result.cursor)
            assert unchanged.run_requests == [], f"an unchanged poll after the {report_type} requested a run"
            result = unchanged
        assert len(set(requested)) == 3
        # Every configured city's CLI location was asked, each time.
        listings = {p for p in nws.paths() if p.startswith("/products/types/CLI/locations/")}
        assert listings == {f"/products/types/CLI/locations/{c.issuedby}" for c in settings().cities.values()}


def test_settlement_sensor_holds_a_preliminary_until_its_day_is_a_partition(nws):
    now = datetime.now(UTC).replace(microsecond=0)
    today = (now + timedelta(hours=NYC.std_utc_offset_hours)).date()
    day_start, _ = climate_day_window(today, NYC.std_utc_offset_hours)
    issued = max(day_start, now - timedelta(minutes=5))
    nws.add_text(NYC.issuedby, _product("preliminary", issued, 70, day=today), issued)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _poll(instance, None)
        assert first.run_requests == []  # today's partition does not exist until the day is over
        state = PollState.from_json(json.loads(first.cursor)[NYC.issuedby])
        assert state.since == issued and not state.handled  # listed again on the next poll
        assert _poll(instance, first.cursor).run_requests == []


def test_ingest_schedules_run_the_closed_day_at_the_citys_standard_hour():
    by_name = {s.name: s for s in ingest_schedules}
    assert set(by_name) == {f"ingest_closed_day_{c}" for c in settings().cities}
    schedule = by_name["ingest_closed_day_nyc"]
    hour = settings().automation.ingest_hour_lst
    assert (schedule.cron_schedule, schedule.execution_timezone) == (f"0 {hour} * * *", "Etc/GMT+5")
    assert standard_time_zone(settings().city("lax")) == "Etc/GMT+8"
    tick = datetime(2026, 7, 2, hour, tzinfo=UTC) - timedelta(hours=NYC.std_utc_offset_hours)
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        request = schedule(context)
    assert (
        request.partition_key
        == city_date_key("nyc", date(2026, 7, 1))
        == city_date_key("nyc", closed_climate_day(date(2026, 7, 2)))
    )
    assert schedule.job_name == "raw_daily"


def test_definitions_declare_the_automation():
    defs = build_definitions()
    assert {s.name for s in defs.sensors} >= {"settlement_poll", "automation", "highres_closed_days"}
    graph = defs.resolve_asset_graph()
    refreshed = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).automation_condition}
    assert refreshed == {
        "pmf/hazard_params", "pmf/hazard_pmf", "pmf/fused_pmf", "features/minute_panel",
        "features/minute_panel_full", "backtest/backtest_report", "backtest/strategy_days",
    }  # fmt: skip
    # Ingestion assets retry transient source failures; the logic layers do not retry at all.
    assert defs.get_assets_def(dg.AssetKey(["weather", "settlement"])).op.retry_policy == INGESTION_RETRY
    assert defs.get_assets_def(dg.AssetKey(["pmf", "fused_pmf"])).op.retry_policy is None


def test_only_transient_source_failures_reach_the_retry_policy():
    def failing(exc: Exception):
        @retry_only_transient
        def body():
            raise exc

        return body

    for transient in (
        SourceUnavailableError("kalshi", "GET /markets", 5, "ConnectError"),
        SourceHTTPError("kalshi", "GET /markets", 503, "unavailable"),
        SourceHTTPError("kalshi", "GET /markets", 429, "too many requests"),
    ):
        with pytest.raises(type(transient)):
            failing(transient)()
    for logic in (SourceHTTPError("kalshi", "GET /events/X", 404, "not found"), PayloadError("GET /x", "no field")):
        with pytest.raises(dg.Failure) as failure:
            failing(logic)()
        assert failure.value.allow_retries is False and str(logic) in failure.value.description


def test_automation_refreshes_what_reads_a_late_settlement_correction(tmp_path, monkeypatch):
    monkeypatch.setenv("KALSHI_WX_HOME", str(tmp_path))
    day = datetime.now(UTC).date() - timedelta(days=3)  # within the late-correction lookback
    key = city_date_key("nyc", day)
    defs = build_definitions(build_resources(mode="sim", warehouse_url=f"duckdb://{tmp_path / 'w.duckdb'}"))
    with dg.DagsterInstance.ephemeral() as instance:
        assert run_series(defs, instance)
        [outcome] = run_partitions(defs, instance, [key], job_name="daily")
        assert outcome.success, outcome.error
        baseline = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=baseline.cursor)
        assert again.total_requested == 0  # nothing changed since the last evaluation
        # The late correction: the settlement of that day alone is re-materialized.
        corrected = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            partition_key=key, asset_selection=[dg.AssetKey(["weather", "settlement"])], instance=instance
        )
        assert corrected.success
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=again.cursor)
    requested = {
        k.to_user_string()
        for k in defs.resolve_asset_graph().get_all_asset_keys()
        if str(key) in result.get_requested_partitions(k)
    }
    # What reads the settlement (directly or through the fused PMF) is refreshed; the fit is not.
    assert {"pmf/fused_pmf"} <= requested
    assert "pmf/hazard_params" not in requested and "pmf/hazard_pmf" not in requested
