"""PMF diagnostics shown as asset metadata: scores at fixed times of day and a reliability plot."""

import base64
import io
from datetime import date, datetime, time, timedelta

import dagster as dg
import polars as pl

from kalshi_wx.core.brackets import Bracket
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.scoring import reliability_table, scores_at


def settled_winners(markets: pl.DataFrame, settlement: pl.DataFrame) -> dict[str, bool] | None:
    """Ticker -> settled YES from the official CLI max; None until the day is settled."""
    if settlement.is_empty():
        return None
    max_f = settlement["max_f"][0]
    return {r["ticker"]: Bracket(r["ticker"], r["lo_f"], r["hi_f"]).wins(max_f) for r in markets.iter_rows(named=True)}


def score_times_utc(climate_date: date, std_offset: int, times_lst: tuple[time, ...]) -> list[datetime]:
    start, _ = climate_day_window(climate_date, std_offset)
    return [start + timedelta(hours=t.hour, minutes=t.minute) for t in times_lst]


def scores_markdown(scores: pl.DataFrame, std_offset: int) -> str:
    lines = ["| time (LST) | pmf | Brier | log loss |", "|---|---|---|---|"]
    for row in scores.iter_rows(named=True):
        local = row["ts"] + timedelta(hours=std_offset)
        lines.append(f"| {local:%H:%M} | {row['pmf']} | {row['brier']:.4f} | {row['log_loss']:.4f} |")
    return "\n".join(lines)


def reliability_png(p: list[float], outcome: list[bool], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers or CI
    import matplotlib.pyplot as plt

    table = reliability_table(p, outcome)
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    ax.scatter(table["mean_p"], table["frequency"], s=[20 + n / 20 for n in table["n"]], color="tab:blue")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="forecast probability", ylabel="observed frequency", title=title)
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


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
        "max_abs_pmf_sum_error": float(max((sums["s"] - 1).abs().max() or 0.0, (sums["w"] - 1).abs().max() or 0.0)),
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
