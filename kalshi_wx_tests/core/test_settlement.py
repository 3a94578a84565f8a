from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from kalshi_wx.core.payloads.kalshi import markets_frame
from kalshi_wx.core.payloads.nws_cli import ClimateSummary, settlement_reports
from kalshi_wx.core.settlement import agrees_with_kalshi, kalshi_verdict, settlement_frame

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
