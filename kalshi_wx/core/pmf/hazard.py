"""Hazard Monte Carlo: the probability of each temperature bracket at every minute of a climate day.

Model (minutes ``m = 0..1439`` of the climate day, which starts at local *standard* midnight, so
the minute index is LST and ``m // 60`` is the LST hour):

* A baseline ``B[m]`` (°F), forecast-shaped (see ``hazard_fit``), and a residual ``r = T - B`` that
  follows an AR(1) at 1-minute steps, ``r_k = phi r_(k-1) + sigma_(k // 60) e_k``, ``e ~ N(0, 1)``.
  Readings carry white measurement noise ``noise_sd`` on top (sensor, °C-tenths to °F rounding):
  it does not persist, so a path restarts from the Kalman-filtered residual of the readings so far
  (``_anchors``), not from the last reading, and the simulated future is the slow component alone.
* One filtered noise field per path, ``W_0 = 0``, ``W_k = phi W_(k-1) + sigma e_k``, is shared by
  every start minute (common random numbers). From an observation at minute ``s`` with residual
  ``r_s = obs - B[s]`` the path is ``X_k = A_k + phi^(k-s) (r_s - W_s)`` with ``A = B + W``, which is
  exactly an AR(1) started at ``r_s``.

At minute ``t`` the state is the running max ``M_t`` of observations stamped ``<= t`` and the last
observation (minute ``s <= t``; the last one in input order when a minute holds several). The
settlement value is

    V = max(round(M_t), round(H_t), round(max_(t < k <= 1439) X_k)) + D,

where ``H_t`` and ``D`` are the observation model (``core/pmf/observation.py``):

* **Holes.** Where two observations ``s < n <= t`` are more than ``hole_minutes`` apart, the minutes
  in between are not held flat: the path is simulated through them as an AR(1) bridge pinned to
  both observations, ``X_k + w_k (r_n - X_n)`` with ``w_k = phi^(n-k) (1 - phi^(2(k-s))) /
  (1 - phi^(2(n-s)))`` (exact for a constant sigma; the hour-to-hour change of sigma is ignored
  inside a hole), and ``H_t`` is the largest bridged value of the holes before ``t``. A record that
  starts late is a hole from minute 0 (bridged from the baseline). Shorter gaps are the record's
  ordinary spacing and are covered by ``D``.
* **Excess.** ``D >= 0`` is the CLI's excess over the rounded maximum of a complete record of this
  resolution (the 1-minute peaks a 5-minute or hourly record misses), fitted on past days; one
  draw per path (``observation.draw_excess``). Because ``D >= 0`` and the bridges pass through the
  observations, only brackets below ``round(M_t)`` are impossible; ``floor_live_brackets`` lifts
  every other bracket that no simulated path reached to one path's worth.

Rounding: the NWS CLI maximum is the ASOS whole-degree maximum of its internal readings, i.e. the
maximum of the rounded minute values, which equals the rounded maximum because rounding is
monotone. Rounding is half up, ``floor(x + 0.5)`` (half towards +inf, also below zero); for
simulated values a tie has probability zero, so the choice only matters for observed values such
as 80.5. The rounded value is bucketed through the ladder with ``core/brackets.py`` semantics.

Hazard (of the observed record: holes and excess left out): ``hazard_next_{5,60}m[t]`` is the
probability that some minute ``k`` in ``(t, min(t + h, 1439)]`` rounds above ``round(M_t)``, i.e.
that the whole-degree running maximum ticks up within the next ``h`` minutes. It is 0 at
``t = 1439`` (empty window), and ``hazard_next_60m >= hazard_next_5m`` path by path.

Before the first observation nothing about the day is known, so the path starts at minute 0 on the
baseline (``r_0 = 0``, so ``X = A``) and covers the whole day: ``p_wx`` is the distribution of the
rounded maximum over all 1440 minutes (the forecast PMF), ``running_max_f`` is NaN, and the hazard
compares the next ``h`` minutes with the path's own rounded maximum over ``[0, t]``. The excess is
added there too.

``simulate_bracket_pmf`` is the numba kernel; ``simulate_bracket_pmf_reference`` is the same model
in plain numpy for tests and the benchmark. Given the same ``noise`` they agree exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias, overload

import numba
import numpy as np
import numpy.typing as npt
from numba import njit, prange

from kalshi_wx.core.brackets import Bracket, validate_ladder

MINUTES = 1440
OPEN_LO = int(np.iinfo(np.int32).min)  # ladder_lo sentinel: the lowest bracket is open below
OPEN_HI = int(np.iinfo(np.int32).max)  # ladder_hi sentinel: the highest bracket is open above
OPEN_BOUND = 1000  # any ladder end at or beyond +-1000 °F is read as open, so other sentinels work too
HAZARD_HORIZONS = (5, 60)
DEFAULT_HOLE_MINUTES = 20  # as ``observation.hole_minutes`` of a 1- or 5-minute record

# Paths are split into this many fixed chunks, each with its own integer counters. Integer sums do
# not depend on order, so the result is identical for any thread count.
_CHUNKS = 64
# Maxima of ``B + W`` over 16-minute blocks and 128-minute superblocks bound whole stretches of a
# path, so scans only visit minutes that could change a rounded level.
_BLOCK_SHIFT = 4
_SUPER_SHIFT = 7
_N_BLOCKS = (MINUTES + (1 << _BLOCK_SHIFT) - 1) >> _BLOCK_SHIFT
_N_SUPERS = (MINUTES + (1 << _SUPER_SHIFT) - 1) >> _SUPER_SHIFT
_BLOCKS_PER_SUPER = 1 << (_SUPER_SHIFT - _BLOCK_SHIFT)
_NEG = -1.0e18  # "no value yet" for running maxima; finite so that floor(x + 0.5) stays integral

_Floats: TypeAlias = npt.NDArray[np.float64]
_Ints: TypeAlias = npt.NDArray[np.int64]
_Counts: TypeAlias = npt.NDArray[np.int32]  # the kernel's per-chunk counters


@dataclass(frozen=True, eq=False)
class Ar1Params:
    """AR(1) residual parameters at 1-minute steps.

    ``sigma_by_hour[h]`` is the innovation sd (°F) of steps into minutes of LST hour ``h``.
    ``source`` is ``"fit"`` or ``"prior"`` (too little data; see ``hazard_fit.prior_params``).
    ``noise_sd`` is the white measurement noise (°F) on each reading, on top of the AR(1).
    """

    phi: float
    sigma_by_hour: np.ndarray
    n_days: int
    n_pairs: int
    source: str = "fit"
    noise_sd: float = 0.0

    def __post_init__(self) -> None:
        sigma = np.asarray(self.sigma_by_hour, dtype=np.float64)
        if not 0.0 <= self.phi < 1.0:
            raise ValueError(f"phi must be in [0, 1), got {self.phi}")
        if not (math.isfinite(self.noise_sd) and self.noise_sd >= 0.0):
            raise ValueError(f"noise_sd must be finite and >= 0, got {self.noise_sd}")
        if sigma.shape != (24,) or not np.all(np.isfinite(sigma)) or np.any(sigma < 0):
            raise ValueError(f"sigma_by_hour must be 24 finite values >= 0, got {sigma!r}")
        object.__setattr__(self, "sigma_by_hour", sigma)

    def sigma_by_minute(self) -> np.ndarray:
        return np.repeat(self.sigma_by_hour, 60)


@dataclass(frozen=True, eq=False)
class HazardResult:
    """Outputs over all 1440 minutes of the climate day; ``p_wx`` is ``(1440, n_brackets)``."""

    running_max_f: np.ndarray
    p_wx: np.ndarray
    hazard_next_5m: np.ndarray
    hazard_next_60m: np.ndarray
    n_paths: int


@overload
def round_half_up(x: float) -> np.float64: ...
@overload
def round_half_up(x: _Floats) -> _Floats: ...
def round_half_up(x: float | _Floats) -> np.float64 | _Floats:
    """The CLI's whole-degree rounding, ``floor(x + 0.5)``."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def floor_live_brackets(p_wx: np.ndarray, running_max_f: np.ndarray, ladder_hi: np.ndarray, floor: float) -> _Floats:
    """``p_wx`` with every bracket the running max has not ruled out at ``floor`` or above, rows renormalised.

    A bracket no simulated path reached is improbable, not impossible: a finite Monte Carlo must not
    hand the fusion (or a trader) a certain loss. Ruled out means its top is below the rounded
    running max (NaN before the first observation: nothing is ruled out).
    """
    level = np.where(np.isfinite(running_max_f), round_half_up(np.nan_to_num(running_max_f, nan=-1e18)), -np.inf)
    live = np.asarray(ladder_hi)[None, :] >= level[:, None]
    floored = np.where(live, np.maximum(p_wx, floor), 0.0)
    out: _Floats = floored / floored.sum(axis=1, keepdims=True)
    return out


