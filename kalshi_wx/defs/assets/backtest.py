"""Fee-aware backtest of the built-in strategies on one city and climate day.

No `from __future__ import annotations` here: Dagster validates the `context` annotation.
"""

import dagster as dg
import polars as pl

from kalshi_wx.config import city
from kalshi_wx.core.backtest import BacktestConfig, FusedEdgeStrategy, backtest_inputs, fee_schedule, run_backtest
from kalshi_wx.core.settlement import settled_winners
from kalshi_wx.defs.assets.common import MARKETS_INPUT, warehouse_asset
from kalshi_wx.defs.partitions import city_and_date
from kalshi_wx.reports.markdown import markdown_table
from kalshi_wx.warehouse.schemas import BACKTEST_FILLS

# Each strategy is the fused-edge rule on a different probability: the fused PMF, and the weather
# model alone as the benchmark the fusion has to beat.
STRATEGY_SIGNALS = {"fused_edge": "p_fused_norm", "wx_edge": "p_wx"}


@warehouse_asset(
    "backtest",
    "backtest_report",
    source_kind="polars",
    ins={
        **MARKETS_INPUT,
        "candles_1m": dg.AssetIn(["kalshi", "candles_1m"]),
        "trades": dg.AssetIn(["kalshi", "trades"]),
        "series": dg.AssetIn(["kalshi", "series"]),
        "fused_pmf": dg.AssetIn(["pmf", "fused_pmf"]),
        "settlement": dg.AssetIn(["weather", "settlement"]),
    },
)
def backtest_report(
    context: dg.AssetExecutionContext,
    markets: pl.DataFrame,
    candles_1m: pl.DataFrame,
    trades: pl.DataFrame,
    series: pl.DataFrame,
    fused_pmf: pl.DataFrame,
    settlement: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Simulated fills and fee-aware PnL of the fused-edge strategy (and weather-only) for the day."""
    city_key, day = city_and_date(context.partition_key)
    cfg = city(city_key)
    fees = fee_schedule(series, cfg.series)
    settled = settled_winners(markets, settlement)
    config = BacktestConfig()
    frames, rows = [], []
    for name, column in STRATEGY_SIGNALS.items():
        book, prints, signal = backtest_inputs(candles_1m, trades, fused_pmf, signal_column=column)
        result = run_backtest(book, prints, signal, FusedEdgeStrategy(), fees, settled, config)
        frames.append(
            result.fills.select(
                pl.lit(city_key).alias("city"),
                pl.lit(day).alias("climate_date"),
                pl.lit(name).alias("strategy"),
                *[c for c in BACKTEST_FILLS.columns if c not in ("city", "climate_date", "strategy")],
            )
        )
        rows.append(
            {
                "strategy": name,
                "fills": result.metrics["n_fills"],
                "gross $": str(result.pnl.gross),
                "fees $": str(result.pnl.fees),
                "net $": str(result.pnl.net),
            }
        )
        context.log.info(
            f"{name}: {result.metrics['n_fills']} fills, net {result.pnl.net} (settled {result.pnl.settled})"
        )
    summary = markdown_table(pl.DataFrame(rows))
    return dg.Output(
        pl.concat(frames),
        metadata={
            "summary": dg.MetadataValue.md(summary),
            "settled": settled is not None,
            "fee_type": fees.fee_type,
        },
    )
