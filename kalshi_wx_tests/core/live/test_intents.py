"""Live intents come from the backtest's own strategy on the same minute, so the two cannot drift."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kalshi_wx.cli.bench.backtest import sim_backtest_day, sim_days
from kalshi_wx.core.backtest import BacktestConfig, Cancel, FeeSchedule, FusedEdgeStrategy, Order, run_backtest
from kalshi_wx.core.live.ids import client_order_id
from kalshi_wx.core.live.intents import CancelIntent, LiveMarket, PlaceIntent, RestingOrder, decide, intent_key

TS = datetime(2026, 6, 10, 17, 0, tzinfo=UTC)
TK = "KXHIGHNY-26JUN10-B81.5"
FEES = FeeSchedule("quadratic", Decimal(1))


class Recorder:
    """The backtest's strategy, recording what it was shown and what it answered."""

    def __init__(self, inner):
        self.inner, self.name, self.calls = inner, inner.name, []

    def start_day(self, tickers, first_ts):
        self.inner.start_day(tickers, first_ts)

    def on_minute(self, view):
        out = list(self.inner.on_minute(view))
        self.calls.append((view, out))
        return out


def test_live_decisions_equal_the_backtest_engines_minute_by_minute():
    day = sim_backtest_day(next(sim_days(1, start=date(2025, 8, 3))))
    config = BacktestConfig()
    recorder = Recorder(FusedEdgeStrategy(Decimal("0.01")))
    run_backtest(day.book, day.trades, day.signal, recorder, day.fees, day.settled_yes, config)
    compared = 0
    for view, out in recorder.calls:
        markets = [
            LiveMarket(
                m.ticker, m.bid, m.ask, m.p_yes, m.position,
                tuple(RestingOrder(f"o{o.order_id}", None, m.ticker, o.side, o.yes_price, o.remaining, o.ts_placed)
                      for o in m.open_orders),
                m.position_since,
            )
            for m in view.markets
        ]  # fmt: skip
        live = decide(
            FusedEdgeStrategy(Decimal("0.01")), ts=view.ts, minute=view.minute, markets=markets, fees=view.fees,
            config=config, exposure=view.exposure_dollars, prints=view.trades,
        )  # fmt: skip
        rooms = {m.ticker: (m.room_yes, m.room_no) for m in view.markets}
        want = []
        for item in out:
            if isinstance(item, Cancel):
                want.append(("cancel", f"o{item.order_id}"))
            else:
                assert isinstance(item, Order)
                count = min(config.order_size, rooms[item.ticker][0 if item.side == "yes" else 1])
                if count > 0:
                    want.append((item.ticker, item.side, item.yes_price, item.liquidity, count))
        got = [
            ("cancel", i.order_id)
            if isinstance(i, CancelIntent)
            else (i.ticker, i.side, i.yes_price, i.liquidity, i.count)
            for i in live
        ]
        assert got == want, view.ts
        compared += len(want)
    assert compared > 20  # the day traded: the comparison is not vacuous


def test_orders_become_v2_requests_with_a_deterministic_id():
    market = LiveMarket(TK, Decimal("0.27"), Decimal("0.30"), 0.60, 0)
    config = BacktestConfig(order_size=5, taker_min_edge=Decimal("0.03"))
    (intent,) = decide(FusedEdgeStrategy(Decimal("0.02")), ts=TS, minute=0, markets=[market], fees=FEES, config=config)
    assert isinstance(intent, PlaceIntent)
    # p 0.60 against ask 0.30: the taker edge clears the bar, so it takes at the ask.
    assert (intent.side, intent.yes_price, intent.liquidity, intent.count) == ("yes", Decimal("0.30"), "taker", 5)
    assert intent.client_order_id == client_order_id(
        "fused_edge", TK, TS, intent_key("yes", "taker", Decimal("0.30"), 5)
    )
    assert intent.request().to_wire() == {
        "ticker": TK, "client_order_id": intent.client_order_id, "side": "bid", "price": "0.3000", "count": "5",
        "time_in_force": "immediate_or_cancel", "post_only": False, "reduce_only": False,
    }  # fmt: skip
    again = decide(FusedEdgeStrategy(Decimal("0.02")), ts=TS, minute=0, markets=[market], fees=FEES, config=config)
    assert again == [intent]  # a replayed decision names the same order


def test_a_no_buy_is_a_post_only_ask_and_the_position_room_cuts_it():
    market = LiveMarket(TK, Decimal("0.40"), Decimal("0.45"), 0.20, -45)  # short 45 YES = long 45 NO
    config = BacktestConfig(order_size=10, max_position_per_market=50, taker_fallback=False)
    (intent,) = decide(FusedEdgeStrategy(Decimal("0.02")), ts=TS, minute=0, markets=[market], fees=FEES, config=config)
    request = intent.request()
    assert (request.side, request.price, request.count) == ("ask", Decimal("0.44"), 5)
    assert request.post_only and request.time_in_force == "good_till_canceled"


def test_a_cancel_names_the_exchange_order():
    stale = RestingOrder("exch-1", "c-1", TK, "yes", Decimal("0.20"), 10, TS)
    market = LiveMarket(TK, Decimal("0.40"), Decimal("0.45"), 0.10, 0, (stale,))
    config = BacktestConfig(taker_fallback=False)
    intents = decide(FusedEdgeStrategy(Decimal("0.02")), ts=TS, minute=0, markets=[market], fees=FEES, config=config)
    assert intents[0] == CancelIntent("fused_edge", TS, TK, "exch-1")


def test_a_ticker_twice_is_refused():
    market = LiveMarket(TK, None, None, None, 0)
    with pytest.raises(ValueError, match="twice"):
        decide(FusedEdgeStrategy(), ts=TS, minute=0, markets=[market, market], fees=FEES, config=BacktestConfig())
