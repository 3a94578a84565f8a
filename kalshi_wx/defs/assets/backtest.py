"""Fee-aware backtests: the built-in strategies on one city and climate day, and a city's range report.

Settings come from ``config/backtest.yaml``. The model-driven strategy trades a day only with the
model whose training window ended last before that day (``models.artifacts``); before any such
model exists it is left out of the day, and the metadata says so.

No `from __future__ import annotations` here: Dagster validates the `context` annotation.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from kalshi_wx.core.backtest import (
    BacktestConfig,
    FusedEdgeStrategy,
    MoveSignalStrategy,
    Strategy,
    backtest_inputs,
    fee_schedule,
    run_backtest,
)
from kalshi_wx.core.backtest.performance import TURNOVER
from kalshi_wx.core.models.train import TrainedModels, move_signal
from kalshi_wx.core.models.walk_forward import latest_model_before
from kalshi_wx.core.settlement import settled_winners
from kalshi_wx.defs.assets.common import MARKETS_INPUT, OWNERS, WAREHOUSE_POOL, warehouse_out
from kalshi_wx.defs.automation import REFRESH_ON_UPSTREAM_UPDATE
from kalshi_wx.defs.partitions import (
    city_and_date,
    city_date_partitions,
    city_of,
    city_of_city_day,
    city_partitions,
    partition_day,
)
from kalshi_wx.defs.settings import BacktestSettings, backfill_command, kalshi_wx_home, settings, storage_kind
from kalshi_wx.reports.backtest import build_range_report
from kalshi_wx.reports.markdown import markdown_table
from kalshi_wx.warehouse.artifacts import load_model
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import (
    BACKTEST_DAYS,
    BACKTEST_FILLS,
    FUSED_PMF,
    MARKETS,
    MODEL_ARTIFACTS,
    PANEL,
    SETTLEMENT,
)

SETTINGS: BacktestSettings = settings().backtest

# The fused-edge rule on two probabilities: the fused PMF, and the weather model alone as the
# benchmark the fusion has to beat. Both hold to settlement.
STRATEGY_SIGNALS = {"fused_edge": "p_fused_norm", "wx_edge": "p_wx"}
MODEL_STRATEGY = MoveSignalStrategy.name

# The day's model is picked from the city's models.artifacts rows (every training window so far).
MODEL_ARTIFACTS_DEP = dg.AssetDep(
    ["models", "artifacts"],
    partition_mapping=city_of_city_day,
)


@dataclass(frozen=True)
class StrategyRun:
    name: str
    strategy: Strategy
    signal: pl.DataFrame
    signal_column: str
    config: BacktestConfig
    model_sha256: str | None = None


def _model_run(warehouse: Warehouse, city_key: str, day: date) -> tuple[StrategyRun | None, str]:
    """The model-driven run for the day, or None, with a line saying which model (or why none)."""
    settings = SETTINGS.model_move
    artifact = latest_model_before(warehouse.read(MODEL_ARTIFACTS, city=city_key), day)
    if artifact is None:
        return None, f"none: no {city_key} model was trained on a window ending before {day}"
    path = kalshi_wx_home() / artifact["path"]
    try:
        models = load_model(path, artifact["sha256"])
    except FileNotFoundError:
        raise dg.Failure(
            description=(
                f"models.artifacts points {city_key} at {path}, which does not exist under KALSHI_WX_HOME "
                f"({kalshi_wx_home()}); re-materialize models/cross_bracket_model for {city_key} on this machine"
            )
        ) from None
    except ValueError as exc:
        raise dg.Failure(description=str(exc)) from None
    if not isinstance(models, TrainedModels):
        raise dg.Failure(description=f"{path} holds a {type(models).__name__}, not the TrainedModels of a training run")
    panel = warehouse.read(PANEL, city=city_key, climate_date=day)
    signal = move_signal(models, panel, settings.horizon_min, settings.model)
    used = (
        f"{settings.model}, {settings.horizon_min}-min moves, trained on {artifact['window_start']}.."
        f"{artifact['climate_date']} (sha256 {artifact['sha256'][:12]})"
    )
    strategy = MoveSignalStrategy(settings.up_above)
    config = SETTINGS.model_move_config()
    return StrategyRun(MODEL_STRATEGY, strategy, signal, "p_up", config, artifact["sha256"]), used


@dg.multi_asset(
    outs={
        "backtest_report": warehouse_out(
            "backtest",
            "backtest_report",
            "Simulated fills and fee-aware PnL of the fused-edge, weather-only and model-driven strategies.",
            automation_condition=REFRESH_ON_UPSTREAM_UPDATE,
        ),
        "strategy_days": warehouse_out(
            "backtest",
            "strategy_days",
            "Each strategy's day: orders, fills, turnover, PnL, hit rate, drawdown.",
            automation_condition=REFRESH_ON_UPSTREAM_UPDATE,
        ),
    },
    name="backtest__backtest_report",
    group_name="backtest",
    partitions_def=city_date_partitions,
    pool=WAREHOUSE_POOL,
    ins={
        **MARKETS_INPUT,
        "candles_1m": dg.AssetIn(["kalshi", "candles_1m"]),
        "trades": dg.AssetIn(["kalshi", "trades"]),
        "series": dg.AssetIn(["kalshi", "series"]),
        "fused_pmf": dg.AssetIn(["pmf", "fused_pmf"]),
        "settlement": dg.AssetIn(["weather", "settlement"]),
    },
    deps=[["features", "minute_panel_full"], MODEL_ARTIFACTS_DEP],
)
def backtest_report(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    markets: pl.DataFrame,
    candles_1m: pl.DataFrame,
    trades: pl.DataFrame,
    series: pl.DataFrame,
    fused_pmf: pl.DataFrame,
    settlement: pl.DataFrame,
):
    """Fills and per-strategy day totals of the built-in strategies on the day, fee-aware."""
    p = partition_day(context)
    city_key, day = p.city.key, p.day
    fees = fee_schedule(series, p.city.series)
    settled = settled_winners(markets, settlement)
    runs = [
        StrategyRun(name, FusedEdgeStrategy(SETTINGS.fused_edge.margin), fused_pmf, column, SETTINGS.engine)
        for name, column in STRATEGY_SIGNALS.items()
    ]
    model_run, model_used = _model_run(warehouse, city_key, day)
    context.log.info(f"{MODEL_STRATEGY} model: {model_used}")
    if model_run is not None:
        runs.append(model_run)
    frames, days = [], []
    for run in runs:
        book, prints, signal = backtest_inputs(candles_1m, trades, run.signal, signal_column=run.signal_column)
        result = run_backtest(book, prints, signal, run.strategy, fees, settled, run.config)
        frames.append(
            result.fills.select(
                pl.lit(city_key).alias("city"),
                pl.lit(day).alias("climate_date"),
                pl.lit(run.name).alias("strategy"),
                *[c for c in BACKTEST_FILLS.columns if c not in ("city", "climate_date", "strategy")],
            )
        )
        m = result.metrics
        days.append(
            {
                "city": city_key,
                "climate_date": day,
                "strategy": run.name,
                "exit_rule": run.config.exit_rule,
                "model_sha256": run.model_sha256,
                "n_orders": m["n_orders"],
                "n_fills": m["n_fills"],
                "contracts": m["contracts"],
                "turnover": result.fills.select(TURNOVER).item(),
                "gross": result.pnl.gross,
                "fees": result.pnl.fees,
                "net": result.pnl.net,
                "hit_rate": m["hit_rate"],
                "max_drawdown": m["max_drawdown_dollars"],
                "settled": result.pnl.settled,
            }
        )
        context.log.info(f"{run.name}: {m['n_fills']} fills, net {result.pnl.net} (settled {result.pnl.settled})")
    strategy_days = pl.DataFrame(days, schema=BACKTEST_DAYS.columns)
    summary = strategy_days.select(
        "strategy",
        pl.col("exit_rule").alias("exit"),
        pl.col("n_fills").alias("fills"),
        *(pl.col(c).cast(pl.Utf8).alias(f"{c} $") for c in ("turnover", "gross", "fees", "net")),
        pl.col("hit_rate").round(3),
        pl.col("max_drawdown").round(2).alias("max drawdown $"),
    )
    yield dg.Output(
        pl.concat(frames),
        output_name="backtest_report",
        metadata={
            "summary": dg.MetadataValue.md(markdown_table(summary)),
            "model": model_used,
            "settled": settled is not None,
            "fee_type": fees.fee_type,
        },
    )
    yield dg.Output(strategy_days, output_name="strategy_days")


BACKTEST_REPORT = dg.AssetKey(["backtest", "backtest_report"])
STRATEGY_DAYS = dg.AssetKey(["backtest", "strategy_days"])


class ReportRangeConfig(dg.Config):
    """Climate days of the report, YYYY-MM-DD inclusive (default: every day backtested for the city), and where."""

    start: str | None = None
    end: str | None = None
    out_dir: str | None = None  # default $KALSHI_WX_HOME/artifacts/reports


def _report_range(context: dg.AssetExecutionContext, config: ReportRangeConfig, city_key: str) -> tuple[date, date]:
    try:
        start, end = [None if v is None else date.fromisoformat(v) for v in (config.start, config.end)]
    except ValueError as exc:
        raise dg.Failure(description=f"run config start/end: {exc} (expected YYYY-MM-DD)") from None
    if start is None or end is None:
        done = sorted(
            city_and_date(key)[1]
            for key in context.instance.get_materialized_partitions(BACKTEST_REPORT)
            if city_and_date(key)[0] == city_key
        )
        if not done:
            raise dg.Failure(
                description=(
                    f"backtest/backtest_report has no materialized day for {city_key}: backfill some first, e.g. "
                    f"{backfill_command(city_key)}"
                )
            )
        start, end = start or done[0], end or done[-1]
    if end < start:
        raise dg.Failure(description=f"report range end {end} is before start {start}")
    return start, end


@dg.asset(
    key=["backtest", "backtest_range_report"],
    group_name="backtest",
    kinds={"html", storage_kind()},
    owners=OWNERS,
    partitions_def=city_partitions,
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetDep(key, partition_mapping=city_of_city_day) for key in (BACKTEST_REPORT, STRATEGY_DAYS)],
)
def backtest_range_report(
    context: dg.AssetExecutionContext, config: ReportRangeConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    """A city's backtests over a range of days as one HTML report: headline, equity, calibration, PnL by bracket."""
    city_key = city_of(context.partition_key)
    start, end = _report_range(context, config, city_key)
    span: dict[str, Any] = {"city": city_key, "dates": (start, end)}
    markets = warehouse.read(MARKETS, **span)
    if markets.is_empty():
        raise dg.Failure(
            description=(
                f"no markets for {city_key} between {start} and {end}: materialize the daily graph first, e.g. "
                f"{backfill_command(city_key, start, end)}"
            )
        )
    report = build_range_report(
        settings().city(city_key),
        start,
        end,
        markets=markets,
        fills=warehouse.read(BACKTEST_FILLS, **span),
        strategy_days=warehouse.read(BACKTEST_DAYS, **span),
        fused=warehouse.read(FUSED_PMF, **span),
        settlement=warehouse.read(SETTLEMENT, **span),
    )
    out_dir = Path(config.out_dir) if config.out_dir else kalshi_wx_home() / "artifacts" / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"backtest_{city_key}_{start}_{end}.html"
    path.write_text(report.html)
    context.log.info(f"wrote {path} ({len(report.days)} day(s), {start}..{end})")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "range": f"{start}..{end}",
            "days": len(report.days),
            "summary": dg.MetadataValue.md(markdown_table(report.summary)),
        }
    )