def ladder_arrays(ladder: Sequence[Bracket]) -> tuple[np.ndarray, np.ndarray]:
    """``(ladder_lo, ladder_hi)`` of a ladder, open ends as ``OPEN_LO`` / ``OPEN_HI``."""
    brackets = validate_ladder(ladder)
    lo = np.array([OPEN_LO if b.lo is None else b.lo for b in brackets], dtype=np.int64)
    hi = np.array([OPEN_HI if b.hi is None else b.hi for b in brackets], dtype=np.int64)
    return lo, hi


@dataclass(frozen=True)
class _Inputs:
    baseline: np.ndarray  # (1440,)
    starts: np.ndarray  # distinct observed minutes, ascending
    start_temp: np.ndarray  # the path's anchor at each start minute: the last observation, filtered of noise
    start_level: np.ndarray  # round(running max) at each start minute
    running_max: np.ndarray  # (1440,), NaN before the first observation
    sigma: np.ndarray  # (1440,) innovation sd of the step into minute k
    phi_pow: np.ndarray  # (1440,) phi**d
    lut: np.ndarray  # bracket index of whole degree v, v clipped to [lut_lo, lut_lo + len(lut) - 1]
    lut_lo: int
    n_brackets: int
    holes: np.ndarray  # bool per start: the gap to the next start is a hole (last start: False)
    lead_hole: bool  # the first observation comes after a hole from minute 0


