"""The simulator for these tests: the shipped cities (config/cities.yaml), default seed and clock, served once."""

from __future__ import annotations

import httpx
import pytest

from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.sim import SimConfig, SimServer

VC_PARAMS = {"key": "sim", "include": "obs,minutes", "options": "minuteinterval_5", "timezone": "Z"}


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="session")
def sim_config() -> SimConfig:
    return SimConfig(cities=tuple(settings().cities.values()))


@pytest.fixture(scope="session")
def sim(sim_config):
    with SimServer(sim_config) as server:
        yield server


@pytest.fixture(scope="session")
def http():
    with httpx.Client(timeout=60) as client:
        yield client
