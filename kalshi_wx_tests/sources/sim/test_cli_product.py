"""The simulator's CLI text must parse back to what was rendered, through the same parser that reads
real products, including the layout traps (normals-block MAXIMUM, record flags, DST zone names)."""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.payloads.nws_cli import parse_cli_product
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.sim.cli_product import render_cli_product

SUMMER_DAY, WINTER_DAY = date(2026, 6, 1), date(2026, 1, 15)


def _issued(city_key: str, climate_date: date, report_type: str) -> datetime:
    start, end = climate_day_window(climate_date, settings().cities[city_key].std_utc_offset_hours)
    if report_type == "preliminary":
        return start + timedelta(hours=16, minutes=32)  # 4:32 PM standard time, during the day
    if report_type == "final":
        return end + timedelta(hours=1, minutes=16)
    return end + timedelta(hours=9, minutes=5)


CASES = [
    ("nyc", SUMMER_DAY, "final", 71, "2:52 PM", 58, "543 AM"),
    ("nyc", WINTER_DAY, "preliminary", 33, "1:07 PM", 19, "11:59 PM"),
    ("chi", SUMMER_DAY, "correction", 88, "404 PM", 66, "5:10 AM"),
    ("lax", WINTER_DAY, "final", 64, "1159 AM", 49, "6:02 AM"),
    ("den", WINTER_DAY, "correction", 9, "12:01 AM", -14, "758 AM"),
    ("mia", SUMMER_DAY, "preliminary", 91, "1:31 PM", 79, "6:45 AM"),
    ("aus", SUMMER_DAY, "final", 99, "5:17 PM", 75, "6:20 AM"),
]


@pytest.mark.parametrize(("city_key", "day", "report_type", "high", "high_at", "low", "low_at"), CASES)
def test_render_then_parse_round_trip(city_key, day, report_type, high, high_at, low, low_at):
    city = settings().cities[city_key]
    issued_at = _issued(city_key, day, report_type)
    text = render_cli_product(
        city=city,
        climate_date=day,
        max_f=high,
        max_time=high_at,
        min_f=low,
        min_time=low_at,
        issued_at=issued_at,
        report_type=report_type,
    )
    (summary,) = parse_cli_product(text, source=f"sim {city_key}")
    assert summary.to_json_dict() == {
        "station": city.station_name,
        "climate_date": day.isoformat(),
        "max_f": high,
        "min_f": low,
        "report_type": report_type,
    }
    assert (summary.max_time, summary.min_time) == (high_at, low_at)
    assert summary.issuedby == city.issuedby
    # The issuance line is printed in local civil time with its zone name (EDT in June, EST in
    # January); parsing it back must land on the same instant.
    assert summary.issued_at == issued_at
    assert summary.wmo_header.split()[2] == f"{issued_at:%d%H%M}"
    assert summary.wmo_header.endswith(" CCA") == (report_type == "correction")
    assert ("VALID TODAY AS OF" in text) == (report_type == "preliminary")


def test_normals_block_maximum_is_a_different_number_and_is_not_taken():
    city = settings().cities["nyc"]
    text = render_cli_product(
        city=city,
        climate_date=SUMMER_DAY,
        max_f=64,
        max_time="12:10 AM",
        min_f=51,
        min_time="11:58 PM",
        issued_at=_issued("nyc", SUMMER_DAY, "final"),
        report_type="final",
    )
    normals_high = int(re.search(r"^ MAXIMUM TEMPERATURE \(F\)\s+(-?\d+)", text, re.M)[1])
    observed_row = next(line for line in text.splitlines() if line.startswith("  MAXIMUM"))
    # The trap is armed: another MAXIMUM with another value, and record/normal numbers on the row.
    assert normals_high != 64
    assert len(re.findall(r"-?\d+", observed_row.split("AM", 1)[1])) >= 3
    assert parse_cli_product(text, source="sim")[0].max_f == 64
    (without_row,) = parse_cli_product(text.replace(observed_row + "\n", ""), source="sim without MAXIMUM")
    assert without_row.max_f is None
    assert without_row.min_f == 51


def test_record_values_are_flagged_and_parse_back():
    text = render_cli_product(
        city=settings().cities["den"],
        climate_date=WINTER_DAY,
        max_f=84,
        max_time="2:15 PM",
        min_f=-41,
        min_time="7:02 AM",
        issued_at=_issued("den", WINTER_DAY, "final"),
        report_type="final",
    )
    assert "84R" in text and "-41R" in text
    (summary,) = parse_cli_product(text, source="sim den")
    assert (summary.max_f, summary.is_record_max, summary.min_f, summary.is_record_min) == (
        84,
        True,
        -41,
        True,
    )


def test_real_knyc_series_round_trips(real_data):
    """Every parsed CLINYC day of the other project's series, rendered at the issuance time of its
    product id (e.g. 201801020639-KOKX-CDUS41-CLINYC) and parsed back."""
    city = settings().cities["nyc"]
    path = real_data / "daily_tmax" / "knyc_cli_daily_2018Q1_and_2026-05-24_to_08-23.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 182
    kinds = []
    for row in rows:
        day = date.fromisoformat(row["date"])
        issued_at = datetime.strptime(row["cli_product_id"][:12], "%Y%m%d%H%M").replace(tzinfo=UTC)
        _, day_end = climate_day_window(day, city.std_utc_offset_hours)
        report_type = "preliminary" if issued_at < day_end else "final"
        text = render_cli_product(
            city=city,
            climate_date=day,
            max_f=int(float(row["official_daily_high_f"])),
            max_time=row["cli_high_time_local"],
            min_f=int(float(row["cli_low_f"])),
            min_time=row["cli_low_time_local"],
            issued_at=issued_at,
            report_type=report_type,
        )
        (summary,) = parse_cli_product(text, source=row["cli_product_id"])
        got = (summary.climate_date, summary.max_f, summary.max_time, summary.min_f, summary.min_time)
        expected = (
            day,
            int(float(row["official_daily_high_f"])),
            row["cli_high_time_local"],
            int(float(row["cli_low_f"])),
            row["cli_low_time_local"],
        )
        assert got == expected, row["date"]
        assert summary.issued_at == issued_at, row["date"]
        kinds.append(summary.report_type)
    # The README: only the last row (2026-08-23) comes from a preliminary report.
    assert kinds == ["final"] * (len(rows) - 1) + ["preliminary"]


@pytest.mark.parametrize(
    ("report_type", "issued_offset", "message"),
    [
        ("final", timedelta(hours=12), "issued after the climate day"),
        ("preliminary", timedelta(hours=30), "issued during the climate day"),
        ("revised", timedelta(hours=30), "report_type must be one of"),
    ],
)
def test_inconsistent_requests_are_refused(report_type, issued_offset, message):
    start, _ = climate_day_window(SUMMER_DAY, -5)
    with pytest.raises(ValueError, match=message):
        render_cli_product(
            city=settings().cities["nyc"],
            climate_date=SUMMER_DAY,
            max_f=70,
            max_time="3:00 PM",
            min_f=60,
            min_time="5:00 AM",
            issued_at=start + issued_offset,
            report_type=report_type,
        )


def test_naive_issuance_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        render_cli_product(
            city=settings().cities["nyc"],
            climate_date=SUMMER_DAY,
            max_f=70,
            max_time="3:00 PM",
            min_f=60,
            min_time="5:00 AM",
            issued_at=datetime(2026, 6, 2, 6, 0),
            report_type="final",
        )
