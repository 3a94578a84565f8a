"""Matplotlib figures as PNG bytes (headless), for reports and Dagster metadata."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display on servers or CI

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import polars as pl  # noqa: E402

from kalshi_wx.core.pmf.scoring import reliability_table  # noqa: E402


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def reliability_png(p, outcome, title: str) -> bytes:
    table = reliability_table(p, outcome)
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect")
    ax.scatter(table["mean_p"], table["frequency"], s=[20 + n / 20 for n in table["n"]], color="tab:blue")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="forecast probability", ylabel="observed frequency", title=title)
    return _png(fig)


def equity_png(daily: pl.DataFrame, title: str) -> bytes:
    """Cumulative net PnL per strategy over climate days (``daily``: strategy, climate_date, net)."""
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    # Climate days are categories, not instants: a date axis would invent hour ticks between them.
    all_days = sorted({d.isoformat() for d in daily["climate_date"]})
    ax.plot(all_days, [0.0] * len(all_days), alpha=0)  # puts every day on the axis, in order
    for i, strategy in enumerate(sorted(set(daily["strategy"]))):
        rows = daily.filter(pl.col("strategy") == strategy).sort("climate_date")
        days = [d.isoformat() for d in rows["climate_date"]]
        ax.plot(days, rows["net"].cast(pl.Float64).cum_sum(), marker="o", label=strategy, color=f"C{i}")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set(title=title, ylabel="cumulative net PnL ($)")
    ax.legend(loc="best")
    fig.autofmt_xdate()
    return _png(fig)


def pnl_by_rung_png(by_rung: pl.DataFrame, title: str) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    strategies = sorted(set(by_rung["strategy"])) or ["(no fills)"]
    width = 0.8 / len(strategies)
    for i, strategy in enumerate(strategies):
        rows = by_rung.filter(pl.col("strategy") == strategy)
        # Colour by the sorted strategy, as in equity_png, so a strategy keeps its colour across plots.
        ax.bar([r + i * width for r in rows["rung"]], rows["net"], width=width, label=strategy, color=f"C{i}")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set(title=title, xlabel="ladder rung (0 = lowest bracket)", ylabel="net PnL ($)")
    ax.set_xticks(sorted(set(by_rung["rung"])) if by_rung.height else [])
    ax.legend(loc="best")
    return _png(fig)
