"""Kalshi's fixed-point strings: ``*_dollars`` prices and ``*_fp`` counts, parsed exactly.

The order path never touches floats; analytics may convert afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from kalshi_wx.core.errors import PayloadError

ONE = Decimal(1)
ZERO = Decimal(0)


def _parse_decimal(value: Any, *, source: str, field: str, ticker: str | None) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(
            source,
            f"expected a fixed-point string, got {type(value).__name__} {value!r}",
            field=field,
            ticker=ticker,
        )
    try:
        parsed = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise PayloadError(source, f"not a decimal number: {value!r}", field=field, ticker=ticker) from None
    if not parsed.is_finite():
        raise PayloadError(source, f"not a finite number: {value!r}", field=field, ticker=ticker)
    return parsed


def parse_dollars(value: Any, *, source: str, field: str, ticker: str | None = None) -> Decimal:
    """A ``*_dollars`` string such as ``"0.5600"`` as Decimal dollars."""
    return _parse_decimal(value, source=source, field=field, ticker=ticker)


def parse_price(value: Any, *, source: str, field: str, ticker: str | None = None) -> Decimal:
    """A YES/NO price in dollars, which must lie in [0, 1]."""
    price = parse_dollars(value, source=source, field=field, ticker=ticker)
    if not ZERO <= price <= ONE:
        raise PayloadError(source, f"price {value!r} is outside [0, 1]", field=field, ticker=ticker)
    return price


def parse_count(value: Any, *, source: str, field: str, ticker: str | None = None) -> Decimal:
    """A ``*_fp`` contract count such as ``"10.00"``; negative counts are rejected."""
    count = _parse_decimal(value, source=source, field=field, ticker=ticker)
    if count < 0:
        raise PayloadError(source, f"count {value!r} is negative", field=field, ticker=ticker)
    return count


class FixedPointParser(Protocol):
    """``parse_dollars``, ``parse_price`` or ``parse_count``."""

    def __call__(self, value: Any, *, source: str, field: str, ticker: str | None = None) -> Decimal: ...


def optional(
    parse: FixedPointParser, obj: Mapping[str, Any], field: str, *, source: str, ticker: str | None = None
) -> Decimal | None:
    """Parse ``obj[field]`` with ``parse`` when present and non-empty, else None."""
    value = obj.get(field)
    if value is None or value == "":
        return None
    return parse(value, source=source, field=field, ticker=ticker)


def required(
    parse: FixedPointParser, obj: Mapping[str, Any], field: str, *, source: str, ticker: str | None = None
) -> Decimal:
    """Parse ``obj[field]`` with ``parse``; a missing field is a PayloadError naming it."""
    if field not in obj or obj[field] is None:
        raise PayloadError(source, "required field is missing", field=field, ticker=ticker)
    return parse(obj[field], source=source, field=field, ticker=ticker)
