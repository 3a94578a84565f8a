"""Live order books for the simulator's WebSocket: books that move in real time, one delta at a time.

Each open market has a *target* touch from its simulated maker (the weather maker's minute quotes
of ``exchange.CityDay``, the crypto maker of ``crypto``). A market emits deltas at ``deltas_per_s``
on average; each delta is the next step towards the target (pull a level that is now through the
target, then post the new touch, then fill in depth) or, when the book is on target, churn (a size
change at some level, or a taker trade at the touch). So the book always follows its maker, with the
lag of a real delta stream, and it is never crossed.

Prices are whole cents and sizes hundredths of a contract, whole contracts only, so the legacy
integer wire format carries them exactly. Deterministic from the seed for a given sequence of steps.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from kalshi_wx.core.seeds import stable_seed
from kalshi_wx.sources.sim import crypto
from kalshi_wx.sources.sim.common import SimConfig
from kalshi_wx.sources.sim.exchange import NO_ASK, NO_BID, CityDay, simulate_city_day

Side = Literal["yes", "no"]
SIDES: tuple[Side, Side] = ("yes", "no")
Touch = Callable[[float], tuple[int, int]]
"""(bid, ask) in cents at an epoch second; NO_BID / NO_ASK for an empty side."""
_UNIVERSE_REFRESH_S = 1.0


@dataclass(frozen=True)
class LiveMarket:
    ticker: str
    series: str
    open_ts: int
    close_ts: int
    touch: Touch = field(compare=False)
    result_at_close: Callable[[], str] | None = field(default=None, compare=False)

    @property
    def market_id(self) -> str:
        return str(uuid.UUID(int=stable_seed(self.ticker, "market_id")))


@dataclass(frozen=True, slots=True)
class BookDelta:
    ticker: str
    side: Side
    price: int  # cents
    delta: int  # hundredths of a contract, signed
    ts_ms: int


@dataclass(frozen=True, slots=True)
class Trade:
    ticker: str
    trade_id: str
    yes_price: int  # cents
    count: int  # hundredths
    taker_yes: bool
    ts_ms: int


@dataclass(frozen=True, slots=True)
class TopChange:
    """The touch of a market moved (what the ``ticker`` channel reports)."""

    ticker: str
    yes_bid: int
    yes_ask: int
    yes_bid_size: int
    yes_ask_size: int
    volume: int
    ts_ms: int


@dataclass(frozen=True, slots=True)
class Lifecycle:
    ticker: str
    event_type: str  # created, activated, determined
    open_ts: int
    close_ts: int
    result: str | None
    ts_ms: int


FeedEvent = BookDelta | Trade | TopChange | Lifecycle


class _Book:
    __slots__ = ("market", "yes", "no", "rng", "volume", "top")

    def __init__(self, market: LiveMarket, seed: int):
        self.market = market
        self.yes: dict[int, int] = {}
        self.no: dict[int, int] = {}
        self.rng = random.Random(stable_seed(seed, market.ticker, "live"))
        self.volume = 0
        self.top = (NO_BID, NO_ASK, 0, 0)

    def size(self) -> int:
        return 100 * int(min(2000, max(1, self.rng.lognormvariate(3.5, 1.2))))

    def side(self, side: Side) -> dict[int, int]:
        return self.yes if side == "yes" else self.no

    def current_top(self) -> tuple[int, int, int, int]:
        bid = max(self.yes, default=NO_BID)
        no = max(self.no, default=0)
        return bid, (100 - no if no else NO_ASK), self.yes.get(bid, 0), self.no.get(no, 0)


class LiveBookFeed:
    """The books of every open market of ``universe(now)``, stepped forward by ``step(now)``."""

    def __init__(
        self,
        universe: Callable[[float], Iterable[LiveMarket]],
        *,
        seed: int,
        deltas_per_s: float = 2.0,
        levels: int = 5,
        trade_share: float = 0.05,
    ):
        if deltas_per_s <= 0:
            raise ValueError(f"deltas_per_s must be > 0, got {deltas_per_s}")
        self._universe = universe
        self._seed = seed
        self.deltas_per_s = deltas_per_s
        self.levels = levels
        self.trade_share = trade_share
        self._books: dict[str, _Book] = {}
        self._rng = np.random.default_rng(stable_seed(seed, "live-feed"))
        self._last_step: float | None = None
        self._next_refresh = float("-inf")
        self._trade_serial = 0

    @property
    def tickers(self) -> list[str]:
        return list(self._books)

    def market(self, ticker: str) -> LiveMarket | None:
        book = self._books.get(ticker)
        return None if book is None else book.market

    def levels_of(self, ticker: str) -> tuple[dict[int, int], dict[int, int]] | None:
        """(YES bids, NO bids) as {cents: hundredths} copies; None for a market not open."""
        book = self._books.get(ticker)
        return None if book is None else (dict(book.yes), dict(book.no))

    def step(self, now: float) -> list[FeedEvent]:
        """Everything that happened since the last step, in order, up to epoch second ``now``."""
        events: list[FeedEvent] = []
        ts_ms = int(now * 1000)
        if now >= self._next_refresh or any(b.market.close_ts <= now for b in self._books.values()):
            self._refresh(now, ts_ms, events)
            self._next_refresh = now + _UNIVERSE_REFRESH_S
        dt = 0.0 if self._last_step is None else max(0.0, now - self._last_step)
        self._last_step = now
        if not self._books or dt == 0.0:
            return events
        books = list(self._books.values())
        for book, count in zip(books, self._rng.poisson(self.deltas_per_s * dt, len(books)).tolist(), strict=True):
            if count:
                target = book.market.touch(now)
                for _ in range(count):
                    self._one(book, target, ts_ms, events)
        return events

    def _refresh(self, now: float, ts_ms: int, events: list[FeedEvent]) -> None:
        current = {m.ticker: m for m in self._universe(now) if m.open_ts <= now < m.close_ts}
        for ticker in [t for t in self._books if t not in current]:
            market = self._books.pop(ticker).market
            outcome = market.result_at_close() if market.result_at_close else None
            if outcome is not None:
                events.append(Lifecycle(ticker, "determined", market.open_ts, market.close_ts, outcome, ts_ms))
        for ticker, market in current.items():
            if ticker in self._books:
                continue
            book = self._books[ticker] = _Book(market, self._seed)
            self._fill(book, market.touch(now))
            book.top = book.current_top()
            for event_type in ("created", "activated"):
                events.append(Lifecycle(ticker, event_type, market.open_ts, market.close_ts, None, ts_ms))

    def _fill(self, book: _Book, target: tuple[int, int]) -> None:
        """A new market's book: the target touch and ``levels`` levels behind it on each side."""
        bid, ask = target
        if bid != NO_BID:
            for price in range(bid, max(bid - self.levels, 0), -1):
                book.yes[price] = book.size()
        if ask != NO_ASK:
            for price in range(100 - ask, max(100 - ask - self.levels, 0), -1):
                book.no[price] = book.size()

    def _one(self, book: _Book, target: tuple[int, int], ts_ms: int, events: list[FeedEvent]) -> None:
        change = self._towards(book, target) or self._churn(book, ts_ms, events)
        if change is None:
            return
        side, price, delta = change
        levels = book.side(side)
        size = levels.get(price, 0) + delta
        if size:
            levels[price] = size
        else:
            levels.pop(price, None)
        events.append(BookDelta(book.market.ticker, side, price, delta, ts_ms))
        top = book.current_top()
        if top != book.top:
            book.top = top
            events.append(TopChange(book.market.ticker, *top, book.volume, ts_ms))

    def _towards(self, book: _Book, target: tuple[int, int]) -> tuple[Side, int, int] | None:
        bid, ask = target
        best_no_target = 0 if ask == NO_ASK else 100 - ask
        through_yes = [p for p in book.yes if p > bid]
        if through_yes:
            price = max(through_yes)
            return "yes", price, -book.yes[price]
        through_no = [p for p in book.no if p > best_no_target]
        if through_no:
            price = max(through_no)
            return "no", price, -book.no[price]
        if bid != NO_BID and bid not in book.yes:
            return "yes", bid, book.size()
        if best_no_target and best_no_target not in book.no:
            return "no", best_no_target, book.size()
        for side, touch in zip(SIDES, (bid, best_no_target), strict=True):
            levels = book.side(side)
            if touch and len(levels) < self.levels:
                free = [p for p in range(touch - 1, max(touch - self.levels - 2, 0), -1) if p not in levels]
                if free:
                    return side, book.rng.choice(free), book.size()
        return None

    def _churn(self, book: _Book, ts_ms: int, events: list[FeedEvent]) -> tuple[Side, int, int] | None:
        sides = [side for side in SIDES if book.side(side)]
        if not sides:
            return None
        side = book.rng.choice(sides)
        levels = book.side(side)
        best = max(levels)
        if book.rng.random() < self.trade_share:
            # A taker lifts part of the touch: a YES bid is hit by a NO buyer, a NO bid by a YES buyer.
            count = min(levels[best], 100 * book.rng.randint(1, 20))
            self._trade_serial += 1
            taker_yes = side == "no"
            yes_price = 100 - best if taker_yes else best
            trade_id = str(uuid.UUID(int=stable_seed(self._seed, book.market.ticker, self._trade_serial, "trade")))
            book.volume += count
            events.append(Trade(book.market.ticker, trade_id, yes_price, count, taker_yes, ts_ms))
            return side, best, -count
        price = book.rng.choice(list(levels))
        change = 100 * book.rng.randint(1, 30)
        if book.rng.random() < 0.5 and levels[price] > change:
            change = -change
        return side, price, change


