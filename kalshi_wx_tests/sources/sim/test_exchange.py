"""The simulated exchange: ladders, settlement, the market maker and takers, straight from the data."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from kalshi_wx.core.brackets import bracket_from_strikes, validate_ladder
from kalshi_wx.sources.sim import SimConfig, build_ladder, simulate_city_day
from kalshi_wx.sources.sim.exchange import NO_ASK, NO_BID, find_market, iter_city_days, served_dates

DAY = date(2026, 6, 1)


def _days(config: SimConfig, n: int, first: date = date(2026, 5, 1), step: int = 1):
    for city in config.cities:
        for i in range(n):
            yield simulate_city_day(config, city.key, first + timedelta(days=i * step))


def test_ladder_matches_the_documented_example():
    ladder = build_ladder("KXHIGHNY", DAY, 73.4)
    assert [m.ticker for m in ladder] == [
        "KXHIGHNY-26JUN01-T70",
        "KXHIGHNY-26JUN01-B70.5",
        "KXHIGHNY-26JUN01-B72.5",
        "KXHIGHNY-26JUN01-B74.5",
        "KXHIGHNY-26JUN01-B76.5",
        "KXHIGHNY-26JUN01-T77",
    ]
    assert (ladder[0].strike_type, ladder[0].cap_strike, ladder[0].bracket.label) == (
        "less",
        70,
        "69° or below",
    )
    assert (ladder[-1].strike_type, ladder[-1].floor_strike, ladder[-1].bracket.label) == (
        "greater",
        77,
        "78° or above",
    )
    assert [(m.floor_strike, m.cap_strike) for m in ladder[1:-1]] == [(70, 71), (72, 73), (74, 75), (76, 77)]


def test_ladders_are_valid_for_every_city_over_thirty_days(sim_config):
    for day in _days(sim_config, 30):
        brackets = [bracket_from_strikes(m.ticker, m.strike_type, m.floor_strike, m.cap_strike) for m in day.markets]
        validate_ladder(brackets, event=day.event_ticker)
        # Centred on the forecast: the middle edge is the half degree nearest it.
        middle_edge = day.markets[2].cap_strike + 0.5
        assert abs(middle_edge - day.weather.forecast_high) <= 0.5


def test_settlement_follows_the_cli_max_with_exactly_one_winner(sim_config):
    for day in _days(sim_config, 30):
        winners = [i for i, m in enumerate(day.markets) if m.bracket.wins(day.cli_max_f)]
        assert winners == [day.winner]


def test_quotes_are_on_the_cent_grid_inside_the_unit_interval_with_bid_below_ask(sim_config):
    for day in _days(sim_config, 10, step=9):
        assert np.all((day.belief >= 0) & (day.belief <= 1))
        assert np.all((day.bid >= 0) & (day.bid <= 99) & (day.ask >= 1) & (day.ask <= 100))
        assert np.all(day.bid < day.ask)
        quoted = day.bid != NO_BID
        assert np.all(day.bid_size[quoted] > 0) and np.all(day.bid_size[~quoted] == 0)
        # Trading stops at close_time, the start of the last minute.
        np.testing.assert_array_equal(day.bid[:, -1], day.bid[:, -2])
        assert not np.any(day.volume[:, -1])


def test_the_book_is_empty_before_the_maker_starts_and_one_sided_on_far_tails(sim_config):
    day = simulate_city_day(sim_config, "nyc", DAY)
    start = day.mm_start_minute
    assert np.all(day.bid[:, :start] == NO_BID) and np.all(day.ask[:, :start] == NO_ASK)
    assert np.all((day.bid[:, start] != NO_BID) | (day.ask[:, start] != NO_ASK))
    one_sided = sum(int(np.any((d.bid == NO_BID) & (d.ask < NO_ASK))) for d in _days(sim_config, 5))
    assert one_sided > 20  # most events have a tail quoted only on the ask ("0.0000" bid)


def test_trades_hit_the_touch_in_time_order(sim_config):
    day = simulate_city_day(sim_config, "chi", DAY)
    assert day.trade_us.size > 20
    assert np.all(np.diff(day.trade_us) >= 0)
    minute = (day.trade_us // 1_000_000 - day.start_ts) // 60
    offset = day.trade_us % 60_000_000
    for j in range(day.trade_us.size):
        m, k = int(day.trade_market[j]), int(minute[j])
        if k < 0:  # before the climate day, from the event's open: the maker's opening quote
            assert day.open_time.timestamp() * 1e6 <= day.trade_us[j]
            quote = 0
        else:
            assert k > day.mm_start_minute
            quote = k if offset[j] >= day.quote_us[k] else k - 1
        bid, ask = day.bid[m, quote], day.ask[m, quote]
        expected = ask if day.trade_taker_yes[j] else bid
        assert day.trade_price[j] == expected and 1 <= expected <= 99
    assert np.all(day.trade_count >= 100)
    assert np.all(day.open_interest >= 0)
    # Candle volume is the climate day's; the rest traded before it.
    assert day.volume.sum() == day.trade_count[minute >= 0].sum() < day.trade_count.sum()


def test_candle_minutes_are_sparse(sim_config):
    day = simulate_city_day(sim_config, "phl", DAY)
    changed = (np.diff(day.bid, axis=1) != 0) | (np.diff(day.ask, axis=1) != 0) | (day.volume[:, 1:] > 0)
    per_market = changed.sum(axis=1)
    assert np.all(per_market < 1000) and np.all(per_market > 5)


def test_the_market_maker_is_informative(sim_config):
    """Over 280 city-days the winning bracket's mid is much higher at 16:00 LST than at 06:00 LST.

    Observed (seed 7): about 0.23 at 06:00 and 0.68 at 16:00, with a per-day sd of the change
    near 0.26, so the standard error of the mean change is ~0.016; requiring 0.25 leaves > 10 se.
    """
    at_six, at_four = [], []
    for day in _days(sim_config, 40, first=date(2026, 4, 1), step=3):
        mid = (day.bid[day.winner].astype(float) + day.ask[day.winner]) / 200.0
        at_six.append(mid[6 * 60])
        at_four.append(mid[16 * 60])
    assert np.mean(at_four) - np.mean(at_six) > 0.25
    assert np.mean(at_four) > 0.5


def test_one_city_day_generates_fast(sim_config):
    fresh = replace(sim_config, seed=424242)
    timings = []
    for i in range(5):
        t0 = time.perf_counter()
        simulate_city_day(fresh, "nyc", DAY + timedelta(days=i))
        timings.append(time.perf_counter() - t0)
    assert np.median(timings) < 0.3


def test_days_and_times_around_the_clock(sim_config):
    config = replace(sim_config, now=datetime(2026, 6, 10, 12, tzinfo=UTC))
    nyc = sim_config.city("nyc")
    dates = served_dates(config, nyc)
    assert dates[0] == date(2026, 6, 10) and dates[-1] == config.market_start_date
    day = simulate_city_day(config, "nyc", date(2026, 6, 2))
    assert day.close_time == datetime(2026, 6, 3, 4, 59, tzinfo=UTC)  # 11:59 PM EST
    assert day.open_time == datetime(2026, 6, 1, 14, tzinfo=UTC)
    assert datetime(2026, 6, 3, 11, tzinfo=UTC) < day.settlement_ts < datetime(2026, 6, 3, 11, 10, tzinfo=UTC)
    assert day.status(config.now) == "finalized" and not day.is_historical(config)
    assert simulate_city_day(config, "nyc", date(2026, 6, 1)).is_historical(config)
    assert simulate_city_day(config, "nyc", date(2026, 6, 10)).status(config.now) == "active"
    lax = simulate_city_day(config, "lax", date(2026, 6, 2))
    assert lax.close_time == datetime(2026, 6, 3, 7, 59, tzinfo=UTC)
    listed = list(iter_city_days(config))
    assert len(listed) == len(sim_config.cities) * len(dates)
    with pytest.raises(LookupError, match="not listed"):
        find_market(config, "KXHIGHNY-26JUN11-T70")


def test_config_rejects_naive_times_and_a_cutoff_after_now(sim_config):
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(sim_config, now=datetime(2026, 6, 10))
    with pytest.raises(ValueError, match="after SimConfig.now"):
        replace(sim_config, historical_cutoff=datetime(2026, 7, 1, tzinfo=UTC))


def test_config_needs_distinct_cities_and_is_hashable(sim_config):
    nyc = sim_config.city("nyc")
    with pytest.raises(ValueError, match="duplicate city key 'nyc'"):
        SimConfig(cities=(nyc, nyc))
    with pytest.raises(ValueError, match="no cities"):
        SimConfig(cities=())
    listed = SimConfig(cities=list(sim_config.cities))
    assert listed == sim_config and hash(listed) == hash(sim_config)


def test_unknown_city_is_a_clear_error(sim_config):
    with pytest.raises(ValueError, match="unknown city 'xyz'"):
        simulate_city_day(sim_config, "xyz", DAY)


def test_a_city_day_is_cached_per_city_definition(sim_config):
    nyc = sim_config.city("nyc")
    renamed = replace(sim_config, cities=(replace(nyc, series="KXHIGHNYX"),))
    assert simulate_city_day(sim_config, "nyc", DAY) is simulate_city_day(sim_config, "nyc", DAY)
    moved = simulate_city_day(renamed, "nyc", DAY)
    assert moved.event_ticker == "KXHIGHNYX-26JUN01"
    assert simulate_city_day(sim_config, "nyc", DAY).event_ticker == "KXHIGHNY-26JUN01"


def test_the_maker_is_calibrated_and_learns_through_the_day(sim_config):
    # Its belief is the true remaining path seen through noise of the size it assumes, so what it
    # calls 30 % happens about 30 % of the time (reliability by bin); and it knows more at 16:00 than
    # at 10:00 LST.
    days = [simulate_city_day(sim_config, "chi", date(2025, 4, 1) + timedelta(days=i)) for i in range(120)]
    p_winner = {}
    for hour in (10, 13, 16):
        p = np.array([d.belief[:, hour * 60] / d.belief[:, hour * 60].sum() for d in days])
        won = np.array([np.arange(len(d.markets)) == d.winner for d in days])
        for lo, hi in ((0.0, 0.2), (0.2, 0.6), (0.6, 1.01)):
            chosen = (p >= lo) & (p < hi)
            forecast, n = p[chosen].mean(), chosen.sum()
            # Within three standard errors of a binomial frequency.
            assert abs(forecast - won[chosen].mean()) < 3 * np.sqrt(forecast * (1 - forecast) / n), (hour, lo, hi)
        p_winner[hour] = float(p[won].mean())
    assert p_winner[10] < p_winner[13] < p_winner[16]
    # A martingale: where the belief stands now, it is expected to stand in two hours (no wobble
    # to trade back and forth against it).
    now = np.concatenate([d.belief[:, 600] for d in days])
    later = np.concatenate([d.belief[:, 720] for d in days])
    for lo, hi in ((0.05, 0.3), (0.3, 0.7), (0.7, 0.95)):
        chosen = (now >= lo) & (now < hi)
        moves = later[chosen] - now[chosen]
        assert abs(moves.mean()) < 3 * moves.std(ddof=1) / np.sqrt(chosen.sum()), (lo, hi)


def test_trading_starts_at_the_event_open_on_the_opening_quote(sim_config):
    day = simulate_city_day(sim_config, "chi", DAY)
    before = day.trade_us < day.start_ts * 1_000_000
    assert before.any() and day.trade_us[0] >= day.open_time.timestamp() * 1_000_000
    for j in np.flatnonzero(before):
        m = day.trade_market[j]
        assert day.trade_price[j] == (day.ask[m, 0] if day.trade_taker_yes[j] else day.bid[m, 0])
    assert day.mm_start_minute == 0 and np.all((day.bid[:, 0] != NO_BID) | (day.ask[:, 0] != NO_ASK))
