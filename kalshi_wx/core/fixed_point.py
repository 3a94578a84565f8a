"""Kalshi's fixed-point strings: ``*_dollars`` prices and ``*_fp`` counts, parsed exactly.

Payloads recorded before the fixed-point migration (2025 and earlier, reference/kalshi_api.md s3)
carry integer cents (``yes_price: 47``) and integer counts (``count: 10``) instead; ``optional`` and
``required`` read those when the fixed-point field is absent, so real history parses to the same
Decimal dollars. The order path never touches floats; analytics may convert afterwards.
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


def parse_legacy_cents(value: Any, *, source: str, field: str, ticker: str | None = None) -> Decimal:
    """A cents-era integer price such as ``47`` as Decimal dollars (``0.47``), which must lie in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(source, f"expected integer cents, got {value!r}", field=field, ticker=ticker)
    if not 0 <= value <= 100:
        raise PayloadError(source, f"price {value} cents is outside [0, 100]", field=field, ticker=ticker)
    return Decimal(value) / 100


def parse_legacy_count(value: Any, *, source: str, field: str, ticker: str | None = None) -> Decimal:
    """A cents-era integer contract count such as ``10``; negative counts are rejected."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(source, f"expected an integer count, got {value!r}", field=field, ticker=ticker)
    if value < 0:
        raise PayloadError(source, f"count {value} is negative", field=field, ticker=ticker)
    return Decimal(value)


class FixedPointParser(Protocol):
    """``parse_dollars``, ``parse_price`` or ``parse_count``."""

    def __call__(self, value: Any, *, source: str, field: str, ticker: str | None = None) -> Decimal: ...


Legacy = tuple[str, FixedPointParser]
"""The cents-era field and its parser, e.g. ``("yes_price", parse_legacy_cents)``."""


def optional(
    parse: FixedPointParser,
    obj: Mapping[str, Any],
    field: str,
    *,
    source: str,
    ticker: str | None = None,
    legacy: Legacy | None = None,
) -> Decimal | None:
    """Parse ``obj[field]`` with ``parse`` when present and non-empty, else the ``legacy`` field, else None."""
    value = obj.get(field)
    if value is None or value == "":
        if legacy is not None and obj.get(legacy[0]) is not None:
            return legacy[1](obj[legacy[0]], source=source, field=legacy[0], ticker=ticker)
        return None
    return parse(value, source=source, field=field, ticker=ticker)


def required(
    parse: FixedPointParser,
    obj: Mapping[str, Any],
    field: str,
    *,
    source: str,
    ticker: str | None = None,
    legacy: Legacy | None = None,
) -> Decimal:
    """Parse ``obj[field]`` with ``parse`` (or the ``legacy`` field); a missing field is a PayloadError naming it."""
    value = optional(parse, obj, field, source=source, ticker=ticker, legacy=legacy)
    if value is None:
        raise PayloadError(source, "required field is missing", field=field, ticker=ticker)
    return value
