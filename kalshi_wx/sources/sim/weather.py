"""Simulated station weather for one city and climate day, deterministic from (seed, city, date).

The 1-minute temperature is a seasonal, per-city diurnal curve plus AR(1) noise. Three views of
it are what the outside world would show:

* 5-minute observations, as Visual Crossing serves them. ASOS 5-minute values travel as whole
  degrees Celsius, so each is the 1-minute value at its stamp rounded to a whole °C and converted
  back to °F with one decimal (73.4, 75.2, ...). Between that rounding (up to 0.9 °F) and the
  5-minute sampling, the 5-minute max can miss the CLI max by a degree or two, as real data does.
* The official CLI max/min: the 1-minute extreme rounded half up to a whole °F, with its time.
* A forecast for the day issued at 00:00 UTC of that date (Visual Crossing's daily model run, the
  evening before in every US zone): a high and low off by N(0, 2-3 °F) and an hourly curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np

from kalshi_wx.core.cities import City
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.sources.sim.common import stable_rng

MINUTES_PER_DAY = 1440
OBS_INTERVAL_MINUTES = 5


@dataclass(frozen=True)
class Climatology:
    hi_mean: float  # annual mean daily high, °F
    hi_amp: float  # half the summer-winter swing of the daily high
    lo_mean: float
    lo_amp: float
    peak_doy: int  # day of year of the warmest normal
    anomaly_sd: float  # day-to-day weather anomaly of the high, °F
    noise_sd: float  # stationary sd of the intraday AR(1) residual, °F
    forecast_sd: float  # day-ahead forecast error of the high, °F
    dewpoint_depression: float  # typical afternoon temperature minus dew point, °F
    wind_mph: float


# Rough 1991-2020 normals at each settlement station; enough to make seasons and cities differ.
CLIMATOLOGY: dict[str, Climatology] = {
    "chi": Climatology(60.0, 24.0, 43.0, 22.0, 200, 6.0, 1.2, 2.8, 14.0, 10.0),
    "nyc": Climatology(62.0, 23.0, 48.5, 21.5, 201, 5.0, 1.0, 2.5, 13.0, 7.0),
    "aus": Climatology(79.5, 17.5, 57.5, 16.5, 215, 4.0, 1.0, 2.5, 18.0, 8.0),
    "mia": Climatology(83.5, 7.5, 69.5, 8.5, 215, 2.0, 0.8, 2.0, 9.0, 9.0),
    "lax": Climatology(71.0, 5.0, 57.0, 8.0, 230, 3.0, 0.9, 2.2, 10.0, 8.0),
    "den": Climatology(66.5, 22.5, 38.5, 21.5, 198, 6.5, 1.4, 3.0, 25.0, 10.0),
    "phl": Climatology(64.5, 23.5, 48.0, 22.0, 201, 5.0, 1.0, 2.5, 13.0, 8.0),
}

_ANOMALY_MEMORY_DAYS = 7
_ANOMALY_DECAY = 0.6  # day-to-day persistence of the weather regime
_NOISE_EFOLD_MINUTES = 90.0  # intraday residual memory (AR(1) phi = exp(-1/90) per minute)
_MINUTE_JITTER_SD = 0.15  # sensor/1-minute averaging jitter on top of the AR(1) path


def climatology(city_key: str) -> Climatology:
    try:
        return CLIMATOLOGY[city_key]
    except KeyError:
        raise ValueError(
            f"the simulator has no climatology for city {city_key!r}; known: {', '.join(CLIMATOLOGY)}"
        ) from None


@dataclass(frozen=True)
class _DayTargets:
    hi: float
    lo: float
    t_min: float  # minute of the day (LST) of the morning minimum
    t_max: float  # minute of the afternoon maximum


@lru_cache(maxsize=4096)
def _innovations(seed: int, city_key: str, day: date) -> tuple[float, ...]:
    return tuple(stable_rng(seed, city_key, day.isoformat(), "day").standard_normal(5))


@lru_cache(maxsize=4096)
def _day_targets(seed: int, city_key: str, day: date) -> _DayTargets:
    clim = climatology(city_key)
    doy = day.timetuple().tm_yday
    season = math.cos(2 * math.pi * (doy - clim.peak_doy) / 365.25)
    # A regime anomaly that persists for days: a decaying sum of daily innovations, so each day
    # needs only its last week of draws and no long chain from an epoch.
    weights = [_ANOMALY_DECAY**k for k in range(_ANOMALY_MEMORY_DAYS)]
    regime = sum(
        w * _innovations(seed, city_key, day - timedelta(days=k))[0] for k, w in enumerate(weights)
    ) / math.sqrt(sum(w * w for w in weights))
    z = _innovations(seed, city_key, day)
    hi = clim.hi_mean + clim.hi_amp * season + clim.anomaly_sd * (0.9 * regime + 0.45 * z[1])
    lo = clim.lo_mean + clim.lo_amp * season + 0.8 * clim.anomaly_sd * (0.9 * regime + 0.45 * z[2])
    lo = min(lo, hi - 4.0)
    # Sunrise is earlier in summer (about 04:50 LST at the solstice, 07:10 in winter).
    daylight = math.cos(2 * math.pi * (doy - 172) / 365.25)
    t_min = 360.0 - 70.0 * daylight + 15.0 * z[3]
    t_max = 930.0 + 30.0 * z[4]
    return _DayTargets(hi=hi, lo=lo, t_min=t_min, t_max=t_max)


def _cooling(x: np.ndarray) -> np.ndarray:
    """Share of the evening fall done at fraction x: flat at the peak, fast after, slow by dawn."""
    return ((1.0 - np.cos(np.pi * np.clip(x, 0.0, 1.0))) / 2.0) ** 0.7


def _diurnal_curve(seed: int, city_key: str, day: date) -> tuple[np.ndarray, _DayTargets]:
    """The smooth 1-minute curve of a climate day; continuous with its neighbours at midnight."""
    prev = _day_targets(seed, city_key, day - timedelta(days=1))
    cur = _day_targets(seed, city_key, day)
    nxt = _day_targets(seed, city_key, day + timedelta(days=1))
    m = np.arange(MINUTES_PER_DAY, dtype=np.float64)
    prev_peak = prev.t_max - MINUTES_PER_DAY
    night = prev.hi - (prev.hi - cur.lo) * _cooling((m - prev_peak) / (cur.t_min - prev_peak))
    rise = cur.lo + (cur.hi - cur.lo) * (1.0 - np.cos(np.pi * (m - cur.t_min) / (cur.t_max - cur.t_min))) / 2.0
    next_min = nxt.t_min + MINUTES_PER_DAY
    evening = cur.hi - (cur.hi - nxt.lo) * _cooling((m - cur.t_max) / (next_min - cur.t_max))
    curve = np.where(m < cur.t_min, night, np.where(m < cur.t_max, rise, evening))
    return curve, cur


def _edge_value(seed: int, city_key: str, day: date, sd: float) -> float:
    """The AR(1) residual at the midnight that starts ``day``, shared by the two days it joins."""
    return float(stable_rng(seed, city_key, day.isoformat(), "edge").normal(0.0, sd))


def _residual(seed: int, city_key: str, day: date, rng: np.random.Generator) -> np.ndarray:
    """AR(1) residual from this midnight's edge value, bridged to the next midnight's.

    The bridge (the Ornstein-Uhlenbeck conditional mean given the end point, weight
    sinh(theta k) / sinh(theta T)) keeps the series continuous across climate days.
    """
    sd = climatology(city_key).noise_sd
    theta = 1.0 / _NOISE_EFOLD_MINUTES
    phi = math.exp(-theta)
    shocks = rng.normal(0.0, sd * math.sqrt(1.0 - phi * phi), MINUTES_PER_DAY)
    path = np.empty(MINUTES_PER_DAY + 1)
    path[0] = _edge_value(seed, city_key, day, sd)
    for i in range(MINUTES_PER_DAY):
        path[i + 1] = phi * path[i] + shocks[i]
    end = _edge_value(seed, city_key, day + timedelta(days=1), sd)
    k = np.arange(MINUTES_PER_DAY + 1, dtype=np.float64)
    path += (end - path[-1]) * np.sinh(theta * k) / math.sinh(theta * MINUTES_PER_DAY)
    return path[:MINUTES_PER_DAY]


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _via_whole_celsius(temp_f: np.ndarray) -> np.ndarray:
    celsius = np.floor((temp_f - 32.0) * 5.0 / 9.0 + 0.5)
    return np.round(celsius * 9.0 / 5.0 + 32.0, 1)


@dataclass(frozen=True, eq=False)
class WeatherDay:
    """One simulated climate day at one settlement station. Times are UTC; arrays are read-only."""

    city_key: str
    climate_date: date
    start: datetime  # climate-day start (local standard midnight) in UTC
    minute_temp: np.ndarray  # (1440,) °F, minute k covers [start + k min, start + (k+1) min)
    obs_epoch: np.ndarray  # (288,) UTC epoch seconds of the 5-minute observations
    obs_temp: np.ndarray  # °F, one decimal, via whole °C
    obs_dew: np.ndarray
    obs_humidity: np.ndarray  # %
    obs_windspeed: np.ndarray  # mph
    cli_max_f: int
    cli_max_minute: int
    cli_min_f: int
    cli_min_minute: int
    forecast_high: float  # °F, as issued at forecast_issued_at
    forecast_low: float
    forecast_issued_at: datetime
    forecast_minute_temp: np.ndarray  # (1440,) the forecast curve the high and low came from

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)

    def minute_time(self, minute: int) -> datetime:
        return self.start + timedelta(minutes=int(minute))

    @property
    def cli_max_time(self) -> datetime:
        return self.minute_time(self.cli_max_minute)

    @property
    def cli_min_time(self) -> datetime:
        return self.minute_time(self.cli_min_minute)

    @property
    def forecast_hour_epoch(self) -> np.ndarray:
        return int(self.start.timestamp()) + 3600 * np.arange(24, dtype=np.int64)

    @property
    def forecast_hourly(self) -> np.ndarray:
        """The forecast at each hour of the climate day, °F with one decimal."""
        return np.round(self.forecast_minute_temp[::60], 1)

    def extremes_before(self, ts: datetime) -> tuple[int, int, int, int]:
        """(max_f, max_minute, min_f, min_minute) over the minutes that ended by ``ts``.

        This is what a preliminary CLI issued at ``ts`` reports.
        """
        done = int((ts - self.start).total_seconds() // 60)
        if done <= 0:
            raise ValueError(f"no minute of {self.climate_date} has ended by {ts.isoformat()}")
        temps = self.minute_temp[: min(done, MINUTES_PER_DAY)]
        hi_k, lo_k = int(np.argmax(temps)), int(np.argmin(temps))
        return _round_half_up(temps[hi_k]), hi_k, _round_half_up(temps[lo_k]), lo_k


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@lru_cache(maxsize=1024)
def simulate_weather(seed: int, city: City, climate_date: date) -> WeatherDay:
    """The weather of one climate day; depends only on (seed, city, date), never on the clock."""
    clim = climatology(city.key)
    start, _ = climate_day_window(climate_date, city.std_utc_offset_hours)
    rng = stable_rng(seed, city.key, climate_date.isoformat(), "weather")

    curve, targets = _diurnal_curve(seed, city.key, climate_date)
    temp = curve + _residual(seed, city.key, climate_date, rng) + rng.normal(0.0, _MINUTE_JITTER_SD, curve.size)
    hi_k, lo_k = int(np.argmax(temp)), int(np.argmin(temp))

    obs_minutes = np.arange(0, MINUTES_PER_DAY, OBS_INTERVAL_MINUTES)
    obs_temp = _via_whole_celsius(temp[obs_minutes])
    # Drier in the afternoon: the dew-point depression grows with the day's warming.
    warmth = np.clip((curve[obs_minutes] - targets.lo) / max(targets.hi - targets.lo, 1.0), 0.0, 1.0)
    depression = clim.dewpoint_depression * (0.35 + 0.65 * warmth) + rng.normal(0.0, 1.0, obs_minutes.size)
    obs_dew = _via_whole_celsius(temp[obs_minutes] - np.maximum(depression, 0.0))
    t_c, d_c = (obs_temp - 32.0) * 5.0 / 9.0, (obs_dew - 32.0) * 5.0 / 9.0
    humidity = 100.0 * np.exp(17.625 * d_c / (243.04 + d_c) - 17.625 * t_c / (243.04 + t_c))
    wind = clim.wind_mph * (0.6 + 0.8 * warmth) + rng.normal(0.0, 2.0, obs_minutes.size)

    # The forecast is the day's smooth shape stretched to a high and low that miss the realised
    # extremes by an independent N(0, forecast_sd) error, so it is unbiased but wrong.
    error_hi, error_lo = rng.normal(0.0, clim.forecast_sd, 2)
    fc_hi = float(temp[hi_k] + error_hi)
    fc_lo = min(float(temp[lo_k] + 0.8 * error_lo), fc_hi - 3.0)
    fc_curve = fc_lo + (curve - curve.min()) * (fc_hi - fc_lo) / (curve.max() - curve.min())

    return WeatherDay(
        city_key=city.key,
        climate_date=climate_date,
        start=start,
        minute_temp=_frozen(temp),
        obs_epoch=_frozen(int(start.timestamp()) + 60 * obs_minutes.astype(np.int64)),
        obs_temp=_frozen(obs_temp),
        obs_dew=_frozen(obs_dew),
        obs_humidity=_frozen(np.round(np.clip(humidity, 1.0, 100.0), 2)),
        obs_windspeed=_frozen(np.round(np.maximum(wind, 0.0), 1)),
        cli_max_f=_round_half_up(temp[hi_k]),
        cli_max_minute=hi_k,
        cli_min_f=_round_half_up(temp[lo_k]),
        cli_min_minute=lo_k,
        forecast_high=fc_hi,
        forecast_low=fc_lo,
        forecast_issued_at=datetime(climate_date.year, climate_date.month, climate_date.day, tzinfo=UTC),
        forecast_minute_temp=_frozen(fc_curve),
    )
