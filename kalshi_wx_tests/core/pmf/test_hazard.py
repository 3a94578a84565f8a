from __future__ import annotations

import math
from datetime import date

import numba
import numpy as np
import pytest

from kalshi_wx.core.brackets import Bracket
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.pmf import hazard
from kalshi_wx.core.pmf.hazard import (
    MINUTES,
    OPEN_HI,
    OPEN_LO,
    Ar1Params,
    ladder_arrays,
    round_half_up,
    simulate_bracket_pmf,
    simulate_bracket_pmf_reference,
)
from kalshi_wx.core.pmf.hazard_fit import baseline_from_forecast, climatology_baseline, minute_index
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.sim.weather import simulate_weather

DAY = date(2025, 7, 10)
PARAMS = Ar1Params(
    phi=math.exp(-1 / 120),
    sigma_by_hour=np.where((np.arange(24) >= 9) & (np.arange(24) < 19), 0.30, 0.15),
    n_days=0,
    n_pairs=0,
)


def kalshi_ladder(centre: int) -> tuple[np.ndarray, np.ndarray]:
    """Six brackets like Kalshi's: two open tails around four 2-degree brackets."""
    return (
        np.array([OPEN_LO, centre - 3, centre - 1, centre + 1, centre + 3, centre + 5]),
        np.array([centre - 4, centre - 2, centre, centre + 2, centre + 4, OPEN_HI]),
    )


@pytest.fixture(scope="module")
def sim_day():
    """A simulated New York summer day: forecast baseline and 5-minute observations."""
    day = simulate_weather(7, settings().cities["nyc"], DAY)
    window = climate_day_window(DAY, -5)
    baseline = baseline_from_forecast(day.forecast_hour_epoch, day.forecast_hourly, window)
    minutes = minute_index(day.obs_epoch, window[0].timestamp())
    lo, hi = kalshi_ladder(int(round_half_up(day.forecast_high)))
    return {"baseline": baseline, "minutes": minutes, "temps": np.asarray(day.obs_temp), "lo": lo, "hi": hi}


def run(fn, d, minutes, temps, params=PARAMS, n_paths=400, seed=11, **kwargs):
    return fn(d["baseline"], minutes, temps, params, d["lo"], d["hi"], n_paths, seed, **kwargs)


def assert_same(a, b):
    np.testing.assert_array_equal(a.p_wx, b.p_wx)
    np.testing.assert_array_equal(a.hazard_next_5m, b.hazard_next_5m)
    np.testing.assert_array_equal(a.hazard_next_60m, b.hazard_next_60m)
    np.testing.assert_array_equal(a.running_max_f, b.running_max_f)


def observation_patterns(d):
    m, t = d["minutes"], d["temps"]
    hourly = np.arange(10, m.size, 12)  # first observation at minute 50: a stretch before it
    same_minute = np.concatenate([m[:100], [m[99]], m[100:]]), np.concatenate([t[:100], [t[99] + 1.5], t[100:]])
    return {
        "five_minute": (m, t),
        "hourly_late_start": (m[hourly], t[hourly]),
        "none": (m[:0], t[:0]),
        "two_in_one_minute": same_minute,
        "last_minute_only": (np.array([MINUTES - 1]), np.array([70.0])),
        "unsorted": (m[::-1], t[::-1]),
    }


@pytest.mark.parametrize(
    "pattern", ["five_minute", "hourly_late_start", "none", "two_in_one_minute", "last_minute_only", "unsorted"]
)
def test_kernel_equals_reference_given_the_same_noise(sim_day, pattern):
    # The kernel's pruning is exact (its bounds use the same floating-point operations as the values
    # they bound), so with identical innovations every count must match, not just within MC error.
    minutes, temps = observation_patterns(sim_day)[pattern]
    noise = np.random.default_rng(3).standard_normal((150, MINUTES - 1))
    fast = run(simulate_bracket_pmf, sim_day, minutes, temps, n_paths=150, noise=noise)
    slow = run(simulate_bracket_pmf_reference, sim_day, minutes, temps, n_paths=150, noise=noise)
    assert_same(fast, slow)