def _prepare(
    baseline: np.ndarray,
    obs_minute_idx: np.ndarray,
    obs_temp_f: np.ndarray,
    params: Ar1Params,
    ladder_lo: np.ndarray,
    ladder_hi: np.ndarray,
    n_paths: int,
    hole_minutes: int,
) -> _Inputs:
    baseline = np.ascontiguousarray(baseline, dtype=np.float64)
    if baseline.shape != (MINUTES,) or not np.all(np.isfinite(baseline)):
        raise ValueError(f"baseline must be {MINUTES} finite values, got shape {baseline.shape}")
    minutes = np.asarray(obs_minute_idx)
    temps = np.asarray(obs_temp_f, dtype=np.float64)
    if minutes.ndim != 1 or minutes.shape != temps.shape:
        raise ValueError("obs_minute_idx and obs_temp_f must be 1-d arrays of the same length")
    if minutes.size and not np.issubdtype(minutes.dtype, np.integer):
        raise ValueError(f"obs_minute_idx must be integers, got {minutes.dtype}")
    minutes = minutes.astype(np.int64)
    if np.any((minutes < 0) | (minutes >= MINUTES)):
        raise ValueError("obs_minute_idx must be minutes of the climate day, 0..1439")
    if not np.all(np.isfinite(temps)):
        raise ValueError("obs_temp_f must be finite; drop missing observations first")
    if int(n_paths) < 1:
        raise ValueError(f"n_paths must be >= 1, got {n_paths}")

    order = np.argsort(minutes, kind="stable")
    minutes, temps = minutes[order], temps[order]
    starts, first = np.unique(minutes, return_index=True)
    last = (np.append(first[1:], minutes.size) - 1).astype(np.int64) if minutes.size else first
    running = np.maximum.accumulate(temps) if temps.size else temps
    running_max = np.full(MINUTES, np.nan)
    if starts.size:
        latest = np.searchsorted(starts, np.arange(MINUTES), side="right") - 1  # last start minute <= t
        running_max = np.where(latest >= 0, running[last[latest]], np.nan)

    lo = np.asarray(ladder_lo, dtype=np.int64)
    hi = np.asarray(ladder_hi, dtype=np.int64)
    if lo.ndim != 1 or lo.shape != hi.shape or lo.size == 0:
        raise ValueError("ladder_lo and ladder_hi must be non-empty 1-d arrays of the same length")
    if lo[0] > -OPEN_BOUND or hi[-1] < OPEN_BOUND or np.any(lo[1:] != hi[:-1] + 1) or np.any(lo[1:] > hi[1:]):
        raise ValueError("the ladder must cover every whole degree exactly once, open ends as OPEN_LO / OPEN_HI")
    uppers = hi[:-1]
    if uppers.size:
        lut_lo = int(uppers[0])
        lut = np.searchsorted(uppers, np.arange(lut_lo, int(uppers[-1]) + 2), side="left").astype(np.int64)
    else:
        lut_lo, lut = 0, np.zeros(1, dtype=np.int64)

    if int(hole_minutes) < 1:
        raise ValueError(f"hole_minutes must be >= 1, got {hole_minutes}")
    gaps = np.diff(starts)
    holes = np.append(gaps > hole_minutes, False) if starts.size else np.zeros(0, dtype=bool)

    phi_pow = np.empty(MINUTES)
    phi_pow[0] = 1.0
    # A running product is monotone non-increasing in floating point too, which the kernel's
    # pruning bounds rely on.
    for d in range(1, MINUTES):
        phi_pow[d] = phi_pow[d - 1] * params.phi
    return _Inputs(
        baseline=baseline,
        starts=starts.astype(np.int64),
        start_temp=_anchors(baseline, starts, temps[last], params),
        start_level=round_half_up(running[last]).astype(np.int64),
        running_max=running_max,
        sigma=params.sigma_by_minute(),
        phi_pow=phi_pow,
        lut=lut,
        lut_lo=lut_lo,
        n_brackets=int(lo.size),
        holes=holes,
        lead_hole=bool(starts.size and starts[0] > hole_minutes),
    )


