"""What a training run is configured with (``config/models.yaml``): labels, splits, estimators, window."""

from __future__ import annotations

from dataclasses import field
from datetime import date, timedelta
from typing import Literal, get_args

from pydantic.dataclasses import dataclass as settings_dataclass

from kalshi_wx.core.config_types import SETTINGS_CONFIG, Real, Text, Whole

ModelKind = Literal["logreg", "xgboost"]
MODEL_KINDS: tuple[ModelKind, ...] = get_args(ModelKind)
MIN_DAYS = 3  # one day each for train, validation and test


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


CalibrationMethod = Literal["sigmoid", "isotonic"]
CALIBRATION_METHODS: tuple[CalibrationMethod, ...] = get_args(CalibrationMethod)


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
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"window end {self.end} is before start {self.start}")
        if self.last_days is not None and self.last_days < MIN_DAYS:
            raise ValueError(f"last_days {self.last_days} must be >= {MIN_DAYS} (train, validation, test)")

    def resolve(self, latest_settled: date | None) -> tuple[date, date]:
        """The inclusive (start, end) days; a relative window needs the latest settled day."""
        if self.last_days is None:
            assert self.start is not None and self.end is not None  # a fixed window (__post_init__)
            return self.start, self.end
        if latest_settled is None:
            raise ValueError(f"the window is the last {self.last_days} settled days, and no day is settled yet")
        return latest_settled - timedelta(days=self.last_days - 1), latest_settled

    def describe(self) -> str:
        return f"last {self.last_days} settled days" if self.last_days is not None else f"{self.start}..{self.end}"
