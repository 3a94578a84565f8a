"""Parse NWS Daily Climate Reports (CLI) and monthly F-6 (CF6) products into daily highs and lows.

Kalshi settles the daily-high markets on the CLI's "TEMPERATURE / YESTERDAY / MAXIMUM / OBSERVED
VALUE" (reference/kalshi_api.md s9). A CLI product repeats the word MAXIMUM in places that are not
the observation: the RECORD and NORMAL columns of the same row, the "CLIMATE NORMALS FOR TODAY"
block, and free-form appendices from other sites. So the observed value is read from one place
only: the first number on the MAXIMUM row inside the TEMPERATURE section of a summary. When that
row is absent or says MM, the high is None and a note says why; nothing else is substituted.

A report is ``preliminary`` when it covers TODAY or says "VALID ... AS OF" (issued before the day
ended), a ``correction`` when its WMO heading carries a CC/AA group **or** its title lines say so
("CLIMATE REPORT (CORRECTION)", "... CLIMATE SUMMARY FOR JULY 9 2025 CORRECTION ...": offices mark
corrections there without touching the heading), and ``final`` otherwise (an RR group is a delayed
routine report, not a correction).

Which report settles a market is ``settlement_reports``: Kalshi's contract rule, with the other
reports kept as cross-checks.

Pure text in, dataclasses out: no I/O, so the same code re-parses stored raw products.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from kalshi_wx.core.errors import PayloadError

ReportType = Literal["final", "preliminary", "correction"]


@dataclass(frozen=True)
class ClimateSummary:
    """One station-day from a CLI or CF6 product, with the values exactly as the product gives them."""

    station: str  # climate site as the product names it, e.g. "CENTRAL PARK NY"
    issuedby: str | None  # 3-letter id from the AWIPS line (CLINYC -> NYC, CF6DSM -> DSM)
    climate_date: date
    max_f: int | None
    max_time: str | None  # local standard time as printed, e.g. "301 PM" or "11:29 PM"
    min_f: int | None
    min_time: str | None
    report_type: ReportType
    issued_text: str | None  # the issuance line as printed, e.g. "116 AM EST THU JAN 3 2013"
    issued_at: datetime | None  # that line in UTC, when its time zone abbreviation is known
    source: str  # file or endpoint the text came from
    wmo_header: str | None = None  # e.g. "CDUS41 KOKX 030616 CCA"
    day_label: str | None = None  # "YESTERDAY" or "TODAY": which day the TEMPERATURE rows cover
    valid_as_of: str | None = None  # "0400 PM LOCAL TIME" on intermediate (preliminary) issuances
    is_record_max: bool = False  # value carried the R flag (record set or tied)
    is_record_min: bool = False
    is_estimated_max: bool = False  # value carried the (E) flag
    is_estimated_min: bool = False
    product_id: str | None = None  # api.weather.gov product id, set by the fetcher
    notes: tuple[str, ...] = ()  # why a value is None, in the product's own terms

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "station": self.station,
            "climate_date": self.climate_date.isoformat(),
            "max_f": self.max_f,
            "min_f": self.min_f,
            "report_type": self.report_type,
        }


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("JANUARY", "JAN"),
            ("FEBRUARY", "FEB"),
            ("MARCH", "MAR"),
            ("APRIL", "APR"),
            ("MAY",),
            ("JUNE", "JUN"),
            ("JULY", "JUL"),
            ("AUGUST", "AUG"),
            ("SEPTEMBER", "SEP", "SEPT"),
            ("OCTOBER", "OCT"),
            ("NOVEMBER", "NOV"),
            ("DECEMBER", "DEC"),
        ],
        start=1,
    )
    for name in names
}

# Offsets of the zone abbreviations NWS offices print on the issuance line (US states and territories).
_TZ_OFFSET_HOURS = {
    "AST": -4,
    "ADT": -3,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
    "SST": -11,
    "CHST": 10,
}

_WMO_HEADER = re.compile(r"^([A-Z]{4}\d{2}) ([A-Z]{4}) (\d{6})(?: ([A-Z]{3}))?\s*$")
_AWIPS_ID = re.compile(r"^(CLI|CF6)([A-Z0-9]{3})\s*$")
_ISSUANCE = re.compile(
    r"^\s*(?P<hhmm>\d{1,4}) (?P<ampm>AM|PM) (?P<tz>[A-Z]{2,5}) [A-Z]{3} "
    r"(?P<month>[A-Z]{3}) (?P<day>\d{1,2}) (?P<year>\d{4})\s*$"
)
# "...THE CENTRAL PARK NY CLIMATE SUMMARY FOR JANUARY 2 2013..."; Pago Pago once printed "FROM".
# Leading dots and blanks are one character class: as two (\s*\.*\s*) the regex backtracks
# heavily on the long all-blank lines these products are padded with.
_SUMMARY = re.compile(
    r"^[\s.]*(?:THE\s+)?(?P<station>\S(?:.*\S)?)\s+CLIMATE SUMMARY\s+(?:FOR|FROM)\s+"
    r"(?P<month>[A-Z]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})"
)
# "CLIMATE REPORT (CORRECTION)", "CORRECTED CLIMATE REPORT", "...SUMMARY FOR JULY 9 2025 CORRECTION...".
_CORRECTION_WORD = re.compile(r"\bCORRECT(?:ION|ED)\b")
_VALID_AS_OF = re.compile(r"^\s*VALID\b.*?\bAS OF\s+(?P<as_of>.+?)\.?\s*$")
_TEMPERATURE_HEADING = re.compile(r"^\s*TEMPERATURE\s*(?:\(F\))?\s*$")
_DAY_LABEL = re.compile(r"^\s*(YESTERDAY|TODAY)\s*$")
# A heading or rule that closes the TEMPERATURE rows.
_SECTION_END = re.compile(r"^\s*(?:PRECIPITATION|SNOWFALL|DEGREE DAYS|WIND|\.{5,})")
_TEMPERATURE_ROW = re.compile(
    r"^\s*(?P<item>MAXIMUM|MINIMUM)\s+(?P<value>-?\d+|MM)(?P<flag>R|\(E\))?"
    r"(?:\s+(?P<time>\d{1,2}:\d{2}\s*[AP]M|\d{3,4}\s*[AP]M))?(?=\s|$)"
)


def _lines(text: str) -> list[str]:
    # Tabs appear inside the Samoa tables; columns are found by tokens, so a tab is just a space.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ").split("\n")


def _clean_name(raw: str) -> str:
    return " ".join(raw.split())


def _product_header(lines: list[str]) -> tuple[str | None, str | None, str | None]:
    """WMO header, its BBB group (CCA/RRA/...), and the 3-letter issuing id from the AWIPS line."""
    wmo_header = bbb = issuedby = None
    for line in lines[:8]:
        if wmo_header is None and (match := _WMO_HEADER.match(line)):
            wmo_header = _clean_name(line)
            bbb = match.group(4)
        elif issuedby is None and (match := _AWIPS_ID.match(line)):
            issuedby = match.group(2)
    return wmo_header, bbb, issuedby


def _parse_issuance(lines: list[str]) -> tuple[str | None, datetime | None]:
    for line in lines:
        match = _ISSUANCE.match(line)
        if not match:
            continue
        text = _clean_name(line)
        month = _MONTHS.get(match["month"])
        offset = _TZ_OFFSET_HOURS.get(match["tz"])
        hhmm = int(match["hhmm"])
        hour, minute = divmod(hhmm, 100)
        if month is None or offset is None or not 1 <= hour <= 12 or minute > 59:
            return text, None
        hour = hour % 12 + (12 if match["ampm"] == "PM" else 0)
        try:
            local = datetime(int(match["year"]), month, int(match["day"]), hour, minute)
        except ValueError:
            return text, None
        return text, local.replace(tzinfo=timezone(timedelta(hours=offset))).astimezone(UTC)
    return None, None


def _summary_date(match: re.Match[str], source: str, line_no: int) -> date:
    month = _MONTHS.get(match["month"])
    if month is None:
        raise PayloadError(source, f"line {line_no}: unknown month {match['month']!r} in the summary line")
    try:
        return date(int(match["year"]), month, int(match["day"]))
    except ValueError as exc:
        raise PayloadError(source, f"line {line_no}: invalid summary date: {exc}") from None


@dataclass
class _Observed:
    value: int | None = None
    time: str | None = None
    record: bool = False
    estimated: bool = False
    seen: bool = False


def _read_temperature(
    block: list[str], first_line_no: int, source: str, station: str
) -> tuple[str, _Observed, _Observed]:
    """The day label and the observed MAXIMUM / MINIMUM rows of one summary's TEMPERATURE section."""
    where = f"summary for {station}"
    start = next((i for i, line in enumerate(block) if _TEMPERATURE_HEADING.match(line)), None)
    if start is None:
        raise PayloadError(source, f"{where}: no TEMPERATURE section", field="TEMPERATURE")
    label_index = next((i for i in range(start + 1, len(block)) if block[i].strip()), None)
    label = _DAY_LABEL.match(block[label_index]) if label_index is not None else None
    if label_index is None or label is None:
        raise PayloadError(
            source,
            f"{where}: line {first_line_no + start + 1}: TEMPERATURE is not labelled YESTERDAY or TODAY",
            field="TEMPERATURE",
        )
    observed = {"MAXIMUM": _Observed(), "MINIMUM": _Observed()}
    for offset, line in enumerate(block[label_index + 1 :], start=label_index + 1):
        if _SECTION_END.match(line):
            break
        row = _TEMPERATURE_ROW.match(line)
        if row is None:
            continue
        target = observed[row["item"]]
        if target.seen:
            raise PayloadError(
                source,
                f"{where}: line {first_line_no + offset}: a second {row['item']} row under TEMPERATURE",
                field=row["item"],
            )
        target.seen = True
        if row["value"] != "MM":
            target.value = int(row["value"])
        target.record = row["flag"] == "R"
        target.estimated = row["flag"] == "(E)"
        target.time = _clean_name(row["time"]) if row["time"] else None
    return label.group(1), observed["MAXIMUM"], observed["MINIMUM"]


