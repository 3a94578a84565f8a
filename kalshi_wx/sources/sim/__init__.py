"""The offline simulator: a Kalshi exchange, Visual Crossing and NWS CLI that speak the real wire formats.

Deterministic from ``SimConfig`` (its cities, a seed and a fixed clock). ``simulate_city_day`` gives
the ground truth of one city-day directly; ``SimServer`` / ``shared_sim_server`` serve it over HTTP.
"""

from __future__ import annotations

from kalshi_wx.sources.sim.common import SimConfig
from kalshi_wx.sources.sim.exchange import CityDay, MarketSpec, build_ladder, simulate_city_day
from kalshi_wx.sources.sim.server import SimServer, shared_sim_server
from kalshi_wx.sources.sim.weather import WeatherDay, simulate_weather

__all__ = [
    "CityDay",
    "MarketSpec",
    "SimConfig",
    "SimServer",
    "WeatherDay",
    "build_ladder",
    "shared_sim_server",
    "simulate_city_day",
    "simulate_weather",
]
