"""Train / validation / test splits by whole climate days.

Minutes of one day are strongly correlated, so a row split would put a day's neighbours on both
sides and flatter the test score. Days are assigned chronologically (train earliest, then
validation, then test). Each model is fitted on the train days, calibrated on the validation days
and scored on the test days.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from kalshi_wx.core.models.settings import MIN_DAYS

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class DateSplit:
    train: tuple[date, ...]
    val: tuple[date, ...]
    test: tuple[date, ...]

    def days(self, split: str) -> tuple[date, ...]:
        days: tuple[date, ...] = getattr(self, split)
        return days

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
