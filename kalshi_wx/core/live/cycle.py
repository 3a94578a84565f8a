"""One decision cycle of the live executor, as a pure function: reconcile, decide, check the walls.

The caller (the Dagster asset, ``kalshi-wx live``) reads the exchange and the signals, calls
``decide_cycle``, sends ``to_send`` (or, in a dry run, nothing) and records the result. In order:

1. Reconcile: the previous cycle's state moved on by the fills since must equal what the exchange
   says. The first cycle has no previous state and starts from the exchange's. A mismatch halts:
   nothing is decided or sent, and ``halted`` says why.
2. Kill switch: when engaged, every resting order is cancelled and nothing else is done.
3. Decide: the strategy is asked about this minute (``core.live.intents.decide``).
4. Walls: each order passes ``core.live.walls`` in turn; what is blocked is reported with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from kalshi_wx.core.backtest.interface import BacktestConfig, FeeSchedule, Strategy
from kalshi_wx.core.live.intents import CancelIntent, Intent, LiveMarket, decide
from kalshi_wx.core.live.reconcile import LiveState, Reconciliation, reconcile
from kalshi_wx.core.live.walls import AccountState, RiskLimits, WallHit, apply_walls
from kalshi_wx.core.payloads.kalshi_orders import Fill

Quote = tuple[Decimal | None, Decimal | None]


@dataclass(frozen=True)
class CycleInputs:
    """Everything one cycle decides from; ``exchange`` is what the exchange reports now."""

    strategy: Strategy
    ts: datetime
    minute: int  # index of ts in the climate day's minute grid
    quotes: Mapping[str, Quote]  # ticker -> (YES bid, YES ask) now; the markets the cycle trades
    p_yes: Mapping[str, float | None]  # ticker -> the signal at ts
    close_time: Mapping[str, datetime]
    event_of: Mapping[str, str]
    fees: FeeSchedule
    config: BacktestConfig
    limits: RiskLimits
    exchange: LiveState
    previous: LiveState | None = None  # the state after the last cycle; None at start
    fills_since: Sequence[Fill] = ()  # fills reported since the last cycle
    contracts_today: int = 0
    daily_pnl: Decimal = Decimal(0)
    recent_orders: tuple[datetime, ...] = ()
    kill_switch: str | None = None


@dataclass(frozen=True)
class CycleDecision:
    reconciliation: Reconciliation
    halted: str | None  # why nothing but cancels (or nothing at all) was sent
    intents: tuple[Intent, ...]  # what the strategy wanted
    to_send: tuple[Intent, ...]  # what passed the walls (or the kill switch's cancels)
    wall_hits: tuple[WallHit, ...] = field(default=())


def decide_cycle(inputs: CycleInputs) -> CycleDecision:
    if inputs.previous is None:
        rec = Reconciliation(inputs.exchange, (), ("first cycle: state rebuilt from the exchange",))
    else:
        rec = reconcile(inputs.previous, inputs.fills_since, inputs.exchange)
    if not rec.ok:
        return CycleDecision(rec, rec.halt_message(), (), ())
    state = rec.state
    if inputs.kill_switch:
        cancels = tuple(
            CancelIntent("kill_switch", inputs.ts, o.ticker, o.order_id)
            for o in sorted(state.resting.values(), key=lambda o: o.order_id)
        )
        return CycleDecision(rec, f"kill switch engaged ({inputs.kill_switch}): cancelling every resting order",
                             (), cancels)  # fmt: skip
    markets = [
        LiveMarket(ticker, bid, ask, inputs.p_yes.get(ticker), state.position(ticker), state.resting_on(ticker))
        for ticker, (bid, ask) in inputs.quotes.items()
    ]
    intents = decide(inputs.strategy, ts=inputs.ts, minute=inputs.minute, markets=markets, fees=inputs.fees,
                     config=inputs.config)  # fmt: skip
    account = AccountState(
        now=inputs.ts,
        close_time=inputs.close_time,
        event_of=inputs.event_of,
        touch=inputs.quotes,
        positions=state.positions,
        resting=tuple(state.resting.values()),
        contracts_today=inputs.contracts_today,
        daily_pnl=inputs.daily_pnl,
        recent_orders=inputs.recent_orders,
    )
    accepted, hits, _ = apply_walls(intents, account, inputs.limits)
    return CycleDecision(rec, None, tuple(intents), tuple(accepted), tuple(hits))
