"""The real KXHIGHCHI files as market-statistics frames: nothing lost, nothing invented."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import polars as pl
import pytest

from kalshi_wx.sources.replay.real_market import load_kxhighchi


def test_the_whole_tape_every_ladder_and_only_real_candles(real_data):
    tape = load_kxhighchi(real_data)
    trades_dir = real_data / "kalshi/cpratim_KXHIGHCHI/trades"
    raw = {p.stem: json.loads(p.read_text()) for p in trades_dir.glob("*.json")}
    assert len(tape.dates) == len(raw) == 38 and tape.dates[0] == date(2025, 4, 1)
    # Every trade from the event's open, as the JSON has it: none dropped at the climate day's edges.
    assert tape.trades.height == sum(len(rows) for day in raw.values() for rows in day.values())
    first = min((t for rows in raw["2025-05-02"].values() for t in rows), key=lambda t: t["created_time"])
    may2 = tape.trades.filter(pl.col("climate_date") == date(2025, 5, 2)).sort("ts").row(0, named=True)
    assert may2["ts"] == datetime.fromisoformat(first["created_time"].replace("Z", "+00:00")).astimezone(UTC)
    assert (may2["yes_price"], may2["count"]) == (first["yes_price"] / 100, float(first["count"]))
    assert may2["taker_yes"] == (first["taker_side"] == "yes")
    # Six brackets a day with their whole-degree ranges, from strike_type and the strikes.
    assert tape.ladder.height == 6 * 38
    assert tape.ladder.filter(pl.col("ticker") == "KXHIGHCHI-25MAY02-T61").select("lo_f", "hi_f").row(0) == (None, 60)
    # Candles: only the minutes Kalshi sent (163,717 of the 414,940 rows); 0 and 100 cents are empty sides.
    assert tape.quotes.height == 163_717
    opening = tape.quotes.filter(pl.col("ticker") == "KXHIGHCHI-25MAY02-T61").row(0, named=True)
    assert (opening["bid"], opening["ask"], opening["climate_date"]) == (None, 0.10, date(2025, 5, 2))
    assert tape.highs.filter(pl.col("climate_date") == date(2025, 5, 2))["high_f"].item() == 60


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="cpratim_KXHIGHCHI/trades: not found"):
        load_kxhighchi(tmp_path)
