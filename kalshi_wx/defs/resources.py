"""Resources, chosen per environment in one place.

Sources: the offline simulator unless keys are set (``KALSHI_API_KEY_ID`` or
``VISUAL_CROSSING_API_KEY``), or ``KALSHI_WX_SOURCES=sim|live|replay`` says otherwise. The simulator
and the replay of recorded payloads (``KALSHI_WX_REPLAY_DIR``) serve the real wire formats over
loopback HTTP, so the same clients run in every mode. The simulator speaks Kalshi, Visual Crossing
and api.weather.gov only, so in sim mode every city's weather is Visual Crossing's
(``defs.settings.city_sources``) and there is no IEM archive to fall back on.
Warehouse: DuckDB under ``$KALSHI_WX_HOME`` unless ``KALSHI_WX_WAREHOUSE_URL`` is set; a DuckDB file another
process holds is waited for ``KALSHI_WX_DUCKDB_LOCK_TIMEOUT`` seconds (default 30). Recorded
order-book snapshots: Parquet files under ``$KALSHI_WX_HOME/highres``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TypedDict

import dagster as dg
import polars as pl
from pydantic import ValidationError

from kalshi_wx.core.cities import City
from kalshi_wx.core.errors import ConfigError
from kalshi_wx.defs.dbt.resource import WarehouseDbtCliResource, dbt_cli_resource
from kalshi_wx.defs.partitions import FIRST_CLIMATE_DAY
from kalshi_wx.defs.settings import (
    CitySources,
    CityWeather,
    SourceMode,
    city_sources,
    config_error,
    default_warehouse_url,
    duckdb_lock_timeout_s,
    kalshi_wx_home,
    replay_dir,
    settings,
    source_mode,
)
from kalshi_wx.sources.iem import IemClient, RequestSpacing
from kalshi_wx.sources.kalshi.client import KalshiClient
from kalshi_wx.sources.ncei import NceiClient
from kalshi_wx.sources.nws import NwsClient
from kalshi_wx.sources.replay.layout import MANIFEST
from kalshi_wx.sources.replay.server import ReplayServer, shared_replay_server
from kalshi_wx.sources.sim.common import SimConfig
from kalshi_wx.sources.sim.server import shared_sim_server
from kalshi_wx.sources.visual_crossing import VisualCrossingClient
from kalshi_wx.warehouse import highres
from kalshi_wx.warehouse.io_manager import WarehouseIOManager
from kalshi_wx.warehouse.resource import Warehouse


@cache
def sim_config() -> SimConfig:
    """The simulated world of this process: the configured cities and calibrated markets, serving every
    climate day the partitions offer (from their first day up to the present, fixed when the process first asks).

    A day's weather, markets and CLI products depend only on the seed, the city and the day, so every
    process serves a closed day identically; a day after the clock is refused as unlisted.
    """
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return SimConfig(
        cities=tuple(settings().cities.values()),
        market=settings().sim.market,
        now=now,
        first_market_date=date.fromisoformat(FIRST_CLIMATE_DAY),
    )


def replay_server() -> ReplayServer:
    """The process's replay of ``KALSHI_WX_REPLAY_DIR``."""
    return shared_replay_server(replay_dir())


class KalshiResource(dg.ConfigurableResource):
    """Kalshi REST API: the exchange itself in live mode, the loopback simulator or a replay otherwise."""

    mode: str = "sim"

    def client(self) -> KalshiClient:
        if self.mode == "sim":
            return KalshiClient(base_url=shared_sim_server(sim_config()).kalshi_base_url)
        if self.mode == "replay":
            return KalshiClient(base_url=replay_server().kalshi_base_url)
        return KalshiClient.from_env()


