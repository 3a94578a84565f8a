"""The hazard Monte Carlo's arrays as the ``pmf.hazard_pmf`` frame, shared by the asset and the live path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from kalshi_wx.core.brackets import Bracket
from kalshi_wx.core.pmf.hazard import HazardResult


def hazard_frame(result: HazardResult, ladder: Sequence[Bracket], window: tuple[datetime, datetime]) -> pl.DataFrame:
    """ticker, ts, running_max_f, p_wx, hazard_next_5m, hazard_next_60m: one row per bracket and minute."""
    minutes = pl.datetime_range(
        window[0], window[1] - timedelta(minutes=1), interval="1m", time_unit="us", time_zone="UTC", eager=True
    )
    return pl.concat(
        [
            pl.DataFrame(
                {
                    "ticker": bracket.ticker,
                    "ts": minutes,
                    "running_max_f": result.running_max_f,
                    "p_wx": result.p_wx[:, j],
                    "hazard_next_5m": result.hazard_next_5m,
                    "hazard_next_60m": result.hazard_next_60m,
                }
            )
            for j, bracket in enumerate(ladder)
        ]
    )
