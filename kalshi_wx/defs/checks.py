"""Partitioned asset checks: unique keys, climate-day window, prices, ladders, PMFs summing to 1.

A check reads only its partition's slice (``partitions_def`` set), never the whole table.
"""

import warnings
from collections.abc import Callable

import dagster as dg
import polars as pl

from kalshi_wx.core.quality import (
    duplicate_key_problems,
    ladder_problems,
    pmf_sum_problems,
    price_problems,
    window_problems,
)
from kalshi_wx.defs.partitions import city_date_partitions, partition_day
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import (
    CANDLES_1M,
    FUSED_PMF,
    HAZARD_PMF,
    MARKETS,
    SETTLEMENT,
    TRADES,
    VC_FORECAST,
    VC_MINUTES,
    TableSchema,
)

# Partitioned checks are "preview" in Dagster 1.13, but without them a check loads the whole table
# and records no partition (shared/reference/dagster_notes.md), so we use them knowingly.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)

Rule = Callable[[pl.DataFrame, tuple], list[str]]


def _partition_check(table: TableSchema, name: str, description: str, rule: Rule) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([table.group, table.table]),
        name=name,
        description=description,
        partitions_def=city_date_partitions,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        p = partition_day(context)
        frame = warehouse.read(table, city=p.city.key, climate_date=p.day)
        problems = rule(frame, p.window)
        return dg.AssetCheckResult(
            passed=not problems,
            metadata={
                "rows_checked": frame.height,
                "problems": dg.MetadataValue.md("\n".join(problems) or "none"),
            },
        )

    return _check


def _unique(table: TableSchema) -> dg.AssetChecksDefinition:
    return _partition_check(
        table, "no_duplicate_keys", f"No two rows share {', '.join(table.key)}.",
        lambda frame, _: duplicate_key_problems(frame, table.key),
    )  # fmt: skip


def _in_climate_day(table: TableSchema) -> dg.AssetChecksDefinition:
    return _partition_check(
        table, "timestamps_in_climate_day", "Every ts lies in the partition's climate day (local standard time).",
        lambda frame, window: window_problems(frame, "ts", window),
    )  # fmt: skip


def _prices_in_unit_interval(table: TableSchema, columns: list[str]) -> dg.AssetChecksDefinition:
    return _partition_check(
        table, "prices_in_unit_interval", f"{', '.join(columns)} lie in [0, 1] dollars.",
        lambda frame, _: price_problems(frame, columns),
    )  # fmt: skip


def _pmf_sums_to_one(table: TableSchema, column: str) -> dg.AssetChecksDefinition:
    return _partition_check(
        table, "pmf_sums_to_one", f"Every minute's {column} sums to 1 over the ladder.",
        lambda frame, _: pmf_sum_problems(frame, column),
    )  # fmt: skip


raw_table_checks = [
    *(_unique(t) for t in (MARKETS, CANDLES_1M, TRADES, VC_MINUTES, SETTLEMENT, VC_FORECAST)),
    *(_in_climate_day(t) for t in (CANDLES_1M, TRADES, VC_MINUTES)),
    _prices_in_unit_interval(MARKETS, ["settlement_value", "last_price"]),
    _prices_in_unit_interval(CANDLES_1M, ["yes_bid", "yes_ask", "trade_price"]),
    _prices_in_unit_interval(TRADES, ["yes_price", "no_price"]),
    _partition_check(
        MARKETS,
        "ladder_covers_each_degree_once",
        "The event's brackets cover every whole degree exactly once, so bracket probabilities sum to 1.",
        lambda frame, _: ladder_problems(frame),
    ),  # fmt: skip
]

pmf_checks = [
    _unique(HAZARD_PMF),
    _unique(FUSED_PMF),
    _pmf_sums_to_one(HAZARD_PMF, "p_wx"),
    _pmf_sums_to_one(FUSED_PMF, "p_fused_norm"),
]
