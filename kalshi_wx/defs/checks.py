"""Partitioned asset checks: unique keys, climate-day window, prices, ladders, observation coverage and
units, PMFs summing to 1.

A check reads only its partition's slice (``partitions_def`` set), never the whole table.
"""

import warnings
from collections.abc import Callable

import dagster as dg
import polars as pl

from kalshi_wx.core.quality import (
    coverage_problems,
    duplicate_key_problems,
    ladder_problems,
    observation_unit_problems,
    pmf_sum_problems,
    price_problems,
    window_problems,
)
from kalshi_wx.defs.partitions import city_date_partitions, partition_day
from kalshi_wx.defs.settings import settings
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import (
    CANDLES_1M,
    FORECAST,
    FUSED_PMF,
    HAZARD_PMF,
    MARKETS,
    SETTLEMENT,
    STATION_OBS,
    TRADES,
    TableSchema,
)

# Partitioned checks are "preview" in Dagster 1.13, but without them a check loads the whole table
# and records no partition (shared/reference/dagster_notes.md), so we use them knowingly.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)

Rule = Callable[[pl.DataFrame, tuple], list[str]]


def _partition_check(
    table: TableSchema,
    name: str,
    description: str,
    rule: Rule,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetChecksDefinition:
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
            severity=severity,
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


def _has_rows(table: TableSchema) -> dg.AssetChecksDefinition:
    # A source with nothing for the day (a date it does not serve, a product not out yet) writes an
    # empty slice: the materialization is real, and this check keeps it from showing green.
    return _partition_check(
        table, "has_rows", "The source had data for the climate day: the slice is not empty.",
        lambda frame, _: [] if frame.height else [f"no rows in {table.name} for this partition"],
    )  # fmt: skip


raw_table_checks = [
    *(_has_rows(t) for t in (MARKETS, CANDLES_1M, STATION_OBS, SETTLEMENT, FORECAST)),
    *(_unique(t) for t in (MARKETS, CANDLES_1M, TRADES, STATION_OBS, SETTLEMENT, FORECAST)),
    *(_in_climate_day(t) for t in (CANDLES_1M, TRADES, STATION_OBS)),
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

COVERAGE = settings().weather.coverage

observation_checks = [
    _partition_check(
        STATION_OBS,
        "observations_cover_the_day",
        f"At least {COVERAGE.min_share:.0%} of the expected observations, and no stretch over "
        f"{COVERAGE.max_gap_minutes} minutes without one (a warning: the model widens over gaps).",
        lambda frame, window: coverage_problems(
            frame, window, min_share=COVERAGE.min_share, max_gap_minutes=COVERAGE.max_gap_minutes
        ),
        severity=dg.AssetCheckSeverity.WARN,
    ),
    _partition_check(
        STATION_OBS,
        "temperatures_are_plausible_fahrenheit",
        "Temperatures lie in [-80, 135] °F, dew points below them, tenths of °C round to the °F stored.",
        lambda frame, _: observation_unit_problems(frame),
    ),
]

pmf_checks = [
    _unique(HAZARD_PMF),
    _unique(FUSED_PMF),
    _pmf_sums_to_one(HAZARD_PMF, "p_wx"),
    _pmf_sums_to_one(FUSED_PMF, "p_fused_norm"),
]
