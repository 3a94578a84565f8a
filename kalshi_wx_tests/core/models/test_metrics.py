"""Scores of predicted probabilities."""

from __future__ import annotations

import pytest

from kalshi_wx.core.models.metrics import expected_calibration_error


def test_expected_calibration_error_on_known_cases():
    assert expected_calibration_error([0.05, 0.05, 0.95, 0.95], [0, 0, 1, 1]) == pytest.approx(0.05)
    assert expected_calibration_error([0.25] * 4, [1, 0, 0, 0]) == pytest.approx(0.0)
    # Half the rows in bin 1 (p = 0.1, all up), half in bin 8 (p = 0.85, all up).
    assert expected_calibration_error([0.1] * 5 + [0.85] * 5, [1] * 10) == pytest.approx(0.5 * 0.9 + 0.5 * 0.15)
    assert expected_calibration_error([1.0, 0.0], [1, 0]) == pytest.approx(0.0)  # 1.0 is in the last bin
    with pytest.raises(ValueError):
        expected_calibration_error([], [])
