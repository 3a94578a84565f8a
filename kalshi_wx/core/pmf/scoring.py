"""Proper scores of bracket PMFs against the settled bracket: Brier, log loss, reliability."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import numpy as np
import polars as pl

from kalshi_wx.core.climate_day import climate_day_window


def multiclass_brier(p: np.ndarray, winner: np.ndarray) -> float:
    """Mean over events of sum_k (p_k - y_k)^2, with ``p`` [events, brackets] and ``winner`` indices."""
    y = np.zeros_like(p)
    y[np.arange(len(winner)), winner] = 1.0
    return float(np.mean(np.sum((p - y) ** 2, axis=1)))


def log_loss(p: np.ndarray, winner: np.ndarray, eps: float = 1e-6) -> float:
    """Mean of -log p(winning bracket), floored at ``eps`` so a confident miss is finite but costly."""
    return float(np.mean(-np.log(np.clip(p[np.arange(len(winner)), winner], eps, 1.0))))


def scores_at(
    frame: pl.DataFrame, columns: list[str], winners: dict[str, bool], at: Sequence[datetime]
) -> pl.DataFrame:
    """Brier and log loss of each PMF column at each timestamp in ``at`` (one event per timestamp).

    ``frame`` has ticker, ts and the PMF columns; ``winners`` maps each ticker to its settled result.
    A PMF column with a null at a timestamp is not scored there.
    """
    tickers = sorted(winners)
    winner_index = np.array([tickers.index(next(t for t in tickers if winners[t]))])
    rows = []
    for ts in at:
        minute = frame.filter(pl.col("ts") == ts)
        for column in columns:
            values = dict(zip(minute["ticker"], minute[column], strict=True))
            if len(values) != len(tickers) or any(values.get(t) is None for t in tickers):
                continue
            p = np.array([[values[t] for t in tickers]], dtype=float)
            rows.append(
                {
                    "ts": ts,
                    "pmf": column,
                    "brier": multiclass_brier(p, winner_index),
                    "log_loss": log_loss(p, winner_index),
                }
            )
    return pl.DataFrame(
        rows, schema={"ts": frame.schema["ts"], "pmf": pl.Utf8, "brier": pl.Float64, "log_loss": pl.Float64}
    )


def reliability_table(p: np.ndarray, outcome: np.ndarray, n_bins: int = 10) -> pl.DataFrame:
    """Forecast probability bins with their mean forecast and observed frequency (binary outcomes)."""
    p, outcome = np.asarray(p, dtype=float).ravel(), np.asarray(outcome, dtype=float).ravel()
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    rows = [
        {"bin": b, "mean_p": float(p[bins == b].mean()), "frequency": float(outcome[bins == b].mean()), "n": int(n)}
        for b in range(n_bins)
        if (n := int((bins == b).sum()))
    ]
    return pl.DataFrame(rows, schema={"bin": pl.Int32, "mean_p": pl.Float64, "frequency": pl.Float64, "n": pl.Int64})


def score_times_utc(climate_date: date, std_offset: int, times_lst: tuple[time, ...]) -> list[datetime]:
    """The scoring times (local standard time of day) of a climate day, as UTC instants."""
    start, _ = climate_day_window(climate_date, std_offset)
    return [start + timedelta(hours=t.hour, minutes=t.minute) for t in times_lst]


SCORED_PMFS = ("p_wx", "p_mkt", "p_fused_norm", "persistence")
DAY_SCORES_SCHEMA = {
    "climate_date": pl.Date,
    "time_lst": pl.Utf8,
    "pmf": pl.Utf8,
    "brier": pl.Float64,
    "log_loss": pl.Float64,
    "p_win": pl.Float64,
}


def day_score(p: Sequence[float], winner: int) -> dict[str, float]:
    """Brier, log loss and the probability of the winning bracket of one PMF over an event's ladder."""
    matrix, index = np.asarray([p], dtype=float), np.array([winner])
    return {"brier": multiclass_brier(matrix, index), "log_loss": log_loss(matrix, index), "p_win": float(p[winner])}


