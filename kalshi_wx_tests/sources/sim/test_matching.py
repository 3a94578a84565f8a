"""The simulator's matching engine, driven by the real order client over loopback HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshi_wx.core.backtest import FeeSchedule
from kalshi_wx.core.fees import trading_fee
from kalshi_wx.core.payloads.kalshi_orders import AmendOrderRequest, CreateOrderRequest, DecreaseOrderRequest
from kalshi_wx.sources.kalshi import KalshiClient, KalshiHTTPError, KalshiRateLimiter, KalshiSigner
from kalshi_wx.sources.kalshi.orders import KalshiOrders
from kalshi_wx.sources.sim import SimServer, simulate_city_day
from kalshi_wx.sources.sim.matching import MatchingEngine

C = Decimal("0.01")


class Clock:
    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> float:
        assert self.at is not None
        return self.at.timestamp()


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def day(sim_config):
    return simulate_city_day(sim_config, "nyc", sim_config.now.date())


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def server(sim_config, clock):
    with SimServer(sim_config, clock=clock) as srv:
        yield srv


@pytest.fixture
def engine(server, sim_config, key, clock, day):
    server.trading = MatchingEngine(sim_config, public_key=key.public_key())
    clock.at = day.start + timedelta(hours=12)
    return server.trading


@pytest.fixture(scope="module")
def orders(server, key):
    client = KalshiClient(server.kalshi_base_url, signer=KalshiSigner("sim-key-id", key),
                          limiter=KalshiRateLimiter(1000, 1000))  # fmt: skip
    with client:
        yield KalshiOrders(client)


def touch(day, i: int, at: datetime) -> tuple[int, int, int, int]:
    """(bid, ask) cents and their sizes in whole contracts, as the book shows at ``at``."""
    k = day.bars_done(at) - 1
    return int(day.bid[i, k]), int(day.ask[i, k]), int(day.bid_size[i, k]) // 100, int(day.ask_size[i, k]) // 100


def wide_market(day, at: datetime, spread: int = 3) -> int:
    for i in range(len(day.markets)):
        bid, ask, _, _ = touch(day, i, at)
        if bid > 0 and ask < 100 and ask - bid >= spread:
            return i
    raise AssertionError("no market with a wide two-sided quote at the test's moment")


def order(day, i, cid, side, cents, count, tif="good_till_canceled", **kw) -> CreateOrderRequest:
    return CreateOrderRequest(day.markets[i].ticker, cid, side, Decimal(cents) / 100, count, tif, **kw)


def test_a_crossing_order_takes_the_book_level_by_level_and_pays_the_taker_fee(engine, orders, day, clock):
    i = wide_market(day, clock.at)
    bid, ask, _, ask_size = touch(day, i, clock.at)
    ticker = day.markets[i].ticker
    book = orders.client.get_orderbook(ticker)["no_dollars"]
    asks = sorted((100 - int(Decimal(p) * 100), int(Decimal(c))) for p, c in book)
    assert asks[0] == (ask, ask_size)
    limit = asks[1][0]
    want = ask_size + 1  # one contract more than the touch holds: the rest comes from the next level
    placed = orders.create_order(order(day, i, "take-1", "bid", limit, want, "immediate_or_cancel"))
    assert (placed.fill_count, placed.remaining_count, placed.replayed) == (want, 0, False)
    fills = orders.fills(ticker=ticker)
    assert [(f.yes_price, f.count, f.is_taker) for f in fills] == [
        (Decimal(ask) / 100, ask_size, True),
        (Decimal(limit) / 100, 1, True),
    ]
    # Per order: the exact fees of its fills summed, then rounded up to the cent ("quadratic": GET /series).
    exact = sum(
        trading_fee("quadratic", 1, n, Decimal(p) / 100, maker=False, precision=Decimal("1E-12"))
        for p, n in ((ask, ask_size), (limit, 1))
    )
    assert sum(f.fee_cost for f in fills) == exact.quantize(C, rounding=ROUND_CEILING) > 0
    (position,) = orders.positions()
    assert position.position == want
    cost = Decimal(ask * ask_size + limit) / 100
    assert orders.balance().balance == Decimal(1000) - cost - sum(f.fee_cost for f in fills)
    # The liquidity taken stays taken for the rest of the minute: the same order again finds none at the ask.
    again = orders.create_order(order(day, i, "take-2", "bid", ask, 1, "immediate_or_cancel"))
    assert again.fill_count == 0


def test_fill_or_kill_is_all_or_nothing(engine, orders, day, clock):
    i = wide_market(day, clock.at)
    _, ask, _, ask_size = touch(day, i, clock.at)
    killed = orders.create_order(order(day, i, "fok-1", "bid", ask, ask_size + 1, "fill_or_kill"))
    assert (killed.fill_count, killed.remaining_count) == (0, 0)
    assert orders.fills() == [] and orders.orders()[0].status == "canceled"
    filled = orders.create_order(order(day, i, "fok-2", "bid", ask, ask_size, "fill_or_kill"))
    assert filled.fill_count == ask_size


def test_post_only_rests_or_is_refused(engine, orders, day, clock):
    i = wide_market(day, clock.at)
    bid, ask, _, _ = touch(day, i, clock.at)
    with pytest.raises(KalshiHTTPError, match="post_only_cross") as err:
        orders.create_order(order(day, i, "po-1", "bid", ask, 1, post_only=True))
    assert err.value.status == 400
    rests = orders.create_order(order(day, i, "po-2", "bid", bid + 1, 3, post_only=True))
    assert (rests.fill_count, rests.remaining_count) == (0, 3)
    (resting,) = orders.resting_orders()
    assert (resting.order_id, resting.side, resting.yes_price) == (rests.order_id, "bid", Decimal(bid + 1) / 100)


def first_print(day, after: datetime, *, taker_yes: bool, min_count: int) -> tuple[int, int, datetime]:
    """(market, print, its time): the first print after ``after`` by a YES (or NO) taker of at least
    ``min_count`` contracts on a two-sided market whose bid (as the book shows just before) is below it."""
    start_us = int(after.timestamp() * 1_000_000)
    for j in range(int(day.trade_slice(start_us).stop), len(day.trade_us)):
        if bool(day.trade_taker_yes[j]) != taker_yes or int(day.trade_count[j]) // 100 < min_count:
            continue
        i = int(day.trade_market[j])
        at = datetime.fromtimestamp(int(day.trade_us[j]) / 1e6, after.tzinfo)
        bid, ask, _, _ = touch(day, i, at - timedelta(microseconds=1))
        if 0 < bid < int(day.trade_price[j]) and ask < 100:
            return i, j, at
    raise AssertionError("no suitable print")


def test_resting_orders_fill_from_prints_in_price_time_priority(engine, orders, day, clock):
    i, j, at = first_print(day, clock.at, taker_yes=True, min_count=3)
    price, printed = int(day.trade_price[j]), int(day.trade_count[j]) // 100
    clock.at = at - timedelta(microseconds=1)
    first = orders.create_order(order(day, i, "pt-first", "ask", price, 1, post_only=True))
    second = orders.create_order(order(day, i, "pt-second", "ask", price, printed + 5, post_only=True))
    worse = orders.create_order(order(day, i, "pt-worse", "ask", price + 1, 5, post_only=True))
    clock.at = at + timedelta(microseconds=1)
    filled = {o.order_id: o.fill_count for o in orders.orders(ticker=day.markets[i].ticker)}
    assert filled == {first.order_id: 1, second.order_id: printed - 1, worse.order_id: 0}
    better = [f for f in orders.fills() if f.order_id in (first.order_id, second.order_id)]
    assert all(not f.is_taker and f.yes_price == Decimal(price) / 100 for f in better)
    assert orders.positions()[0].position == -printed  # asks on the YES book bought NO


def test_maker_fees_follow_the_series_fee_type(server, sim_config, key, orders, day, clock):
    for fee_type, rate in (("quadratic", Decimal(0)), ("quadratic_with_maker_fees", Decimal("0.0175"))):
        server.trading = MatchingEngine(
            sim_config, public_key=key.public_key(),
            fee_overrides={day.city.series: FeeSchedule(fee_type, Decimal(1))},
        )  # fmt: skip
        clock.at = day.start + timedelta(hours=12)
        i, j, at = first_print(day, clock.at, taker_yes=True, min_count=3)
        price = int(day.trade_price[j])
        clock.at = at - timedelta(microseconds=1)
        orders.create_order(order(day, i, f"fee-{fee_type}", "ask", price, 3, post_only=True))
        clock.at = at + timedelta(microseconds=1)
        (fill,) = orders.fills()
        p = Decimal(price) / 100
        assert fill.fee_cost == trading_fee(fee_type, 1, 3, p, maker=True)
        assert (fill.fee_cost > 0) == (rate > 0)


def test_a_quote_through_a_resting_order_fills_it(engine, orders, day, clock):
    i = wide_market(day, clock.at)
    bid, _, _, _ = touch(day, i, clock.at)
    # Find a later minute whose ask is at or below our bid: the maker could only post it by trading with us.
    k0 = day.bars_done(clock.at)
    ks = [k for k in range(k0, len(day.ask[i]) - 1) if int(day.ask[i, k]) <= bid + 1]
    assert ks, "the maker's ask never came down to this bid on the test's day"
    placed = orders.create_order(order(day, i, "through", "bid", bid + 1, 2, post_only=True))
    clock.at = day.start + timedelta(minutes=ks[0] + 1, seconds=1)
    (mine,) = orders.orders(ticker=day.markets[i].ticker)
    assert mine.order_id == placed.order_id and mine.status == "executed" and mine.fill_count == 2


def test_cancel_cancel_all_amend_decrease(engine, orders, day, clock):
    i = wide_market(day, clock.at, spread=4)
    bid, _, _, _ = touch(day, i, clock.at)
    a = orders.create_order(order(day, i, "c-a", "bid", bid, 5, post_only=True))
    b = orders.create_order(order(day, i, "c-b", "bid", bid, 6, post_only=True))
    c = orders.create_order(order(day, i, "c-c", "bid", bid - 1, 7, post_only=True))
    cancelled = orders.cancel_order(a.order_id, ticker=day.markets[i].ticker)
    assert (cancelled.order_id, cancelled.client_order_id, cancelled.reduced_by) == (a.order_id, "c-a", 5)
    with pytest.raises(KalshiHTTPError) as err:
        orders.cancel_order(a.order_id)
    assert err.value.status == 404
    amended = orders.amend_order(b.order_id, AmendOrderRequest(day.markets[i].ticker, "bid", Decimal(bid + 1) / 100, 4))
    assert (amended.yes_price, amended.initial_count, amended.remaining_count) == (Decimal(bid + 1) / 100, 4, 4)
    decreased = orders.decrease_order(c.order_id, DecreaseOrderRequest(reduce_by=3))
    assert decreased.remaining_count == 4
    assert sorted(x.reduced_by for x in orders.cancel_all()) == [4, 4]
    assert orders.resting_orders() == []


def test_batch_create_answers_each_order(engine, orders, day, clock):
    i = wide_market(day, clock.at)
    bid, ask, _, _ = touch(day, i, clock.at)
    results = orders.create_orders(
        [
            order(day, i, "batch-1", "bid", bid, 2, post_only=True),
            order(day, i, "batch-2", "bid", ask, 1, post_only=True),
        ]
    )
    assert results[0].order is not None and results[0].order.remaining_count == 2 and results[0].error is None
    assert results[1].order is None and results[1].error is not None and results[1].error.startswith("post_only_cross")
    assert engine.order_requests == 1


def test_positions_balance_and_settlement_to_the_cent(engine, orders, day, clock):
    i = wide_market(day, clock.at)
    winner = day.winner
    bid_w, ask_w, _, size_w = touch(day, winner, clock.at)
    bid_l, ask_l, size_l, _ = touch(day, i, clock.at)
    assert i != winner and ask_w < 100 and bid_l > 0, "the test needs a quoted winner and another quoted market"
    n_w, n_l = min(3, size_w), min(4, size_l)
    orders.create_order(order(day, winner, "s-yes", "bid", ask_w, n_w, "immediate_or_cancel"))  # buy YES on the winner
    orders.create_order(order(day, i, "s-no", "ask", bid_l, n_l, "immediate_or_cancel"))  # buy NO on a loser
    fills = orders.fills()
    assert {f.ticker: f.signed_count for f in fills} == {day.markets[winner].ticker: n_w, day.markets[i].ticker: -n_l}
    fees = sum(f.fee_cost for f in fills)
    cost = Decimal(ask_w * n_w + (100 - bid_l) * n_l) / 100
    assert orders.balance().balance == Decimal(1000) - cost - fees
    clock.at = day.settlement_ts + timedelta(seconds=1)
    assert orders.positions() == []
    settled = {s.ticker: s for s in orders.settlements()}
    assert settled[day.markets[winner].ticker].market_result == "yes"
    assert settled[day.markets[winner].ticker].revenue == n_w
    assert settled[day.markets[i].ticker].revenue == n_l  # a NO on a losing bracket pays $1
    assert orders.balance().balance == Decimal(1000) - cost - fees + n_w + n_l


def test_duplicate_client_order_id_is_refused_and_counted(engine, orders, day, clock):
    i = wide_market(day, clock.at)
    bid, _, _, _ = touch(day, i, clock.at)
    request = order(day, i, "dup-1", "bid", bid, 2, post_only=True)
    first = orders.create_order(request)
    second = orders.create_order(request)
    assert second.replayed and second.order_id == first.order_id
    assert len(orders.orders()) == 1 and engine.order_requests == 2


def test_closed_markets_unsigned_requests_and_bad_bodies_are_refused(engine, orders, server, day, clock):
    clock.at = day.close_time + timedelta(minutes=1)
    with pytest.raises(KalshiHTTPError, match="market_closed"):
        orders.create_order(order(day, 0, "late", "bid", 50, 1))
    response = httpx.post(f"{server.kalshi_base_url}/portfolio/events/orders", json={})
    assert response.status_code == 401
    assert engine.order_requests == 2  # refused requests are counted too: the server saw them
