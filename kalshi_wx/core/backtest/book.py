"""One run's side of the market: our orders, how they match, the positions, cash and fees they lead to.

Prices are YES-terms dollars on the YES book (V2 order semantics): buying YES is a bid at p, buying
NO is an ask at p on the YES book (the NO contract costs 1 - p). Money and counts are ``Decimal`` /
``int`` throughout.

Execution rules:

- Limit prices are on the cent grid in [0.01, 0.99]; a violation is a programming error (ValueError).
- Taker orders (immediate-or-cancel) fill at once, at the touch known at t: buy YES at the ask,
  buy NO at the bid (sell YES). The book carries no sizes, so the whole order fills; this is
  optimistic for orders larger than the touch. No opposite side, or a limit worse than the
  touch, means no fill (counted in ``metrics["rejected"]``).
- Maker orders are post-only: one that would cross the known book is rejected. A maker order
  placed at minute s rests from s + 1 min (the minute it was placed is treated as latency, so
  no print in it can fill the order) until s + ttl. While it rests:
  - a print strictly through the limit (YES-side bid at p, print at yes_price < p; NO side
    symmetric) fills up to the printed count: it would have hit us before trading through us;
  - a print at the limit fills ``queue_haircut`` of its count: we joined behind the queue;
  - a book known later whose opposite side is at or through the limit fills the rest of the
    order at the limit: that quote could only have been posted by trading with us.
  A print's volume is shared once among our orders, the most aggressive limit first, then the
  oldest. Fractional eligibility accumulates per order and the fill is its floor, so counts
  stay whole contracts. Maker fills are at the order's limit (no price improvement).
- Position and exposure limits count resting orders as if they all filled. A new order that
  would breach one is cut to the largest count that fits, or rejected when none fits.
  Exposure is the worst-case loss summed over tickers (cash paid out so far plus what resting
  orders could add, for whichever outcome is worse per ticker); summing per ticker ignores
  that only one bracket wins, so it is conservative. Fees are not in it.
- Fees: ``trading_fee`` on the order's cumulative fills at its fill price, with the maker flag of
  how it filled; each fill is charged the increase of that rounded total. An order's fees
  therefore sum to the per-order, round-up-to-the-cent fee Kalshi's per-order accumulator
  converges to (reference/kalshi_api.md s8), however many partial fills it had. Maker fills pay
  only where the series ``fee_type`` charges makers.

Positions are net YES contracts per ticker (Kalshi nets YES against NO): buying NO while long
YES closes YES contracts. Cash flow per contract is -p for a YES buy and +p for a NO buy
(= -(1 - p) premium, plus the $1 the pair is worth at settlement); both views give the same PnL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import NamedTuple

from kalshi_wx.core.backtest.inputs import PreparedInputs
from kalshi_wx.core.backtest.interface import (
    MAX_PRICE,
    MIN_PRICE,
    TICK,
    BacktestConfig,
    FeeSchedule,
    Liquidity,
    MarketState,
    MinuteView,
    OpenOrder,
    Order,
    Side,
    TradePrint,
)
from kalshi_wx.core.fees import trading_fee

_ONE = Decimal(1)
_ZERO = Decimal(0)


@lru_cache(maxsize=65_536)
def _fee(fee_type: str, multiplier: Decimal, count: int, price: Decimal, maker: bool) -> Decimal:
    return trading_fee(fee_type, multiplier, count, price, maker=maker)


def position_room(cap: int, position: int, resting: Iterable[tuple[Side, int]]) -> tuple[int, int]:
    """Contracts a new YES and a new NO order may add under ``cap`` on |net YES|, counting what rests
    (``(side, remaining)``) as filled; the live executor sizes its intents with the same rule."""
    room_yes, room_no = cap - position, cap + position
    for side, remaining in resting:
        if side == "yes":
            room_yes -= remaining
        else:
            room_no -= remaining
    return max(0, room_yes), max(0, room_no)


class Fill(NamedTuple):
    """One execution of a placed order."""

    order_id: int
    market: int  # index into PreparedInputs.tickers
    ts: datetime
    ts_us: int
    side: Side  # the contract bought
    yes_price: Decimal  # the V2 YES-book price it filled at
    count: int  # type: ignore[assignment]  # shadows tuple.count on purpose (mypy#3950); renaming is an API change
    liquidity: Liquidity  # how it filled: maker (rested) or taker (crossed)
    fee: Decimal  # this fill's share of the order's rounded fee

    @property
    def price(self) -> Decimal:
        """Paid per contract of the side bought."""
        return self.yes_price if self.side == "yes" else _ONE - self.yes_price


class PlacedOrder:
    """An order the engine accepted, and what became of it."""

    __slots__ = ("order_id", "market", "minute", "side", "yes_price", "count", "liquidity", "status", "filled",
                 "credit", "fee", "ts_closed")  # fmt: skip

    def __init__(
        self,
        order_id: int,
        market: int,
        minute: int,
        side: Side,
        yes_price: Decimal,
        count: int,
        liquidity: Liquidity,
    ):
        self.order_id = order_id
        self.market = market  # index into PreparedInputs.tickers
        self.minute = minute  # grid index it was placed at
        self.side = side
        self.yes_price = yes_price
        self.count = count
        self.liquidity = liquidity
        self.status = "open"
        self.filled = 0
        self.credit = _ZERO  # contracts of eligible printed volume so far (fractional under the haircut)
        self.fee = _ZERO  # rounded fee of the fills so far
        self.ts_closed: datetime | None = None  # None while resting, and for orders still resting at the end

    def aggressiveness(self, yes_price: Decimal) -> Decimal:
        return self.yes_price - yes_price if self.side == "yes" else yes_price - self.yes_price


class Book:
    """Mutable state of one run: our orders, positions, cash and fills (the market's quotes are ``inputs``)."""

    def __init__(self, inputs: PreparedInputs, fees: FeeSchedule, config: BacktestConfig, strategy_name: str):
        self.inputs = inputs
        self.fees = fees
        self.config = config
        self.haircut = Decimal(str(config.queue_haircut))
        n = len(inputs.tickers)
        self.orders: list[PlacedOrder] = []
        self.open: list[list[PlacedOrder]] = [[] for _ in range(n)]
        self.position = [0] * n
        self.position_since: list[datetime | None] = [None] * n
        self.cash = [_ZERO] * n
        self.fee_paid = [_ZERO] * n
        self.fills: list[Fill] = []
        self.rejected: dict[str, int] = {}
        self.n_clipped = 0
        self.strategy_name = strategy_name

    # -- fills ---------------------------------------------------------------------------------

    def _fill(self, order: PlacedOrder, count: int, price: Decimal, ts: datetime, ts_us: int) -> None:
        maker = order.liquidity == "maker"
        total = order.filled + count
        fee_total = _fee(self.fees.fee_type, self.fees.fee_multiplier, total, price, maker)
        fee = fee_total - order.fee
        order.filled, order.fee = total, fee_total
        i = order.market
        before = self.position[i]
        if order.side == "yes":
            self.position[i] += count
            self.cash[i] -= price * count
        else:
            self.position[i] -= count
            self.cash[i] += price * count
        after = self.position[i]
        if after == 0:
            self.position_since[i] = None
        elif before * after <= 0:  # opened from flat, or flipped through zero
            self.position_since[i] = ts
        self.fee_paid[i] += fee
        self.fills.append(Fill(order.order_id, i, ts, ts_us, order.side, price, count, order.liquidity, fee))
        if total == order.count:
            order.status, order.ts_closed = "filled", ts
            self.open[i].remove(order)

    def fill_from_minute(self, m: int) -> None:
        """Resting orders live during minute m meet its prints, then the book that closed it."""
        ttl = self.config.order_ttl_minutes
        for i, us, price, count, ts in self.inputs.trades_by_minute[m]:
            live = [o for o in self.open[i] if o.minute < m < o.minute + ttl and o.aggressiveness(price) >= 0]
            if not live:
                continue
            live.sort(key=lambda o: (-o.aggressiveness(price), o.order_id))
            pool = count
            for o in live:
                if pool <= 0:
                    break
                share = _ONE if o.yes_price != price else self.haircut
                if share == 0:
                    continue
                take = min(pool, (o.count - o.credit) / share)
                pool -= take
                o.credit += take * share
                newly = min(o.count, int(o.credit.to_integral_value(rounding=ROUND_FLOOR))) - o.filled
                if newly > 0:
                    self._fill(o, newly, o.yes_price, ts, us)
        k = m + 1
        if k >= len(self.inputs.ts):
            return
        for i, orders in enumerate(self.open):
            if not orders:
                continue
            bid_k, ask_k = self.inputs.bids[i][k], self.inputs.asks[i][k]
            for o in list(orders):
                if not o.minute < m < o.minute + ttl:
                    continue
                crossed = (
                    (ask_k is not None and ask_k <= o.yes_price)
                    if o.side == "yes"
                    else (bid_k is not None and bid_k >= o.yes_price)
                )
                if crossed:
                    self._fill(o, o.count - o.filled, o.yes_price, self.inputs.ts[k], int(self.inputs.ts_us[k]))

    def expire(self, k: int) -> None:
        ttl = self.config.order_ttl_minutes
        for orders in self.open:
            for o in [o for o in orders if o.minute + ttl <= k]:
                o.status, o.ts_closed = "expired", self.inputs.ts[k]
                orders.remove(o)

    def close_all(self) -> None:
        for orders in self.open:
            for o in orders:
                o.status = "closed"
            orders.clear()

    # -- limits --------------------------------------------------------------------------------

    def _losses(self, i: int) -> tuple[Decimal, Decimal]:
        """Worst-case loss on ticker i if it settles NO (L0) and YES (L1), resting orders filled."""
        loss_no = -self.cash[i]
        loss_yes = -(self.cash[i] + self.position[i])
        for o in self.open[i]:
            rest = o.count - o.filled
            if o.side == "yes":
                loss_no += o.yes_price * rest
            else:
                loss_yes += (_ONE - o.yes_price) * rest
        return loss_no, loss_yes

    def exposure(self) -> Decimal:
        total = _ZERO
        for i in range(len(self.open)):
            loss_no, loss_yes = self._losses(i)
            total += max(_ZERO, loss_no, loss_yes)
        return total

    def position_room(self, i: int) -> tuple[int, int]:
        resting = ((o.side, o.count - o.filled) for o in self.open[i])
        return position_room(self.config.max_position_per_market, self.position[i], resting)

    def _room(self, i: int, side: str, price: Decimal) -> tuple[int, str]:
        room_yes, room_no = self.position_room(i)
        pos_room = room_yes if side == "yes" else room_no
        loss_no, loss_yes = self._losses(i)
        others = self.exposure() - max(_ZERO, loss_no, loss_yes)
        budget = self.config.max_exposure_dollars - others
        exp_room = (budget - loss_no) / price if side == "yes" else (budget - loss_yes) / (_ONE - price)
        exp_room_int = max(0, int(exp_room.to_integral_value(rounding=ROUND_FLOOR)))
        if pos_room <= exp_room_int:
            return pos_room, "position_limit"
        return exp_room_int, "exposure_limit"

    # -- orders --------------------------------------------------------------------------------

    def _reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def cancel(self, order_id: int, k: int) -> None:
        if not 0 < order_id <= len(self.orders):
            raise ValueError(f"{self.strategy_name} cancelled unknown order {order_id}")
        o = self.orders[order_id - 1]
        if o.status == "open":
            o.status, o.ts_closed = "cancelled", self.inputs.ts[k]
            self.open[o.market].remove(o)

    def place(self, intent: Order, k: int, index: dict[str, int]) -> None:
        i = index.get(intent.ticker)
        if i is None:
            raise ValueError(f"{self.strategy_name} ordered unknown ticker {intent.ticker!r}")
        p = intent.yes_price
        if intent.side not in ("yes", "no") or intent.liquidity not in ("maker", "taker"):
            raise ValueError(f"{self.strategy_name}: bad order {intent} (side yes|no, liquidity maker|taker)")
        if not isinstance(p, Decimal) or not MIN_PRICE <= p <= MAX_PRICE or p % TICK:
            raise ValueError(
                f"{self.strategy_name}: limit {p!r} on {intent.ticker} is not a Decimal cent in [0.01, 0.99]"
            )
        wanted = self.config.order_size if intent.count is None else intent.count
        if not isinstance(wanted, int) or wanted < 1:
            raise ValueError(f"{self.strategy_name}: order count {wanted!r} must be a positive int")
        bid, ask = self.inputs.bids[i][k], self.inputs.asks[i][k]
        yes = intent.side == "yes"
        if intent.liquidity == "taker":
            touch = ask if yes else bid
            if touch is None:
                return self._reject("no_liquidity")
            if (touch > p) if yes else (touch < p):
                return self._reject("not_marketable")
            fill_price = touch
        else:
            if (ask is not None and p >= ask) if yes else (bid is not None and p <= bid):
                return self._reject("post_only")
            fill_price = p
        room, binding = self._room(i, intent.side, fill_price)
        count = min(wanted, room)
        if count <= 0:
            return self._reject(binding)
        self.n_clipped += count < wanted
        order = PlacedOrder(len(self.orders) + 1, i, k, intent.side, p, count, intent.liquidity)
        self.orders.append(order)
        self.open[i].append(order)
        if intent.liquidity == "taker":
            self._fill(order, count, fill_price, self.inputs.ts[k], int(self.inputs.ts_us[k]))

    # -- the view ------------------------------------------------------------------------------

    def view(self, k: int) -> MinuteView:
        inp = self.inputs
        markets = []
        exposure = _ZERO
        for i, ticker in enumerate(inp.tickers):
            room_yes, room_no = self.position_room(i)
            loss_no, loss_yes = self._losses(i)
            exposure += max(_ZERO, loss_no, loss_yes)
            orders = self.open[i]
            markets.append(
                MarketState(
                    ticker,
                    inp.bids[i][k],
                    inp.asks[i][k],
                    inp.p_yes[i][k],
                    self.position[i],
                    room_yes,
                    room_no,
                    tuple(
                        OpenOrder(o.order_id, o.side, o.yes_price, o.count - o.filled, inp.ts[o.minute]) for o in orders
                    )
                    if orders
                    else (),
                    self.position_since[i],
                )
            )
        prints = (
            tuple(
                TradePrint(inp.tickers[i], ts, price, count) for i, _, price, count, ts in inp.trades_by_minute[k - 1]
            )
            if k > 0
            else ()
        )
        return MinuteView(inp.ts[k], k, tuple(markets), prints, exposure, self.fees, self.config)
