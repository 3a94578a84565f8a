"""The hazard Monte Carlo on real Central Park (KNYC) hourly observations against the official CLI high.

Run with ``-s`` to see the table. Setup, chosen to use nothing the model could not have known:

* Observations: IEM ASOS hourly (:51) and special reports, stamped to minutes of the climate day
  (local standard midnight to midnight, UTC-5 all year).
* Baseline: forecast-free, ``climatology_baseline`` with fixed monthly Central Park normals; the
  kernel anchors to each observation through the residual, so nothing of the day leaks into it.
* AR(1): fitted on the other climate days of the same period in the file (including its partial
  days). With only four to six days on file this is leave-one-out rather than a strictly trailing
  window: the days are neighbours, not the day itself.
* Ladders: Kalshi's shape (two open tails around four 2-degree brackets) with the CLI high as the
  top ("[CLI-1, CLI]") or the bottom ("[CLI, CLI+1]") of the third bracket; both are reported
  because hourly observations miss the CLI high by about a degree (the CLI is the maximum over
  every minute), which favours the first placement.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from kalshi_wx.core.brackets import Bracket
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.pmf.hazard import ladder_arrays, round_half_up, simulate_bracket_pmf
from kalshi_wx.core.pmf.hazard_fit import climatology_baseline, fit_ar1, minute_index

OBS_FILE = "asos_metar/ericzzhang27_KNYC/KNYC_iem_asos_2018-01-01_04_and_2026-06-10_13.csv"
CLI_FILE = "daily_tmax/knyc_cli_daily_2018Q1_and_2026-05-24_to_08-23.csv"
STD_OFFSET = -5
# Approximate 1991-2020 Central Park normal high and low (°F) by month.
NORMALS = {12: (44.1, 32.8), 1: (39.5, 28.6), 6: (79.7, 65.0)}
CHECK_MINUTES = {"10:00": 600, "13:00": 780, "16:00": 960}
COMPLETE_DAYS = [date(2018, 1, d) for d in (1, 2, 3)] + [date(2026, 6, d) for d in (10, 11, 12)]
N_PATHS = 4000


@pytest.fixture(scope="module")
def observations(real_data) -> pl.DataFrame:
    frame = pl.read_csv(real_data / OBS_FILE, infer_schema_length=0).select(
        pl.col("valid").str.to_datetime(time_zone="UTC").alias("ts"),
        pl.col("tmpf").cast(pl.Float64, strict=False),
    )
    return frame.drop_nulls().with_columns((pl.col("ts") + pl.duration(hours=STD_OFFSET)).dt.date().alias("day"))


@pytest.fixture(scope="module")
def cli_highs(real_data) -> dict[date, int]:
    frame = pl.read_csv(real_data / CLI_FILE, infer_schema_length=0)
    return {
        date.fromisoformat(d): int(float(v))
        for d, v in zip(frame["date"], frame["official_daily_high_f"], strict=True)
        if v is not None
    }


def day_observations(observations: pl.DataFrame, day: date) -> tuple[np.ndarray, np.ndarray, float]:
    rows = observations.filter(pl.col("day") == day).sort("ts")
    start = climate_day_window(day, STD_OFFSET)[0].timestamp()
    stamps = rows["ts"].dt.epoch("s").to_numpy().astype(np.float64)
    return stamps, rows["tmpf"].to_numpy(), start


def baseline(day: date) -> np.ndarray:
    return climatology_baseline(STD_OFFSET, day, *NORMALS[day.month])


def complete(observations: pl.DataFrame, day: date) -> bool:
    """Observed from the first to the last hour of the climate day with no gap over 90 minutes."""
    stamps, _, start = day_observations(observations, day)
    minutes = minute_index(stamps, start)
    return bool(minutes.size) and minutes[0] < 60 and minutes[-1] >= 1380 and np.diff(minutes).max() <= 90


def kalshi_ladder(cli: int, cli_on_top: bool) -> tuple[np.ndarray, np.ndarray]:
    """Six brackets; the CLI high is in the third (index 2)."""
    low = cli - 1 if cli_on_top else cli
    brackets = [Bracket("T-low", None, low - 3)]
    brackets += [Bracket(f"B{lo}", lo, lo + 1) for lo in range(low - 2, low + 6, 2)]
    brackets.append(Bracket("T-high", low + 6, None))
    return ladder_arrays(brackets)


def test_complete_climate_days_are_the_six_expected(observations):
    days = sorted(set(observations["day"].to_list()))
    assert [d for d in days if complete(observations, d)] == COMPLETE_DAYS


@pytest.fixture(scope="module")
def table(observations, cli_highs) -> list[dict]:
    rows = []
    for day in COMPLETE_DAYS:
        others = sorted(d for d in set(observations["day"].to_list()) if d != day and abs(d - day) < timedelta(days=7))
        history = []
        for other in others:
            other_stamps, other_temps, other_start = day_observations(observations, other)
            history.append((other_stamps, other_temps, baseline(other), other_start))
        params = fit_ar1(history)
        stamps, temps, start = day_observations(observations, day)
        minutes = minute_index(stamps, start)
        cli = cli_highs[day]
        row = {"day": day, "cli": cli, "hourly_max": float(temps.max()), "params": params}
        for on_top in (True, False):
            lo, hi = kalshi_ladder(cli, on_top)
            result = simulate_bracket_pmf(baseline(day), minutes, temps, params, lo, hi, N_PATHS, seed=2026)
            cli_bracket = {name: float(result.p_wx[m, 2]) for name, m in CHECK_MINUTES.items()}
            row["on_top" if on_top else "at_bottom"] = cli_bracket
            row.setdefault("results", []).append((result, hi))
        rows.append(row)
    return rows


def test_print_table(table):
    print("\nKNYC hourly obs, climatology baseline, leave-one-out AR(1), 4000 paths: p(CLI bracket)")
    print(f"{'day':<11} {'CLI':>4} {'obs max':>7} {'phi':>7}   [CLI-1,CLI] 10/13/16 LST   [CLI,CLI+1] 10/13/16 LST")
    for row in table:
        top = " ".join(f"{row['on_top'][k]:.3f}" for k in CHECK_MINUTES)
        bottom = " ".join(f"{row['at_bottom'][k]:.3f}" for k in CHECK_MINUTES)
        print(f"{row['day']!s:<11} {row['cli']:>4} {row['hourly_max']:>7.1f} {row['params'].phi:>7.4f}   {top}"
              f"        {bottom}")  # fmt: skip
    assert all(row["params"].source == "fit" for row in table)


def test_probabilities_are_valid_and_the_running_max_holds(table):
    for row in table:
        for result, hi in row["results"]:
            np.testing.assert_allclose(result.p_wx.sum(axis=1), 1.0, atol=1e-12)
            seen = ~np.isnan(result.running_max_f)
            floor = round_half_up(result.running_max_f[seen])
            below = hi[None, :] < floor[:, None]
            assert np.all(result.p_wx[seen][below] == 0.0)
            assert np.all(result.hazard_next_60m >= result.hazard_next_5m)


@pytest.mark.parametrize("placement", ["on_top", "at_bottom"])
def test_the_cli_bracket_gains_probability_through_the_day(table, placement):
    # By 16:00 LST most of the heating is observed, so on most days the bracket that settles should
    # hold more probability than at 10:00. Not every day: a late high after a front can fool it.
    gains = [row[placement]["16:00"] >= row[placement]["10:00"] for row in table]
    assert sum(gains) >= 4, gains
    assert np.mean([row[placement]["16:00"] for row in table]) > np.mean([row[placement]["10:00"] for row in table])
