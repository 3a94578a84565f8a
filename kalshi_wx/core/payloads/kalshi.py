"""Raw Kalshi JSON (series, markets, candlesticks, trades) to typed warehouse frames.

The documented fixed-point fields are read (``*_dollars`` prices, ``*_fp`` counts); payloads recorded
in the cents era, which carry only the integer fields (``yes_price``, ``count``, ``last_price``,
``volume``, a candle's ``close``), are read from those (``core.fixed_point``). Unknown fields and enum
values pass through untouched, and every row keeps its raw JSON so it can be re-parsed when Kalshi
changes a format.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict

import polars as pl

from kalshi_wx.core.brackets import bracket_from_strikes
from kalshi_wx.core.dtypes import COUNT, PRICE, UTC_TS, ColumnTypes
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.fixed_point import (
    optional,
    parse_count,
    parse_dollars,
    parse_legacy_cents,
    parse_legacy_count,
    parse_price,
    required,
)
from kalshi_wx.core.timestamps import parse_time

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


class _Where(TypedDict):
    """Where a value came from, for the ``PayloadError`` of a bad one."""

    source: str
    ticker: str


def event_ticker(series: str, climate_date: date) -> str:
    """``KXHIGHNY`` + 2026-06-01 -> ``KXHIGHNY-26JUN01``."""
    return f"{series}-{climate_date:%y}{_MONTHS[climate_date.month - 1]}{climate_date:%d}"


def _text(obj: Mapping[str, Any], field: str, *, source: str, ticker: str | None = None, required_: bool = True) -> str:
    value = obj.get(field)
    if value is None:
        if required_:
            raise PayloadError(source, "required field is missing", field=field, ticker=ticker)
        return ""
    if not isinstance(value, str):
        raise PayloadError(source, f"expected a string, got {value!r}", field=field, ticker=ticker)
    return value


def _epoch(value: object, *, source: str, field: str, ticker: str | None) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(source, f"expected integer Unix seconds, got {value!r}", field=field, ticker=ticker)
    return datetime.fromtimestamp(value, UTC)


def series_frame(series: Mapping[str, Any], *, source: str, fetched_at: datetime) -> pl.DataFrame:
    ticker = _text(series, "ticker", source=source)
    multiplier = series.get("fee_multiplier")
    if isinstance(multiplier, bool) or not isinstance(multiplier, int | float | str):
        raise PayloadError(source, f"expected a number, got {multiplier!r}", field="fee_multiplier", ticker=ticker)
    urls = [s.get("url") for s in series.get("settlement_sources") or [] if isinstance(s, Mapping)]
    row = {
        "series_ticker": ticker,
        "title": _text(series, "title", source=source, ticker=ticker, required_=False),
        "frequency": _text(series, "frequency", source=source, ticker=ticker, required_=False),
        "fee_type": _text(series, "fee_type", source=source, ticker=ticker),
        # The API sends a JSON float; str() keeps its shortest repr (1 -> "1", 0.5 -> "0.5") exactly.
        "fee_multiplier": parse_dollars(str(multiplier), source=source, field="fee_multiplier", ticker=ticker),
        "settlement_source_urls": json.dumps(urls),
        "fetched_at": fetched_at,
        "raw_json": json.dumps(series, sort_keys=True),
    }
    return pl.DataFrame([row], schema={**{k: None for k in row}, "fee_multiplier": PRICE, "fetched_at": UTC_TS})


def markets_frame(
    markets: Iterable[Mapping[str, Any]], *, city: str, climate_date: date, source: str, tiers: Mapping[str, str]
) -> pl.DataFrame:
    """One row per market of the event; ``tiers`` says which endpoint (live/historical) served each."""
    rows = []
    for market in markets:
        ticker = _text(market, "ticker", source=source)
        strike_type = _text(market, "strike_type", source=source, ticker=ticker)
        bracket = bracket_from_strikes(
            ticker, strike_type, market.get("floor_strike"), market.get("cap_strike"), source=source
        )
        kw: _Where = {"source": source, "ticker": ticker}
        rows.append(
            {
                "city": city,
                "climate_date": climate_date,
                "event_ticker": _text(market, "event_ticker", **kw),
                "ticker": ticker,
                "title": _text(market, "title", **kw, required_=False),
                "strike_type": strike_type,
                "floor_strike": market.get("floor_strike"),
                "cap_strike": market.get("cap_strike"),
                "lo_f": bracket.lo,
                "hi_f": bracket.hi,
                "status": _text(market, "status", **kw),
                "result": _text(market, "result", **kw, required_=False),
                "expiration_value": _text(market, "expiration_value", **kw, required_=False),
                "settlement_value": optional(
                    parse_price,
                    market,
                    "settlement_value_dollars",
                    legacy=("settlement_value", parse_legacy_cents),
                    **kw,
                ),
                "open_time": parse_time(market.get("open_time"), field="open_time", **kw),
                "close_time": parse_time(market.get("close_time"), field="close_time", **kw),
                "settlement_ts": parse_time(market.get("settlement_ts"), field="settlement_ts", **kw),
                "last_price": optional(
                    parse_price, market, "last_price_dollars", legacy=("last_price", parse_legacy_cents), **kw
                ),
                "volume": optional(parse_count, market, "volume_fp", legacy=("volume", parse_legacy_count), **kw),
                "open_interest": optional(
                    parse_count, market, "open_interest_fp", legacy=("open_interest", parse_legacy_count), **kw
                ),
                "price_level_structure": _text(market, "price_level_structure", **kw, required_=False),
                "tier": tiers.get(ticker, "live"),
                "raw_json": json.dumps(market, sort_keys=True),
            }
        )
    return pl.DataFrame(rows, schema=MARKETS_SCHEMA)


MARKETS_SCHEMA: ColumnTypes = {
    "city": pl.Utf8,
    "climate_date": pl.Date,
    "event_ticker": pl.Utf8,
    "ticker": pl.Utf8,
    "title": pl.Utf8,
    "strike_type": pl.Utf8,
    "floor_strike": pl.Float64,
    "cap_strike": pl.Float64,
    "lo_f": pl.Int32,  # lowest whole degree that settles YES (null = open below)
    "hi_f": pl.Int32,  # highest whole degree that settles YES (null = open above)
    "status": pl.Utf8,
    "result": pl.Utf8,
    "expiration_value": pl.Utf8,
    "settlement_value": PRICE,
    "open_time": UTC_TS,
    "close_time": UTC_TS,
    "settlement_ts": UTC_TS,
    "last_price": PRICE,
    "volume": COUNT,
    "open_interest": COUNT,
    "price_level_structure": pl.Utf8,
    "tier": pl.Utf8,  # "live" or "historical": which Kalshi endpoint served it
    "raw_json": pl.Utf8,
}

TRADES_SCHEMA: ColumnTypes = {
    "city": pl.Utf8,
    "climate_date": pl.Date,
    "trade_id": pl.Utf8,
    "ticker": pl.Utf8,
    "ts": UTC_TS,
    "yes_price": PRICE,
    "no_price": PRICE,
    "count": COUNT,
    "taker_outcome_side": pl.Utf8,
    "taker_book_side": pl.Utf8,
    "is_block_trade": pl.Boolean,
    "raw_json": pl.Utf8,
}


def _ohlc_close(candle: Mapping[str, Any], side: str, *, source: str, ticker: str, nullable: bool) -> Decimal | None:
    block = candle.get(side)
    if block is None:
        if nullable:
            return None
        raise PayloadError(source, "required field is missing", field=side, ticker=ticker)
    if not isinstance(block, Mapping):
        raise PayloadError(source, f"expected an object, got {block!r}", field=side, ticker=ticker)
    if block.get("close_dollars") is None and block.get("close") is not None:  # cents era
        return parse_legacy_cents(block["close"], source=source, field=f"{side}.close", ticker=ticker)
    value = block.get("close_dollars")
    if value is None:
        if nullable:
            return None
        raise PayloadError(source, "required field is missing", field=f"{side}.close_dollars", ticker=ticker)
    return parse_price(value, source=source, field=f"{side}.close_dollars", ticker=ticker)


def candle_rows(ticker: str, candles: Iterable[Mapping[str, Any]], *, source: str) -> list[dict[str, Any]]:
    """1-minute candles as rows keyed by bar start (``end_period_ts`` is the inclusive bar end)."""
    rows = []
    for candle in candles:
        end = _epoch(candle.get("end_period_ts"), source=source, field="end_period_ts", ticker=ticker)
        rows.append(
            {
                "ticker": ticker,
                "ts": end - timedelta(minutes=1),
                "bid_close": _ohlc_close(candle, "yes_bid", source=source, ticker=ticker, nullable=False),
                "ask_close": _ohlc_close(candle, "yes_ask", source=source, ticker=ticker, nullable=False),
                "trade_price": _ohlc_close(candle, "price", source=source, ticker=ticker, nullable=True),
                "volume": optional(
                    parse_count,
                    candle,
                    "volume_fp",
                    source=source,
                    ticker=ticker,
                    legacy=("volume", parse_legacy_count),
                ),
                "open_interest": optional(
                    parse_count,
                    candle,
                    "open_interest_fp",
                    source=source,
                    ticker=ticker,
                    legacy=("open_interest", parse_legacy_count),
                ),
                "raw_json": json.dumps(candle, sort_keys=True),
            }
        )
    return rows


_CANDLE_ROW_SCHEMA: ColumnTypes = {
    "ticker": pl.Utf8, "ts": UTC_TS, "bid_close": PRICE, "ask_close": PRICE, "trade_price": PRICE,
    "volume": COUNT, "open_interest": COUNT, "raw_json": pl.Utf8,
}  # fmt: skip


def candles_1m_frame(
    candles_by_ticker: Mapping[str, Iterable[Mapping[str, Any]]],
    *,
    city: str,
    climate_date: date,
    window: tuple[datetime, datetime],
    source: str,
) -> pl.DataFrame:
    """A dense 1-minute grid per market over the climate-day window.

    Kalshi emits a candle only when something changed, so quiet minutes carry the last candle's
    book forward (``is_filled``) with zero volume. An empty side is rendered as bid 0 / ask 1 and
    becomes null here (no quote). Candles before the window seed the book at its first minute.
    """
    start, end = window
    sparse = pl.DataFrame(
        [row for ticker, candles in candles_by_ticker.items() for row in candle_rows(ticker, candles, source=source)],
        schema=_CANDLE_ROW_SCHEMA,
    ).unique(subset=["ticker", "ts"], keep="last", maintain_order=True)
    minutes = pl.datetime_range(
        start, end - timedelta(minutes=1), interval="1m", time_unit="us", time_zone="UTC", eager=True
    )
    grid = pl.DataFrame({"ticker": list(candles_by_ticker)}, schema={"ticker": pl.Utf8}).join(
        pl.DataFrame({"ts": minutes}), how="cross"
    )
    # The book at the window's first minute is the last candle before it, if any.
    seed = (
        sparse.filter(pl.col("ts") < start)
        .sort("ts")
        .group_by("ticker", maintain_order=True)
        .last()
        .with_columns(pl.lit(start - timedelta(minutes=1)).cast(UTC_TS).alias("ts"))
    )
    in_window = sparse.filter((pl.col("ts") >= start) & (pl.col("ts") < end))
    dense = (
        pl.concat(
            [seed.with_columns(pl.lit(True).alias("_seed")), grid.with_columns(pl.lit(False).alias("_seed"))],
            how="diagonal",
        )
        .join(in_window, on=["ticker", "ts"], how="left", suffix="_c")
        .with_columns(
            is_filled=pl.col("raw_json_c").is_null() & ~pl.col("_seed"),
            bid_close=pl.coalesce("bid_close_c", "bid_close"),
            ask_close=pl.coalesce("ask_close_c", "ask_close"),
            open_interest=pl.coalesce("open_interest_c", "open_interest"),
        )
        .sort("ticker", "ts")
        .with_columns(pl.col("bid_close", "ask_close", "open_interest").forward_fill().over("ticker"))
        .filter(~pl.col("_seed"))
    )
    zero, one = pl.lit(0).cast(PRICE), pl.lit(1).cast(PRICE)
    return dense.select(
        pl.lit(city).alias("city"),
        pl.lit(climate_date).alias("climate_date"),
        "ticker",
        "ts",
        pl.when(pl.col("bid_close") > zero).then(pl.col("bid_close")).alias("yes_bid"),
        pl.when(pl.col("ask_close") < one).then(pl.col("ask_close")).alias("yes_ask"),
        ((pl.col("bid_close") > zero) & (pl.col("ask_close") < one)).fill_null(False).alias("has_quote"),
        pl.col("trade_price_c").alias("trade_price"),
        pl.col("volume_c").fill_null(pl.lit(0).cast(COUNT)).alias("volume"),
        "open_interest",
        "is_filled",
        pl.col("raw_json_c").alias("raw_json"),
    )


def trades_frame(
    trades: Iterable[Mapping[str, Any]],
    *,
    city: str,
    climate_date: date,
    window: tuple[datetime, datetime],
    source: str,
) -> pl.DataFrame:
    """One row per trade inside the climate-day window."""
    start, end = window
    rows = []
    for trade in trades:
        ticker = _text(trade, "ticker", source=source)
        kw: _Where = {"source": source, "ticker": ticker}
        ts = parse_time(trade.get("created_time"), field="created_time", **kw)
        if ts is None:
            raise PayloadError(source, "required field is missing", field="created_time", ticker=ticker)
        if not start <= ts < end:
            continue
        rows.append(
            {
                "city": city,
                "climate_date": climate_date,
                "trade_id": _text(trade, "trade_id", **kw),
                "ticker": ticker,
                "ts": ts,
                "yes_price": required(
                    parse_price, trade, "yes_price_dollars", legacy=("yes_price", parse_legacy_cents), **kw
                ),
                "no_price": optional(
                    parse_price, trade, "no_price_dollars", legacy=("no_price", parse_legacy_cents), **kw
                ),
                "count": required(parse_count, trade, "count_fp", legacy=("count", parse_legacy_count), **kw),
                # taker_side is the deprecated name of taker_outcome_side.
                "taker_outcome_side": trade.get("taker_outcome_side") or trade.get("taker_side") or "",
                "taker_book_side": trade.get("taker_book_side") or "",
                "is_block_trade": bool(trade.get("is_block_trade", False)),
                "raw_json": json.dumps(trade, sort_keys=True),
            }
        )
    return pl.DataFrame(rows, schema=TRADES_SCHEMA)