def persistence_pmf(running_max_f: float, caps: Sequence[int | None]) -> list[float] | None:
    """Flat persistence: the day ends at the rounded running max (all mass on its bracket); None before any."""
    if not np.isfinite(running_max_f):
        return None
    level = int(np.floor(running_max_f + 0.5))
    index = next(i for i, cap in enumerate(caps) if cap is None or level <= cap)
    return [1.0 if i == index else 0.0 for i in range(len(caps))]


def summarise_scores(day_scores: pl.DataFrame, n_boot: int = 2000, seed: int = 0) -> pl.DataFrame:
    """Mean scores per (time, pmf) and over all times ("all"), with bootstrap standard errors over days.

    ``day_scores`` has ``DAY_SCORES_SCHEMA``. Days are resampled with replacement (all of a day's
    times together for "all"), so the errors reflect day-to-day weather, not minutes within a day.
    """
    rng = np.random.default_rng(seed)
    rows = []
    times = sorted(day_scores["time_lst"].unique().to_list())
    for pmf in SCORED_PMFS:
        for time_lst in [*times, "all"]:
            part = day_scores.filter(pl.col("pmf") == pmf)
            if time_lst != "all":
                part = part.filter(pl.col("time_lst") == time_lst)
            row: dict[str, object] = {"time_lst": time_lst, "pmf": pmf, "n": part.height}
            # Sorted: group_by's order varies from run to run, and the seeded resampling must not.
            by_day = part.group_by("climate_date").agg(pl.col("brier", "log_loss", "p_win").mean()).sort("climate_date")
            for metric in ("brier", "log_loss", "p_win"):
                values = by_day[metric].to_numpy()
                row[metric] = float(part[metric].mean()) if part.height else None  # type: ignore[arg-type]
                if values.size > 1:
                    draws = values[rng.integers(0, values.size, size=(n_boot, values.size))].mean(axis=1)
                    row[f"{metric}_se"] = float(draws.std(ddof=1))
                else:
                    row[f"{metric}_se"] = None
            rows.append(row)
    schema = {"time_lst": pl.Utf8, "pmf": pl.Utf8, "n": pl.Int64}
    for metric in ("brier", "log_loss", "p_win"):
        schema |= {metric: pl.Float64, f"{metric}_se": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


# (pmf, reference): the comparisons the goal is stated in.
PAIRED = (("p_wx", "persistence"), ("p_fused_norm", "p_mkt"), ("p_fused_norm", "p_wx"))


def paired_differences(day_scores: pl.DataFrame, n_boot: int = 2000, seed: int = 0) -> pl.DataFrame:
    """Brier of each ``PAIRED`` pmf minus its reference on the (day, time)s where both were scored.

    Negative is better. The bootstrap resamples days, as ``summarise_scores`` does; a difference on
    common days is much tighter than the difference of two separately averaged scores.
    """
    rng = np.random.default_rng(seed)
    wide = day_scores.pivot(on="pmf", index=["climate_date", "time_lst"], values="brier")
    rows = []
    times = sorted(day_scores["time_lst"].unique().to_list())
    for pmf, reference in PAIRED:
        for time_lst in [*times, "all"]:
            row: dict[str, object] = {"pmf": pmf, "reference": reference, "time_lst": time_lst, "n": 0}
            row |= {"brier_diff": None, "brier_diff_se": None}
            if pmf in wide.columns and reference in wide.columns:
                both = wide.drop_nulls([pmf, reference])
                if time_lst != "all":
                    both = both.filter(pl.col("time_lst") == time_lst)
                per_day = both.group_by("climate_date").agg((pl.col(pmf) - pl.col(reference)).mean())
                diff = per_day.sort("climate_date")[pmf].to_numpy()
                row["n"] = both.height
                if both.height:
                    row["brier_diff"] = float((both[pmf] - both[reference]).mean())  # type: ignore[arg-type]
                if diff.size > 1:
                    draws = diff[rng.integers(0, diff.size, size=(n_boot, diff.size))].mean(axis=1)
                    row["brier_diff_se"] = float(draws.std(ddof=1))
            rows.append(row)
    schema = {"pmf": pl.Utf8, "reference": pl.Utf8, "time_lst": pl.Utf8, "n": pl.Int64}
    return pl.DataFrame(rows, schema=schema | {"brier_diff": pl.Float64, "brier_diff_se": pl.Float64})
