"""The simulated crypto series: index path, window markets and their tickers, the maker, and the REST routes."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from kalshi_wx.sources.sim import crypto
from kalshi_wx.sources.sim.common import CryptoSeries, SimConfig
from kalshi_wx.sources.sim.server import SimServer
from kalshi_wx_tests.sources.sim.conftest import ok

NOW = datetime(2026, 6, 10, 12, 7, 30, tzinfo=UTC)
TICKER = re.compile(r"^KXBTC15M-(\d{2})([A-Z]{3})(\d{2})(\d{2})(\d{2})-(\d{2})$")


@pytest.fixture(scope="module")
def config(sim_config) -> SimConfig:
    return replace(sim_config, now=NOW, crypto=(CryptoSeries(),))


@pytest.fixture(scope="module")
def rest(config):
    with SimServer(config) as server:
        yield server


def test_windows_are_15_minutes_named_by_their_close_in_new_york(config):
    series = config.crypto[0]
    day = [crypto.open_markets(config, series, datetime(2026, 6, 10, tzinfo=UTC).timestamp() + 900 * k)[0]
           for k in range(96)]  # fmt: skip
    assert len({m.ticker for m in day}) == 96
    for market in day:
        assert market.close_time - market.open_time == timedelta(minutes=15) and market.open_time.minute % 15 == 0
        local = market.close_time.astimezone(ZoneInfo("America/New_York"))
        match = TICKER.match(market.ticker)
        assert match, market.ticker
        assert (match[4], match[5], match[6]) == (f"{local:%H}", f"{local:%M}", f"{local:%M}")
        assert market.event_ticker == market.ticker.rsplit("-", 1)[0]
    # reference s10: KXBTC15M-26JUL150030-30 closed at 04:30Z
    july = crypto.open_markets(config, series, datetime(2026, 7, 15, 4, 20, tzinfo=UTC).timestamp())[0]
    assert july.ticker == "KXBTC15M-26JUL150030-30"


def test_the_index_is_deterministic_continuous_and_settles_each_window(config):
    series = config.crypto[0]
    midnight = datetime(2026, 6, 11, tzinfo=UTC).timestamp()
    path = np.array([crypto.index_at(config.seed, series, midnight + s) for s in range(-300, 300)])
    steps = np.abs(np.diff(np.log(path)))
    second_sd = series.annual_vol / math.sqrt(365 * 86_400)
    assert steps.max() < 6 * second_sd  # no jump at midnight: the bridge meets the next day's level
    other = replace(config, seed=config.seed + 1)
    assert crypto.index_at(other.seed, series, midnight) != crypto.index_at(config.seed, series, midnight)
    assert crypto.index_at(config.seed, series, midnight) == path[300]  # a function of the seed and time only
    market = crypto.open_markets(config, series, NOW.timestamp())[0]
    average = crypto.average_before(config.seed, series, market.close_ts)
    assert crypto.result(config.seed, market) == ("yes" if average > market.floor_strike else "no")
    assert market.floor_strike == round(crypto.average_before(config.seed, series, market.open_ts), 2)
    assert crypto.fair_probability(config.seed, market, market.close_ts) in (0.0, 1.0)


def test_the_maker_quotes_around_its_fair_probability(config):
    series = config.crypto[0]
    market = crypto.open_markets(config, series, NOW.timestamp())[0]
    for t in np.linspace(market.open_ts + 5, market.close_ts - 5, 40):
        fair = 100 * crypto.fair_probability(config.seed, market, t)
        bid, ask = crypto.touch_cents(config.seed, market, t)
        if bid and ask != 100:
            assert 1 <= ask - bid <= 3 and bid - 1 <= fair <= ask + 1
    assert crypto.touch_cents(config.seed, market, market.close_ts) == (0, 100)  # no quotes once closed


def test_rest_lists_the_series_and_the_open_window_for_discovery(http, rest, config):
    base = rest.kalshi_base_url
    series = ok(http.get(f"{base}/series/KXBTC15M"))["series"]
    assert series["ticker"] == "KXBTC15M" and series["fee_type"] == "quadratic"
    assert "KXBTC15M" in {s["ticker"] for s in ok(http.get(f"{base}/series"))["series"]}
    [market] = ok(http.get(f"{base}/markets", params={"series_ticker": "KXBTC15M", "status": "open"}))["markets"]
    assert market["status"] == "active" and market["open_time"] == "2026-06-10T12:00:00Z"
    assert market["close_time"] == "2026-06-10T12:15:00Z" and market["strike_type"] == "greater"
    assert ok(http.get(f"{base}/markets/{market['ticker']}"))["market"] == market
    book = ok(http.get(f"{base}/markets/{market['ticker']}/orderbook"))["orderbook_fp"]
    if book["yes_dollars"]:
        assert max(p for p, _ in book["yes_dollars"]) == market["yes_bid_dollars"]
    listed = ok(http.get(f"{base}/markets", params={"series_ticker": "KXBTC15M", "limit": 1000}))["markets"]
    assert len(listed) == 24 * 4 + 1  # the open window and a day of closed ones
    settled = [m for m in listed if m["status"] == "finalized"]
    assert settled and all(m["result"] in ("yes", "no") and m["settlement_value_dollars"] for m in settled)
    event = ok(http.get(f"{base}/events/{market['event_ticker']}"))
    assert [m["ticker"] for m in event["markets"]] == [market["ticker"]]
    later = crypto.open_markets(config, config.crypto[0], (NOW + timedelta(hours=1)).timestamp())[0]
    assert http.get(f"{base}/markets/{later.ticker}").status_code == 404  # not listed yet


def test_a_strike_ladder_series_and_the_default_config_without_crypto(http, sim, config):
    ladder = CryptoSeries("KXBTCD", window_minutes=60, strikes=9)
    markets = crypto.open_markets(replace(config, crypto=(ladder,)), ladder, NOW.timestamp())
    strikes = [m.floor_strike for m in markets]
    assert len(markets) == 9 and strikes == sorted(strikes) and len(set(np.diff(strikes))) == 1
    assert all(re.fullmatch(r"KXBTCD-26JUN1009-T\d+", m.ticker) for m in markets)  # 13:00Z closes 09:00 EDT
    assert http.get(f"{sim.kalshi_base_url}/series/KXBTC15M").status_code == 404
    with pytest.raises(ValueError, match="window_minutes 7 must divide a day"):
        CryptoSeries(window_minutes=7)
    assert date(2026, 6, 10) == NOW.date()
