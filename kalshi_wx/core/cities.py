"""A city of the platform: its Kalshi series, settlement station, NWS product and climate-day offset.

The climate day runs from local STANDARD-time midnight to midnight all year, so each city carries
its standard UTC offset (reference/kalshi_api.md s9).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from kalshi_wx.core.config_types import SETTINGS_CONFIG, Text, Whole


def _iana_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA zone {name!r}") from None
    return name


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class City:
    key: Annotated[Text, Field(pattern=r"^[a-z]{3}$")]  # three lower-case letters, e.g. nyc
    name: Text
    series: Text  # Kalshi series, e.g. KXHIGHNY
    station: Annotated[Text, Field(pattern=r"^[KP][A-Z]{3}$")]  # settlement station ICAO (K..., Alaska and Hawaii P...)
    station_name: Text  # as the CLI product names it
    wfo: Text  # NWS forecast office issuing the CLI, e.g. OKX
    cli_product: Annotated[Text, Field(pattern=r"^CLI[A-Z]{3}$")]  # e.g. CLINYC
    timezone: Annotated[Text, AfterValidator(_iana_zone)]
    std_utc_offset_hours: Annotated[Whole, Field(ge=-12, le=0)]  # US zones only

    @property
    def issuedby(self) -> str:
        """The CLI product's issuing id (``CLINYC`` -> ``NYC``)."""
        return self.cli_product.removeprefix("CLI")


def cities_by_key(cities: Iterable[City]) -> dict[str, City]:
    """Cities keyed by their short key, in the given order; a repeated key is an error."""
    by_key: dict[str, City] = {}
    for index, city in enumerate(cities):
        if city.key in by_key:
            raise ValueError(f"cities[{index}].key: duplicate city key {city.key!r}")
        by_key[city.key] = city
    if not by_key:
        raise ValueError("no cities configured")
    return by_key
