"""The observation model on made-up days, and its fit on Central Park's real 5-minute record (Jun-Aug 2025).

Run the real-data test with ``-s`` to see the fitted distribution.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from kalshi_wx.core.payloads.asos import dsi6401_rows
from kalshi_wx.core.pmf.observation import HOLE_MINUTES, PRIOR_EXCESS, draw_excess, excess_pmf, record_excess

STD = -5
DAY = date(2025, 7, 1)
MIDNIGHT = datetime(2025, 7, 1, 5, tzinfo=UTC)  # 00:00 LST


def frame(minutes: list[int], temps: list[float], day: date = DAY) -> pl.DataFrame:
    start = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
    return pl.DataFrame(
        {
            "climate_date": [day] * len(minutes),
            "ts": [start + timedelta(minutes=m) for m in minutes],
            "temp_f": temps,
            "station_ok": [True] * len(minutes),
            "resolution_min": [5] * len(minutes),
        }
    )


def test_excess_gaps_and_peak_hour_of_a_day():
    minutes = list(range(0, 1440, 5))
    temps = [70.0 + (10.0 if m == 13 * 60 + 5 else 0.0) for m in minutes]
    row = record_excess(frame(minutes, temps), pl.DataFrame({"climate_date": [DAY], "max_f": [81]}), STD).row(
        0, named=True
    )
    assert (row["obs_max_f"], row["excess_f"], row["peak_hour_lst"]) == (80, 1, 13)
    assert row["longest_gap_min"] == 5 and not row["holed"]
    holed = [m for m in minutes if not 600 <= m < 700]
    row = record_excess(frame(holed, [70.0] * len(holed)), pl.DataFrame({"climate_date": [DAY], "max_f": [75]}), STD)
    assert row["longest_gap_min"][0] == 105 and row["holed"][0]


def test_fit_uses_complete_days_only_and_shrinks_toward_the_prior():
    excess = pl.DataFrame(
        {"resolution_min": [5] * 6, "holed": [False, False, False, False, True, False], "excess_f": [0, 0, 1, 7, 9, -1]}
    )
    fit = excess_pmf(excess, 5)
    assert fit.n_days == 4 and fit.counts == {0: 2, 1: 1, 7: 1}  # the holed day and the negative one are out
    expected = (np.array([2, 1, 0, 1]) + 2.0 * np.asarray(PRIOR_EXCESS[5])) / 6.0  # 7 folds into 3
    assert fit.pmf == pytest.approx(expected)
    assert excess_pmf(excess.head(0), 5).pmf == pytest.approx(PRIOR_EXCESS[5])


def test_draws_follow_the_distribution_to_one_path():
    pmf = np.array([0.85, 0.13, 0.02, 0.0])
    draws = draw_excess(pmf, 1000, seed=3)
    assert np.bincount(draws, minlength=4).tolist() == [850, 130, 20, 0]
    assert draws.tolist() != sorted(draws.tolist())  # shuffled across paths


def test_central_park_5_minute_record_against_the_cli(real_data):
    """The fitted CLI-minus-record distribution of Central Park, Jun-Aug 2025 (the issue's Done-means)."""
    rows = []
    for month in ("06", "07", "08"):
        text = (real_data / f"asos_5min/jetpackjules_KNYC/asos-5min-KNYC-2025{month}.dat").read_text()
        rows += dsi6401_rows(text, station="KNYC", std_utc_offset_hours=STD, origin=month)
    obs = (
        pl.DataFrame([{"ts": r["ts"], "temp_f": r["temp_f"]} for r in rows])
        .with_columns(
            climate_date=(pl.col("ts") + pl.duration(hours=STD)).dt.date(),
            station_ok=pl.lit(True),
            resolution_min=pl.lit(5, pl.Int32),
        )
        .drop_nulls("temp_f")
    )
    cli = pl.read_csv(real_data / "daily_tmax/knyc_cli_daily_2025-06-01_to_08-31.csv", try_parse_dates=True).select(
        pl.col("date").alias("climate_date"), pl.col("official_daily_high_f").cast(pl.Int64).alias("max_f")
    )
    excess = record_excess(obs, cli, STD)
    # Partial first and last days of the files are days too, with holes at their edges.
    print(f"\n{excess.height} days; excess CLI - round(5-minute max), holed = a gap over {HOLE_MINUTES} min")
    print(excess.group_by("holed", "excess_f").len().sort("holed", "excess_f"))
    fit = excess_pmf(excess, 5)
    print(f"complete days {fit.n_days}: counts {fit.counts}; fitted P(excess = 0..3) {np.round(fit.pmf, 3)}")
    assert excess.height >= 75 and (excess["excess_f"] >= 0).all()  # the CLI is never below the record
    big = excess.filter(pl.col("excess_f") >= 2)
    # The large misses are days with holes, not missed 1-minute peaks of a complete record.
    assert big.height > 0 and big["holed"].mean() > 0.5 > excess.filter(pl.col("excess_f") == 0)["holed"].mean()
    assert fit.n_days >= 20 and fit.pmf[0] > 0.8 and fit.pmf[2:].sum() < 0.05
