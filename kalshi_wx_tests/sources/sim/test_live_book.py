"""The live books behind the simulator's WebSocket: they follow their maker, never cross, and replay from the seed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from kalshi_wx.sources.sim.common import CryptoSeries
from kalshi_wx.sources.sim.exchange import simulate_city_day
from kalshi_wx.sources.sim.live_book import BookDelta, Lifecycle, LiveBookFeed, LiveMarket, Trade, sim_universe

NOON = datetime(2026, 6, 10, 17, 0, tzinfo=UTC).timestamp()  # 12:00 LST in New York


def _feed(sim_config, series=("KXHIGHNY",), **kwargs) -> LiveBookFeed:
    config = replace(sim_config, crypto=(CryptoSeries(),))
    return LiveBookFeed(sim_universe(config, list(series)), seed=config.seed, **kwargs)


def _step(feed: LiveBookFeed, start: float, seconds: float, dt: float = 0.05) -> list:
    events = []
    for k in range(int(seconds / dt) + 1):
        events += feed.step(start + k * dt)
    return events


def test_books_reach_the_makers_touch_and_never_cross(sim_config):
    feed = _feed(sim_config, deltas_per_s=20.0)
    events = _step(feed, NOON, 20.0)
    day = simulate_city_day(sim_config, "nyc", datetime(2026, 6, 10).date())
    assert sorted(feed.tickers) == sorted(m.ticker for m in day.markets)
    assert [e.event_type for e in events if isinstance(e, Lifecycle)] == ["created", "activated"] * 6
    for spec in day.markets:
        yes, no = feed.levels_of(spec.ticker)
        bid, ask = max(yes, default=0), 100 - max(no, default=0)
        target = feed.market(spec.ticker).touch(NOON + 20.0)
        assert (bid, ask if no else 100) == target, spec.ticker
        assert bid < ask
    deltas = [e for e in events if isinstance(e, BookDelta)]
    assert 0.7 * 6 * 20 * 20 < len(deltas) < 1.3 * 6 * 20 * 20  # Poisson at 20 per market per second
    assert all(e.delta % 100 == 0 for e in deltas)  # whole contracts: the legacy format carries them exactly
    assert any(isinstance(e, Trade) for e in events)


def test_the_same_seed_and_steps_replay_the_same_stream(sim_config):
    first = _step(_feed(sim_config), NOON, 5.0)
    second = _step(_feed(sim_config), NOON, 5.0)
    assert first == second and len(first) > 20
    other = replace(sim_config, seed=sim_config.seed + 1)
    assert _step(_feed(other), NOON, 5.0) != first


def test_a_closing_market_is_dropped_and_determined():
    closes = NOON + 1.0

    def universe(now: float) -> list[LiveMarket]:
        return [LiveMarket("X-1", "X", int(NOON) - 60, int(closes), lambda t: (40, 45), lambda: "yes")]

    feed = LiveBookFeed(universe, seed=1, deltas_per_s=5.0)
    events = _step(feed, NOON, 2.0)
    assert feed.tickers == []
    determined = [e for e in events if isinstance(e, Lifecycle) and e.event_type == "determined"]
    assert [(e.ticker, e.result) for e in determined] == [("X-1", "yes")]
