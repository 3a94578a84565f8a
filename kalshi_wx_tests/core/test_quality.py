from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl

from kalshi_wx.core.quality import (
    duplicate_key_problems,
    ladder_problems,
    pmf_sum_problems,
    price_problems,
    window_problems,
)

WINDOW = (datetime(2026, 6, 1, 5, tzinfo=UTC), datetime(2026, 6, 2, 5, tzinfo=UTC))


def test_duplicates_are_named():
    frame = pl.DataFrame({"ticker": ["A", "A", "B"], "ts": [1, 1, 1]})
    assert duplicate_key_problems(frame, ("ticker", "ts")) == ["key ('A', 1) appears 2 times"]
    assert duplicate_key_problems(frame.unique(), ("ticker", "ts")) == []


def test_window_edges_are_half_open():
    ts = [WINDOW[0], WINDOW[1] - timedelta(microseconds=1)]
    assert window_problems(pl.DataFrame({"ts": ts}), "ts", WINDOW) == []
    problems = window_problems(pl.DataFrame({"ts": ts + [WINDOW[1]]}), "ts", WINDOW)
    assert len(problems) == 1 and "1 row(s)" in problems[0] and "2026-06-02T05:00:00+00:00" in problems[0]


def test_prices_outside_unit_interval():
    frame = pl.DataFrame({"p": [Decimal("0.5"), Decimal("1.01"), None]}, schema={"p": pl.Decimal(12, 6)})
    assert price_problems(frame, ["p"]) == ["1 p value(s) outside [0, 1], e.g. 1.010000"]


def test_ladder_gap_is_reported_per_event():
    markets = pl.DataFrame(
        {
            "event_ticker": ["E1", "E1", "E2", "E2"],
            "ticker": ["E1-a", "E1-b", "E2-a", "E2-b"],
            "lo_f": [None, 71, None, 72],
            "hi_f": [70, None, 70, None],
        },
        schema={"event_ticker": pl.Utf8, "ticker": pl.Utf8, "lo_f": pl.Int32, "hi_f": pl.Int32},
    )
    problems = ladder_problems(markets)
    assert len(problems) == 1 and problems[0].startswith("E2")
    assert ladder_problems(markets.head(0)) == ["no markets"]


def test_pmf_sums():
    ts = [WINDOW[0], WINDOW[0], WINDOW[1], WINDOW[1]]
    good = pl.DataFrame({"ts": ts, "p": [0.25, 0.75, 1.0, 0.0]})
    assert pmf_sum_problems(good, "p") == []
    bad = pl.DataFrame({"ts": ts, "p": [0.25, 0.70, 1.0, 0.0]})
    [problem] = pmf_sum_problems(bad, "p")
    assert problem.startswith("1 minute(s) where p sums to other than 1, e.g. 0.950000")
