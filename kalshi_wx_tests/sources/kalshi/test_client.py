"""KalshiClient against FakeKalshi over real loopback HTTP."""

from __future__ import annotations

import base64
import json
import logging
import random
import socket
import time
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kalshi_wx.core.errors import ConfigError, PayloadError
from kalshi_wx.sources.http import RetryPolicy, SourceUnavailableError, retry_after_seconds
from kalshi_wx.sources.kalshi import (
    DEMO_BASE,
    PROD_BASE,
    KalshiClient,
    KalshiHTTPError,
    KalshiRateLimiter,
    KalshiSigner,
    resolve_base_url,
)
from kalshi_wx_tests.fakes import FakeKalshi, Fault

REAL_BOOKS = "kalshi/ericzzhang27_Kalshi-Weather-Trading/orderbook_fp_raw_20260824T193510Z.jsonl"
KEY_ID = "a1b2c3d4-0000-4000-8000-123456789abc"
CUTOFF = "2026-06-02T12:00:00Z"  # JUN01 markets settled before it, JUN02 ones after


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def fake_server(rsa_key):
    # One server per module: each LoopbackServer takes half a second to shut down.
    with FakeKalshi(public_key=rsa_key.public_key()) as server:
        yield server


@pytest.fixture
def fake(fake_server):
    fake_server.reset()
    fake_server.cutoff.update(market_settled_ts=CUTOFF, trades_created_ts=CUTOFF)
    return fake_server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake, rsa_key, sleeps):
    # A private, fast limiter: these tests are about HTTP behaviour, not pacing.
    with KalshiClient(
        fake.base_url,
        signer=KalshiSigner(KEY_ID, rsa_key),
        limiter=KalshiRateLimiter(1000, 1000),
        sleep=sleeps.append,
        rng=random.Random(7),
    ) as c:
        yield c


@pytest.fixture
def settled_real_markets(real_markets) -> list[dict]:
    """The 12 real KXHIGHNY markets; JUN01 settled before the fake's cutoff, JUN02 not yet."""
    markets = real_markets
    for m in markets:
        if m["event_ticker"] == "KXHIGHNY-26JUN01":
            m.update(status="finalized", settlement_ts="2026-06-02T11:04:00Z")
    return markets


def _market(ticker: str, event: str = "KXTEST-26JUN01", **fields) -> dict:
    return {"ticker": ticker, "event_ticker": event, "close_time": "2026-07-01T04:59:00Z", **fields}


# -- signing ------------------------------------------------------------------------------------


def test_signed_request_verified_over_path_without_query(client, fake, rsa_key):
    fake.orders = [{"order_id": "o1", "ticker": "KXHIGHNY-26JUN02-T80"}]
    assert client.get_orders(ticker="KXHIGHNY-26JUN02-T80") == fake.orders
    (call,) = fake.calls_to("/portfolio/orders")
    assert call.status == 200
    assert call.query["ticker"] == ["KXHIGHNY-26JUN02-T80"] and call.query["limit"] == ["100"]
    # Check independently of our verify_signature: exactly timestamp + METHOD + path, PSS salt 32.
    ts = call.headers["kalshi-access-timestamp"]
    message = f"{ts}GET/trade-api/v2/portfolio/orders".encode()
    signature = base64.b64decode(call.headers["kalshi-access-signature"])
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    rsa_key.public_key().verify(signature, message, pss, hashes.SHA256())
    assert call.headers["kalshi-access-key"] == KEY_ID
    assert abs(int(ts) - time.time() * 1000) < 60_000


def test_wrong_key_is_rejected_without_retry(fake, sleeps, other_key):
    client = KalshiClient(fake.base_url, signer=KalshiSigner(KEY_ID, other_key), sleep=sleeps.append)
    with client, pytest.raises(KalshiHTTPError) as err:
        client.get_balance()
    assert err.value.status == 401 and "invalid signature" in str(err.value)
    assert "GET /portfolio/balance" in str(err.value)
    assert len(fake.calls_to("/portfolio/balance")) == 1 and sleeps == []


def test_stale_timestamp_is_rejected(fake, rsa_key):
    signer = KalshiSigner(KEY_ID, rsa_key)
    old = int(time.time() * 1000) - 60_000
    headers = signer.headers("GET", "/trade-api/v2/portfolio/balance", timestamp_ms=old)
    response = httpx.get(fake.base_url + "/portfolio/balance", headers=headers)
    assert response.status_code == 401 and "stale" in response.text
    fresh = signer.headers("GET", "/trade-api/v2/portfolio/balance")
    assert httpx.get(fake.base_url + "/portfolio/balance", headers=fresh).status_code == 200


