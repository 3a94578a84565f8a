"""Backtest performance from a fills table: daily PnL, Sharpe by day, drawdown, edge by hour, PnL by rung.

A fill row carries its own settlement (``payout`` per contract, 1 or 0 dollars) and ``fee``, so a
range of days can be rolled up without re-running the engine. Money stays Decimal until the
statistics, which are floats by nature.
"""

from __future__ import annotations

import math
from typing import cast

import polars as pl

# Premium paid over fills: price per contract of the side bought x count (Decimal dollars).
TURNOVER = (pl.col("price") * pl.col("count")).sum().alias("turnover")


def with_pnl(fills: pl.DataFrame) -> pl.DataFrame:
    """Add gross and net PnL per fill: count * (payout - price) for the contract bought, less the fee.

    ``price`` is what was paid per contract of the side bought (YES price for YES, 1 - YES price for NO),
    ``payout`` what that contract settled at; both in dollars.
    """
    return fills.with_columns(
        gross=(pl.col("payout") - pl.col("price")) * pl.col("count"),
    ).with_columns(net=pl.col("gross") - pl.col("fee"))


def daily_pnl(fills: pl.DataFrame) -> pl.DataFrame:
    """Per strategy and climate day: contracts, turnover, gross, fees and net (Decimal)."""
    return (
        with_pnl(fills)
        .group_by("strategy", "climate_date")
        .agg(
            pl.col("count").sum().alias("contracts"),
            TURNOVER,
            pl.col("gross").sum(),
            pl.col("fee").sum().alias("fees"),
            pl.col("net").sum(),
            pl.len().alias("fills"),
        )
        .sort("strategy", "climate_date")
    )


def max_drawdown(cumulative: list[float]) -> float:
    """Largest fall from a running peak (the peak starts at 0: a losing first day is a drawdown)."""
    peak, worst = 0.0, 0.0
    for value in cumulative:
        peak = max(peak, value)
        worst = max(worst, peak - value)
    return worst


def sharpe_by_day(net_by_day: list[float]) -> float | None:
    """Mean over standard deviation of daily net PnL (not annualised); None with < 2 days or no spread."""
    if len(net_by_day) < 2:
        return None
    mean = sum(net_by_day) / len(net_by_day)
    var = sum((x - mean) ** 2 for x in net_by_day) / (len(net_by_day) - 1)
    return None if var == 0 else mean / math.sqrt(var)


def strategy_summary(fills: pl.DataFrame, strategy_days: pl.DataFrame) -> pl.DataFrame:
    """Headline numbers per strategy over the days it ran (``strategy_days``: strategy, climate_date).

    A day the strategy ran without a fill counts as a flat day; a day it did not run (model_move
    before its first model) does not count at all.
    """
    daily = daily_pnl(fills)
    rows = []
    for strategy in sorted(set(strategy_days["strategy"])):
        days = sorted(strategy_days.filter(pl.col("strategy") == strategy)["climate_date"])
        mine = daily.filter(pl.col("strategy") == strategy)
        by_day = {r["climate_date"]: float(r["net"]) for r in mine.iter_rows(named=True)}
        stray = sorted(set(by_day) - set(days))
        if stray:
            raise ValueError(f"{strategy} has fills on {stray[0]}, a day it is not recorded as having run")
        series = [by_day.get(d, 0.0) for d in days]
        cumulative = [sum(series[: i + 1]) for i in range(len(series))]
        settled = with_pnl(fills.filter(pl.col("strategy") == strategy))
        rows.append(
            {
                "strategy": strategy,
                "days": len(days),
                "fills": int(mine["fills"].sum()),
                "contracts": int(mine["contracts"].sum()),
                "turnover": float(mine["turnover"].sum()),
                "gross": float(mine["gross"].sum()),
                "fees": float(mine["fees"].sum()),
                "net": float(mine["net"].sum()),
                # polars types Series.mean() as any scalar; a boolean column's mean is a float.
                "hit_rate": float(cast(float, (settled["gross"] > 0).mean())) if settled.height else None,
                "max_drawdown": max_drawdown(cumulative),
                "sharpe_by_day": sharpe_by_day(series),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "strategy": pl.Utf8,
            "days": pl.Int64,
            "fills": pl.Int64,
            "contracts": pl.Int64,
            "turnover": pl.Float64,
            "gross": pl.Float64,
            "fees": pl.Float64,
            "net": pl.Float64,
            "hit_rate": pl.Float64,
            "max_drawdown": pl.Float64,
            "sharpe_by_day": pl.Float64,
        },  # fmt: skip
    )


def edge_by_hour(fills: pl.DataFrame, std_utc_offset_hours: int) -> pl.DataFrame:
    """Mean realised edge per contract (payout - price) by hour of the climate day (local standard time)."""
    return (
        with_pnl(fills)
        .with_columns(hour_lst=(pl.col("ts") + pl.duration(hours=std_utc_offset_hours)).dt.hour())
        .group_by("strategy", "hour_lst")
        .agg(
            (pl.col("gross").sum() / pl.col("count").sum()).cast(pl.Float64).alias("edge_per_contract"),
            pl.col("count").sum().alias("contracts"),
        )
        .sort("strategy", "hour_lst")
    )


def pnl_by_rung(fills: pl.DataFrame, rungs: dict[str, int]) -> pl.DataFrame:
    """Net PnL by position in the ladder (0 = the open-below tail), comparable across days."""
    return (
        with_pnl(fills)
        .with_columns(rung=pl.col("ticker").replace_strict(rungs, return_dtype=pl.Int32))
        .group_by("strategy", "rung")
        .agg(pl.col("net").sum().cast(pl.Float64))
        .sort("strategy", "rung")
    )
