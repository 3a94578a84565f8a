"""CLI / CF6 parsing against the real NWS products in kalshi_wx_tests/data (and ../shared/data/real: shared_data).

Expected values in this file were read off the product text by hand (line quoted in the comment),
or come from an independent source: the rough pyIEM index, the product's own WMO header, the F-6
"SM" totals line, or the parsed CLINYC series and KNYC hourly METARs of another project.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kalshi_wx.core.climate_day import climate_date_of
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.nws_cli import (
    ClimateSummary,
    contract_expiration,
    parse_cf6_product,
    parse_cli_product,
    settlement_reports,
)
from kalshi_wx_tests.conftest import TEST_DATA

CLI_DIR = TEST_DATA / "nws_cli" / "pyiem"
CF6_DIR = TEST_DATA / "nws_cf6" / "pyiem"
CLI_FILES = sorted(CLI_DIR.glob("*.txt"))
MALFORMED_CF6 = {
    "CF6DSM_bad.txt": ("MONTH", "no 'MONTH:' line"),
    "CF6DSM_empty.txt": ("DY", "no day rows"),
    "CF6WYS_error.txt": (None, "Bad date: 12/2020"),
}
CF6_FILES = sorted(p for p in CF6_DIR.glob("*.txt") if p.name not in MALFORMED_CF6)
NYC_STD_OFFSET = -5


def _cli(name: str) -> list[ClimateSummary]:
    return parse_cli_product((CLI_DIR / name).read_text(), source=name)


def _cf6(name: str) -> list[ClimateSummary]:
    return parse_cf6_product((CF6_DIR / name).read_text(), source=name)


def test_real_folders_hold_the_documented_products():
    # Guards the parametrized tests below: an empty glob would make them pass vacuously.
    assert len(CLI_FILES) == 37
    assert sorted(p.name for p in CF6_FILES) == ["CF6ANC.txt", "CF6DSM.txt", "CF6SEA.txt", "CF6WYS.txt"]
    assert all((CF6_DIR / name).exists() for name in MALFORMED_CF6)


@pytest.mark.parametrize("path", CLI_FILES, ids=lambda p: p.name)
def test_every_real_cli_product_parses(path: Path):
    text = path.read_text()
    summaries = parse_cli_product(text, source=path.name)
    assert len(summaries) == len(re.findall(r"CLIMATE SUMMARY (?:FOR|FROM)", text))
    for summary in summaries:
        assert summary.issuedby == path.name[3:6]  # files are named after the AWIPS id, CLINYC.txt
        assert summary.report_type in {"final", "preliminary", "correction"}
        for value in (summary.max_f, summary.min_f):
            assert value is None or -80 <= value <= 135
        if summary.max_f is not None and summary.min_f is not None:
            assert summary.min_f <= summary.max_f
        if summary.max_f is None:
            assert any("MAXIMUM" in note for note in summary.notes)  # the product says why, no guess
        assert summary.issued_at is not None
        assert 0 <= (summary.issued_at.date() - summary.climate_date).days <= 1


def _index_int(text: str) -> int | None:
    return int(text) if text else None


# Where the rough regex index is wrong by its own admission, or where this parser decides otherwise
# on purpose; the value here is read off the product.
INDEX_OVERRIDES = {
    "CLIANN.txt": {"max_f": 53},  # " MAXIMUM            53R 0151 PM": the index kept the record flag
    # "TODAY" rows issued at "500 PM SST" with no VALID line: the day was not over, so not final.
    "CLIPPG.txt": {"preliminary": True},
    "CLIPPG2.txt": {"preliminary": True},
}


def test_first_summary_agrees_with_the_rough_index():
    with (TEST_DATA / "nws_cli" / "pyiem_CLI_index.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(CLI_FILES)
    for row in rows:
        summary = _cli(row["file"])[0]
        expected = {
            "climate_date": datetime.strptime(row["summary_date_text"], "%B %d %Y").date(),
            "max_f": None if row["file"] == "CLIANN.txt" else _index_int(row["max_f_regex"]),
            "min_f": _index_int(row["min_f_regex"]),
            "preliminary": row["preliminary_valid_as_of"] == "True",
            "wmo_header": row["wmo_header"],
        } | INDEX_OVERRIDES.get(row["file"], {})
        got = {
            "climate_date": summary.climate_date,
            "max_f": summary.max_f,
            "min_f": summary.min_f,
            "preliminary": summary.report_type == "preliminary",
            "wmo_header": summary.wmo_header,
        }
        assert got == expected, row["file"]


HAND_READ = [
    # "...THE CENTRAL PARK NY CLIMATE SUMMARY FOR JANUARY 2 2013..." / "MAXIMUM 33 301 PM 68 1876 39"
    # "MINIMUM 22 743 AM"; issued "116 AM EST THU JAN 3 2013"; normals block "MAXIMUM ... 39 64 2000".
    (
        "CLINYC.txt",
        {
            "station": "CENTRAL PARK NY",
            "climate_date": date(2013, 1, 2),
            "max_f": 33,
            "max_time": "301 PM",
            "min_f": 22,
            "min_time": "743 AM",
            "report_type": "final",
            "issued_at": datetime(2013, 1, 3, 6, 16, tzinfo=UTC),
        },
    ),
    # "VALID AS OF 0400 PM LOCAL TIME." / " TODAY" / "MAXIMUM 69 328 PM 81 1995 59"
    (
        "CLIACT.txt",
        {"max_f": 69, "min_f": 52, "report_type": "preliminary", "valid_as_of": "0400 PM LOCAL TIME"},
    ),
    # "VALID TODAY AS OF 0500 PM LOCAL TIME." / "MAXIMUM 25 255 PM 51 -26 59" / "MINIMUM 5"
    ("CLIEAR.txt", {"max_f": 25, "min_f": 5, "report_type": "preliminary", "day_label": "TODAY"}),
    # header "CDUS43 KDMX 130647 RRA" / "MAXIMUM 62 246 PM MM MM 62": RR is a routine report sent late
    ("CLIEST.txt", {"max_f": 62, "min_f": 33, "report_type": "final"}),
    # "MAXIMUM 53R 0151 PM 50 2003": a record, Alaska's zero-padded time
    ("CLIANN.txt", {"max_f": 53, "max_time": "0151 PM", "is_record_max": True, "is_record_min": False}),
    # "VALID AS OF 0500 AM" / "MAXIMUM 1 MM MM 24" / "MINIMUM -6 MM MM 0"
    ("CLIOLF.txt", {"max_f": 1, "min_f": -6, "report_type": "preliminary"}),
    # Only "MINIMUM 22" under TODAY; the one MAXIMUM is the normals block's "MAXIMUM TEMPERATURE (F) 41".
    ("CLIICT.txt", {"max_f": None, "max_time": None, "min_f": 22, "report_type": "preliminary"}),
    # Only "MINIMUM 76 615 AM 56 63 72"; the normals block says "MAXIMUM TEMPERATURE (F) 98 106 2012".
    ("CLISAD.txt", {"max_f": None, "min_f": 76, "min_time": "615 AM"}),
    # Only "MINIMUM 12 -28 1990 16" and no normals block at all.
    ("CLIMSO.txt", {"max_f": None, "min_f": 12}),
    # "MAXIMUM 57(E) 221 AM": estimated; the NCSU appendix "MAXIMUM TEMPERATURE... 59" is another site.
    ("CLIRDU.txt", {"max_f": 57, "is_estimated_max": True, "max_time": "221 AM", "min_f": 37}),
    # "MAXIMUM 39 11:29 PM 70 1890" / "MINIMUM 22 12:43 AM -11 1996"; issued "1234 AM EST FRI FEB 05 2021"
    (
        "CLICVG_colon.txt",
        {
            "max_f": 39,
            "max_time": "11:29 PM",
            "min_f": 22,
            "min_time": "12:43 AM",
            "issued_at": datetime(2021, 2, 5, 5, 34, tzinfo=UTC),
        },
    ),
    # "...THE PAGO PAGO AIRPORT CLIMATE SUMMARY FROM MARCH 30 2023..." (FROM, not FOR)
    ("CLIPPG4.txt", {"climate_date": date(2023, 3, 30), "max_f": 86, "min_f": 77, "report_type": "final"}),
    # Single-spaced Samoa table: "MAXIMUM 89 150 PM 91 2008 88 1 82" under "TODAY", issued 500 PM SST
    (
        "CLIPPG.txt",
        {
            "max_f": 89,
            "max_time": "150 PM",
            "min_f": 77,
            "report_type": "preliminary",
            "issued_at": datetime(2020, 12, 29, 4, 0, tzinfo=UTC),
        },
    ),
    # No TIME column: "MAXIMUM 55 63 1937 55" (63 is the record)
    ("CLIEKA.txt", {"max_f": 55, "max_time": None, "min_f": 42}),
    # TIME printed as MM: "MAXIMUM 44 MM 54 1998"
    ("CLISEW.txt", {"max_f": 44, "max_time": None, "min_f": 34}),
    # "...THE  TRI CITIES MI CLIMATE SUMMARY..." (two spaces)
    ("CLIMBS.txt", {"station": "TRI CITIES MI", "max_f": 29, "min_f": 18}),
    # "351 AM AKST THU JAN 2 2014" / "MAXIMUM 17 1159 PM 41 1968"
    (
        "CLIBET.txt",
        {"max_f": 17, "max_time": "1159 PM", "issued_at": datetime(2014, 1, 2, 12, 51, tzinfo=UTC)},
    ),
]


@pytest.mark.parametrize(("name", "expected"), HAND_READ, ids=[name for name, _ in HAND_READ])
def test_values_read_off_the_product_by_hand(name: str, expected: dict):
    (summary,) = _cli(name)
    assert {key: getattr(summary, key) for key in expected} == expected


def test_multi_station_product_gives_one_summary_per_station():
    summaries = _cli("CLIANC.txt")
    assert [(s.station, s.max_f, s.min_f) for s in summaries] == [
        ("ANCHORAGE AK", 23, 12),
        ("KING SALMON", 22, 9),
        ("KODIAK", 31, 22),
        ("BETHEL", 10, -3),
        ("SAINT PAUL ISLAND", 29, 21),
        ("COLD BAY", 33, 23),
    ]
    assert {s.climate_date for s in summaries} == {date(2017, 3, 14)}


# The printed issuance line is typed by the office; these two disagree with their own WMO header:
# CLIPPG's header day is 22 for a DEC 28 issuance, CLIPPG4 prints "200 AM SST" (13:00Z) under 1129Z.
HEADER_MISMATCHES = {"CLIPPG.txt", "CLIPPG4.txt"}


@pytest.mark.parametrize("path", [p for p in CLI_FILES if p.name not in HEADER_MISMATCHES], ids=lambda p: p.name)
def test_issuance_time_matches_the_wmo_header(path: Path):
    summary = parse_cli_product(path.read_text(), source=path.name)[0]
    ddhhmm = summary.wmo_header.split()[2]
    header_time = summary.issued_at.replace(day=int(ddhhmm[:2]), hour=int(ddhhmm[2:4]), minute=int(ddhhmm[4:]))
    # The header is the transmission time: a few minutes after the printed issuance (Samoa: 14).
    assert abs(header_time - summary.issued_at) <= timedelta(minutes=15)


def test_observed_high_is_never_taken_from_normals_or_record_columns():
    text = (CLI_DIR / "CLINYC.txt").read_text()
    observed_row = "  MAXIMUM         33    301 PM  68    1876  39     -6       50       \n"
    assert observed_row in text
    (summary,) = parse_cli_product(text.replace(observed_row, ""), source="CLINYC.txt without MAXIMUM")
    # 68 (record), 39 (normal) and the normals block's 39 / 64 are all still in the text.
    assert summary.max_f is None
    assert summary.notes == ("no MAXIMUM row in TEMPERATURE/YESTERDAY",)
    assert summary.min_f == 22


def test_missing_maximum_printed_as_mm():
    text = (CLI_DIR / "CLINYC.txt").read_text().replace("  MAXIMUM         33 ", "  MAXIMUM         MM ")
    (summary,) = parse_cli_product(text, source="CLINYC.txt with MM")
    assert (summary.max_f, summary.max_time) == (None, "301 PM")
    assert summary.notes == ("MAXIMUM observed value is MM (missing)",)


def test_negative_record_flag():
    text = (CLI_DIR / "CLIOLF.txt").read_text()
    assert "  MINIMUM         -6 " in text
    (summary,) = parse_cli_product(text.replace("  MINIMUM         -6 ", "  MINIMUM        -21R"), source="OLF")
    assert (summary.min_f, summary.is_record_min, summary.max_f) == (-21, True, 1)


def test_cli_without_temperature_section_names_source_and_field():
    text = (CLI_DIR / "CLINYC.txt").read_text()
    truncated = text[: text.index("TEMPERATURE (F)")]
    with pytest.raises(PayloadError, match=r"CLINYC_truncated.*TEMPERATURE.*CENTRAL PARK NY") as excinfo:
        parse_cli_product(truncated, source="CLINYC_truncated")
    assert excinfo.value.field == "TEMPERATURE"


def test_cli_with_two_maximum_rows_is_rejected_not_guessed():
    text = (CLI_DIR / "CLINYC.txt").read_text()
    row = "  MAXIMUM         33    301 PM  68    1876  39     -6       50       \n"
    doubled = text.replace(row, row + row.replace(" 33 ", " 35 "))
    with pytest.raises(PayloadError, match=r"CLINYC doubled.*line 26: a second MAXIMUM row"):
        parse_cli_product(doubled, source="CLINYC doubled")


def test_non_cli_text_is_rejected():
    with pytest.raises(PayloadError, match=r"CF6DSM.txt.*not a CLI product"):
        parse_cli_product((CF6_DIR / "CF6DSM.txt").read_text(), source="CF6DSM.txt")


@pytest.mark.parametrize("path", CF6_FILES, ids=lambda p: p.name)
def test_every_real_cf6_product_parses_and_matches_its_own_totals(path: Path):
    text = path.read_text()
    summaries = parse_cf6_product(text, source=path.name)
    assert all(s.report_type == "preliminary" and s.issuedby == path.name[3:6] for s in summaries)
    days = [s.climate_date for s in summaries]
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))] and days[0].day == 1
    highs = [s.max_f for s in summaries if s.max_f is not None]
    lows = [s.min_f for s in summaries if s.min_f is not None]
    # The product's own "SM" line totals the MAX and MIN columns.
    sm_max, sm_min = map(int, re.search(r"^SM\s+(-?\d+)\s+(-?\d+)", text, re.M).groups())
    assert (sum(highs), sum(lows)) == (sm_max, sm_min)
    if highest := re.search(r"^HIGHEST:\s+(-?\d+) ON\s+(\d+)", text, re.M):
        assert max(highs) == int(highest[1])
        assert summaries[int(highest[2]) - 1].max_f == int(highest[1])
    if lowest := re.search(r"^LOWEST:\s+(-?\d+) ON\s+(\d+)", text, re.M):
        assert min(lows) == int(lowest[1])


def test_cf6_values_read_by_hand():
    dsm = _cf6("CF6DSM.txt")
    # "STATION:   DES MOINES IA", "MONTH:     FEBRUARY", 22 rows; "13   4 -10  -3 -30  68"
    assert (dsm[0].station, len(dsm), dsm[12].climate_date) == ("DES MOINES IA", 22, date(2020, 2, 13))
    assert (dsm[12].max_f, dsm[12].min_f) == (4, -10)
    wys = _cf6("CF6WYS.txt")
    # "01  32  25", "04  14 -33", and the all-missing "24M   M   M" glued to its day number
    assert (wys[0].climate_date, wys[0].max_f, wys[0].min_f) == (date(2020, 2, 1), 32, 25)
    assert (wys[3].max_f, wys[3].min_f) == (14, -33)
    assert (wys[23].climate_date, wys[23].max_f, wys[23].min_f) == (date(2020, 2, 24), None, None)
    anc = _cf6("CF6ANC.txt")
    # "MONTH:     JUNE", days 26-30 are placeholder rows of M
    assert [(s.climate_date.day, s.max_f) for s in anc[24:]] == [(25, 63)] + [(d, None) for d in range(26, 31)]
    sea = _cf6("CF6SEA.txt")
    # "MONTH:     2" (numeric), "20  58  42"
    assert (sea[0].station, sea[19].climate_date, sea[19].max_f) == (
        "SEATTLE-TACOMA WA AIRPORT",
        date(2020, 2, 20),
        58,
    )


@pytest.mark.parametrize("name", sorted(MALFORMED_CF6))
def test_malformed_cf6_raises_payload_error_naming_the_file(name: str):
    field, message = MALFORMED_CF6[name]
    with pytest.raises(PayloadError) as excinfo:
        _cf6(name)
    assert str(excinfo.value).startswith(name)
    assert message in str(excinfo.value)
    assert excinfo.value.field == field


def test_cf6_day_that_does_not_exist_names_the_line():
    text = (CF6_DIR / "CF6DSM.txt").read_text().replace("\n22  53  27", "\n30  53  27")
    with pytest.raises(PayloadError, match=r"CF6DSM.txt, field 'DY': line 40: day 30 does not exist in 2020-02"):
        parse_cf6_product(text, source="CF6DSM.txt")


def test_cf6_garbled_row_names_the_line():
    text = (CF6_DIR / "CF6DSM.txt").read_text().replace("\n 5  28  18", "\n 5  2X  18")
    with pytest.raises(PayloadError, match=r"line 23: not a day row: '5  2X  18"):
        parse_cf6_product(text, source="CF6DSM.txt")


def test_a_correction_marked_only_in_the_title_lines_is_a_correction():
    # Offices sometimes mark a correction in the title, leaving the WMO heading without a CC group.
    text = (CLI_DIR / "CLINYC.txt").read_text()
    assert "CDUS41 KOKX 030616\n" in text  # no BBB group
    in_title = text.replace("\nCLIMATE REPORT\n", "\nCLIMATE REPORT (CORRECTION)\n", 1)
    in_summary = text.replace("SUMMARY FOR JANUARY 2 2013...", "SUMMARY FOR JANUARY 2 2013 CORRECTION...", 1)
    corrected_title = text.replace("\nCLIMATE REPORT\n", "\nCORRECTED CLIMATE REPORT\n", 1)
    for variant in (in_title, in_summary, corrected_title):
        assert variant != text
        (summary,) = parse_cli_product(variant, source="CLINYC.txt")
        assert (summary.report_type, summary.max_f, summary.climate_date) == ("correction", 33, date(2013, 1, 2))
    in_heading = text.replace("CDUS41 KOKX 030616\n", "CDUS41 KOKX 030616 CCA\n", 1)
    assert parse_cli_product(in_heading, source="x")[0].report_type == "correction"
    # The word below the summary line (free text an office appends) is not a title line.
    appendix = text.replace("\nTEMPERATURE (F)", "\nTHIS REPORT WILL BE CORRECTED IF NEEDED.\nTEMPERATURE (F)", 1)
    assert appendix != text and parse_cli_product(appendix, source="x")[0].report_type == "final"


@pytest.mark.parametrize(
    ("released", "expires"),
    [
        # 1:16 AM EST: the first 7:00 ET after it.
        (datetime(2013, 1, 3, 6, 16, tzinfo=UTC), datetime(2013, 1, 3, 12, 0, tzinfo=UTC)),
        # 7:30 AM EDT: 8:00 EDT the same morning.
        (datetime(2025, 7, 2, 11, 30, tzinfo=UTC), datetime(2025, 7, 2, 12, 0, tzinfo=UTC)),
        # 8:30 AM EDT: 7:00 EDT the next morning.
        (datetime(2025, 7, 2, 12, 30, tzinfo=UTC), datetime(2025, 7, 3, 11, 0, tzinfo=UTC)),
    ],
)
def test_contract_expiration_is_the_first_7_or_8_am_eastern_after_the_release(released, expires):
    assert contract_expiration(released) == expires


def test_settlement_follows_the_first_report_as_revised_before_expiration_on_real_reissues():
    # Three real finals for Cincinnati 2020-04-22 printed as issued 1:46, 1:47 and 1:50 AM EDT (68, 69, 70):
    # all before the 7:00 AM EDT expiration, so the last revision settles and the first is a cross-check.
    summaries = [s for name in ("CLICVG_older.txt", "CLICVG.txt", "CLICVG_newer.txt") for s in _cli(name)]
    reports = settlement_reports(summaries, date(2020, 4, 22))
    assert (reports.settled.max_f, reports.settled.source) == (70, "CLICVG_newer.txt")
    assert (reports.first_official.max_f, reports.latest.max_f, reports.n_reports) == (68, 70, 3)
    assert reports.expiration == datetime(2020, 4, 23, 11, 0, tzinfo=UTC)
    assert reports.late_revisions == () and not reports.revised_after_expiration
    nothing = settlement_reports(summaries, date(2020, 4, 23))
    assert (nothing.settled, nothing.latest, nothing.n_reports) == (None, None, 0)


def test_settlement_ignores_revisions_after_expiration_and_never_settles_on_a_preliminary():
    (final,) = _cli("CLINYC.txt")  # issued 06:16Z, so the market expires at 12:00Z
    day = final.climate_date
    preliminary = dataclasses.replace(
        final, report_type="preliminary", max_f=31, issued_at=final.issued_at - timedelta(hours=8)
    )
    early_fix = dataclasses.replace(
        final, report_type="correction", max_f=34, issued_at=final.issued_at + timedelta(hours=5)
    )
    late_fix = dataclasses.replace(
        final, report_type="correction", max_f=35, issued_at=final.issued_at + timedelta(hours=6)
    )
    no_high = dataclasses.replace(final, max_f=None, issued_at=final.issued_at + timedelta(hours=1))

    revised = settlement_reports([late_fix, preliminary, final, early_fix, no_high], day)
    assert (revised.settled, revised.first_official, revised.latest) == (early_fix, final, late_fix)
    assert revised.late_revisions == (late_fix,) and revised.revised_after_expiration
    assert revised.n_reports == 4  # the report without a maximum does not count

    late_only = settlement_reports([final, late_fix], day)
    assert late_only.settled is final and late_only.revised_after_expiration
    same_value = settlement_reports([final, dataclasses.replace(late_fix, max_f=33)], day)
    assert same_value.settled is final and not same_value.revised_after_expiration

    waiting = settlement_reports([preliminary, no_high], day)
    assert (waiting.settled, waiting.latest, waiting.expiration) == (None, preliminary, None)
    assert settlement_reports([], day).settled is None


def test_settlement_places_a_report_without_issuance_time_last():
    (final,) = _cli("CLINYC.txt")
    unknown_time = dataclasses.replace(final, max_f=30, issued_at=None)
    assert settlement_reports([unknown_time, final], final.climate_date).settled is final
    only_unknown = settlement_reports([unknown_time], final.climate_date)
    assert (only_unknown.settled, only_unknown.expiration) == (unknown_time, None)


def test_settlement_refuses_to_mix_stations():
    summaries = _cli("CLIANC.txt")
    with pytest.raises(ValueError, match="several stations"):
        settlement_reports(summaries, date(2017, 3, 14))
    assert settlement_reports(summaries[:1], date(2017, 3, 14)).settled.station == "ANCHORAGE AK"


def _knyc_cli_daily(real_data: Path) -> dict[date, dict[str, str]]:
    path = real_data / "daily_tmax" / "knyc_cli_daily_2018Q1_and_2026-05-24_to_08-23.csv"
    with path.open() as fh:
        return {date.fromisoformat(row["date"]): row for row in csv.DictReader(fh)}


def test_cli_high_bounds_the_hourly_observations(real_data):
    """The CLI high is the maximum of every ASOS sample of the climate day and hourly METARs are some
    of those samples (0.1 degC precision), so the rounded hourly maximum never exceeds it (2026-06-11:
    hourly 90, CLI 91); likewise the low. The 6-hour maximum groups (1snTTT at 00/06/12/18Z) cover
    06Z..06Z, one hour off the climate day's 05Z..05Z; with no CLI high in that hour on these days,
    they reproduce the CLI high exactly.
    """
    daily = _knyc_cli_daily(real_data)
    path = real_data / "asos_metar" / "ericzzhang27_KNYC" / "KNYC_iem_asos_2018-01-01_04_and_2026-06-10_13.csv"
    with path.open() as fh:
        observations = {datetime.fromisoformat(row["valid"]): row for row in csv.DictReader(fh)}
    checked = []
    for day in sorted({climate_date_of(t, NYC_STD_OFFSET) for t in observations} & set(daily)):
        start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=NYC_STD_OFFSET)
        in_day = [row for t, row in observations.items() if start <= t < start + timedelta(days=1)]
        # KNYC reports at :51; a fully covered day has all 24 of them.
        if len({datetime.fromisoformat(row["valid"]).hour for row in in_day}) < 24:
            continue
        cli_high = int(float(daily[day]["official_daily_high_f"]))
        cli_low = int(float(daily[day]["cli_low_f"]))
        assert math.floor(max(float(row["tmpf"]) for row in in_day) + 0.5) <= cli_high, day
        assert math.floor(min(float(row["tmpf"]) for row in in_day) + 0.5) >= cli_low, day
        six_hour_highs_f = []
        for hours_after_start in (7, 13, 19, 25):  # the 11:51, 17:51, 23:51 and next 05:51Z reports
            metar = observations[start + timedelta(hours=hours_after_start, minutes=-9)]["metar"]
            group = re.search(r" 1([01])(\d{3})(?= )", metar.split(" RMK ")[1])
            celsius = (-1 if group[1] == "1" else 1) * int(group[2]) / 10
            six_hour_highs_f.append(celsius * 9 / 5 + 32)
        assert math.floor(max(six_hour_highs_f) + 0.5) == cli_high, day
        checked.append(day)
    # 2018-01-04 and 2026-06-13 are only partly covered by the hourly file.
    assert checked == [date(2018, 1, d) for d in (1, 2, 3)] + [date(2026, 6, d) for d in (10, 11, 12)]
