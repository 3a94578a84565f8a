"""Render a Daily Climate Report (CLI) text product for the offline simulator.

The layout follows the real CLINYC product (kalshi_wx_tests/data/nws_cli/pyiem/CLINYC.txt): WMO header,
AWIPS id, issuance line in local civil time, the "CLIMATE SUMMARY FOR" line, the TEMPERATURE table
with RECORD / NORMAL / DEPARTURE columns and the "CLIMATE NORMALS FOR TODAY" block, whose
"MAXIMUM TEMPERATURE" row is the value a careless parser takes for the observed high.

The simulator does not model climatology, so the normal and record columns come from one smooth
seasonal curve; they exist to make the table realistic, not to be right.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from kalshi_wx.core.cities import City
from kalshi_wx.core.climate_day import climate_day_window

REPORT_TYPES = ("final", "preliminary", "correction")
# WMO "CDUS4n" header digit by issuing office, as on the real products; other offices fall back to
# the digit of their time zone.
_WMO_DIGIT_BY_WFO = {"OKX": 1, "PHI": 1, "MFL": 2, "LOT": 3, "EWX": 4, "BOU": 5, "LOX": 6}
_WMO_DIGIT_BY_STD_OFFSET = {-5: 1, -6: 3, -7: 5, -8: 6}
_RULE = "." * 66
# How far the made-up records sit from the made-up normals.
_RECORD_MARGIN_F = 25


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _normal_high(day: date) -> int:
    return _round_half_up(62 + 22 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 197) / 365.25))


def _normal_low(day: date) -> int:
    return _normal_high(day) - 16


def _record_year(day: date) -> int:
    return 1900 + (day.timetuple().tm_yday * 37) % 120


def _clock(moment: datetime) -> str:
    """NWS issuance-line clock: no colon, no leading zero ("116 AM", "1229 PM")."""
    return f"{moment.hour % 12 or 12}{moment:%M %p}"


def _temperature_row(
    item: str, value: int, when: str, record: int, record_year: int, normal: int, is_record: bool
) -> str:
    flagged = f"{value}R" if is_record else f"{value} "
    departure = value - normal
    return f"  {item:<7}{flagged:>12}{when:>10}{record:>4}{record_year:>8}{normal:>4}{departure:>7}{'MM':>9}"


def render_cli_product(
    *,
    city: City,
    climate_date: date,
    max_f: int,
    max_time: str,
    min_f: int,
    min_time: str,
    issued_at: datetime,
    report_type: str,
) -> str:
    """The CLI product text an NWS office would issue for ``city`` and ``climate_date``.

    A preliminary report is issued during the climate day and covers TODAY ("VALID TODAY AS OF");
    final and correction reports are issued after it and cover YESTERDAY; a correction carries CCA.
    """
    if report_type not in REPORT_TYPES:
        raise ValueError(f"report_type must be one of {REPORT_TYPES}, got {report_type!r}")
    if issued_at.tzinfo is None:
        raise ValueError(f"issued_at must be timezone-aware, got naive {issued_at!r}")
    if min_f > max_f:
        raise ValueError(f"min_f {min_f} is above max_f {max_f}")
    day_start, day_end = climate_day_window(climate_date, city.std_utc_offset_hours)
    preliminary = report_type == "preliminary"
    if preliminary and not day_start <= issued_at < day_end:
        raise ValueError(f"a preliminary report is issued during the climate day {climate_date}, not {issued_at}")
    if not preliminary and issued_at < day_end:
        raise ValueError(f"a {report_type} report is issued after the climate day {climate_date}, not {issued_at}")

    issued_utc = issued_at.astimezone(UTC)
    local = issued_at.astimezone(ZoneInfo(city.timezone))
    wmo_digit = _WMO_DIGIT_BY_WFO.get(city.wfo, _WMO_DIGIT_BY_STD_OFFSET.get(city.std_utc_offset_hours, 0))
    header = f"CDUS4{wmo_digit} K{city.wfo} {issued_utc:%d%H%M}" + (" CCA" if report_type == "correction" else "")
    day_label = "TODAY" if preliminary else "YESTERDAY"
    next_day = climate_date + timedelta(days=1)
    summary_date = f"{climate_date:%B} {climate_date.day} {climate_date.year}"  # "JUNE 1 2026", no zero pad

    normal_high, normal_low = _normal_high(climate_date), _normal_low(climate_date)
    # A value at or beyond the record sets it: the record column then shows it, this year, flagged R.
    record_high, record_low = normal_high + _RECORD_MARGIN_F, normal_low - _RECORD_MARGIN_F
    high_is_record, low_is_record = max_f >= record_high, min_f <= record_low
    record_year = _record_year(climate_date)
    average = _round_half_up((max_f + min_f) / 2)
    normal_average = _round_half_up((normal_high + normal_low) / 2)

    lines = [
        "000 ",
        header,
        city.cli_product,
        "",
        "CLIMATE REPORT",
        f"NATIONAL WEATHER SERVICE {city.name.upper()}",
        f"{_clock(local)} {local.tzname()} {local:%a %b} {local.day} {local.year}".upper(),
        "",
        "...................................",
        "",
        f"...THE {city.station_name} CLIMATE SUMMARY FOR {summary_date}...".upper(),
    ]
    if preliminary:
        lines.append(f"VALID TODAY AS OF {local.hour % 12 or 12:02d}00 {local:%p} LOCAL TIME.")
    lines += [
        "",
        "CLIMATE NORMAL PERIOD 1991 TO 2020",
        f"CLIMATE RECORD PERIOD 1869 TO {climate_date.year}",
        "",
        "WEATHER ITEM   OBSERVED TIME   RECORD YEAR NORMAL DEPARTURE LAST",
        "                VALUE   (LST)  VALUE       VALUE  FROM      YEAR",
        "                                                  NORMAL",
        _RULE,
        "TEMPERATURE (F)",
        f" {day_label}",
        _temperature_row(
            "MAXIMUM",
            max_f,
            max_time,
            max_f if high_is_record else record_high,
            climate_date.year if high_is_record else record_year,
            normal_high,
            high_is_record,
        ),
        _temperature_row(
            "MINIMUM",
            min_f,
            min_time,
            min_f if low_is_record else record_low,
            climate_date.year if low_is_record else record_year,
            normal_low,
            low_is_record,
        ),
        f"  AVERAGE{average:>11}{normal_average:>26}{average - normal_average:>7}{'MM':>9}",
        "",
        "PRECIPITATION (IN)",
        f"  {day_label:<15}MM",
        _RULE,
        "",
        f"THE {city.station_name} CLIMATE NORMALS FOR {'TOMORROW' if preliminary else 'TODAY'}".upper(),
        "                         NORMAL    RECORD    YEAR",
        f" MAXIMUM TEMPERATURE (F){_normal_high(next_day):>5}{_normal_high(next_day) + _RECORD_MARGIN_F:>10}"
        f"{_record_year(next_day):>10}",
        f" MINIMUM TEMPERATURE (F){_normal_low(next_day):>5}{_normal_low(next_day) - _RECORD_MARGIN_F:>10}"
        f"{_record_year(next_day):>10}",
        "",
        "-  INDICATES NEGATIVE NUMBERS.",
        "R  INDICATES RECORD WAS SET OR TIED.",
        "MM INDICATES DATA IS MISSING.",
        "",
        "$$",
        "",
    ]
    return "\n".join(lines)
