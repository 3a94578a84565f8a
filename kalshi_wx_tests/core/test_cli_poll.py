"""The settlement poll's cursor: each listed CLI product is handled once, a held one is listed again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kalshi_wx.core.cli_poll import ListedProduct, PollState

T0 = datetime(2026, 6, 10, tzinfo=UTC)


def _p(name: str, hours: float) -> ListedProduct:
    return ListedProduct(name, T0 + timedelta(hours=hours))


def test_a_product_is_unhandled_once_and_the_cursor_moves_to_the_newest():
    state = PollState(since=T0)
    listed = [_p("final", 30), _p("prelim", 21)]
    assert [p.id for p in state.unhandled(listed)] == ["prelim", "final"]  # oldest first
    state = state.advance(listed, ["prelim", "final"], [])
    assert state.since == T0 + timedelta(hours=30) and state.handled == {"final"}
    assert state.unhandled(listed) == []  # the same listing again: nothing new
    correction = _p("correction", 38)
    assert state.unhandled([*listed, correction]) == [correction]


def test_a_held_product_keeps_the_cursor_at_its_issuance():
    state = PollState(since=T0).advance([_p("a", 1), _p("b", 2), _p("c", 3)], ["a", "c"], [_p("b", 2)])
    assert state.since == T0 + timedelta(hours=2) and state.handled == {"c"}
    assert [p.id for p in state.unhandled([_p("a", 1), _p("b", 2), _p("c", 3)])] == ["b"]


def test_cursor_round_trips_through_json():
    state = PollState(since=T0, handled=frozenset({"x", "y"}))
    assert PollState.from_json(state.to_json()) == state
