"""Labels: the sign of a bracket's next mid move.

The target at minute t is the sign of ``mid(t + h) - mid(t)`` for each horizon h, on rows where the
mid moved by more than ``eps`` (a flat mid has no sign and is dropped). The label is the only place
a later row is read.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kalshi_wx.core.models.features import KEY_COLUMNS, require_columns


def label_column(horizon_min: int) -> str:
    return f"y_{horizon_min}m"


def add_labels(panel: pl.DataFrame, horizons_min: Sequence[int], eps: float) -> pl.DataFrame:
    """``panel`` with ``move_<h>m`` = mid(t + h) - mid(t) and ``y_<h>m`` (1 up, 0 down, null within eps).

    The later mid is found by timestamp (not row offset) within the same city, day and ticker, so a
    gap in the grid or the end of the day gives a null label rather than a wrong one.
    """
    require_columns(panel, (*KEY_COLUMNS, "mid"))
    out = panel
    for h in horizons_min:
        later = panel.select(
            *KEY_COLUMNS[:3],
            (pl.col("ts") - pl.duration(minutes=h)).alias("ts"),
            pl.col("mid").alias("_mid_later"),
        )
        move = pl.col("_mid_later") - pl.col("mid")
        out = (
            out.join(later, on=list(KEY_COLUMNS), how="left", maintain_order="left")
            .with_columns(
                move.alias(f"move_{h}m"),
                pl.when(move > eps).then(1).when(move < -eps).then(0).cast(pl.Int8).alias(label_column(h)),
            )
            .drop("_mid_later")
        )
    return out
