"""The backtest report of a city over a range of climate days: the tables in, one self-contained HTML page out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from kalshi_wx.core.backtest.performance import daily_pnl, edge_by_hour, pnl_by_rung, strategy_summary
from kalshi_wx.core.brackets import brackets_of
from kalshi_wx.core.cities import City
from kalshi_wx.core.settlement import settled_winners
from kalshi_wx.reports.html import image_html, render_report, table_html
from kalshi_wx.reports.plots import equity_png, pnl_by_rung_png, reliability_png

NOTES = [
    "Fills are simulated: a resting order fills when later trades print through its price, and only a share "
    "(the queue haircut) of the volume printed at its price; taker orders fill at the known touch in full.",
    "Fees follow the series' fee type and multiplier, rounded up to the cent per order.",
    "Every decision at minute t uses only data known at t; quotes are the close of the bar that ended at t.",
    "Sharpe is per climate day (mean / sd of daily net PnL), not annualised.",
]


@dataclass(frozen=True)
class RangeReport:
    html: str
    summary: pl.DataFrame  # one row per strategy: the headline
    days: list[date]  # climate days with markets in the range


def _ladder_rungs(markets: pl.DataFrame) -> dict[str, int]:
    rungs: dict[str, int] = {}
    for _, day in markets.group_by("climate_date"):
        ordered = sorted(brackets_of(day), key=lambda b: -10_000 if b.lo is None else b.lo)
        rungs |= {b.ticker: i for i, b in enumerate(ordered)}
    return rungs


def _settled_outcomes(fused: pl.DataFrame, markets: pl.DataFrame, settlement: pl.DataFrame) -> pl.DataFrame:
    """p_fused_norm with the 0/1 outcome of its bracket, for settled days only."""
    won: dict[str, bool] = {}
    for (day,), day_markets in markets.group_by("climate_date"):
        won |= settled_winners(day_markets, settlement.filter(pl.col("climate_date") == day)) or {}
    return fused.filter(pl.col("ticker").is_in(list(won))).select(
        "p_fused_norm", pl.col("ticker").replace_strict(won, return_dtype=pl.Boolean).alias("won")
    )


def build_range_report(
    city: City,
    start: date,
    end: date,
    *,
    markets: pl.DataFrame,
    fills: pl.DataFrame,
    strategy_days: pl.DataFrame,
    fused: pl.DataFrame,
    settlement: pl.DataFrame,
) -> RangeReport:
    """The report from the range's rows of kalshi.markets, backtest.backtest_report (fills),
    backtest.strategy_days, pmf.fused_pmf and weather.settlement."""
    days = sorted(set(markets["climate_date"]))
    if not days:
        raise ValueError(f"no markets for {city.key} between {start} and {end}")
    # Unsettled days (settlement not published yet) are left out, fills and days alike.
    fills = fills.filter(pl.col("payout").is_not_null())
    ran = strategy_days.filter(pl.col("settled"))
    summary = strategy_summary(fills, ran)
    daily = daily_pnl(fills)
    calibration = _settled_outcomes(fused, markets, settlement)
    offset = city.std_utc_offset_hours
    title = f"Backtest {city.name} ({city.key}), {start} to {end}"
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
    return RangeReport(render_report(title, sections, NOTES), summary, days)