def _anchors(baseline: _Floats, starts: _Ints, observed: _Floats, params: Ar1Params) -> _Floats:
    """Where each path restarts at an observed minute: the reading itself, or with measurement noise
    the Kalman-filtered slow component (baseline + filtered residual) of the readings so far.

    The filter starts from the residual's stationary spread, steps the AR(1) minute by minute and
    weighs each reading by ``noise_sd``; the running max still uses the readings themselves.
    """
    if params.noise_sd == 0.0 or starts.size == 0:
        return observed
    phi, sigma = params.phi, params.sigma_by_minute()
    noise_var = params.noise_sd**2
    x, var = 0.0, float(np.mean(sigma**2)) / max(1.0 - phi * phi, 1e-12)
    anchors = np.empty(starts.size)
    j = 0
    for k in range(int(starts[-1]) + 1):
        if k > 0:
            x, var = phi * x, phi * phi * var + sigma[k] ** 2
        if k == starts[j]:
            gain = var / (var + noise_var)
            x += gain * ((observed[j] - baseline[k]) - x)
            var *= 1.0 - gain
            anchors[j] = baseline[k] + x
            j += 1
    return anchors


def _result(inputs: _Inputs, counts: _Ints, hits5: _Ints, hits60: _Ints, n_paths: int) -> HazardResult:
    return HazardResult(
        running_max_f=inputs.running_max,
        p_wx=counts / n_paths,
        hazard_next_5m=hits5 / n_paths,
        hazard_next_60m=hits60 / n_paths,
        n_paths=int(n_paths),
    )


# ----------------------------------------------------------------------------------------- numba


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_53 = 1.0 / 9007199254740992.0
_ZIG_R = 3.6541528853610088  # numpy's 256-layer normal ziggurat: base-strip edge and layer area
_ZIG_AREA = 0.00492867323399


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Acceptance thresholds (52-bit), widths and densities of the layers (Marsaglia & Tsang 2000)."""
    scale = 2.0**52
    ki, wi, fi = np.zeros(256, dtype=np.int64), np.zeros(256), np.zeros(256)
    edge = prev = _ZIG_R
    base = _ZIG_AREA / math.exp(-0.5 * edge * edge)
    ki[0] = int(edge / base * scale)
    wi[0], wi[255] = base / scale, edge / scale
    fi[0], fi[255] = 1.0, math.exp(-0.5 * edge * edge)
    for i in range(254, 0, -1):
        edge = math.sqrt(-2.0 * math.log(_ZIG_AREA / edge + math.exp(-0.5 * edge * edge)))
        ki[i + 1] = int(edge / prev * scale)
        prev = edge
        fi[i] = math.exp(-0.5 * edge * edge)
        wi[i] = edge / scale
    return ki, wi, fi


_ZIG_KI, _ZIG_WI, _ZIG_FI = _ziggurat_tables()


@njit(cache=True, inline="always")
def _splitmix64(state: np.uint64) -> tuple[np.uint64, np.uint64]:
    # A counter-based generator: cheap, statistically sound for Monte Carlo, one state word per path.
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return state, z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _uniform(state: np.uint64) -> tuple[np.uint64, np.float64]:
    state, bits = _splitmix64(state)
    return state, np.float64(bits >> np.uint64(11)) * _TWO_POW_53  # [0, 1)


@njit(cache=True, inline="always")
def _standard_normal(state: np.uint64, ki: _Ints, wi: _Floats, fi: _Floats) -> tuple[np.uint64, np.float64]:
    """One N(0, 1) draw by numpy's ziggurat; 99% of draws cost one 64-bit word and a comparison.

    Bits 0-7 of the word pick the layer, bit 8 the sign, bits 12-63 the 52-bit mantissa.
    """
    while True:
        state, bits = _splitmix64(state)
        layer = np.int64(bits & np.uint64(0xFF))
        negative = (bits & np.uint64(0x100)) != np.uint64(0)
        mantissa = np.int64(bits >> np.uint64(12))
        x = np.float64(mantissa) * wi[layer]
        if negative:
            x = -x
        if mantissa < ki[layer]:
            return state, x
        if layer == 0:
            while True:
                state, u = _uniform(state)
                xx = -np.log1p(-u) / _ZIG_R
                state, u = _uniform(state)
                yy = -np.log1p(-u)
                if yy + yy > xx * xx:
                    return state, (-(_ZIG_R + xx) if negative else _ZIG_R + xx)
        else:
            state, u = _uniform(state)
            if (fi[layer - 1] - fi[layer]) * u + fi[layer] < np.exp(-0.5 * x * x):
                return state, x


@njit(cache=True, inline="always")
def _noise_field(
    seed: np.uint64,
    noise_row: _Floats,
    use_noise: bool,
    phi: float,
    sigma: _Floats,
    zig_ki: _Ints,
    zig_wi: _Floats,
    zig_fi: _Floats,
    w: _Floats,
) -> None:
    """W_0 = 0, W_k = phi W_(k-1) + sigma_k e_k, with e from ``noise_row`` or the path's own stream."""
    w[0] = 0.0
    state = seed
    for k in range(1, MINUTES):
        if use_noise:
            e = noise_row[k - 1]
        else:
            state, e = _standard_normal(state, zig_ki, zig_wi, zig_fi)
        w[k] = phi * w[k - 1] + sigma[k] * e