def _missing_note(item: str, observed: _Observed, day_label: str) -> str | None:
    if not observed.seen:
        return f"no {item} row in TEMPERATURE/{day_label}"
    if observed.value is None:
        return f"{item} observed value is MM (missing)"
    return None


def parse_cli_product(text: str, *, source: str) -> list[ClimateSummary]:
    """Every climate summary in a CLI product (some offices put several stations in one product)."""
    lines = _lines(text)
    wmo_header, bbb, issuedby = _product_header(lines)
    starts = [(i, m) for i, line in enumerate(lines) if (m := _SUMMARY.match(line))]
    if not starts:
        raise PayloadError(source, "no 'CLIMATE SUMMARY FOR <MONTH DAY YEAR>' line; not a CLI product")
    issued_text, issued_at = _parse_issuance(lines[: starts[0][0]])
    # CC (correction) and AA (amendment) in the heading, or the word in the title lines above the first
    # summary line (the heading and AWIPS lines never hold it); RR is a routine report sent late.
    title_says_correction = any(_CORRECTION_WORD.search(line) for line in lines[: starts[0][0]])
    heading_says_correction = bbb is not None and bbb[:2] in {"CC", "AA"}

    summaries = []
    for n, (start, match) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        block = lines[start:end]
        station = _clean_name(match["station"])
        climate_date = _summary_date(match, source, start + 1)
        valid = next((m for line in block[1:4] if (m := _VALID_AS_OF.match(line))), None)
        day_label, high, low = _read_temperature(block, start + 1, source, station)
        # A report whose rows cover TODAY was issued before the climate day ended (Pago Pago prints
        # no VALID line on its 5 PM issuance), so its high can still be beaten: never final, and a
        # corrected preliminary is still preliminary.
        report_type: ReportType
        if valid is not None or day_label == "TODAY":
            report_type = "preliminary"
        elif heading_says_correction or title_says_correction or _CORRECTION_WORD.search(lines[start]):
            report_type = "correction"
        else:
            report_type = "final"
        notes = tuple(
            note
            for note in (_missing_note("MAXIMUM", high, day_label), _missing_note("MINIMUM", low, day_label))
            if note
        )
        summaries.append(
            ClimateSummary(
                station=station,
                issuedby=issuedby,
                climate_date=climate_date,
                max_f=high.value,
                max_time=high.time,
                min_f=low.value,
                min_time=low.time,
                report_type=report_type,
                issued_text=issued_text,
                issued_at=issued_at,
                source=source,
                wmo_header=wmo_header,
                day_label=day_label,
                valid_as_of=_clean_name(valid["as_of"]) if valid else None,
                is_record_max=high.record,
                is_record_min=low.record,
                is_estimated_max=high.estimated,
                is_estimated_min=low.estimated,
                notes=notes,
            )
        )
    return summaries


