"""A recorded day: its window, per-market cadence and coverage, problems in rows, which days to register."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from kalshi_wx.core.live.book import OrderBook
from kalshi_wx.core.live.recording import (
    cadence_problems,
    coverage_problems,
    day_window_ms,
    days_to_register,
    market_stats,
    recording_day,
    snapshot_problems,
    sum_counters,
)
from kalshi_wx.core.live.snapshots import SnapshotBuffer, snapshot_row

DAY_MS = 86_400_000
D = Decimal


def _rows(ticks: dict[str, list[int]]) -> pl.DataFrame:
    buffer = SnapshotBuffer()
    for ticker, stamps in ticks.items():
        book = OrderBook(ticker)
        book.apply_snapshot([(D("0.40"), D(1))], [(D("0.55"), D(1))], seq=1)
        row = snapshot_row(book, 1)
        for ts in stamps:
            buffer.append(ts, row)
    return buffer.take()


def test_recording_day_is_the_utc_day_or_the_climate_day():
    nyc_midnight_lst = 1_788_670_800_000  # 2026-09-06T05:00:00Z
    assert recording_day(nyc_midnight_lst, 0) == date(2026, 9, 6)
    assert recording_day(nyc_midnight_lst - 1, -5) == date(2026, 9, 5)
    assert recording_day(nyc_midnight_lst, -5) == date(2026, 9, 6)
    assert day_window_ms(date(2026, 9, 6), -5) == (nyc_midnight_lst, nyc_midnight_lst + DAY_MS)


def test_market_stats_cadence_holes_and_coverage():
    # A: every 100 ms over [0, 10 s) but a 2 s hole; B: 50 rows in its known window [5 s, 15 s).
    a = [t for t in range(0, 10_000, 100) if not 3_000 <= t < 5_000]
    b = list(range(5_000, 10_000, 100))
    frame = _rows({"A": a, "B": b})
    stats = market_stats(
        frame, snapshot_ms=100, day_window_ms=(0, 12_000), market_windows={"B": (5_000, 15_000)}
    ).rows_by_key("market_ticker", named=True, unique=True)
    assert stats["A"]["rows"] == 80 and stats["A"]["holes"] == 1 and stats["A"]["missing_ms"] == 2_000
    assert stats["A"]["median_interval_ms"] == 100.0
    # A's window is its own first row to its last row plus one interval: 80 of 100 ticks.
    assert stats["A"]["expected_rows"] == 100 and stats["A"]["coverage"] == 0.8
    # B's open interval is clipped to the day so far (12 s): 50 of 70 ticks.
    assert stats["B"]["window_end_ms"] == 12_000 and stats["B"]["expected_rows"] == 70
    assert abs(stats["B"]["coverage"] - 50 / 70) < 1e-12
    problems = coverage_problems(market_stats(frame, snapshot_ms=100, day_window_ms=(0, 12_000),
                                              market_windows={"B": (5_000, 15_000)}), min_coverage=0.75)  # fmt: skip
    assert problems == ["B: 71.4% of its open interval has snapshots (50 rows of 70)"]


def test_cadence_problems_name_markets_off_the_snapshot_interval():
    frame = _rows({"A": list(range(0, 5_000, 100)), "S": list(range(0, 5_000, 250))})
    stats = market_stats(frame, snapshot_ms=100, day_window_ms=(0, DAY_MS), market_windows={})
    assert cadence_problems(stats, snapshot_ms=100) == ["S: median step 250 ms, expected 100 ms"]


def test_snapshot_problems_find_duplicates_crossings_and_strays():
    frame = _rows({"A": [0, 100, 100]})
    crossed = frame.head(1).with_columns(pl.lit(D("0.6"), dtype=frame["yes_bid"].dtype).alias("yes_bid"))
    problems = snapshot_problems(pl.concat([frame, crossed]), day_window_ms=(50, DAY_MS))
    assert problems[0] == "2 (market_ticker, ts_ms) key(s) repeat, e.g. A at 0 x2"
    assert any(p.startswith("1 row(s) are crossed (yes_bid >= yes_ask)") for p in problems)
    assert any(p.startswith("1 row(s) have NO prices that are not 1 - the YES prices") for p in problems)
    assert any(p.startswith("2 row(s) lie outside the day [50, 86400000)") for p in problems)
    assert snapshot_problems(_rows({"A": [100, 200]}), day_window_ms=(0, DAY_MS)) == []


def test_sum_counters_and_days_to_register():
    assert sum_counters([{"gaps": 2, "reconnects": 1}, {"gaps": 1, "bogus": 5}])["gaps"] == 3
    recorded = {date(2026, 9, 5): "a", date(2026, 9, 6): "b", date(2026, 9, 7): "c"}
    now = day_window_ms(date(2026, 9, 7), 0)[0] + 10 * 60_000  # 00:10Z on the 7th
    due = days_to_register(recorded, utc_offset_hours=0, now_ms=now, grace_ms=15 * 60_000, registered={})
    assert due == [date(2026, 9, 5)]  # the 6th ended 10 minutes ago, inside the grace period
    later = now + 10 * 60_000
    registered = {date(2026, 9, 5): "a", date(2026, 9, 6): "old"}
    due = days_to_register(recorded, utc_offset_hours=0, now_ms=later, grace_ms=15 * 60_000, registered=registered)
    assert due == [date(2026, 9, 6)]
