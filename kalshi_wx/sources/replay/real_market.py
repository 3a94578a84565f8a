"""The real KXHIGHCHI market of the shared data folder as the frames of ``core.market_stats``.

Events (ladders, legacy cents) and the full trade tapes of 2025-04-01..2025-05-08 come from
cpratim/Kalshi-Weather-Trading; the one-minute candles of May 2025 and Midway's official highs from
Halsted312/weather_updated (``build.py`` names the files). The tapes are read with the same
parsers as the ``kalshi/trades`` asset, from the event's open, so trading before the climate day is
kept. Candle rows Halsted312 forward-filled (``is_synthetic``) are dropped: only minutes Kalshi
emitted a candle for are quotes; a 0-cent bid or 100-cent ask is an empty side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from kalshi_wx.core.payloads.kalshi import markets_frame, trades_frame
from kalshi_wx.sources.replay.build import CPRATIM, HALSTED_CANDLES, HALSTED_HIGHS

KXHIGHCHI_STD_OFFSET = -6  # Chicago Midway, central standard time
_TAPE = {"climate_date": pl.Date, "ticker": pl.Utf8, "ts": pl.Datetime("us", "UTC"), "yes_price": pl.Float64,
         "count": pl.Float64, "taker_yes": pl.Boolean}  # fmt: skip


@dataclass(frozen=True)
class MarketTape:
    """One market's data in the frames ``core.market_stats`` measures."""

    trades: pl.DataFrame
    quotes: pl.DataFrame
    ladder: pl.DataFrame
    highs: pl.DataFrame
    std_offset: int

    @property
    def dates(self) -> list[date]:
        return sorted(self.trades["climate_date"].unique().to_list())


def _need(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found; is the real-data folder right (KALSHI_WX_REAL_DATA)?")
    return path


def _ladder_and_tape(real: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    ladders, tapes = [], []
    # Only the days with a tape: the events before them were saved without strike_type.
    for trades_path in sorted(_need(real / CPRATIM / "trades").glob("*.json")):
        day = date.fromisoformat(trades_path.stem)
        path = _need(real / CPRATIM / "events" / trades_path.name)
        markets = markets_frame(json.loads(path.read_text())["markets"], city="chi", climate_date=day,
                                source=str(path), tiers={})  # fmt: skip
        ladders.append(markets.select("climate_date", "ticker", "lo_f", "hi_f"))
        window = (markets["open_time"].min(), markets["close_time"].max())
        rows = [t for tape in json.loads(trades_path.read_text()).values() for t in tape]
        trades = trades_frame(rows, city="chi", climate_date=day, window=window, source=str(trades_path))  # type: ignore[arg-type]
        tapes.append(
            trades.select(
                "climate_date",
                "ticker",
                "ts",
                pl.col("yes_price").cast(pl.Float64),
                pl.col("count").cast(pl.Float64),
                (pl.col("taker_outcome_side") == "yes").alias("taker_yes"),
            )
        )
    return pl.concat(ladders), pl.concat(tapes).cast(_TAPE)  # type: ignore[arg-type]


def _quotes(real: Path) -> pl.DataFrame:
    candles = pl.read_parquet(_need(real / HALSTED_CANDLES)).filter(~pl.col("is_synthetic"))
    return candles.select(
        pl.col("ticker").str.split("-").list.get(1).str.to_titlecase().str.to_date("%y%b%d").alias("climate_date"),
        "ticker",
        pl.col("bucket_start").dt.cast_time_unit("us").alias("ts"),
        pl.when(pl.col("yes_bid_close") > 0).then(pl.col("yes_bid_close") / 100.0).alias("bid"),
        pl.when(pl.col("yes_ask_close") < 100).then(pl.col("yes_ask_close") / 100.0).alias("ask"),
    ).sort("climate_date", "ticker", "ts")


def load_kxhighchi(real: Path) -> MarketTape:
    """The real KXHIGHCHI tapes, candles, ladders and settled highs under ``real`` (the shared data folder)."""
    ladder, trades = _ladder_and_tape(real)
    highs = (
        pl.read_parquet(_need(real / HALSTED_HIGHS))
        .drop_nulls("tmax_iem_f")
        .select(pl.col("date_local").alias("climate_date"), pl.col("tmax_iem_f").cast(pl.Int64).alias("high_f"))
    )
    return MarketTape(trades=trades, quotes=_quotes(real), ladder=ladder, highs=highs, std_offset=KXHIGHCHI_STD_OFFSET)