def test_signed_endpoint_without_key_is_a_config_error(fake):
    with KalshiClient(fake.base_url) as c, pytest.raises(ConfigError, match="KALSHI_API_KEY_ID"):
        c.get_balance()
    assert fake.calls == []


def test_portfolio_endpoints(client, fake):
    fake.balance = {"balance": 12345, "balance_dollars": "123.4500", "portfolio_value": 500}
    fake.market_positions = [{"ticker": f"M{i}", "position_fp": "1.00"} for i in range(5)]
    fake.event_positions = [{"event_ticker": "E0"}]
    fake.fills = [{"fill_id": f"f{i}", "fee_cost": "0.0100"} for i in range(4)]
    fake.page_size = 2
    assert client.get_balance()["balance_dollars"] == "123.4500"
    positions = client.get_positions(settlement_status="all")
    assert [p["ticker"] for p in positions["market_positions"]] == [f"M{i}" for i in range(5)]
    assert positions["event_positions"] == fake.event_positions
    assert client.get_fills() == fake.fills
    assert all(c.status == 200 for c in fake.calls)


# -- pagination ---------------------------------------------------------------------------------


def test_pagination_odd_page_size(client, fake):
    fake.page_size = 3
    fake.markets = {f"KXTEST-26JUN01-B{i}": _market(f"KXTEST-26JUN01-B{i}") for i in range(7)}
    markets = client.get_markets(event_ticker="KXTEST-26JUN01")
    assert [m["ticker"] for m in markets] == list(fake.markets)
    calls = fake.calls_to("/markets")
    assert [c.query.get("cursor", [""])[0] for c in calls] == ["", "page-3", "page-6"]
    assert all(c.query["event_ticker"] == ["KXTEST-26JUN01"] for c in calls)


def test_pagination_1001_items_with_limit_1000(client, fake):
    fake.cutoff["trades_created_ts"] = "2020-01-01T00:00:00Z"
    fake.trades = [
        {"trade_id": f"t{i}", "ticker": "T", "created_time": f"2026-06-01T00:{i // 60:02d}:{i % 60:02d}Z"}
        for i in range(1001)
    ]
    trades = client.get_live_trades(ticker="T")
    assert [t["trade_id"] for t in trades] == [f"t{i}" for i in range(1001)]
    assert [c.query["limit"] for c in fake.calls_to("/markets/trades")] == [["1000"], ["1000"]]


def test_repeated_cursor_is_an_error_not_an_endless_loop(client, fake):
    fake.fail("/markets", Fault.raw(b'{"markets": [], "cursor": "again"}'), times=2)
    with pytest.raises(PayloadError, match="came back twice") as err:
        client.get_markets()
    assert err.value.field == "cursor"


# -- retries ------------------------------------------------------------------------------------


def test_429_retry_after_then_success(client, fake, sleeps):
    fake.markets = {"M": _market("M")}
    fake.fail("/markets/M", Fault.http(429, retry_after=1))
    assert client.get_market("M")["ticker"] == "M"
    assert sleeps == [1.0]
    assert [c.status for c in fake.calls_to("/markets/M")] == [429, 200]


def test_server_rate_limit_429_waits_retry_after_on_the_wire():
    with FakeKalshi(rate_limit=2.0, rate_burst=1.0) as limited:
        limited.markets = {"M": _market("M")}
        with KalshiClient(limited.base_url, limiter=KalshiRateLimiter(1000, 1000)) as c:
            c.get_market("M")
            c.get_market("M")  # over the server's 2/s: 429 with Retry-After: 1, then served
        first, rejected, served = limited.calls_to("/markets/M")
    assert (first.status, rejected.status, served.status) == (200, 429, 200)
    assert served.at - rejected.at >= 1.0


def test_500_then_success(client, fake, sleeps):
    fake.series = {"KXHIGHNY": {"ticker": "KXHIGHNY", "fee_type": "quadratic", "fee_multiplier": 1}}
    fake.fail("/series/KXHIGHNY", Fault.http(500))
    assert client.get_series("KXHIGHNY")["fee_type"] == "quadratic"
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5  # first backoff step, equal jitter
    assert [c.status for c in fake.calls_to("/series/KXHIGHNY")] == [500, 200]


