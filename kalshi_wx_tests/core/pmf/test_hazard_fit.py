from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import pytest

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.pmf import hazard_fit
from kalshi_wx.core.pmf.hazard_fit import (
    PHI_MAX,
    baseline_from_forecast,
    climatology_baseline,
    fit_ar1,
    minute_index,
    prior_params,
)

TAU = 60.0  # true e-folding time, minutes
PHI = math.exp(-1 / TAU)
SIGMA = np.where((np.arange(24) >= 10) & (np.arange(24) < 18), 0.25, 0.12)  # afternoon twice as noisy


def synthetic_days(seed: int, n_days: int, mean_gap: int, phi: float = PHI):
    """Days of an exact 1-minute AR(1) residual around a baseline, observed at random gaps."""
    rng = np.random.default_rng(seed)
    step_sd = np.repeat(SIGMA, 60)
    baseline = 60.0 + 10.0 * np.sin(np.arange(1440) / 1440 * 2 * np.pi)
    days = []
    for d in range(n_days):
        resid = np.empty(1440)
        resid[0] = rng.normal(0.0, step_sd.mean() / math.sqrt(1 - phi * phi)) if phi < 1 else 0.0
        shocks = rng.standard_normal(1440)
        for k in range(1, 1440):
            resid[k] = phi * resid[k - 1] + step_sd[k] * shocks[k]
        minutes = np.cumsum(rng.integers(1, 2 * mean_gap, 1440))
        minutes = minutes[minutes < 1440]
        start = 1.75e9 + 86400.0 * d
        stamps = start + 60.0 * minutes + rng.uniform(0.0, 59.0, minutes.size)  # anywhere inside the minute
        days.append((stamps, baseline[minutes] + resid[minutes], baseline, start))
    return days


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_recovers_phi_and_sigma_from_irregular_five_minute_data(seed):
    # 20 days, gaps uniform on 1..9 minutes (~5,700 pairs). Over 8 seeds the fitted e-folding time
    # fell within 10% of 60 min and each hour's sigma within 15%; the bounds below leave about
    # twice that room.
    params = fit_ar1(synthetic_days(seed, 20, 5))
    assert params.source == "fit" and params.n_days == 20
    assert abs(-1 / math.log(params.phi) / TAU - 1) < 0.2
    np.testing.assert_allclose(params.sigma_by_hour, SIGMA, rtol=0.25)
    afternoon_over_night = params.sigma_by_hour[10:18].mean() / params.sigma_by_hour[:6].mean()
    assert abs(afternoon_over_night / 2.08 - 1) < 0.15


def test_fit_handles_hourly_like_gaps():
    # Gaps uniform on 1..39 minutes (~1,400 pairs): the looser check is the e-folding time (within 25%)
    # and the afternoon/night contrast, which shrinkage toward the all-day sigma pulls in a little.
    params = fit_ar1(synthetic_days(4, 20, 20))
    assert abs(-1 / math.log(params.phi) / TAU - 1) < 0.25
    assert 1.5 < params.sigma_by_hour[10:18].mean() / params.sigma_by_hour[:6].mean() < 2.5


def test_phi_is_clamped_for_a_random_walk_and_near_zero_for_white_noise():
    walk = fit_ar1(synthetic_days(5, 6, 10, phi=1.0))
    assert walk.phi == pytest.approx(PHI_MAX, abs=2e-5)
    white = fit_ar1(synthetic_days(6, 6, 10, phi=0.0))
    assert 0.0 <= white.phi < 0.3


def test_too_few_days_fall_back_to_the_prior():
    params = fit_ar1(synthetic_days(7, 2, 5))
    assert params.source == "prior" and params.n_days == 2 and params.n_pairs > 0
    prior = prior_params()
    assert params.phi == prior.phi
    np.testing.assert_array_equal(params.sigma_by_hour, prior.sigma_by_hour)
    stationary_sd = prior.sigma_by_hour[0] / math.sqrt(1 - prior.phi**2)
    assert stationary_sd == pytest.approx(2.0)


def test_several_observations_in_one_minute_keep_the_last():
    days = synthetic_days(8, 3, 5)
    stamps, temps, baseline, start = days[0]
    # A bogus reading earlier in the same minute as the first observation must not count.
    doubled = (np.append(stamps[0] - 0.5, stamps), np.append(temps[0] + 40.0, temps), baseline, start)
    assert fit_ar1([doubled, *days[1:]]).phi == fit_ar1(days).phi


