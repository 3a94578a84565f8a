"""The model inputs: row-wise expressions of one ``features.minute_panel_full`` row.

Every input of the row at minute t is known at t (quotes are the book known at t; the lags, weather
and PMFs use data stamped <= t), so no feature can see the label's t + h. ``settled_*`` columns are
never read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

# Panel columns used as they are. Every one is known at t (see minute_panel.sql / schema.yml).
PANEL_FEATURES = (
    "yes_bid",
    "yes_ask",
    "mid",
    "spread",
    "has_quote",
    "volume",
    "mid_chg_1m",
    "mid_chg_5m",
    "mid_chg_15m",
    "mid_below_delta",
    "mid_above_delta",
    "obs_temp_f",
    "obs_age_min",
    "obs_running_max_f",
    "minutes_to_close",
    "p_wx",
    "hazard_next_5m",
    "hazard_next_60m",
    "p_mkt",
    "p_fused",
    "p_fused_norm",
)
# Row-wise combinations of the same row. Absolute lo_f / hi_f differ by city and season; their
# distance to the running max is what decides whether the bracket is still alive.
DERIVED_FEATURES: dict[str, pl.Expr] = {
    "edge_fused": pl.col("p_fused_norm") - pl.col("mid"),  # what a mid reverting to the fused PMF would close
    "edge_wx": pl.col("p_wx") - pl.col("mid"),
    "trade_vs_mid": pl.col("trade_price") - pl.col("mid"),  # null when nothing traded in the bar
    "lo_gap_f": pl.col("lo_f") - pl.col("obs_running_max_f"),  # null for the open-below bracket
    "hi_gap_f": pl.col("hi_f") - pl.col("obs_running_max_f"),  # null for the open-above bracket
}
FEATURES = PANEL_FEATURES + tuple(DERIVED_FEATURES)
# What the panel must hold: the features' inputs plus the keys the labels join on.
KEY_COLUMNS = ("city", "climate_date", "ticker", "ts")
REQUIRED_COLUMNS = (*KEY_COLUMNS, *PANEL_FEATURES, "trade_price", "lo_f", "hi_f")


def require_columns(panel: pl.DataFrame, columns: Sequence[str]) -> None:
    """Refuse a panel lacking any of ``columns``, naming them."""
    missing = [c for c in columns if c not in panel.columns]
    if missing:
        raise ValueError(f"panel lacks column(s) {', '.join(missing)} (expected features.minute_panel_full)")


def feature_frame(panel: pl.DataFrame) -> pl.DataFrame:
    """The model inputs, one row per panel row, in ``FEATURES`` order (Float64, null = unknown)."""
    require_columns(panel, REQUIRED_COLUMNS)
    return panel.select(
        *(pl.col(c).cast(pl.Float64) for c in PANEL_FEATURES),
        *(expr.cast(pl.Float64).alias(name) for name, expr in DERIVED_FEATURES.items()),
    )


def feature_matrix(frame: pl.DataFrame) -> np.ndarray:
    """``feature_frame`` output as the estimators' float matrix."""
    # Nulls become NaN: xgboost routes them natively, the logistic pipeline imputes them.
    return frame.to_numpy().astype(np.float64)
