"""Exit rules: how positions are closed before settlement, whatever strategy opened them.

``hold`` keeps every position to settlement. ``time`` suits signals about the next few minutes
(the short-horizon move models): a position is closed ``exit_after_minutes`` after it opened, so
it is held about as long as the signal that opened it speaks for.

Closing a position runs in two phases, counted from the minute the exit starts:

1. for ``exit_patience_minutes``, a post-only order rests at the near touch of the closing side
   (long YES: an offer at the YES ask, i.e. a NO buy at the ask; short YES: a YES buy at the bid),
   re-posted whenever the touch moves;
2. then it crosses the spread at the far touch (long YES sells at the bid), every minute, until
   flat. With no far touch it waits: an empty book cannot be traded, and what is left settles.

While a ticker is being closed the wrapped strategy has no say on it: its new orders there are
dropped and its resting ones cancelled, so it cannot add to a position on its way out. Once flat,
the strategy trades the ticker again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from kalshi_wx.core.backtest.interface import (
    BacktestConfig,
    Cancel,
    MarketState,
    MinuteView,
    Order,
    Side,
    Strategy,
    ceil_tick,
    floor_tick,
    on_grid,
)


def exit_order(market: MarketState, patient: bool) -> Order | None:
    """The order that closes ``market.position``: resting at the near touch if ``patient``, else crossing."""
    if market.position == 0:
        return None
    long = market.position > 0
    side: Side = "no" if long else "yes"
    if patient:
        touch = market.ask if long else market.bid
        price = None if touch is None else (ceil_tick(touch) if long else floor_tick(touch))
    else:
        touch = market.bid if long else market.ask
        price = None if touch is None else (floor_tick(touch) if long else ceil_tick(touch))
    if price is None or not on_grid(price):
        return None
    return Order(market.ticker, side, price, "maker" if patient else "taker", abs(market.position))


class TimedExit:
    """Wraps a strategy with the ``time`` exit rule (see the module docstring)."""

    def __init__(self, inner: Strategy, after_minutes: int, patience_minutes: int):
        self.inner = inner
        self.name = getattr(inner, "name", type(inner).__name__)
        self.after = timedelta(minutes=after_minutes)
        self.patience = timedelta(minutes=patience_minutes)
        self._exit_started: dict[str, datetime] = {}

    def start_day(self, tickers: tuple[str, ...], first_ts: datetime) -> None:
        self._exit_started = {}
        self.inner.start_day(tickers, first_ts)

    def _closing(self, view: MinuteView) -> dict[str, MarketState]:
        closing = {}
        for m in view.markets:
            if m.position == 0:
                self._exit_started.pop(m.ticker, None)
                continue
            if m.ticker not in self._exit_started:
                if m.position_since is None or view.ts - m.position_since < self.after:
                    continue
                self._exit_started[m.ticker] = view.ts
            closing[m.ticker] = m
        return closing

    def on_minute(self, view: MinuteView) -> Iterable[Order | Cancel]:
        intents = list(self.inner.on_minute(view))
        closing = self._closing(view)
        if not closing:
            return intents
        ours = {o.order_id for m in closing.values() for o in m.open_orders}
        out = [
            x
            for x in intents
            if not (isinstance(x, Order) and x.ticker in closing) and not (isinstance(x, Cancel) and x.order_id in ours)
        ]
        for ticker, m in closing.items():
            want = exit_order(m, patient=view.ts - self._exit_started[ticker] < self.patience)
            keep = None
            if want is not None and want.liquidity == "maker":
                keep = next(
                    (
                        o.order_id
                        for o in m.open_orders
                        if o.side == want.side and o.yes_price == want.yes_price and o.remaining == want.count
                    ),
                    None,
                )
            out += [Cancel(o.order_id) for o in m.open_orders if o.order_id != keep]
            if want is not None and keep is None:
                out.append(want)
        return out


def with_exit_rule(strategy: Strategy, config: BacktestConfig) -> Strategy:
    """``strategy`` under ``config.exit_rule``: itself for ``hold``, wrapped in ``TimedExit`` for ``time``."""
    if config.exit_rule == "time":
        return TimedExit(strategy, config.exit_after_minutes, config.exit_patience_minutes)
    return strategy
