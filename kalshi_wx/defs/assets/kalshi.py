"""Raw Kalshi assets: series, each climate day's bracket ladder, dense 1-minute candles, trades."""

# No `from __future__ import annotations` in asset modules: Dagster validates the `context`
# annotation at definition time and rejects it as a string.

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from kalshi_wx.core.payloads.kalshi import (
    candles_1m_frame,
    event_ticker,
    markets_frame,
    series_frame,
    trades_frame,
)
from kalshi_wx.defs.assets.common import MARKETS_INPUT, warehouse_asset
from kalshi_wx.defs.partitions import partition_day
from kalshi_wx.defs.resources import KalshiResource
from kalshi_wx.defs.settings import settings
from kalshi_wx.reports.markdown import markdown_table


@warehouse_asset("kalshi", "series", source_kind="kalshi", partitioned=False)
def series(context: dg.AssetExecutionContext, kalshi: KalshiResource) -> pl.DataFrame:
    """Kalshi series of every configured city: fee type, fee multiplier and settlement sources."""
    fetched_at = datetime.now(UTC)
    with kalshi.client() as client:
        frames = [
            series_frame(client.get_series(c.series), source=f"GET /series/{c.series}", fetched_at=fetched_at)
            for c in settings().cities.values()
        ]
    frame = pl.concat(frames)
    context.log.info(f"fetched {frame.height} series")
    return frame


@warehouse_asset("kalshi", "markets", source_kind="kalshi")
def markets(context: dg.AssetExecutionContext, kalshi: KalshiResource) -> dg.Output[pl.DataFrame]:
    """The climate day's bracket ladder: strikes, whole-degree YES range, status and settled result."""
    p = partition_day(context)
    event = event_ticker(p.city.series, p.day)
    with kalshi.client() as client:
        raw_markets, tiers = client.get_event_markets(event, series_ticker=p.city.series)
    frame = markets_frame(raw_markets, city=p.city.key, climate_date=p.day, source=f"markets of {event}", tiers=tiers)
    if frame.is_empty():
        context.log.warning(f"Kalshi lists no markets for {event}")
    ladder = frame.sort("lo_f", nulls_last=False).select("ticker", "lo_f", "hi_f", "status", "result", "tier")
    return dg.Output(frame, metadata={"event_ticker": event, "ladder": dg.MetadataValue.md(markdown_table(ladder))})


@warehouse_asset("kalshi", "candles_1m", source_kind="kalshi", ins=MARKETS_INPUT)
def candles_1m(context: dg.AssetExecutionContext, kalshi: KalshiResource, markets: pl.DataFrame) -> pl.DataFrame:
    """Dense 1-minute YES bid/ask grid per market over the climate day; quiet minutes carried forward."""
    p = partition_day(context)
    window = p.window
    candles = {}
    with kalshi.client() as client:
        for i, market in enumerate(markets.iter_rows(named=True), start=1):
            # From the market's open so that the book at the first minute of the day is known.
            start = market["open_time"] or window[0]
            candles[market["ticker"]] = client.get_candlesticks(
                p.city.series, market["ticker"], int(start.timestamp()), int(window[1].timestamp()),
                historical=market["tier"] == "historical",
            )  # fmt: skip
            context.log.info(f"[{i}/{markets.height}] {market['ticker']}: {len(candles[market['ticker']])} candles")
    return candles_1m_frame(
        candles, city=p.city.key, climate_date=p.day, window=window, source=f"candlesticks of {p.city.series}"
    )


@warehouse_asset("kalshi", "trades", source_kind="kalshi", ins=MARKETS_INPUT)
def trades(context: dg.AssetExecutionContext, kalshi: KalshiResource, markets: pl.DataFrame) -> pl.DataFrame:
    """Every trade in the climate day's markets, one row per trade."""
    p = partition_day(context)
    window = p.window
    raw = []
    with kalshi.client() as client:
        for ticker in markets["ticker"]:
            raw.extend(client.get_trades(ticker, int(window[0].timestamp()), int(window[1].timestamp()) - 1))
    return trades_frame(raw, city=p.city.key, climate_date=p.day, window=window, source="GET /markets/trades")