def test_kernel_agrees_with_reference_within_monte_carlo_error(sim_day):
    # Independent streams (the kernel's splitmix64 ziggurat vs numpy's PCG64): each compared
    # probability may differ by 4 standard errors of a difference of two binomial proportions, plus
    # 0.002 for probabilities near 0 or 1; 11 minutes x 8 quantities keep a false alarm below 1%.
    hourly = np.arange(10, sim_day["minutes"].size, 12)
    minutes, temps = sim_day["minutes"][hourly], sim_day["temps"][hourly]
    n1, n2 = 4000, 3000
    fast = run(simulate_bracket_pmf, sim_day, minutes, temps, n_paths=n1, seed=1)
    slow = run(simulate_bracket_pmf_reference, sim_day, minutes, temps, n_paths=n2, seed=2)
    at = [0, 240, 480, 600, 700, 780, 840, 900, 960, 1080, 1320]
    for a, b in [
        (fast.p_wx[at], slow.p_wx[at]),
        (fast.hazard_next_5m[at], slow.hazard_next_5m[at]),
        (fast.hazard_next_60m[at], slow.hazard_next_60m[at]),
    ]:
        pooled = (n1 * a + n2 * b) / (n1 + n2)
        tolerance = 4 * np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)) + 0.002
        assert np.all(np.abs(a - b) <= tolerance), np.abs(a - b) - tolerance
    assert 0.05 < fast.p_wx[600].max() < 0.95  # the comparison is not between two certainties


def closed_form_levels(baseline, minutes, temps, phi):
    """sigma = 0: the day's rounded max at each minute, from the formula, minute by minute."""
    levels = np.empty(MINUTES)
    for t in range(MINUTES):
        seen = minutes <= t
        if not seen.any():
            levels[t] = round_half_up(baseline.max())
            continue
        s = minutes[seen].max()
        r_s = temps[seen][minutes[seen] == s][-1] - baseline[s]
        k = np.arange(t + 1, MINUTES)
        path = baseline[k] + phi ** (k - s) * r_s
        levels[t] = round_half_up(max(temps[seen].max(), path.max() if k.size else -np.inf))
    return levels


def test_zero_sigma_is_the_closed_form_exactly(sim_day):
    params = Ar1Params(phi=0.99, sigma_by_hour=np.zeros(24), n_days=0, n_pairs=0)
    hourly = np.arange(10, sim_day["minutes"].size, 12)
    minutes, temps = sim_day["minutes"][hourly], sim_day["temps"][hourly] + 1.3  # anchored above the baseline
    result = run(simulate_bracket_pmf, sim_day, minutes, temps, params=params, n_paths=50)
    levels = closed_form_levels(sim_day["baseline"], minutes, temps, 0.99)
    uppers = sim_day["hi"][:-1]
    expected = np.zeros_like(result.p_wx)
    expected[np.arange(MINUTES), np.searchsorted(uppers, levels, side="left")] = 1.0
    np.testing.assert_array_equal(result.p_wx, expected)
    assert set(np.unique(result.hazard_next_60m)) <= {0.0, 1.0}


def test_zero_residual_and_zero_sigma_put_everything_on_round_of_max_baseline():
    baseline = climatology_baseline(-5, DAY, 84.3, 69.0)
    params = Ar1Params(phi=0.995, sigma_by_hour=np.zeros(24), n_days=0, n_pairs=0)
    lo, hi = kalshi_ladder(84)
    # One observation exactly on the baseline at minute 0: r_0 = 0, so the path is the baseline.
    result = simulate_bracket_pmf(baseline, np.array([0]), baseline[:1], params, lo, hi, 64, 5)
    peak = int(np.argmax(baseline))
    bracket = int(np.searchsorted(hi[:-1], round_half_up(baseline.max()), side="left"))
    assert np.all(result.p_wx[:peak, bracket] == 1.0)
    assert np.all(result.p_wx[:peak].sum(axis=1) == 1.0)


