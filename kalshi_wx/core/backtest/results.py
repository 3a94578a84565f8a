"""A finished run as frames: orders, fills, positions, the equity curve, PnL and summary metrics.

Settlement from ``settled_yes``: a YES contract pays $1 if its bracket settled YES, a NO contract
$1 if it settled NO; there is no settlement fee. Without ``settled_yes`` the result is marked to
the last known mid and ``pnl.settled`` is False. Money stays ``Decimal``; only the equity curve
and the metrics are floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TypedDict

import numpy as np
import polars as pl

from kalshi_wx.core.backtest.book import Book
from kalshi_wx.core.backtest.inputs import PreparedInputs
from kalshi_wx.core.dtypes import MONEY, PRICE, UTC_TS

_ONE = Decimal(1)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Pnl:
    gross: Decimal
    fees: Decimal
    net: Decimal
    settled: bool  # False: marked to the last known mid instead of settled


class BacktestMetrics(TypedDict):
    """``BacktestResult.metrics``: a JSON-able summary of one event's run."""

    strategy: str
    n_orders: int
    n_fills: int
    n_maker_fills: int
    n_clipped: int
    rejected: dict[str, int]  # orders rejected, by reason
    contracts: int
    turnover_dollars: float
    hit_rate: float | None
    max_drawdown_dollars: float
    gross: float
    fees: float
    net: float
    settled: bool
    pnl_by_ticker: dict[str, float]


@dataclass(frozen=True)
class BacktestResult:
    """One event's backtest. Prices are ``Decimal(12, 6)`` dollars, counts ``Int64`` contracts.

    - ``orders``: order_id, ticker, ts_placed, side (yes|no: the contract bought), yes_price (the
      V2 YES-book limit), price (the limit per contract of that side), count, liquidity (the
      intent), status (filled | cancelled | expired | closed: still resting at the end), filled,
      fee, ts_closed.
    - ``fills``: fill_id, order_id, ticker, ts, side, price (paid per contract of that side),
      yes_price, count, liquidity (maker|taker), fee (this fill's share of the order's rounded
      fee), payout (per contract of that side at settlement; null if unsettled), p_signal (the
      signal's probability that the contract bought pays out, at the fill's minute), mid_after
      (the YES mid known just after the fill, float: the markout reference).
    - ``positions``: per ticker of the book: position (net YES), yes_bought, no_bought, cash
      (premium flows), fees, settled_yes, gross, net.
    - ``equity``: ts, equity_dollars (cash after fees + positions marked to the known mid), settled;
      a last row one minute after the grid carries the settled (or last-marked) net.
    - ``metrics``: JSON-able summary (n_orders, n_fills, contracts, turnover_dollars = premium paid,
      hit_rate = share of traded tickers with positive net, max_drawdown_dollars, gross/fees/net,
      pnl_by_ticker, rejected counts by reason, ...).
    """

    orders: pl.DataFrame
    fills: pl.DataFrame
    positions: pl.DataFrame
    pnl: Pnl
    equity: pl.DataFrame
    metrics: BacktestMetrics


def _payouts(tickers: tuple[str, ...], settled_yes: dict[str, bool] | None, traded: set[int]) -> list[bool | None]:
    if settled_yes is None:
        return [None] * len(tickers)
    missing = [tickers[i] for i in sorted(traded) if tickers[i] not in settled_yes]
    if missing:
        raise ValueError(f"settled_yes has no outcome for traded ticker(s) {missing}")
    return [settled_yes.get(t) for t in tickers]


def _last_mark(inp: PreparedInputs, i: int) -> Decimal:
    for bid, ask in zip(reversed(inp.bids[i]), reversed(inp.asks[i]), strict=True):
        if bid is not None or ask is not None:
            return ((bid if bid is not None else _ZERO) + (ask if ask is not None else _ONE)) / 2
    return Decimal("0.5")


