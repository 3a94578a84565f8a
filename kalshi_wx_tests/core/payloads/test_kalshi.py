from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.kalshi import candles_1m_frame, event_ticker, markets_frame, trades_frame
from kalshi_wx_tests.conftest import TEST_DATA

DAY = date(2026, 6, 1)
WINDOW = climate_day_window(DAY, -5)
START = int(WINDOW[0].timestamp())


def candle(end_ts, bid, ask, price=None, volume="0.00"):
    return {
        "end_period_ts": end_ts,
        "yes_bid": {"open_dollars": bid, "close_dollars": bid},
        "yes_ask": {"open_dollars": ask, "close_dollars": ask},
        "price": {"close_dollars": price},
        "volume_fp": volume,
        "open_interest_fp": "12.00",
    }


def test_event_ticker_matches_kalshi_format():
    assert event_ticker("KXHIGHNY", date(2026, 6, 1)) == "KXHIGHNY-26JUN01"
    assert event_ticker("KXHIGHPHIL", date(2026, 12, 24)) == "KXHIGHPHIL-26DEC24"


def test_real_markets_parse_with_exact_decimals(real_markets):
    markets = [m for m in real_markets if m["event_ticker"].endswith("JUN01")]
    frame = markets_frame(markets, city="nyc", climate_date=DAY, source="fixture", tiers={})
    assert frame.height == 6
    t77 = frame.filter(pl.col("ticker") == "KXHIGHNY-26JUN01-T77").row(0, named=True)
    raw = next(m for m in markets if m["ticker"] == "KXHIGHNY-26JUN01-T77")
    assert t77["lo_f"] == 78 and t77["hi_f"] is None
    assert t77["last_price"] == Decimal(raw["last_price_dollars"])
    assert t77["volume"] == Decimal(raw["volume_fp"])
    assert t77["close_time"] == datetime(2026, 6, 2, 4, 59, tzinfo=UTC)
    assert json.loads(t77["raw_json"]) == raw  # kept whole so it can be re-parsed


def test_markets_missing_field_names_ticker_and_field(real_markets):
    market = real_markets[0]
    del market["strike_type"]
    with pytest.raises(PayloadError, match=r"GET /markets.*KXHIGHNY-26JUN02-T80.*strike_type"):
        markets_frame([market], city="nyc", climate_date=DAY, source="GET /markets", tiers={})


def test_dense_grid_fills_quiet_minutes_and_marks_empty_book():
    candles = {
        "A": [
            candle(START - 600, "0.4000", "0.4500"),  # before the window: seeds minute 0
            candle(START + 120, "0.4100", "0.4400", price="0.4400", volume="3.00"),  # bar 00:01
            candle(START + 300, "0.0000", "1.0000"),  # bar 00:04: both sides empty
        ],
        "B": [candle(START + 3600, "0.1000", "0.1200")],
    }
    frame = candles_1m_frame(candles, city="nyc", climate_date=DAY, window=WINDOW, source="t")
    assert frame.height == 2 * 1440
    assert frame.select(pl.struct("ticker", "ts").is_unique().all()).item()
    a = frame.filter(pl.col("ticker") == "A").sort("ts")
    first = a.row(0, named=True)
    assert first["is_filled"] and first["yes_bid"] == Decimal("0.40") and first["has_quote"]
    bar = a.row(1, named=True)
    assert not bar["is_filled"] and bar["volume"] == Decimal("3") and bar["trade_price"] == Decimal("0.44")
    assert a.row(2, named=True)["yes_bid"] == Decimal("0.41") and a.row(2, named=True)["volume"] == 0
    empty = a.row(4, named=True)
    assert empty["yes_bid"] is None and empty["yes_ask"] is None and not empty["has_quote"]
    assert a.row(1439, named=True)["has_quote"] is False  # empty book carried to the end
    b = frame.filter(pl.col("ticker") == "B").sort("ts")
    assert b.filter(pl.col("ts") < WINDOW[0] + timedelta(minutes=59))["has_quote"].sum() == 0
    assert b.row(59, named=True)["yes_ask"] == Decimal("0.12")
    assert frame["ts"].min() == WINDOW[0] and frame["ts"].max() == WINDOW[1] - timedelta(minutes=1)


def test_candle_with_missing_bid_block_is_a_clear_error():
    bad = candle(START + 60, "0.10", "0.20")
    del bad["yes_bid"]
    with pytest.raises(PayloadError, match=r"ticker A.*'yes_bid'"):
        candles_1m_frame({"A": [bad]}, city="nyc", climate_date=DAY, window=WINDOW, source="candles")


