"""PMF diagnostics shown as asset metadata: scores at fixed times of day and a reliability plot."""

import base64
from datetime import date, time, timedelta

import dagster as dg
import polars as pl

from kalshi_wx.core.pmf.scoring import score_times_utc, scores_at
from kalshi_wx.reports.markdown import markdown_table
from kalshi_wx.reports.plots import reliability_png


def scores_markdown(scores: pl.DataFrame, std_offset: int) -> str:
    local = (pl.col("ts") + pl.duration(hours=std_offset)).dt.strftime("%H:%M")
    return markdown_table(
        scores.select(
            local.alias("time (LST)"), "pmf", pl.col("brier").alias("Brier"), pl.col("log_loss").alias("log loss")
        )
    )


def _max_abs_error(sums: pl.Series) -> float:
    """Largest ``|sum - 1|`` over the minutes; 0 when there are none."""
    worst = (sums - 1).abs().max()
    return float(worst) if isinstance(worst, float | int) else 0.0


def pmf_diagnostics(
    fused: pl.DataFrame,
    winners: dict[str, bool] | None,
    climate_date: date,
    std_offset: int,
    times_lst: tuple[time, ...],
) -> dict:
    """Metadata: PMF sum check always; scores and the reliability plot once the day is settled."""
    sums = fused.group_by("ts").agg(pl.col("p_fused_norm").sum().alias("s"), pl.col("p_wx").sum().alias("w"))
    metadata: dict = {
        "max_abs_pmf_sum_error": max(_max_abs_error(sums["s"]), _max_abs_error(sums["w"])),
        "minutes_with_market_pmf": fused.filter(pl.col("p_mkt").is_not_null())["ts"].n_unique(),
    }
    if winners is None:
        return metadata
    times = score_times_utc(climate_date, std_offset, times_lst)
    scores = scores_at(fused, ["p_wx", "p_mkt", "p_fused_norm"], winners, times)
    for row in scores.iter_rows(named=True):
        local = row["ts"] + timedelta(hours=std_offset)
        metadata[f"brier_{row['pmf']}_{local:%H%M}"] = row["brier"]
    outcome = [winners[t] for t in fused["ticker"]]
    png = reliability_png(fused["p_wx"].to_list(), outcome, f"p_wx reliability, {climate_date}")
    metadata["scores"] = dg.MetadataValue.md(scores_markdown(scores, std_offset))
    metadata["p_wx_reliability"] = dg.MetadataValue.md(
        f"![p_wx reliability](data:image/png;base64,{base64.b64encode(png).decode()})"
    )
    return metadata