def backtest_result(state: Book, settled_yes: dict[str, bool] | None) -> BacktestResult:
    """The frames, PnL and metrics of a finished run (no resting orders left), settled by ``settled_yes``."""
    inp = state.inputs
    tickers = inp.tickers
    n = len(tickers)
    traded = {f.market for f in state.fills}
    outcomes = _payouts(tickers, settled_yes, traded)
    settled = settled_yes is not None

    # Per-ticker PnL in exact decimals.
    gross_by, net_by = [], []
    for i in range(n):
        # Unsettled positions are worth the last known mid; settled ones $1 or $0 per YES contract.
        value = _last_mark(inp, i) if not settled else (_ONE if outcomes[i] else _ZERO)
        gross = state.cash[i] + state.position[i] * value
        gross_by.append(gross)
        net_by.append(gross - state.fee_paid[i])
    gross_total = sum(gross_by, _ZERO)
    fees_total = sum(state.fee_paid, _ZERO)
    pnl = Pnl(gross_total, fees_total, gross_total - fees_total, settled)

    fills = _fills_frame(state, outcomes)
    orders = _orders_frame(state)
    yes_bought = [0] * n
    no_bought = [0] * n
    for f in state.fills:
        if f.side == "yes":
            yes_bought[f.market] += f.count
        else:
            no_bought[f.market] += f.count
    positions = pl.DataFrame(
        {
            "ticker": list(tickers),
            "position": state.position,
            "yes_bought": yes_bought,
            "no_bought": no_bought,
            "cash": state.cash,
            "fees": state.fee_paid,
            "settled_yes": [outcomes[i] if settled else None for i in range(n)],
            "gross": gross_by,
            "net": net_by,
        },
        schema={
            "ticker": pl.Utf8,
            "position": pl.Int64,
            "yes_bought": pl.Int64,
            "no_bought": pl.Int64,
            "cash": MONEY,
            "fees": MONEY,
            "settled_yes": pl.Boolean,
            "gross": MONEY,
            "net": MONEY,
        },
    )
    equity = _equity(state, outcomes, pnl)
    eq = equity["equity_dollars"].to_numpy()
    peak = np.maximum.accumulate(np.r_[0.0, eq])
    drawdown = float((peak - np.r_[0.0, eq]).max())

    traded_sorted = sorted(traded)
    contracts = int(fills["count"].sum()) if fills.height else 0
    metrics: BacktestMetrics = {
        "strategy": state.strategy_name,
        "n_orders": len(state.orders),
        "n_fills": len(state.fills),
        "n_maker_fills": int((fills["liquidity"] == "maker").sum()) if fills.height else 0,
        "n_clipped": state.n_clipped,
        "rejected": dict(sorted(state.rejected.items())),
        "contracts": contracts,
        "turnover_dollars": float(sum((f.count * f.price for f in state.fills), _ZERO)),
        "hit_rate": (sum(net_by[i] > 0 for i in traded_sorted) / len(traded_sorted))
        if traded_sorted and settled
        else None,
        "max_drawdown_dollars": drawdown,
        "gross": float(pnl.gross),
        "fees": float(pnl.fees),
        "net": float(pnl.net),
        "settled": settled,
        "pnl_by_ticker": {tickers[i]: float(net_by[i]) for i in traded_sorted},
    }
    return BacktestResult(orders, fills, positions, pnl, equity, metrics)