def test_days_given_as_minutes_of_the_climate_day_fit_the_same():
    days = synthetic_days(9, 4, 5)
    as_minutes = [(minute_index(stamps, start), temps, baseline) for stamps, temps, baseline, start in days]
    by_stamp, by_minute = fit_ar1(days), fit_ar1(as_minutes)
    assert by_minute.phi == by_stamp.phi
    np.testing.assert_array_equal(by_minute.sigma_by_hour, by_stamp.sigma_by_hour)
    with pytest.raises(ValueError, match="3- or 4-tuple"):
        fit_ar1([days[0][:2]])


def test_minute_index_floors_elapsed_minutes():
    np.testing.assert_array_equal(minute_index([100.0, 159.9, 160.0, 40.0], 100.0), [0, 0, 1, -1])


def test_baseline_from_forecast_interpolates_and_holds_the_edges():
    window = climate_day_window(date(2026, 6, 11), -5)
    start = window[0].timestamp()
    hours = start + 3600.0 * np.arange(2, 20)  # 02:00..19:00 LST
    temps = 70.0 + np.arange(18.0)
    baseline = baseline_from_forecast(hours, temps, window)
    assert baseline.shape == (1440,)
    np.testing.assert_allclose(baseline[120:1141:60], temps)
    assert baseline[150] == pytest.approx(70.5)
    assert np.all(baseline[:120] == 70.0) and np.all(baseline[1140:] == 87.0)
    as_datetime64 = np.array([datetime.fromtimestamp(h, UTC).replace(tzinfo=None) for h in hours], "datetime64[s]")
    np.testing.assert_array_equal(baseline_from_forecast(as_datetime64, temps, window), baseline)
    with pytest.raises(ValueError, match="no finite"):
        baseline_from_forecast(hours, np.full(18, np.nan), window)


@pytest.mark.parametrize(("day", "t_min"), [(date(2026, 6, 21), 290), (date(2026, 12, 21), 430)])
def test_climatology_baseline_shape(day, t_min):
    baseline = climatology_baseline(-5, day, 84.0, 66.0)
    assert baseline.max() == pytest.approx(84.0) and int(np.argmax(baseline)) == 900  # 15:00 LST
    assert baseline.min() == pytest.approx(66.0, abs=1e-3)
    assert abs(int(np.argmin(baseline)) - t_min) <= 2  # sunrise-ish: 04:50 in June, 07:10 in December
    assert abs(baseline[0] - baseline[-1]) < 0.1  # continuous across midnight
    with pytest.raises(ValueError):
        climatology_baseline(-5, day, 60.0, 70.0)
    np.testing.assert_array_equal(climatology_baseline(-8, day, 84.0, 66.0), baseline)  # minutes are LST


def test_white_measurement_noise_is_separated_from_the_slow_residual():
    # The same AR(1) days read through 0.3 °F of white noise (about the °C-tenths round trip's):
    # the noise is found, and the slow sigma stays what it was instead of absorbing the jitter.
    rng = np.random.default_rng(11)
    clean = synthetic_days(10, 20, 5)
    noisy = [
        (stamps, temps + rng.normal(0.0, 0.3, temps.size), baseline, start) for stamps, temps, baseline, start in clean
    ]
    fit_clean, fit_noisy = fit_ar1(clean), fit_ar1(noisy)
    assert fit_clean.noise_sd < 0.1
    assert fit_noisy.noise_sd == pytest.approx(0.3, abs=0.08)
    # Hour by hour the slow part is now a small signal under the noise; by part of the day it is recovered.
    assert fit_noisy.sigma_by_hour[10:18].mean() == pytest.approx(0.25, rel=0.2)
    assert fit_noisy.sigma_by_hour[:6].mean() == pytest.approx(0.12, rel=0.3)
    assert abs(-1 / math.log(fit_noisy.phi) / TAU - 1) < 0.35
    # Without the noise term the same readings look like a much noisier slow residual.
    assert fit_noisy.sigma_by_hour.mean() < 0.6 * fit_ar1_without_noise(noisy).sigma_by_hour.mean()


def fit_ar1_without_noise(days):
    """fit_ar1 with the measurement-noise estimate switched off, as the model was before."""
    original = hazard_fit.measurement_noise_var
    hazard_fit.measurement_noise_var = lambda *pairs: 0.0
    try:
        return fit_ar1(days)
    finally:
        hazard_fit.measurement_noise_var = original
