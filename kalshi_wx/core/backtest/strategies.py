"""Strategies for the backtest engine. Each is handed one ``MinuteView`` at a time and nothing else.

Edges are per contract, after the fee the order would pay, with the order-level fee rounding
spread over ``config.order_size`` contracts. For a YES buy at YES-price x the edge is
``p_yes - x - fee``; for a NO buy at YES-price x (an ask on the YES book, NO costs 1 - x) it is
``(1 - p_yes) - (1 - x) - fee = x - p_yes - fee``. Decisions compare a float probability, so they
are made in floats; the prices sent are exact cent ``Decimal`` values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from kalshi_wx.core.backtest.interface import (
    TICK,
    BacktestConfig,
    Cancel,
    FeeSchedule,
    Liquidity,
    MarketState,
    MinuteView,
    Order,
    Side,
    ceil_tick,
    floor_tick,
    on_grid,
)
from kalshi_wx.core.fees import trading_fee
from kalshi_wx.core.seeds import stable_seed


def fee_per_contract(fees: FeeSchedule, count: int, yes_price: Decimal, maker: bool) -> float:
    """The per-order rounded fee of ``count`` contracts at ``yes_price``, per contract."""
    return float(trading_fee(fees.fee_type, fees.fee_multiplier, count, yes_price, maker=maker)) / count


class _Level(NamedTuple):
    """A cent price we could send, with what the quoter compares it by."""

    price: Decimal
    value: float
    tradable: bool


def _level(price: Decimal) -> _Level:
    return _Level(price, float(price), on_grid(price))


@lru_cache(maxsize=8192)
def _levels(price: Decimal) -> tuple[float, _Level, _Level, _Level, _Level]:
    """A book price's float value, its cent floor and ceiling, and one tick above / below those.

    Books hold a few hundred distinct prices, so the Decimal work is done once per price."""
    floor, ceil = floor_tick(price), ceil_tick(price)
    return float(price), _level(floor), _level(ceil), _level(floor + TICK), _level(ceil - TICK)


_SIDES: tuple[Side, Side] = ("yes", "no")


class _EdgeQuoter:
    """Per ticker and side: take if the taker edge clears its bar, else rest the best maker price
    that clears the maker bar; resting orders at another price (or with no edge left) are cancelled.

    Makers rest at the touch or one tick inside it (a YES bid at bid + 1 tick when that still
    leaves the spread open), preferring the inside price because it is first in the queue.
    Subclasses give the bars: the minimum edge per contract after fees, or None to stay out.
    """

    name = "edge_quoter"

    def __init__(self) -> None:
        self._fee_tables: dict[tuple[FeeSchedule, int], dict[tuple[Decimal, bool], float]] = {}

    def start_day(self, tickers: tuple[str, ...], first_ts: datetime) -> None:
        """Stateless between minutes: nothing to reset."""

    def _maker_bar(self, side: str, p_yes: float) -> float | None:
        raise NotImplementedError

    def _taker_bar(self, side: str, p_yes: float, config: BacktestConfig) -> float | None:
        raise NotImplementedError

    def _want(
        self,
        m: MarketState,
        p: float,
        side: str,
        resting: int,
        view: MinuteView,
        fee: Callable[[Decimal, bool], float],
    ) -> tuple[Decimal, Liquidity] | None:
        # Our own resting orders on this side count against the room, but a requote replaces them.
        if (m.room_yes if side == "yes" else m.room_no) + resting == 0:
            return None
        yes = side == "yes"
        sign = 1.0 if yes else -1.0  # edge = sign * (p_yes - yes_price) - fee
        far = m.ask if yes else m.bid  # the side we would cross
        near = m.bid if yes else m.ask  # the side we would join
        if far is not None:
            bar = self._taker_bar(side, p, view.config)
            far_value, far_floor, far_ceil, _, _ = _levels(far)
            limit = far_ceil if yes else far_floor
            if bar is not None and limit.tradable and sign * (p - far_value) - fee(limit.price, False) > bar:
                return limit.price, "taker"
        if near is None:
            return None
        bar = self._maker_bar(side, p)
        if bar is None:
            return None
        _, near_floor, near_ceil, above, below = _levels(near)
        touch, inside = (near_floor, above) if yes else (near_ceil, below)
        open_inside = far is None or (inside.price < far if yes else inside.price > far)
        for level in (inside, touch) if open_inside else (touch,):
            if level.tradable and sign * (p - level.value) - fee(level.price, True) > bar:
                return level.price, "maker"
        return None

    def on_minute(self, view: MinuteView) -> Iterable[Order | Cancel]:
        fees, size = view.fees, view.config.order_size
        table = self._fee_tables.setdefault((fees, size), {})

        def fee(price: Decimal, maker: bool) -> float:
            value = table.get((price, maker))
            if value is None:
                value = table[(price, maker)] = fee_per_contract(fees, size, price, maker)
            return value

        out: list[Order | Cancel] = []
        for m in view.markets:
            for side in _SIDES:
                resting = [o for o in m.open_orders if o.side == side]
                want = None
                if m.p_yes is not None:
                    want = self._want(m, m.p_yes, side, sum(o.remaining for o in resting), view, fee)
                if want is not None and want[1] == "maker" and any(o.yes_price == want[0] for o in resting):
                    out += [Cancel(o.order_id) for o in resting if o.yes_price != want[0]]
                    continue
                out += [Cancel(o.order_id) for o in resting]
                if want is not None:
                    out.append(Order(m.ticker, side, want[0], want[1]))
        return out


class FusedEdgeStrategy(_EdgeQuoter):
    """Trade when ``p_yes`` beats the price by more than ``margin`` after fees, maker first.

    Taker (when ``config.taker_fallback``): edge at the far touch after the taker fee above
    ``config.taker_min_edge``. Maker: edge at the resting price after the maker fee above ``margin``.
    """

    name = "fused_edge"

    def __init__(self, margin: Decimal = Decimal("0.02")):
        super().__init__()
        self.margin = float(margin)

    def _maker_bar(self, side: str, p_yes: float) -> float | None:
        return self.margin

    def _taker_bar(self, side: str, p_yes: float, config: BacktestConfig) -> float | None:
        return float(config.taker_min_edge) if config.taker_fallback else None


class SignalThresholdStrategy(_EdgeQuoter):
    """For a model's probability (e.g. a classifier's calibrated ``p_yes``): buy YES only while
    ``p_yes >= yes_above`` and NO only while ``p_yes <= no_below``, and only at an edge after fees
    above ``min_edge`` (maker) or ``config.taker_min_edge`` (taker, if ``config.taker_fallback``).
    """

    name = "signal_threshold"

    def __init__(self, yes_above: float = 0.6, no_below: float = 0.4, min_edge: Decimal = Decimal("0.01")):
        super().__init__()
        if not 0.0 <= no_below < yes_above <= 1.0:
            raise ValueError(f"need 0 <= no_below < yes_above <= 1, got no_below {no_below}, yes_above {yes_above}")
        self.yes_above, self.no_below, self.min_edge = yes_above, no_below, float(min_edge)

    def _allowed(self, side: str, p_yes: float) -> bool:
        return p_yes >= self.yes_above if side == "yes" else p_yes <= self.no_below

    def _maker_bar(self, side: str, p_yes: float) -> float | None:
        return self.min_edge if self._allowed(side, p_yes) else None

    def _taker_bar(self, side: str, p_yes: float, config: BacktestConfig) -> float | None:
        if not (self._allowed(side, p_yes) and config.taker_fallback):
            return None
        return float(config.taker_min_edge)


class RandomStrategy:
    """Knows nothing: each minute, each ticker with a two-sided book gets an order with probability
    ``rate``, on a random side, as taker with probability ``taker_share`` (at the far touch) else
    maker (joining the near touch). One-sided books are skipped because there the side would be
    forced by the book, which is information. Seeded per day from ``seed``, the tickers and the
    first minute, so a day's draws do not depend on which days ran before it.
    """

    name = "random"

    def __init__(self, seed: int = 0, rate: float = 0.01, taker_share: float = 0.5):
        if not 0.0 <= rate <= 1.0 or not 0.0 <= taker_share <= 1.0:
            raise ValueError(f"rate {rate} and taker_share {taker_share} must lie in [0, 1]")
        self.seed, self.rate, self.taker_share = seed, rate, taker_share
        self._rng = np.random.default_rng(seed)

    def start_day(self, tickers: tuple[str, ...], first_ts: datetime) -> None:
        self._rng = np.random.default_rng(stable_seed(self.seed, ",".join(tickers), first_ts.isoformat()))

    def on_minute(self, view: MinuteView) -> Iterable[Order | Cancel]:
        # A fixed number of draws per minute keeps the stream independent of what was traded.
        draws = self._rng.random((len(view.markets), 3)).tolist()
        out: list[Order | Cancel] = []
        for m, (go, side_u, taker_u) in zip(view.markets, draws, strict=True):
            if go >= self.rate or m.bid is None or m.ask is None:
                continue
            side: Side = "yes" if side_u < 0.5 else "no"
            if (m.room_yes if side == "yes" else m.room_no) == 0:
                continue
            taker = taker_u < self.taker_share
            if side == "yes":
                price = ceil_tick(m.ask) if taker else floor_tick(m.bid)
            else:
                price = floor_tick(m.bid) if taker else ceil_tick(m.ask)
            if not on_grid(price):
                continue
            out.append(Order(m.ticker, side, price, "taker" if taker else "maker"))
        return out


class MoveSignalStrategy:
    """For a short-horizon move model: ``p_yes`` is read as P(the mid rises over the model's horizon,
    given it moves), not as a settlement probability.

    While flat on a ticker it rests one post-only order at the near touch on the side the model
    favours: a YES buy at the bid while ``p >= up_above``, a NO buy at the YES ask (an offer) while
    ``p <= 1 - up_above``; the order is cancelled when the signal fades or the touch moves, and once
    a position opens. It never crosses the spread to enter: the model gives the sign of the next
    move, not its size, and a one-cent move does not pay a spread plus a taker fee. Closing is left
    to the exit rule (``time``, with the model's horizon).
    """

    name = "model_move"

    def __init__(self, up_above: float = 0.6):
        if not 0.5 < up_above <= 1.0:
            raise ValueError(f"up_above {up_above} must lie in (0.5, 1]")
        self.up_above = up_above

    def start_day(self, tickers: tuple[str, ...], first_ts: datetime) -> None:
        """Stateless between minutes: nothing to reset."""

    def _want(self, m: MarketState) -> Order | None:
        if m.position != 0 or m.p_yes is None:
            return None
        if m.p_yes >= self.up_above and m.bid is not None and m.room_yes > 0:
            want = Order(m.ticker, "yes", floor_tick(m.bid), "maker")
        elif m.p_yes <= 1.0 - self.up_above and m.ask is not None and m.room_no > 0:
            want = Order(m.ticker, "no", ceil_tick(m.ask), "maker")
        else:
            return None
        return want if on_grid(want.yes_price) else None

    def on_minute(self, view: MinuteView) -> Iterable[Order | Cancel]:
        out: list[Order | Cancel] = []
        for m in view.markets:
            want = self._want(m)
            keep = None
            if want is not None:
                keep = next(
                    (o.order_id for o in m.open_orders if (o.side, o.yes_price) == (want.side, want.yes_price)), None
                )
            out += [Cancel(o.order_id) for o in m.open_orders if o.order_id != keep]
            if want is not None and keep is None:
                out.append(want)
        return out
