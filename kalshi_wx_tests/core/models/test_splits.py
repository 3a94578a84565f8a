"""Day splits: whole climate days, chronological."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kalshi_wx.core.models.splits import SPLITS, split_by_date
from kalshi_wx_tests.core.models.conftest import FIRST_DAY


def test_split_is_by_whole_days_in_time_order():
    days = [FIRST_DAY + timedelta(days=i) for i in range(5)]
    rows = [d for d in reversed(days) for _ in range(100)]  # one entry per row, in any order
    split = split_by_date(rows)
    assert (split.train, split.val, split.test) == (tuple(days[:3]), (days[3],), (days[4],))
    ten = split_by_date([FIRST_DAY + timedelta(days=i) for i in range(10)], val_fraction=0.2, test_fraction=0.3)
    assert [len(ten.days(s)) for s in SPLITS] == [5, 2, 3]
    assert max(ten.train) < min(ten.val) and max(ten.val) < min(ten.test)


def test_split_with_explicit_windows_and_refusals():
    days = [FIRST_DAY + timedelta(days=i) for i in range(6)]
    split = split_by_date(
        days, windows={"train": (days[0], days[2]), "val": (days[3], days[3]), "test": (days[5], days[5])}
    )
    assert split.as_dict() == {
        "train": ["2026-06-01", "2026-06-02", "2026-06-03"],
        "val": ["2026-06-04"],
        "test": ["2026-06-06"],
    }
    with pytest.raises(ValueError, match="must end before"):
        split_by_date(days, windows={"train": (days[0], days[3]), "val": (days[3], days[4]), "test": (days[5],) * 2})
    with pytest.raises(ValueError, match="at least 3"):
        split_by_date(days[:2])