_CF6_TITLE = re.compile(r"LOCAL CLIMATOLOGICAL DATA\s*\(WS FORM:\s*F-6\)")
_CF6_FIELD = re.compile(r"^\s*(?P<name>STATION|MONTH|YEAR):\s*(?P<value>.*?)\s*$")
_CF6_COLUMNS = re.compile(r"^\s*DY\s+MAX\s+MIN\b")
_CF6_RULE = re.compile(r"^\s*={10,}\s*$")
# Day, MAX, MIN; WYS glues an all-missing day to its first M ("24M   M").
_CF6_ROW = re.compile(r"^\s*(?P<day>\d{1,2})\s*(?P<max>-?\d+|M)\s+(?P<min>-?\d+|M)(?=\s|$)")


def _cf6_header(lines: list[str], source: str) -> tuple[str, int, int]:
    fields: dict[str, tuple[int, str]] = {}
    for line_no, line in enumerate(lines, start=1):
        match = _CF6_FIELD.match(line)
        if match and match["name"] not in fields:  # page 2 repeats the header; page 1 is the one
            fields[match["name"]] = (line_no, match["value"])
    for name in ("STATION", "MONTH", "YEAR"):
        if name not in fields or not fields[name][1]:
            raise PayloadError(source, f"no '{name}:' line in the F-6 header", field=name)
    station = _clean_name(fields["STATION"][1])
    month_line, month_text = fields["MONTH"]
    month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text.upper())
    if month is None or not 1 <= month <= 12:
        raise PayloadError(source, f"line {month_line}: MONTH {month_text!r} is not a month", field="MONTH")
    year_line, year_text = fields["YEAR"]
    if not re.fullmatch(r"\d{4}", year_text):
        raise PayloadError(source, f"line {year_line}: YEAR {year_text!r} is not a year", field="YEAR")
    return station, int(year_text), month


