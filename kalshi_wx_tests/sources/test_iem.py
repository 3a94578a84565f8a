"""IemClient against FakeIem over real loopback HTTP: the documented requests, IEM's errors and throttle."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.asos import iem_1min_rows
from kalshi_wx.core.payloads.iem_cli import iem_cli_days
from kalshi_wx.core.payloads.iem_mos import mos_rows
from kalshi_wx.core.payloads.nws_cli import parse_cli_product
from kalshi_wx.sources.http import RetryPolicy
from kalshi_wx.sources.iem import IemClient, IemHTTPError, RequestSpacing, shared_spacing
from kalshi_wx_tests.conftest import TEST_DATA
from kalshi_wx_tests.core.payloads.test_asos import IEM_1MIN
from kalshi_wx_tests.fakes import FakeIem, Fault

CLINYC = (TEST_DATA / "nws_cli" / "pyiem" / "CLINYC.txt").read_text()
START, END = datetime(2025, 7, 1, 18, 59, tzinfo=UTC), datetime(2025, 7, 1, 19, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def iem_server(tmp_path_factory):
    with FakeIem(tmp_path_factory.mktemp("iem")) as server:
        server.add_1min("NYC", date(2025, 7, 1), IEM_1MIN)
        server.add_product("CLINYC", "201301030616-KOKX-CDUS41-CLINYC", CLINYC)
        server.add_product("CLINYC", "201301040616-KOKX-CDUS41-CLINYC", CLINYC.replace("030616", "040616"))
        server.add_cli_year("KNYC", 2025, {"results": [{"station": "KNYC", "valid": "2025-06-01", "high": 66}]})
        yield server


@pytest.fixture
def iem(iem_server):
    iem_server.reset()
    return iem_server


class Clock:
    """A monotonic clock that the client's sleeps advance, so spacing is observed without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _client(iem: FakeIem, clock: Clock, *, min_interval_s: float) -> IemClient:
    retry = RetryPolicy(max_attempts=3, base_delay_s=0.01)
    spacing = RequestSpacing(min_interval_s, clock=clock)
    return IemClient(iem.base_url, retry=retry, spacing=spacing, sleep=clock.sleep)


def test_one_minute_request_strips_the_k_and_asks_utc(iem, clock):
    with _client(iem, clock, min_interval_s=0.0) as client:
        answer = client.asos_1min("KNYC", START, END)
    (call,) = iem.calls
    assert call.path == "/cgi-bin/request/asos1min.py"
    assert {k: call.query[k] for k in ("station", "vars", "sts", "ets", "tz", "sample")} == {
        "station": "NYC",
        "vars": "tmpf,dwpf,sknt",
        "sts": "2025-07-01T18:59Z",
        "ets": "2025-07-01T19:01Z",
        "tz": "UTC",
        "sample": "1min",
    }
    rows = iem_1min_rows(answer.text, station="KNYC", origin=answer.url)
    assert [(r["ts"].minute, r["temp_f"]) for r in rows] == [(59, 89.0), (0, None)]  # sts <= valid < ets
    assert answer.url.startswith(f"{iem.base_url}/cgi-bin/request/asos1min.py?station=NYC")


def test_iem_refusals_are_one_line_errors(iem, clock):
    with _client(iem, clock, min_interval_s=0.0) as client:
        with pytest.raises(IemHTTPError, match=r"iem GET /json/cli.py: HTTP 422: station: 'NYC' is not 4"):
            client.cli_year("NYC", 2025)  # json/cli.py wants the 4-letter id
        with pytest.raises(IemHTTPError, match="HTTP 404: .*Product not found"):
            client.product_text("201301050616-KOKX-CDUS41-CLINYC")
        nothing = client.asos_1min("KLGA", START, END)  # nothing archived: the header alone
    assert nothing.text == "station,station_name,valid(UTC),tmpf,dwpf,sknt\n"
    # The K-prefixed id the client never sends is what IEM refuses (reference s0).
    refused = httpx.get(f"{iem.base_url}/cgi-bin/request/asos1min.py", params={"station": "KNYC", "vars": "tmpf",
                        "sts": "2025-07-01T00:00Z", "ets": "2025-07-02T00:00Z"})  # fmt: skip
    assert (refused.status_code, refused.text) == (422, "Unknown station provided: KNYC")


def test_requests_to_one_host_are_spaced_by_the_throttle(iem, clock):
    with _client(iem, clock, min_interval_s=1.0) as client:
        client.cli_year("KNYC", 2025)
        client.cli_year("KNYC", 2025)
        clock.now += 5.0  # a pause longer than the spacing costs nothing
        client.cli_year("KNYC", 2025)
    assert clock.sleeps == [pytest.approx(1.0)]
    assert len(iem.calls) == 3


