"""The simulated weather: deterministic, seasonal, and related to the CLI the way real data is."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import pytest

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.sources.sim.weather import MINUTES_PER_DAY, simulate_weather

DAY = date(2026, 6, 1)


def test_same_inputs_give_identical_weather_and_other_seeds_differ(sim_config):
    nyc = sim_config.city("nyc")
    a, b = simulate_weather(7, nyc, DAY), simulate_weather.__wrapped__(7, nyc, DAY)
    assert a is not b
    for field in (
        "minute_temp",
        "obs_temp",
        "obs_dew",
        "obs_humidity",
        "obs_windspeed",
        "forecast_minute_temp",
    ):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert (a.cli_max_f, a.cli_max_minute, a.forecast_high) == (
        b.cli_max_f,
        b.cli_max_minute,
        b.forecast_high,
    )
    assert not np.array_equal(a.minute_temp, simulate_weather(8, nyc, DAY).minute_temp)
    assert not np.array_equal(a.minute_temp, simulate_weather(7, sim_config.city("phl"), DAY).minute_temp)


def test_weather_is_identical_in_a_fresh_process(sim_config):
    """The seed comes from a stable digest, not Python's per-process salted hash()."""
    code = (
        "from datetime import date;from kalshi_wx.defs.settings import settings;"
        "from kalshi_wx.sources.sim.weather import simulate_weather;"
        "w=simulate_weather(7,settings().cities['nyc'],date(2026,6,1));"
        "print(repr(float(w.minute_temp.sum())),w.cli_max_f)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    here = simulate_weather(7, sim_config.city("nyc"), DAY)
    assert out == [repr(float(here.minute_temp.sum())), str(here.cli_max_f)]


def test_arrays_cover_the_climate_day_and_are_read_only(sim_config):
    den = sim_config.city("den")
    w = simulate_weather(7, den, DAY)
    start, end = climate_day_window(DAY, den.std_utc_offset_hours)
    assert (w.start, w.end) == (start, end)
    assert w.minute_temp.shape == (MINUTES_PER_DAY,)
    assert w.obs_epoch[0] == start.timestamp() and w.obs_epoch[-1] == end.timestamp() - 300
    assert np.all(np.diff(w.obs_epoch) == 300)
    with pytest.raises(ValueError):
        w.obs_temp[0] = 0.0


def test_cli_values_round_the_one_minute_extremes_half_up(sim_config):
    for city in sim_config.cities:
        w = simulate_weather(7, city, DAY)
        assert w.cli_max_f == math.floor(w.minute_temp.max() + 0.5)
        assert w.cli_min_f == math.floor(w.minute_temp.min() + 0.5)
        assert w.minute_temp[w.cli_max_minute] == w.minute_temp.max()


def test_five_minute_obs_are_whole_celsius_and_near_but_not_always_the_cli_max(sim_config):
    gaps = []
    for city in sim_config.cities:
        for i in range(60):
            w = simulate_weather(7, city, DAY + timedelta(days=i))
            celsius = (w.obs_temp - 32.0) * 5.0 / 9.0
            np.testing.assert_allclose(celsius, np.round(celsius), atol=0.06)
            gaps.append(w.obs_temp.max() - w.cli_max_f)
    gaps = np.array(gaps)
    # Whole-°C rounding (<= 0.9 °F) plus 5-minute sampling: within a degree or two, like real KNYC.
    assert gaps.max() <= 1.5 and gaps.min() >= -2.5
    assert (np.abs(gaps) >= 0.5).mean() > 0.2  # a real share of days miss the CLI max


def test_seasons_cities_and_diurnal_timing_are_plausible(sim_config):
    def mean_high(key: str, first: date) -> float:
        city = sim_config.city(key)
        return float(np.mean([simulate_weather(7, city, first + timedelta(days=i)).cli_max_f for i in range(30)]))

    assert mean_high("chi", date(2026, 7, 1)) - mean_high("chi", date(2026, 1, 1)) > 35
    assert mean_high("mia", date(2026, 1, 1)) > mean_high("den", date(2026, 1, 1)) + 20
    peaks, lows = [], []
    for i in range(60):
        w = simulate_weather(7, sim_config.city("aus"), date(2026, 5, 1) + timedelta(days=i))
        peaks.append(w.cli_max_minute / 60)
        lows.append(w.cli_min_minute / 60)
    assert 14.0 <= np.median(peaks) <= 16.5  # mid-afternoon LST
    assert 3.5 <= np.percentile(lows, 25) <= 7.0  # around sunrise


def test_days_join_continuously_at_midnight(sim_config):
    nyc = sim_config.city("nyc")
    for i in range(30):
        today = simulate_weather(7, nyc, DAY + timedelta(days=i))
        tomorrow = simulate_weather(7, nyc, DAY + timedelta(days=i + 1))
        assert abs(tomorrow.minute_temp[0] - today.minute_temp[-1]) < 1.5


def test_forecast_is_close_but_wrong_and_its_curve_peaks_at_the_forecast_high(sim_config):
    errors = []
    for city in sim_config.cities:
        for i in range(50):
            w = simulate_weather(7, city, DAY + timedelta(days=i))
            assert w.forecast_minute_temp.max() == pytest.approx(w.forecast_high)
            assert w.forecast_low < w.forecast_high
            assert w.forecast_issued_at.date() == w.climate_date and w.forecast_issued_at < w.start
            assert w.forecast_hourly.shape == (24,)
            errors.append(w.forecast_high - w.minute_temp.max())
    errors = np.array(errors)
    # N(0, 2-3 °F) by construction: 350 draws put the mean within ~0.4 and the sd in [1.8, 3.2].
    assert abs(errors.mean()) < 0.4
    assert 1.8 < errors.std() < 3.2


def test_preliminary_extremes_only_see_minutes_already_over(sim_config):
    w = simulate_weather(7, sim_config.city("nyc"), DAY)
    issued = w.start + timedelta(hours=16, minutes=30)
    max_f, max_minute, min_f, min_minute = w.extremes_before(issued)
    assert max_minute < 16 * 60 + 30 and min_minute < 16 * 60 + 30
    assert max_f == math.floor(w.minute_temp[: 16 * 60 + 30].max() + 0.5)
    assert w.extremes_before(w.end + timedelta(hours=3))[0] == w.cli_max_f
    with pytest.raises(ValueError, match="no minute"):
        w.extremes_before(w.start)


def test_a_city_without_climatology_is_a_clear_error(sim_config):
    elsewhere = dataclasses.replace(sim_config.city("nyc"), key="xyz")
    with pytest.raises(ValueError, match="no climatology for city 'xyz'"):
        simulate_weather(7, elsewhere, DAY)
