"""Training on synthetic panels: day splits, scores, reproducibility, prediction."""

from __future__ import annotations

import polars as pl
import pytest

from kalshi_wx.core.models.labels import add_labels
from kalshi_wx.core.models.splits import SPLITS
from kalshi_wx.core.models.train import move_signal, predict_up_probability, train_cross_bracket_models
from kalshi_wx.warehouse.artifacts import save_model
from kalshi_wx_tests.core.models.conftest import FAST, synthetic_panel


def test_training_never_splits_a_day(learnable):
    panel, trained = learnable
    split = trained.split
    assert sum(len(split.days(s)) for s in SPLITS) == panel["climate_date"].n_unique()
    assert not set(split.train) & set(split.val) and not set(split.val) & set(split.test)
    assert max(split.train) < min(split.val) <= max(split.val) < min(split.test)
    labelled = add_labels(panel, [1, 5], FAST.labels.eps)
    for h in (1, 5):
        counts = labelled.filter(pl.col(f"y_{h}m").is_not_null()).group_by("climate_date").len()
        for s in SPLITS:
            expected = counts.filter(pl.col("climate_date").is_in(list(split.days(s))))["len"].sum()
            assert trained.n_rows[h][s] == expected


def test_a_learnable_signal_scores_well_on_test_days(learnable):
    _, trained = learnable
    assert trained.metrics.height == 4
    for row in trained.metrics.iter_rows(named=True):
        assert row["roc_auc"] > 0.7, row  # 0.75-0.82 with this seed
        assert row["brier"] < row["brier_base_rate"] - 0.03, row
        assert row["ece"] < 0.08, row


def test_random_labels_score_near_chance():
    panel = synthetic_panel(signal=False)
    trained = train_cross_bracket_models(panel, FAST, seed=11)
    # ~2,700 test rows per horizon: the AUC's standard error is ~0.011, so 0.05 is over 4 of them.
    for row in trained.metrics.iter_rows(named=True):
        assert abs(row["roc_auc"] - 0.5) < 0.05, row
        assert row["brier"] > row["brier_base_rate"] - 0.01, row


def test_training_is_reproducible_from_the_seed(learnable, tmp_path):
    panel, first = learnable
    second = train_cross_bracket_models(panel.sample(fraction=1.0, shuffle=True, seed=5), FAST, seed=11)
    assert second.metrics.equals(first.metrics)
    for h in (1, 5):
        for kind in ("logreg", "xgboost"):
            assert predict_up_probability(second, panel, h, kind).equals(predict_up_probability(first, panel, h, kind))
    (_, sha_a), (_, sha_b) = save_model(first, tmp_path / "a"), save_model(second, tmp_path / "b")
    assert sha_a == sha_b
    other_seed = train_cross_bracket_models(panel, FAST, seed=12)
    assert not predict_up_probability(other_seed, panel, 5).equals(predict_up_probability(first, panel, 5))


def test_too_few_labels_in_a_split_is_a_clear_error():
    panel = synthetic_panel(signal=True, n_days=3, n_tickers=1, minutes=60)
    # A last day whose mid never moves has no label at all there.
    flat = panel.with_columns(
        pl.when(pl.col("climate_date") == pl.col("climate_date").max()).then(0.5).otherwise("mid").alias("mid")
    )
    with pytest.raises(ValueError, match="split\\(s\\) test lack both up and down moves"):
        train_cross_bracket_models(flat, FAST, seed=1)


def test_predict_up_probability_is_aligned_and_null_without_a_mid(learnable):
    panel, trained = learnable
    slice_ = panel.filter(pl.col("climate_date") == trained.split.test[0]).head(20)
    slice_ = slice_.with_columns(mid=pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise("mid"))
    p = predict_up_probability(trained, slice_, 1, "logreg")
    assert p.name == "p_up_1m" and p.len() == 20 and p.null_count() == 1 and p[3] is None
    assert p.drop_nulls().is_between(0, 1).all()
    assert predict_up_probability(trained, slice_.head(0), 5).len() == 0
    with pytest.raises(KeyError, match="no xgboost model for 15-minute"):
        predict_up_probability(trained, slice_, 15)


def test_move_signal_is_the_prediction_keyed_by_ticker_and_minute(learnable):
    panel, trained = learnable
    day = panel.filter(pl.col("climate_date") == trained.split.test[0])
    signal = move_signal(trained, day, 5, "logreg")
    assert signal.columns == ["ticker", "ts", "p_up"] and signal.height == day.height
    assert signal["p_up"].equals(predict_up_probability(trained, day, 5, "logreg").alias("p_up"))
    assert signal.select("ticker", "ts").equals(day.select("ticker", "ts"))
