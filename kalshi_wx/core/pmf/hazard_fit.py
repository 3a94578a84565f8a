"""Baselines and the AR(1) residual fit that feed the hazard Monte Carlo (``core/hazard.py``).

The baseline ``B[m]`` is a curve over the 1440 minutes of a climate day (minute 0 = local standard
midnight). Observed temperatures are never blended into it: the kernel anchors each path to the
latest observation through the residual ``r_s = obs - B[s]``, and the AR(1) below says how fast
that anchor decays back to the baseline.

``fit_ar1`` fits the residual ``r = T - B`` of past days against the same kind of baseline the
kernel will use. The caller chooses the days: a trailing window that ends before the partition's
climate day (so the fit never sees the day it is used on), each day with the baseline that was
available for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import numpy.typing as npt

from kalshi_wx.core.pmf.hazard import MINUTES, Ar1Params

MIN_FIT_DAYS = 3  # fewer days with usable pairs than this: prior_params()
MIN_FIT_PAIRS = 40
PHI_MAX = 0.9999
SHRINK_PAIRS = 10.0  # prior weight of the all-day sigma in each hour's estimate, in pairs
MIN_HOUR_VARIANCE_SHARE = 0.1  # no hour's innovation variance below this share of the all-day value
PRIOR_EFOLD_MINUTES = 180.0  # residual memory: forecast misses persist for hours
PRIOR_STATIONARY_SD_F = 2.0  # about the day-ahead forecast error of the high
# e-folding time tau = -1 / ln(phi), searched on a log grid; the top end is phi = PHI_MAX.
_TAU_MIN, _TAU_MAX = 0.05, -1.0 / math.log(PHI_MAX)
_TAU_GRID = 41
_VARIANCE_FLOOR = 1e-12  # °F^2: keeps the likelihood finite when residuals repeat exactly
_GOLDEN_STEPS = 40

ObsDay = tuple[np.ndarray, np.ndarray, np.ndarray, float] | tuple[np.ndarray, np.ndarray, np.ndarray]
"""One past climate day: ``(obs_ts_epoch_s, obs_temp_f, baseline[1440], window_start_epoch_s)``, or
``(obs_minute_idx, obs_temp_f, baseline[1440])`` with minutes of the climate day as the kernel takes them."""


def minute_index(ts_epoch_s: npt.ArrayLike, window_start_epoch_s: float) -> np.ndarray:
    """Minute of the climate day an observation is stamped in (``floor`` of elapsed minutes)."""
    elapsed = np.asarray(ts_epoch_s, dtype=np.float64) - float(window_start_epoch_s)
    return np.floor(elapsed / 60.0).astype(np.int64)


def _epoch_seconds(ts: npt.ArrayLike) -> np.ndarray:
    ts = np.asarray(ts)
    if np.issubdtype(ts.dtype, np.datetime64):
        return (ts - np.datetime64(0, "s")) / np.timedelta64(1, "s")
    return ts.astype(np.float64)


def baseline_from_forecast(
    forecast_ts: npt.ArrayLike, forecast_temp_f: npt.ArrayLike, window: tuple[datetime, datetime]
) -> np.ndarray:
    """The forecast, linearly interpolated to the start of every minute of the climate day.

    ``forecast_ts`` is datetime64 (UTC) or epoch seconds; ``window`` is ``climate_day_window(...)``.
    Minutes outside the forecast's span take its nearest value: holding the edge is safer than
    extrapolating a diurnal slope for hours.
    """
    ts = _epoch_seconds(forecast_ts)
    temp = np.asarray(forecast_temp_f, dtype=np.float64)
    if ts.shape != temp.shape or ts.ndim != 1:
        raise ValueError("forecast_ts and forecast_temp_f must be 1-d arrays of the same length")
    ok = np.isfinite(ts) & np.isfinite(temp)
    if not ok.any():
        raise ValueError("the forecast has no finite (time, temperature) point")
    order = np.argsort(ts[ok], kind="stable")
    start = window[0].timestamp()
    minutes = start + 60.0 * np.arange(MINUTES)
    baseline: npt.NDArray[np.float64] = np.interp(minutes, ts[ok][order], temp[ok][order])
    return baseline


def _cooling(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # Share of the evening fall done at fraction x: flat at the peak, fast after sunset, slow by dawn.
    return ((1.0 - np.cos(np.pi * np.clip(x, 0.0, 1.0))) / 2.0) ** 0.7


def climatology_baseline(
    std_utc_offset_hours: int, climate_date: date, daily_high_f: float, daily_low_f: float
) -> np.ndarray:
    """A forecast-free diurnal curve: low near sunrise, high at 15:00 LST, for when no forecast exists.

    The minimum sits at 06:00 LST shifted with the season (about 04:50 at the June solstice, 07:10
    in late December, roughly sunrise at mid-latitudes); the day before and after are assumed to
    have the same high and low so the curve is continuous at both midnights. Minute 0 is local
    standard midnight, so the curve is the same for every ``std_utc_offset_hours``; the offset is
    taken (and checked) so callers pass the same city context as to ``climate_day_window``.
    """
    if not -12 <= std_utc_offset_hours <= 14:
        raise ValueError(f"std_utc_offset_hours must be a UTC offset in hours, got {std_utc_offset_hours}")
    hi, lo = float(daily_high_f), float(daily_low_f)
    if not (math.isfinite(hi) and math.isfinite(lo)) or hi < lo:
        raise ValueError(f"need finite daily_high_f >= daily_low_f, got {hi}, {lo}")
    doy = climate_date.timetuple().tm_yday
    t_min = 360.0 - 70.0 * math.cos(2.0 * math.pi * (doy - 172) / 365.25)
    t_max = 900.0
    m = np.arange(MINUTES, dtype=np.float64)
    prev_peak, next_min = t_max - MINUTES, t_min + MINUTES
    night = hi - (hi - lo) * _cooling((m - prev_peak) / (t_min - prev_peak))
    rise = lo + (hi - lo) * (1.0 - np.cos(np.pi * (m - t_min) / (t_max - t_min))) / 2.0
    evening = hi - (hi - lo) * _cooling((m - t_max) / (next_min - t_max))
    return np.where(m < t_min, night, np.where(m < t_max, rise, evening))


def prior_params(
    n_days: int = 0,
    n_pairs: int = 0,
    stationary_sd_f: float = PRIOR_STATIONARY_SD_F,
    efold_minutes: float = PRIOR_EFOLD_MINUTES,
) -> Ar1Params:
    """Parameters for too little history: flat across hours, 3-hour memory and 2 °F stationary sd unless given.

    For a climatology baseline the caller passes that climatology's own error (``inputs.climatology_spread``)
    and a day-long memory: a day is warmer or cooler than the climatology all day, and a short
    memory would let the path's maximum wander upward over the day's many independent stretches.
    """
    phi = math.exp(-1.0 / efold_minutes)
    sigma = stationary_sd_f * math.sqrt(1.0 - phi * phi)
    return Ar1Params(phi=phi, sigma_by_hour=np.full(24, sigma), n_days=n_days, n_pairs=n_pairs, source="prior")


def _day_pairs(day: ObsDay) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(start minute, end minute, start residual, end residual) of consecutive observations."""
    if len(day) == 4:
        ts, temp, baseline, start = day
        ts = _epoch_seconds(ts)
    elif len(day) == 3:
        minute, temp, baseline = day
        minute = np.asarray(minute)
        if minute.size and not np.issubdtype(minute.dtype, np.integer):
            raise ValueError(f"observation minutes must be integers, got {minute.dtype}")
        ts, start = 60.0 * minute.astype(np.float64), 0.0
    else:
        raise ValueError(f"a fit day is a 3- or 4-tuple (see ObsDay), got {len(day)} items")
    temp = np.asarray(temp, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    if baseline.shape != (MINUTES,) or ts.shape != temp.shape:
        raise ValueError(f"each day needs matching observation arrays and a {MINUTES}-minute baseline")
    ok = np.isfinite(ts) & np.isfinite(temp)
    ts, temp = ts[ok], temp[ok]
    order = np.argsort(ts, kind="stable")  # time order; within a minute the input order
    minute = minute_index(ts[order], start)
    temp = temp[order]
    inside = (minute >= 0) & (minute < MINUTES)
    minute, temp = minute[inside], temp[inside]
    latest = np.append(minute[1:] != minute[:-1], True)  # several in one minute: the last one counts
    minute, resid = minute[latest], temp[latest] - baseline[minute[latest]]
    return minute[:-1], minute[1:], resid[:-1], resid[1:]


class _PairModel:
    """Gaussian likelihood of residual pairs for a given phi, with hour-dependent sigma.

    For a pair (a, b) with gap g, ``r_b = phi^g r_a + eta``, ``Var eta = sum_j phi^(2(g-j)) sigma_h(a+j)^2``
    (j = 1..g). ``weights[i, h]`` is that sum restricted to hour h with sigma = 1; with one sigma it
    is ``(1 - phi^(2g)) / (1 - phi^2)``.
    """

    def __init__(
        self,
        start: npt.NDArray[np.int64],
        end: npt.NDArray[np.int64],
        r_start: npt.NDArray[np.float64],
        r_end: npt.NDArray[np.float64],
    ) -> None:
        self.r_start, self.r_end = r_start, r_end
        gap = end - start
        self.gap = gap.astype(np.float64)
        self.pair = np.repeat(np.arange(start.size), gap)
        step_minute = start[self.pair] + np.arange(self.pair.size) - np.repeat(np.cumsum(gap) - gap, gap) + 1
        self.lag = (end[self.pair] - step_minute).astype(np.float64)  # minutes from this step to the pair's end
        self.cell = self.pair * 24 + step_minute // 60

    def evaluate(self, tau: float, noise_var: float = 0.0) -> tuple[float, np.ndarray]:
        """(log-likelihood, sigma^2 by hour) at phi = exp(-1 / tau), sigma^2 estimated and shrunk.

        With white measurement noise of variance ``v`` on each reading, the earlier reading is a noisy
        view of the slow residual: given it, the slow part is ``k r_a`` with ``k = S / (S + v)`` (``S``
        the slow part's variance, the residuals' variance less ``v``) and variance ``S v / (S + v)``.
        So the innovation is ``r_b - phi^g k r_a`` and carries ``v + phi^(2g) S v / (S + v)`` beyond the
        AR(1)'s own; that is taken out before the moment estimate.
        """
        n = self.r_start.size
        weights = np.bincount(self.cell, weights=np.exp(-2.0 * self.lag / tau), minlength=n * 24).reshape(n, 24)
        total = weights.sum(axis=1)
        decay = np.exp(-self.gap / tau)
        slow_var = max(float(np.mean(self.r_start**2)) - noise_var, _VARIANCE_FLOOR)
        shrink = slow_var / (slow_var + noise_var)
        innovation = self.r_end - decay * shrink * self.r_start
        noise = noise_var + decay * decay * slow_var * noise_var / (slow_var + noise_var)
        standardized = (innovation**2 - noise) / total
        share = weights / total[:, None]  # where in the day each pair's variance comes from
        overall = max(standardized.mean(), _VARIANCE_FLOOR)
        var_by_hour = (share.T @ standardized + SHRINK_PAIRS * overall) / (share.sum(axis=0) + SHRINK_PAIRS)
        # With the noise taken out, a quiet hour's moment estimate can fall to zero or below; a
        # residual that cannot move for hours would make the model certain, so keep a share of the day's.
        var_by_hour = np.maximum(var_by_hour, MIN_HOUR_VARIANCE_SHARE * overall)
        variance = np.maximum(weights @ var_by_hour + noise, _VARIANCE_FLOOR)
        loglik = -0.5 * float(np.sum(np.log(variance) + innovation**2 / variance))
        return loglik, var_by_hour


def fit_ar1(days: Sequence[ObsDay]) -> Ar1Params:
    """Fit phi and sigma by hour of the 1-minute AR(1) residual from irregular observations.

    Each pair of consecutive observations of a day (gap g minutes, any spacing: 5-minute Visual
    Crossing or hourly ASOS) contributes the exact g-step transition density. phi maximises the
    profile likelihood (a log grid of the e-folding time, then golden section), clamped to
    ``[0, PHI_MAX]``. Given phi, sigma^2 of each hour is the moment estimate from the pairs'
    standardized innovations, each pair counted in the hours its variance comes from, shrunk toward
    the all-day value with ``SHRINK_PAIRS`` pseudo-pairs so thinly observed hours stay sensible.

    ``days`` (``ObsDay`` tuples) must end before the climate day the parameters are used on (see
    the module docstring). With fewer than ``MIN_FIT_DAYS`` days that have pairs, or fewer than
    ``MIN_FIT_PAIRS`` pairs, the result is ``prior_params()`` with ``source="prior"``.
    """
    parts = [_day_pairs(day) for day in days]
    parts = [p for p in parts if p[0].size]
    n_days = len(parts)
    n_pairs = sum(p[0].size for p in parts)
    if n_days < MIN_FIT_DAYS or n_pairs < MIN_FIT_PAIRS:
        return prior_params(n_days, n_pairs)
    noise_var = measurement_noise_var(parts)
    model = _PairModel(*(np.concatenate(column) for column in zip(*parts, strict=True)))

    grid = np.geomspace(_TAU_MIN, _TAU_MAX, _TAU_GRID)
    scores = [model.evaluate(tau, noise_var)[0] for tau in grid]
    best = int(np.argmax(scores))
    lo, hi = math.log(grid[max(best - 1, 0)]), math.log(grid[min(best + 1, _TAU_GRID - 1)])
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    f1, f2 = model.evaluate(math.exp(x1), noise_var)[0], model.evaluate(math.exp(x2), noise_var)[0]
    for _ in range(_GOLDEN_STEPS):
        if f1 >= f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - ratio * (hi - lo)
            f1 = model.evaluate(math.exp(x1), noise_var)[0]
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + ratio * (hi - lo)
            f2 = model.evaluate(math.exp(x2), noise_var)[0]
    tau = math.exp((lo + hi) / 2.0)
    _, var_by_hour = model.evaluate(tau, noise_var)
    phi = min(max(math.exp(-1.0 / tau), 0.0), PHI_MAX)
    return Ar1Params(
        phi=phi,
        sigma_by_hour=np.sqrt(var_by_hour),
        n_days=n_days,
        n_pairs=n_pairs,
        source="fit",
        noise_sd=math.sqrt(noise_var),
    )


NUGGET_MAX_GAP = 15  # minutes: pairs this close see the slow residual move roughly linearly
NUGGET_MAX_STEPS = 4  # readings ahead a short-lag pair may reach (5-minute data: lags 5..15 and a hole's 20)
MIN_NUGGET_GAPS = 2  # distinct gaps needed to separate the intercept from the slope
MIN_NUGGET_PAIRS = 30  # pairs a gap needs to take part


def measurement_noise_var(days: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> float:
    """White measurement noise variance (°F²): the intercept of the residuals' short-lag semivariogram.

    For readings ``g`` minutes apart, ``E[(r_b - r_a)^2] / 2 = v + g s`` while ``g`` is short against
    the residual's memory: ``v`` is each reading's own noise (sensor, °C-tenths to °F rounding),
    which does not persist, and ``s`` the slow component's growth. Pairs up to ``NUGGET_MAX_STEPS``
    readings apart and ``NUGGET_MAX_GAP`` minutes are pooled by gap (each day's consecutive pairs,
    as ``_day_pairs`` gives them); a weighted line over the gaps with ``MIN_NUGGET_PAIRS`` pairs
    gives ``v``. It is 0 when negative, or when fewer than ``MIN_NUGGET_GAPS`` gaps qualify (hourly
    data).
    """
    gaps, half_sq = [], []
    for start, end, r_start, r_end in days:
        minutes, resid = np.append(start, end[-1]), np.append(r_start, r_end[-1])
        for step in range(1, NUGGET_MAX_STEPS + 1):
            gap = minutes[step:] - minutes[:-step]
            keep = gap <= NUGGET_MAX_GAP
            gaps.append(gap[keep])
            half_sq.append(0.5 * (resid[step:] - resid[:-step])[keep] ** 2)
    gap, value = np.concatenate(gaps), np.concatenate(half_sq)
    by_gap, counts = np.unique(gap, return_counts=True)
    by_gap = by_gap[counts >= MIN_NUGGET_PAIRS]
    if by_gap.size < MIN_NUGGET_GAPS:
        return 0.0
    means = np.array([value[gap == g].mean() for g in by_gap])
    weights = np.sqrt(np.array([np.sum(gap == g) for g in by_gap], dtype=np.float64))
    _, intercept = np.polyfit(by_gap.astype(np.float64), means, 1, w=weights)
    return max(float(intercept), 0.0)
