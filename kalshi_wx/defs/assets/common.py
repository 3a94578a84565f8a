"""What every warehouse-backed asset shares: key = table, kinds, owners, partitions and the DuckDB pool."""

import dagster as dg

from kalshi_wx.defs.partitions import city_date_partitions
from kalshi_wx.defs.resources import WAREHOUSE_POOL, storage_kind

OWNERS = ["team:data-platform"]
MARKETS_INPUT = {"markets": dg.AssetIn(key=["kalshi", "markets"])}


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
