"""Simulated crypto series (KXBTC15M by default): a BTC index path, window markets settling on it, a maker.

Facts followed (reference/kalshi_api.md s10): tickers are ``<SERIES>-YYMONDDHHMM-MM`` with HHMM the
window's *close* in America/New_York and MM its minute; one market per 15-minute window on
:00/:15/:30/:45 (about 96 a day); settlement on a 60-second average of the index (CF Benchmarks'
BRTI on Kalshi). The simulator's rule: ``floor_strike`` is the 60-second average before the window
opens, rounded to the cent, and the market settles YES when the 60-second average before the close
is above it (``strike_type`` ``greater``). A ``CryptoSeries`` with ``strikes`` > 1 lists a strike
ladder per window instead (``-T<strike>`` tickers, as Kalshi's hourly KXBTCD).

The index is a log-price random walk with a per-second path for any UTC day since 2025-01-01:
daily levels are a seeded walk, and each day is a Brownian bridge between its two levels, so the
path is continuous across midnight and any second can be computed without the days before it.
The maker quotes 1-3 cents around its fair probability P(final average > strike | index now).
Everything is a function of the seed and the clock.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from kalshi_wx.core.seeds import stable_seed
from kalshi_wx.sources.sim.common import (
    CryptoSeries,
    SimConfig,
    centi_to_count,
    cents_to_dollars,
    iso_z,
    stable_rng,
)

EPOCH = date(2025, 1, 1)
_MAX_DAYS = 4000  # the index exists from EPOCH for about 11 years
_SECONDS_PER_DAY = 86_400
_SECONDS_PER_YEAR = 365 * _SECONDS_PER_DAY
_AVERAGE_S = 60  # the settlement value is a 60-second average
SETTLEMENT_DELAY = timedelta(minutes=1)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_EASTERN = ZoneInfo("America/New_York")
_EVENT_RE = re.compile(r"^(?P<yy>\d{2})(?P<mon>[A-Z]{3})(?P<dd>\d{2})(?P<hh>\d{2})(?P<mm>\d{2})?$")
NO_BID, NO_ASK = 0, 100


class UnknownCryptoTicker(LookupError):
    """A crypto event or market ticker that the simulator does not list."""


@lru_cache(maxsize=16)
def _daily_levels(seed: int, series: CryptoSeries) -> np.ndarray:
    """Log index at 00:00Z of each day from EPOCH."""
    daily_sd = series.annual_vol / math.sqrt(365.0)
    steps = stable_rng(seed, series.ticker, "daily").normal(0.0, daily_sd, _MAX_DAYS)
    return math.log(series.start_price) + np.concatenate([[0.0], np.cumsum(steps)])


@lru_cache(maxsize=8)
def _day_path(seed: int, series: CryptoSeries, day: date) -> np.ndarray:
    """Log index at every second of ``day`` (86,401 points: both midnights), a bridge between the levels."""
    n = (day - EPOCH).days
    if not 0 <= n < _MAX_DAYS:
        raise ValueError(f"{series.ticker}: the simulated index covers {EPOCH} + {_MAX_DAYS} days, not {day}")
    levels = _daily_levels(seed, series)
    second_sd = series.annual_vol / math.sqrt(_SECONDS_PER_YEAR)
    walk = np.concatenate(
        [[0.0], np.cumsum(stable_rng(seed, series.ticker, day.isoformat()).normal(0, second_sd, _SECONDS_PER_DAY))]
    )
    share = np.arange(_SECONDS_PER_DAY + 1) / _SECONDS_PER_DAY
    return levels[n] + share * (levels[n + 1] - levels[n]) + walk - share * walk[-1]


def index_at(seed: int, series: CryptoSeries, ts: float) -> float:
    """The index at epoch second ``ts`` (floored to the second)."""
    second = int(math.floor(ts))
    day = datetime.fromtimestamp(second, UTC).date()
    return float(math.exp(_day_path(seed, series, day)[second % _SECONDS_PER_DAY]))


def average_before(seed: int, series: CryptoSeries, ts: int) -> float:
    """The 60-second average of the index over the seconds [ts - 60, ts)."""
    return sum(index_at(seed, series, s) for s in range(ts - _AVERAGE_S, ts)) / _AVERAGE_S


@dataclass(frozen=True)
class CryptoMarket:
    series: CryptoSeries
    ticker: str
    event_ticker: str
    open_time: datetime
    close_time: datetime
    floor_strike: float

    @property
    def open_ts(self) -> int:
        return int(self.open_time.timestamp())

    @property
    def close_ts(self) -> int:
        return int(self.close_time.timestamp())

    @property
    def settlement_ts(self) -> datetime:
        return self.close_time + SETTLEMENT_DELAY

    def status(self, now: datetime) -> str:
        if now < self.open_time:
            return "initialized"
        if now < self.close_time:
            return "active"
        if now < self.settlement_ts:
            return "closed"
        return "finalized"


def _event_ticker(series: CryptoSeries, close: datetime) -> str:
    local = close.astimezone(_EASTERN)
    stamp = f"{local:%y}{_MONTHS[local.month - 1]}{local:%d}{local:%H}"
    return f"{series.ticker}-{stamp}" if series.window_minutes % 60 == 0 else f"{series.ticker}-{stamp}{local:%M}"


@lru_cache(maxsize=4096)
def _window(seed: int, series: CryptoSeries, open_ts: int) -> tuple[CryptoMarket, ...]:
    """The markets of the window opening at ``open_ts``: one, or the strike ladder, lowest strike first."""
    open_time = datetime.fromtimestamp(open_ts, UTC)
    close_time = open_time + timedelta(minutes=series.window_minutes)
    event = _event_ticker(series, close_time)
    opening = average_before(seed, series, open_ts)
    if series.strikes == 1:
        suffix = f"{close_time.astimezone(_EASTERN):%M}"
        return (CryptoMarket(series, f"{event}-{suffix}", event, open_time, close_time, round(opening, 2)),)
    step = max(10.0, round(opening * series.strike_step / 10.0) * 10.0)
    centre = round(opening / step) * step
    strikes = [centre + (j - series.strikes // 2) * step for j in range(series.strikes)]
    return tuple(
        CryptoMarket(series, f"{event}-T{strike:.0f}", event, open_time, close_time, strike) for strike in strikes
    )


def _window_open(series: CryptoSeries, ts: float) -> int:
    width = series.window_minutes * 60
    return int(math.floor(ts / width) * width)


def listed_markets(config: SimConfig, series: CryptoSeries, now: datetime | None = None) -> list[CryptoMarket]:
    """Markets listed at ``now`` (default ``config.now``): the open window and those of the last
    ``history_hours``; newest window first."""
    now = now or config.now
    width = series.window_minutes * 60
    current = _window_open(series, now.timestamp())
    count = series.history_hours * 3600 // width + 1
    return [m for k in range(count) for m in _window(config.seed, series, current - k * width)]


def open_markets(config: SimConfig, series: CryptoSeries, now_ts: float) -> tuple[CryptoMarket, ...]:
    """The markets trading at ``now_ts`` (the window that contains it)."""
    return _window(config.seed, series, _window_open(series, now_ts))


def find_market(config: SimConfig, ticker: str) -> CryptoMarket:
    """The listed market ``ticker`` at ``config.now``; ``UnknownCryptoTicker`` otherwise."""
    event, _, _ = ticker.rpartition("-")
    for market in find_event(config, event):
        if market.ticker == ticker:
            return market
    raise UnknownCryptoTicker(f"market {ticker!r} is not in event {event!r}")


def find_event(config: SimConfig, event_ticker: str) -> tuple[CryptoMarket, ...]:
    series_ticker, _, stamp = event_ticker.partition("-")
    series = config.crypto_series(series_ticker)
    match = _EVENT_RE.match(stamp)
    if series is None or not match or match["mon"] not in _MONTHS:
        raise UnknownCryptoTicker(f"{event_ticker!r} is not a simulated crypto event")
    hourly = series.window_minutes % 60 == 0
    if hourly != (match["mm"] is None):
        raise UnknownCryptoTicker(f"{event_ticker!r} does not follow the {series.ticker} ticker format")
    try:
        local = datetime(
            2000 + int(match["yy"]),
            _MONTHS.index(match["mon"]) + 1,
            int(match["dd"]),
            int(match["hh"]),
            int(match["mm"] or 0),
            tzinfo=_EASTERN,
        )
    except ValueError:
        raise UnknownCryptoTicker(f"{event_ticker!r} names no time") from None
    close = local.astimezone(UTC)
    open_ts = int(close.timestamp()) - series.window_minutes * 60
    if open_ts % (series.window_minutes * 60) or close > config.now + timedelta(minutes=series.window_minutes):
        raise UnknownCryptoTicker(f"{event_ticker!r} is not a listed window at {iso_z(config.now)}")
    markets = _window(config.seed, series, open_ts)
    if markets[0].open_time > config.now:
        raise UnknownCryptoTicker(f"{event_ticker!r} opens at {iso_z(markets[0].open_time)}, after {iso_z(config.now)}")
    return markets


# --- the market maker ------------------------------------------------------------------------------------


def result(seed: int, market: CryptoMarket) -> str:
    """``yes`` when the 60-second average before the close is above the strike."""
    return "yes" if average_before(seed, market.series, market.close_ts) > market.floor_strike else "no"


def fair_probability(seed: int, market: CryptoMarket, ts: float) -> float:
    """P(settles YES | index at ts): a lognormal move over the time left, the last minute averaged."""
    if ts >= market.close_ts:
        return 1.0 if result(seed, market) == "yes" else 0.0
    left = market.close_ts - ts
    # The final value averages the last minute, which carries about a third of a minute's variance.
    effective = max(left - _AVERAGE_S, 0.0) + min(left, _AVERAGE_S) / 3.0
    sd = market.series.annual_vol * math.sqrt(effective / _SECONDS_PER_YEAR)
    z = math.log(index_at(seed, market.series, ts) / market.floor_strike) / sd
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def touch_cents(seed: int, market: CryptoMarket, ts: float) -> tuple[int, int]:
    """The maker's (bid, ask) in cents at ``ts``; NO_BID / NO_ASK for an empty side, both outside trading."""
    if not market.open_ts <= ts < market.close_ts:
        return NO_BID, NO_ASK
    spread = random.Random(stable_seed(seed, market.ticker, int(ts // 60), "spread")).choice((1, 2, 2, 3))
    bid = math.floor(100.0 * fair_probability(seed, market, ts) - spread / 2.0 + 0.5)
    ask = bid + spread
    return (bid if 1 <= bid <= 99 else NO_BID), (ask if 1 <= ask <= 99 else NO_ASK)


def touch_sizes(seed: int, market: CryptoMarket, ts: float) -> tuple[int, int]:
    """Resting contracts (hundredths) at the maker's bid and ask in the minute of ``ts``."""
    rng = random.Random(stable_seed(seed, market.ticker, int(ts // 60), "size"))
    return 100 * rng.randint(5, 400), 100 * rng.randint(5, 400)


# --- REST payloads ------------------------------------------------------------------------------------


def series_payload(series: CryptoSeries) -> dict[str, Any]:
    return {
        "ticker": series.ticker,
        "frequency": "fifteen_min" if series.window_minutes == 15 else f"{series.window_minutes}_min",
        "title": "Bitcoin price up or down (simulated)",
        "category": "Crypto",
        "tags": ["BTC"],
        "settlement_sources": [{"name": "CF Benchmarks (simulated index)", "url": "https://www.cfbenchmarks.com/"}],
        "contract_url": "",
        "contract_terms_url": "",
        "product_metadata": {},
        "fee_type": "quadratic",
        "fee_multiplier": 1.0,
        "additional_prohibitions": [],
    }


def market_payload(config: SimConfig, market: CryptoMarket) -> dict[str, Any]:
    """The ``Market`` object as ``GET /markets`` shows it at ``config.now``."""
    now = config.now
    status = market.status(now)
    seen = min(now.timestamp(), market.close_ts - 1)
    bid, ask = touch_cents(config.seed, market, seen)
    bid_size, ask_size = touch_sizes(config.seed, market, seen)
    finalized = status == "finalized"
    outcome = result(config.seed, market) if finalized else ""
    strike = f"{market.floor_strike:,.2f}"
    body: dict[str, Any] = {
        "can_close_early": False,
        "close_time": iso_z(market.close_time),
        "created_time": iso_z(market.open_time - timedelta(minutes=5)),
        "event_ticker": market.event_ticker,
        "expected_expiration_time": iso_z(market.settlement_ts),
        "expiration_time": iso_z(market.close_time + timedelta(days=7)),
        "expiration_value": f"{average_before(config.seed, market.series, market.close_ts):.2f}" if finalized else "",
        "floor_strike": market.floor_strike,
        "fractional_trading_enabled": False,
        "last_price_dollars": "0.0000",
        "latest_expiration_time": iso_z(market.close_time + timedelta(days=7)),
        "market_type": "binary",
        "no_ask_dollars": cents_to_dollars(100 - bid),
        "no_bid_dollars": cents_to_dollars(100 - ask),
        "no_sub_title": f"Below ${strike}",
        "notional_value_dollars": "1.0000",
        "open_interest_fp": "0.00",
        "open_time": iso_z(market.open_time),
        "price_level_structure": "linear_cent",
        "price_ranges": [{"end": "1.0000", "start": "0.0000", "step": "0.0100"}],
        "result": outcome,
        "rules_primary": (
            f"If the simple average of the sixty seconds of the simulated BTC index before "
            f"{iso_z(market.close_time)} is above ${strike}, then the market resolves to Yes."
        ),
        "status": status,
        "strike_type": "greater",
        "subtitle": f"${strike} or above",
        "ticker": market.ticker,
        "title": f"BTC price above ${strike} at {iso_z(market.close_time)}?",
        "updated_time": iso_z(min(now, market.settlement_ts)),
        "volume_24h_fp": "0.00",
        "volume_fp": "0.00",
        "yes_ask_dollars": cents_to_dollars(ask),
        "yes_ask_size_fp": centi_to_count(ask_size if ask != NO_ASK else 0),
        "yes_bid_dollars": cents_to_dollars(bid),
        "yes_bid_size_fp": centi_to_count(bid_size if bid != NO_BID else 0),
        "yes_sub_title": f"${strike} or above",
    }
    if finalized:
        body["settlement_value_dollars"] = "1.0000" if outcome == "yes" else "0.0000"
        body["settlement_ts"] = iso_z(market.settlement_ts)
    return body


def event_payload(config: SimConfig, markets: tuple[CryptoMarket, ...], *, nested: bool) -> dict[str, Any]:
    first = markets[0]
    event: dict[str, Any] = {
        "event_ticker": first.event_ticker,
        "series_ticker": first.series.ticker,
        "sub_title": f"Closes {iso_z(first.close_time)}",
        "title": f"BTC price at {iso_z(first.close_time)}?",
        "collateral_return_type": "" if len(markets) == 1 else "MECNET",
        "mutually_exclusive": False,
        "category": "Crypto",
        "strike_date": iso_z(first.close_time),
        "strike_period": "",
        "settlement_sources": series_payload(first.series)["settlement_sources"],
        "product_metadata": {},
    }
    if nested:
        event["markets"] = [market_payload(config, m) for m in markets]
    return event
