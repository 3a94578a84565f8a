"""NwsClient against a real HTTP server on loopback that speaks the api.weather.gov products shape
and serves real CLI product texts from kalshi_wx_tests/data."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from kalshi_wx.core.cities import City
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.nws_cli import settlement_reports
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.loopback import LoopbackServer, Response
from kalshi_wx.sources.nws import DEFAULT_USER_AGENT, NwsClient, NwsUnavailableError
from kalshi_wx_tests.fakes.nws_server import CLI_DIR, FakeNwsApi

CINCINNATI = City(
    key="cvg",
    name="Cincinnati",
    series="KXHIGHCVG",
    station="KCVG",
    station_name="CINCINNATI OH",
    wfo="ILN",
    cli_product="CLICVG",
    timezone="America/New_York",
    std_utc_offset_hours=-5,
)
ANCHORAGE = City(
    key="anc",
    name="Anchorage",
    series="KXHIGHANC",
    station="PANC",
    station_name="ANCHORAGE AK",
    wfo="AFC",
    cli_product="CLIANC",
    timezone="America/Anchorage",
    std_utc_offset_hours=-9,
)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def served_fake() -> Iterator[tuple[FakeNwsApi, str]]:
    # One server per module: stopping one waits out its half-second poll.
    fake = FakeNwsApi()
    with LoopbackServer(fake) as server:
        yield fake, server.url


@pytest.fixture
def api(served_fake: tuple[FakeNwsApi, str]) -> tuple[FakeNwsApi, str]:
    served_fake[0].reset()
    return served_fake


def _client(base_url: str, **kwargs) -> NwsClient:
    return NwsClient(base_url, timeout=kwargs.pop("timeout", 5.0), backoff_seconds=0.01, **kwargs)


def test_fetches_real_clinyc_for_its_climate_date_and_keeps_the_raw_text(api):
    fake, url = api
    # Issuance times from each product's WMO header ("CDUS41 KOKX 030616").
    final_id = fake.add("NYC", "CLINYC.txt", _utc("2013-01-03T06:16:00"))
    too_late = fake.add("NYC", "CLINYC.txt", _utc("2013-01-10T06:16:00"))
    too_early = fake.add("NYC", "CLINYC.txt", _utc("2013-01-01T06:16:00"))
    with _client(url) as client:
        products = client.fetch_cli_products(settings().cities["nyc"], date(2013, 1, 2))
    assert [p.raw.id for p in products] == [final_id]
    assert products[0].raw.text == (CLI_DIR / "CLINYC.txt").read_text()
    (summary,) = products[0].summaries
    assert (summary.station, summary.max_f, summary.min_f, summary.report_type) == (
        "CENTRAL PARK NY",
        33,
        22,
        "final",
    )
    assert summary.product_id == final_id
    assert summary.source == f"{url}/products/{final_id}"
    assert f"/products/{too_late}" not in fake.paths() and f"/products/{too_early}" not in fake.paths()
    assert {r.headers["user-agent"] for r in fake.requests} == {DEFAULT_USER_AGENT}


def test_real_reissues_come_back_with_api_issuance_times_for_settlement(api):
    fake, url = api
    older = fake.add("CVG", "CLICVG_older.txt", _utc("2020-04-23T05:46:00"))
    routine = fake.add("CVG", "CLICVG.txt", _utc("2020-04-23T05:47:00"))
    newer = fake.add("CVG", "CLICVG_newer.txt", _utc("2020-04-23T05:50:00"))
    fake.add("CVG", "CLICVG_colon.txt", _utc("2021-02-05T05:34:00"))
    with _client(url) as client:
        summaries = client.fetch_cli_summaries(CINCINNATI, date(2020, 4, 22))
    assert [(s.product_id, s.max_f) for s in summaries] == [(older, 68), (routine, 69), (newer, 70)]
    assert summaries[2].issued_at == _utc("2020-04-23T05:50:00")
    assert settlement_reports(summaries, date(2020, 4, 22)).settled.product_id == newer


def test_multi_station_product_keeps_only_the_citys_station(api):
    fake, url = api
    fake.add("ANC", "CLIANC.txt", _utc("2017-03-15T12:35:00"))
    with _client(url) as client:
        summaries = client.fetch_cli_summaries(ANCHORAGE, date(2017, 3, 14))
        assert [(s.station, s.max_f) for s in summaries] == [("ANCHORAGE AK", 23)]
        nowhere = dataclasses.replace(ANCHORAGE, station_name="FAIRBANKS AK")
        with pytest.raises(PayloadError, match=r"/products/.*none of the summaries .*KING SALMON.*FAIRBANKS AK"):
            client.fetch_cli_summaries(nowhere, date(2017, 3, 14))


def test_server_error_then_success_is_retried(api):
    fake, url = api
    fake.add("NYC", "CLINYC.txt", _utc("2013-01-03T06:16:00"))
    list_path = "/products/types/CLI/locations/NYC"
    fake.scripted[list_path] = [Response.json({"title": "Unexpected Problem", "status": 500}, status=500)]
    with _client(url) as client:
        refs = client.list_cli_products("NYC")
    assert len(refs) == 1
    assert fake.paths().count(list_path) == 2


def test_persistent_server_errors_give_up_after_the_bounded_attempts(api):
    fake, url = api
    list_path = "/products/types/CLI/locations/NYC"
    fake.scripted[list_path] = [Response.json({"status": 503}, status=503) for _ in range(5)]
    with (
        _client(url, max_attempts=3) as client,
        pytest.raises(NwsUnavailableError, match=r"NYC: gave up after 3"),
    ):
        client.list_cli_products("NYC")
    assert fake.paths().count(list_path) == 3


def test_timeout_then_success_is_retried():
    # A bare socket rather than the loopback app: a stalled app thread would later write into the
    # connection the client dropped and spill a BrokenPipe traceback.
    body = b'{"@graph": []}'
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/ld+json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    connections: list[socket.socket] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def serve() -> None:
            silent, _ = listener.accept()  # never answered: the client's read times out
            connections.append(silent)
            answered, _ = listener.accept()
            connections.append(answered)
            answered.recv(65536)
            answered.sendall(reply)

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        port = listener.getsockname()[1]
        with NwsClient(f"http://127.0.0.1:{port}", timeout=0.3, backoff_seconds=0.01) as client:
            assert client.list_cli_products("NYC") == []
        server.join(timeout=2)
    for connection in connections:
        connection.close()
    assert len(connections) == 2


def test_a_cut_off_json_body_is_retried_then_named_when_it_persists(api):
    fake, url = api
    list_path = "/products/types/CLI/locations/NYC"
    cut = Response(200, b'{"@graph": [', {"Content-Type": "application/ld+json"})
    fake.scripted[list_path] = [cut]
    with _client(url) as client:
        assert client.list_cli_products("NYC") == []
    assert fake.paths().count(list_path) == 2

    fake.scripted[list_path] = [cut] * 3
    with (
        _client(url, max_attempts=3) as client,
        pytest.raises(PayloadError, match=r"nws GET /products/types/CLI/locations/NYC: malformed JSON .*3 attempt"),
    ):
        client.list_cli_products("NYC")
    assert fake.paths().count(list_path) == 5


def test_missing_fields_name_the_endpoint_and_field(api):
    fake, url = api
    fake.scripted["/products/types/CLI/locations/NYC"] = [Response.json({"@graph": [{"id": "abc"}]})]
    fake.scripted["/products/abc"] = [Response.json({"id": "abc", "issuanceTime": "2013-01-03T06:16:00+00:00"})]
    with _client(url) as client:
        with pytest.raises(PayloadError) as listed:
            client.list_cli_products("NYC")
        with pytest.raises(PayloadError) as fetched:
            client.fetch_product("abc")
    assert listed.value.field == "@graph[0].issuanceTime"
    assert listed.value.source == f"{url}/products/types/CLI/locations/NYC"
    assert fetched.value.field == "productText"
    assert fetched.value.source == f"{url}/products/abc"


def test_client_error_is_not_retried(api):
    fake, url = api
    with _client(url) as client, pytest.raises(PayloadError, match=r"/products/0000-gone: HTTP 404"):
        client.fetch_product("0000-gone")
    assert fake.paths() == ["/products/0000-gone"]


def test_base_url_and_user_agent_come_from_settings(api, monkeypatch):
    fake, url = api
    monkeypatch.setenv("NWS_API_BASE", url)
    with NwsClient(user_agent="kalshi-wx-test (ops@example.org)") as client:
        assert client.list_cli_products("NYC") == []
    assert fake.requests[0].headers["user-agent"] == "kalshi-wx-test (ops@example.org)"
