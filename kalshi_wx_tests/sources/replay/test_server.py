"""The replay server: recorded payloads through the real clients, cents-era Kalshi files included."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.payloads.kalshi import markets_frame, trades_frame
from kalshi_wx.sources.kalshi.client import KalshiClient, KalshiHTTPError
from kalshi_wx.sources.nws import NwsClient
from kalshi_wx.sources.replay.server import ReplayServer
from kalshi_wx_tests.conftest import TEST_DATA

CPRATIM = TEST_DATA / "kalshi" / "cpratim_KXHIGHCHI"
EVENT = "KXHIGHCHI-25APR07"
DAY = date(2025, 4, 7)
WINDOW = climate_day_window(DAY, -6)


@pytest.fixture
def replay(tmp_path):
    """A replay directory laid out by hand from the real cents-era files (what `replay build` also does)."""
    root = tmp_path / "replay"
    (root / "kalshi" / "events").mkdir(parents=True)
    (root / "kalshi" / "trades").mkdir(parents=True)
    shutil.copy(CPRATIM / "events" / "2025-04-07.json", root / "kalshi" / "events" / f"{EVENT}.json")
    shutil.copy(CPRATIM / "events" / "2025-04-25.json", root / "kalshi" / "events" / "KXHIGHCHI-25APR25.json")
    shutil.copy(CPRATIM / "trades" / "2025-04-07.json", root / "kalshi" / "trades" / f"{EVENT}.json")
    with ReplayServer(root) as server:
        yield server


def test_recorded_event_markets_and_trades_parse_through_the_real_client(replay):
    with KalshiClient(base_url=replay.kalshi_base_url) as client:
        markets, tiers = client.get_event_markets(EVENT, series_ticker="KXHIGHCHI")
        hot = next(m for m in markets if m["ticker"].endswith("-T43"))
        trades = client.get_trades(hot["ticker"], int(WINDOW[0].timestamp()), int(WINDOW[1].timestamp()) - 1)
    assert len(markets) == 6 and set(tiers.values()) == {"live"}  # the default cutoff puts everything live
    frame = markets_frame(markets, city="chi", climate_date=DAY, source="replay", tiers=tiers)
    assert frame.filter(frame["result"] == "yes")["ticker"].to_list() == [f"{EVENT}-T43"]
    tape = json.loads((CPRATIM / "trades" / "2025-04-07.json").read_text())[hot["ticker"]]
    inside = [t for t in tape if WINDOW[0] <= datetime.fromisoformat(t["created_time"]) < WINDOW[1]]
    assert sorted(t["trade_id"] for t in trades) == sorted(t["trade_id"] for t in inside)
    parsed = trades_frame(trades, city="chi", climate_date=DAY, window=WINDOW, source="replay")
    assert parsed.height == len(inside) and parsed["yes_price"].max() <= Decimal(1)


def test_trades_page_newest_first_and_unrecorded_things_answer_as_kalshi_does(replay):
    ticker = f"{EVENT}-T43"
    pages, cursor = [], None
    with httpx.Client(base_url=replay.kalshi_base_url) as http:
        while True:
            params = {"ticker": ticker, "limit": 50, **({"cursor": cursor} if cursor else {})}
            body = http.get("/markets/trades", params=params).json()
            pages.append(body["trades"])
            cursor = body["cursor"]
            if not cursor:
                break
        assert [len(p) for p in pages] == [50, 50, 50, 3]
        stamps = [t["created_time"] for p in pages for t in p]
        assert stamps == sorted(stamps, reverse=True)
        assert http.get("/markets/trades").status_code == 400  # per-market tapes only
        escaped = http.get("/../../replay/kalshi/events/KXHIGHCHI-25APR07.json")
        assert escaped.status_code == 404
    with KalshiClient(base_url=replay.kalshi_base_url) as client:
        start = int(WINDOW[0].timestamp())
        assert client.get_candlesticks("KXHIGHCHI", ticker, start, start + 86_400, historical=False) == []
        with pytest.raises(KalshiHTTPError, match="series KXHIGHCHI is not in the replay"):
            client.get_series("KXHIGHCHI")
        assert client.get_event_markets("KXHIGHCHI-25APR08")[0] == []
        cutoff = client.get_historical_cutoff()
    assert cutoff.market_settled_ts == datetime(1970, 1, 1, tzinfo=UTC)


def test_manifest_cutoff_splits_the_tiers_as_the_exchange_does(replay):
    # Cutoff at noon UTC on the climate day: the markets (closed 05:59Z the next day) are live, the
    # morning's trades are only in the historical tape; the client stitches both.
    (replay.replay.root / "replay.json").write_text(json.dumps({"historical_cutoff": "2025-04-07T12:00:00Z"}))
    ticker = f"{EVENT}-T43"
    lo, hi = int(WINDOW[0].timestamp()), int(WINDOW[1].timestamp()) - 1
    with KalshiClient(base_url=replay.kalshi_base_url) as client:
        markets, tiers = client.get_event_markets(EVENT, series_ticker="KXHIGHCHI")
        trades = client.get_trades(ticker, lo, hi)
        historical = client.get_historical_trades(ticker=ticker, min_ts=lo, max_ts=hi)
    assert len(markets) == 6 and set(tiers.values()) == {"live"}
    noon = datetime(2025, 4, 7, 12, tzinfo=UTC)
    assert historical and all(datetime.fromisoformat(t["created_time"]) < noon for t in historical)
    tape = json.loads((CPRATIM / "trades" / "2025-04-07.json").read_text())[ticker]
    inside = {t["trade_id"] for t in tape if WINDOW[0] <= datetime.fromisoformat(t["created_time"]) < WINDOW[1]}
    assert {t["trade_id"] for t in trades} == inside
    (replay.replay.root / "replay.json").write_text(json.dumps({"historical_cutoff": "2025-05-01T00:00:00Z"}))
    with KalshiClient(base_url=replay.kalshi_base_url) as client:
        markets, tiers = client.get_event_markets(EVENT, series_ticker="KXHIGHCHI")
    assert len(markets) == 6 and set(tiers.values()) == {"historical"}


def test_recorded_candles_are_served_by_end_time(replay):
    ticker = f"{EVENT}-T43"
    candles = [
        {"end_period_ts": 1744030860 + 60 * k, "yes_bid": {"close": 40}, "yes_ask": {"close": 45}} for k in range(5)
    ]
    path = replay.replay.root / "kalshi" / "candles" / f"{ticker}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"candlesticks": candles}))
    with KalshiClient(base_url=replay.kalshi_base_url) as client:
        served = client.get_candlesticks("KXHIGHCHI", ticker, 1744030920, 1744031040, historical=False)
    assert [c["end_period_ts"] for c in served] == [1744030920, 1744030980, 1744031040]


def test_recorded_cli_products_are_listed_by_their_awips_id(replay):
    text = (TEST_DATA / "nws_cli" / "pyiem" / "CLINYC.txt").read_text()
    folder = replay.replay.root / "nws" / "products"
    folder.mkdir(parents=True)
    for product_id, issued in (("a", "2013-01-03T06:16:00+00:00"), ("b", "2013-01-03T06:30:00+00:00")):
        product = {"id": product_id, "issuanceTime": issued, "productCode": "CLI", "productText": text}
        (folder / f"{product_id}.json").write_text(json.dumps(product))
    with NwsClient(replay.nws_base_url) as nws:
        assert [r.id for r in nws.list_cli_products("NYC")] == ["a", "b"]
        assert nws.list_cli_products("MDW") == []
        assert nws.fetch_product("b").text == text
