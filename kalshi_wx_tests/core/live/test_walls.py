"""Risk walls: each blocks what it should, with a reason naming the numbers, and lets the rest through."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kalshi_wx.core.live.intents import CancelIntent, PlaceIntent, RestingOrder
from kalshi_wx.core.live.walls import AccountState, RiskLimits, apply_walls, check_order, kill_switch_reason

NOW = datetime(2026, 6, 10, 17, 0, tzinfo=UTC)
CLOSE = datetime(2026, 6, 11, 4, 59, tzinfo=UTC)
A, B, OTHER = "KXHIGHNY-26JUN10-B81.5", "KXHIGHNY-26JUN10-B83.5", "KXHIGHCHI-26JUN10-B70.5"
LIMITS = RiskLimits(
    max_contracts_per_market=20,
    max_contracts_per_event=30,
    max_contracts_per_day=50,
    max_open_orders=3,
    max_daily_loss=Decimal("25"),
    max_orders_per_minute=4,
    price_collar=Decimal("0.05"),
    no_trade_minutes_before_close=30,
)


def order(ticker: str = A, side: str = "yes", price: str = "0.30", count: int = 10, cid: str = "c") -> PlaceIntent:
    return PlaceIntent("fused_edge", NOW, ticker, side, Decimal(price), count, "maker", cid)  # type: ignore[arg-type]


def resting(ticker: str, side: str, remaining: int, order_id: str = "o") -> RestingOrder:
    return RestingOrder(order_id, None, ticker, side, Decimal("0.30"), remaining, NOW)  # type: ignore[arg-type]


STATE = AccountState(
    now=NOW,
    close_time={A: CLOSE, B: CLOSE, OTHER: CLOSE - timedelta(hours=1)},
    event_of={A: "KXHIGHNY-26JUN10", B: "KXHIGHNY-26JUN10", OTHER: "KXHIGHCHI-26JUN10"},
    touch={A: (Decimal("0.28"), Decimal("0.31")), B: (Decimal("0.40"), None), OTHER: (None, None)},
)


def test_an_ordinary_order_passes_every_wall():
    assert check_order(order(), STATE, LIMITS) is None


@pytest.mark.parametrize(
    ("state", "intent", "wall", "reason"),
    [
        (replace(STATE, kill_switch="KALSHI_WX_KILL=1"), order(), "kill_switch", "KALSHI_WX_KILL=1"),
        (replace(STATE, now=CLOSE - timedelta(minutes=30)), order(), "near_close", "no trading from 04:29Z"),
        (replace(STATE, daily_pnl=Decimal("-25.00")), order(), "daily_loss", "-25.00 has reached .* -25"),
        (replace(STATE, recent_orders=(NOW - timedelta(seconds=59),) * 4), order(), "order_rate", "4 orders"),
        (replace(STATE, resting=(resting(B, "yes", 1),) * 3), order(), "open_orders", "3 orders resting"),
        (STATE, order(price="0.37"), "price_collar", r"0.37 is outside the collar \[0.23, 0.36\]"),
        (STATE, order(price="0.22", side="no"), "price_collar", r"outside the collar \[0.23, 0.36\]"),
        (STATE, order(OTHER), "price_collar", "empty book"),
        (replace(STATE, positions={A: 15}), order(count=6), "per_market", "allow 21 contracts; the limit is 20"),
        (replace(STATE, positions={A: -15}), order(side="no", count=6), "per_market", "allow 21"),
        (replace(STATE, resting=(resting(A, "yes", 11),)), order(), "per_market", "allow 21"),
        (replace(STATE, positions={B: 21}), order(), "per_event", "KXHIGHNY-26JUN10: 10 more .* allow 31"),
        (replace(STATE, contracts_today=41), order(), "per_day", "would make 51 contracts today; the limit is 50"),
    ],
)
def test_each_wall_blocks_with_a_reason(state, intent, wall, reason):
    hit = check_order(intent, state, LIMITS)
    assert hit is not None and hit.wall == wall and hit.ticker == intent.ticker
    assert re.search(reason, hit.reason), hit.reason


@pytest.mark.parametrize(
    "state",
    [
        replace(STATE, now=CLOSE - timedelta(minutes=31)),
        replace(STATE, daily_pnl=Decimal("-24.99")),
        replace(STATE, recent_orders=(NOW - timedelta(seconds=60),) * 10 + (NOW,) * 3),
        replace(STATE, resting=(resting(B, "yes", 1),) * 2),
        replace(STATE, positions={A: 10}),
        replace(STATE, positions={A: -20}),  # a YES buy reduces a NO position: worst case stays 20
        replace(STATE, positions={B: 10}, resting=(resting(B, "no", 10),)),
        replace(STATE, contracts_today=40),
    ],
)
def test_just_inside_each_limit_passes(state):
    assert check_order(order(), state, LIMITS) is None


def test_collar_edges_and_a_one_sided_book():
    assert check_order(order(price="0.36"), STATE, LIMITS) is None
    assert check_order(order(price="0.23"), STATE, LIMITS) is None
    assert check_order(order(B, price="0.45"), STATE, LIMITS) is None  # no ask: collar around the bid
    assert check_order(order(B, price="0.46"), STATE, LIMITS).wall == "price_collar"


def test_apply_walls_counts_each_accepted_order_before_the_next():
    intents = [order(cid=f"c{i}", count=1) for i in range(5)]
    accepted, hits, after = apply_walls(intents, STATE, LIMITS)
    assert [i.client_order_id for i in accepted] == ["c0", "c1", "c2"]  # then max_open_orders=3 binds
    assert [h.wall for h in hits] == ["open_orders", "open_orders"]
    assert len(after.resting) == 3 and len(after.recent_orders) == 3


def test_cancels_always_pass_and_free_room_first():
    full = replace(STATE, resting=(resting(A, "yes", 1, "o1"), resting(A, "yes", 1, "o2"), resting(B, "no", 1, "o3")))
    cancel = CancelIntent("fused_edge", NOW, A, "o1")
    killed = replace(full, kill_switch="kill file exists")
    accepted, hits, _ = apply_walls([order(), cancel], killed, LIMITS)
    assert accepted == [cancel] and [h.wall for h in hits] == ["kill_switch"]
    accepted, hits, _ = apply_walls([order(), cancel], full, LIMITS)
    assert accepted == [cancel, order()] and hits == []


def test_kill_switch_reason():
    assert kill_switch_reason(None, False, "/h/KILL") is None
    assert kill_switch_reason("0", False, "/h/KILL") is None
    assert kill_switch_reason(" ", False, "/h/KILL") is None
    assert kill_switch_reason("1", False, "/h/KILL") == "KALSHI_WX_KILL=1"
    assert kill_switch_reason(None, True, "/h/KILL") == "kill file /h/KILL exists"


def test_limits_refuse_float_money():
    with pytest.raises(ValueError, match="binary float"):
        RiskLimits(max_daily_loss=25.0)  # type: ignore[arg-type]
