"""Fee-aware, causal backtest of bracket-ladder strategies (``engine`` steps the minutes, ``book`` holds the
execution rules)."""

from kalshi_wx.core.backtest.engine import BacktestDay, ManyResult, run_backtest, run_many
from kalshi_wx.core.backtest.exits import TimedExit, exit_order, with_exit_rule
from kalshi_wx.core.backtest.inputs import BacktestInputs, backtest_inputs, fee_schedule
from kalshi_wx.core.backtest.interface import (
    EXIT_RULES,
    BacktestConfig,
    Cancel,
    FeeSchedule,
    MarketState,
    MinuteView,
    OpenOrder,
    Order,
    Strategy,
    TradePrint,
)
from kalshi_wx.core.backtest.results import BacktestResult, Pnl
from kalshi_wx.core.backtest.strategies import (
    FusedEdgeStrategy,
    MoveSignalStrategy,
    RandomStrategy,
    SignalThresholdStrategy,
)

__all__ = [
    "EXIT_RULES",
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
    "MoveSignalStrategy",
    "OpenOrder",
    "Order",
    "Pnl",
    "RandomStrategy",
    "SignalThresholdStrategy",
    "Strategy",
    "TimedExit",
    "TradePrint",
    "backtest_inputs",
    "exit_order",
    "fee_schedule",
    "run_backtest",
    "run_many",
    "with_exit_rule",
]
