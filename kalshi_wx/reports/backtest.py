"""The backtest report for a city over a range of climate days, built from warehouse tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from kalshi_wx.config import backfill_command, city
from kalshi_wx.core.brackets import brackets_of
from kalshi_wx.core.performance import daily_pnl, edge_by_hour, pnl_by_rung, strategy_summary
from kalshi_wx.core.settlement import settled_winners
from kalshi_wx.reports.html import image_html, render_report, table_html
from kalshi_wx.reports.plots import equity_png, pnl_by_rung_png, reliability_png
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import BACKTEST_DAYS, BACKTEST_FILLS, FUSED_PMF, MARKETS, SETTLEMENT

NOTES = [
    "Fills are simulated: a resting order fills when later trades print through its price, and only a share "
    "(the queue haircut) of the volume printed at its price; taker orders fill at the known touch in full.",
    "Fees follow the series' fee type and multiplier, rounded up to the cent per order.",
    "Every decision at minute t uses only data known at t; quotes are the close of the bar that ended at t.",
    "Sharpe is per climate day (mean / sd of daily net PnL), not annualised.",
]


@dataclass(frozen=True)
class RangeReport:
    path: Path
    summary: pl.DataFrame
    days: list[date]


def _ladder_rungs(markets: pl.DataFrame) -> dict[str, int]:
    rungs = {}
    for _, day in markets.group_by("climate_date"):
        ordered = sorted(brackets_of(day), key=lambda b: -10_000 if b.lo is None else b.lo)
        rungs |= {b.ticker: i for i, b in enumerate(ordered)}
    return rungs


def _settled_outcomes(fused: pl.DataFrame, markets: pl.DataFrame, settlement: pl.DataFrame) -> pl.DataFrame:
    """p_fused_norm with the 0/1 outcome of its bracket, for settled days only."""
    won = {}
    for (day,), day_markets in markets.group_by("climate_date"):
        won |= settled_winners(day_markets, settlement.filter(pl.col("climate_date") == day)) or {}
    return fused.filter(pl.col("ticker").is_in(list(won))).select(
        "p_fused_norm", pl.col("ticker").replace_strict(won, return_dtype=pl.Boolean).alias("won")
    )


def build_range_report(warehouse: Warehouse, city_key: str, start: date, end: date, out_dir: Path) -> RangeReport:
    markets = warehouse.read(MARKETS, city=city_key, dates=(start, end))
    days = sorted(set(markets["climate_date"]))
    if not days:
        raise ValueError(
            f"no markets for {city_key} between {start} and {end}: materialize the daily graph first, e.g. "
            f"{backfill_command(city_key, start, end)}"
        )
    fills = warehouse.read(BACKTEST_FILLS, city=city_key, dates=(start, end)).filter(pl.col("payout").is_not_null())
    # Unsettled days (settlement not published yet) are left out, like their fills.
    ran = warehouse.read(BACKTEST_DAYS, city=city_key, dates=(start, end)).filter(pl.col("settled"))
    summary = strategy_summary(fills, ran)
    daily = daily_pnl(fills)
    calibration = _settled_outcomes(
        warehouse.read(FUSED_PMF, city=city_key, dates=(start, end)),
        markets,
        warehouse.read(SETTLEMENT, city=city_key, dates=(start, end)),
    )
    offset = city(city_key).std_utc_offset_hours
    title = f"Backtest {city(city_key).name} ({city_key}), {start} to {end}"
    sections = [
        ("Headline", table_html(summary)),
        ("Equity curve", image_html(equity_png(daily, "cumulative net PnL"), "equity curve")),
        (
            "Calibration of p_fused_norm",
            image_html(
                reliability_png(calibration["p_fused_norm"].to_numpy(), calibration["won"].to_numpy(), "p_fused_norm"),
                "calibration",
            )
            if calibration.height
            else '<p class="note">no settled days in range</p>',
        ),
        (
            "PnL by bracket",
            image_html(pnl_by_rung_png(pnl_by_rung(fills, _ladder_rungs(markets)), "net PnL by ladder rung"), "pnl"),
        ),
        ("Edge by time of day (local standard time)", table_html(edge_by_hour(fills, offset))),
        ("Daily PnL", table_html(daily.with_columns(pl.col("turnover", "gross", "fees", "net").cast(pl.Float64)))),
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"backtest_{city_key}_{start}_{end}.html"
    path.write_text(render_report(title, sections, NOTES))
    return RangeReport(path, summary, days)