def test_persistent_5xx_gives_up_after_max_attempts(fake, sleeps):
    fake.fail("/markets", Fault.http(503), times=10)
    policy = RetryPolicy(max_attempts=3)
    with (
        KalshiClient(fake.base_url, retry=policy, sleep=sleeps.append, limiter=KalshiRateLimiter(1000, 1000)) as c,
        pytest.raises(KalshiHTTPError) as err,
    ):
        c.get_markets()
    assert err.value.status == 503 and len(fake.calls_to("/markets")) == 3 and len(sleeps) == 2
    assert sleeps[1] > sleeps[0] * 0.99  # exponential: second step is double the first, before jitter


def test_retry_after_beyond_the_cap_is_an_error_not_a_long_sleep(client, fake, sleeps):
    fake.fail("/markets/M", Fault.http(429, retry_after=3600))
    with pytest.raises(KalshiHTTPError) as err:
        client.get_market("M")
    assert err.value.status == 429 and sleeps == []


def test_retry_after_as_http_date():
    now = datetime(2026, 10, 21, 7, 27, 30, tzinfo=UTC)
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT", now=lambda: now) == 30.0
    assert retry_after_seconds("1.5") == 1.5 and retry_after_seconds("-3") == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_order_posts_are_retried_only_when_certainly_not_executed(client, fake, sleeps):
    # A 5xx after the body was sent may have placed the order: retrying could double it.
    fake.fail("/portfolio/events/orders", Fault.http(500))
    with pytest.raises(KalshiHTTPError) as err:
        client.request("POST", "/portfolio/events/orders", json_body={"ticker": "M"}, signed=True)
    assert err.value.status == 500 and sleeps == []
    # A 429 was refused before execution, so it is retried (the fake then refuses the POST itself).
    fake.fail("/portfolio/events/orders", Fault.http(429, retry_after=1))
    with pytest.raises(KalshiHTTPError) as err:
        client.request("POST", "/portfolio/events/orders", json_body={"ticker": "M"}, signed=True)
    assert err.value.status == 405 and sleeps == [1.0]
    assert [c.status for c in fake.calls_to("/portfolio/events/orders")] == [500, 429, 405]


def test_4xx_is_not_retried_and_carries_the_server_message(client, fake, sleeps):
    with pytest.raises(KalshiHTTPError) as err:
        client.get_market("NOPE")
    assert err.value.status == 404 and err.value.endpoint == "GET /markets/NOPE"
    assert "market NOPE not found" in str(err.value)
    assert sleeps == [] and len(fake.calls_to("/markets/NOPE")) == 1


def test_errors_and_retry_lines_name_the_market_and_window(client, fake, sleeps, caplog):
    fake.fail("/historical/trades", Fault.http(503))
    fake.fail("/historical/trades", Fault.http(400))
    caplog.set_level(logging.WARNING)
    with pytest.raises(KalshiHTTPError) as err:
        client.get_trades("KXHIGHNY-26JUN01-B71.5", 1780272000, 1780358399)
    where = "GET /historical/trades?ticker=KXHIGHNY-26JUN01-B71.5&min_ts=1780272000&max_ts=1780358399"
    assert err.value.endpoint == where and f"kalshi {where}: HTTP 400" in str(err.value)
    assert f"kalshi {where}: HTTP 503; retry 1/4" in caplog.text
    assert "limit=" not in str(err.value)  # paging size says nothing about which data failed


def test_listing_errors_name_the_page(client, fake):
    fake.page_size = 1
    fake.markets = {t: _market(t) for t in ("A", "B")}
    fake.fail("/markets", Fault.none())  # the first page is served as it is
    fake.fail("/markets", Fault.raw(b'{"markets": {}, "cursor": ""}'))
    with pytest.raises(PayloadError) as err:
        client.get_markets(event_ticker="KXTEST-26JUN01")
    assert err.value.source == "kalshi GET /markets?event_ticker=KXTEST-26JUN01&cursor=page-1"


def test_connection_refused_retries_then_reports_unavailable(sleeps):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    policy = RetryPolicy(max_attempts=3)
    base = f"http://127.0.0.1:{port}/trade-api/v2"
    client = KalshiClient(base, retry=policy, sleep=sleeps.append, limiter=KalshiRateLimiter(1000, 1000))
    with client, pytest.raises(SourceUnavailableError, match="GET /markets/M: unreachable after 3"):
        client.get_market("M")
    assert len(sleeps) == 2


