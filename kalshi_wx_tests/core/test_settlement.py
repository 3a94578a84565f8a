from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.kalshi import markets_frame
from kalshi_wx.core.payloads.nws_cli import ClimateSummary, settlement_reports
from kalshi_wx.core.settlement import agrees_with_kalshi, kalshi_verdict, settlement_frame
from kalshi_wx_tests.conftest import TEST_DATA

DAY = date(2026, 6, 1)
ISSUED = datetime(2026, 6, 2, 6, 21, tzinfo=UTC)


@pytest.fixture
def unsettled(real_markets) -> pl.DataFrame:
    raw = [m for m in real_markets if m["event_ticker"] == "KXHIGHNY-26JUN01"]
    return markets_frame(raw, city="nyc", climate_date=DAY, source="fixture", tiers={})


def settled_as(markets: pl.DataFrame, yes_ticker: str, value: str) -> pl.DataFrame:
    """The real ladder as Kalshi reports it after settling (the fixture predates settlement)."""
    return markets.with_columns(
        result=pl.when(pl.col("ticker") == yes_ticker).then(pl.lit("yes")).otherwise(pl.lit("no")),
        expiration_value=pl.lit(value),
    )


def summary(max_f: int | None) -> ClimateSummary:
    return ClimateSummary(
        station="CENTRAL PARK NY", issuedby="NYC", climate_date=DAY, max_f=max_f, max_time="3:10 PM",
        min_f=60, min_time="5:00 AM", report_type="final", issued_text="121 AM EST TUE JUN 2 2026",
        issued_at=ISSUED, source="fixture", product_id="p-1",
    )  # fmt: skip


def test_cli_high_71_agrees_with_kalshi_settling_b70_5(unsettled):
    markets = settled_as(unsettled, "KXHIGHNY-26JUN01-B70.5", "71.00")
    assert kalshi_verdict(markets) == ("KXHIGHNY-26JUN01-B70.5", 71)
    assert agrees_with_kalshi(71, markets) is True
    assert agrees_with_kalshi(72, markets) is False  # another bracket
    assert agrees_with_kalshi(70, markets) is False  # same bracket, but Kalshi's value says 71


def test_unsettled_event_has_no_verdict(unsettled):
    assert kalshi_verdict(unsettled) == (None, None)
    assert agrees_with_kalshi(71, unsettled) is None


def test_settlement_row_and_missing_max(unsettled):
    markets = settled_as(unsettled, "KXHIGHNY-26JUN01-B70.5", "71")
    frame = settlement_frame(
        city="nyc", climate_date=DAY, station="KNYC", reports=settlement_reports([summary(71)], DAY),
        settlement_source="nws_api", raw_text="CDUS41 KOKX ...", markets=markets,
    )  # fmt: skip
    row = frame.row(0, named=True)
    assert (row["max_f"], row["product_id"], row["agrees_with_kalshi"]) == (71, "p-1", True)
    assert (row["first_max_f"], row["latest_max_f"], row["n_reports"], row["settlement_source"]) == (
        71,
        71,
        1,
        "nws_api",
    )
    assert row["issued_at"] == ISSUED and row["expiration"] == datetime(2026, 6, 2, 11, 0, tzinfo=UTC)
    assert row["revised_after_expiration"] is False
    preliminary = replace(summary(69), report_type="preliminary", issued_at=ISSUED - timedelta(hours=10))
    for reports in ([], [summary(None)], [preliminary]):
        empty = settlement_frame(
            city="nyc", climate_date=DAY, station="KNYC", reports=settlement_reports(reports, DAY),
            settlement_source="nws_api", raw_text="", markets=markets,
        )  # fmt: skip
        assert empty.is_empty() and empty.columns == frame.columns


def test_settlement_row_keeps_the_late_correction_as_a_cross_check(unsettled):
    # Kalshi settled on 71; a correction to 72 came the next afternoon, after the 07:00 ET expiration.
    markets = settled_as(unsettled, "KXHIGHNY-26JUN01-B70.5", "71.00")
    late = replace(summary(72), report_type="correction", product_id="p-2", issued_at=ISSUED + timedelta(hours=12))
    frame = settlement_frame(
        city="nyc", climate_date=DAY, station="KNYC", reports=settlement_reports([late, summary(71)], DAY),
        settlement_source="iem_afos", raw_text="", markets=markets,
    )  # fmt: skip
    row = frame.row(0, named=True)
    assert (row["max_f"], row["report_type"], row["agrees_with_kalshi"]) == (71, "final", True)
    assert (row["latest_max_f"], row["latest_report_type"], row["latest_product_id"]) == (72, "correction", "p-2")
    assert row["revised_after_expiration"] is True and row["n_reports"] == 2


def test_kalshi_settled_every_real_kxhighchi_event_on_midways_official_high(real_data):
    # 266 recorded GET /events payloads (cents era) against IEM's CLI highs for Midway: Kalshi's verdict
    # (the YES bracket and expiration_value) is what agrees_with_kalshi reads, on every settled day.
    highs = pl.read_parquet(real_data / "daily_tmax/halsted312_iem_cli/chicago.parquet")
    official = {r["date_local"]: r["tmax_iem_f"] for r in highs.iter_rows(named=True)}
    settled = unsettled = 0
    stripped = []
    for path in sorted((real_data / "kalshi/cpratim_KXHIGHCHI/events").glob("*.json")):
        day = date.fromisoformat(path.stem)
        body = json.loads(path.read_text())
        try:
            markets = markets_frame(body["markets"], city="chi", climate_date=day, source=path.name, tiers={})
        except PayloadError as exc:
            # A trap of these files: from 2025-01-16 to 02-09 the winning market was saved without its
            # strike_type and strikes. The parser names it rather than guess a bracket from a ticker;
            # Kalshi's settled value still matches.
            assert exc.field == "strike_type"
            assert {float(m["expiration_value"]) for m in body["markets"] if m["expiration_value"]} == {official[day]}
            stripped.append(day)
            continue
        verdict = agrees_with_kalshi(official[day], markets)
        if verdict is None:
            unsettled += 1
            continue
        assert verdict, f"{path.name}: Kalshi {kalshi_verdict(markets)}, IEM CLI high {official[day]}"
        settled += 1
    assert (settled, unsettled, len(stripped)) == (227, 14, 25)
    assert (min(stripped), max(stripped)) == (date(2025, 1, 16), date(2025, 2, 9))


def test_a_real_unsettled_event_has_no_verdict():
    body = json.loads((TEST_DATA / "kalshi/cpratim_KXHIGHCHI/events/2025-04-25.json").read_text())
    markets = markets_frame(body["markets"], city="chi", climate_date=date(2025, 4, 25), source="x", tiers={})
    assert markets["result"].to_list() == [""] * 6 and kalshi_verdict(markets) == (None, None)
