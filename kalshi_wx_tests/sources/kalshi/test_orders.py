"""The order client against the simulator's matching engine, behind a loopback proxy that loses answers on
cue: a POST is re-sent only under the same client_order_id (the exchange's duplicate refusal makes that
safe), a cycle's intents are sent (or, dry, not at all: counted at the server), the kill switch cancels
everything resting."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshi_wx.core.backtest import BacktestConfig, FeeSchedule, FusedEdgeStrategy
from kalshi_wx.core.live.cycle import CycleInputs, decide_cycle
from kalshi_wx.core.live.reconcile import rebuild
from kalshi_wx.core.live.walls import RiskLimits
from kalshi_wx.core.payloads.kalshi_orders import CreateOrderRequest
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.http import RetryPolicy
from kalshi_wx.sources.kalshi import KalshiClient, KalshiHTTPError, KalshiRateLimiter, KalshiSigner
from kalshi_wx.sources.kalshi.orders import KalshiOrders, OrderStateUnknown
from kalshi_wx.sources.loopback import LoopbackServer, Request, Response
from kalshi_wx.sources.sim import SimConfig, simulate_city_day
from kalshi_wx.sources.sim.matching import MatchingEngine

PREFIX = "/trade-api/v2"
KEY_ID = "f00dcafe-0000-4000-8000-0123456789ab"


class LossyExchange:
    """The matching engine on loopback; ``script`` says what happens to each order POST in turn:
    ``ok``, ``lost`` (executed, then a 500), ``cut`` (executed, answer cut off), ``refused`` (a 500 before
    anything is executed)."""

    def __init__(self, config: SimConfig, engine: MatchingEngine, now):
        self.config, self.engine, self.now = config, engine, now
        self.script: list[str] = []
        self.server = LoopbackServer(self._app)

    def _app(self, req: Request) -> Response:
        path = req.path.removeprefix(PREFIX)
        world = replace(self.config, now=self.now)
        if req.method == "POST" and path == "/portfolio/events/orders" and self.script:
            step = self.script.pop(0)
            if step == "refused":
                return Response.json({"error": {"code": "internal", "message": "try again"}}, status=500)
            answer = self.engine.serve(world, req, path)
            if step == "lost":
                return Response.json({"error": {"code": "internal", "message": "gateway timeout"}}, status=500)
            if step == "cut":
                return Response(answer.status, answer.body, answer.headers, truncate_at=len(answer.body) // 2)
            return answer
        return self.engine.serve(world, req, path)


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def config():
    return SimConfig(cities=tuple(settings().cities.values()))


@pytest.fixture(scope="module")
def day(config):
    return simulate_city_day(config, "nyc", config.now.date())


@pytest.fixture(scope="module")
def exchange(config, day, key):
    lossy = LossyExchange(config, MatchingEngine(config), day.start + timedelta(hours=12))
    with lossy.server:
        yield lossy


@pytest.fixture
def orders(exchange, config, key):
    exchange.engine = MatchingEngine(config, public_key=key.public_key())
    exchange.script = []
    client = KalshiClient(
        exchange.server.url + PREFIX,
        signer=KalshiSigner(KEY_ID, key),
        limiter=KalshiRateLimiter(1000, 1000),
        retry=RetryPolicy(max_attempts=3),
        sleep=lambda s: None,
    )
    with client:
        yield KalshiOrders(client)


@pytest.fixture
def request_(day, exchange):
    k = day.bars_done(exchange.now) - 1
    i = next(i for i in range(len(day.markets)) if int(day.bid[i, k]) > 0 and int(day.ask[i, k]) < 100)
    price = Decimal(int(day.bid[i, k])) / 100
    return CreateOrderRequest(
        day.markets[i].ticker, "decision-1", "bid", price, 3, "good_till_canceled", post_only=True
    )


@pytest.mark.parametrize("loss", ["lost", "cut"])
def test_an_order_executed_whose_answer_was_lost_is_found_not_placed_again(orders, exchange, request_, loss):
    exchange.script = [loss]
    placed = orders.create_order(request_)
    assert placed.replayed and placed.client_order_id == "decision-1" and placed.remaining_count == 3
    assert [o.order_id for o in orders.orders()] == [placed.order_id]
    assert exchange.engine.order_requests == 2  # the original and one re-send, which the exchange refused


def test_an_order_that_never_executed_is_placed_by_the_resend(orders, exchange, request_):
    exchange.script = ["refused"]
    placed = orders.create_order(request_)
    assert not placed.replayed and placed.remaining_count == 3
    assert len(orders.orders()) == 1 and exchange.engine.order_requests == 1  # the refused one never reached it


def test_two_lost_answers_leave_the_outcome_unknown(orders, exchange, request_):
    exchange.script = ["lost", "refused"]
    with pytest.raises(OrderStateUnknown, match="order decision-1 on .*: outcome unknown .*reconcile"):
        orders.create_order(request_)
    assert len(orders.orders()) == 1  # it did land: the reconciler will find it


def test_a_replayed_decision_returns_the_first_order(orders, exchange, request_):
    first = orders.create_order(request_)
    replay = orders.create_order(request_)
    assert (replay.order_id, replay.replayed, first.replayed) == (first.order_id, True, False)
    assert len(orders.orders()) == 1


def test_a_refusal_is_not_resent(orders, exchange, request_, day):
    crossing = replace(request_, price=Decimal("0.99"), client_order_id="decision-2")
    with pytest.raises(KalshiHTTPError, match="post_only_cross"):
        orders.create_order(crossing)
    assert exchange.engine.order_requests == 1


def test_order_log_lines_carry_no_secret(orders, exchange, request_, caplog, key):
    exchange.script = ["lost"]
    with caplog.at_level(logging.DEBUG):
        orders.create_order(request_)
    text = caplog.text
    assert "decision-1" in text and KEY_ID not in text and "KALSHI-ACCESS-SIGNATURE" not in text.upper()


def cycle_inputs(orders, day, now, **change) -> CycleInputs:
    """A cycle on the simulated event at ``now``: every market a little underpriced, maker orders only."""
    k = day.bars_done(now) - 1
    quotes, p_yes = {}, {}
    for i, spec in enumerate(day.markets):
        bid, ask = int(day.bid[i, k]), int(day.ask[i, k])
        quotes[spec.ticker] = (Decimal(bid) / 100 if bid > 0 else None, Decimal(ask) / 100 if ask < 100 else None)
        p_yes[spec.ticker] = min(0.99, (bid + ask) / 200 + 0.10)
    exchange = rebuild(orders.positions(), orders.resting_orders())
    base = dict(
        strategy=FusedEdgeStrategy(Decimal("0.02")), ts=now, minute=k + 1, quotes=quotes, p_yes=p_yes,
        close_time={s.ticker: day.close_time for s in day.markets},
        event_of={s.ticker: day.event_ticker for s in day.markets},
        fees=FeeSchedule("quadratic", Decimal(1)), config=BacktestConfig(order_size=2, taker_fallback=False),
        limits=RiskLimits(), exchange=exchange,
    )  # fmt: skip
    return CycleInputs(**{**base, **change})


def test_a_dry_run_sends_no_order_request_and_a_replayed_cycle_places_nothing_twice(orders, exchange, day):
    decision = decide_cycle(cycle_inputs(orders, day, exchange.now))
    sent = decision.to_send
    # Several orders (the calibrated maker quotes the far tails on the ask side only, so not every market).
    assert len(sent) >= 2 and decision.wall_hits == ()
    assert [o.status for o in orders.execute(sent, dry_run=True)] == ["dry_run"] * len(sent)
    assert exchange.engine.order_requests == 0  # counted at the server
    live = orders.execute(sent, dry_run=False)
    assert [o.status for o in live] == ["placed"] * len(sent)
    # The same cycle sent again (a crash after sending, before recording): the exchange knows every id.
    again = orders.execute(sent, dry_run=False)
    assert [o.status for o in again] == ["replayed"] * len(sent)
    assert [o.order_id for o in again] == [o.order_id for o in live]
    assert len(orders.orders()) == len(sent) and exchange.engine.order_requests == 2 * len(sent)


def test_the_kill_switch_cancels_every_resting_order_at_the_exchange(orders, exchange, day):
    placed = orders.execute(decide_cycle(cycle_inputs(orders, day, exchange.now)).to_send, dry_run=False)
    assert len(orders.resting_orders()) == len(placed) >= 2
    decision = decide_cycle(cycle_inputs(orders, day, exchange.now, kill_switch="KALSHI_WX_KILL=1"))
    outcomes = orders.execute(decision.to_send, dry_run=False)
    assert {o.status for o in outcomes} == {"cancelled"} and len(outcomes) == len(placed)
    assert orders.resting_orders() == []


def test_an_unknown_outcome_stops_the_cycle(orders, exchange, day):
    sent = decide_cycle(cycle_inputs(orders, day, exchange.now)).to_send
    exchange.script = ["ok", "lost", "refused"]
    outcomes = orders.execute(sent, dry_run=False)
    assert [o.status for o in outcomes] == ["placed", "unknown"] + ["not_sent"] * (len(sent) - 2)
    # The order whose answers were lost did land; the next cycle's reconciliation will see it.
    assert len(orders.resting_orders()) == 2
