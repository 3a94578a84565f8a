"""The simulator's Kalshi Trade API over real HTTP: wire formats, paging, historical routing, candles, books."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import numpy as np
import pytest

from kalshi_wx.sources.sim import SimConfig, SimServer, simulate_city_day
from kalshi_wx.sources.sim.exchange import parse_event_ticker, served_dates
from kalshi_wx.sources.sim.weather import simulate_weather
from kalshi_wx_tests.sources.sim.conftest import ok

REAL_BOOKS = "kalshi/ericzzhang27_Kalshi-Weather-Trading/orderbook_fp_raw_20260824T193510Z.jsonl"
DOLLARS = re.compile(r"^[01]\.\d{4}$")
COUNT = re.compile(r"^\d+\.\d{2}$")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")


def _ticker(config: SimConfig, city: str, day: date, index: int) -> str:
    return simulate_city_day(config, city, day).markets[index].ticker


def _kalshi(http: httpx.Client, sim: SimServer, path: str, **params) -> httpx.Response:
    return http.get(f"{sim.kalshi_base_url}{path}", params=params)


def _collect(http, sim, path: str, key: str, **params) -> tuple[list[dict], int]:
    items, pages, cursor = [], 0, ""
    while True:
        page = ok(_kalshi(http, sim, path, **params, **({"cursor": cursor} if cursor else {})))
        items += page[key]
        pages += 1
        cursor = page["cursor"]
        if not cursor:
            return items, pages


# ---- Kalshi market objects ---------------------------------------------------------------------


def test_market_objects_have_the_real_fields_and_formats(http, sim, real_markets):
    real = real_markets
    real_keys = set().union(*(m.keys() for m in real))
    markets = ok(_kalshi(http, sim, "/markets", event_ticker="KXHIGHNY-26JUN10"))["markets"]
    assert len(markets) == 6
    for market in markets:
        expected = real_keys - ({"cap_strike"} if market["strike_type"] == "greater" else set())
        expected -= {"floor_strike"} if market["strike_type"] == "less" else set()
        assert set(market) == expected
        for key, value in market.items():
            if key.endswith("_dollars"):
                assert DOLLARS.match(value), (key, value)
            elif key.endswith("_fp"):
                assert COUNT.match(value), (key, value)
            elif key.endswith("_time") or key == "occurrence_datetime":
                assert ISO_Z.match(value), (key, value)
        assert market["status"] == "active" and market["result"] == ""
        assert Decimal(market["yes_bid_dollars"]) < Decimal(market["yes_ask_dollars"])
        assert Decimal(market["no_bid_dollars"]) == 1 - Decimal(market["yes_ask_dollars"])
        assert market["close_time"] == "2026-06-11T04:59:00Z"
        assert market["open_time"] == "2026-06-09T14:00:00Z"


def test_ticker_and_text_follow_kalshi_conventions(http, sim):
    markets = ok(_kalshi(http, sim, "/markets", event_ticker="KXHIGHNY-26JUN03"))["markets"]
    for market in markets:
        kind, floor, cap = market["strike_type"], market.get("floor_strike"), market.get("cap_strike")
        suffix = market["ticker"].rsplit("-", 1)[1]
        if kind == "between":
            assert suffix == f"B{floor}.5" and market["subtitle"] == f"{floor}° to {cap}°"
            assert f"between {floor}-{cap}°" in market["rules_primary"]
        elif kind == "less":
            assert suffix == f"T{cap}" and market["subtitle"] == f"{cap - 1}° or below"
        else:
            assert suffix == f"T{floor}" and market["subtitle"] == f"{floor + 1}° or above"
        assert "Central Park, New York for June 03, 2026" in market["rules_primary"]


def test_settled_events_have_one_yes_that_contains_the_cli_max(http, sim, sim_config):
    settled = ok(_kalshi(http, sim, "/markets", series_ticker="KXHIGHAUS", status="settled", limit=1000))
    by_event: dict[str, list[dict]] = {}
    for market in settled["markets"]:
        by_event.setdefault(market["event_ticker"], []).append(market)
    assert len(by_event) >= 7
    for event, markets in by_event.items():
        assert len(markets) == 6
        value = int(markets[0]["expiration_value"])
        _, climate_date = parse_event_ticker(sim_config, event)
        assert value == simulate_weather(sim_config.seed, sim_config.city("aus"), climate_date).cli_max_f
        winners = [m for m in markets if m["result"] == "yes"]
        assert len(winners) == 1, event
        win = winners[0]
        lo = win.get("floor_strike", -1000) + (1 if win["strike_type"] == "greater" else 0)
        hi = win.get("cap_strike", 1000) - (1 if win["strike_type"] == "less" else 0)
        assert lo <= value <= hi
        assert win["settlement_value_dollars"] == "1.0000"
        assert all(m["settlement_value_dollars"] == "0.0000" for m in markets if m is not win)
        assert all(m["status"] == "finalized" and ISO_Z.match(m["settlement_ts"]) for m in markets)


def test_status_filters_map_to_response_statuses(http, sim, sim_config):
    seen = {}
    for status in ("unopened", "open", "closed", "settled"):
        markets = ok(_kalshi(http, sim, "/markets", series_ticker="KXHIGHDEN", status=status, limit=1000))
        seen[status] = {m["status"] for m in markets["markets"]}
    assert seen == {"unopened": set(), "open": {"active"}, "closed": set(), "settled": {"finalized"}}
    late = replace(sim_config, now=datetime(2026, 6, 3, 9, 30, tzinfo=UTC))  # after NYC's close, before settlement
    with SimServer(late) as server:
        closed = ok(_kalshi(http, server, "/markets", series_ticker="KXHIGHNY", status="closed"))
    assert {m["event_ticker"] for m in closed["markets"]} == {"KXHIGHNY-26JUN02"}
    assert {m["status"] for m in closed["markets"]} == {"closed"}


# ---- pagination --------------------------------------------------------------------------------


def test_markets_pagination_collects_everything_exactly_once(http, sim, sim_config):
    everything = ok(_kalshi(http, sim, "/markets", limit=1000))["markets"]
    paged, pages = _collect(http, sim, "/markets", "markets", limit=97)
    assert pages == -(-len(everything) // 97) and pages > 3
    assert [m["ticker"] for m in paged] == [m["ticker"] for m in everything]
    assert len({m["ticker"] for m in paged}) == len(paged)
    live_events = [
        d
        for c in sim_config.cities
        for d in served_dates(sim_config, c)
        if not simulate_city_day(sim_config, c.key, d).is_historical(sim_config)
    ]
    assert len(paged) == 6 * len(live_events)


def test_trades_pagination_collects_everything_exactly_once(http, sim, sim_config):
    day = simulate_city_day(sim_config, "nyc", date(2026, 6, 9))
    index = 3
    ticker = day.markets[index].ticker
    expected = sorted(
        (day.trade_id(j) for j in range(day.trade_us.size) if day.trade_market[j] == index),
    )
    trades, pages = _collect(http, sim, "/markets/trades", "trades", ticker=ticker, limit=5)
    assert pages > 3
    ids = [t["trade_id"] for t in trades]
    assert sorted(ids) == expected and len(set(ids)) == len(ids)
    times = [t["created_time"] for t in trades]
    assert times == sorted(times, reverse=True)  # newest first
    for trade in trades:
        assert COUNT.match(trade["count_fp"]) and DOLLARS.match(trade["yes_price_dollars"])
        assert Decimal(trade["yes_price_dollars"]) + Decimal(trade["no_price_dollars"]) == 1
        assert trade["taker_outcome_side"] in ("yes", "no")
        assert trade["taker_book_side"] == ("bid" if trade["taker_outcome_side"] == "yes" else "ask")


def test_a_cursor_only_continues_its_own_query(http, sim):
    first = ok(_kalshi(http, sim, "/markets", series_ticker="KXHIGHNY", limit=5))
    response = _kalshi(http, sim, "/markets", series_ticker="KXHIGHMIA", limit=5, cursor=first["cursor"])
    assert response.status_code == 400 and "cursor" in response.json()["error"]["message"]
    assert _kalshi(http, sim, "/markets", cursor="garbage!").status_code == 400


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/markets", {"limit": "1001"}, "limit"),
        ("/markets", {"limit": "ten"}, "limit"),
        ("/markets", {"status": "live"}, "status"),
        ("/markets", {"event_ticker": "A,B"}, "event_ticker"),
        ("/markets", {"min_close_ts": "1"}, "min_close_ts"),
        ("/events", {"limit": "201"}, "limit"),
        ("/events", {"with_nested_markets": "yes"}, "with_nested_markets"),
        ("/markets/trades", {"min_ts": "soon"}, "min_ts"),
        ("/markets/{nyc_ticker}/orderbook", {"depth": "101"}, "depth"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(http, sim, sim_config, path, params, param):
    path = path.format(nyc_ticker=_ticker(sim_config, "nyc", date(2026, 6, 9), 0))
    response = _kalshi(http, sim, path, **params)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{param}:")


# ---- historical routing -----------------------------------------------------------------------


def test_markets_settled_before_the_cutoff_live_only_under_historical(http, sim):
    assert ok(_kalshi(http, sim, "/historical/cutoff"))["market_settled_ts"] == "2026-06-02T12:00:00Z"
    event = "KXHIGHNY-26JUN01"
    assert ok(_kalshi(http, sim, "/markets", event_ticker=event))["markets"] == []
    archived = ok(_kalshi(http, sim, "/historical/markets", event_ticker=event))["markets"]
    assert len(archived) == 6 and {m["status"] for m in archived} == {"finalized"}
    ticker = archived[0]["ticker"]
    missing = _kalshi(http, sim, f"/markets/{ticker}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert ok(_kalshi(http, sim, f"/historical/markets/{ticker}"))["market"]["ticker"] == ticker
    candles = {"start_ts": 0, "end_ts": 2**31, "period_interval": 1}
    assert _kalshi(http, sim, f"/series/KXHIGHNY/markets/{ticker}/candlesticks", **candles).status_code == 404
    assert ok(_kalshi(http, sim, f"/historical/markets/{ticker}/candlesticks", **candles))["candlesticks"]
    # The next day settled after the cutoff: live, and not in the archive.
    assert len(ok(_kalshi(http, sim, "/markets", event_ticker="KXHIGHNY-26JUN02"))["markets"]) == 6
    assert ok(_kalshi(http, sim, "/historical/markets", event_ticker="KXHIGHNY-26JUN02"))["markets"] == []
    nested = ok(_kalshi(http, sim, f"/events/{event}", with_nested_markets="true"))
    assert nested["event"]["markets"] == [] and nested["markets"] == []


def test_trades_split_at_the_trade_cutoff(http, sim, sim_config):
    day = simulate_city_day(sim_config, "nyc", date(2026, 6, 2))  # trades on both sides of 12:00Z
    ticker = day.markets[day.winner].ticker
    live, _ = _collect(http, sim, "/markets/trades", "trades", ticker=ticker, limit=1000)
    old, _ = _collect(http, sim, "/historical/trades", "trades", ticker=ticker, limit=1000)
    assert live and old
    assert all(t["created_time"] >= "2026-06-02T12:00:00" for t in live)
    assert all(t["created_time"] < "2026-06-02T12:00:00" for t in old)
    assert len(live) + len(old) == int(np.sum(day.trade_market == day.winner))


def test_time_filters_on_trades(http, sim, sim_config):
    ticker = simulate_city_day(sim_config, "phl", date(2026, 6, 8)).markets[3].ticker
    trades, _ = _collect(http, sim, "/markets/trades", "trades", ticker=ticker, limit=1000)
    middle = trades[len(trades) // 2]["created_time"]
    cut = int(datetime.fromisoformat(middle.replace("Z", "+00:00")).timestamp())
    later, _ = _collect(http, sim, "/markets/trades", "trades", ticker=ticker, min_ts=cut, limit=1000)
    earlier, _ = _collect(http, sim, "/markets/trades", "trades", ticker=ticker, max_ts=cut - 1, limit=1000)
    assert len(later) + len(earlier) == len(trades)


# ---- candles and the order book ----------------------------------------------------------------


def _candles(http, sim, ticker: str, start_ts: int = 0, end_ts: int = 2**31) -> list[dict]:
    series = ticker.split("-")[0]
    path = f"/series/{series}/markets/{ticker}/candlesticks"
    return ok(_kalshi(http, sim, path, start_ts=start_ts, end_ts=end_ts, period_interval=1))["candlesticks"]


def test_candles_respect_the_climate_day_and_appear_only_on_change(http, sim, sim_config):
    day = simulate_city_day(sim_config, "chi", date(2026, 6, 5))
    for spec in day.markets:
        candles = _candles(http, sim, spec.ticker)
        ends = [c["end_period_ts"] for c in candles]
        assert ends == sorted(set(ends))
        assert day.start_ts < ends[0] and ends[-1] <= day.end.timestamp() - 60  # no change in the closed minute
        assert len(candles) < 1440 and np.diff(ends).max() > 60  # quiet minutes are missing
        for candle in candles:
            bid, ask = candle["yes_bid"], candle["yes_ask"]
            changed = bid["open_dollars"] != bid["close_dollars"] or ask["open_dollars"] != ask["close_dollars"]
            assert changed or candle["volume_fp"] != "0.00"
            assert Decimal(bid["close_dollars"]) < Decimal(ask["close_dollars"])
            price = candle["price"]
            assert (price["close_dollars"] is None) == (candle["volume_fp"] == "0.00")
            if price["close_dollars"] is not None:
                assert price["low_dollars"] <= price["mean_dollars"] <= price["high_dollars"]
    # Inclusive end-time window.
    some = _candles(http, sim, day.markets[2].ticker)
    lo, hi = some[3]["end_period_ts"], some[10]["end_period_ts"]
    assert [c["end_period_ts"] for c in _candles(http, sim, day.markets[2].ticker, lo, hi)] == [
        c["end_period_ts"] for c in some[3:11]
    ]


def test_empty_book_renders_as_zero_bid_and_one_dollar_ask(http, sim, sim_config):
    day = simulate_city_day(sim_config, "mia", date(2026, 6, 6))
    first = _candles(http, sim, day.markets[day.winner].ticker)[0]
    assert first["yes_bid"]["open_dollars"] == "0.0000" and first["yes_ask"]["open_dollars"] == "1.0000"
    assert first["end_period_ts"] == day.start_ts + 60 * (day.mm_start_minute + 1)
    tails = [c for spec in (day.markets[0], day.markets[-1]) for c in _candles(http, sim, spec.ticker)]
    assert any(c["yes_bid"]["close_dollars"] == "0.0000" and c["yes_ask"]["close_dollars"] != "1.0000" for c in tails)


def test_live_candles_stop_at_the_clock(http, sim, sim_config):
    day = simulate_city_day(sim_config, "nyc", date(2026, 6, 10))
    candles = _candles(http, sim, day.markets[2].ticker)
    assert candles and candles[-1]["end_period_ts"] <= sim_config.now_ts


def test_period_interval_other_than_one_is_refused(http, sim, sim_config):
    path = f"/series/KXHIGHNY/markets/{_ticker(sim_config, 'nyc', date(2026, 6, 9), 0)}/candlesticks"
    for period, hint in ((60, "1-minute"), (5, "not one of")):
        response = _kalshi(http, sim, path, start_ts=0, end_ts=1, period_interval=period)
        assert response.status_code == 400 and hint in response.json()["error"]["message"]
    missing = _kalshi(http, sim, path, end_ts=1, period_interval=1)
    assert missing.json()["error"]["message"] == "start_ts: is required"


def test_orderbook_matches_the_real_shape_and_the_market_quote(http, sim, real_data, sim_config):
    real = json.loads((real_data / REAL_BOOKS).read_text().splitlines()[0])["payload"]
    for spec in simulate_city_day(sim_config, "nyc", date(2026, 6, 10)).markets:
        book = ok(_kalshi(http, sim, f"/markets/{spec.ticker}/orderbook"))
        market = ok(_kalshi(http, sim, f"/markets/{spec.ticker}"))["market"]
        assert book.keys() == real.keys() and book["orderbook_fp"].keys() == real["orderbook_fp"].keys()
        yes, no = book["orderbook_fp"]["yes_dollars"], book["orderbook_fp"]["no_dollars"]
        for price, size in yes + no:
            assert DOLLARS.match(price) and COUNT.match(size)
        best_bid = max((Decimal(p) for p, _ in yes), default=Decimal(0))
        best_ask = 1 - max((Decimal(p) for p, _ in no), default=Decimal(0))
        assert (best_bid, best_ask) == (
            Decimal(market["yes_bid_dollars"]),
            Decimal(market["yes_ask_dollars"]),
        )
        top = ok(_kalshi(http, sim, f"/markets/{spec.ticker}/orderbook", depth=1))["orderbook_fp"]
        assert top["yes_dollars"] == yes[-1:] and top["no_dollars"] == no[-1:]


# ---- series and events --------------------------------------------------------------------------


def test_series_and_events(http, sim, sim_config):
    series = ok(_kalshi(http, sim, "/series/KXHIGHPHIL"))["series"]
    # The fee schedule is the configured one (config/sim.yaml: the real KXHIGH schedule, with maker fees).
    assert (series["fee_type"], series["fee_multiplier"]) == (
        sim_config.market.fee_type,
        sim_config.market.fee_multiplier,
    )
    assert series["fee_type"] == "quadratic_with_maker_fees" and isinstance(series["fee_multiplier"], float)
    assert series["settlement_sources"][0]["url"].endswith("site=PHI&product=CLI&issuedby=PHL")
    assert _kalshi(http, sim, "/series/KXNOPE").status_code == 404
    events, pages = _collect(http, sim, "/events", "events", series_ticker="KXHIGHPHIL", limit=5)
    assert pages > 1 and len(events) == len(served_dates(sim_config, sim_config.city("phl")))
    assert all(e["mutually_exclusive"] and "markets" not in e for e in events)
    open_events = ok(_kalshi(http, sim, "/events", status="open", with_nested_markets="true"))["events"]
    assert {e["series_ticker"] for e in open_events} == {c.series for c in sim_config.cities}
    assert all(len(e["markets"]) == 6 for e in open_events)
    assert _kalshi(http, sim, "/events/KXHIGHNY-26JUN11").status_code == 404  # after the clock
