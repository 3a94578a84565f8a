"""Printed summaries of what the warehouse holds (used by ``kalshi-wx demo`` and ``backfill``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from kalshi_wx.core.pmf.scoring import score_times_utc, scores_at
from kalshi_wx.core.settlement import settled_winners
from kalshi_wx.defs.settings import default_warehouse_url, settings
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import FUSED_PMF, MARKETS, SETTLEMENT, TABLES


def table_counts(warehouse: Warehouse, cities: Sequence[str], start: date, end: date) -> pl.DataFrame:
    """Rows per table for the given cities and dates (all rows for unpartitioned tables)."""
    rows = []
    for table in TABLES.values():
        frame = warehouse.read(table) if not table.partitioned else pl.concat(
            [warehouse.read(table, city=c, dates=(start, end)) for c in cities]
        )  # fmt: skip
        rows.append({"table": table.name, "rows": frame.height})
    return pl.DataFrame(rows)


def settlement_table(warehouse: Warehouse, cities: Sequence[str], start: date, end: date) -> pl.DataFrame:
    frame = pl.concat([warehouse.read(SETTLEMENT, city=c, dates=(start, end)) for c in cities])
    return frame.select(
        "city", "climate_date", "max_f", "min_f", "report_type", "kalshi_yes_ticker", "agrees_with_kalshi"
    ).sort("city", "climate_date")


def brier_by_city(warehouse: Warehouse, cities: Sequence[str], start: date, end: date) -> pl.DataFrame:
    """Mean Brier score of p_wx, p_mkt and p_fused_norm per city over settled days at the scoring times."""
    times_lst = settings().pmf.score_times_lst
    scores = []
    for city_key in cities:
        fused = warehouse.read(FUSED_PMF, city=city_key, dates=(start, end))
        for (day,), day_fused in fused.group_by("climate_date"):
            winners = settled_winners(
                warehouse.read(MARKETS, city=city_key, climate_date=day),
                warehouse.read(SETTLEMENT, city=city_key, climate_date=day),
            )
            if winners is None:
                continue
            times = score_times_utc(day, settings().city(city_key).std_utc_offset_hours, times_lst)
            cols = ["p_wx", "p_mkt", "p_fused_norm"]
            scores.append(scores_at(day_fused, cols, winners, times).with_columns(city=pl.lit(city_key)))
    if not scores:
        return pl.DataFrame(schema={"city": pl.Utf8, "pmf": pl.Utf8, "brier": pl.Float64, "n": pl.UInt32})
    return (
        pl.concat(scores).group_by("city", "pmf").agg(pl.col("brier").mean(), pl.len().alias("n")).sort("city", "pmf")
    )


def print_summary(cities: Sequence[str], start: date, end: date, warehouse: Warehouse | None = None) -> None:
    warehouse = warehouse or Warehouse(url=default_warehouse_url())
    with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, tbl_rows=100, tbl_width_chars=120):
        print(f"\nWarehouse {warehouse.backend.display_url}")
        print(table_counts(warehouse, cities, start, end))
        print("\nSettlement per city-day (NWS CLI, cross-checked against Kalshi):")
        print(settlement_table(warehouse, cities, start, end))
        times = ", ".join(t.strftime("%H:%M") for t in settings().pmf.score_times_lst)
        print(f"\nBrier score per city (mean over settled days at {times} local standard time; lower is better):")
        print(brier_by_city(warehouse, cities, start, end))
