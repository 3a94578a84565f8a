"""Hazard Monte Carlo speed: the numba kernel against the plain numpy reference on one city-day.

The day is a simulated New York summer day with 5-minute observations (288 start minutes, as from
Visual Crossing), a forecast baseline, AR(1) parameters fitted on the 14 simulated days before it,
and a six-bracket ladder around the forecast high. Both implementations produce all 1440 minutes.

Work is counted as *nominal path-minute updates*: a simulator that restarted every path at each
minute t and stepped the AR(1) to the end of the day would do ``n_paths * sum_t (1439 - t)``
updates (1,036,080 per path). The kernel does far fewer (one noise field of 1439 steps per path,
plus the minutes its bounds cannot prune), so the nominal rate measures delivered output, not
arithmetic. ``ar1_recursion_updates`` is the number of AR(1) recursion steps the kernel performs.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import numba
import numpy as np

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.pmf.hazard import (
    MINUTES,
    OPEN_HI,
    OPEN_LO,
    simulate_bracket_pmf,
    simulate_bracket_pmf_reference,
)
from kalshi_wx.core.pmf.hazard_fit import baseline_from_forecast, fit_ar1, minute_index
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.sim.weather import simulate_weather

BENCH_CITY = "nyc"
BENCH_DATE = date(2025, 7, 10)
BENCH_STD_OFFSET = -5
WEATHER_SEED = 7
FIT_DAYS = 14
TARGET_SPEEDUP = 50.0
_REFERENCE_PROBE_PATHS = 500


def _observed_day(climate_date: date):
    day = simulate_weather(WEATHER_SEED, settings().city(BENCH_CITY), climate_date)
    window = climate_day_window(climate_date, BENCH_STD_OFFSET)
    baseline = baseline_from_forecast(day.forecast_hour_epoch, day.forecast_hourly, window)
    return day, window, baseline


def bench_inputs() -> dict:
    """The benchmark city-day: baseline, observations, fitted parameters and ladder."""
    day, window, baseline = _observed_day(BENCH_DATE)
    history = []
    for back in range(FIT_DAYS, 0, -1):
        past, past_window, past_baseline = _observed_day(BENCH_DATE - timedelta(days=back))
        history.append((past.obs_epoch, past.obs_temp, past_baseline, past_window[0].timestamp()))
    centre = int(np.floor(day.forecast_high + 0.5))
    return {
        "baseline": baseline,
        "obs_minute_idx": minute_index(day.obs_epoch, window[0].timestamp()),
        "obs_temp_f": np.asarray(day.obs_temp),
        "params": fit_ar1(history),
        "ladder_lo": np.array([OPEN_LO, centre - 3, centre - 1, centre + 1, centre + 3, centre + 5]),
        "ladder_hi": np.array([centre - 4, centre - 2, centre, centre + 2, centre + 4, OPEN_HI]),
    }


def _timed(fn, repeats: int, **kwargs):
    best, result = float("inf"), None
    for _ in range(repeats):
        began = time.perf_counter()
        result = fn(**kwargs)
        best = min(best, time.perf_counter() - began)
    return best, result


def run_hazard_benchmark(n_paths: int = 10_000, seed: int = 20260610, *, reference_budget_s: float = 120.0) -> dict:
    """Time the kernel (best of 3, after a warm-up call) and the numpy reference on the same day.

    The reference runs at ``n_paths`` when a 500-path probe projects it within
    ``reference_budget_s``; otherwise at the largest path count that fits, scaled linearly to
    ``n_paths`` (its cost is linear in paths), and ``reference_scaled`` says so.
    """
    if n_paths < 1:
        raise ValueError("n_paths must be >= 1")
    inputs = bench_inputs()

    began = time.perf_counter()
    simulate_bracket_pmf(**inputs, n_paths=min(n_paths, 64), seed=seed)
    warmup_s = time.perf_counter() - began
    numba_s, fast = _timed(simulate_bracket_pmf, 3, **inputs, n_paths=n_paths, seed=seed)

    probe = min(n_paths, _REFERENCE_PROBE_PATHS)
    measured_s, slow = _timed(simulate_bracket_pmf_reference, 1, **inputs, n_paths=probe, seed=seed)
    reference_paths = n_paths
    if measured_s * n_paths / probe > reference_budget_s:
        reference_paths = max(probe, int(probe * reference_budget_s / measured_s))
    if reference_paths != probe:
        measured_s, slow = _timed(simulate_bracket_pmf_reference, 1, **inputs, n_paths=reference_paths, seed=seed)
    reference_s = measured_s * n_paths / reference_paths

    nominal = n_paths * (MINUTES - 1) * MINUTES // 2
    report = {
        "benchmark": "hazard_monte_carlo",
        "city": BENCH_CITY,
        "climate_date": BENCH_DATE.isoformat(),
        "n_paths": n_paths,
        "seed": seed,
        "minutes": MINUTES,
        "observations": int(inputs["obs_minute_idx"].size),
        "brackets": int(inputs["ladder_lo"].size),
        "phi": round(inputs["params"].phi, 6),
        "threads": numba.get_num_threads(),
        "numba_warmup_s": round(warmup_s, 3),
        "numba_warmup_note": "first call: JIT compile, or loading numba's on-disk cache when present",
        "numba_s": round(numba_s, 4),
        "reference_s": round(reference_s, 3),
        "reference_paths": reference_paths,
        "reference_measured_s": round(measured_s, 3),
        "reference_scaled": reference_paths != n_paths,
        "speedup": round(reference_s / numba_s, 1),
        "target_speedup": TARGET_SPEEDUP,
        "meets_target": reference_s / numba_s >= TARGET_SPEEDUP,
        "nominal_step_updates": nominal,
        "nominal_step_updates_definition": "n_paths * sum over minutes t of (1439 - t): restart-every-minute work",
        "numba_step_updates_per_s": round(nominal / numba_s),
        "reference_step_updates_per_s": round(nominal / reference_s),
        "ar1_recursion_updates": n_paths * (MINUTES - 1),
    }
    if reference_paths == n_paths:
        # Independent random streams: a sanity check that both simulate the same model.
        report["p_wx_max_abs_diff"] = round(float(np.abs(fast.p_wx - slow.p_wx).max()), 4)
    return report
