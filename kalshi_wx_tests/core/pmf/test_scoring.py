from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from kalshi_wx.core.pmf.scoring import log_loss, multiclass_brier, reliability_table, scores_at


def test_brier_and_log_loss_known_values():
    perfect = np.array([[0.0, 1.0, 0.0]])
    uniform = np.full((1, 4), 0.25)
    assert multiclass_brier(perfect, np.array([1])) == 0.0
    assert multiclass_brier(uniform, np.array([2])) == pytest.approx(0.75)  # 0.75^2 + 3 * 0.25^2
    assert log_loss(uniform, np.array([2])) == pytest.approx(math.log(4))
    assert log_loss(np.array([[1.0, 0.0]]), np.array([1])) == pytest.approx(-math.log(1e-6))


def test_scores_at_skips_pmfs_with_gaps():
    t1, t2 = datetime(2026, 6, 1, 15, tzinfo=UTC), datetime(2026, 6, 1, 18, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "ticker": ["A", "B", "A", "B"],
            "ts": [t1, t1, t2, t2],
            "p_wx": [0.5, 0.5, 0.1, 0.9],
            "p_mkt": [None, None, 0.2, 0.8],
        }
    )
    scores = scores_at(frame, ["p_wx", "p_mkt"], {"A": False, "B": True}, [t1, t2])
    assert scores.select("pmf", "brier").rows() == [
        ("p_wx", 0.5),
        ("p_wx", pytest.approx(0.02)),
        ("p_mkt", pytest.approx(0.08)),
    ]


def test_reliability_bins():
    table = reliability_table(np.array([0.05, 0.07, 0.95, 0.91]), np.array([0, 1, 1, 1]), n_bins=10)
    assert table.rows() == [(0, pytest.approx(0.06), 0.5, 2), (9, pytest.approx(0.93), 1.0, 2)]
