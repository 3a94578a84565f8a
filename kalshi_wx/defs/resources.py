"""Resources, chosen per environment in one place.

Sources: the offline simulator unless keys are set (``KALSHI_API_KEY_ID`` or
``VISUAL_CROSSING_API_KEY``), or ``KALSHI_WX_SOURCES=sim|live`` says otherwise. The simulator
serves the real wire formats over loopback HTTP, so the same clients run in both modes.
Warehouse: DuckDB under ``$KALSHI_WX_HOME`` unless ``KALSHI_WX_WAREHOUSE_URL`` is set. Recorded
order-book snapshots: Parquet files under ``$KALSHI_WX_HOME/highres``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TypedDict

import dagster as dg
import polars as pl

from kalshi_wx.defs.dbt.resource import WarehouseDbtCliResource, dbt_cli_resource
from kalshi_wx.defs.settings import SourceMode, default_warehouse_url, kalshi_wx_home, settings, source_mode
from kalshi_wx.sources.kalshi.client import KalshiClient
from kalshi_wx.sources.nws import NwsClient
from kalshi_wx.sources.sim.common import SimConfig
from kalshi_wx.sources.sim.server import shared_sim_server
from kalshi_wx.sources.visual_crossing import VisualCrossingClient
from kalshi_wx.warehouse import highres
from kalshi_wx.warehouse.io_manager import WarehouseIOManager
from kalshi_wx.warehouse.resource import Warehouse


def sim_config() -> SimConfig:
    """The simulated world of this process: the configured cities, the simulator's default seed and clock."""
    return SimConfig(cities=tuple(settings().cities.values()))


class KalshiResource(dg.ConfigurableResource):
    """Kalshi REST API: the exchange itself in live mode, the loopback simulator in sim mode."""

    mode: str = "sim"

    def client(self) -> KalshiClient:
        if self.mode == "sim":
            return KalshiClient(base_url=shared_sim_server(sim_config()).kalshi_base_url)
        return KalshiClient.from_env()


class VisualCrossingResource(dg.ConfigurableResource):
    """Visual Crossing Timeline API (station-locked 5-minute observations)."""

    mode: str = "sim"

    def client(self) -> VisualCrossingClient:
        if self.mode == "sim":
            return VisualCrossingClient(base_url=shared_sim_server(sim_config()).vc_base_url, api_key="sim")
        return VisualCrossingClient.from_env()


class NwsResource(dg.ConfigurableResource):
    """NWS products API (Daily Climate Reports, the settlement source)."""

    mode: str = "sim"

    def client(self) -> NwsClient:
        if self.mode == "sim":
            return NwsClient(base_url=shared_sim_server(sim_config()).nws_base_url)
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
    weather: VisualCrossingResource
    nws: NwsResource
    dbt: WarehouseDbtCliResource
    highres: HighresFiles


def build_resources(
    mode: SourceMode | None = None, warehouse_url: str | None = None, highres_root: str | None = None
) -> Resources:
    mode = mode or source_mode()
    warehouse = Warehouse(url=warehouse_url or default_warehouse_url())
    return {
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "kalshi": KalshiResource(mode=mode),
        "weather": VisualCrossingResource(mode=mode),
        "nws": NwsResource(mode=mode),
        "dbt": dbt_cli_resource(warehouse),
        "highres": HighresFiles(root=highres_root or str(kalshi_wx_home())),
    }
