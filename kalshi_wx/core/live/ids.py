"""Deterministic ``client_order_id``s: the same decision always names its order the same way.

Kalshi refuses a second order with a ``client_order_id`` it has seen, so an id that is a pure
function of (strategy, ticker, decision time, intent) makes a retried request, a re-run partition
or a cycle replayed after a crash unable to place a second order: the exchange answers with the
first one instead.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

# A fixed namespace: ids must not change between versions, or a replay after an upgrade could double an order.
_NAMESPACE = uuid.UUID("5d0c7f4e-2f0b-4c55-9a7e-6b7a1f3e0c21")


def client_order_id(strategy: str, ticker: str, decision_ts: datetime, intent: str) -> str:
    """A UUID (36 characters) from the decision; ``intent`` says what was decided (``"buy:yes:0.4500:10"``).

    ``decision_ts`` must be timezone-aware; it is normalised to UTC microseconds, so the same
    instant written in another zone names the same order.
    """
    if decision_ts.tzinfo is None:
        raise ValueError(f"decision time {decision_ts!r} has no timezone; ids are defined on UTC instants")
    for name, value in (("strategy", strategy), ("ticker", ticker), ("intent", intent)):
        if not value or "|" in value:
            raise ValueError(f"{name} {value!r} must be non-empty and free of '|'")
    stamp = decision_ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(uuid.uuid5(_NAMESPACE, f"{strategy}|{ticker}|{stamp}|{intent}"))
