"""Short-horizon models of a bracket's next mid move: labels, features, day splits, training, scores.

The target at minute t is the sign of ``mid(t + h) - mid(t)`` for h = 1 and 5 minutes, on rows
where the mid moved by more than ``eps`` (a flat mid has no sign and is dropped). The label is the
only place a later row is read. Features are row-wise expressions of the ``features.minute_panel_full``
row at t, whose columns are all known at t (quotes are the book known at t; the lags, weather and
PMFs use data stamped <= t), so no feature can see t + h. ``settled_*`` columns are never read.

Data is split by climate day, never by row: minutes of one day are strongly correlated, so a row
split would put a day's neighbours on both sides and flatter the test score. Days are assigned
chronologically (train earliest, then validation, then test). Each model is fitted on the train
days, calibrated on the validation days and scored on the test days.

Models are saved with pickle: loading one runs arbitrary code, so only load files this platform
wrote; ``load_model`` refuses a file whose SHA-256 differs from the one recorded at training.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from pydantic.dataclasses import dataclass as settings_dataclass
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier

from kalshi_wx.core.config_types import SETTINGS_CONFIG, Real, Text, Whole

MODEL_KINDS = ("logreg", "xgboost")
SPLITS = ("train", "val", "test")
MIN_DAYS = 3  # one day each for train, validation and test
ARTIFACT_NAME = "cross_bracket_model.pkl"

# Panel columns used as they are. Every one is known at t (see minute_panel.sql / schema.yml).
PANEL_FEATURES = (
    "yes_bid",
    "yes_ask",
    "mid",
    "spread",
    "has_quote",
    "volume",
    "mid_chg_1m",
    "mid_chg_5m",
    "mid_chg_15m",
    "mid_below_delta",
    "mid_above_delta",
    "obs_temp_f",
    "obs_age_min",
    "obs_running_max_f",
    "minutes_to_close",
    "p_wx",
    "hazard_next_5m",
    "hazard_next_60m",
    "p_mkt",
    "p_fused",
    "p_fused_norm",
)
# Row-wise combinations of the same row. Absolute lo_f / hi_f differ by city and season; their
# distance to the running max is what decides whether the bracket is still alive.
DERIVED_FEATURES: dict[str, pl.Expr] = {
    "edge_fused": pl.col("p_fused_norm") - pl.col("mid"),  # what a mid reverting to the fused PMF would close
    "edge_wx": pl.col("p_wx") - pl.col("mid"),
    "trade_vs_mid": pl.col("trade_price") - pl.col("mid"),  # null when nothing traded in the bar
    "lo_gap_f": pl.col("lo_f") - pl.col("obs_running_max_f"),  # null for the open-below bracket
    "hi_gap_f": pl.col("hi_f") - pl.col("obs_running_max_f"),  # null for the open-above bracket
}
FEATURES = PANEL_FEATURES + tuple(DERIVED_FEATURES)
# What the panel must hold: the features' inputs plus the keys the labels join on.
KEY_COLUMNS = ("city", "climate_date", "ticker", "ts")
REQUIRED_COLUMNS = (*KEY_COLUMNS, *PANEL_FEATURES, "trade_price", "lo_f", "hi_f")


# --- settings -----------------------------------------------------------------------------------


@settings_dataclass(frozen=True, config=SETTINGS_CONFIG)
class LabelSettings:
    horizons_min: tuple[Whole, ...] = (1, 5)
    eps: Real = 0.001  # dollars; the mid moves in half cents, so any real move clears it

    def __post_init__(self) -> None:
        if not self.horizons_min or any(h < 1 for h in self.horizons_min):
            raise ValueError(f"horizons_min {self.horizons_min} must be whole minutes >= 1")
        if len(set(self.horizons_min)) != len(self.horizons_min):
            raise ValueError(f"horizons_min {self.horizons_min} has duplicates")
        if not 0 <= self.eps < 0.5:
            raise ValueError(f"label eps {self.eps} must lie in [0, 0.5)")


@settings_dataclass(frozen=True, config=SETTINGS_CONFIG)
class SplitSettings:
    val_fraction: Real = 0.2
    test_fraction: Real = 0.2

    def __post_init__(self) -> None:
        fractions = (self.val_fraction, self.test_fraction)
        if not all(0 < f < 1 for f in fractions) or sum(fractions) >= 1:
            raise ValueError(
                f"val_fraction {self.val_fraction} and test_fraction {self.test_fraction} must be in (0, 1) "
                f"and leave room for training days"
            )


@settings_dataclass(frozen=True, config=SETTINGS_CONFIG)
class LogisticSettings:
    C: Real = 1.0  # inverse L2 strength on standardised features
    max_iter: Whole = 2000

    def __post_init__(self) -> None:
        if self.C <= 0 or self.max_iter < 1:
            raise ValueError("logistic C must be > 0 and max_iter >= 1")


@settings_dataclass(frozen=True, config=SETTINGS_CONFIG)
class XgbSettings:
    n_estimators: Whole = 200
    max_depth: Whole = 4
    learning_rate: Real = 0.05
    subsample: Real = 0.8
    colsample_bytree: Real = 0.8
    min_child_weight: Real = 5.0
    n_jobs: Whole = 1  # hist is deterministic for a fixed thread count; keep it fixed

    def __post_init__(self) -> None:
        if self.n_estimators < 1 or self.max_depth < 1 or self.n_jobs < 1:
            raise ValueError("xgboost n_estimators, max_depth and n_jobs must be >= 1")
        if not (0 < self.learning_rate <= 1 and 0 < self.subsample <= 1 and 0 < self.colsample_bytree <= 1):
            raise ValueError("xgboost learning_rate, subsample and colsample_bytree must lie in (0, 1]")


CALIBRATION_METHODS = ("sigmoid", "isotonic")


@settings_dataclass(frozen=True, config=SETTINGS_CONFIG)
class ModelSettings:
    labels: LabelSettings = field(default_factory=LabelSettings)
    split: SplitSettings = field(default_factory=SplitSettings)
    logistic: LogisticSettings = field(default_factory=LogisticSettings)
    xgboost: XgbSettings = field(default_factory=XgbSettings)
    # sigmoid keeps the ranking (AUC) of the raw model; isotonic needs more validation rows.
    calibration: Text = "sigmoid"

    def __post_init__(self) -> None:
        if self.calibration not in CALIBRATION_METHODS:
            raise ValueError(f"calibration {self.calibration!r}: expected one of {', '.join(CALIBRATION_METHODS)}")


@settings_dataclass(frozen=True, config=SETTINGS_CONFIG)
class TrainWindow:
    """Climate days to train on: ``start``..``end`` inclusive, or the ``last_days`` ending on the latest settled day."""

    start: date | None = None
    end: date | None = None
    last_days: Whole | None = None

    def __post_init__(self) -> None:
        fixed = self.start is not None or self.end is not None
        if fixed == (self.last_days is not None):
            raise ValueError("give either start and end, or last_days (not both)")
        if fixed and (self.start is None or self.end is None):
            raise ValueError("a fixed window needs both start and end")
        if fixed and self.end < self.start:
            raise ValueError(f"window end {self.end} is before start {self.start}")
        if self.last_days is not None and self.last_days < MIN_DAYS:
            raise ValueError(f"last_days {self.last_days} must be >= {MIN_DAYS} (train, validation, test)")

    def resolve(self, latest_settled: date | None) -> tuple[date, date]:
        """The inclusive (start, end) days; a relative window needs the latest settled day."""
        if self.last_days is None:
            return self.start, self.end
        if latest_settled is None:
            raise ValueError(f"the window is the last {self.last_days} settled days, and no day is settled yet")
        return latest_settled - timedelta(days=self.last_days - 1), latest_settled

    def describe(self) -> str:
        return f"last {self.last_days} settled days" if self.last_days is not None else f"{self.start}..{self.end}"


# --- labels and features ------------------------------------------------------------------------


def label_column(horizon_min: int) -> str:
    return f"y_{horizon_min}m"


def _check_columns(panel: pl.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in panel.columns]
    if missing:
        raise ValueError(f"panel lacks column(s) {', '.join(missing)} (expected features.minute_panel_full)")


def add_labels(panel: pl.DataFrame, horizons_min: Sequence[int], eps: float) -> pl.DataFrame:
    """``panel`` with ``move_<h>m`` = mid(t + h) - mid(t) and ``y_<h>m`` (1 up, 0 down, null within eps).

    The later mid is found by timestamp (not row offset) within the same city, day and ticker, so a
    gap in the grid or the end of the day gives a null label rather than a wrong one.
    """
    _check_columns(panel, (*KEY_COLUMNS, "mid"))
    out = panel
    for h in horizons_min:
        later = panel.select(
            *KEY_COLUMNS[:3],
            (pl.col("ts") - pl.duration(minutes=h)).alias("ts"),
            pl.col("mid").alias("_mid_later"),
        )
        move = pl.col("_mid_later") - pl.col("mid")
        out = (
            out.join(later, on=list(KEY_COLUMNS), how="left", maintain_order="left")
            .with_columns(
                move.alias(f"move_{h}m"),
                pl.when(move > eps).then(1).when(move < -eps).then(0).cast(pl.Int8).alias(label_column(h)),
            )
            .drop("_mid_later")
        )
    return out


def feature_frame(panel: pl.DataFrame) -> pl.DataFrame:
    """The model inputs, one row per panel row, in ``FEATURES`` order (Float64, null = unknown)."""
    _check_columns(panel, REQUIRED_COLUMNS)
    return panel.select(
        *(pl.col(c).cast(pl.Float64) for c in PANEL_FEATURES),
        *(expr.cast(pl.Float64).alias(name) for name, expr in DERIVED_FEATURES.items()),
    )


def _matrix(frame: pl.DataFrame) -> np.ndarray:
    # Nulls become NaN: xgboost routes them natively, the logistic pipeline imputes them.
    return frame.to_numpy().astype(np.float64)


# --- splits -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateSplit:
    train: tuple[date, ...]
    val: tuple[date, ...]
    test: tuple[date, ...]

    def days(self, split: str) -> tuple[date, ...]:
        return getattr(self, split)

    def as_dict(self) -> dict[str, list[str]]:
        return {s: [d.isoformat() for d in self.days(s)] for s in SPLITS}


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def split_by_date(
    dates: Sequence[date] | pl.Series,
    *,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    windows: Mapping[str, tuple[date, date]] | None = None,
) -> DateSplit:
    """Assign whole climate days to train / val / test, chronologically (train earliest).

    ``dates`` may repeat (one per row); only the distinct days count. By default the last
    ``test_fraction`` of the days (at least one) are test, the ``val_fraction`` before them (at
    least one) validation and the rest train. ``windows`` instead names an inclusive (start, end)
    per split; they must be in train < val < test order without overlap, and days outside every
    window are left out.
    """
    days = sorted(set(dates))
    if windows is not None:
        if set(windows) != set(SPLITS):
            raise ValueError(f"split windows must name exactly {', '.join(SPLITS)}; got {', '.join(sorted(windows))}")
        for split in SPLITS:
            start, end = windows[split]
            if end < start:
                raise ValueError(f"split window {split}: end {end} is before start {start}")
        for earlier, later in zip(SPLITS, SPLITS[1:], strict=False):
            if windows[earlier][1] >= windows[later][0]:
                raise ValueError(f"split window {earlier} {windows[earlier]} must end before {later} starts")
        chosen = {s: tuple(d for d in days if windows[s][0] <= d <= windows[s][1]) for s in SPLITS}
        empty = [s for s in SPLITS if not chosen[s]]
        if empty:
            raise ValueError(f"split window(s) {', '.join(empty)} hold none of the days {days[0]}..{days[-1]}")
        return DateSplit(**chosen)
    if len(days) < MIN_DAYS:
        raise ValueError(f"{len(days)} distinct day(s); a date split needs at least {MIN_DAYS}")
    n_test = max(1, _half_up(len(days) * test_fraction))
    n_val = max(1, _half_up(len(days) * val_fraction))
    n_train = len(days) - n_val - n_test
    if n_train < 1:
        raise ValueError(f"{len(days)} day(s) leave no training day after {n_val} validation and {n_test} test")
    return DateSplit(tuple(days[:n_train]), tuple(days[n_train : n_train + n_val]), tuple(days[n_train + n_val :]))


# --- scores -------------------------------------------------------------------------------------


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


# --- training -----------------------------------------------------------------------------------


def _estimator(kind: str, settings: ModelSettings, seed: int):
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
        return self.calibrated.predict_proba(_matrix(features.select(FEATURES)))[:, 1]


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


METRIC_COLUMNS = ("accuracy", "roc_auc", "brier", "brier_base_rate", "ece", "test_up_rate")


def train_cross_bracket_models(panel: pl.DataFrame, settings: ModelSettings, seed: int) -> TrainedModels:
    """Fit, calibrate and score a logistic regression and an xgboost per horizon on a multi-day panel.

    Identical inputs and seed give identical models, predictions and metrics.
    """
    _check_columns(panel, REQUIRED_COLUMNS)
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
            parts[s] = (_matrix(features.filter(mask)), y_all.filter(mask).to_numpy().astype(int))
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


# --- artifacts ----------------------------------------------------------------------------------


def latest_model_before(artifacts: pl.DataFrame, day: date) -> dict | None:
    """The training run (a ``models.artifacts`` row) whose window ended last before ``day``, or None.

    ``climate_date`` is the window's last day and every split lies inside the window, so such a
    model saw nothing from ``day`` on: using it to trade ``day`` is out of sample.
    """
    earlier = artifacts.filter(pl.col("climate_date") < day)
    if earlier.height == 0:
        return None
    return earlier.sort("climate_date").row(-1, named=True)


def save_model(obj: object, directory: Path | str) -> tuple[Path, str]:
    """Pickle ``obj`` to ``directory/cross_bracket_model.pkl`` atomically; (path, SHA-256 of the file bytes)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    path = directory / ARTIFACT_NAME
    # Write then rename, so a reader never sees half a file and a crash leaves the previous model.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{ARTIFACT_NAME}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path, hashlib.sha256(payload).hexdigest()


def load_model(path: Path | str, sha256: str) -> object:
    """Unpickle a saved model after checking its bytes against the SHA-256 recorded when it was saved."""
    payload = Path(path).read_bytes()
    found = hashlib.sha256(payload).hexdigest()
    if found != sha256:
        raise ValueError(f"{path}: SHA-256 {found} differs from the recorded {sha256}; refusing to unpickle it")
    return pickle.loads(payload)  # trusted: our own artifact, hash-checked above
