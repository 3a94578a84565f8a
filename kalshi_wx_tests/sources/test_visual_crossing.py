"""VisualCrossingClient against FakeVisualCrossing over real loopback HTTP."""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime

import pytest

from kalshi_wx.core.errors import ConfigError, PayloadError
from kalshi_wx.core.payloads.visual_crossing import vc_minutes_rows
from kalshi_wx.sources.visual_crossing import VisualCrossingClient, VisualCrossingHTTPError
from kalshi_wx_tests.fakes import FakeVisualCrossing, Fault

KEY = "VCKEY-s3cr3t+/="  # characters that URL-encoding changes, so both spellings must be redacted
DAY = date(2026, 6, 1)
T0 = int(datetime(2026, 6, 1, 13, 0, tzinfo=UTC).timestamp())


@pytest.fixture(scope="module")
def vc_server():
    with FakeVisualCrossing(api_key=KEY) as server:
        yield server


@pytest.fixture
def vc(vc_server):
    vc_server.observations.clear()
    vc_server.forecasts.clear()
    vc_server.foreign.clear()
    vc_server.calls.clear()
    vc_server.observations["KNYC"] = [
        {
            "datetimeEpoch": T0 + 300 * k,
            "temp": 80.0 + k / 10,
            "dew": 60.0,
            "humidity": 50.0,
            "windspeed": 5.0,
        }
        for k in range(24)  # two hours of 5-minute rows
    ]
    return vc_server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(vc, sleeps):
    with VisualCrossingClient(KEY, vc.base_url, sleep=sleeps.append, rng=random.Random(3)) as c:
        yield c


def test_observations_are_station_locked_5_minute_obs(client, vc):
    response = client.get_observations("KNYC", DAY, DAY)
    assert response.query_cost == 24
    assert response.url == vc.base_url + "/stn:KNYC/2026-06-01/2026-06-01"  # no query, so no key
    (call,) = vc.calls
    assert call.status == 200 and (call.location, call.date1, call.date2) == (
        "stn:KNYC",
        "2026-06-01",
        "2026-06-01",
    )
    q = call.query
    assert q["key"] == KEY and q["maxStations"] == "1" and int(q["maxDistance"]) <= 1000
    assert q["include"] == "obs,minutes" and q["options"] == "minuteinterval_5"
    assert (q["unitGroup"], q["timezone"], q["contentType"]) == ("us", "Z", "json")
    assert q["elements"] == "datetime,datetimeEpoch,temp,dew,humidity,windspeed,stations,source"
    rows = vc_minutes_rows(response.document, station="KNYC", source=response.url)
    assert len(rows) == 24 and all(r["station_ok"] and r["vc_source"] == "obs" for r in rows)
    assert rows[0]["ts"] == datetime(2026, 6, 1, 13, 0, tzinfo=UTC) and rows[-1]["temp_f"] == pytest.approx(82.3)


def test_row_from_another_station_is_flagged_not_dropped(client, vc):
    vc.foreign[T0 + 600] = "KLGA"
    response = client.get_observations("KNYC", DAY, DAY)
    rows = vc_minutes_rows(response.document, station="KNYC", source=response.url)
    assert len(rows) == 24
    flagged = [r for r in rows if not r["station_ok"]]
    assert [(r["ts"].timestamp(), r["stations"]) for r in flagged] == [(T0 + 600, ["KLGA"])]


def test_forecast_request(client, vc):
    vc.forecasts[("KNYC", "2026-05-31")] = [{"datetimeEpoch": T0, "temp": 84.0}]
    response = client.get_forecast("KNYC", DAY, DAY, basis_date=date(2026, 5, 31))
    (call,) = vc.calls
    assert call.query["include"] == "fcst,hours" and call.query["forecastBasisDate"] == "2026-05-31"
    assert call.query["maxStations"] == "1" and call.query["key"] == KEY
    (hour,) = response.document["days"][0]["hours"]
    assert hour["temp"] == 84.0 and hour["source"] == "fcst"


def test_wrong_key_is_a_clear_error_without_the_key(vc, sleeps):
    client = VisualCrossingClient("wrong-key-123", vc.base_url, sleep=sleeps.append)
    with client, pytest.raises(VisualCrossingHTTPError) as err:
        client.get_observations("KNYC", DAY, DAY)
    assert err.value.status == 401 and "No account found" in str(err.value)
    assert "wrong-key-123" not in str(err.value) and sleeps == []


def test_fake_refuses_an_unlocked_request(vc):
    client = VisualCrossingClient(KEY, vc.base_url, max_distance_m=80_000)
    with client, pytest.raises(VisualCrossingHTTPError, match="maxDistance") as err:
        client.get_observations("KNYC", DAY, DAY)
    assert err.value.status == 400


def test_429_retry_after_then_success(client, vc, sleeps):
    vc.fail(Fault.http(429, retry_after=1))
    assert client.get_observations("KNYC", DAY, DAY).query_cost == 24
    assert sleeps == [1.0] and [c.status for c in vc.calls] == [429, 200]


def test_500_then_success(client, vc, sleeps):
    vc.fail(Fault.http(500))
    assert client.get_observations("KNYC", DAY, DAY).query_cost == 24
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5


def test_malformed_and_incomplete_documents(client, vc, sleeps):
    vc.fail(Fault.malformed())  # cut off on the way: asked again (VC bills both; a failed asset would too)
    assert client.get_observations("KNYC", DAY, DAY).query_cost == 24
    assert [c.status for c in vc.calls] == [200, 200] and len(sleeps) == 1
    vc.fail(Fault.malformed(), times=5)
    with pytest.raises(PayloadError, match=r"visual_crossing GET stn:KNYC/2026-06-01/2026-06-01: malformed JSON"):
        client.get_observations("KNYC", DAY, DAY)
    vc.fail(Fault.drop_field("days"))
    with pytest.raises(PayloadError) as err:
        client.get_observations("KNYC", DAY, DAY)
    assert err.value.field == "days"
    vc.fail(Fault.drop_field("queryCost"))
    with pytest.raises(PayloadError) as err:
        client.get_observations("KNYC", DAY, DAY)
    assert err.value.field == "queryCost"


def test_key_never_logged_or_shown(client, vc, caplog):
    vc.fail(Fault.http(503))
    caplog.set_level(logging.DEBUG)
    client.get_observations("KNYC", DAY, DAY)
    assert "HTTP Request" in caplog.text and "key=***" in caplog.text  # httpx's own line, scrubbed
    assert "retry 1/4" in caplog.text
    assert KEY not in caplog.text and "VCKEY-s3cr3t%2B%2F%3D" not in caplog.text
    assert KEY not in repr(client)


def test_from_env(vc):
    with pytest.raises(ConfigError, match="VISUAL_CROSSING_API_KEY"):
        VisualCrossingClient.from_env({})
    env = {"VISUAL_CROSSING_API_KEY": KEY, "VISUAL_CROSSING_API_BASE": vc.base_url}
    with VisualCrossingClient.from_env(env) as c:
        assert c.get_observations("KNYC", DAY, DAY).query_cost == 24