# --- the simulator's open markets -------------------------------------------------------------------------


def _weather_touch(day: CityDay, i: int) -> Touch:
    start_us = int(day.start.timestamp() * 1_000_000)

    def touch(ts: float) -> tuple[int, int]:
        offset = int(ts * 1_000_000) - start_us
        k = offset // 60_000_000
        if not 0 <= k < day.bid.shape[1]:
            return NO_BID, NO_ASK
        if offset % 60_000_000 < int(day.quote_us[k]):  # the minute's requote has not happened yet
            k -= 1
        if k < 0:
            return NO_BID, NO_ASK
        return int(day.bid[i, k]), int(day.ask[i, k])

    return touch


def weather_markets(config: SimConfig, series: Sequence[str], now: float) -> list[LiveMarket]:
    """The markets of the climate day in progress at ``now`` for each city whose series is listed."""
    markets = []
    for city in config.cities:
        if city.series not in series:
            continue
        moment = datetime.fromtimestamp(now, UTC) + timedelta(hours=city.std_utc_offset_hours)
        day = simulate_city_day(config, city.key, moment.date())
        for i, spec in enumerate(day.markets):
            markets.append(
                LiveMarket(
                    spec.ticker,
                    city.series,
                    int(day.open_time.timestamp()),
                    int(day.close_time.timestamp()),
                    _weather_touch(day, i),
                )
            )
    return markets


def _crypto_market(config: SimConfig, market: crypto.CryptoMarket) -> LiveMarket:
    def touch(ts: float) -> tuple[int, int]:
        return crypto.touch_cents(config.seed, market, ts)

    def result() -> str:
        return crypto.result(config.seed, market)

    return LiveMarket(market.ticker, market.series.ticker, market.open_ts, market.close_ts, touch, result)


def crypto_markets(config: SimConfig, series: Sequence[str], now: float) -> list[LiveMarket]:
    """The open window's markets of each listed crypto series."""
    return [
        _crypto_market(config, market)
        for spec in config.crypto
        if spec.ticker in series
        for market in crypto.open_markets(config, spec, now)
    ]


def sim_universe(config: SimConfig, series: Sequence[str]) -> Callable[[float], list[LiveMarket]]:
    """The open markets of ``series`` (weather and crypto) as a function of the clock."""
    known = {c.series for c in config.cities} | {c.ticker for c in config.crypto}
    unknown = [s for s in series if s not in known]
    if unknown:
        raise ValueError(f"series {', '.join(unknown)} not simulated; known: {', '.join(sorted(known))}")
    return lambda now: weather_markets(config, series, now) + crypto_markets(config, series, now)
