from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi_wx.core.fees import UnsupportedFeeType, trading_fee

D = Decimal


@pytest.mark.parametrize(
    ("fee_type", "count", "price", "maker", "expected"),
    [
        # Worked examples from shared/reference/kalshi_api.md s8.
        ("quadratic", 1, D("0.50"), False, D("0.02")),  # 0.0175 rounds up to 2 cents
        ("quadratic", 100, D("0.50"), False, D("1.75")),
        ("quadratic_with_maker_fees", 100, D("0.50"), True, D("0.44")),  # 0.4375 -> 0.44
        ("quadratic", 10, D("0.50"), False, D("0.18")),  # 0.175 -> 0.18
        # Makers pay nothing unless the fee type charges them.
        ("quadratic", 100, D("0.50"), True, D("0.00")),
        ("quadratic_with_combo_maker_fees", 100, D("0.50"), True, D("0.88")),  # 0.875 -> 0.88
        # Fees vanish at the extremes and are symmetric in P and 1-P.
        ("quadratic", 100, D("0.01"), False, D("0.07")),
        ("quadratic", 100, D("0.99"), False, D("0.07")),
    ],
)
def test_worked_examples(fee_type, count, price, maker, expected):
    assert trading_fee(fee_type, 1, count, price, maker=maker) == expected


def test_multiplier_scales_before_rounding():
    assert trading_fee("quadratic", "0.5", 100, D("0.50"), maker=False) == D("0.88")  # 0.875 -> 0.88


def test_direct_member_precision_rounds_to_a_hundredth_of_a_cent():
    assert trading_fee("quadratic", 1, 10, D("0.50"), maker=False, precision=D("0.0001")) == D("0.1750")
    assert trading_fee("quadratic", 1, 1, D("0.33"), maker=False, precision=D("0.0001")) == D("0.0155")


def test_flat_fee_type_is_refused_not_guessed():
    with pytest.raises(UnsupportedFeeType, match="flat"):
        trading_fee("flat", 1, 1, D("0.5"), maker=False)


def test_fractional_contracts_and_bad_inputs():
    assert trading_fee("quadratic", 1, D("0.50"), D("0.50"), maker=False) == D("0.01")
    with pytest.raises(ValueError, match="outside"):
        trading_fee("quadratic", 1, 1, D("1.5"), maker=False)
    with pytest.raises(ValueError, match="negative"):
        trading_fee("quadratic", 1, -1, D("0.5"), maker=False)
