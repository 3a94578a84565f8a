"""A deterministic, causal, fee-aware backtest of one event (a city-day's bracket ladder).

Inputs are a dense 1-minute ``book`` as known at each minute (``core.quotes.book_known_at``), the
event's ``trades`` and a ``signal`` (``p_yes`` known at each minute), checked and laid out by
``inputs.prepare_inputs``. How orders match, and the limits and fees they meet, are the
execution rules in ``book``; settlement and the result frames are in ``results``.

At each minute t of the grid the engine, in this order:

1. fills resting maker orders from what happened during minute t - 1: the trades stamped in
   [t - 1 min, t) in time order, then the book known at t (the close of bar t - 1) if it crosses
   a limit;
2. expires resting orders whose time to live ran out (placed at s, cancelled at s + ttl);
3. hands the strategy a ``MinuteView`` of minute t alone (book, signal, the trades printed in
   [t - 1 min, t), its positions and open orders). The strategy never holds a reference to the
   frames or to any later minute, so look-ahead is impossible rather than merely avoided; a
   strategy that needs history keeps its own;
4. applies the strategy's cancels, then its new orders, in the order returned.

Exits: ``config.exit_rule`` ``hold`` keeps positions to settlement; ``time`` runs the strategy
inside ``exits.TimedExit``, which closes each position a fixed time after it opened (the engine
tells strategies when: ``MarketState.position_since``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypedDict

import polars as pl

from kalshi_wx.core.backtest.book import Book
from kalshi_wx.core.backtest.exits import with_exit_rule
from kalshi_wx.core.backtest.inputs import prepare_inputs
from kalshi_wx.core.backtest.interface import BacktestConfig, Cancel, FeeSchedule, Order, Strategy
from kalshi_wx.core.backtest.results import BacktestResult, backtest_result
from kalshi_wx.core.dtypes import MONEY

_ZERO = Decimal(0)


@dataclass(frozen=True)
class BacktestDay:
    """One event's inputs for ``run_many``; fees are per day because a series' schedule can change."""

    label: str
    book: pl.DataFrame
    trades: pl.DataFrame
    signal: pl.DataFrame
    fees: FeeSchedule
    settled_yes: dict[str, bool] | None


class ManyMetrics(TypedDict, total=False):
    """``ManyResult.metrics``; ``run_many`` sets every key."""

    n_days: int
    gross: float
    fees: float
    net: float
    mean_net_per_day: float
    sd_net_per_day: float
    se_net_per_day: float
    sharpe_by_day: float | None
    all_settled: bool


@dataclass(frozen=True)
class ManyResult:
    days: pl.DataFrame  # label, gross, fees, net (Decimal), n_orders, n_fills, contracts, settled
    results: tuple[BacktestResult, ...]
    metrics: ManyMetrics = field(default_factory=ManyMetrics)


def run_backtest(
    book: pl.DataFrame,
    trades: pl.DataFrame,
    signal: pl.DataFrame,
    strategy: Strategy,
    fees: FeeSchedule,
    settled_yes: dict[str, bool] | None,
    config: BacktestConfig,
) -> BacktestResult:
    """Run ``strategy`` over one event, under ``config.exit_rule``; see the module docstrings for the rules."""
    strategy = with_exit_rule(strategy, config)
    inputs = prepare_inputs(book, trades, signal)
    state = Book(inputs, fees, config, getattr(strategy, "name", type(strategy).__name__))
    index = {t: i for i, t in enumerate(inputs.tickers)}
    strategy.start_day(inputs.tickers, inputs.ts[0])
    t_len = len(inputs.ts)
    for k in range(t_len):
        if k > 0:
            state.fill_from_minute(k - 1)
        state.expire(k)
        intents = list(strategy.on_minute(state.view(k)))
        for intent in intents:
            if isinstance(intent, Cancel):
                state.cancel(intent.order_id, k)
        for intent in intents:
            if isinstance(intent, Order):
                state.place(intent, k, index)
            elif not isinstance(intent, Cancel):
                raise TypeError(f"{state.strategy_name} returned {intent!r}; expected Order or Cancel")
    state.fill_from_minute(t_len - 1)  # the last minute's prints; no book follows it
    state.close_all()
    return backtest_result(state, settled_yes)


def run_many(days: Iterable[BacktestDay], strategy: Strategy, config: BacktestConfig) -> ManyResult:
    """Run ``strategy`` day by day; per-day PnL and a Sharpe by day (mean / sd of daily net)."""
    results, rows = [], []
    for day in days:
        result = run_backtest(day.book, day.trades, day.signal, strategy, day.fees, day.settled_yes, config)
        results.append(result)
        m = result.metrics
        rows.append(
            {
                "label": day.label,
                "gross": result.pnl.gross,
                "fees": result.pnl.fees,
                "net": result.pnl.net,
                "n_orders": m["n_orders"],
                "n_fills": m["n_fills"],
                "contracts": m["contracts"],
                "settled": result.pnl.settled,
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "label": pl.Utf8,
            "gross": MONEY,
            "fees": MONEY,
            "net": MONEY,
            "n_orders": pl.Int64,
            "n_fills": pl.Int64,
            "contracts": pl.Int64,
            "settled": pl.Boolean,
        },
    )
    net = frame["net"].cast(pl.Float64).to_numpy()
    n_days = len(net)
    sd = float(net.std(ddof=1)) if n_days > 1 else float("nan")
    mean = float(net.mean()) if n_days else float("nan")
    metrics: ManyMetrics = {
        "n_days": n_days,
        "gross": float(sum(frame["gross"].to_list(), _ZERO)),
        "fees": float(sum(frame["fees"].to_list(), _ZERO)),
        "net": float(sum(frame["net"].to_list(), _ZERO)),
        "mean_net_per_day": mean,
        "sd_net_per_day": sd,
        "se_net_per_day": sd / math.sqrt(n_days) if n_days > 1 else float("nan"),
        "sharpe_by_day": mean / sd if n_days > 1 and sd > 0 else None,
        "all_settled": bool(frame["settled"].all()) if n_days else False,
    }
    return ManyResult(frame, tuple(results), metrics)