def test_running_max_is_never_undercut():
    baseline = climatology_baseline(-5, DAY, 75.0, 62.0)
    minutes = np.arange(0, MINUTES, 60)
    temps = baseline[minutes].copy()
    temps[10] = 80.0  # a spike to 80 F at 10:00 LST, far above anything the baseline reaches later
    lo, hi = kalshi_ladder(77)
    result = simulate_bracket_pmf(baseline, minutes, temps, PARAMS, lo, hi, 3000, 9)
    below = np.flatnonzero(hi < 80)  # brackets wholly below 80
    assert np.all(result.p_wx[600:, below] == 0.0)
    assert result.p_wx[540, below].sum() > 0.5  # before the spike they were the likely ones
    assert np.all(result.running_max_f[600:] == 80.0)
    # The 10:00 residual decays (the 11:00 observation is back on the baseline), so a new high
    # above 80.5 becomes unlikely.
    assert result.hazard_next_60m[660:].max() < 0.05
    assert result.hazard_next_60m[600] > result.hazard_next_60m[660]


def test_probabilities_are_valid(sim_day):
    result = run(simulate_bracket_pmf, sim_day, sim_day["minutes"], sim_day["temps"], n_paths=2000)
    np.testing.assert_allclose(result.p_wx.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert result.p_wx.min() >= 0.0
    for h in (result.hazard_next_5m, result.hazard_next_60m):
        assert h.min() >= 0.0 and h.max() <= 1.0
    assert np.all(result.hazard_next_60m >= result.hazard_next_5m)
    assert result.hazard_next_60m[-1] == 0.0  # nothing is left of the day
    assert result.hazard_next_60m.max() > 0.5  # and the morning rise is seen coming


def test_same_seed_same_result_for_any_thread_count_and_other_seed_differs(sim_day):
    args = (sim_day, sim_day["minutes"], sim_day["temps"])
    first = run(simulate_bracket_pmf, *args, n_paths=1000, seed=21)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = run(simulate_bracket_pmf, *args, n_paths=1000, seed=21)
    finally:
        numba.set_num_threads(threads)
    assert_same(first, single)
    assert_same(first, run(simulate_bracket_pmf, *args, n_paths=1000, seed=21))
    other = run(simulate_bracket_pmf, *args, n_paths=1000, seed=22)
    assert not np.array_equal(first.p_wx, other.p_wx)


def test_no_look_ahead(sim_day):
    minutes, temps = sim_day["minutes"], sim_day["temps"]
    t = 700
    later = minutes > t
    cut = int(minutes[later].min())  # outputs before the first changed observation must not move
    base = run(simulate_bracket_pmf, sim_day, minutes, temps, n_paths=1000)
    warmer = run(simulate_bracket_pmf, sim_day, minutes, np.where(later, temps + 3.0, temps), n_paths=1000)
    dropped = run(simulate_bracket_pmf, sim_day, minutes[~later], temps[~later], n_paths=1000)
    for other in (warmer, dropped):
        np.testing.assert_array_equal(base.p_wx[:cut], other.p_wx[:cut])
        np.testing.assert_array_equal(base.hazard_next_5m[:cut], other.hazard_next_5m[:cut])
        np.testing.assert_array_equal(base.hazard_next_60m[:cut], other.hazard_next_60m[:cut])
        np.testing.assert_array_equal(base.running_max_f[:cut], other.running_max_f[:cut])
    assert not np.array_equal(base.p_wx[cut:], warmer.p_wx[cut:])


def test_before_the_first_observation_the_whole_day_is_simulated(sim_day):
    minutes, temps = sim_day["minutes"][12:], sim_day["temps"][12:]  # first observation at 01:00
    first = int(minutes.min())
    result = run(simulate_bracket_pmf, sim_day, minutes, temps, n_paths=1000)
    assert np.all(np.isnan(result.running_max_f[:first]))
    assert np.all(result.p_wx[:first] == result.p_wx[0])
    assert result.running_max_f[first] == temps[0]


def _normals(n: int) -> np.ndarray:
    @numba.njit
    def draw(count, ki, wi, fi):
        out = np.empty(count)
        state = np.uint64(12345)
        for i in range(count):
            state, out[i] = hazard._standard_normal(state, ki, wi, fi)
        return out

    return draw(n, hazard._ZIG_KI, hazard._ZIG_WI, hazard._ZIG_FI)


def test_the_kernels_normal_generator_is_standard_normal():
    # 2M draws: mean and variance within 5 standard errors, tail frequencies (including beyond the
    # ziggurat's base-strip edge at 3.654) within 5 binomial standard errors of the exact N(0, 1) values.
    n = 2_000_000
    z = _normals(n)
    assert abs(z.mean()) < 5 / math.sqrt(n)
    assert abs(z.var() - 1.0) < 5 * math.sqrt(2 / n)
    for q in (0.5, 1.0, 2.0, 3.0, hazard._ZIG_R, 4.0):
        p = math.erfc(q / math.sqrt(2))
        assert abs(np.mean(np.abs(z) > q) - p) < 5 * math.sqrt(p * (1 - p) / n) + 1e-6, q


def test_ladder_arrays_and_validation(sim_day):
    lo, hi = ladder_arrays([Bracket("A", 80, 81), Bracket("T", None, 79), Bracket("U", 82, None)])
    np.testing.assert_array_equal(lo, [OPEN_LO, 80, 82])
    np.testing.assert_array_equal(hi, [79, 81, OPEN_HI])
    with pytest.raises(ValueError, match="cover every whole degree"):
        simulate_bracket_pmf(sim_day["baseline"], np.array([0]), np.array([70.0]), PARAMS, lo[1:], hi[1:], 10, 1)
    with pytest.raises(ValueError, match="0..1439"):
        simulate_bracket_pmf(sim_day["baseline"], np.array([MINUTES]), np.array([70.0]), PARAMS, lo, hi, 10, 1)
    with pytest.raises(ValueError, match="finite"):
        simulate_bracket_pmf(sim_day["baseline"], np.array([3]), np.array([np.nan]), PARAMS, lo, hi, 10, 1)


def test_any_sentinel_beyond_open_bound_marks_an_open_end(sim_day):
    args = (sim_day["baseline"], sim_day["minutes"], sim_day["temps"], PARAMS)
    lo, hi = sim_day["lo"].copy(), sim_day["hi"].copy()
    standard = simulate_bracket_pmf(*args, lo, hi, 200, 1)
    lo[0], hi[-1] = -10_000, 10_000
    assert_same(standard, simulate_bracket_pmf(*args, lo, hi, 200, 1))


def test_single_bracket_ladder_is_certain(sim_day):
    lo, hi = np.array([OPEN_LO]), np.array([OPEN_HI])
    result = simulate_bracket_pmf(sim_day["baseline"], sim_day["minutes"], sim_day["temps"], PARAMS, lo, hi, 8, 1)
    assert np.all(result.p_wx == 1.0)


def test_kernel_equals_reference_with_excess_and_holes(sim_day):
    m, t = sim_day["minutes"], sim_day["temps"]
    keep = (m < 600) | (m > 840)  # a four-hour hole over the afternoon
    noise = np.random.default_rng(5).standard_normal((300, MINUTES - 1))
    excess = np.random.default_rng(6).integers(0, 3, 300)
    kwargs = {"n_paths": 300, "noise": noise, "excess": excess}
    assert_same(
        run(simulate_bracket_pmf, sim_day, m[keep], t[keep], **kwargs),
        run(simulate_bracket_pmf_reference, sim_day, m[keep], t[keep], **kwargs),
    )


def test_a_peak_inside_a_hole_is_simulated_not_held_flat():
    """Flat 70 °F observations with the afternoon missing, under a baseline that peaks at 85 °F there."""
    baseline = 70.0 + 15.0 * np.exp(-(((np.arange(MINUTES) - 780) / 90.0) ** 2))
    minutes = np.arange(0, MINUTES, 5)
    lo, hi = np.array([OPEN_LO, 71, 76]), np.array([70, 75, OPEN_HI])
    params = Ar1Params(phi=0.99, sigma_by_hour=np.full(24, 0.2), n_days=0, n_pairs=0)

    def end_of_day(observed: np.ndarray, **kwargs) -> np.ndarray:
        temps = np.full(observed.size, 70.0)
        return simulate_bracket_pmf(baseline, observed, temps, params, lo, hi, 2000, 3, **kwargs).p_wx[-1]

    gappy = minutes[(minutes < 600) | (minutes > 960)]
    with_hole, complete = end_of_day(gappy), end_of_day(minutes)
    assert complete == pytest.approx([1.0, 0.0, 0.0])  # every 5 minutes seen at 70: settled
    # Pinned at 70 on both sides, the bridged path still rises under the baseline's peak in between.
    assert with_hole[0] < 0.9 and with_hole[1] + with_hole[2] > 0.1
    assert end_of_day(gappy, hole_minutes=400)[0] == pytest.approx(1.0)  # the same gap as ordinary spacing


def test_the_excess_lifts_the_settled_value_and_never_below_the_running_max(sim_day):
    m, t = sim_day["minutes"], sim_day["temps"]
    level = int(round_half_up(t.max()))
    lo, hi = np.array([OPEN_LO, level, level + 1]), np.array([level - 1, level, OPEN_HI])
    excess = np.array([0, 1] * 200)
    args = (sim_day["baseline"], m, t, PARAMS, lo, hi, 400, 11)
    flat = simulate_bracket_pmf(*args).p_wx[-1]
    lifted = simulate_bracket_pmf(*args, excess=excess).p_wx[-1]
    assert flat == pytest.approx([0.0, 1.0, 0.0]) and lifted == pytest.approx([0.0, 0.5, 0.5])
    with pytest.raises(ValueError, match="excess must be"):
        simulate_bracket_pmf(*args, excess=-excess)


def test_floor_keeps_live_brackets_above_zero_and_ruled_out_ones_at_zero():
    p = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    running = np.array([70.4, 70.5, np.nan])  # rounds to 70, to 71; nothing observed yet
    hi = np.array([70, 72, OPEN_HI])  # <= 70, 71-72, >= 73
    floored = hazard.floor_live_brackets(p, running, hi, 0.01)
    np.testing.assert_allclose(floored.sum(axis=1), 1.0)
    assert (floored[0] > 0).all() and floored[0, 1] > 0.98
    assert floored[1, 0] == 0.0 and floored[1, 1] > 0  # 70 is ruled out by 71, 71-72 is not
    assert (floored[2] > 0).all()


def test_measurement_noise_filters_the_anchor_and_kernel_still_equals_reference(sim_day):
    noisy = Ar1Params(phi=PARAMS.phi, sigma_by_hour=PARAMS.sigma_by_hour, n_days=0, n_pairs=0, noise_sd=0.5)
    m, t = sim_day["minutes"], sim_day["temps"]
    noise = np.random.default_rng(8).standard_normal((300, MINUTES - 1))
    assert_same(
        run(simulate_bracket_pmf, sim_day, m, t, params=noisy, n_paths=300, noise=noise),
        run(simulate_bracket_pmf_reference, sim_day, m, t, params=noisy, n_paths=300, noise=noise),
    )
    # A lone 5 °F spike on flat readings moves the anchor only part of the way; without noise, all of it.
    baseline = np.full(MINUTES, 70.0)
    starts = np.arange(0, 605, 5)
    readings = np.where(starts == 600, 75.0, 70.0)
    filtered = hazard._anchors(baseline, starts, readings, noisy)
    assert 70.0 < filtered[-1] < 74.5 and np.allclose(filtered[:-1], 70.0)
    assert hazard._anchors(baseline, starts, readings, PARAMS)[-1] == 75.0