# -- malformed responses ------------------------------------------------------------------------


def test_a_200_whose_json_was_cut_off_is_retried(client, fake, sleeps):
    fake.markets = {"M": _market("M")}
    fake.fail("/markets", Fault.malformed())
    assert [m["ticker"] for m in client.get_markets(event_ticker="KXTEST-26JUN01")] == ["M"]
    assert [c.status for c in fake.calls_to("/markets")] == [200, 200] and len(sleeps) == 1


def test_a_body_cut_short_of_its_content_length_is_retried(client, fake, sleeps):
    fake.markets = {"M": _market("M")}
    fake.fail("/markets/M", Fault.cut_off())
    assert client.get_market("M")["ticker"] == "M"
    assert len(fake.calls_to("/markets/M")) == 2 and len(sleeps) == 1


def test_json_that_stays_malformed_names_the_request_after_the_attempts(fake, sleeps):
    fake.fail("/markets", Fault.malformed(), times=5)
    policy = RetryPolicy(max_attempts=3)
    with (
        KalshiClient(fake.base_url, retry=policy, sleep=sleeps.append, limiter=KalshiRateLimiter(1000, 1000)) as c,
        pytest.raises(PayloadError) as err,
    ):
        c.get_markets(event_ticker="KXTEST-26JUN01")
    assert err.value.source == "kalshi GET /markets?event_ticker=KXTEST-26JUN01"
    assert "malformed JSON (HTTP 200, 27 bytes)" in str(err.value) and "3 attempt(s)" in str(err.value)
    assert len(fake.calls_to("/markets")) == 3 and len(sleeps) == 2


def test_a_cut_off_answer_to_an_order_is_never_sent_again(client, fake, sleeps):
    # The order reached the exchange; sending it again could double it.
    fake.fail("/portfolio/events/orders", Fault.malformed())
    with pytest.raises(PayloadError, match="malformed JSON"):
        client.request("POST", "/portfolio/events/orders", json_body={"ticker": "M"}, signed=True)
    assert len(fake.calls_to("/portfolio/events/orders")) == 1 and sleeps == []


@pytest.mark.parametrize("field", ["markets", "cursor"])
def test_missing_envelope_field_names_endpoint_and_field(client, fake, field):
    fake.markets = {"M": _market("M")}
    fake.fail("/markets", Fault.drop_field(field))
    with pytest.raises(PayloadError) as err:
        client.get_markets()
    assert err.value.source == "kalshi GET /markets" and err.value.field == field
    assert f"field '{field}'" in str(err.value) and "missing" in str(err.value)


def test_non_object_body_and_wrong_types(client, fake):
    fake.fail("/markets", Fault.raw(b"[1, 2]"))
    with pytest.raises(PayloadError, match="expected a JSON object, got array"):
        client.get_markets()
    fake.fail("/markets", Fault.raw(b'{"markets": [7], "cursor": ""}'))
    with pytest.raises(PayloadError) as err:
        client.get_markets()
    assert err.value.field == "markets[0]"
    fake.fail("/markets/M", Fault.raw(b'{"market": null}'))
    with pytest.raises(PayloadError, match="expected object, got null"):
        client.get_market("M")
    fake.fail("/historical/cutoff", Fault.drop_field("market_settled_ts"))
    with pytest.raises(PayloadError, match="market_settled_ts"):
        client.get_historical_cutoff()


def test_orderbook_from_real_payload(client, fake, real_data):
    line = json.loads((real_data / REAL_BOOKS).read_text().splitlines()[0])
    fake.orderbooks = {line["ticker"]: line["payload"]["orderbook_fp"]}
    assert client.get_orderbook(line["ticker"], depth=20) == line["payload"]["orderbook_fp"]
    assert fake.calls_to(f"/markets/{line['ticker']}/orderbook")[0].query["depth"] == ["20"]


# -- historical routing -------------------------------------------------------------------------


