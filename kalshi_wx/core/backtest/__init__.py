"""Fee-aware, causal backtest of bracket-ladder strategies (see ``engine`` for the execution rules)."""

from kalshi_wx.core.backtest.engine import (
    BacktestConfig,
    BacktestDay,
    BacktestResult,
    Cancel,
    FeeSchedule,
    ManyResult,
    MarketState,
    MinuteView,
    OpenOrder,
    Order,
    Pnl,
    Strategy,
    TradePrint,
    run_backtest,
    run_many,
)
from kalshi_wx.core.backtest.inputs import BacktestInputs, backtest_inputs, fee_schedule
from kalshi_wx.core.backtest.strategies import FusedEdgeStrategy, RandomStrategy, SignalThresholdStrategy

__all__ = [
    "BacktestConfig",
    "BacktestDay",
    "BacktestInputs",
    "BacktestResult",
    "Cancel",
    "FeeSchedule",
    "FusedEdgeStrategy",
    "ManyResult",
    "MarketState",
    "MinuteView",
    "OpenOrder",
    "Order",
    "Pnl",
    "RandomStrategy",
    "SignalThresholdStrategy",
    "Strategy",
    "TradePrint",
    "backtest_inputs",
    "fee_schedule",
    "run_backtest",
    "run_many",
]
