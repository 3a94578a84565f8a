from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest

from kalshi_wx.core.quality import (
    Coverage,
    duplicate_key_problems,
    ladder_problems,
    observation_coverage,
    observation_summary,
    observation_unit_problems,
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


def _obs(minutes: list[int], temps: list[float | None], **extra) -> pl.DataFrame:
    base = {
        "ts": [WINDOW[0] + timedelta(minutes=m) for m in minutes],
        "temp_f": temps,
        "station_ok": [True] * len(minutes),
        "source": ["ncei_5min"] * len(minutes),
        "dew_f": [None] * len(minutes),
        "temp_c_tenths": [None] * len(minutes),
    }
    return pl.DataFrame({**base, **extra}, schema_overrides={"dew_f": pl.Float64, "temp_c_tenths": pl.Int32})


def test_coverage_counts_usable_rows_and_the_longest_hole_including_the_day_edges():
    full = _obs(list(range(0, 1440, 5)), [70.0] * 288)
    assert observation_coverage(full, WINDOW, 5) == Coverage(rows=288, expected=288, longest_gap_min=5)
    # A hole from 12:00 to 16:00 and a null temperature; the record stops at 19:35, as real files do.
    minutes = [m for m in range(0, 1180, 5) if not 720 < m < 960]
    temps: list[float | None] = [70.0] * len(minutes)
    temps[0] = None
    holed = observation_coverage(_obs(minutes, temps), WINDOW, 5)
    assert (holed.rows, holed.longest_gap_min) == (len(minutes) - 1, 265)  # 19:35 -> midnight
    assert holed.share == pytest.approx((len(minutes) - 1) / 288)
    assert observation_coverage(_obs([], []), WINDOW, 1) == Coverage(rows=0, expected=1440, longest_gap_min=1440)


def test_unit_problems_catch_celsius_and_bad_roundings():
    good = _obs([0, 5], [78.0, 77.0], temp_c_tenths=[256, 250], dew_f=[71.0, 77.5])
    assert observation_unit_problems(good) == []
    celsius = _obs([0, 5], [25.6, 140.0])
    assert observation_unit_problems(celsius) == [
        "1 temp_f value(s) outside [-80, 135] °F, e.g. 140.0 at 2026-06-01 05:05:00+00:00"
    ]
    muddled = _obs([0], [79.0], temp_c_tenths=[256], dew_f=[81.0])
    assert [p.split(",")[0] for p in observation_unit_problems(muddled)] == [
        "1 row(s) with dew_f above temp_f",
        "1 row(s) whose temp_c_tenths does not round to temp_f",
    ]
    fractional = _obs([0], [78.5], source=["iem_1min"])
    assert observation_unit_problems(fractional) == ["1 IEM 1-minute temp_f value(s) not whole °F, e.g. 78.5"]


def test_observation_summary_is_the_metadata_of_a_day():
    frame = _obs([0, 5, 10], [70.0, None, 72.0], station_ok=[True, True, False], resolution_min=[5, 5, 5])
    assert observation_summary(frame, WINDOW) == {
        "rows": 3,
        "usable_rows": 1,
        "expected_rows": 288,
        "coverage": round(1 / 288, 4),
        "longest_gap_min": 1440,
        "rows_from_other_stations": 1,
        "unit_problems": 0,
        "max_temp_f": 70.0,
    }
