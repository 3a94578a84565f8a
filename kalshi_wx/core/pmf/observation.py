"""The observation model: how the settlement value (the CLI whole-degree maximum) relates to the record.

The NWS CLI maximum is the highest of the ASOS 1-minute values (whole °F). A public record sees
fewer of them: the 5-minute archive keeps one reading in five (its T group in tenths of °C, which
``tenths_c_to_f`` turns back into the whole °F it came from), hourly METARs one in sixty, and any
record has holes. So the CLI high is never below the rounded observed maximum and is sometimes
above it. Its **excess** ``CLI - round(max observed)`` is fitted here from past days, by the
record's resolution, and split by whether the day's record had a hole longer than
``hole_minutes``: on Central Park's 5-minute record nearly all of the large misses are days with
holes, so a blanket shift would be wrong on complete days and still too small on holed ones.

``hazard.py`` uses the complete-record distribution only: it draws one excess per Monte Carlo path
and adds it to the day's rounded maximum, while holes are handled where they are, by simulating the
path through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from kalshi_wx.core.climate_day import climate_day_window

HOLE_MINUTES = 20  # a gap longer than this (and than two record spacings) is a hole: see ``hole_minutes``
MAX_EXCESS_F = 3  # excess beyond this on a complete record is folded into the top value
PRIOR_PSEUDO_DAYS = 2.0  # the prior's weight against the fitted days (see ``excess_pmf``)
# Prior excess on a complete record by resolution: 1-minute data is what the CLI is computed from;
# a 5-minute record misses a 1-minute peak now and then; an hourly one usually does.
PRIOR_EXCESS: dict[int, tuple[float, ...]] = {
    1: (0.97, 0.03, 0.0, 0.0),
    5: (0.85, 0.13, 0.02, 0.0),
    60: (0.35, 0.45, 0.15, 0.05),
}


def hole_minutes(resolution_min: int) -> int:
    """The longest gap that is still the record's ordinary spacing; longer ones are holes."""
    return max(HOLE_MINUTES, 2 * int(resolution_min))


EXCESS_SCHEMA = {
    "climate_date": pl.Date,
    "resolution_min": pl.Int32,
    "n_obs": pl.Int64,
    "obs_max_f": pl.Int64,
    "cli_max_f": pl.Int64,
    "excess_f": pl.Int64,
    "longest_gap_min": pl.Float64,
    "peak_hour_lst": pl.Int32,
    "holed": pl.Boolean,
}


def record_excess(obs: pl.DataFrame, cli_highs: pl.DataFrame, std_offset: int) -> pl.DataFrame:
    """Per climate day with both: the record's rounded maximum, the CLI high, their difference and gaps.

    ``obs`` is a ``weather.station_obs`` frame (several days); ``cli_highs`` has climate_date and
    max_f. ``longest_gap_min`` counts the day's edges as gaps (a record that starts at 03:00 has a
    three-hour hole); ``peak_hour_lst`` is the LST hour of the first observed maximum.
    """
    highs = dict(zip(cli_highs["climate_date"], cli_highs["max_f"], strict=True))
    rows = []
    usable = obs.filter(pl.col("station_ok") & pl.col("temp_f").is_not_null()).sort("ts")
    for (day,), frame in usable.group_by("climate_date", maintain_order=True):
        if highs.get(day) is None or frame.is_empty():
            continue
        rows.append(_day_row(day, frame, int(highs[day]), std_offset))
    return pl.DataFrame(rows, schema=EXCESS_SCHEMA).sort("climate_date")


def _day_row(day: date, frame: pl.DataFrame, cli_max: int, std_offset: int) -> dict[str, object]:
    start, end = climate_day_window(day, std_offset)
    minutes = (frame["ts"].dt.epoch("s").to_numpy() - start.timestamp()) / 60.0
    edges = np.concatenate([[0.0], minutes, [(end - start).total_seconds() / 60.0]])
    temps = frame["temp_f"].to_numpy()
    obs_max = int(np.floor(temps.max() + 0.5))
    resolution = frame["resolution_min"].drop_nulls()
    spacing = int(resolution.mode()[0]) if resolution.len() else 1
    longest = float(np.diff(edges).max())
    return {
        "climate_date": day,
        "resolution_min": spacing,
        "n_obs": frame.height,
        "obs_max_f": obs_max,
        "cli_max_f": cli_max,
        "excess_f": cli_max - obs_max,
        "longest_gap_min": longest,
        "peak_hour_lst": int(minutes[int(np.argmax(temps))] // 60),
        "holed": longest > hole_minutes(spacing),
    }


@dataclass(frozen=True)
class ExcessFit:
    """P(excess = d) for d = 0..MAX_EXCESS_F on complete records of one resolution, and its evidence."""

    resolution_min: int
    pmf: np.ndarray
    n_days: int
    counts: dict[int, int]  # observed excess -> days, complete records only


def excess_pmf(excess: pl.DataFrame, resolution_min: int) -> ExcessFit:
    """The complete-record excess distribution of ``resolution_min`` records, shrunk toward its prior.

    Days with a hole are left out (the kernel simulates holes); a negative excess (the CLI below the
    record, e.g. a record from another sensor) is left out too and is a data problem to look at.
    Excess above ``MAX_EXCESS_F`` counts as ``MAX_EXCESS_F``. The prior (``PRIOR_EXCESS`` of the
    nearest resolution) weighs ``PRIOR_PSEUDO_DAYS`` days.
    """
    nearest = min(PRIOR_EXCESS, key=lambda r: abs(r - resolution_min))
    prior = np.asarray(PRIOR_EXCESS[nearest])
    days = excess.filter((pl.col("resolution_min") == resolution_min) & ~pl.col("holed") & (pl.col("excess_f") >= 0))[
        "excess_f"
    ].to_numpy()
    counts = np.bincount(np.minimum(days, MAX_EXCESS_F), minlength=MAX_EXCESS_F + 1).astype(np.float64)
    pmf = (counts + PRIOR_PSEUDO_DAYS * prior) / (counts.sum() + PRIOR_PSEUDO_DAYS)
    observed = {int(v): int(c) for v, c in zip(*np.unique(days, return_counts=True), strict=True)}
    return ExcessFit(resolution_min=resolution_min, pmf=pmf, n_days=int(days.size), counts=observed)


def draw_excess(pmf: np.ndarray, n_paths: int, seed: int) -> np.ndarray:
    """One excess per Monte Carlo path (int64), by stratified sampling so its mix is exact to 1/n_paths."""
    u = (np.arange(n_paths) + np.random.default_rng(seed).random(n_paths)) / n_paths
    values = np.searchsorted(np.cumsum(pmf) / np.sum(pmf), u, side="right").astype(np.int64)
    return np.random.default_rng(seed + 1).permutation(np.minimum(values, pmf.size - 1))
