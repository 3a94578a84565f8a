"""What every warehouse-backed asset shares: key = table, kinds, owners, partitions and the DuckDB pool."""

import dagster as dg

from kalshi_wx.defs.partitions import city_date_partitions
from kalshi_wx.defs.settings import storage_kind

OWNERS = ["team:data-platform"]
MARKETS_INPUT = {"markets": dg.AssetIn(key=["kalshi", "markets"])}
# DuckDB allows one writer process: every asset that writes the warehouse takes this pool (limit 1).
WAREHOUSE_POOL = "duckdb" if storage_kind() == "duckdb" else None


def warehouse_asset(group: str, name: str, *, source_kind: str, partitioned: bool = True, **kwargs):
    """``@dg.asset`` for table ``group.name``: the group is the key prefix, as DESIGN.md lays out."""
    return dg.asset(
        key=[group, name],
        group_name=group,
        kinds={source_kind, "polars", storage_kind()},
        owners=OWNERS,
        partitions_def=city_date_partitions if partitioned else None,
        pool=WAREHOUSE_POOL,
        **kwargs,
    )


def warehouse_out(group: str, name: str, description: str, *, source_kind: str = "polars") -> dg.AssetOut:
    """One table of a ``@dg.multi_asset`` that writes several (a backtest's fills and its day totals)."""
    return dg.AssetOut(
        key=[group, name],
        description=description,
        kinds={source_kind, storage_kind()},
        owners=OWNERS,
    )
