"""Walking forward: a day is traded only with a model trained on days before it."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl


def latest_model_before(artifacts: pl.DataFrame, day: date) -> dict[str, Any] | None:
    """The training run (a ``models.artifacts`` row) whose window ended last before ``day``, or None.

    ``climate_date`` is the window's last day and every split lies inside the window, so such a
    model saw nothing from ``day`` on: using it to trade ``day`` is out of sample.
    """
    earlier = artifacts.filter(pl.col("climate_date") < day)
    if earlier.height == 0:
        return None
    return earlier.sort("climate_date").row(-1, named=True)
