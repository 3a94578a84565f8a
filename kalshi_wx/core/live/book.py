"""One market's order book as the WebSocket reports it: YES bids and NO bids keyed by price.

Kalshi shows bids only (reference s2, orderbook): a NO bid at p is a YES ask at 1 - p, so the best
YES ask is 1 - the best NO bid. Prices are ``Decimal`` dollars and sizes ``Decimal`` contracts,
exactly as parsed; nothing here rounds. A book is *valid* once a snapshot has been applied and
until something proves it wrong: a delta that would leave a negative size (a message was lost)
or ``invalidate`` (a sequence gap on its subscription, a reconnect). A valid book may be crossed
(best YES bid >= best YES ask), which the exchange never shows, so a crossed book is reported
and kept out of recorded snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from heapq import nlargest
from typing import Literal

from kalshi_wx.core.fixed_point import ONE, ZERO

Side = Literal["yes", "no"]


class BookError(ValueError):
    """A message that cannot apply to the book; the book is invalid until the next snapshot."""

    def __init__(self, market_ticker: str, message: str):
        self.market_ticker = market_ticker
        super().__init__(f"order book {market_ticker}: {message}")


@dataclass(frozen=True, slots=True)
class Level:
    price: Decimal  # dollars
    size: Decimal  # contracts


@dataclass(frozen=True, slots=True)
class BookTop:
    """The touch in YES terms; a side with no bids is None (and so are the mid and spread)."""

    yes_bid: Level | None
    yes_ask: Level | None

    @property
    def no_bid(self) -> Decimal | None:
        return None if self.yes_ask is None else ONE - self.yes_ask.price

    @property
    def no_ask(self) -> Decimal | None:
        return None if self.yes_bid is None else ONE - self.yes_bid.price

    @property
    def spread(self) -> Decimal | None:
        if self.yes_bid is None or self.yes_ask is None:
            return None
        return self.yes_ask.price - self.yes_bid.price

    @property
    def yes_mid(self) -> Decimal | None:
        if self.yes_bid is None or self.yes_ask is None:
            return None
        return (self.yes_bid.price + self.yes_ask.price) / 2


class OrderBook:
    """Bids of one market. ``seq`` is the sequence number of the last message applied, ``version``
    counts changes (a caller can cache anything derived from the book by it)."""

    __slots__ = ("market_ticker", "_sides", "_best", "_valid", "seq", "update_ts_ms", "version")

    def __init__(self, market_ticker: str):
        self.market_ticker = market_ticker
        self._sides: dict[Side, dict[Decimal, Decimal]] = {"yes": {}, "no": {}}
        self._best: dict[Side, Decimal | None] = {"yes": None, "no": None}
        self._valid = False
        self.seq: int | None = None
        self.update_ts_ms: int | None = None  # exchange time of the last delta applied; None after a snapshot
        self.version = 0

    # -- updates -------------------------------------------------------------------------------------

    def apply_snapshot(
        self,
        yes: Iterable[tuple[Decimal, Decimal]],
        no: Iterable[tuple[Decimal, Decimal]],
        *,
        seq: int | None = None,
    ) -> None:
        """Replace both sides; zero sizes are dropped, a repeated price or a negative size is refused."""
        sides: dict[Side, dict[Decimal, Decimal]] = {"yes": self._checked("yes", yes), "no": self._checked("no", no)}
        self._sides = sides
        self._best = {"yes": max(sides["yes"], default=None), "no": max(sides["no"], default=None)}
        self._valid = True
        self.seq = seq
        self.update_ts_ms = None
        self.version += 1

    def _checked(self, side: Side, levels: Iterable[tuple[Decimal, Decimal]]) -> dict[Decimal, Decimal]:
        out: dict[Decimal, Decimal] = {}
        for price, size in levels:
            if not ZERO <= price <= ONE:
                raise BookError(self.market_ticker, f"snapshot {side} price {price} is outside [0, 1]")
            if size < 0:
                raise BookError(self.market_ticker, f"snapshot {side} size {size} at {price} is negative")
            if price in out:
                raise BookError(self.market_ticker, f"snapshot lists {side} {price} twice")
            if size > 0:
                out[price] = size
        return out

    def apply_delta(
        self, side: Side, price: Decimal, delta: Decimal, *, seq: int | None = None, ts_ms: int | None = None
    ) -> None:
        """Add ``delta`` (signed) contracts at ``price`` on ``side``.

        A delta that would leave a negative size means a message was missed: the book is
        invalidated and ``BookError`` raised, so the caller fetches a fresh snapshot.
        """
        if not self._valid:
            raise BookError(self.market_ticker, "delta before a snapshot")
        levels = self._sides[side]
        size = levels.get(price, ZERO) + delta
        if size < 0:
            self.invalidate()
            raise BookError(
                self.market_ticker, f"delta {delta} at {side} {price} leaves {size} contracts (a message was missed)"
            )
        best = self._best[side]
        if size == 0:
            levels.pop(price, None)
            if price == best:
                self._best[side] = max(levels, default=None)
        else:
            levels[price] = size
            if best is None or price > best:
                self._best[side] = price
        self.seq = seq
        self.update_ts_ms = ts_ms
        self.version += 1

    def invalidate(self) -> None:
        """Forget the book (a gap on its subscription, a reconnect): invalid until the next snapshot."""
        self._sides = {"yes": {}, "no": {}}
        self._best = {"yes": None, "no": None}
        self._valid = False
        self.seq = None
        self.update_ts_ms = None
        self.version += 1

    # -- reading -------------------------------------------------------------------------------------

    @property
    def has_snapshot(self) -> bool:
        return self._valid

    @property
    def is_crossed(self) -> bool:
        """Best YES bid at or above the best YES ask: two bids that should have matched."""
        yes, no = self._best["yes"], self._best["no"]
        return yes is not None and no is not None and yes + no >= ONE

    @property
    def is_valid(self) -> bool:
        """Snapshot applied, nothing lost since, and not crossed: fit to record or to trade on."""
        return self._valid and not self.is_crossed

    def best_bid(self, side: Side) -> Level | None:
        price = self._best[side]
        return None if price is None else Level(price, self._sides[side][price])

    def best_yes_ask(self) -> Level | None:
        """The cheapest YES offer: the best NO bid seen from the YES side."""
        no = self.best_bid("no")
        return None if no is None else Level(ONE - no.price, no.size)

    def best_no_ask(self) -> Level | None:
        yes = self.best_bid("yes")
        return None if yes is None else Level(ONE - yes.price, yes.size)

    def top(self) -> BookTop:
        return BookTop(self.best_bid("yes"), self.best_yes_ask())

    def bids(self, side: Side, depth: int | None = None) -> tuple[Level, ...]:
        """Bids of ``side``, best (highest) first; all of them when ``depth`` is None."""
        levels = self._sides[side]
        prices = sorted(levels, reverse=True) if depth is None else nlargest(depth, levels)
        return tuple(Level(p, levels[p]) for p in prices)

    def yes_asks(self, depth: int | None = None) -> tuple[Level, ...]:
        """YES offers, cheapest first: the NO bids at 1 - price."""
        return tuple(Level(ONE - level.price, level.size) for level in self.bids("no", depth))

    def size_at(self, side: Side, price: Decimal) -> Decimal:
        return self._sides[side].get(price, ZERO)

    def levels(self, side: Side) -> dict[Decimal, Decimal]:
        """A copy of ``side`` as {price: size}; compare two books with ``levels`` of both sides."""
        return dict(self._sides[side])

    def problems(self) -> list[str]:
        """What is wrong with the book right now (empty when it is valid)."""
        if not self._valid:
            return [f"{self.market_ticker}: no snapshot since the book was last invalidated"]
        if self.is_crossed:
            top = self.top()
            assert top.yes_bid is not None and top.yes_ask is not None
            return [f"{self.market_ticker}: crossed, YES bid {top.yes_bid.price} >= YES ask {top.yes_ask.price}"]
        return []

    def __repr__(self) -> str:
        top = self.top()
        bid = top.yes_bid.price if top.yes_bid else None
        ask = top.yes_ask.price if top.yes_ask else None
        return f"OrderBook({self.market_ticker}, valid={self._valid}, yes_bid={bid}, yes_ask={ask}, seq={self.seq})"
