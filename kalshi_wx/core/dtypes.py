"""The column types every table shares: UTC timestamps, exact prices, counts and money.

PRICE: Kalshi emits up to 6 decimals; COUNT: contracts trade in 0.01 units.
"""

from __future__ import annotations

from typing import TypeAlias

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")
PRICE = pl.Decimal(12, 6)
COUNT = pl.Decimal(18, 2)
MONEY = pl.Decimal(18, 6)  # dollar totals (PnL, cash, fees summed over orders)

ColumnTypes: TypeAlias = dict[str, pl.DataType | type[pl.DataType]]
"""Column name -> polars dtype: an instance such as ``PRICE`` or a class such as ``pl.Utf8``."""
