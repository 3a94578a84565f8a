"""Bracket semantics from ``strike_type`` + ``floor_strike`` / ``cap_strike``, never the ticker letter.

A bracket is mapped to the set of whole degrees ``v`` (the CLI max) for which it settles YES,
written as an inclusive integer range ``[lo, hi]`` with ``None`` for an open end. A ladder is an
event's brackets; it must cover every whole degree exactly once so that probabilities sum to 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from kalshi_wx.core.errors import PayloadError

SUPPORTED_STRIKE_TYPES = ("greater", "greater_or_equal", "less", "less_or_equal", "between")


@dataclass(frozen=True)
class Bracket:
    ticker: str
    lo: int | None  # lowest whole degree that settles YES; None = unbounded below
    hi: int | None  # highest whole degree that settles YES; None = unbounded above

    def wins(self, v: int) -> bool:
        return (self.lo is None or v >= self.lo) and (self.hi is None or v <= self.hi)

    @property
    def label(self) -> str:
        if self.lo is None:
            return f"{self.hi}° or below"
        if self.hi is None:
            return f"{self.lo}° or above"
        return f"{self.lo}° to {self.hi}°"


def _strike(value: object, *, field: str, ticker: str, source: str) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(source, f"strike must be a number, got {value!r}", field=field, ticker=ticker)
    return float(value)


def bracket_from_strikes(
    ticker: str, strike_type: str, floor_strike: object, cap_strike: object, *, source: str = "market"
) -> Bracket:
    """The whole-degree YES range of one market (reference/kalshi_api.md s4)."""
    if strike_type in ("greater", "greater_or_equal"):
        floor = _strike(floor_strike, field="floor_strike", ticker=ticker, source=source)
        lo = math.floor(floor) + 1 if strike_type == "greater" else math.ceil(floor)
        return Bracket(ticker, lo, None)
    if strike_type in ("less", "less_or_equal"):
        cap = _strike(cap_strike, field="cap_strike", ticker=ticker, source=source)
        hi = math.ceil(cap) - 1 if strike_type == "less" else math.floor(cap)
        return Bracket(ticker, None, hi)
    if strike_type == "between":
        floor = _strike(floor_strike, field="floor_strike", ticker=ticker, source=source)
        cap = _strike(cap_strike, field="cap_strike", ticker=ticker, source=source)
        lo, hi = math.ceil(floor), math.floor(cap)
        if lo > hi:
            raise PayloadError(source, f"between {floor}..{cap} holds no whole degree", ticker=ticker)
        return Bracket(ticker, lo, hi)
    raise PayloadError(
        source,
        f"strike_type {strike_type!r} is not a temperature bracket (expected one of {SUPPORTED_STRIKE_TYPES})",
        field="strike_type",
        ticker=ticker,
    )


def brackets_of(markets: pl.DataFrame) -> list[Bracket]:
    """The brackets of a ``kalshi.markets`` frame (its ticker, lo_f and hi_f), in row order."""
    return [Bracket(t, lo, hi) for t, lo, hi in markets.select("ticker", "lo_f", "hi_f").iter_rows()]


def validate_ladder(brackets: Iterable[Bracket], *, event: str = "event") -> list[Bracket]:
    """Sort a ladder low to high and check it covers every whole degree exactly once."""
    ladder = sorted(brackets, key=lambda b: -math.inf if b.lo is None else b.lo)
    if not ladder:
        raise PayloadError(event, "ladder has no brackets")
    if ladder[0].lo is not None:
        raise PayloadError(event, f"no bracket covers temperatures below {ladder[0].lo}°", ticker=ladder[0].ticker)
    if ladder[-1].hi is not None:
        raise PayloadError(event, f"no bracket covers temperatures above {ladder[-1].hi}°", ticker=ladder[-1].ticker)
    for below, above in zip(ladder, ladder[1:], strict=False):
        if below.hi is None or above.lo is None or above.lo != below.hi + 1:
            raise PayloadError(
                event,
                f"brackets {below.ticker} ({below.label}) and {above.ticker} ({above.label}) overlap or leave a gap",
                ticker=above.ticker,
            )
    return ladder


def winning_bracket(ladder: Sequence[Bracket], v: int) -> Bracket:
    """The one bracket of a validated ladder that settles YES for CLI max ``v``."""
    winners = [b for b in ladder if b.wins(v)]
    if len(winners) != 1:
        raise ValueError(f"{len(winners)} brackets win for {v}°: ladder is not valid")
    return winners[0]


def bracket_indices(ladder: Sequence[Bracket], whole_degrees: np.ndarray) -> np.ndarray:
    """Index into a validated ladder of the bracket each whole-degree value falls in."""
    uppers = np.array([b.hi for b in ladder[:-1]], dtype=np.int64)
    return np.searchsorted(uppers, np.asarray(whole_degrees, dtype=np.int64), side="left")
