"""Synthetic feature panels for the model tests, and a model trained on one with a learnable signal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from kalshi_wx.core.models.settings import ModelSettings, XgbSettings
from kalshi_wx.core.models.train import train_cross_bracket_models

FIRST_DAY = date(2026, 6, 1)
# Small and fast, but the same code path as the config defaults.
FAST = ModelSettings(xgboost=XgbSettings(n_estimators=60, max_depth=3, learning_rate=0.1))


def synthetic_panel(*, signal: bool, n_days: int = 8, n_tickers: int = 4, minutes: int = 360, seed: int = 0):
    """A minute_panel_full lookalike. With ``signal`` the mid reverts toward ``p_fused_norm`` (learnable
    from ``edge_fused``); without it the mid is a random walk whose steps no feature at t can foresee."""
    rng = np.random.default_rng(seed)
    frames = []
    for d in range(n_days):
        day = FIRST_DAY + timedelta(days=d)
        start = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
        ts = [start + timedelta(minutes=i) for i in range(minutes)]
        for k in range(n_tickers):
            fair = np.clip(0.5 + np.cumsum(rng.normal(0, 0.01, minutes)), 0.05, 0.95)
            mid = np.empty(minutes)
            mid[0] = fair[0]
            pull = 0.3 if signal else 0.0
            for i in range(1, minutes):
                mid[i] = mid[i - 1] + pull * (fair[i - 1] - mid[i - 1]) + rng.normal(0, 0.01)
            spread = rng.choice([0.01, 0.02, 0.03], minutes)
            temp = 70 + np.cumsum(rng.normal(0, 0.05, minutes))
            frames.append(
                pl.DataFrame(
                    {
                        "city": "nyc",
                        "climate_date": day,
                        "ticker": f"KXSYN-{k}",
                        "ts": ts,
                        "lo_f": 70 + 2 * k,
                        "hi_f": 71 + 2 * k,
                        "yes_bid": mid - spread / 2,
                        "yes_ask": mid + spread / 2,
                        "mid": mid,
                        "spread": spread,
                        "has_quote": True,
                        "volume": rng.poisson(2, minutes).astype(float),
                        "trade_price": np.where(rng.random(minutes) < 0.3, mid, np.nan),
                        "obs_temp_f": temp,
                        "obs_age_min": (np.arange(minutes) % 5).astype(float),
                        "obs_running_max_f": np.maximum.accumulate(temp),
                        "minutes_to_close": (1440 - np.arange(minutes)).astype(float),
                        "p_wx": fair,
                        "hazard_next_5m": rng.random(minutes) * 0.1,
                        "hazard_next_60m": rng.random(minutes) * 0.5,
                        "pmf_running_max_f": np.maximum.accumulate(temp),
                        "p_mkt": mid,
                        "p_fused": fair,
                        "p_fused_norm": fair,
                        # Decided by the end of the day: a model must never see it.
                        "settled_max_f": 72,
                        "settlement_report_type": "final",
                        "settled_yes": int(k == 1),
                    },
                    nan_to_null=True,
                )
            )
    panel = pl.concat(frames).sort("ticker", "ts")
    by_ticker = ["climate_date", "ticker"]
    return panel.with_columns(
        (pl.col("mid") - pl.col("mid").shift(n).over(by_ticker)).alias(f"mid_chg_{n}m") for n in (1, 5, 15)
    ).with_columns(mid_below_delta=pl.lit(None, pl.Float64), mid_above_delta=pl.lit(None, pl.Float64))


@pytest.fixture(scope="module")
def learnable():
    panel = synthetic_panel(signal=True)
    return panel, train_cross_bracket_models(panel, FAST, seed=11)
