"""The live PMF for a minute is the backtest's PMF for that minute, computed from only what is known then."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

from kalshi_wx.core.backtest import backtest_inputs
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.live.signal import HazardDay, fused_pmf_at, hazard_day_frame
from kalshi_wx.core.payloads.forecasts import FORECAST_SCHEMA
from kalshi_wx.core.pmf.fusion import FusionSettings, day_market_pmf, fuse
from kalshi_wx.core.pmf.hazard import Ar1Params
from kalshi_wx.core.pmf.inputs import bracket_caps
from kalshi_wx.core.pmf.observation import MAX_EXCESS_F
from kalshi_wx.defs.resources import sim_config
from kalshi_wx.sources.sim.exchange import NO_ASK, NO_BID, simulate_city_day

FUSION = FusionSettings()
PARAMS = Ar1Params(phi=math.exp(-1 / 120), sigma_by_hour=np.full(24, 0.25), n_days=0, n_pairs=0)
MINUTES = (0, 1, 95, 300, 721, 1000, 1439)  # the first minute has no closed bar; 1439 is the last
PRICE = pl.Decimal(12, 6)
NO_TRADES = pl.DataFrame(schema={"ticker": pl.Utf8, "ts": pl.Datetime("us", "UTC"), "yes_price": PRICE})


@pytest.fixture(scope="module")
def sim():
    """A simulated New York day: 5-minute observations stamped 30 s into their minute, and its candles."""
    city_day = simulate_city_day(sim_config(), "nyc", date(2025, 8, 3))
    weather = city_day.weather
    window = climate_day_window(weather.climate_date, city_day.city.std_utc_offset_hours)
    issued = window[0] - timedelta(hours=6)
    forecast = pl.DataFrame(
        {
            "ts": [datetime.fromtimestamp(int(s), UTC) for s in weather.forecast_hour_epoch],
            "temp_f": weather.forecast_hourly,
        }
    ).with_columns(
        pl.col("ts").cast(pl.Datetime("us", "UTC")), pl.lit(issued).cast(pl.Datetime("us", "UTC")).alias("issued_at")
    )
    forecast = pl.concat([pl.DataFrame(schema=FORECAST_SCHEMA), forecast], how="diagonal_relaxed").select(
        FORECAST_SCHEMA.names()
    )
    day = HazardDay(
        ladder=[spec.bracket for spec in city_day.markets],
        forecast=forecast,
        params=PARAMS,
        excess=np.array([0.9, 0.06, 0.03, 0.01][: MAX_EXCESS_F + 1]),
        climatology=None,
        climate_date=weather.climate_date,
        std_offset=city_day.city.std_utc_offset_hours,
        n_paths=400,
        seed=11,
    )
    obs = pl.DataFrame(
        {
            "ts": [datetime.fromtimestamp(int(s) + 30, UTC) for s in weather.obs_epoch],
            "temp_f": weather.obs_temp,
            "station_ok": True,
            "resolution_min": 5,
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("us", "UTC")), pl.col("resolution_min").cast(pl.Int32))
    n, minutes = city_day.bid.shape
    cents = [Decimal(c).scaleb(-2) for c in range(101)]
    candles = pl.DataFrame(
        {
            "ticker": np.repeat([spec.ticker for spec in city_day.markets], minutes),
            "ts": [window[0] + timedelta(minutes=k) for _ in range(n) for k in range(minutes)],
            "yes_bid": [None if c == NO_BID else cents[c] for row in city_day.bid.tolist() for c in row],
            "yes_ask": [None if c == NO_ASK else cents[c] for row in city_day.ask.tolist() for c in row],
        },
        schema={"ticker": pl.Utf8, "ts": pl.Datetime("us", "UTC"), "yes_bid": PRICE, "yes_ask": PRICE},
    )
    return day, obs, candles


def backtest_fused(day: HazardDay, obs: pl.DataFrame, candles: pl.DataFrame) -> pl.DataFrame:
    """The assets' path: hazard_pmf over the whole day's observations, fused_pmf over the whole day's candles."""
    hazard = hazard_day_frame(day, obs)
    caps = bracket_caps(day.ladder)
    return fuse(hazard, day_market_pmf(candles, NO_TRADES, hazard, caps, FUSION), FUSION, caps)


def test_the_live_pmf_of_a_minute_equals_the_backtests_row_for_that_minute(sim):
    day, obs, candles = sim
    full = backtest_fused(day, obs, candles)
    signal = backtest_inputs(candles, candles.head(0).select("ticker", "ts", yes_price="yes_bid", count="yes_bid"),
                             full).signal  # fmt: skip
    with_market = 0
    for k in MINUTES:
        now = day.window[0] + timedelta(minutes=k)
        live = fused_pmf_at(now, day, obs, candles, NO_TRADES, FUSION)
        assert live.height == len(day.ladder)
        row = full.filter(pl.col("ts") == now)
        assert_frame_equal(live.drop("p_fused_norm"), row.drop("p_fused_norm"), check_exact=True)
        # The renormalising sum runs over 6 rows here and over the whole day's frame there: the two
        # may add in another order and differ in the last bit, never by more.
        assert_series_equal(live["p_fused_norm"], row["p_fused_norm"], check_exact=False, rel_tol=1e-12, abs_tol=0)
        read = signal.filter(pl.col("ts") == now).sort("ticker")["p_yes"]  # what the backtest engine is handed
        assert_series_equal(live["p_fused_norm"], read, check_names=False, check_exact=False, rel_tol=1e-12, abs_tol=0)
        with_market += live["p_mkt"].is_not_null().all()
    assert with_market >= 3  # the market side was fused, not only the weather side


def test_nothing_after_now_moves_the_live_pmf(sim):
    day, obs, candles = sim
    now = day.window[0] + timedelta(minutes=721)
    later_obs = pl.col("ts") >= now + timedelta(minutes=1)
    warmer = obs.with_columns(pl.when(later_obs).then(pl.col("temp_f") + 9).otherwise("temp_f").alias("temp_f"))
    wider = candles.with_columns(
        pl.when(pl.col("ts") >= now).then(None).otherwise("yes_bid").alias("yes_bid"),
    )
    base = fused_pmf_at(now, day, obs, candles, NO_TRADES, FUSION)
    assert_frame_equal(base, fused_pmf_at(now, day, warmer, wider, NO_TRADES, FUSION), check_exact=True)
    cut = fused_pmf_at(now, day, obs.filter(~later_obs), candles.filter(pl.col("ts") < now), NO_TRADES, FUSION)
    assert_frame_equal(base, cut, check_exact=True)
    # ... while what is known at now does move it.
    moved = fused_pmf_at(now, day, obs.with_columns(pl.col("temp_f") + 9), candles, NO_TRADES, FUSION)
    assert base["p_wx"].to_list() != moved["p_wx"].to_list()


@pytest.mark.parametrize("offset", [timedelta(seconds=30), timedelta(days=1), timedelta(minutes=-1)])
def test_a_time_that_is_not_a_minute_of_the_day_is_refused(sim, offset):
    day, obs, candles = sim
    with pytest.raises(ValueError, match="is not a whole minute of the climate day"):
        fused_pmf_at(day.window[0] + offset, day, obs, candles, NO_TRADES, FUSION)