@njit(cache=True, inline="always")
def _settled_level(
    a: _Floats,
    block_max: _Floats,
    super_max: _Floats,
    suffix_max: _Floats,
    suffix_arg: _Ints,
    phi_pow: _Floats,
    n: int,
    s: int,
    c: float,
    level: float,
) -> float:
    """max(level, round(a[k] + c phi^(k-s)) for k >= n), exactly, visiting as few minutes as possible.

    The correction c phi^(k-s) lies between min(c, 0) phi^(k-s) and max(c, 0) phi^(k-s) and shrinks
    with k, so suffix, superblock and block maxima of ``a`` plus that bound cover whole stretches;
    a minute is evaluated only where the bound could round above the level reached so far. Every
    bound is formed with the same floating-point operations as the values it bounds, so pruning
    never changes a result.
    """
    if n >= MINUTES:
        return level
    boost = max(c, 0.0)
    if suffix_max[n] + boost * phi_pow[n - s] + 0.5 < level + 1.0:
        return level
    j = suffix_arg[n]
    level = max(level, np.floor(a[j] + c * phi_pow[j - s] + 0.5))
    if c <= 0.0 and np.floor(a[j] + 0.5) <= level:
        return level  # every X_k <= a_k <= a_j, and a_j rounds to a level already reached
    k = n
    while k < MINUTES:
        reach = boost * phi_pow[k - s]
        if suffix_max[k] + reach + 0.5 < level + 1.0:
            break
        if (k & ((1 << _SUPER_SHIFT) - 1)) == 0 and super_max[k >> _SUPER_SHIFT] + reach + 0.5 < level + 1.0:
            k += 1 << _SUPER_SHIFT
            continue
        b = k >> _BLOCK_SHIFT
        end = min((b + 1) << _BLOCK_SHIFT, MINUTES)
        if block_max[b] + reach + 0.5 >= level + 1.0:
            top = _NEG
            for i in range(k, end):
                top = max(top, a[i] + c * phi_pow[i - s])
            level = max(level, np.floor(top + 0.5))  # rounding is monotone: round of the max
        k = end
    return level


@njit(cache=True, inline="always")
def _hazard_segment(
    a: _Floats,
    block_max: _Floats,
    phi_pow: _Floats,
    s: int,
    c: float,
    t0: int,
    t1: int,
    level0: float,
    prefix: bool,
    hits5: _Counts,
    hits60: _Counts,
) -> None:
    """Hazard counts for minutes t in [t0, t1) of a path X_k = a_k + c phi^(k-s).

    ``level0`` is the fixed round(M_t) of an observed segment; with ``prefix`` the level is the
    path's own rounded running max (before the first observation, where c = 0). ``nxt`` is the
    first minute after t known to round above the level; ``frontier`` is how far the path is known.
    """
    boost = max(c, 0.0)
    level = level0
    nxt = -1
    frontier = t0
    run = _NEG
    for t in range(t0, t1):
        if prefix:
            run = max(run, a[t])
            new_level = np.floor(run + 0.5)
            if new_level > level:
                level = new_level
                if nxt != -1 and np.floor(a[nxt] + 0.5) <= level:
                    frontier = nxt
                    nxt = -1
        if nxt != -1 and nxt <= t:
            nxt = -1
        frontier = max(frontier, t)
        limit = min(t + HAZARD_HORIZONS[1], MINUTES - 1)
        while nxt == -1 and frontier < limit:
            k = frontier + 1
            b = k >> _BLOCK_SHIFT
            if block_max[b] + boost * phi_pow[k - s] + 0.5 < level + 1.0:
                frontier = min((b + 1) << _BLOCK_SHIFT, MINUTES) - 1
            else:
                frontier = k
                if a[k] + c * phi_pow[k - s] + 0.5 >= level + 1.0:
                    nxt = k
        if nxt != -1:
            if nxt <= t + HAZARD_HORIZONS[0]:
                hits5[t] += 1
            if nxt <= t + HAZARD_HORIZONS[1]:
                hits60[t] += 1


