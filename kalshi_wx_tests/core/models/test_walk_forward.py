"""Walking forward: the model a day trades with was trained before it."""

from __future__ import annotations

from datetime import date

import polars as pl

from kalshi_wx.core.models.walk_forward import latest_model_before


def test_latest_model_before_never_picks_a_window_reaching_the_day():
    ends = [date(2026, 6, 3), date(2026, 6, 10), date(2026, 6, 7)]
    artifacts = pl.DataFrame({"climate_date": ends, "sha256": ["a", "b", "c"]})
    assert latest_model_before(artifacts, date(2026, 6, 3)) is None  # its own last day is not "before"
    assert latest_model_before(artifacts, date(2026, 6, 4))["sha256"] == "a"
    assert latest_model_before(artifacts, date(2026, 6, 10))["sha256"] == "c"
    assert latest_model_before(artifacts, date(2026, 7, 1))["sha256"] == "b"
    assert latest_model_before(artifacts.head(0), date(2026, 7, 1)) is None
