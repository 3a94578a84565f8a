"""Kalshi trading fees by series ``fee_type`` and ``fee_multiplier`` (reference/kalshi_api.md s8).

fee = round_up(M * rate * C * P * (1 - P)) per order, with rate 0.07 for takers and, only on
series whose fee type charges makers, 0.0175 (``quadratic_with_maker_fees``) or 0.035
(``quadratic_with_combo_maker_fees``). Retail balances are kept to the cent, so the default
rounding is up to the next $0.01; direct members pass ``precision=Decimal("0.0001")``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

TAKER_RATE = Decimal("0.07")
MAKER_RATES = {
    "quadratic": Decimal(0),
    "quadratic_with_maker_fees": Decimal("0.0175"),
    "quadratic_with_combo_maker_fees": Decimal("0.035"),
}
CENT = Decimal("0.01")


class UnsupportedFeeType(ValueError):
    pass


def fee_rate(fee_type: str, *, maker: bool) -> Decimal:
    if fee_type not in MAKER_RATES:
        # "flat" is a per-series table Kalshi does not publish in the API: refuse to guess.
        raise UnsupportedFeeType(f"fee_type {fee_type!r} has no known formula (known: {sorted(MAKER_RATES)})")
    return MAKER_RATES[fee_type] if maker else TAKER_RATE


def trading_fee(
    fee_type: str,
    fee_multiplier: Decimal | str | int,
    count: Decimal | int,
    price: Decimal,
    *,
    maker: bool,
    precision: Decimal = CENT,
) -> Decimal:
    """Fee in dollars for one order of ``count`` contracts at YES-or-NO ``price`` dollars."""
    if not Decimal(0) <= price <= Decimal(1):
        raise ValueError(f"price {price} is outside [0, 1]")
    if Decimal(count) < 0:
        raise ValueError(f"count {count} is negative")
    multiplier = Decimal(str(fee_multiplier))
    raw = multiplier * fee_rate(fee_type, maker=maker) * Decimal(count) * price * (1 - price)
    return raw.quantize(precision, rounding=ROUND_CEILING)
