"""NceiClient against FakeNcei over real loopback HTTP, serving the real 6401 files."""

from __future__ import annotations

from datetime import date

import pytest

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.payloads.asos import dsi6401_frame
from kalshi_wx.sources.http import RetryPolicy
from kalshi_wx.sources.ncei import NceiClient, NceiHTTPError, five_minute_path
from kalshi_wx_tests.fakes import FakeNcei, Fault

JULY = "asos_5min/jetpackjules_KNYC/asos-5min-KNYC-202507.dat"


@pytest.fixture
def ncei(tmp_path, real_data):
    with FakeNcei(tmp_path / "ncei") as server:
        server.add_month("KNYC", 2025, 7, (real_data / JULY).read_text())
        yield server


def _client(ncei: FakeNcei, sleeps: list[float]) -> NceiClient:
    return NceiClient(ncei.base_url, retry=RetryPolicy(max_attempts=3, base_delay_s=0.01), sleep=sleeps.append)


def test_the_month_file_is_fetched_once_and_parses_into_days(ncei, real_data):
    sleeps: list[float] = []
    with _client(ncei, sleeps) as client:
        first = client.five_minute_month("KNYC", 2025, 7)
        again = client.five_minute_month("KNYC", 2025, 7)
    assert first is again and len(ncei.calls) == 1
    assert (
        ncei.calls[0].path
        == "/data/automated-surface-observing-system-five-minute/access/2025/07/asos-5min-KNYC-202507.dat"
    )
    assert first.text == (real_data / JULY).read_text()
    day = date(2025, 7, 31)
    frame = dsi6401_frame(
        first.text, city="nyc", climate_date=day, station="KNYC", std_utc_offset_hours=-5,
        window=climate_day_window(day, -5), origin=first.url,
    )  # fmt: skip
    assert frame.height > 0 and frame["climate_date"].unique().to_list() == [day]


def test_a_missing_month_is_a_404_naming_the_file_and_outages_are_retried(ncei):
    sleeps: list[float] = []
    path = five_minute_path("KNYC", 2025, 7)
    ncei.fail(path, Fault.http(503), times=2)
    with _client(ncei, sleeps) as client:
        assert client.five_minute_month("KNYC", 2025, 7).text.startswith("94728KNYC")
        with pytest.raises(NceiHTTPError, match=r"ncei GET .*/2025/09/asos-5min-KNYC-202509.dat: HTTP 404"):
            client.five_minute_month("KNYC", 2025, 9)
    assert [c.status for c in ncei.calls] == [503, 503, 200, 404] and len(sleeps) == 2


def test_base_url_comes_from_the_environment():
    assert NceiClient.from_env({"NCEI_API_BASE": "http://127.0.0.1:9/ncei"}).base_url == "http://127.0.0.1:9/ncei"
    assert NceiClient.from_env({}).base_url == "https://www.ncei.noaa.gov"