def parse_cf6_product(text: str, *, source: str) -> list[ClimateSummary]:
    """One summary per day row of an F-6 monthly table, in the order printed.

    The F-6 is titled "PRELIMINARY LOCAL CLIMATOLOGICAL DATA": its values are not quality
    controlled and Kalshi does not settle on it, so every row is ``preliminary``. Days the office
    has not reported yet are printed as all-M rows and come back with max and min None.
    """
    lines = _lines(text)
    if not any(_CF6_TITLE.search(line) for line in lines):
        body = next((line.strip() for line in lines[3:] if line.strip()), "")
        raise PayloadError(source, f"no 'LOCAL CLIMATOLOGICAL DATA (WS FORM: F-6)' title; product says {body!r}")
    wmo_header, _, issuedby = _product_header(lines)
    station, year, month = _cf6_header(lines, source)
    header_index = next((i for i, line in enumerate(lines) if _CF6_COLUMNS.match(line)), None)
    if header_index is None:
        raise PayloadError(source, "no 'DY MAX MIN' column header for the daily table", field="DY")

    summaries: list[ClimateSummary] = []
    rules_seen = 0
    for line_no, line in enumerate(lines[header_index + 1 :], start=header_index + 2):
        if _CF6_RULE.match(line):
            rules_seen += 1
            if rules_seen == 2:  # the rule under the column header, then the one closing the days
                break
            continue
        if not line.strip():
            continue
        row = _CF6_ROW.match(line)
        if row is None:
            raise PayloadError(source, f"line {line_no}: not a day row: {line.strip()!r}", field="DY")
        try:
            day = date(year, month, int(row["day"]))
        except ValueError:
            raise PayloadError(
                source, f"line {line_no}: day {row['day']} does not exist in {year}-{month:02d}", field="DY"
            ) from None
        if summaries and day <= summaries[-1].climate_date:
            raise PayloadError(source, f"line {line_no}: day {day.day} is out of order or repeated", field="DY")
        summaries.append(
            ClimateSummary(
                station=station,
                issuedby=issuedby,
                climate_date=day,
                max_f=None if row["max"] == "M" else int(row["max"]),
                max_time=None,
                min_f=None if row["min"] == "M" else int(row["min"]),
                min_time=None,
                report_type="preliminary",
                issued_text=None,
                issued_at=None,
                source=source,
                wmo_header=wmo_header,
                notes=tuple(f"{item} is M (missing)" for item in ("MAX", "MIN") if row[item.lower()] == "M"),
            )
        )
    if not summaries:
        raise PayloadError(source, "the daily table has no day rows", field="DY")
    return summaries