def test_throttle_429_and_overload_503_are_retried_as_told(iem, clock):
    iem.fail("/json/cli.py", Fault.http(429, retry_after=2))
    iem.fail("/json/cli.py", Fault.http(503))
    with _client(iem, clock, min_interval_s=0.0) as client:
        doc, url = client.cli_year("KNYC", 2025)
    assert [c.status for c in iem.calls] == [429, 503, 200]
    assert clock.sleeps[0] == 2.0  # Retry-After
    assert iem_cli_days(doc, station="KNYC", origin=url)[0].max_f == 66
    iem.fail("/json/cli.py", Fault.http(503), times=3)
    with _client(iem, clock, min_interval_s=0.0) as client, pytest.raises(IemHTTPError, match="HTTP 503"):
        client.cli_year("KNYC", 2025)


def test_a_cut_off_answer_is_a_clear_payload_error(iem, clock):
    # A CSV cut short parses as a shorter CSV, so the parser names the truncated line; a JSON body
    # cut short is retried, and is an error naming the request once every attempt got one.
    iem.fail("/cgi-bin/request/asos1min.py", Fault.raw(IEM_1MIN[:120].encode(), content_type="text/csv"))
    iem.fail("/json/cli.py", Fault.raw(b'{"results": [{"station": "KN'), times=3)
    with _client(iem, clock, min_interval_s=0.0) as client:
        answer = client.asos_1min("KNYC", START, END)
        with pytest.raises(PayloadError, match=r"line 3: 2 fields, the header has 6 \(truncated\?\)"):
            iem_1min_rows(answer.text, station="KNYC", origin=answer.url)
        with pytest.raises(PayloadError, match="/json/cli.py.*malformed JSON"):
            client.cli_year("KNYC", 2025)


def test_cli_products_in_a_window_and_by_id(iem, clock):
    with _client(iem, clock, min_interval_s=0.0) as client:
        texts, _ = client.cli_products("CLINYC", datetime(2013, 1, 3, tzinfo=UTC), datetime(2013, 1, 3, 12, tzinfo=UTC))
        none, _ = client.cli_products("CLINYC", datetime(2014, 1, 1, tzinfo=UTC), datetime(2014, 1, 2, tzinfo=UTC))
        one = client.product_text("201301040616-KOKX-CDUS41-CLINYC")
    assert len(texts) == 1 and parse_cli_product(texts[0], source="x")[0].max_f == 33
    assert none == []  # IEM says "ERROR: Could not Find: CLINYC" with HTTP 200
    assert "CDUS41 KOKX 040616" in one.text
    retrieve = iem.calls[0].query
    assert (retrieve["pil"], retrieve["fmt"], retrieve["limit"], retrieve["order"]) == ("CLINYC", "text", "9999", "asc")


def test_mos_runs_by_cycle_time(iem, clock):
    header = "runtime,ftime,station,model,tmp,dpt"
    iem.add_mos(
        "KNYC", "NBS", date(2025, 7, 9), f"{header}\n2025-07-09 19:00:00,2025-07-10 06:00:00,KNYC,NBS,72.0,66.0\n"
    )
    iem.add_mos(
        "KNYC", "NBS", date(2025, 7, 10), f"{header}\n2025-07-10 01:00:00,2025-07-10 06:00:00,KNYC,NBS,71.0,66.0\n"
    )
    with _client(iem, clock, min_interval_s=0.0) as client:
        answer = client.mos("KNYC", "NBS", datetime(2025, 7, 9, 12, tzinfo=UTC), datetime(2025, 7, 10, 0, tzinfo=UTC))
    rows = mos_rows(answer.text, station="KNYC", model="NBS", origin=answer.url)
    assert [(r.runtime.hour, r.temp_f) for r in rows] == [(19, 72.0)]
    assert iem.calls[0].query["format"] == "csv"


def test_base_url_comes_from_the_environment_and_clients_of_a_host_share_one_spacing():
    assert IemClient.from_env({"IEM_API_BASE": "http://127.0.0.1:9/iem/"}).base_url == "http://127.0.0.1:9/iem"
    assert IemClient.from_env({}).base_url == "https://mesonet.agron.iastate.edu"
    assert shared_spacing("mesonet.agron.iastate.edu") is shared_spacing("mesonet.agron.iastate.edu")
    assert shared_spacing("mesonet.agron.iastate.edu").interval_s == 1.0
