"""client_order_id: a pure function of the decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kalshi_wx.core.live.ids import client_order_id

TS = datetime(2026, 6, 10, 17, 0, tzinfo=UTC)


def test_the_same_decision_names_the_same_order_in_any_zone():
    first = client_order_id("fused_edge", "KXHIGHNY-26JUN10-B81.5", TS, "buy:yes:maker:0.2700:10")
    eastern = TS.astimezone(timezone(timedelta(hours=-4)))
    assert client_order_id("fused_edge", "KXHIGHNY-26JUN10-B81.5", eastern, "buy:yes:maker:0.2700:10") == first
    assert len(first) == 36  # a UUID: within the exchange's length limit


@pytest.mark.parametrize(
    "change",
    [
        {"strategy": "wx_edge"},
        {"ticker": "KXHIGHNY-26JUN10-B83.5"},
        {"decision_ts": TS + timedelta(minutes=1)},
        {"decision_ts": TS + timedelta(microseconds=1)},
        {"intent": "buy:yes:maker:0.2800:10"},
    ],
)
def test_any_other_decision_names_another_order(change):
    base = {"strategy": "fused_edge", "ticker": "KXHIGHNY-26JUN10-B81.5", "decision_ts": TS,
            "intent": "buy:yes:maker:0.2700:10"}  # fmt: skip
    assert client_order_id(**{**base, **change}) != client_order_id(**base)


def test_naive_times_and_ambiguous_parts_are_refused():
    with pytest.raises(ValueError, match="no timezone"):
        client_order_id("s", "T", datetime(2026, 6, 10), "i")
    with pytest.raises(ValueError, match="ticker"):
        client_order_id("s", "T|x", TS, "i")
