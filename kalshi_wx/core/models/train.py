"""Fitting, calibrating and scoring the move models, and predicting with them.

A logistic regression and an xgboost per label horizon are fitted on the train days, calibrated on
the validation days and scored on the test days of one multi-day panel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier

from kalshi_wx.core.models.features import (
    FEATURES,
    KEY_COLUMNS,
    REQUIRED_COLUMNS,
    feature_frame,
    feature_matrix,
    require_columns,
)
from kalshi_wx.core.models.labels import add_labels, label_column
from kalshi_wx.core.models.metrics import METRIC_COLUMNS, binary_scores
from kalshi_wx.core.models.settings import MODEL_KINDS, ModelSettings
from kalshi_wx.core.models.splits import SPLITS, DateSplit, split_by_date


def _estimator(kind: str, settings: ModelSettings, seed: int) -> Pipeline | XGBClassifier:
    if kind == "logreg":
        return make_pipeline(
            # The indicator keeps "unknown" (no trade, no quote yet) distinguishable from the median.
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=settings.logistic.C, solver="lbfgs", max_iter=settings.logistic.max_iter),
        )
    if kind == "xgboost":
        x = settings.xgboost
        return XGBClassifier(
            tree_method="hist",
            n_estimators=x.n_estimators,
            max_depth=x.max_depth,
            learning_rate=x.learning_rate,
            subsample=x.subsample,
            colsample_bytree=x.colsample_bytree,
            min_child_weight=x.min_child_weight,
            random_state=seed,
            n_jobs=x.n_jobs,
            eval_metric="logloss",
        )
    raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}")


@dataclass
class FittedModel:
    kind: str
    horizon_min: int
    calibrated: CalibratedClassifierCV  # the train-fitted estimator, frozen, with a validation-fitted calibrator

    def predict_proba(self, features: pl.DataFrame) -> np.ndarray:
        """P(up | the mid moves by more than eps) for each row of ``feature_frame`` output."""
        proba: np.ndarray = self.calibrated.predict_proba(feature_matrix(features.select(FEATURES)))  # (rows, 2)
        return proba[:, 1]


@dataclass
class TrainedModels:
    """Every (horizon, kind) model of one training run, with how it was split and scored."""

    models: dict[tuple[int, str], FittedModel]
    split: DateSplit
    metrics: pl.DataFrame  # one row per (horizon_min, model): test-day scores
    n_rows: dict[int, dict[str, int]]  # labelled rows per horizon and split
    settings: ModelSettings
    seed: int
    features: tuple[str, ...] = FEATURES  # the inputs it was trained on, checked at prediction

    def model(self, horizon_min: int, kind: str) -> FittedModel:
        try:
            return self.models[(horizon_min, kind)]
        except KeyError:
            raise KeyError(f"no {kind} model for {horizon_min}-minute moves; trained: {sorted(self.models)}") from None


def train_cross_bracket_models(panel: pl.DataFrame, settings: ModelSettings, seed: int) -> TrainedModels:
    """Fit, calibrate and score a logistic regression and an xgboost per horizon on a multi-day panel.

    Identical inputs and seed give identical models, predictions and metrics.
    """
    require_columns(panel, REQUIRED_COLUMNS)
    # Row order must not depend on how the panel was read, or the fits would differ between runs.
    panel = panel.sort(list(KEY_COLUMNS))
    split = split_by_date(
        panel["climate_date"], val_fraction=settings.split.val_fraction, test_fraction=settings.split.test_fraction
    )
    labelled = add_labels(panel, settings.labels.horizons_min, settings.labels.eps)
    features = feature_frame(labelled)
    models: dict[tuple[int, str], FittedModel] = {}
    rows, n_rows = [], {}
    for h in settings.labels.horizons_min:
        y_all = labelled[label_column(h)]
        parts = {}
        for s in SPLITS:
            mask = labelled["climate_date"].is_in(list(split.days(s))) & y_all.is_not_null()
            parts[s] = (feature_matrix(features.filter(mask)), y_all.filter(mask).to_numpy().astype(int))
        n_rows[h] = {s: len(parts[s][1]) for s in SPLITS}
        short = [s for s in SPLITS if len(np.unique(parts[s][1])) < 2]
        if short:
            raise ValueError(
                f"{h}-minute labels: split(s) {', '.join(short)} lack both up and down moves "
                f"(rows per split {n_rows[h]}); widen the window or lower labels.eps"
            )
        (x_train, y_train), (x_val, y_val), (x_test, y_test) = (parts[s] for s in SPLITS)
        base_rate = float(y_train.mean())
        for kind in MODEL_KINDS:
            estimator = _estimator(kind, settings, seed).fit(x_train, y_train)
            calibrated = CalibratedClassifierCV(FrozenEstimator(estimator), method=settings.calibration)
            calibrated.fit(x_val, y_val)
            models[(h, kind)] = FittedModel(kind, h, calibrated)
            p = calibrated.predict_proba(x_test)[:, 1]
            rows.append(
                {
                    "horizon_min": h,
                    "model": kind,
                    **binary_scores(p, y_test),
                    # The score of always predicting the training days' up-rate: what "skill" must beat.
                    "brier_base_rate": float(np.mean((base_rate - y_test) ** 2)),
                    "test_up_rate": float(y_test.mean()),
                }
            )
    metrics = pl.DataFrame(
        rows,
        schema={"horizon_min": pl.Int32, "model": pl.Utf8, **dict.fromkeys(METRIC_COLUMNS, pl.Float64)},
    )
    return TrainedModels(models, split, metrics, n_rows, settings, seed)


def predict_up_probability(
    models: TrainedModels, panel_slice: pl.DataFrame, horizon: int, kind: str = "xgboost"
) -> pl.Series:
    """P(the next ``horizon``-minute mid move is up, given it moves by more than eps), per row of ``panel_slice``.

    ``panel_slice`` has ``features.minute_panel_full`` columns (any rows, any order); the result
    is aligned with it and null where the row has no mid, since a move from no price is undefined.
    """
    if tuple(models.features) != FEATURES:
        # A model pickled by an older version of this module expects other inputs.
        raise ValueError(f"models were trained on features {models.features}, this code builds {FEATURES}; retrain")
    model = models.model(horizon, kind)
    if panel_slice.height == 0:
        return pl.Series(f"p_up_{horizon}m", [], dtype=pl.Float64)
    p = model.predict_proba(feature_frame(panel_slice))
    return (
        pl.DataFrame({"p": p, "has_mid": panel_slice["mid"].is_not_null()})
        .select(pl.when("has_mid").then("p").alias(f"p_up_{horizon}m"))
        .to_series()
    )


def move_signal(models: TrainedModels, panel: pl.DataFrame, horizon: int, kind: str) -> pl.DataFrame:
    """``ticker, ts, p_up``: the model's P(up move over ``horizon`` minutes) at each panel row, as known at ts."""
    return panel.select("ticker", "ts").with_columns(predict_up_probability(models, panel, horizon, kind).alias("p_up"))
