"""The settlement row of a climate day: the official CLI high, cross-checked against Kalshi."""

from __future__ import annotations

from datetime import date

import polars as pl

from kalshi_wx.core.brackets import brackets_of
from kalshi_wx.core.dtypes import ColumnTypes
from kalshi_wx.core.payloads.nws_cli import ClimateSummary

SETTLEMENT_SCHEMA: ColumnTypes = {
    "city": pl.Utf8,
    "climate_date": pl.Date,
    "station": pl.Utf8,
    "max_f": pl.Int32,
    "min_f": pl.Int32,
    "report_type": pl.Utf8,  # final | correction | preliminary
    "product_id": pl.Utf8,
    "issued_at": pl.Datetime("us", "UTC"),
    "kalshi_expiration_value": pl.Int32,
    "kalshi_yes_ticker": pl.Utf8,
    "agrees_with_kalshi": pl.Boolean,  # null when Kalshi has not settled yet
    "raw_text": pl.Utf8,
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
    summary: ClimateSummary | None,
    raw_text: str,
    markets: pl.DataFrame,
) -> pl.DataFrame:
    """One row from the chosen CLI summary, or none while no report has an observed maximum."""
    if summary is None or summary.max_f is None:
        return pl.DataFrame(schema=SETTLEMENT_SCHEMA)
    yes_ticker, value = kalshi_verdict(markets)
    row = {
        "city": city,
        "climate_date": climate_date,
        "station": station,
        "max_f": summary.max_f,
        "min_f": summary.min_f,
        "report_type": summary.report_type,
        "product_id": summary.product_id,
        "issued_at": summary.issued_at,
        "kalshi_expiration_value": value,
        "kalshi_yes_ticker": yes_ticker,
        "agrees_with_kalshi": agrees_with_kalshi(summary.max_f, markets),
        "raw_text": raw_text,
    }
    return pl.DataFrame([row], schema=SETTLEMENT_SCHEMA)


def settled_winners(markets: pl.DataFrame, settlement: pl.DataFrame) -> dict[str, bool] | None:
    """Ticker -> settled YES by the official CLI max (``weather.settlement``); None until it is known."""
    if settlement.is_empty():
        return None
    max_f = settlement["max_f"][0]
    return {b.ticker: b.wins(max_f) for b in brackets_of(markets)}
