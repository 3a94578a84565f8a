"""A deterministic, causal, fee-aware backtest of one event (a city-day's bracket ladder).

Inputs are a dense 1-minute ``book`` as known at each minute (``core.quotes.book_known_at``), the
event's ``trades`` and a ``signal`` (``p_yes`` known at each minute). Prices are YES-terms dollars
on the YES book (V2 order semantics): buying YES is a bid at p, buying NO is an ask at p on the
YES book (the NO contract costs 1 - p). Money and counts are ``Decimal`` / ``int`` all the way
from order to PnL; only the equity curve and the metrics are floats.

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
- Exits: ``config.exit_rule`` ``hold`` keeps positions to settlement; ``time`` runs the strategy
  inside ``exits.TimedExit``, which closes each position a fixed time after it opened (the
  engine tells strategies when: ``MarketState.position_since``).
- Settlement from ``settled_yes``: a YES contract pays $1 if its bracket settled YES, a NO
  contract $1 if it settled NO; there is no settlement fee. Without ``settled_yes`` the result
  is marked to the last known mid and ``pnl.settled`` is False.

Positions are net YES contracts per ticker (Kalshi nets YES against NO): buying NO while long
YES closes YES contracts. Cash flow per contract is -p for a YES buy and +p for a NO buy
(= -(1 - p) premium, plus the $1 the pair is worth at settlement); both views give the same PnL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache

import numpy as np
import polars as pl

from kalshi_wx.core.backtest.exits import with_exit_rule
from kalshi_wx.core.backtest.interface import (
    MAX_PRICE,
    MIN_PRICE,
    TICK,
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
from kalshi_wx.core.fees import trading_fee
from kalshi_wx.core.payloads.kalshi import MONEY, PRICE, UTC_TS

_ONE = Decimal(1)
_ZERO = Decimal(0)
_MINUTE_US = 60_000_000


# ----------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Pnl:
    gross: Decimal
    fees: Decimal
    net: Decimal
    settled: bool  # False: marked to the last known mid instead of settled


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
    metrics: dict


@dataclass(frozen=True)
class BacktestDay:
    """One event's inputs for ``run_many``; fees are per day because a series' schedule can change."""

    label: str
    book: pl.DataFrame
    trades: pl.DataFrame
    signal: pl.DataFrame
    fees: FeeSchedule
    settled_yes: dict[str, bool] | None


@dataclass(frozen=True)
class ManyResult:
    days: pl.DataFrame  # label, gross, fees, net (Decimal), n_orders, n_fills, contracts, settled
    results: tuple[BacktestResult, ...]
    metrics: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------
# Input preparation


@lru_cache(maxsize=65_536)
def _fee(fee_type: str, multiplier: Decimal, count: int, price: Decimal, maker: bool) -> Decimal:
    return trading_fee(fee_type, multiplier, count, price, maker=maker)


def _require(frame: pl.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks column(s) {missing}; has {frame.columns}")


def _require_decimal(frame: pl.DataFrame, name: str, columns: Sequence[str]) -> None:
    for c in columns:
        if not isinstance(frame.schema[c], pl.Decimal):
            raise ValueError(f"{name}.{c} must be Decimal (the order path never uses floats), got {frame.schema[c]}")


@dataclass
class _Inputs:
    tickers: tuple[str, ...]
    ts: list[datetime]
    ts_us: np.ndarray
    bids: list[list[Decimal | None]]
    asks: list[list[Decimal | None]]
    p_yes: list[list[float | None]]
    marks: np.ndarray  # (tickers, minutes) float mid, empty side as 0 / 1, carried over empty books
    trades_by_minute: list[list[tuple[int, int, Decimal, Decimal, datetime]]]  # (i, ts_us, price, count, ts)


def _prepare(book: pl.DataFrame, trades: pl.DataFrame, signal: pl.DataFrame) -> _Inputs:
    _require(book, "book", ("ticker", "ts", "yes_bid", "yes_ask"))
    _require(trades, "trades", ("ticker", "ts", "yes_price", "count"))
    _require(signal, "signal", ("ticker", "ts", "p_yes"))
    _require_decimal(book, "book", ("yes_bid", "yes_ask"))
    _require_decimal(trades, "trades", ("yes_price",))
    if book.height == 0:
        raise ValueError("book is empty: nothing to backtest")

    book = book.select("ticker", "ts", "yes_bid", "yes_ask").sort("ticker", "ts")
    crossed = book.filter(pl.col("yes_bid") > pl.col("yes_ask"))
    if crossed.height:
        row = crossed.row(0, named=True)
        raise ValueError(
            f"book for {row['ticker']} at {row['ts']} is crossed: yes_bid {row['yes_bid']} > yes_ask {row['yes_ask']}"
        )
    tickers = tuple(book["ticker"].unique().sort().to_list())
    grid = book["ts"].unique().sort()
    n, t_len = len(tickers), grid.len()
    if book.height != n * t_len or book.select(pl.struct("ticker", "ts").is_duplicated().any()).item():
        raise ValueError(
            f"book must be a dense grid with one row per (ticker, ts): {book.height} rows for {n} tickers x "
            f"{t_len} minutes"
        )
    ts_us = grid.dt.epoch("us").to_numpy()
    if t_len > 1 and not (np.diff(ts_us) == _MINUTE_US).all():
        raise ValueError("book ts must be a regular 1-minute grid (the engine's clock is the grid index)")

    bid_col = book["yes_bid"].to_list()
    ask_col = book["yes_ask"].to_list()
    bids = [bid_col[i * t_len : (i + 1) * t_len] for i in range(n)]
    asks = [ask_col[i * t_len : (i + 1) * t_len] for i in range(n)]

    # An empty side is a bound: no bid = nobody pays more than 0, no ask = nobody sells below 1.
    marks = (
        book.select(
            pl.when(pl.col("yes_bid").is_not_null() | pl.col("yes_ask").is_not_null())
            .then(
                (pl.col("yes_bid").cast(pl.Float64).fill_null(0.0) + pl.col("yes_ask").cast(pl.Float64).fill_null(1.0))
                / 2
            )
            .forward_fill()
            .over(pl.col("ticker"))
            .alias("mark")
        )["mark"]
        .to_numpy()
        .reshape(n, t_len)
    )

    frame = pl.DataFrame({"ticker": list(tickers)}).join(pl.DataFrame({"ts": grid}), how="cross")
    sig = signal.select("ticker", "ts", pl.col("p_yes").cast(pl.Float64))
    if sig.select(pl.struct("ticker", "ts").is_duplicated().any()).item():
        raise ValueError("signal has more than one p_yes for some (ticker, ts)")
    # Signal rows off the grid (another ticker, another minute) are ignored; NaN is no signal.
    p_col = (
        frame.join(sig.with_columns(pl.col("ts").cast(grid.dtype)), on=["ticker", "ts"], how="left")
        .sort("ticker", "ts")["p_yes"]
        .fill_nan(None)
        .to_list()
    )
    p_yes = [p_col[i * t_len : (i + 1) * t_len] for i in range(n)]

    index = {t: i for i, t in enumerate(tickers)}
    unknown = set(trades["ticker"].unique().to_list()) - set(index)
    if unknown:
        raise ValueError(f"trades for ticker(s) {sorted(unknown)} that the book does not have")
    tr = (
        trades.select(
            "ticker",
            pl.col("ts").cast(grid.dtype),
            pl.col("ts").dt.epoch("us").alias("ts_us"),
            "yes_price",
            pl.col("count").cast(pl.Decimal(18, 2)),
        )
        .with_columns(((pl.col("ts_us") - int(ts_us[0])) // _MINUTE_US).alias("minute"))
        .filter((pl.col("minute") >= 0) & (pl.col("minute") < t_len))
        .sort("ts_us", "ticker", "yes_price", "count", maintain_order=True)
    )
    trades_by_minute: list[list] = [[] for _ in range(t_len)]
    for ticker, ts, us, price, count, minute in tr.iter_rows():
        if count <= 0:
            raise ValueError(f"trade on {ticker} at {ts} has count {count}")
        trades_by_minute[minute].append((index[ticker], us, price, count, ts))
    return _Inputs(tickers, grid.to_list(), ts_us, bids, asks, p_yes, marks, trades_by_minute)


# ----------------------------------------------------------------------------------------------
# The simulation


class _Order:
    __slots__ = ("order_id", "i", "minute", "side", "yes_price", "count", "liquidity", "status", "filled",
                 "credit", "fee", "ts_closed")  # fmt: skip

    def __init__(self, order_id: int, i: int, minute: int, side: str, yes_price: Decimal, count: int, liquidity: str):
        self.order_id = order_id
        self.i = i
        self.minute = minute
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


class _Book:
    """Mutable state of one run: orders, positions, cash and fills."""

    def __init__(self, inputs: _Inputs, fees: FeeSchedule, config: BacktestConfig, strategy_name: str):
        self.inp = inputs
        self.fees = fees
        self.config = config
        self.haircut = Decimal(str(config.queue_haircut))
        n = len(inputs.tickers)
        self.orders: list[_Order] = []
        self.open: list[list[_Order]] = [[] for _ in range(n)]
        self.position = [0] * n
        self.position_since: list[datetime | None] = [None] * n
        self.cash = [_ZERO] * n
        self.fee_paid = [_ZERO] * n
        self.fills: list[tuple] = []
        self.rejected: dict[str, int] = {}
        self.n_clipped = 0
        self.strategy_name = strategy_name

    # -- fills ---------------------------------------------------------------------------------

    def _fill(self, order: _Order, count: int, price: Decimal, ts: datetime, ts_us: int) -> None:
        maker = order.liquidity == "maker"
        total = order.filled + count
        fee_total = _fee(self.fees.fee_type, self.fees.fee_multiplier, total, price, maker)
        fee = fee_total - order.fee
        order.filled, order.fee = total, fee_total
        i = order.i
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
        self.fills.append((order.order_id, i, ts, ts_us, order.side, price, count, order.liquidity, fee))
        if total == order.count:
            order.status, order.ts_closed = "filled", ts
            self.open[i].remove(order)

    def fill_from_minute(self, m: int) -> None:
        """Resting orders live during minute m meet its prints, then the book that closed it."""
        ttl = self.config.order_ttl_minutes
        for i, us, price, count, ts in self.inp.trades_by_minute[m]:
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
        if k >= len(self.inp.ts):
            return
        for i, orders in enumerate(self.open):
            if not orders:
                continue
            bid_k, ask_k = self.inp.bids[i][k], self.inp.asks[i][k]
            for o in list(orders):
                if not o.minute < m < o.minute + ttl:
                    continue
                crossed = (
                    (ask_k is not None and ask_k <= o.yes_price)
                    if o.side == "yes"
                    else (bid_k is not None and bid_k >= o.yes_price)
                )
                if crossed:
                    self._fill(o, o.count - o.filled, o.yes_price, self.inp.ts[k], int(self.inp.ts_us[k]))

    def expire(self, k: int) -> None:
        ttl = self.config.order_ttl_minutes
        for orders in self.open:
            for o in [o for o in orders if o.minute + ttl <= k]:
                o.status, o.ts_closed = "expired", self.inp.ts[k]
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
        cap, pos = self.config.max_position_per_market, self.position[i]
        room_yes, room_no = cap - pos, cap + pos
        for o in self.open[i]:
            if o.side == "yes":
                room_yes -= o.count - o.filled
            else:
                room_no -= o.count - o.filled
        return max(0, room_yes), max(0, room_no)

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
            o.status, o.ts_closed = "cancelled", self.inp.ts[k]
            self.open[o.i].remove(o)

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
        bid, ask = self.inp.bids[i][k], self.inp.asks[i][k]
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
        order = _Order(len(self.orders) + 1, i, k, intent.side, p, count, intent.liquidity)
        self.orders.append(order)
        self.open[i].append(order)
        if intent.liquidity == "taker":
            self._fill(order, count, fill_price, self.inp.ts[k], int(self.inp.ts_us[k]))

    # -- the view ------------------------------------------------------------------------------

    def view(self, k: int) -> MinuteView:
        inp = self.inp
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


def run_backtest(
    book: pl.DataFrame,
    trades: pl.DataFrame,
    signal: pl.DataFrame,
    strategy: Strategy,
    fees: FeeSchedule,
    settled_yes: dict[str, bool] | None,
    config: BacktestConfig,
) -> BacktestResult:
    """Run ``strategy`` over one event, under ``config.exit_rule``; see the module docstring for the rules."""
    strategy = with_exit_rule(strategy, config)
    inputs = _prepare(book, trades, signal)
    state = _Book(inputs, fees, config, getattr(strategy, "name", type(strategy).__name__))
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
    return _result(state, settled_yes)


# ----------------------------------------------------------------------------------------------
# Results


def _payouts(tickers: tuple[str, ...], settled_yes: dict[str, bool] | None, traded: set[int]) -> list[bool | None]:
    if settled_yes is None:
        return [None] * len(tickers)
    missing = [tickers[i] for i in sorted(traded) if tickers[i] not in settled_yes]
    if missing:
        raise ValueError(f"settled_yes has no outcome for traded ticker(s) {missing}")
    return [settled_yes.get(t) for t in tickers]


def _last_mark(inp: _Inputs, i: int) -> Decimal:
    for bid, ask in zip(reversed(inp.bids[i]), reversed(inp.asks[i]), strict=True):
        if bid is not None or ask is not None:
            return ((bid if bid is not None else _ZERO) + (ask if ask is not None else _ONE)) / 2
    return Decimal("0.5")


def _result(state: _Book, settled_yes: dict[str, bool] | None) -> BacktestResult:
    inp = state.inp
    tickers = inp.tickers
    n = len(tickers)
    traded = {f[1] for f in state.fills}
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
        if f[4] == "yes":
            yes_bought[f[1]] += f[6]
        else:
            no_bought[f[1]] += f[6]
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
    metrics = {
        "strategy": state.strategy_name,
        "n_orders": len(state.orders),
        "n_fills": len(state.fills),
        "n_maker_fills": int((fills["liquidity"] == "maker").sum()) if fills.height else 0,
        "n_clipped": state.n_clipped,
        "rejected": dict(sorted(state.rejected.items())),
        "contracts": contracts,
        "turnover_dollars": float(sum((f[6] * (f[5] if f[4] == "yes" else _ONE - f[5]) for f in state.fills), _ZERO)),
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


def _fills_frame(state: _Book, outcomes: list[bool | None]) -> pl.DataFrame:
    inp = state.inp
    rows = state.fills
    t_len = len(inp.ts)
    # The mid as known just after the fill: the first grid minute at or after it (the markout reference).
    after = np.minimum(
        np.searchsorted(inp.ts_us, np.array([f[3] for f in rows], dtype=np.int64), side="left"), t_len - 1
    )
    minute = np.searchsorted(inp.ts_us, np.array([f[3] for f in rows], dtype=np.int64), side="right") - 1
    payout, p_signal, side_price, mid_after = [], [], [], []
    for f, a, m in zip(rows, after.tolist(), minute.tolist(), strict=True):
        i, side, yes_price = f[1], f[4], f[5]
        won = outcomes[i]
        payout.append(None if won is None else (_ONE if won == (side == "yes") else _ZERO))
        p = inp.p_yes[i][m]
        p_signal.append(None if p is None else (p if side == "yes" else 1.0 - p))
        side_price.append(yes_price if side == "yes" else _ONE - yes_price)
        mid_after.append(float(inp.marks[i, a]) if not math.isnan(inp.marks[i, a]) else None)
    return pl.DataFrame(
        {
            "fill_id": list(range(1, len(rows) + 1)),
            "order_id": [f[0] for f in rows],
            "ticker": [inp.tickers[f[1]] for f in rows],
            "ts": [f[2] for f in rows],
            "side": [f[4] for f in rows],
            "price": side_price,
            "yes_price": [f[5] for f in rows],
            "count": [f[6] for f in rows],
            "liquidity": [f[7] for f in rows],
            "fee": [f[8] for f in rows],
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


def _orders_frame(state: _Book) -> pl.DataFrame:
    inp = state.inp
    orders = state.orders
    return pl.DataFrame(
        {
            "order_id": [o.order_id for o in orders],
            "ticker": [inp.tickers[o.i] for o in orders],
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


def _equity(state: _Book, outcomes: list[bool | None], pnl: Pnl) -> pl.DataFrame:
    """Cash after fees plus positions marked to the mid known at each minute; then the settled value."""
    inp = state.inp
    n, t_len = len(inp.tickers), len(inp.ts)
    pos = np.zeros((n, t_len + 1))
    cash = np.zeros(t_len + 1)
    if state.fills:
        us = np.array([f[3] for f in state.fills], dtype=np.int64)
        # A fill counts from the first grid minute at or after it (t_len: only in the final value).
        at = np.searchsorted(inp.ts_us, us, side="left")
        sign = np.array([1.0 if f[4] == "yes" else -1.0 for f in state.fills])
        count = np.array([f[6] for f in state.fills], dtype=np.float64)
        price = np.array([float(f[5]) for f in state.fills])
        fee = np.array([float(f[8]) for f in state.fills])
        idx = np.array([f[1] for f in state.fills])
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
    metrics = {
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
