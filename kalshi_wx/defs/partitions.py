"""Partitions: city (static, from config/cities.yaml) x date (the climate day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import dagster as dg

from kalshi_wx.core.cities import City
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.defs.settings import settings

# Kalshi's KX* weather series and our settlement sources are dense from here on.
FIRST_CLIMATE_DAY = "2025-01-01"

city_partitions = dg.StaticPartitionsDefinition(list(settings().cities))
climate_day_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_CLIMATE_DAY)
city_date_partitions = dg.MultiPartitionsDefinition({"city": city_partitions, "date": climate_day_partitions})
# Between a per-city asset (models, range report) and the city x day assets of that city.
city_of_city_day = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="city")


def city_and_date(partition_key: str | dg.MultiPartitionKey) -> tuple[str, date]:
    """``(city, climate_date)`` from a MultiPartitionKey or its ``"nyc|2026-06-01"`` string form.

    Runs launched by tag receive a plain ``str`` key, so parse through the partitions definition.
    """
    cities = settings().cities
    if not isinstance(partition_key, dg.MultiPartitionKey):
        try:
            partition_key = city_date_partitions.get_partition_key_from_str(partition_key)
        except Exception as exc:  # dagster raises several types for a malformed key
            raise ValueError(
                f"partition key {partition_key!r} is not 'city|YYYY-MM-DD' (cities: {', '.join(cities)})"
            ) from exc
    dims = partition_key.keys_by_dimension
    if dims["city"] not in cities:
        raise ValueError(f"partition key {str(partition_key)!r}: unknown city {dims['city']!r}")
    try:
        return dims["city"], date.fromisoformat(dims["date"])
    except ValueError:
        raise ValueError(f"partition key {str(partition_key)!r} is not 'city|YYYY-MM-DD'") from None


@dataclass(frozen=True)
class PartitionDay:
    """The city and climate day of a city x date partition, and that day's UTC window."""

    city: City
    day: date

    @property
    def window(self) -> tuple[datetime, datetime]:
        return climate_day_window(self.day, self.city.std_utc_offset_hours)


def partition_day(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> PartitionDay:
    """What every city x date asset body starts from."""
    city_key, day = city_and_date(context.partition_key)
    return PartitionDay(settings().city(city_key), day)


def city_of(partition_key: str) -> str:
    """The city of a per-city asset's partition key, refusing one that is not configured."""
    cities = settings().cities
    if partition_key not in cities:
        raise ValueError(f"partition {partition_key!r} is not a configured city ({', '.join(cities)})")
    return partition_key


def city_date_key(city: str, climate_date: date) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"city": city, "date": climate_date.isoformat()})
