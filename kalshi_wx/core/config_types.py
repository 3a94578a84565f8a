"""Field types of the settings dataclasses that are read from YAML (pydantic validates them).

YAML is loose: ``1`` is a bool to some readers, ``0.1`` a binary float, ``"-6"`` a string. These
types accept only what was meant: whole numbers for counts, true/false for switches, and money as
Decimal (the settings loader reads YAML numbers as the decimal literal written, so ``0.1`` is
``Decimal("0.1")``); a binary float is refused as money, so none can slip into the order path.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr

# Unknown keys are a typo, not something to ignore.
SETTINGS_CONFIG = ConfigDict(extra="forbid")


def _money(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError(f"{value!r} is a binary float: money must be Decimal or a decimal string, never a float")
    if isinstance(value, bool):
        raise ValueError(f"expected a decimal number of dollars, got {value!r}")
    if isinstance(value, int | str):
        try:
            value = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"expected a decimal number of dollars, got {value!r}") from None
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"expected a finite decimal number of dollars, got {value!r}")
    return value


def _real(value: Any) -> Any:
    # A whole or decimal number is a fine real number; a bool or a string is not.
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return float(value)
    return value


Money = Annotated[Decimal, BeforeValidator(_money)]
Real = Annotated[StrictFloat, BeforeValidator(_real)]
Whole = StrictInt
Switch = StrictBool
Text = StrictStr