def test_candles_of_market_settled_before_cutoff_come_from_historical(client, fake, settled_real_markets):
    fake.markets = {m["ticker"]: m for m in settled_real_markets}
    old = next(m for m in settled_real_markets if m["event_ticker"] == "KXHIGHNY-26JUN01")
    new = next(m for m in settled_real_markets if m["event_ticker"] == "KXHIGHNY-26JUN02")
    start = 1780272000  # 2026-06-01T00:00Z
    for m in (old, new):
        fake.candles[m["ticker"]] = [{"end_period_ts": start + 60 * k, "volume_fp": "1.00"} for k in range(1, 11)]
    old_candles = client.get_candlesticks("KXHIGHNY", old, start, start + 600)
    new_candles = client.get_candlesticks("KXHIGHNY", new, start, start + 600)
    assert len(old_candles) == len(new_candles) == 10
    paths = [c.path for c in fake.calls if "candlesticks" in c.path]
    assert paths == [
        f"/historical/markets/{old['ticker']}/candlesticks",
        f"/series/KXHIGHNY/markets/{new['ticker']}/candlesticks",
    ]
    assert all(c.status == 200 for c in fake.calls)


def test_event_markets_routed_by_cutoff(client, fake, settled_real_markets):
    fake.markets = {m["ticker"]: m for m in settled_real_markets}
    old, tiers = client.get_event_markets("KXHIGHNY-26JUN01", "KXHIGHNY")
    expected = {m["ticker"] for m in settled_real_markets if m["event_ticker"].endswith("JUN01")}
    assert {m["ticker"] for m in old} == expected and len(old) == 6
    assert tiers == dict.fromkeys(expected, "historical")
    historical_calls = fake.calls_to("/historical/markets")
    assert len(historical_calls) == 1 and historical_calls[0].query["event_ticker"] == ["KXHIGHNY-26JUN01"]

    new, tiers = client.get_event_markets("KXHIGHNY-26JUN02")
    assert len(new) == 6 and all(m["event_ticker"] == "KXHIGHNY-26JUN02" for m in new)
    assert set(tiers.values()) == {"live"}
    assert len(fake.calls_to("/historical/markets")) == 1  # all live markets close after the cutoff
    assert len(fake.calls_to("/historical/cutoff")) == 1  # cached


def test_event_straddling_the_cutoff_is_merged_without_duplicates(client, fake, settled_real_markets):
    jun01 = [m for m in settled_real_markets if m["event_ticker"] == "KXHIGHNY-26JUN01"]
    for m in jun01[:2]:  # two brackets still awaiting settlement: on the live tier
        m.pop("settlement_ts")
    fake.markets = {m["ticker"]: m for m in jun01}
    merged, tiers = client.get_event_markets("KXHIGHNY-26JUN01")
    assert sorted(m["ticker"] for m in merged) == sorted(m["ticker"] for m in jun01)
    assert [tiers[m["ticker"]] for m in jun01] == ["live"] * 2 + ["historical"] * 4
    assert len(fake.calls_to("/markets")) == 1 and len(fake.calls_to("/historical/markets")) == 1


def test_candles_fall_back_to_live_when_the_estimate_was_wrong(client, fake):
    # No settlement_ts yet and a close before the cutoff: routed historical, actually live.
    market = _market("M", close_time="2026-06-01T04:59:00Z")
    fake.markets = {"M": market}
    fake.candles["M"] = [{"end_period_ts": 1780272060}]
    assert client.get_candlesticks("KXTEST", market, 1780272000, 1780272060) == fake.candles["M"]
    assert [c.status for c in fake.calls if "candlesticks" in c.path] == [404, 200]


def test_candles_by_ticker_with_a_known_tier(client, fake, settled_real_markets):
    fake.markets = {m["ticker"]: m for m in settled_real_markets}
    old = next(m["ticker"] for m in settled_real_markets if m["event_ticker"] == "KXHIGHNY-26JUN01")
    fake.candles[old] = [{"end_period_ts": 1780272060}]
    assert client.get_candlesticks("KXHIGHNY", old, 1780272000, 1780272060, historical=True) == fake.candles[old]
    assert [c.path for c in fake.calls] == [f"/historical/markets/{old}/candlesticks"]  # no cutoff lookup
    with pytest.raises(ValueError, match="historical="):
        client.get_candlesticks("KXHIGHNY", old, 1780272000, 1780272060)


def test_long_candle_ranges_are_chunked_without_overlap(client, fake):
    fake.markets = {"M": _market("M")}
    start = 1780272000
    minutes = 5760  # four days of 1-minute candles: more than one request's worth
    fake.candles["M"] = [{"end_period_ts": start + 60 * k} for k in range(1, minutes + 1)]
    candles = client.get_live_candlesticks("KXTEST", "M", start, start + 60 * minutes)
    ends = [c["end_period_ts"] for c in candles]
    assert ends == sorted(set(ends)) and len(ends) == minutes
    calls = fake.calls_to("/series/KXTEST/markets/M/candlesticks")
    assert len(calls) == 2
    assert int(calls[1].query["start_ts"][0]) == int(calls[0].query["end_ts"][0]) + 1


