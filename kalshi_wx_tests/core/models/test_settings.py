"""Model settings and the training window."""

from __future__ import annotations

from datetime import date

import pytest

from kalshi_wx.core.models.settings import LabelSettings, ModelSettings, SplitSettings, TrainWindow
from kalshi_wx_tests.core.models.conftest import FIRST_DAY


def test_train_window_resolves_fixed_and_relative_windows():
    assert TrainWindow(start=FIRST_DAY, end=date(2026, 6, 5)).resolve(None) == (FIRST_DAY, date(2026, 6, 5))
    assert TrainWindow(last_days=5).resolve(date(2026, 6, 5)) == (FIRST_DAY, date(2026, 6, 5))
    with pytest.raises(ValueError, match="no day is settled"):
        TrainWindow(last_days=5).resolve(None)
    for bad in ({}, {"start": FIRST_DAY}, {"start": FIRST_DAY, "end": FIRST_DAY, "last_days": 3}, {"last_days": 2}):
        with pytest.raises(ValueError):
            TrainWindow(**bad)


def test_settings_refuse_bad_values():
    with pytest.raises(ValueError):
        LabelSettings(horizons_min=(0,))
    with pytest.raises(ValueError):
        SplitSettings(val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError):
        ModelSettings(calibration="platt")
