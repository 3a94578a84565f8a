from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.fixed_point import optional, parse_count, parse_price, required


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
