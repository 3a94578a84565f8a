"""What a backtest strategy sees and returns, the engine's settings, and the cent grid orders use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal, NamedTuple, Protocol

from pydantic.dataclasses import dataclass as settings_dataclass

from kalshi_wx.core.config_types import SETTINGS_CONFIG, Money, Real, Switch, Text, Whole

TICK = Decimal("0.01")
MIN_PRICE = Decimal("0.01")
MAX_PRICE = Decimal("0.99")

Side = Literal["yes", "no"]
Liquidity = Literal["maker", "taker"]


@dataclass(frozen=True)
class FeeSchedule:
    fee_type: str
    fee_multiplier: Decimal


EXIT_RULES = ("hold", "time")


@settings_dataclass(frozen=True, config=SETTINGS_CONFIG)
class BacktestConfig:
    order_size: Whole = 10  # contracts per order (integer counts on the order path)
    max_position_per_market: Whole = 50  # |net YES contracts| per ticker
    max_exposure_dollars: Money = Decimal("200")  # total cost at risk across the event
    queue_haircut: Real = 0.5  # fraction of volume printed AT our resting price that fills us
    order_ttl_minutes: Whole = 15  # a resting order not filled by then is cancelled
    taker_fallback: Switch = True
    taker_min_edge: Money = Decimal("0.03")  # EV per contract after taker fee needed to cross the spread
    # "hold": to settlement. "time": close each position exit_after_minutes after it opened, resting
    # at the near touch for exit_patience_minutes and then crossing the spread (core.backtest.exits).
    exit_rule: Text = "hold"
    exit_after_minutes: Whole = 5
    exit_patience_minutes: Whole = 2

    def __post_init__(self) -> None:
        if self.order_size < 1 or self.max_position_per_market < 0:
            raise ValueError("order_size must be >= 1 and max_position_per_market >= 0")
        if not 0.0 <= self.queue_haircut <= 1.0:
            raise ValueError(f"queue_haircut {self.queue_haircut} must lie in [0, 1]")
        if self.order_ttl_minutes < 2:
            # An order rests from the minute after it is placed, so a ttl of 1 could never fill.
            raise ValueError(f"order_ttl_minutes {self.order_ttl_minutes} must be >= 2")
        if self.exit_rule not in EXIT_RULES:
            raise ValueError(f"exit_rule {self.exit_rule!r}: expected one of {', '.join(EXIT_RULES)}")
        if self.exit_after_minutes < 1 or self.exit_patience_minutes < 0:
            raise ValueError(
                f"exit_after_minutes {self.exit_after_minutes} must be >= 1 and exit_patience_minutes "
                f"{self.exit_patience_minutes} >= 0"
            )


# ----------------------------------------------------------------------------------------------
# What a strategy sees and returns


class OpenOrder(NamedTuple):
    order_id: int
    side: Side
    yes_price: Decimal
    remaining: int
    ts_placed: datetime


class MarketState(NamedTuple):
    """One ticker at minute t: the book known at t, the signal at t and our own state."""

    ticker: str
    bid: Decimal | None  # YES bid; None = empty side
    ask: Decimal | None  # YES ask; None = empty side
    p_yes: float | None  # None = no signal at t
    position: int  # net YES contracts (negative = NO contracts held)
    room_yes: int  # contracts a new YES order may add under the position limit, resting orders included
    room_no: int
    open_orders: tuple[OpenOrder, ...]
    position_since: datetime | None = None  # when the current nonzero position opened (or flipped sign)


class TradePrint(NamedTuple):
    ticker: str
    ts: datetime
    yes_price: Decimal
    count: Decimal  # type: ignore[assignment]  # shadows tuple.count on purpose (mypy#3950); renaming is an API change


class MinuteView(NamedTuple):
    ts: datetime
    minute: int  # index of ts in the day's grid
    markets: tuple[MarketState, ...]  # in ticker order
    trades: tuple[TradePrint, ...]  # printed in [ts - 1 min, ts)
    exposure_dollars: Decimal
    fees: FeeSchedule
    config: BacktestConfig


@dataclass(frozen=True, slots=True)
class Order:
    """Buy ``side`` at YES-terms limit ``yes_price``; ``count`` None = ``config.order_size``."""

    ticker: str
    side: Side
    yes_price: Decimal
    liquidity: Liquidity
    count: int | None = None


@dataclass(frozen=True, slots=True)
class Cancel:
    order_id: int


class Strategy(Protocol):
    name: str

    def start_day(self, tickers: tuple[str, ...], first_ts: datetime) -> None:
        """Reset per-day state; called once before the first minute of each event."""

    def on_minute(self, view: MinuteView) -> Iterable[Order | Cancel]: ...


# ----------------------------------------------------------------------------------------------
# The cent grid


def floor_tick(price: Decimal) -> Decimal:
    return (price / TICK).to_integral_value(rounding=ROUND_FLOOR) * TICK


def ceil_tick(price: Decimal) -> Decimal:
    return (price / TICK).to_integral_value(rounding=ROUND_CEILING) * TICK


def on_grid(price: Decimal) -> bool:
    """Rounding a sub-cent touch outward, or stepping inside it, can leave the tradable range."""
    return MIN_PRICE <= price <= MAX_PRICE