class WeatherResource(dg.ConfigurableResource):
    """The weather services: IEM (1-minute ASOS, CLI archive, MOS), NCEI 5-minute files, Visual Crossing."""

    mode: str = "sim"

    def sources(self, city: City) -> CitySources:
        """Where the city's observations and forecast come from in this mode (``config/weather.yaml``; in
        replay mode the replay's manifest says what it recorded)."""
        configured = city_sources(city.key, self.mode)
        if self.mode != "replay":
            return configured
        recorded = replay_server().replay.weather_sources().get(city.key, {})
        try:
            own = CityWeather.model_validate(recorded)
        except ValidationError as exc:
            raise config_error(f"{replay_dir() / MANIFEST}: weather_sources.{city.key}", exc) from None
        return CitySources(own.observations or configured.observations, own.forecast or configured.forecast)

    def visual_crossing(self) -> VisualCrossingClient:
        if self.mode == "sim":
            return VisualCrossingClient(base_url=shared_sim_server(sim_config()).vc_base_url, api_key="sim")
        if self.mode == "replay":
            raise ConfigError("the replay serves no Visual Crossing: set the city's source in config/weather.yaml")
        return VisualCrossingClient.from_env()

    def iem(self) -> IemClient:
        if self.mode == "sim":
            raise ConfigError("the simulator serves no IEM archive; sim mode reads Visual Crossing")
        if self.mode == "replay":
            # A replay has no throttle to respect.
            return IemClient(replay_server().iem_base_url, spacing=RequestSpacing(0.0))
        return IemClient.from_env()

    def cli_archive(self) -> IemClient | None:
        """IEM's CLI archive for days api.weather.gov no longer lists; none in sim mode."""
        return None if self.mode == "sim" else self.iem()

    def ncei(self) -> NceiClient:
        if self.mode == "sim":
            raise ConfigError("the simulator serves no NCEI archive; sim mode reads Visual Crossing")
        if self.mode == "replay":
            return NceiClient(replay_server().ncei_base_url)
        return NceiClient.from_env()


class NwsResource(dg.ConfigurableResource):
    """NWS products API (Daily Climate Reports, the settlement source)."""

    mode: str = "sim"

    def client(self) -> NwsClient:
        if self.mode == "sim":
            return NwsClient(base_url=shared_sim_server(sim_config()).nws_base_url)
        if self.mode == "replay":
            return NwsClient(base_url=replay_server().nws_base_url)
        return NwsClient()


class HighresFiles(dg.ConfigurableResource):
    """Recorded order-book snapshots under ``root`` (``$KALSHI_WX_HOME``): Parquet parts per series and day."""

    root: str

    def day_dir(self, series: str, day: date) -> Path:
        return highres.day_dir(self.root, series, day)

    def scan_day(self, series: str, day: date) -> pl.LazyFrame:
        """The day's snapshots as one LazyFrame: how readers get them."""
        return highres.scan_day(self.root, series, day)

    def parts(self, series: str, day: date) -> list[highres.PartInfo]:
        return highres.day_parts(self.root, series, day)

    def recorded_days(self, series: str) -> dict[date, str]:
        return highres.recorded_days(self.root, series)


class Resources(TypedDict):
    """The code location's resources, under the keys its assets and IO manager ask for."""

    warehouse: Warehouse
    io_manager: WarehouseIOManager
    kalshi: KalshiResource
    weather: WeatherResource
    nws: NwsResource
    dbt: WarehouseDbtCliResource
    highres: HighresFiles


def build_resources(
    mode: SourceMode | None = None, warehouse_url: str | None = None, highres_root: str | None = None
) -> Resources:
    mode = mode or source_mode()
    warehouse = Warehouse(url=warehouse_url or default_warehouse_url(), lock_timeout_s=duckdb_lock_timeout_s())
    return {
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "kalshi": KalshiResource(mode=mode),
        "weather": WeatherResource(mode=mode),
        "nws": NwsResource(mode=mode),
        "dbt": dbt_cli_resource(warehouse),
        "highres": HighresFiles(root=highres_root or str(kalshi_wx_home())),
    }
