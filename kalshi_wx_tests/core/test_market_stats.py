"""Market statistics on the real KXHIGHCHI tapes, checked against the raw JSON read independently."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import polars as pl
import pytest

from kalshi_wx.core.market_stats import (
    REAL_FEES_100_AT_50C,
    Comparison,
    bracket_distance,
    compare,
    fee_statistics,
    implied_probabilities,
    market_scores,
    market_statistics,
    quote_updates_per_market_hour,
    spread_by_hour,
    taker_markout_cents,
    trade_activity,
)
from kalshi_wx.sources.replay.real_market import load_kxhighchi

CPRATIM = "kalshi/cpratim_KXHIGHCHI"
MAY2 = date(2025, 5, 2)  # CLI high 60: "60° or below" (T61, less than 61) settled YES


@pytest.fixture(scope="module")
def real_chi(real_data):
    return load_kxhighchi(real_data)


def _raw_tape(real_data, day: date) -> list[dict]:
    tape = json.loads((real_data / CPRATIM / "trades" / f"{day}.json").read_text())
    return sorted((t for rows in tape.values() for t in rows), key=lambda t: t["created_time"])


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_bracket_distance_from_the_settled_high(real_data, real_chi):
    may2 = real_chi.ladder.filter(pl.col("climate_date") == MAY2)
    distance = dict(bracket_distance(may2, real_chi.highs).select("ticker", "distance_f").iter_rows())
    assert distance == {
        "KXHIGHCHI-25MAY02-T61": 0,  # 60 or below, high 60
        "KXHIGHCHI-25MAY02-B61.5": 1,  # 61-62
        "KXHIGHCHI-25MAY02-B63.5": 3,
        "KXHIGHCHI-25MAY02-B65.5": 5,
        "KXHIGHCHI-25MAY02-B67.5": 7,
        "KXHIGHCHI-25MAY02-T68": 9,  # 69 or above
    }
    # The events' own results agree: the one bracket at distance 0 is the one Kalshi settled YES.
    event = json.loads((real_data / CPRATIM / "events" / f"{MAY2}.json").read_text())
    assert [m["ticker"] for m in event["markets"] if m["result"] == "yes"] == ["KXHIGHCHI-25MAY02-T61"]


def test_trade_activity_counts_the_whole_tape_and_what_traded_before_the_day(real_data, real_chi):
    day = real_chi.trades.filter(pl.col("climate_date") == MAY2)
    raw = _raw_tape(real_data, MAY2)
    start = datetime(2025, 5, 2, 6, tzinfo=UTC)  # local standard midnight in Chicago (UTC-6)
    before = [t for t in raw if _utc(t["created_time"]) < start]
    inside = [t for t in raw if start <= _utc(t["created_time"]) < start.replace(day=3)]
    assert day.height == len(raw) == 752 and before  # the event opened the morning before
    stats = trade_activity(day, real_chi.ladder.filter(pl.col("climate_date") == MAY2), real_chi.std_offset)
    assert stats["pre_day_contract_share"] == pytest.approx(
        sum(t["count"] for t in before) / sum(t["count"] for t in raw)
    )
    assert stats["trades_per_market_hour"] == pytest.approx(len(inside) / (6 * 24))
    assert stats["contracts_per_market_hour"] == pytest.approx(sum(t["count"] for t in inside) / (6 * 24))
    assert stats["trade_size_median"] == float(np.median([t["count"] for t in raw]))
    morning = [t for t in inside if start.replace(hour=12) <= _utc(t["created_time"]) < start.replace(hour=16)]
    assert stats["trades_per_market_hour_06-10h"] == pytest.approx(len(morning) / (6 * 4))


def test_taker_markout_to_settlement(real_data, real_chi):
    # May 2: "60° or below" (T61) won. A YES taker earns 100 - price on it and -price elsewhere; a NO
    # taker the opposite; per contract, weighted by size.
    won = "KXHIGHCHI-25MAY02-T61"
    earned = contracts = 0.0
    for t in _raw_tape(real_data, MAY2):
        y = 100.0 if t["ticker"] == won else 0.0
        sign = 1.0 if t["taker_side"] == "yes" else -1.0
        earned += sign * (y - t["yes_price"]) * t["count"]
        contracts += t["count"]
    may2 = pl.col("climate_date") == MAY2
    got = taker_markout_cents(real_chi.trades.filter(may2), real_chi.ladder.filter(may2), real_chi.highs)
    assert got == pytest.approx(earned / contracts)
    # Over the whole tape real takers lose about a cent a contract: far less than the half-spread.
    assert -3.0 < taker_markout_cents(real_chi.trades, real_chi.ladder, real_chi.highs) < 0.0


def test_implied_probabilities_are_the_last_traded_prices_normalised(real_data, real_chi):
    probs = implied_probabilities(real_chi.trades, real_chi.ladder, real_chi.std_offset)
    sums = probs.group_by("climate_date", "hour_lst").agg(pl.col("p").sum())
    np.testing.assert_allclose(sums["p"].to_numpy(), 1.0)
    at16 = datetime(2025, 5, 2, 22, tzinfo=UTC)  # 16:00 LST
    last: dict[str, int] = {}
    for t in _raw_tape(real_data, MAY2):
        if _utc(t["created_time"]) <= at16:
            last[t["ticker"]] = t["yes_price"]
    got = dict(probs.filter((pl.col("climate_date") == MAY2) & (pl.col("hour_lst") == 16)).select("ticker", "p").rows())
    assert got == pytest.approx({k: v / sum(last.values()) for k, v in last.items()})
    assert got["KXHIGHCHI-25MAY02-T61"] > 0.9  # by 16:00 the market knew


def test_the_real_market_learns_through_the_day(real_chi):
    scores = market_scores(real_chi.trades, real_chi.ladder, real_chi.highs, real_chi.std_offset)
    assert scores["brier_10h"] > scores["brier_13h"] > scores["brier_16h"]
    assert scores["p_winner_10h"] < scores["p_winner_13h"] < scores["p_winner_16h"]
    # A market that priced the winner at 99 and the rest at 1 scores almost perfectly.
    sure = real_chi.ladder.join(bracket_distance(real_chi.ladder, real_chi.highs), on=["climate_date", "ticker"])
    trades = sure.select(
        "climate_date",
        "ticker",
        (pl.col("climate_date").cast(pl.Datetime("us", "UTC")) + pl.duration(hours=9)).alias("ts"),  # 03:00 LST
        pl.when(pl.col("distance_f") == 0).then(0.99).otherwise(0.01).alias("yes_price"),
        pl.lit(1.0).alias("count"),
    )
    perfect = market_scores(trades, real_chi.ladder, real_chi.highs, real_chi.std_offset)
    # 0.99 / 1.04 on the winner, 0.01 / 1.04 on the five others: Brier (0.05/1.04)^2 + 5 (0.01/1.04)^2.
    assert perfect["brier_10h"] == pytest.approx((0.05 / 1.04) ** 2 + 5 * (0.01 / 1.04) ** 2)
    assert perfect["p_winner_16h"] == pytest.approx(0.99 / 1.04)


def test_spreads_and_quote_updates_on_a_small_frame():
    day = date(2025, 5, 2)
    start = datetime(2025, 5, 2, 6, tzinfo=UTC)  # local standard midnight in Chicago
    ts = [start + timedelta(hours=h, minutes=m) for h, m in ((0, 0), (0, 1), (8, 0), (8, 1), (20, 0))]
    quotes = pl.DataFrame(
        {
            "climate_date": [day] * 5,
            "ticker": ["A"] * 5,
            "ts": ts,
            "bid": [0.40, 0.40, 0.30, None, 0.50],
            "ask": [0.42, 0.42, 0.40, 0.45, 0.70],
        }
    )
    spreads = spread_by_hour(quotes, -6)
    # 00:00 and 00:01 LST (2 and 2 cents), 08:00 LST (10), 08:01 one-sided (not a spread), 20:00 (20).
    assert spreads["00-06h"] == pytest.approx(2.0) and spreads["06-10h"] == pytest.approx(10.0)
    assert spreads["18-24h"] == pytest.approx(20.0) and np.isnan(spreads["10-14h"])
    # Changes against the market's previous candle: the first, 08:00, 08:01, 20:00 (00:01 repeats).
    assert quote_updates_per_market_hour(quotes, -6) == pytest.approx(4 / 24)


def test_the_real_statistics_cover_every_measured_thing(real_chi):
    stats = market_statistics(real_chi.trades, real_chi.quotes, real_chi.ladder, real_chi.highs, real_chi.std_offset)
    assert {"brier_10h", "brier_13h", "brier_16h", "pre_day_contract_share", "quote_updates_per_market_hour",
            "spread_cents_14-18h", "spread_cents_0F", "spread_cents_6+F", "trade_size_p90"} <= set(stats)  # fmt: skip
    assert all(np.isfinite(v) for v in stats.values())
    # Real facts worth knowing: a fifth of the contracts trade before the climate day, and spreads
    # are widest in the afternoon, when the high is being set.
    assert 0.1 < stats["pre_day_contract_share"] < 0.3
    assert stats["spread_cents_14-18h"] == max(v for k, v in stats.items() if k.endswith("h") and "spread" in k)


def test_fee_rows_follow_the_series_fee_type():
    assert fee_statistics("quadratic_with_maker_fees", Decimal(1)) == REAL_FEES_100_AT_50C
    assert fee_statistics("quadratic", Decimal(1)) == {"taker_fee_100_at_50c": 1.75, "maker_fee_100_at_50c": 0.0}


def test_compare_ratio_tolerance_and_missing_statistics():
    rows = compare({"a": 2.0, "b": 1.0}, {"a": 2.18, "b": 1.5}, {"a": 0.1, "b": 0.2})
    assert rows == [Comparison("a", 2.0, 2.18, 0.1), Comparison("b", 1.0, 1.5, 0.2)]
    assert rows[0].ok and rows[0].ratio == pytest.approx(1.09) and not rows[1].ok
    with pytest.raises(ValueError, match=r"\['c'\] are not measured"):
        compare({"a": 1.0}, {"a": 1.0, "c": 1.0}, {"a": 0.1, "c": 0.1})
