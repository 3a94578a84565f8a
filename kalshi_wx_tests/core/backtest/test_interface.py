from __future__ import annotations

import pytest

from kalshi_wx.core.backtest import BacktestConfig


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_exposure_dollars": 200.0}, "must be Decimal"),
        ({"order_ttl_minutes": 1}, "must be >= 2"),
        ({"queue_haircut": 1.5}, r"must lie in \[0, 1\]"),
        ({"exit_rule": "stop_loss"}, "expected one of hold, time"),
        ({"exit_after_minutes": 0}, "must be >= 1"),
    ],
)
def test_config_is_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BacktestConfig(**kwargs)