@njit(cache=True, inline="always")
def _bridge_level(a: _Floats, phi_pow: _Floats, s: int, n: int, c: float, target: float) -> float:
    """round(max over s < k < n of the AR(1) path a_k + c phi^(k-s) bridged to ``target`` at minute n)."""
    d = target - (a[n] + c * phi_pow[n - s])
    denom = 1.0 - phi_pow[n - s] * phi_pow[n - s]
    top = _NEG
    for k in range(s + 1, n):
        w = phi_pow[n - k] * (1.0 - phi_pow[k - s] * phi_pow[k - s]) / denom if denom > 0.0 else 0.0
        top = max(top, a[k] + c * phi_pow[k - s] + w * d)
    level: float = np.floor(top + 0.5)
    return level


@njit(cache=True, inline="always")
def _bracket(level: float, lut: _Ints, lut_lo: int) -> np.int64:
    i = int(level) - lut_lo
    bracket: np.int64 = lut[min(max(i, 0), lut.size - 1)]
    return bracket


@njit(cache=True, inline="always")
def _one_path(seed: np.uint64, noise_row: _Floats, use_noise: bool, excess: np.int64, baseline: _Floats,
              starts: _Ints, start_temp: _Floats, start_level: _Ints, holes: npt.NDArray[np.bool_], lead_hole: bool,
              sigma: _Floats, phi: float, phi_pow: _Floats, lut: _Ints, lut_lo: int, zig_ki: _Ints, zig_wi: _Floats,
              zig_fi: _Floats, w: _Floats, a: _Floats, suffix_max: _Floats, suffix_arg: _Ints, block_max: _Floats,
              super_max: _Floats, counts: _Counts, hits5: _Counts, hits60: _Counts) -> None:  # fmt: skip
    _noise_field(seed, noise_row, use_noise, phi, sigma, zig_ki, zig_wi, zig_fi, w)
    for k in range(MINUTES):
        a[k] = baseline[k] + w[k]
    best, arg = _NEG, MINUTES - 1
    for k in range(MINUTES - 1, -1, -1):
        if a[k] > best:
            best, arg = a[k], k
        suffix_max[k] = best
        suffix_arg[k] = arg
    for b in range(_N_BLOCKS):
        m = _NEG
        for k in range(b << _BLOCK_SHIFT, min((b + 1) << _BLOCK_SHIFT, MINUTES)):
            m = max(m, a[k])
        block_max[b] = m
    for sb in range(_N_SUPERS):
        super_max[sb] = block_max[sb * _BLOCKS_PER_SUPER : min((sb + 1) * _BLOCKS_PER_SUPER, _N_BLOCKS)].max()

    first = starts[0] if starts.size else MINUTES
    if first > 0:
        bracket = _bracket(np.floor(suffix_max[0] + 0.5) + excess, lut, lut_lo)
        for t in range(first):
            counts[t, bracket] += 1
        _hazard_segment(a, block_max, phi_pow, 0, 0.0, 0, first, _NEG, True, hits5, hits60)

    hole_level = _NEG  # rounded maximum of the bridged holes so far
    if lead_hole:
        hole_level = _bridge_level(a, phi_pow, 0, first, 0.0, start_temp[0])
    for j in range(starts.size):
        s = starts[j]
        n = starts[j + 1] if j + 1 < starts.size else MINUTES
        c = (start_temp[j] - baseline[s]) - w[s]
        level = np.float64(start_level[j])
        known = max(level, hole_level)
        settled = _settled_level(a, block_max, super_max, suffix_max, suffix_arg, phi_pow, n, s, c, known)
        run = _NEG
        for t in range(n - 1, s - 1, -1):
            counts[t, _bracket(max(settled, np.floor(run + 0.5)) + excess, lut, lut_lo)] += 1
            run = max(run, a[t] + c * phi_pow[t - s])
        _hazard_segment(a, block_max, phi_pow, s, c, s, n, level, False, hits5, hits60)
        if holes[j]:
            hole_level = max(hole_level, _bridge_level(a, phi_pow, s, n, c, start_temp[j + 1]))