def test_trades_keep_only_the_climate_day_and_parse_fixed_point():
    def trade(i, ts):
        return {
            "trade_id": f"t{i}", "ticker": "A", "created_time": ts, "yes_price_dollars": "0.4200",
            "no_price_dollars": "0.5800", "count_fp": "7.50", "taker_outcome_side": "yes",
            "taker_book_side": "ask", "unknown_future_field": 1,
        }  # fmt: skip

    trades = [
        trade(1, "2026-06-01T04:59:59Z"),  # 23:59:59 EST on May 31
        trade(2, "2026-06-01T05:00:00Z"),
        trade(3, "2026-06-02T04:59:59.5Z"),
        trade(4, "2026-06-02T05:00:00Z"),
    ]
    frame = trades_frame(trades, city="nyc", climate_date=DAY, window=WINDOW, source="t")
    assert frame["trade_id"].to_list() == ["t2", "t3"]
    assert frame["count"].to_list() == [Decimal("7.5")] * 2
    assert frame["yes_price"].dtype == pl.Decimal(12, 6)


CPRATIM = TEST_DATA / "kalshi" / "cpratim_KXHIGHCHI"
CHI_DAY = date(2025, 4, 7)
CHI_WINDOW = climate_day_window(CHI_DAY, -6)


def test_real_cents_era_event_markets_parse_to_the_same_decimals():
    # events/2025-04-07.json: GET /events/KXHIGHCHI-25APR07 as saved in 2025, integer cents only.
    body = json.loads((CPRATIM / "events" / "2025-04-07.json").read_text())
    assert "last_price_dollars" not in body["markets"][0] and body["markets"][0]["last_price"] == 1
    frame = markets_frame(body["markets"], city="chi", climate_date=CHI_DAY, source="events/2025-04-07.json", tiers={})
    by_ticker = {r["ticker"]: r for r in frame.iter_rows(named=True)}
    hot = by_ticker["KXHIGHCHI-25APR07-T43"]  # "greater", floor 43: 44 and above; settled YES at 47
    assert (hot["lo_f"], hot["hi_f"], hot["result"], hot["expiration_value"]) == (44, None, "yes", "47.00")
    assert (hot["last_price"], hot["volume"], hot["settlement_value"]) == (Decimal("0.99"), Decimal(6035), Decimal(1))
    assert by_ticker["KXHIGHCHI-25APR07-T36"]["settlement_value"] == Decimal(0)
    assert frame["volume"].sum() == Decimal(412 + 89 + 896 + 2262 + 2604 + 6035)


def test_real_cents_era_trade_tape_parses_inside_the_climate_day():
    tape = json.loads((CPRATIM / "trades" / "2025-04-07.json").read_text())
    trades = [t for rows in tape.values() for t in rows]
    assert len(trades) == 346 and all("yes_price_dollars" not in t for t in trades)
    frame = trades_frame(trades, city="chi", climate_date=CHI_DAY, window=CHI_WINDOW, source="trades/2025-04-07.json")
    # The markets open the morning before; only trades stamped inside the climate day (CST) are kept.
    inside = [t for t in trades if CHI_WINDOW[0] <= datetime.fromisoformat(t["created_time"]) < CHI_WINDOW[1]]
    assert frame.height == len(inside) > 0
    first = min(inside, key=lambda t: t["created_time"])
    row = frame.sort("ts").row(0, named=True)
    assert (row["trade_id"], row["yes_price"], row["no_price"], row["count"], row["taker_outcome_side"]) == (
        first["trade_id"],
        Decimal(first["yes_price"]) / 100,
        Decimal(first["no_price"]) / 100,
        Decimal(first["count"]),
        first["taker_side"],
    )
    assert (frame["yes_price"] + frame["no_price"] == Decimal(1)).all()


def test_cents_era_candles_read_their_integer_closes():
    legacy = {
        "end_period_ts": START + 60,
        "yes_bid": {"open": 40, "close": 41},
        "yes_ask": {"open": 45, "close": 44},
        "price": {"close": None},
        "volume": 3,
        "open_interest": 12,
    }
    frame = candles_1m_frame({"T": [legacy]}, city="nyc", climate_date=DAY, window=WINDOW, source="s")
    row = frame.filter(pl.col("ts") == WINDOW[0]).row(0, named=True)
    assert (row["yes_bid"], row["yes_ask"], row["trade_price"], row["volume"]) == (
        Decimal("0.41"),
        Decimal("0.44"),
        None,
        Decimal(3),
    )