def _fills_frame(state: Book, outcomes: list[bool | None]) -> pl.DataFrame:
    inp = state.inputs
    rows = state.fills
    t_len = len(inp.ts)
    # The mid as known just after the fill: the first grid minute at or after it (the markout reference).
    after = np.minimum(
        np.searchsorted(inp.ts_us, np.array([f.ts_us for f in rows], dtype=np.int64), side="left"), t_len - 1
    )
    minute = np.searchsorted(inp.ts_us, np.array([f.ts_us for f in rows], dtype=np.int64), side="right") - 1
    payout, p_signal, mid_after = [], [], []
    for f, a, m in zip(rows, after.tolist(), minute.tolist(), strict=True):
        i, yes = f.market, f.side == "yes"
        won = outcomes[i]
        payout.append(None if won is None else (_ONE if won == yes else _ZERO))
        p = inp.p_yes[i][m]
        p_signal.append(None if p is None else (p if yes else 1.0 - p))
        mid_after.append(float(inp.marks[i, a]) if not math.isnan(inp.marks[i, a]) else None)
    return pl.DataFrame(
        {
            "fill_id": list(range(1, len(rows) + 1)),
            "order_id": [f.order_id for f in rows],
            "ticker": [inp.tickers[f.market] for f in rows],
            "ts": [f.ts for f in rows],
            "side": [f.side for f in rows],
            "price": [f.price for f in rows],
            "yes_price": [f.yes_price for f in rows],
            "count": [f.count for f in rows],
            "liquidity": [f.liquidity for f in rows],
            "fee": [f.fee for f in rows],
            "payout": payout,
            "p_signal": p_signal,
            "mid_after": mid_after,
        },
        schema={
            "fill_id": pl.Int64,
            "order_id": pl.Int64,
            "ticker": pl.Utf8,
            "ts": UTC_TS,
            "side": pl.Utf8,
            "price": PRICE,
            "yes_price": PRICE,
            "count": pl.Int64,
            "liquidity": pl.Utf8,
            "fee": PRICE,
            "payout": PRICE,
            "p_signal": pl.Float64,
            "mid_after": pl.Float64,
        },
    )


def _orders_frame(state: Book) -> pl.DataFrame:
    inp = state.inputs
    orders = state.orders
    return pl.DataFrame(
        {
            "order_id": [o.order_id for o in orders],
            "ticker": [inp.tickers[o.market] for o in orders],
            "ts_placed": [inp.ts[o.minute] for o in orders],
            "side": [o.side for o in orders],
            "yes_price": [o.yes_price for o in orders],
            "price": [o.yes_price if o.side == "yes" else _ONE - o.yes_price for o in orders],
            "count": [o.count for o in orders],
            "liquidity": [o.liquidity for o in orders],
            "status": [o.status for o in orders],
            "filled": [o.filled for o in orders],
            "fee": [o.fee for o in orders],
            "ts_closed": [o.ts_closed for o in orders],
        },
        schema={
            "order_id": pl.Int64,
            "ticker": pl.Utf8,
            "ts_placed": UTC_TS,
            "side": pl.Utf8,
            "yes_price": PRICE,
            "price": PRICE,
            "count": pl.Int64,
            "liquidity": pl.Utf8,
            "status": pl.Utf8,
            "filled": pl.Int64,
            "fee": PRICE,
            "ts_closed": UTC_TS,
        },
    )


def _equity(state: Book, outcomes: list[bool | None], pnl: Pnl) -> pl.DataFrame:
    """Cash after fees plus positions marked to the mid known at each minute; then the settled value."""
    inp = state.inputs
    n, t_len = len(inp.tickers), len(inp.ts)
    pos = np.zeros((n, t_len + 1))
    cash = np.zeros(t_len + 1)
    if state.fills:
        us = np.array([f.ts_us for f in state.fills], dtype=np.int64)
        # A fill counts from the first grid minute at or after it (t_len: only in the final value).
        at = np.searchsorted(inp.ts_us, us, side="left")
        sign = np.array([1.0 if f.side == "yes" else -1.0 for f in state.fills])
        count = np.array([f.count for f in state.fills], dtype=np.float64)
        price = np.array([float(f.yes_price) for f in state.fills])
        fee = np.array([float(f.fee) for f in state.fills])
        idx = np.array([f.market for f in state.fills])
        np.add.at(pos, (idx, at), sign * count)
        np.add.at(cash, at, -sign * count * price - fee)
    pos = np.cumsum(pos, axis=1)[:, :t_len]
    cash = np.cumsum(cash)[:t_len]
    marks = np.nan_to_num(inp.marks, nan=0.5)
    equity = cash + (pos * marks).sum(axis=0)
    final_ts = inp.ts[-1] + timedelta(minutes=1)  # the close of the last bar
    return pl.DataFrame(
        {
            "ts": [*inp.ts, final_ts],
            "equity_dollars": [*equity.tolist(), float(pnl.net)],
            "settled": [False] * t_len + [pnl.settled],
        },
        schema={"ts": UTC_TS, "equity_dollars": pl.Float64, "settled": pl.Boolean},
    )