@njit(parallel=True, cache=True)
def _kernel(path_seeds: npt.NDArray[np.uint64], noise: _Floats, use_noise: bool, excess: _Ints, baseline: _Floats,
            starts: _Ints, start_temp: _Floats, start_level: _Ints, holes: npt.NDArray[np.bool_], lead_hole: bool,
            sigma: _Floats, phi: float, phi_pow: _Floats, lut: _Ints, lut_lo: int, zig_ki: _Ints, zig_wi: _Floats,
            zig_fi: _Floats, counts: _Counts, hits5: _Counts, hits60: _Counts) -> None:  # fmt: skip
    """Fill per-chunk counters; the chunk loop is the only parallel loop, so it can be scheduled dynamically."""
    n_paths = path_seeds.size
    n_chunks = counts.shape[0]
    for chunk in prange(n_chunks):
        w = np.empty(MINUTES)
        a = np.empty(MINUTES)
        suffix_max = np.empty(MINUTES)
        suffix_arg = np.empty(MINUTES, dtype=np.int64)
        block_max = np.empty(_N_BLOCKS)
        super_max = np.empty(_N_SUPERS)
        for p in range(chunk * n_paths // n_chunks, (chunk + 1) * n_paths // n_chunks):
            row = noise[p] if use_noise else noise[0]
            _one_path(path_seeds[p], row, use_noise, excess[p], baseline, starts, start_temp, start_level, holes,
                      lead_hole, sigma, phi, phi_pow, lut, lut_lo, zig_ki, zig_wi, zig_fi, w, a, suffix_max, suffix_arg,
                      block_max, super_max, counts[chunk], hits5[chunk], hits60[chunk])  # fmt: skip


def _check_noise(noise: np.ndarray, n_paths: int) -> _Floats:
    noise = np.ascontiguousarray(noise, dtype=np.float64)
    if noise.shape != (n_paths, MINUTES - 1):
        raise ValueError(f"noise must have shape ({n_paths}, {MINUTES - 1}), got {noise.shape}")
    return noise


def _check_excess(excess: np.ndarray | None, n_paths: int) -> _Ints:
    if excess is None:
        return np.zeros(n_paths, dtype=np.int64)
    values = np.ascontiguousarray(excess, dtype=np.int64)
    if values.shape != (n_paths,) or np.any(values < 0):
        raise ValueError(f"excess must be {n_paths} whole degrees >= 0 (one per path), got shape {values.shape}")
    return values


def path_seeds(seed: int, n_paths: int) -> np.ndarray:
    """Per-path 64-bit seeds; a prefix of the same seed's longer list, so paths do not depend on n_paths."""
    return np.random.SeedSequence(seed).generate_state(n_paths, dtype=np.uint64)


def simulate_bracket_pmf(
    baseline: np.ndarray,
    obs_minute_idx: np.ndarray,
    obs_temp_f: np.ndarray,
    params: Ar1Params,
    ladder_lo: np.ndarray,
    ladder_hi: np.ndarray,
    n_paths: int,
    seed: int,
    *,
    noise: np.ndarray | None = None,
    excess: np.ndarray | None = None,
    hole_minutes: int = DEFAULT_HOLE_MINUTES,
) -> HazardResult:
    """The hazard Monte Carlo of one city-day at all 1440 minutes (numba; see the module docstring).

    ``obs_minute_idx`` are minutes of the climate day (``hazard_fit.minute_index``); observations
    need not be sorted. ``ladder_lo``/``ladder_hi`` are whole-degree inclusive bounds covering every
    degree once (``ladder_arrays``), the open ends as ``OPEN_LO``/``OPEN_HI`` or any value beyond
    ``OPEN_BOUND``. Paths are seeded from ``seed`` one by one, so the result is the
    same for any thread count. ``noise`` (``(n_paths, 1439)`` standard normals, innovations into
    minutes 1..1439) replaces the internal generator; with it the result equals the reference's.
    ``excess`` is the observation model's whole-degree excess per path (``observation.draw_excess``;
    default 0); gaps between observations longer than ``hole_minutes`` are bridged.
    """
    inputs = _prepare(baseline, obs_minute_idx, obs_temp_f, params, ladder_lo, ladder_hi, n_paths, hole_minutes)
    excess = _check_excess(excess, n_paths)
    use_noise = noise is not None
    noise = _check_noise(noise, n_paths) if noise is not None else np.zeros((1, MINUTES - 1))
    n_chunks = min(_CHUNKS, int(n_paths))
    counts = np.zeros((n_chunks, MINUTES, inputs.n_brackets), dtype=np.int32)
    hits5 = np.zeros((n_chunks, MINUTES), dtype=np.int32)
    hits60 = np.zeros((n_chunks, MINUTES), dtype=np.int32)
    # Chunks handed out one at a time: a thread that shares its core with other work takes fewer.
    with numba.parallel_chunksize(1):
        _kernel(path_seeds(seed, n_paths), noise, use_noise, excess, inputs.baseline, inputs.starts,
                inputs.start_temp, inputs.start_level, inputs.holes, inputs.lead_hole, inputs.sigma,
                float(params.phi), inputs.phi_pow, inputs.lut, inputs.lut_lo, _ZIG_KI, _ZIG_WI, _ZIG_FI, counts,
                hits5, hits60)  # fmt: skip
    total = counts.sum(axis=0, dtype=np.int64)
    return _result(inputs, total, hits5.sum(axis=0, dtype=np.int64), hits60.sum(axis=0, dtype=np.int64), n_paths)


# ----------------------------------------------------------------------------------------- numpy


def simulate_bracket_pmf_reference(
    baseline: np.ndarray,
    obs_minute_idx: np.ndarray,
    obs_temp_f: np.ndarray,
    params: Ar1Params,
    ladder_lo: np.ndarray,
    ladder_hi: np.ndarray,
    n_paths: int,
    seed: int,
    *,
    noise: np.ndarray | None = None,
    excess: np.ndarray | None = None,
    hole_minutes: int = DEFAULT_HOLE_MINUTES,
) -> HazardResult:
    """The same model in plain numpy: vectorised over paths, one pass per observed start minute.

    Without ``noise`` the innovations come from ``numpy.random.default_rng(seed)``, a different
    stream from the kernel's, so the two agree within Monte Carlo error; with the same ``noise``
    they agree exactly.
    """
    inputs = _prepare(baseline, obs_minute_idx, obs_temp_f, params, ladder_lo, ladder_hi, n_paths, hole_minutes)
    excess = _check_excess(excess, n_paths)
    if noise is None:
        noise = np.random.default_rng(seed).standard_normal((n_paths, MINUTES - 1))
    noise = _check_noise(noise, n_paths)
    b, qp, nb = inputs.baseline, inputs.phi_pow, inputs.n_brackets
    w = np.zeros((n_paths, MINUTES))
    for k in range(1, MINUTES):
        w[:, k] = params.phi * w[:, k - 1] + inputs.sigma[k] * noise[:, k - 1]
    a = b + w

    def bucket(levels: _Floats | _Ints) -> _Ints:
        return inputs.lut[np.clip(levels.astype(np.int64) - inputs.lut_lo, 0, inputs.lut.size - 1)]

    def hits(path: _Floats, offset: int, level: _Floats | np.int64) -> list[np.intp | int]:
        # Paths that round above ``level`` in each hazard window after the minute at column offset - 1.
        return [
            np.count_nonzero(round_half_up(path[:, offset : offset + h].max(axis=1)) > level)
            if offset < path.shape[1]
            else 0
            for h in HAZARD_HORIZONS
        ]

    counts = np.zeros((MINUTES, nb), dtype=np.int64)
    hits5 = np.zeros(MINUTES, dtype=np.int64)
    hits60 = np.zeros(MINUTES, dtype=np.int64)

    def bridged(s: int, n: int, c: _Floats | float, target: float) -> _Floats:
        # round(max over s < k < n) of the path from s bridged to the observation at n, per path.
        k = np.arange(s + 1, n)
        if k.size == 0:
            return np.full(n_paths, _NEG)
        d = target - (a[:, n] + c * qp[n - s])
        denom = 1.0 - qp[n - s] * qp[n - s]
        wk = qp[n - k] * (1.0 - qp[k - s] * qp[k - s]) / denom if denom > 0.0 else np.zeros(k.size)
        path = a[:, s + 1 : n] + np.multiply.outer(c, qp[k - s]) + np.multiply.outer(d, wk)
        top: _Floats = path.max(axis=1)
        return round_half_up(top)

    first = int(inputs.starts[0]) if inputs.starts.size else MINUTES
    if first > 0:
        counts[:first] += np.bincount(bucket(round_half_up(a.max(axis=1)) + excess), minlength=nb)
        prefix_level = round_half_up(np.maximum.accumulate(a, axis=1))
        for t in range(first):
            hits5[t], hits60[t] = hits(a, t + 1, prefix_level[:, t])

    hole_level = np.full(n_paths, _NEG)
    if inputs.lead_hole:
        hole_level = bridged(0, first, 0.0, float(inputs.start_temp[0]))
    for j, s in enumerate(inputs.starts):
        n = int(inputs.starts[j + 1]) if j + 1 < inputs.starts.size else MINUTES
        c = (inputs.start_temp[j] - b[s]) - w[:, s]
        x = a[:, s:] + c[:, None] * qp[None, : MINUTES - s]
        future = np.maximum.accumulate(x[:, ::-1], axis=1)[:, ::-1]  # future[:, i] = max x[:, i:]
        level = inputs.start_level[j]
        known = np.maximum(level, hole_level)
        for t in range(s, n):
            i = t - s + 1
            days_max = np.maximum(known, round_half_up(future[:, i])) if i < x.shape[1] else known
            counts[t] += np.bincount(bucket(days_max + excess), minlength=nb)
            hits5[t], hits60[t] = hits(x, i, level)
        if inputs.holes[j]:
            hole_level = np.maximum(hole_level, bridged(int(s), n, c, float(inputs.start_temp[j + 1])))
    return _result(inputs, counts, hits5, hits60, n_paths)
