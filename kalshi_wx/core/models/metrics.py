"""Scores of predicted up-probabilities against the moves that followed."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

METRIC_COLUMNS = ("accuracy", "roc_auc", "brier", "brier_base_rate", "ece", "test_up_rate")


def expected_calibration_error(p: np.ndarray, y: np.ndarray, n_bins: int = 10) -> float:
    """sum_b (n_b / n) |mean(y_b) - mean(p_b)| over equal-width bins of [0, 1] (1.0 falls in the last bin)."""
    p, y = np.asarray(p, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if p.size == 0 or p.size != y.size:
        raise ValueError(f"ECE needs equally many probabilities and outcomes, got {p.size} and {y.size}")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        total += in_bin.sum() / p.size * abs(y[in_bin].mean() - p[in_bin].mean())
    return float(total)


def binary_scores(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy at 0.5, ROC AUC (NaN with one class), Brier and ECE of probabilities ``p`` for outcomes ``y``."""
    y = np.asarray(y, dtype=int)
    return {
        "accuracy": float(np.mean((p >= 0.5) == (y == 1))),
        "roc_auc": float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else math.nan,
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(p, y),
    }
