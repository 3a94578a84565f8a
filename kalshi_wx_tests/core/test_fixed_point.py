from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.fixed_point import (
    optional,
    parse_count,
    parse_legacy_cents,
    parse_legacy_count,
    parse_price,
    required,
)


def test_prices_and_counts_parse_exactly():
    assert parse_price("0.5600", source="s", field="f") == Decimal("0.56")
    assert parse_price("0.000100", source="s", field="f") == Decimal("0.0001")
    assert parse_count("2394.26", source="s", field="f") == Decimal("2394.26")


@pytest.mark.parametrize("value", ["abc", 0.56, None, "1.5", "-0.01", "NaN"])
def test_bad_prices_name_source_ticker_and_field(value):
    with pytest.raises(PayloadError) as info:
        parse_price(value, source="GET /markets", field="yes_bid_dollars", ticker="KXHIGHNY-26JUN01-T77")
    message = str(info.value)
    assert "GET /markets" in message and "yes_bid_dollars" in message and "KXHIGHNY-26JUN01-T77" in message


def test_optional_and_required():
    obj = {"a": "", "b": "0.10"}
    assert optional(parse_price, obj, "a", source="s") is None
    assert optional(parse_price, obj, "missing", source="s") is None
    assert required(parse_price, obj, "b", source="s") == Decimal("0.10")
    with pytest.raises(PayloadError, match=r"field 'c': required field is missing"):
        required(parse_price, obj, "c", source="s")


def test_cents_era_fields_are_read_when_the_fixed_point_field_is_absent():
    legacy = ("yes_price", parse_legacy_cents)
    assert required(parse_price, {"yes_price": 47}, "yes_price_dollars", source="s", legacy=legacy) == Decimal("0.47")
    # Both present (the transition era): the fixed-point string wins.
    both = {"yes_price": 47, "yes_price_dollars": "0.4750"}
    assert required(parse_price, both, "yes_price_dollars", source="s", legacy=legacy) == Decimal("0.4750")
    assert optional(parse_count, {"count": 1051}, "count_fp", source="s", legacy=("count", parse_legacy_count)) == 1051
    assert optional(parse_price, {}, "yes_price_dollars", source="s", legacy=legacy) is None
    with pytest.raises(PayloadError, match=r"ticker T, field 'yes_price': price 101 cents is outside \[0, 100\]"):
        required(parse_price, {"yes_price": 101}, "yes_price_dollars", source="s", ticker="T", legacy=legacy)
    with pytest.raises(PayloadError, match=r"field 'yes_price': expected integer cents, got '47'"):
        required(parse_price, {"yes_price": "47"}, "yes_price_dollars", source="s", legacy=legacy)
    with pytest.raises(PayloadError, match=r"field 'count': count -1 is negative"):
        parse_legacy_count(-1, source="s", field="count")
    with pytest.raises(PayloadError, match=r"field 'yes_price_dollars': required field is missing"):
        required(parse_price, {}, "yes_price_dollars", source="s", legacy=legacy)
