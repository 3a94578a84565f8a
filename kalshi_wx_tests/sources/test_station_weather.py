"""One city-day from each configured source, through the real clients and a replay of recorded files on loopback."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.payloads.nws_cli import settlement_reports
from kalshi_wx.core.payloads.observations import STATION_OBS_SCHEMA
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.iem import IemClient, RequestSpacing
from kalshi_wx.sources.ncei import NceiClient, five_minute_path
from kalshi_wx.sources.nws import NwsClient
from kalshi_wx.sources.replay.server import ReplayServer
from kalshi_wx.sources.station_weather import fetch_cli_reports, fetch_forecast, fetch_station_obs
from kalshi_wx.sources.visual_crossing import VisualCrossingClient
from kalshi_wx_tests.conftest import TEST_DATA
from kalshi_wx_tests.fakes import FakeVisualCrossing

NYC = settings().cities["nyc"]
CLINYC = (TEST_DATA / "nws_cli" / "pyiem" / "CLINYC.txt").read_text()
CLI_DAY = date(2013, 1, 2)  # CLINYC.txt: issued 06:16Z Jan 3 (1:16 AM EST), so the market expires 12:00Z
VC_KEY = "vc-test-key"


@dataclass
class Clients:
    """The ``WeatherClients`` of these tests: the real clients, pointed at loopback servers."""

    replay: ReplayServer
    vc_url: str = "http://127.0.0.1:9"

    def visual_crossing(self) -> VisualCrossingClient:
        return VisualCrossingClient(VC_KEY, self.vc_url)

    def iem(self) -> IemClient:
        return IemClient(self.replay.iem_base_url, spacing=RequestSpacing(0.0))

    def ncei(self) -> NceiClient:
        return NceiClient(self.replay.ncei_base_url)


def _write(root: Path, relative: str, content: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)


@pytest.fixture
def replay(tmp_path):
    with ReplayServer(tmp_path) as server:
        yield server


def test_iem_1min_day_is_fetched_over_both_utc_dates_of_the_climate_day(replay):
    day = date(2025, 7, 1)
    start, end = climate_day_window(day, -5)  # 05Z to 05Z
    header = "station,station_name,valid(UTC),tmpf,dwpf,sknt\n"
    for utc_day in (date(2025, 7, 1), date(2025, 7, 2)):
        rows = [
            f"NYC,NEW YORK CITY,{t:%Y-%m-%d %H:%M},{70 + t.hour % 12},60,3\n"
            for t in (
                datetime(utc_day.year, utc_day.month, utc_day.day, tzinfo=UTC) + timedelta(minutes=m)
                for m in range(1440)
            )
        ]
        _write(replay.replay.root, f"iem/asos1min/NYC/{utc_day}.csv", header + "".join(rows))
    fetched = fetch_station_obs("iem_1min", NYC, day, Clients(replay))
    frame = fetched.frame
    assert frame.schema == STATION_OBS_SCHEMA and frame.height == 1440
    assert (frame["ts"].min(), frame["ts"].max()) == (start, end - timedelta(minutes=1))
    assert set(frame["source"]) == {"iem_1min"} and set(frame["resolution_min"]) == {1}
    assert "/cgi-bin/request/asos1min.py?station=NYC" in fetched.origin


def test_ncei_5min_day_comes_from_its_local_standard_month(replay, real_data):
    text = (real_data / "asos_5min/jetpackjules_KNYC/asos-5min-KNYC-202507.dat").read_text()
    _write(replay.replay.root, "ncei" + five_minute_path("KNYC", 2025, 7), text)
    # July 31 LST ends at 05Z on August 1: still the July file.
    fetched = fetch_station_obs("ncei_5min", NYC, date(2025, 7, 31), Clients(replay))
    assert fetched.frame["ts"].max() >= datetime(2025, 8, 1, 4, 0, tzinfo=UTC)
    assert set(fetched.frame["source"]) == {"ncei_5min"}
    assert fetched.origin.endswith("asos-5min-KNYC-202507.dat")


def test_visual_crossing_day_is_the_same_frame_with_its_bill(replay):
    day = date(2026, 6, 1)
    start, _ = climate_day_window(day, -5)
    with FakeVisualCrossing(api_key=VC_KEY) as vc:
        vc.observations["KNYC"] = [
            {"datetimeEpoch": int(start.timestamp()) + 300 * k, "temp": 70.0} for k in range(288)
        ]
        fetched = fetch_station_obs("visual_crossing", NYC, day, Clients(replay, vc.base_url))
    assert fetched.frame.schema == STATION_OBS_SCHEMA and fetched.frame.height == 288
    assert set(fetched.frame["source"]) == {"visual_crossing"} and fetched.metadata == {"query_cost": 288}


def test_mos_forecast_is_the_last_run_out_before_the_day(replay):
    day = date(2025, 7, 10)
    header = "runtime,ftime,station,model,tmp,dpt\n"
    runs = {"2025-07-09": (13, 19), "2025-07-10": (1, 7)}
    for utc_day, hours in runs.items():
        lines = [
            f"{utc_day} {h:02d}:00:00,{(datetime.fromisoformat(utc_day) + timedelta(hours=h + s)):%Y-%m-%d %H:%M:%S},"
            f"KNYC,NBS,{60 + h + s % 24}.0,55.0\n"
            for h in hours
            for s in range(3, 73, 3)
        ]
        _write(replay.replay.root, f"iem/mos/KNYC/NBS/{utc_day}.csv", header + "".join(lines))
    fetched = fetch_forecast(
        "iem_mos", NYC, day, Clients(replay),
        mos_model="NBS", publication_delay=timedelta(hours=2), lookback=timedelta(hours=36),
    )  # fmt: skip
    frame = fetched.frame
    assert set(frame["runtime"]) == {datetime(2025, 7, 10, 1, tzinfo=UTC)}
    assert (frame["issued_at"] <= climate_day_window(day, -5)[0]).all()
    assert frame.height == 10 and fetched.metadata == {"model": "NBS"}


def _corrected(max_f: int, heading_time: str) -> str:
    """The real CLINYC product re-issued at ``heading_time`` (DDHHMM) as a correction marked only in its title."""
    text = CLINYC.replace("CDUS41 KOKX 030616", f"CDUS41 KOKX {heading_time}")
    text = text.replace("\nCLIMATE REPORT\n", "\nCLIMATE REPORT (CORRECTION)\n", 1)
    return text.replace("  MAXIMUM         33", f"  MAXIMUM         {max_f}", 1)


def test_cli_reports_beyond_the_api_come_from_the_iem_archive_and_follow_the_contract(replay):
    root = replay.replay.root
    _write(root, "iem/afos/CLINYC/201301030616-KOKX-CDUS41-CLINYC.txt", CLINYC)
    _write(root, "iem/afos/CLINYC/201301031130-KOKX-CDUS41-CLINYC.txt", _corrected(34, "031130"))  # before 12Z
    _write(root, "iem/afos/CLINYC/201301031400-KOKX-CDUS41-CLINYC.txt", _corrected(35, "031400"))  # after
    clients = Clients(replay)
    with NwsClient(replay.nws_base_url) as nws, clients.iem() as iem:
        reports = fetch_cli_reports(NYC, CLI_DAY, nws=nws, iem=iem)
    assert reports.source == "iem_afos"
    assert [(s.product_id, s.report_type, s.max_f) for s in reports.summaries] == [
        ("201301030616-KOKX-CDUS41-CLINYC", "final", 33),
        ("201301031130-KOKX-CDUS41-CLINYC", "correction", 34),
        ("201301031400-KOKX-CDUS41-CLINYC", "correction", 35),
    ]
    chosen = settlement_reports(reports.summaries, CLI_DAY)
    assert (chosen.settled.max_f, chosen.first_official.max_f, chosen.latest.max_f) == (34, 33, 35)
    assert chosen.revised_after_expiration and reports.text_of(chosen.settled).startswith(CLINYC[:10])


def test_api_products_win_and_the_simulator_has_no_archive(replay):
    _write(replay.replay.root, "iem/afos/CLINYC/201301030616-KOKX-CDUS41-CLINYC.txt", _corrected(40, "030616"))
    product = {"id": "p-1", "issuanceTime": "2013-01-03T06:16:00+00:00", "productCode": "CLI", "productText": CLINYC}
    _write(replay.replay.root, "nws/products/p-1.json", json.dumps(product))
    clients = Clients(replay)
    with NwsClient(replay.nws_base_url) as nws, clients.iem() as iem:
        reports = fetch_cli_reports(NYC, CLI_DAY, nws=nws, iem=iem)
        assert (reports.source, [s.max_f for s in reports.summaries]) == ("nws_api", [33])
        assert fetch_cli_reports(NYC, date(2013, 1, 3), nws=nws, iem=None).summaries == ()


def test_daily_values_settle_when_no_raw_product_exists(replay):
    doc = {
        "results": [
            {"station": "KNYC", "valid": "2025-06-01", "high": 66, "high_time": "125 PM", "low": 50,
             "product": "202506020617-KOKX-CDUS41-CLINYC"},
        ]
    }  # fmt: skip
    _write(replay.replay.root, "iem/cli/KNYC/2025.json", json.dumps(doc))
    clients = Clients(replay)
    with NwsClient(replay.nws_base_url) as nws, clients.iem() as iem:
        reports = fetch_cli_reports(NYC, date(2025, 6, 1), nws=nws, iem=iem)
        nothing = fetch_cli_reports(NYC, date(2025, 6, 2), nws=nws, iem=iem)
    assert reports.source == "iem_cli_json" and reports.texts == {}
    (summary,) = reports.summaries
    assert (summary.max_f, summary.report_type, summary.issued_at) == (
        66,
        "final",
        datetime(2025, 6, 2, 6, 17, tzinfo=UTC),
    )
    assert nothing.summaries == ()