def test_trades_split_at_cutoff(client, fake):
    times = ["2026-06-02T11:58:00Z", "2026-06-02T11:59:59Z", "2026-06-02T12:00:00Z", "2026-06-02T12:00:01Z"]
    fake.trades = [{"trade_id": f"t{i}", "ticker": "M", "created_time": t} for i, t in enumerate(times)]
    fake.trades.append({"trade_id": "other", "ticker": "N", "created_time": times[0]})
    trades = client.get_trades("M", 1780000000, 1790000000)
    assert [t["trade_id"] for t in trades] == ["t0", "t1", "t2", "t3"]
    assert len(fake.calls_to("/historical/trades")) == 1 and len(fake.calls_to("/markets/trades")) == 1

    before = client.get_trades("M", 1780000000, 1780401599)  # ends a second before the cutoff
    assert [t["trade_id"] for t in before] == ["t0", "t1"]
    assert len(fake.calls_to("/markets/trades")) == 1  # live tier not asked


def test_cutoff_cache_expires(fake, rsa_key):
    now = [0.0]
    with KalshiClient(fake.base_url, limiter=KalshiRateLimiter(1000, 1000), clock=lambda: now[0]) as c:
        c.get_historical_cutoff()
        now[0] = 299.0
        c.get_historical_cutoff()
        assert len(fake.calls_to("/historical/cutoff")) == 1
        now[0] = 301.0
        assert c.get_historical_cutoff().market_settled_ts.isoformat() == "2026-06-02T12:00:00+00:00"
    assert len(fake.calls_to("/historical/cutoff")) == 2


# -- configuration and secrets ------------------------------------------------------------------


def test_base_url_resolution():
    assert resolve_base_url(None) == PROD_BASE == "https://external-api.kalshi.com/trade-api/v2"
    assert resolve_base_url("prod") == PROD_BASE
    assert resolve_base_url(" DEMO ") == DEMO_BASE == "https://external-api.demo.kalshi.co/trade-api/v2"
    assert resolve_base_url("http://127.0.0.1:8123/trade-api/v2/") == "http://127.0.0.1:8123/trade-api/v2"
    with pytest.raises(ConfigError, match="KALSHI_API_BASE"):
        resolve_base_url("staging")


def test_from_env(fake, rsa_key, tmp_path):
    pem = tmp_path / "kalshi.pem"
    pem.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    env = {"KALSHI_API_BASE": fake.base_url, "KALSHI_API_KEY_ID": KEY_ID, "KALSHI_PRIVATE_KEY_PATH": str(pem)}
    with KalshiClient.from_env(env) as c:
        assert c.get_balance()["balance"] == 0
    with pytest.raises(ConfigError, match="both"):
        KalshiClient.from_env({"KALSHI_API_KEY_ID": KEY_ID})
    with pytest.raises(ConfigError, match="KALSHI_READ_RATE"):
        KalshiClient.from_env({"KALSHI_READ_RATE": "fast"})
    with pytest.raises(ConfigError, match="KALSHI_PRIVATE_KEY_PATH"):
        KalshiClient.from_env({"KALSHI_API_KEY_ID": KEY_ID, "KALSHI_PRIVATE_KEY_PATH": str(tmp_path / "nope")})


def test_secrets_stay_out_of_logs_reprs_and_errors(client, fake, rsa_key, other_key, caplog):
    pem_body = (
        rsa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
        .splitlines()[1]
    )
    fake.fail("/portfolio/balance", Fault.http(503))
    caplog.set_level(logging.DEBUG)
    client.get_balance()
    signature = fake.calls_to("/portfolio/balance")[-1].headers["kalshi-access-signature"]
    fake.public_key = other_key.public_key()
    with pytest.raises(KalshiHTTPError) as err:
        client.get_balance()
    assert "retry 1/4" in caplog.text  # the retry was logged, so the log was really captured
    for secret in (KEY_ID, pem_body, signature):
        assert secret not in caplog.text
        assert secret not in repr(client)
        assert secret not in str(err.value)
    assert "a1b2…" in repr(client)