# Kalshi's KXHIGH markets expire "on the sooner of the first 7:00 or 8:00 AM ET following the release of
# the data" (the markets' early_close_condition, reference/kalshi_api.md s4).
_KALSHI_ZONE = ZoneInfo("America/New_York")
_EXPIRATION_HOURS_ET = (7, 8)


def contract_expiration(released_at: datetime) -> datetime:
    """When a KXHIGH market expires after the day's data was released at ``released_at``: the first 07:00 or
    08:00 America/New_York strictly after it, in UTC."""
    local = released_at.astimezone(_KALSHI_ZONE)
    for days in range(3):
        for hour in _EXPIRATION_HOURS_ET:
            moment = datetime.combine(local.date() + timedelta(days=days), time(hour), _KALSHI_ZONE)
            if moment > released_at:
                return moment.astimezone(UTC)
    raise AssertionError("unreachable: 07:00 of the next day is always after the release")


@dataclass(frozen=True)
class SettlementReports:
    """The reports of one station-day, and which of them the contract settles on.

    ``settled`` is the value Kalshi settles on; ``first_official`` and ``latest`` are cross-checks
    (``latest`` is what a fetch of "the current CLI" or IEM's daily values shows); ``late_revisions``
    are official reports issued after the expiration, which the contract does not include.
    """

    settled: ClimateSummary | None
    first_official: ClimateSummary | None
    latest: ClimateSummary | None
    expiration: datetime | None
    late_revisions: tuple[ClimateSummary, ...]
    n_reports: int

    @property
    def revised_after_expiration(self) -> bool:
        """A report after the expiration gives another maximum: the settled value and the record now differ."""
        return self.settled is not None and any(r.max_f != self.settled.max_f for r in self.late_revisions)


def settlement_reports(summaries: Iterable[ClimateSummary], climate_date: date) -> SettlementReports:
    """Apply Kalshi's settlement rule to every report of one station for ``climate_date``.

    The contract (reference/kalshi_api.md s9): "Only the first official non-preliminary report ... will
    be used. Revisions after the Expiration Date are not included." Read together, a revision issued
    *before* the expiration is included, so:

    1. Only reports with an observed maximum count; preliminary ones (issued before the day ended)
       never settle.
    2. The first non-preliminary report by issuance time is the settlement report.
    3. The market expires at the first 07:00 or 08:00 ET after that report was released
       (``contract_expiration``). A later non-preliminary report (a correction, or a re-issued
       final) issued by then replaces it, the latest such one winning; one issued after it is kept in
       ``late_revisions`` and changes nothing.

    A report without an issuance time cannot be placed in that order: it settles only when no timed
    official report exists. Raises ValueError when the summaries come from several stations.
    """
    reports = [s for s in summaries if s.climate_date == climate_date and s.max_f is not None]
    stations = {(s.issuedby, s.station) for s in reports}
    if len(stations) > 1:
        names = sorted(f"{issuedby}/{station}" for issuedby, station in stations)
        raise ValueError(f"reports of several stations for {climate_date}: {names}; select per station")
    never = datetime.max.replace(tzinfo=UTC)
    by_issue = sorted(reports, key=lambda s: s.issued_at or never)
    official = [s for s in by_issue if s.report_type != "preliminary"]
    latest = by_issue[-1] if by_issue else None
    if not official:
        return SettlementReports(None, None, latest, None, (), len(reports))
    first = official[0]
    if first.issued_at is None:
        return SettlementReports(first, first, latest, None, (), len(reports))
    expiration = contract_expiration(first.issued_at)
    timed = [s for s in official if s.issued_at is not None]
    settled = [s for s in timed if s.issued_at is not None and s.issued_at <= expiration][-1]
    late = tuple(s for s in timed if s.issued_at is not None and s.issued_at > expiration)
    return SettlementReports(settled, first, latest, expiration, late, len(reports))
