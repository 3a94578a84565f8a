"""Which CLI products a settlement poll has not handled yet: the cursor of one CLI location, as plain data.

api.weather.gov lists a location's products newest first, each with an id and an issuance time. A
poll asks for the products issued since the cursor's ``since``, handles each id it has not seen, and
moves ``since`` up to the newest product, or only to the oldest one it had to hold back (its
partition does not exist yet), so a held product is listed again on the next poll. Ids handled at or
after ``since`` are remembered, so a product is never handled twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ListedProduct:
    id: str
    issued_at: datetime


@dataclass(frozen=True)
class PollState:
    """One CLI location's cursor: products issued from ``since`` on are listed; ``handled`` ids among them are done."""

    since: datetime
    handled: frozenset[str] = frozenset()

    def unhandled(self, listed: Iterable[ListedProduct]) -> list[ListedProduct]:
        """The listed products not handled yet, oldest first (a correction comes after what it corrects)."""
        fresh = [p for p in listed if p.id not in self.handled and p.issued_at >= self.since]
        return sorted(fresh, key=lambda p: (p.issued_at, p.id))

    def advance(
        self, listed: Iterable[ListedProduct], handled: Iterable[str], held: Iterable[ListedProduct]
    ) -> PollState:
        """The cursor after a poll that listed ``listed``, handled ``handled`` and held back ``held``."""
        listed = list(listed)
        held = list(held)
        # A held product must be listed again; otherwise the newest listed one is where the next poll starts.
        since = min(p.issued_at for p in held) if held else max([self.since, *(p.issued_at for p in listed)])
        done = self.handled | frozenset(handled)
        # Only ids that the next listing (issued >= since) can still return need remembering.
        keep = frozenset(p.id for p in listed if p.issued_at >= since and p.id in done)
        return PollState(since=since, handled=keep)

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(), "handled": sorted(self.handled)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PollState:
        return cls(since=datetime.fromisoformat(data["since"]), handled=frozenset(data["handled"]))
