from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kalshi_wx.core.pmf.scoring import (
    DAY_SCORES_SCHEMA,
    day_score,
    log_loss,
    multiclass_brier,
    paired_differences,
    persistence_pmf,
    reliability_table,
    scores_at,
    summarise_scores,
)


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


def test_day_score_and_persistence():
    assert day_score([0.2, 0.5, 0.3], 1) == pytest.approx(
        {"brier": 0.04 + 0.25 + 0.09, "log_loss": -np.log(0.5), "p_win": 0.5}
    )
    caps = [70, 72, None]  # <= 70, 71-72, >= 73
    assert persistence_pmf(70.4, caps) == [1.0, 0.0, 0.0]
    assert persistence_pmf(70.5, caps) == [0.0, 1.0, 0.0]  # rounds half up, as the CLI
    assert persistence_pmf(80.0, caps) == [0.0, 0.0, 1.0]
    assert persistence_pmf(float("nan"), caps) is None


def test_summary_means_per_time_and_over_all_with_bootstrap_errors_over_days():
    rows = [
        {"climate_date": date(2025, 7, d), "time_lst": t, "pmf": "p_wx", "brier": b, "log_loss": 1.0, "p_win": 0.5}
        for d, t, b in [(1, "10:00", 0.2), (2, "10:00", 0.6), (1, "13:00", 0.1), (2, "13:00", 0.1)]
    ]
    rows.append({"climate_date": date(2025, 7, 1), "time_lst": "10:00", "pmf": "p_mkt", "brier": 0.3,
                 "log_loss": 1.0, "p_win": 0.5})  # fmt: skip
    table = summarise_scores(pl.DataFrame(rows, schema=DAY_SCORES_SCHEMA), n_boot=500, seed=1)
    at = {(r["pmf"], r["time_lst"]): r for r in table.iter_rows(named=True)}
    assert at[("p_wx", "10:00")]["n"] == 2 and at[("p_wx", "10:00")]["brier"] == pytest.approx(0.4)
    assert 0.1 < at[("p_wx", "10:00")]["brier_se"] < 0.25  # two days 0.4 apart: sd of a resampled mean ~0.14
    assert at[("p_wx", "13:00")]["brier_se"] == 0.0  # the same score every day
    assert at[("p_wx", "all")]["n"] == 4 and at[("p_wx", "all")]["brier"] == pytest.approx(0.25)
    assert at[("p_mkt", "10:00")]["brier_se"] is None  # one day: no spread to resample
    assert at[("persistence", "all")]["n"] == 0 and at[("persistence", "all")]["brier"] is None


def test_paired_differences_use_common_days_only():
    def row(d: int, t: str, pmf: str, brier: float) -> dict:
        return {"climate_date": date(2025, 7, d), "time_lst": t, "pmf": pmf, "brier": brier, "log_loss": 0.0,
                "p_win": 0.0}  # fmt: skip

    rows = [row(1, "13:00", "p_fused_norm", 0.2), row(1, "13:00", "p_mkt", 0.3), row(2, "13:00", "p_fused_norm", 0.4),
            row(2, "13:00", "p_mkt", 0.6), row(3, "13:00", "p_fused_norm", 1.5)]  # fmt: skip
    table = paired_differences(pl.DataFrame(rows, schema=DAY_SCORES_SCHEMA), n_boot=200)
    at = {(r["pmf"], r["reference"], r["time_lst"]): r for r in table.iter_rows(named=True)}
    fused = at[("p_fused_norm", "p_mkt", "13:00")]
    assert fused["n"] == 2 and fused["brier_diff"] == pytest.approx(-0.15)  # day 3 has no p_mkt: left out
    assert 0 < fused["brier_diff_se"] < 0.1
    assert at[("p_wx", "persistence", "all")]["n"] == 0 and at[("p_wx", "persistence", "all")]["brier_diff"] is None


def test_bootstrap_errors_do_not_depend_on_row_order():
    rows = [
        {"climate_date": date(2025, 7, d), "time_lst": "13:00", "pmf": p,
         "brier": (d * 7 % 5) / 5 + (p == "p_mkt") * 0.1, "log_loss": 1.0, "p_win": 0.5}
        for d in range(1, 21)
        for p in ("p_fused_norm", "p_mkt")
    ]  # fmt: skip
    frame = pl.DataFrame(rows, schema=DAY_SCORES_SCHEMA)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=3)
    # Equal up to the last bits of a float sum taken in another order.
    assert_frame_equal(summarise_scores(frame, seed=5), summarise_scores(shuffled, seed=5), rel_tol=1e-12)
    assert_frame_equal(paired_differences(frame, seed=5), paired_differences(shuffled, seed=5), rel_tol=1e-12)
