"""The simulator over real HTTP: Kalshi, Visual Crossing and NWS wire formats, paging, routing."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import numpy as np
import pytest

from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.sim import SimConfig, SimServer, shared_sim_server, simulate_city_day
from kalshi_wx.sources.sim.exchange import parse_event_ticker, served_dates
from kalshi_wx.sources.sim.weather import simulate_weather

CONFIG = SimConfig()
REAL_BOOKS = "kalshi/ericzzhang27_Kalshi-Weather-Trading/orderbook_fp_raw_20260824T193510Z.jsonl"
DOLLARS = re.compile(r"^[01]\.\d{4}$")
COUNT = re.compile(r"^\d+\.\d{2}$")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
VC_PARAMS = {"key": "sim", "include": "obs,minutes", "options": "minuteinterval_5", "timezone": "Z"}


@pytest.fixture(scope="module")
def sim():
    with SimServer(CONFIG) as server:
        yield server


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=60) as client:
        yield client


def _ticker(city: str, day: date, index: int) -> str:
    return simulate_city_day(CONFIG, city, day).markets[index].ticker


def _kalshi(http: httpx.Client, sim: SimServer, path: str, **params) -> httpx.Response:
    return http.get(f"{sim.kalshi_base_url}{path}", params=params)


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def _collect(http, sim, path: str, key: str, **params) -> tuple[list[dict], int]:
    items, pages, cursor = [], 0, ""
    while True:
        page = _ok(_kalshi(http, sim, path, **params, **({"cursor": cursor} if cursor else {})))
        items += page[key]
        pages += 1
        cursor = page["cursor"]
        if not cursor:
            return items, pages


# ---- determinism ------------------------------------------------------------------------------


def _snapshot(http: httpx.Client, server: SimServer) -> list[bytes]:
    k = server.kalshi_base_url
    markets = http.get(f"{k}/markets", params={"event_ticker": "KXHIGHCHI-26JUN09"})
    ticker = markets.json()["markets"][2]["ticker"]
    candles = {"start_ts": 0, "end_ts": 2**31, "period_interval": 1}
    bodies = [
        markets.content,
        http.get(f"{k}/markets/trades", params={"ticker": ticker}).content,
        http.get(f"{k}/series/KXHIGHCHI/markets/{ticker}/candlesticks", params=candles).content,
        http.get(f"{k}/historical/markets", params={"series_ticker": "KXHIGHCHI"}).content,
        http.get(f"{server.vc_base_url}/stn:KMDW/2026-06-03", params=VC_PARAMS).content,
    ]
    listing = http.get(f"{server.nws_base_url}/products/types/CLI/locations/MDW").json()["@graph"]
    product = http.get(f"{server.nws_base_url}/products/{listing[0]['id']}").json()
    bodies.append(json.dumps([listing[0]["id"], product["productText"]]).encode())
    return bodies


def test_same_seed_same_payloads_across_servers_and_another_seed_differs(http, sim):
    with SimServer(CONFIG) as twin, SimServer(SimConfig(seed=8)) as other:
        assert twin.url != sim.url
        ours, theirs, different = _snapshot(http, sim), _snapshot(http, twin), _snapshot(http, other)
    assert ours == theirs
    assert all(a != b for a, b in zip(ours, different, strict=True))


# ---- Kalshi market objects ---------------------------------------------------------------------


def test_market_objects_have_the_real_fields_and_formats(http, sim, real_markets):
    real = real_markets
    real_keys = set().union(*(m.keys() for m in real))
    markets = _ok(_kalshi(http, sim, "/markets", event_ticker="KXHIGHNY-26JUN10"))["markets"]
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
    markets = _ok(_kalshi(http, sim, "/markets", event_ticker="KXHIGHNY-26JUN03"))["markets"]
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


def test_settled_events_have_one_yes_that_contains_the_cli_max(http, sim):
    settled = _ok(_kalshi(http, sim, "/markets", series_ticker="KXHIGHAUS", status="settled", limit=1000))
    by_event: dict[str, list[dict]] = {}
    for market in settled["markets"]:
        by_event.setdefault(market["event_ticker"], []).append(market)
    assert len(by_event) >= 7
    for event, markets in by_event.items():
        assert len(markets) == 6
        value = int(markets[0]["expiration_value"])
        _, climate_date = parse_event_ticker(event)
        assert value == simulate_weather(CONFIG.seed, "aus", climate_date).cli_max_f
        winners = [m for m in markets if m["result"] == "yes"]
        assert len(winners) == 1, event
        win = winners[0]
        lo = win.get("floor_strike", -1000) + (1 if win["strike_type"] == "greater" else 0)
        hi = win.get("cap_strike", 1000) - (1 if win["strike_type"] == "less" else 0)
        assert lo <= value <= hi
        assert win["settlement_value_dollars"] == "1.0000"
        assert all(m["settlement_value_dollars"] == "0.0000" for m in markets if m is not win)
        assert all(m["status"] == "finalized" and ISO_Z.match(m["settlement_ts"]) for m in markets)


def test_status_filters_map_to_response_statuses(http, sim):
    seen = {}
    for status in ("unopened", "open", "closed", "settled"):
        markets = _ok(_kalshi(http, sim, "/markets", series_ticker="KXHIGHDEN", status=status, limit=1000))
        seen[status] = {m["status"] for m in markets["markets"]}
    assert seen == {"unopened": set(), "open": {"active"}, "closed": set(), "settled": {"finalized"}}
    late = SimConfig(now=datetime(2026, 6, 3, 9, 30, tzinfo=UTC))  # after NYC's close, before settlement
    with SimServer(late) as server:
        closed = _ok(_kalshi(http, server, "/markets", series_ticker="KXHIGHNY", status="closed"))
    assert {m["event_ticker"] for m in closed["markets"]} == {"KXHIGHNY-26JUN02"}
    assert {m["status"] for m in closed["markets"]} == {"closed"}


# ---- pagination --------------------------------------------------------------------------------


def test_markets_pagination_collects_everything_exactly_once(http, sim):
    everything = _ok(_kalshi(http, sim, "/markets", limit=1000))["markets"]
    paged, pages = _collect(http, sim, "/markets", "markets", limit=97)
    assert pages == -(-len(everything) // 97) and pages > 3
    assert [m["ticker"] for m in paged] == [m["ticker"] for m in everything]
    assert len({m["ticker"] for m in paged}) == len(paged)
    live_events = [
        d
        for c in settings().cities.values()
        for d in served_dates(CONFIG, c)
        if not simulate_city_day(CONFIG, c.key, d).is_historical(CONFIG)
    ]
    assert len(paged) == 6 * len(live_events)


def test_trades_pagination_collects_everything_exactly_once(http, sim):
    day = simulate_city_day(CONFIG, "nyc", date(2026, 6, 9))
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
    first = _ok(_kalshi(http, sim, "/markets", series_ticker="KXHIGHNY", limit=5))
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
        (f"/markets/{_ticker('nyc', date(2026, 6, 9), 0)}/orderbook", {"depth": "101"}, "depth"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(http, sim, path, params, param):
    response = _kalshi(http, sim, path, **params)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{param}:")


# ---- historical routing -----------------------------------------------------------------------


def test_markets_settled_before_the_cutoff_live_only_under_historical(http, sim):
    assert _ok(_kalshi(http, sim, "/historical/cutoff"))["market_settled_ts"] == "2026-06-02T12:00:00Z"
    event = "KXHIGHNY-26JUN01"
    assert _ok(_kalshi(http, sim, "/markets", event_ticker=event))["markets"] == []
    archived = _ok(_kalshi(http, sim, "/historical/markets", event_ticker=event))["markets"]
    assert len(archived) == 6 and {m["status"] for m in archived} == {"finalized"}
    ticker = archived[0]["ticker"]
    missing = _kalshi(http, sim, f"/markets/{ticker}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert _ok(_kalshi(http, sim, f"/historical/markets/{ticker}"))["market"]["ticker"] == ticker
    candles = {"start_ts": 0, "end_ts": 2**31, "period_interval": 1}
    assert _kalshi(http, sim, f"/series/KXHIGHNY/markets/{ticker}/candlesticks", **candles).status_code == 404
    assert _ok(_kalshi(http, sim, f"/historical/markets/{ticker}/candlesticks", **candles))["candlesticks"]
    # The next day settled after the cutoff: live, and not in the archive.
    assert len(_ok(_kalshi(http, sim, "/markets", event_ticker="KXHIGHNY-26JUN02"))["markets"]) == 6
    assert _ok(_kalshi(http, sim, "/historical/markets", event_ticker="KXHIGHNY-26JUN02"))["markets"] == []
    nested = _ok(_kalshi(http, sim, f"/events/{event}", with_nested_markets="true"))
    assert nested["event"]["markets"] == [] and nested["markets"] == []


def test_trades_split_at_the_trade_cutoff(http, sim):
    day = simulate_city_day(CONFIG, "nyc", date(2026, 6, 2))  # trades on both sides of 12:00Z
    ticker = day.markets[day.winner].ticker
    live, _ = _collect(http, sim, "/markets/trades", "trades", ticker=ticker, limit=1000)
    old, _ = _collect(http, sim, "/historical/trades", "trades", ticker=ticker, limit=1000)
    assert live and old
    assert all(t["created_time"] >= "2026-06-02T12:00:00" for t in live)
    assert all(t["created_time"] < "2026-06-02T12:00:00" for t in old)
    assert len(live) + len(old) == int(np.sum(day.trade_market == day.winner))


def test_time_filters_on_trades(http, sim):
    ticker = simulate_city_day(CONFIG, "phl", date(2026, 6, 8)).markets[3].ticker
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
    return _ok(_kalshi(http, sim, path, start_ts=start_ts, end_ts=end_ts, period_interval=1))["candlesticks"]


def test_candles_respect_the_climate_day_and_appear_only_on_change(http, sim):
    day = simulate_city_day(CONFIG, "chi", date(2026, 6, 5))
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


def test_empty_book_renders_as_zero_bid_and_one_dollar_ask(http, sim):
    day = simulate_city_day(CONFIG, "mia", date(2026, 6, 6))
    first = _candles(http, sim, day.markets[day.winner].ticker)[0]
    assert first["yes_bid"]["open_dollars"] == "0.0000" and first["yes_ask"]["open_dollars"] == "1.0000"
    assert first["end_period_ts"] == day.start_ts + 60 * (day.mm_start_minute + 1)
    tails = [c for spec in (day.markets[0], day.markets[-1]) for c in _candles(http, sim, spec.ticker)]
    assert any(c["yes_bid"]["close_dollars"] == "0.0000" and c["yes_ask"]["close_dollars"] != "1.0000" for c in tails)


def test_live_candles_stop_at_the_clock(http, sim):
    day = simulate_city_day(CONFIG, "nyc", date(2026, 6, 10))
    candles = _candles(http, sim, day.markets[2].ticker)
    assert candles and candles[-1]["end_period_ts"] <= CONFIG.now_ts


def test_period_interval_other_than_one_is_refused(http, sim):
    path = f"/series/KXHIGHNY/markets/{_ticker('nyc', date(2026, 6, 9), 0)}/candlesticks"
    for period, hint in ((60, "1-minute"), (5, "not one of")):
        response = _kalshi(http, sim, path, start_ts=0, end_ts=1, period_interval=period)
        assert response.status_code == 400 and hint in response.json()["error"]["message"]
    missing = _kalshi(http, sim, path, end_ts=1, period_interval=1)
    assert missing.json()["error"]["message"] == "start_ts: is required"


def test_orderbook_matches_the_real_shape_and_the_market_quote(http, sim, real_data):
    real = json.loads((real_data / REAL_BOOKS).read_text().splitlines()[0])["payload"]
    for spec in simulate_city_day(CONFIG, "nyc", date(2026, 6, 10)).markets:
        book = _ok(_kalshi(http, sim, f"/markets/{spec.ticker}/orderbook"))
        market = _ok(_kalshi(http, sim, f"/markets/{spec.ticker}"))["market"]
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
        top = _ok(_kalshi(http, sim, f"/markets/{spec.ticker}/orderbook", depth=1))["orderbook_fp"]
        assert top["yes_dollars"] == yes[-1:] and top["no_dollars"] == no[-1:]


# ---- series and events --------------------------------------------------------------------------


def test_series_and_events(http, sim):
    series = _ok(_kalshi(http, sim, "/series/KXHIGHPHIL"))["series"]
    assert series["fee_type"] == "quadratic" and isinstance(series["fee_multiplier"], float)
    assert series["settlement_sources"][0]["url"].endswith("site=PHI&product=CLI&issuedby=PHL")
    assert _kalshi(http, sim, "/series/KXNOPE").status_code == 404
    events, pages = _collect(http, sim, "/events", "events", series_ticker="KXHIGHPHIL", limit=5)
    assert pages > 1 and len(events) == len(served_dates(CONFIG, settings().cities["phl"]))
    assert all(e["mutually_exclusive"] and "markets" not in e for e in events)
    open_events = _ok(_kalshi(http, sim, "/events", status="open", with_nested_markets="true"))["events"]
    assert {e["series_ticker"] for e in open_events} == {c.series for c in settings().cities.values()}
    assert all(len(e["markets"]) == 6 for e in open_events)
    assert _kalshi(http, sim, "/events/KXHIGHNY-26JUN11").status_code == 404  # after the clock


def test_unknown_paths_are_json_404s_and_requests_are_counted(http, sim):
    before = sim.request_counts
    for path in (f"{sim.kalshi_base_url}/portfolio/balance", f"{sim.url}/nothing"):
        response = http.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    after = sim.request_counts
    assert after["kalshi"] == before.get("kalshi", 0) + 1
    assert after["unknown"] == before.get("unknown", 0) + 1


# ---- Visual Crossing ----------------------------------------------------------------------------


def test_vc_minutes_have_the_documented_shape_and_track_the_cli(http, sim):
    for city in settings().cities.values():
        # One climate day = [05:00Z, 05:00Z) for NYC; ask for two UTC days and keep its rows.
        response = http.get(f"{sim.vc_base_url}/stn:{city.station}/2026-06-04/2026-06-05", params=VC_PARAMS)
        doc = _ok(response)
        assert doc["queryCost"] == 2 * 288 and doc["timezone"] == "UTC" and doc["tzoffset"] == 0.0
        rows = [m for d in doc["days"] for h in d["hours"] for m in h["minutes"]]
        for row in rows[:5]:
            assert set(row) == {
                "datetime",
                "datetimeEpoch",
                "temp",
                "dew",
                "humidity",
                "windspeed",
                "stations",
                "source",
            }
            assert row["stations"] == [city.station] and row["source"] == "obs"
        weather = simulate_weather(CONFIG.seed, city.key, date(2026, 6, 4))
        mine = [r["temp"] for r in rows if weather.start.timestamp() <= r["datetimeEpoch"] < weather.end.timestamp()]
        assert len(mine) == 288
        assert -2.5 <= max(mine) - weather.cli_max_f <= 1.5
    day = doc["days"][0]
    assert {"datetime", "datetimeEpoch", "tempmax", "tempmin", "stations", "source", "hours"} <= set(day)
    assert len(day["hours"]) == 24 and all(len(h["minutes"]) == 12 for h in day["hours"])


def test_vc_defaults_local_days_and_fifteen_minute_rows(http, sim):
    doc = _ok(http.get(f"{sim.vc_base_url}/stn%3AKNYC/2026-06-04", params={"key": "k", "include": "obs,minutes"}))
    assert doc["timezone"] == "America/New_York" and doc["tzoffset"] == -4.0
    hour = doc["days"][0]["hours"][0]
    assert hour["datetime"] == "00:00:00" and [m["datetime"] for m in hour["minutes"]][:2] == [
        "00:00:00",
        "00:15:00",
    ]


def test_vc_forecast_as_of_a_basis_date(http, sim):
    params = {"key": "k", "include": "fcst,hours", "forecastBasisDate": "2026-06-04", "timezone": "Z"}
    doc = _ok(http.get(f"{sim.vc_base_url}/stn:KAUS/2026-06-04/2026-06-04", params=params))
    hours = doc["days"][0]["hours"]
    assert len(hours) == 24 and doc["queryCost"] == 24 and {h["source"] for h in hours} == {"fcst"}
    weather = simulate_weather(CONFIG.seed, "aus", date(2026, 6, 4))
    in_day = [h["temp"] for h in hours if h["datetimeEpoch"] >= weather.start.timestamp()]
    assert max(in_day) == pytest.approx(weather.forecast_high, abs=1.0)
    # UTC 2026-06-05 00:00-05:59 still belongs to Austin's climate day 06-04 (UTC-6): served; the
    # rest belongs to 06-05, whose forecast is issued after the basis: left out.
    next_day = _ok(http.get(f"{sim.vc_base_url}/stn:KAUS/2026-06-05/2026-06-05", params=params))
    late_hours = next_day["days"][0]["hours"]
    assert len(late_hours) == 6 and max(h["datetimeEpoch"] for h in late_hours) < weather.end.timestamp()
    too_far = http.get(f"{sim.vc_base_url}/stn:KAUS/2026-06-06/2026-06-06", params=params)
    assert too_far.status_code == 400 and "forecastBasisDate" in too_far.text


def test_vc_serves_nothing_after_the_clock(http, sim):
    doc = _ok(http.get(f"{sim.vc_base_url}/stn:KNYC/2026-06-10/2026-06-12", params=VC_PARAMS))
    assert [d["datetime"] for d in doc["days"]] == ["2026-06-10"]
    last = doc["days"][0]["hours"][-1]["minutes"][-1]
    assert last["datetimeEpoch"] == CONFIG.now_ts and doc["queryCost"] == 12 * 12 + 1


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


# ---- NWS ------------------------------------------------------------------------------------------


def _cli_max(text: str) -> int:
    return int(re.search(r"^\s+MAXIMUM\s+(\d+)", text, re.MULTILINE)[1])


def test_nws_lists_a_preliminary_and_a_final_per_day_and_serves_the_text(http, sim):
    listing = _ok(http.get(f"{sim.nws_base_url}/products/types/CLI/locations/NYC"))["@graph"]
    times = [p["issuanceTime"] for p in listing]
    assert times == sorted(times, reverse=True) and all(t <= "2026-06-10T12:00:00" for t in times)
    city = settings().cities["nyc"]
    weather = simulate_weather(CONFIG.seed, "nyc", date(2026, 6, 1))
    window = (
        (weather.start + timedelta(hours=12)).isoformat(),
        (weather.end + timedelta(hours=12)).isoformat(),
    )
    for_day = [p for p in listing if window[0] <= p["issuanceTime"] < window[1]]
    assert len(for_day) == 2
    final, preliminary = for_day
    for entry in for_day:
        assert entry["productCode"] == "CLI" and entry["issuingOffice"] == f"K{city.wfo}"
        assert entry["wmoCollectiveId"] == "CDUS41" and entry["@id"].endswith(entry["id"])
    final_doc = _ok(http.get(f"{sim.nws_base_url}/products/{final['id']}"))
    assert final_doc["id"] == final["id"] and _cli_max(final_doc["productText"]) == weather.cli_max_f
    assert "YESTERDAY" in final_doc["productText"]
    prelim_doc = _ok(http.get(f"{sim.nws_base_url}/products/{preliminary['id']}"))
    assert "VALID TODAY AS OF" in prelim_doc["productText"]
    assert _cli_max(prelim_doc["productText"]) <= weather.cli_max_f
    missing = http.get(f"{sim.nws_base_url}/products/not-a-product")
    assert missing.status_code == 404 and missing.json()["status"] == 404


# ---- the shared server ----------------------------------------------------------------------------


def test_shared_server_is_one_per_config_and_thread_safe(http):
    config = SimConfig(seed=99)
    got: list[SimServer] = []
    threads = [threading.Thread(target=lambda: got.append(shared_sim_server(config))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in got}) == 1
    assert shared_sim_server(config) is got[0] and shared_sim_server(SimConfig(seed=98)) is not got[0]
    assert _ok(http.get(f"{got[0].kalshi_base_url}/historical/cutoff"))
