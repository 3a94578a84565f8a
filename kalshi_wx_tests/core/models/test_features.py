"""Features: the documented columns of the row at t, blind to the future and to the settlement."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import polars as pl
import pytest

from kalshi_wx.core.models.features import FEATURES, feature_frame
from kalshi_wx.core.models.labels import add_labels
from kalshi_wx_tests.core.models.conftest import synthetic_panel


def test_perturbing_future_mids_changes_labels_but_no_feature_at_or_before_t():
    panel = synthetic_panel(signal=True, n_days=1, n_tickers=2, minutes=120)
    cut = panel["ts"].min() + timedelta(minutes=60)
    future = pl.col("ts") > cut
    perturbed = panel.with_columns(pl.when(future).then(pl.col("mid") + 0.3).otherwise("mid").alias("mid"))

    def up_to_cut(frame: pl.DataFrame) -> pl.DataFrame:
        return feature_frame(frame).filter(frame["ts"] <= cut)

    assert up_to_cut(perturbed).equals(up_to_cut(panel))
    labels, labels_perturbed = (add_labels(f, [1, 5], 0.001).filter(pl.col("ts") <= cut) for f in (panel, perturbed))
    for h in ("y_1m", "y_5m"):
        # Only rows whose t + h lies past the cut can differ, and some do.
        changed = labels.filter(labels[h].ne_missing(labels_perturbed[h]))
        assert changed.height > 0
        assert (changed["ts"] > cut - timedelta(minutes=int(h[2:-1]))).all()


def test_features_are_the_documented_columns_and_never_the_settlement():
    panel = synthetic_panel(signal=True, n_days=1, n_tickers=2, minutes=30)
    features = feature_frame(panel)
    assert tuple(features.columns) == FEATURES
    assert not any(name.startswith("settled") or name.startswith("move") for name in FEATURES)
    relabelled = panel.with_columns(settled_yes=1 - pl.col("settled_yes"), settled_max_f=pl.lit(99))
    assert feature_frame(relabelled).equals(features)


def test_missing_panel_columns_are_named():
    with pytest.raises(ValueError, match="p_wx"):
        feature_frame(synthetic_panel(signal=True, n_days=1, minutes=10).drop("p_wx"))


def test_features_and_settings_import_without_scikit_learn_or_xgboost():
    # The config and the warehouse schemas import them; the estimators are loaded by train alone.
    code = (
        "import sys, kalshi_wx.core.models.features, kalshi_wx.core.models.settings; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'xgboost'}))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
