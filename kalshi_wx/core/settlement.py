"""The settlement row of a climate day: the CLI high Kalshi settles on, with the cross-checks beside it.

The value follows the contract rule (``core.payloads.nws_cli.settlement_reports``): the first official
report of the day, as revised by any report issued before the market's expiration. Beside it the row
keeps the first report's maximum, the latest report's (what IEM's daily values and a naive fetch
show), whether a report after the expiration changed the number, where the reports came from, and
Kalshi's own verdict once the event has settled.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from kalshi_wx.core.brackets import brackets_of
from kalshi_wx.core.dtypes import UTC_TS, ColumnTypes
from kalshi_wx.core.payloads.nws_cli import SettlementReports

SETTLEMENT_SCHEMA: ColumnTypes = {
    "city": pl.Utf8,
    "climate_date": pl.Date,
    "station": pl.Utf8,
    "max_f": pl.Int32,  # what the market settles on (the contract rule)
    "min_f": pl.Int32,
    "report_type": pl.Utf8,  # final | correction: the settling report's type
    "product_id": pl.Utf8,
    "issued_at": UTC_TS,
    "expiration": UTC_TS,  # first 07:00/08:00 ET after the first report: later revisions do not count
    "first_max_f": pl.Int32,  # the first official report's maximum
    "latest_max_f": pl.Int32,  # the latest report's maximum, any type, any time
    "latest_report_type": pl.Utf8,
    "latest_product_id": pl.Utf8,
    "revised_after_expiration": pl.Boolean,  # a report after the expiration gives another maximum
    "n_reports": pl.Int32,  # reports with an observed maximum for the day
    "settlement_source": pl.Utf8,  # nws_api | iem_afos | iem_cli_json: where the reports came from
    "kalshi_expiration_value": pl.Int32,
    "kalshi_yes_ticker": pl.Utf8,
    "agrees_with_kalshi": pl.Boolean,  # null when Kalshi has not settled yet
    "raw_text": pl.Utf8,  # the settling product's text ("" when only daily values were available)
}


def kalshi_verdict(markets: pl.DataFrame) -> tuple[str | None, int | None]:
    """The ticker Kalshi settled YES and the value it settled on, where it has settled."""
    yes = markets.filter(pl.col("result") == "yes")["ticker"].to_list()
    values = {v for v in markets["expiration_value"].to_list() if v}
    value = None
    if len(values) == 1:
        text = values.pop()
        try:
            value = int(float(text))
        except ValueError:
            value = None
    return (yes[0] if len(yes) == 1 else None), value


def agrees_with_kalshi(max_f: int, markets: pl.DataFrame) -> bool | None:
    """Does the CLI max pick the bracket Kalshi settled YES (and match its expiration value)?

    None until Kalshi has settled the event.
    """
    yes_ticker, value = kalshi_verdict(markets)
    if yes_ticker is None:
        return None
    ours = [b.ticker for b in brackets_of(markets) if b.wins(max_f)]
    return ours == [yes_ticker] and (value is None or value == max_f)


def settlement_frame(
    *,
    city: str,
    climate_date: date,
    station: str,
    reports: SettlementReports,
    settlement_source: str,
    raw_text: str,
    markets: pl.DataFrame,
) -> pl.DataFrame:
    """One row for the settling report, or none while no official report has an observed maximum."""
    settled, latest = reports.settled, reports.latest
    if settled is None or settled.max_f is None or latest is None:
        return pl.DataFrame(schema=SETTLEMENT_SCHEMA)
    yes_ticker, value = kalshi_verdict(markets)
    row = {
        "city": city,
        "climate_date": climate_date,
        "station": station,
        "max_f": settled.max_f,
        "min_f": settled.min_f,
        "report_type": settled.report_type,
        "product_id": settled.product_id,
        "issued_at": settled.issued_at,
        "expiration": reports.expiration,
        "first_max_f": reports.first_official.max_f if reports.first_official else None,
        "latest_max_f": latest.max_f,
        "latest_report_type": latest.report_type,
        "latest_product_id": latest.product_id,
        "revised_after_expiration": reports.revised_after_expiration,
        "n_reports": reports.n_reports,
        "settlement_source": settlement_source,
        "kalshi_expiration_value": value,
        "kalshi_yes_ticker": yes_ticker,
        "agrees_with_kalshi": agrees_with_kalshi(settled.max_f, markets),
        "raw_text": raw_text,
    }
    return pl.DataFrame([row], schema=SETTLEMENT_SCHEMA)


def settled_winners(markets: pl.DataFrame, settlement: pl.DataFrame) -> dict[str, bool] | None:
    """Ticker -> settled YES by the official CLI max (``weather.settlement``); None until it is known."""
    if settlement.is_empty():
        return None
    max_f = settlement["max_f"][0]
    return {b.ticker: b.wins(max_f) for b in brackets_of(markets)}
