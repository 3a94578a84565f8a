"""The simulator's Visual Crossing Timeline API over real HTTP: observations, forecasts, refusals."""

from __future__ import annotations

from datetime import date

import pytest

from kalshi_wx.sources.sim.weather import simulate_weather
from kalshi_wx.sources.visual_crossing import ELEMENTS
from kalshi_wx_tests.sources.sim.conftest import VC_PARAMS, ok


def test_vc_minutes_have_the_documented_shape_and_track_the_cli(http, sim, sim_config):
    for city in sim_config.cities:
        # One climate day = [05:00Z, 05:00Z) for NYC; ask for two UTC days and keep its rows.
        response = http.get(f"{sim.vc_base_url}/stn:{city.station}/2026-06-04/2026-06-05", params=VC_PARAMS)
        doc = ok(response)
        assert doc["queryCost"] == 2 * 288 and doc["timezone"] == "UTC" and doc["tzoffset"] == 0.0
        rows = [m for d in doc["days"] for h in d["hours"] for m in h["minutes"]]
        for row in rows[:5]:
            assert set(row) == set(ELEMENTS.split(","))
            assert row["stations"] == [city.station] and row["source"] == "obs"
        weather = simulate_weather(sim_config.seed, city, date(2026, 6, 4))
        mine = [r["temp"] for r in rows if weather.start.timestamp() <= r["datetimeEpoch"] < weather.end.timestamp()]
        assert len(mine) == 288
        assert -2.5 <= max(mine) - weather.cli_max_f <= 1.5
    day = doc["days"][0]
    assert {"datetime", "datetimeEpoch", "tempmax", "tempmin", "stations", "source", "hours"} <= set(day)
    assert len(day["hours"]) == 24 and all(len(h["minutes"]) == 12 for h in day["hours"])


def test_vc_defaults_local_days_and_fifteen_minute_rows(http, sim):
    doc = ok(http.get(f"{sim.vc_base_url}/stn%3AKNYC/2026-06-04", params={"key": "k", "include": "obs,minutes"}))
    assert doc["timezone"] == "America/New_York" and doc["tzoffset"] == -4.0
    hour = doc["days"][0]["hours"][0]
    assert hour["datetime"] == "00:00:00" and [m["datetime"] for m in hour["minutes"]][:2] == [
        "00:00:00",
        "00:15:00",
    ]


def test_vc_forecast_as_of_a_basis_date(http, sim, sim_config):
    params = {"key": "k", "include": "fcst,hours", "forecastBasisDate": "2026-06-04", "timezone": "Z"}
    doc = ok(http.get(f"{sim.vc_base_url}/stn:KAUS/2026-06-04/2026-06-04", params=params))
    hours = doc["days"][0]["hours"]
    assert len(hours) == 24 and doc["queryCost"] == 24 and {h["source"] for h in hours} == {"fcst"}
    weather = simulate_weather(sim_config.seed, sim_config.city("aus"), date(2026, 6, 4))
    in_day = [h["temp"] for h in hours if h["datetimeEpoch"] >= weather.start.timestamp()]
    assert max(in_day) == pytest.approx(weather.forecast_high, abs=1.0)
    # UTC 2026-06-05 00:00-05:59 still belongs to Austin's climate day 06-04 (UTC-6): served; the
    # rest belongs to 06-05, whose forecast is issued after the basis: left out.
    next_day = ok(http.get(f"{sim.vc_base_url}/stn:KAUS/2026-06-05/2026-06-05", params=params))
    late_hours = next_day["days"][0]["hours"]
    assert len(late_hours) == 6 and max(h["datetimeEpoch"] for h in late_hours) < weather.end.timestamp()
    too_far = http.get(f"{sim.vc_base_url}/stn:KAUS/2026-06-06/2026-06-06", params=params)
    assert too_far.status_code == 400 and "forecastBasisDate" in too_far.text


def test_vc_serves_nothing_after_the_clock(http, sim, sim_config):
    doc = ok(http.get(f"{sim.vc_base_url}/stn:KNYC/2026-06-10/2026-06-12", params=VC_PARAMS))
    assert [d["datetime"] for d in doc["days"]] == ["2026-06-10"]
    last = doc["days"][0]["hours"][-1]["minutes"][-1]
    assert last["datetimeEpoch"] == sim_config.now_ts and doc["queryCost"] == 12 * 12 + 1


@pytest.mark.parametrize(
    ("location", "params", "status", "text"),
    [
        ("stn:KJFK/2026-06-01", {"key": "k"}, 400, "Invalid location"),
        ("Chicago/2026-06-01", {"key": "k"}, 400, "Invalid location"),
        ("stn:KNYC/2026-06-01", {}, 401, "API key"),
        ("stn:KNYC/2026-06-01", {"key": "k", "unitGroup": "metric"}, 400, "unitGroup"),
        ("stn:KNYC/June-1", {"key": "k"}, 400, "date"),
        ("stn:KNYC/2026-06-02/2026-06-01", {"key": "k"}, 400, "date range"),
    ],
)
def test_vc_errors_are_plain_text(http, sim, location, params, status, text):
    response = http.get(f"{sim.vc_base_url}/{location}", params=params)
    assert response.status_code == status and text in response.text
    assert response.headers["content-type"].startswith("text/plain")
