from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np
import pytest

from kalshi_wx.core.brackets import (
    Bracket,
    bracket_from_strikes,
    bracket_indices,
    brackets_of,
    validate_ladder,
    winning_bracket,
)
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.kalshi import markets_frame

# NWS CLI highs for Central Park (shared/data/real/README.md).
CLI_HIGHS = {"KXHIGHNY-26JUN01": 71, "KXHIGHNY-26JUN02": 76}


@pytest.fixture
def real_ladders(real_markets):
    events = defaultdict(list)
    for market in real_markets:
        events[market["event_ticker"]].append(market)
    return events


def _ladder(markets):
    return validate_ladder(
        bracket_from_strikes(m["ticker"], m["strike_type"], m.get("floor_strike"), m.get("cap_strike")) for m in markets
    )


def test_real_ladders_cover_every_degree_once_and_labels_match_kalshi(real_ladders):
    assert set(real_ladders) == set(CLI_HIGHS)
    for markets in real_ladders.values():
        ladder = _ladder(markets)
        assert len(ladder) == 6
        subtitles = {m["ticker"]: m["yes_sub_title"] for m in markets}
        # Kalshi's own wording of each bracket must agree with the semantics we derived.
        assert {b.ticker: b.label for b in ladder} == subtitles


@pytest.mark.parametrize(("event", "high"), sorted(CLI_HIGHS.items()))
def test_known_cli_highs_pick_exactly_one_yes_bracket(real_ladders, event, high):
    ladder = _ladder(real_ladders[event])
    winners = [b for b in ladder if b.wins(high)]
    assert len(winners) == 1
    assert winning_bracket(ladder, high) is winners[0]
    expected = {"KXHIGHNY-26JUN01": "KXHIGHNY-26JUN01-B70.5", "KXHIGHNY-26JUN02": "KXHIGHNY-26JUN02-B75.5"}
    assert winners[0].ticker == expected[event]


def test_every_whole_degree_maps_to_one_bracket_of_a_real_ladder(real_ladders):
    ladder = _ladder(real_ladders["KXHIGHNY-26JUN02"])
    temps = np.arange(-20, 130)
    indices = bracket_indices(ladder, temps)
    for t, i in zip(temps, indices, strict=True):
        assert [b.wins(int(t)) for b in ladder].index(True) == i


def test_strict_and_inclusive_comparisons():
    assert bracket_from_strikes("g", "greater", 80, None) == Bracket("g", 81, None)
    assert bracket_from_strikes("ge", "greater_or_equal", 80, None) == Bracket("ge", 80, None)
    assert bracket_from_strikes("l", "less", None, 73) == Bracket("l", None, 72)
    assert bracket_from_strikes("le", "less_or_equal", None, 73) == Bracket("le", None, 73)
    assert bracket_from_strikes("b", "between", 73, 74) == Bracket("b", 73, 74)
    # Non-integer strikes still mean whole degrees: v > 80.5 starts at 81.
    assert bracket_from_strikes("g", "greater", 80.5, None).lo == 81


def test_ladder_with_a_gap_names_the_brackets():
    ladder = [
        bracket_from_strikes("E-T70", "less", None, 70),
        bracket_from_strikes("E-B72.5", "between", 72, 73),
        bracket_from_strikes("E-T73", "greater", 73, None),
    ]
    with pytest.raises(PayloadError, match=r"E-T70.*E-B72.5.*gap"):
        validate_ladder(ladder, event="E")


def test_overlap_and_open_ends_are_refused():
    with pytest.raises(PayloadError, match="overlap"):
        validate_ladder([Bracket("a", None, 72), Bracket("b", 72, None)])
    with pytest.raises(PayloadError, match="above 75"):
        validate_ladder([Bracket("a", None, 72), Bracket("b", 73, 75)])


def test_unknown_strike_type_names_ticker_and_field():
    with pytest.raises(PayloadError, match=r"ticker X-1.*strike_type.*functional"):
        bracket_from_strikes("X-1", "functional", None, None)
    with pytest.raises(PayloadError, match=r"floor_strike"):
        bracket_from_strikes("X-2", "between", None, 74)


def test_brackets_of_a_markets_frame(real_markets):
    jun02 = [m for m in real_markets if m["event_ticker"] == "KXHIGHNY-26JUN02"]
    frame = markets_frame(jun02, city="nyc", climate_date=date(2026, 6, 2), source="t", tiers={})
    expected = [
        bracket_from_strikes(m["ticker"], m["strike_type"], m.get("floor_strike"), m.get("cap_strike")) for m in jun02
    ]
    assert brackets_of(frame) == expected
