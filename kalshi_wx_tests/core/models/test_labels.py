"""Labels: the sign of the next mid move beyond eps, found by time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from kalshi_wx.core.models.labels import add_labels


def _ladder_rows(mids: list[float | None], minutes: list[int] | None = None) -> pl.DataFrame:
    start = datetime(2026, 6, 1, 5, tzinfo=UTC)
    minutes = minutes if minutes is not None else list(range(len(mids)))
    return pl.DataFrame(
        {
            "city": "nyc",
            "climate_date": date(2026, 6, 1),
            "ticker": "A",
            "ts": [start + timedelta(minutes=m) for m in minutes],
            "mid": mids,
        }
    )


def test_labels_are_the_sign_of_the_next_move_beyond_eps():
    rows = _ladder_rows([0.50, 0.52, 0.52, 0.49, None, 0.50])
    labelled = add_labels(rows, [1, 2], eps=0.001)
    # 0.52 -> 0.52 is within eps; a missing mid at t or t + h, or past the last minute, is no label.
    assert labelled["y_1m"].to_list() == [1, None, 0, None, None, None]
    assert labelled["y_2m"].to_list() == [1, 0, None, 1, None, None]
    assert labelled["move_1m"][0] == pytest.approx(0.02)


def test_labels_find_the_later_mid_by_time_not_by_row():
    rows = _ladder_rows([0.50, 0.60, 0.40], minutes=[0, 2, 3])  # minute 1 is missing from the grid
    assert add_labels(rows, [1], eps=0.001)["y_1m"].to_list() == [None, 0, None]
