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
