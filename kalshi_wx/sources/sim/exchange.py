"""The simulated exchange: one six-market event per city and climate day, a market maker, takers.

Everything here is the ground truth of a day, independent of the simulator clock; the wire layer
(``kalshi_wire``) cuts it at ``SimConfig.now``. Minute ``k`` of a day is the bar
``[start + k min, start + (k+1) min)``. Quote ``k`` is posted at ``quote_us[k]`` microseconds into
that minute, so trades earlier in the minute hit quote ``k - 1``; a bar's quote OHLC therefore
opens at quote ``k - 1`` and closes at quote ``k``. Trading stops at ``close_time`` (the start of
the day's last minute), so the last bar never changes.

The market maker is at least as well informed as our weather model: its belief in a bracket at
minute k is P(rounded CLI max in bracket) with the day's max = max(M, X): M ~ N(m, ``running_max_sd_f``)
around the true 1-minute running max m (traders read the station's 1-minute and hourly reports,
not only the 5-minute values our weather feed serves), and X ~ N(F + e_k, s_k), F the true maximum
of the rest of the day's 1-minute path and e_k ~ N(0, s_k) an AR(1) error in time. The belief is calibrated by
construction; ``SimMarket.belief_sd_f`` sizes s_k so that the market's Brier score at each time of
day matches the real KXHIGHCHI market's. Spreads, flow, sizes and the trading before the climate
day (from the event's open) are drawn from the distributions ``SimMarket`` carries; their real
counterparts are measured by ``core.market_stats``.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from kalshi_wx.core.brackets import Bracket, bracket_from_strikes, validate_ladder, winning_bracket
from kalshi_wx.core.cities import City
from kalshi_wx.sources.sim.common import SimConfig, SimMarket, norm_cdf, stable_rng
from kalshi_wx.sources.sim.weather import (
    MINUTES_PER_DAY,
    OBS_INTERVAL_MINUTES,
    WeatherDay,
    climatology,
    simulate_weather,
)

NO_BID = 0  # cents: an empty YES bid side renders as "0.0000"
NO_ASK = 100  # cents: an empty YES ask side renders as "1.0000"

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_EASTERN = ZoneInfo("America/New_York")

_FORECAST_MISS_EFOLD_MINUTES = 180.0
# 5-minute values under-read the 1-minute extreme (and travel as whole °C): the running maximum they
# show is this far below the true one, give or take _OBS_RUNNING_SD_F.
_OBS_UNDER_READ_F = 0.3
_OBS_RUNNING_SD_F = 0.6
_FUTURE_GRID_MINUTES = 10
_EVENT_OPEN_BEFORE_DAY = timedelta(hours=15)  # 09:00 LST the day before (10:00 ET in summer)
_OPENING_SHARE = 0.7  # share of trades that open new interest rather than close it


@dataclass(frozen=True)
class MarketSpec:
    ticker: str
    strike_type: str  # less | between | greater
    floor_strike: int | None
    cap_strike: int | None
    bracket: Bracket


def event_ticker(series: str, climate_date: date) -> str:
    """``KXHIGHNY-26JUN01``: the date part never depends on the process locale."""
    return f"{series}-{climate_date:%y}{_MONTHS[climate_date.month - 1]}{climate_date:%d}"


_EVENT_RE = re.compile(r"^(?P<series>[A-Z0-9]+)-(?P<yy>\d{2})(?P<mon>[A-Z]{3})(?P<dd>\d{2})$")


class UnknownTicker(LookupError):
    """A series, event or market ticker the simulator does not list."""


def parse_event_ticker(config: SimConfig, ticker: str) -> tuple[City, date]:
    match = _EVENT_RE.match(ticker)
    if not match or match["mon"] not in _MONTHS:
        raise UnknownTicker(f"{ticker!r} is not an event ticker like KXHIGHNY-26JUN01")
    city = city_for_series(config, match["series"])
    try:
        day = date(2000 + int(match["yy"]), _MONTHS.index(match["mon"]) + 1, int(match["dd"]))
    except ValueError:
        raise UnknownTicker(f"{ticker!r} names no calendar date") from None
    return city, day


def city_for_series(config: SimConfig, series: str) -> City:
    for city in config.cities:
        if city.series == series:
            return city
    raise UnknownTicker(f"series {series!r} is not simulated; known: {', '.join(c.series for c in config.cities)}")


def build_ladder(series: str, climate_date: date, forecast_high: float) -> tuple[MarketSpec, ...]:
    """Two tails and four 2-degree brackets centred on the forecast, low to high.

    The middle edge sits at the half degree nearest the forecast: 73.4 -> 70-71, 72-73, 74-75,
    76-77, "69° or below" (less, cap 70) and "78° or above" (greater, floor 77).
    """
    event = event_ticker(series, climate_date)
    r = math.floor(forecast_high)
    strikes: list[tuple[str, str, int | None, int | None]] = [(f"{event}-T{r - 3}", "less", None, r - 3)]
    strikes += [(f"{event}-B{lo}.5", "between", lo, lo + 1) for lo in (r - 3, r - 1, r + 1, r + 3)]
    strikes.append((f"{event}-T{r + 4}", "greater", r + 4, None))
    specs = [
        MarketSpec(ticker, kind, floor, cap, bracket_from_strikes(ticker, kind, floor, cap, source="sim"))
        for ticker, kind, floor, cap in strikes
    ]
    validate_ladder([s.bracket for s in specs], event=event)
    return tuple(specs)


@dataclass(frozen=True, eq=False)
class CityDay:
    """One event's ground truth: the weather, the ladder, every quote and every trade.

    Quote and size arrays are (markets, 1440) by minute; trade arrays are in time order.
    Prices are whole cents (the markets are linear_cent), counts hundredths of a contract.
    """

    seed: int
    city: City
    weather: WeatherDay
    event_ticker: str
    markets: tuple[MarketSpec, ...]
    winner: int  # index of the market the CLI max settles YES
    created_time: datetime
    open_time: datetime
    close_time: datetime
    settlement_ts: datetime
    mm_start_minute: int
    belief: np.ndarray  # float, the maker's probability
    bid: np.ndarray  # int16 cents, NO_BID when the side is empty
    ask: np.ndarray  # int16 cents, NO_ASK when the side is empty
    bid_size: np.ndarray  # int64 centi-contracts at the touch
    ask_size: np.ndarray
    quote_us: np.ndarray  # (1440,) when in its minute quote k is posted
    volume: np.ndarray  # int64 centi-contracts traded in each minute
    open_interest: np.ndarray  # int64 centi-contracts at each minute's end
    trade_us: np.ndarray  # epoch microseconds
    trade_market: np.ndarray
    trade_price: np.ndarray  # YES price, cents
    trade_count: np.ndarray  # centi-contracts
    trade_taker_yes: np.ndarray
    trade_uuid: np.ndarray  # (n, 16) uint8

    @property
    def climate_date(self) -> date:
        return self.weather.climate_date

    @property
    def start(self) -> datetime:
        return self.weather.start

    @property
    def end(self) -> datetime:
        return self.weather.end

    @property
    def start_ts(self) -> int:
        return int(self.weather.start.timestamp())

    @property
    def cli_max_f(self) -> int:
        return self.weather.cli_max_f

    def index_of(self, ticker: str) -> int:
        for i, spec in enumerate(self.markets):
            if spec.ticker == ticker:
                return i
        raise UnknownTicker(f"market {ticker!r} is not in event {self.event_ticker}")

    def status(self, now: datetime) -> str:
        """The market status (response enum) at ``now``; the day must have started by then."""
        if now < self.close_time:
            return "active"
        if now < self.settlement_ts:
            return "closed"
        return "finalized"

    def is_historical(self, config: SimConfig) -> bool:
        """Settled before the cutoff, so served only under ``/historical``."""
        return self.settlement_ts <= config.now and self.settlement_ts < config.historical_cutoff

    def bars_done(self, ts: datetime) -> int:
        """How many of the day's minute bars have ended by ``ts``."""
        return int(min(max((ts - self.start).total_seconds() // 60, 0), MINUTES_PER_DAY))

    def trade_slice(self, until_us: int) -> slice:
        """Trades stamped at or before ``until_us``."""
        return slice(0, int(np.searchsorted(self.trade_us, until_us, side="right")))

    def trade_id(self, i: int) -> str:
        return str(uuid.UUID(bytes=self.trade_uuid[i].tobytes()))

    def trades_of(self, market: int) -> np.ndarray:
        return np.flatnonzero(self.trade_market == market)


def _public_future_max(weather: WeatherDay, forecast_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """What the forecast and the 5-minute observations alone say of the rest of the day's maximum.

    Mean: the forecast curve ahead, shifted by the current forecast miss, which decays with a
    3-hour e-fold; sd: from the forecast's error down to 0.5 °F past the forecast peak.
    """
    fc = weather.forecast_minute_temp
    k = np.arange(MINUTES_PER_DAY)
    last_obs = k // OBS_INTERVAL_MINUTES  # the 5-minute stamp at or before minute k
    miss = weather.obs_temp[last_obs] - fc[last_obs * OBS_INTERVAL_MINUTES]
    grid = np.arange(0, MINUTES_PER_DAY, _FUTURE_GRID_MINUTES)
    lag = grid[None, :] - k[:, None]
    decay = np.exp(-np.clip(lag, 0, None) / _FORECAST_MISS_EFOLD_MINUTES)
    ahead = np.where(lag > 0, fc[grid][None, :] + miss[:, None] * decay, -np.inf).max(axis=1)
    ahead = np.where(np.isfinite(ahead), ahead, fc.min() - 50.0)  # nothing left to warm up
    peak = int(np.argmax(fc))
    left = np.clip((peak + 90 - k) / (peak + 90), 0.0, 1.0)
    return ahead, 0.5 + forecast_sd * np.sqrt(left)


def _combine(
    private: np.ndarray, private_sd: float | np.ndarray, public: np.ndarray, public_sd: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The precision-weighted mean and sd of two independent normal estimates."""
    w_private, w_public = 1.0 / np.square(private_sd), 1.0 / np.square(public_sd)
    mean = (private * w_private + public * w_public) / (w_private + w_public)
    return mean, np.broadcast_to(1.0 / np.sqrt(w_private + w_public), mean.shape)


def _belief(
    weather: WeatherDay,
    markets: tuple[MarketSpec, ...],
    market: SimMarket,
    forecast_sd: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """P(bracket) per market and minute: public information and a private view of the true path (module docstring)."""
    k = np.arange(MINUTES_PER_DAY)
    # Every view is a normal around the truth with the sd the maker assumes, so its belief is
    # calibrated; each private view is combined with the public one (precision-weighted), so the
    # maker knows everything our weather model can know, and more. The private errors are those of
    # information that accumulates (a Brownian motion in information time 1 / sd^2), never of
    # noise that comes and goes: the maker's belief is then a martingale, as a real market's price
    # is, and nobody can trade its wobbles back and forth against it.
    # The running maximum so far: the station's 1-minute readings (private) and the 5-minute ones.
    obs_running = np.maximum.accumulate(weather.obs_temp)[k // OBS_INTERVAL_MINUTES] + _OBS_UNDER_READ_F
    running_private = np.maximum.accumulate(weather.minute_temp) + rng.normal(0.0, market.running_max_sd_f)
    running, running_sd = _combine(running_private, market.running_max_sd_f, obs_running, _OBS_RUNNING_SD_F)
    # The day's maximum: the true one seen through accumulating information, and the forecast's
    # view of the rest of the day.
    sd = np.interp(k / 60.0, market.belief_sd_hours, market.belief_sd_f)
    information = 1.0 / sd**2
    brownian = np.cumsum(rng.normal(0.0, np.sqrt(np.diff(information, prepend=0.0))))
    private = weather.minute_temp.max() + brownian / information
    public, public_sd = _public_future_max(weather, forecast_sd)
    estimate, sd = _combine(private, sd, public, public_sd)

    def cdf(edge: float) -> np.ndarray:
        # P(max(M, X) < edge) for independent M and X; callers pass whole degree + 0.5 because the
        # CLI rounds half up.
        return norm_cdf((edge - running) / running_sd) * norm_cdf((edge - estimate) / sd)

    probs = np.empty((len(markets), MINUTES_PER_DAY))
    for i, spec in enumerate(markets):
        upper = np.ones(MINUTES_PER_DAY) if spec.bracket.hi is None else cdf(spec.bracket.hi + 0.5)
        lower = np.zeros(MINUTES_PER_DAY) if spec.bracket.lo is None else cdf(spec.bracket.lo - 0.5)
        probs[i] = np.clip(upper - lower, 0.0, 1.0)
    return probs


def _spreads(belief: np.ndarray, market: SimMarket, rng: np.random.Generator) -> np.ndarray:
    """Spread in whole cents per market and minute, set once an hour from that hour's belief."""
    hours = MINUTES_PER_DAY // 60
    p = belief[:, ::60]
    block = np.searchsorted(np.array(market.hour_blocks), np.arange(hours), side="right") - 1
    scale = np.array(market.spread_scale_cents)[block][None, :]
    noise = rng.lognormal(0.0, market.spread_noise_sd, p.shape)
    hourly = np.maximum(1, np.round(1.0 + scale * (market.spread_floor + 4.0 * p * (1.0 - p)) * noise))
    return np.repeat(hourly.astype(np.int64), 60, axis=1)


def _posted_mids(mid: np.ndarray, spread: np.ndarray, start: int, requote_cents: float) -> np.ndarray:
    """The mid the maker has posted at each minute: it requotes only on a move of a cent or more
    (or a new spread), which is what leaves quiet minutes without a candle."""
    posted = np.full(mid.shape, np.nan)
    mids, spreads = mid.tolist(), spread.tolist()
    last_minute = MINUTES_PER_DAY - 1  # trading has closed in the day's last minute
    for i in range(mid.shape[0]):
        row, srow = mids[i], spreads[i]
        current, current_spread = row[start], srow[start]
        out = [math.nan] * start
        for k in range(start, last_minute):
            if abs(row[k] - current) >= requote_cents or srow[k] != current_spread:
                current, current_spread = row[k], srow[k]
            out.append(current)
        out.append(current)
        posted[i] = out
    return posted


def _forward_fill(values: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """Per row, the value at the most recent minute where ``changed`` was true."""
    idx = np.where(changed, np.arange(values.shape[1])[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    return np.take_along_axis(values, idx, axis=1)


def _trade_counts(rng: np.random.Generator, market: SimMarket, n: int) -> np.ndarray:
    """Taker sizes in centi-contracts: log-normal whole contracts, some with a fraction."""
    count = np.maximum(1, np.round(rng.lognormal(math.log(market.trade_size_median), market.trade_size_sigma, n)))
    return count.astype(np.int64) * 100 + np.where(rng.random(n) < 0.15, rng.integers(1, 100, n), 0)


def _sizes(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Resting size in centi-contracts: mostly whole contracts, heavy-tailed."""
    return np.maximum(1, np.round(rng.lognormal(4.0, 1.2, shape))).astype(np.int64) * 100


def _readonly(**arrays: np.ndarray) -> dict[str, np.ndarray]:
    for array in arrays.values():
        array.setflags(write=False)
    return arrays


def settlement_time(climate_date: date, rng: np.random.Generator) -> datetime:
    """Kalshi settles at the first 7:00 AM ET after the final CLI, plus a few minutes of processing."""
    morning = datetime.combine(climate_date + timedelta(days=1), time(7, 0), _EASTERN).astimezone(UTC)
    return morning + timedelta(seconds=int(rng.integers(60, 600)))


def _taker_sides(
    rng: np.random.Generator, touch_bid: np.ndarray, touch_ask: np.ndarray, ahead: np.ndarray, information: float
) -> np.ndarray:
    """Takers lean towards where the maker's belief will be (``ahead``); none can hit an empty side."""
    mid = (np.where(touch_bid == NO_BID, 0, touch_bid) + np.where(touch_ask == NO_ASK, 100, touch_ask)) / 200.0
    taker_yes = rng.random(touch_bid.size) < norm_cdf((ahead - mid) / information)
    return np.where(touch_ask == NO_ASK, False, np.where(touch_bid == NO_BID, True, taker_yes))


@lru_cache(maxsize=512)
def _simulate(seed: int, city: City, climate_date: date, market: SimMarket) -> CityDay:
    weather = simulate_weather(seed, city, climate_date)
    rng = stable_rng(seed, city.key, climate_date.isoformat(), "exchange")
    markets = build_ladder(city.series, climate_date, weather.forecast_high)
    n = len(markets)
    ladder = [spec.bracket for spec in markets]
    winner = ladder.index(winning_bracket(ladder, weather.cli_max_f))

    belief = _belief(weather, markets, market, climatology(city.key).forecast_sd, rng)
    start_minute = 0  # the event is open, and quoted, from before the climate day starts
    spread = _spreads(belief, market, rng)
    posted = _posted_mids(belief * 100.0, spread, start_minute, market.requote_cents)
    quoting = ~np.isnan(posted)
    raw_bid = np.floor(np.nan_to_num(posted) - spread / 2.0 + 0.5).astype(np.int64)
    raw_ask = raw_bid + spread
    bid = np.where(quoting & (raw_bid >= 1), np.minimum(raw_bid, 99), NO_BID)
    ask = np.where(quoting & (raw_ask <= 99), np.maximum(raw_ask, 1), NO_ASK)
    prev_bid = np.concatenate([np.full((n, 1), NO_BID), bid[:, :-1]], axis=1)
    prev_ask = np.concatenate([np.full((n, 1), NO_ASK), ask[:, :-1]], axis=1)
    requoted = (bid != prev_bid) | (ask != prev_ask)
    bid_size = np.where(bid != NO_BID, _forward_fill(_sizes(rng, bid.shape), requoted), 0)
    ask_size = np.where(ask != NO_ASK, _forward_fill(_sizes(rng, ask.shape), requoted), 0)
    quote_us = rng.integers(1, 60_000_000, MINUTES_PER_DAY)

    # Takers: Poisson arrivals at each block of hours' rate, shared out towards the uncertain brackets.
    k = np.arange(MINUTES_PER_DAY)
    block = np.searchsorted(np.array(market.hour_blocks), k // 60, side="right") - 1
    uncertain = 0.15 + 3.0 * belief * (1.0 - belief)
    rate = np.array(market.trade_rate)[block][None, :] * uncertain / uncertain.mean(axis=0, keepdims=True)
    rate[:, : start_minute + 1] = 0.0
    rate[:, -1] = 0.0
    arrivals = rng.poisson(rate)
    market_of, minute_of = np.nonzero(arrivals)
    repeats = arrivals[market_of, minute_of]
    market_of, minute_of = np.repeat(market_of, repeats), np.repeat(minute_of, repeats)
    offset_us = rng.integers(0, 60_000_000, market_of.size)
    before_requote = offset_us < quote_us[minute_of]
    touch_bid = np.where(before_requote, prev_bid[market_of, minute_of], bid[market_of, minute_of])
    touch_ask = np.where(before_requote, prev_ask[market_of, minute_of], ask[market_of, minute_of])

    # Before the climate day (from the event's open) takers meet the maker's opening quotes.
    open_time = weather.start - _EVENT_OPEN_BEFORE_DAY
    open_us = int(_EVENT_OPEN_BEFORE_DAY.total_seconds() * 1_000_000)
    pre_rate = market.pre_day_trade_rate * open_us / 60_000_000 * (0.15 + 3.0 * belief[:, 0] * (1.0 - belief[:, 0]))
    pre_market = np.repeat(np.arange(n), rng.poisson(pre_rate))
    pre_offset = rng.integers(0, open_us, pre_market.size)
    market_of = np.r_[market_of, pre_market]
    minute_of = np.r_[minute_of, (pre_offset - open_us) // 60_000_000]
    offset_us = np.r_[offset_us, pre_offset % 60_000_000]
    touch_bid = np.r_[touch_bid, bid[pre_market, 0]]
    touch_ask = np.r_[touch_ask, ask[pre_market, 0]]

    horizon = np.minimum(np.maximum(minute_of, 0) + market.taker_horizon_minutes, MINUTES_PER_DAY - 1)
    taker_yes = _taker_sides(rng, touch_bid, touch_ask, belief[market_of, horizon], market.taker_information)
    count = _trade_counts(rng, market, market_of.size)
    opening = rng.random(market_of.size) < _OPENING_SHARE
    uuids = rng.integers(0, 256, (market_of.size, 16), dtype=np.uint8)
    uuids[:, 6] = (uuids[:, 6] & 0x0F) | 0x40  # RFC 4122 version 4 layout, as Kalshi's ids have
    uuids[:, 8] = (uuids[:, 8] & 0x3F) | 0x80

    fillable = (touch_ask != NO_ASK) | (touch_bid != NO_BID)
    trade_us = (weather.start.timestamp() * 1_000_000 + minute_of * 60_000_000 + offset_us).astype(np.int64)
    order = np.argsort(trade_us[fillable], kind="stable")
    pick = np.flatnonzero(fillable)[order]
    t_market, t_minute, t_count = market_of[pick], minute_of[pick], count[pick]
    t_yes = taker_yes[pick]
    t_price = np.where(t_yes, touch_ask[pick], touch_bid[pick])
    in_day = t_minute >= 0

    volume = np.zeros((n, MINUTES_PER_DAY), dtype=np.int64)
    np.add.at(volume, (t_market[in_day], t_minute[in_day]), t_count[in_day])
    open_interest = np.zeros((n, MINUTES_PER_DAY), dtype=np.int64)
    for i in range(n):
        mine = t_market == i
        if not mine.any():
            continue
        # Open interest is a reflected walk: closing trades cannot take it below zero.
        walk = np.cumsum(np.where(opening[pick][mine], t_count[mine], -t_count[mine]))
        oi_after = walk - np.minimum(0, np.minimum.accumulate(walk))
        minutes = t_minute[mine]
        last_in_minute = np.r_[minutes[1:] != minutes[:-1], True]
        at_minute = np.zeros(MINUTES_PER_DAY, dtype=np.int64)
        has_trade = np.zeros(MINUTES_PER_DAY, dtype=bool)
        before_day = last_in_minute & (minutes < 0)
        if before_day.any() and not np.any(minutes == 0):
            # What was opened before the day is open at its start.
            at_minute[0], has_trade[0] = oi_after[np.flatnonzero(before_day)[-1]], True
        kept = last_in_minute & (minutes >= 0)
        at_minute[minutes[kept]] = oi_after[kept]
        has_trade[minutes[kept]] = True
        open_interest[i] = _forward_fill(at_minute[None, :], has_trade[None, :])[0]

    arrays = _readonly(
        belief=belief,
        bid=bid.astype(np.int16),
        ask=ask.astype(np.int16),
        bid_size=bid_size,
        ask_size=ask_size,
        quote_us=quote_us,
        volume=volume,
        open_interest=open_interest,
        trade_us=trade_us[pick],
        trade_market=t_market.astype(np.int8),
        trade_price=t_price.astype(np.int16),
        trade_count=t_count,
        trade_taker_yes=t_yes,
        trade_uuid=uuids[pick],
    )
    return CityDay(
        seed=seed,
        city=city,
        weather=weather,
        event_ticker=event_ticker(city.series, climate_date),
        markets=markets,
        winner=winner,
        created_time=open_time - timedelta(hours=4, minutes=30, microseconds=-int(rng.integers(0, 60_000_000))),
        open_time=open_time,
        close_time=weather.end - timedelta(minutes=1),
        settlement_ts=settlement_time(climate_date, rng),
        mm_start_minute=start_minute,
        **arrays,
    )


def simulate_city_day(config: SimConfig, city_key: str, climate_date: date) -> CityDay:
    """The full simulated day (weather, ladder, quotes, trades) for a city: the ground truth.

    It ignores the clock: use ``CityDay.status(config.now)`` or the server for what was
    observable at ``config.now``. Cached per process on (seed, city, date, market): the whole
    ``City``, so configs that define a key differently never share a day.
    """
    return _simulate(config.seed, config.city(city_key), climate_date, config.market)


def served_dates(config: SimConfig, city: City) -> list[date]:
    """Climate days with a listed event at ``config.now``, newest first.

    A day is listed once it has started; later days do not exist yet.
    """
    last = (config.now + timedelta(hours=city.std_utc_offset_hours)).date()
    first = config.market_start_date
    return [last - timedelta(days=i) for i in range((last - first).days + 1)]


def is_served(config: SimConfig, city: City, climate_date: date) -> bool:
    last = (config.now + timedelta(hours=city.std_utc_offset_hours)).date()
    return config.market_start_date <= climate_date <= last


def iter_city_days(config: SimConfig, city_filter: City | None = None) -> Iterator[CityDay]:
    """Every listed event at ``config.now``: newest date first, cities in config order."""
    chosen = [city_filter] if city_filter else list(config.cities)
    by_city = {c.key: served_dates(config, c) for c in chosen}
    dates = sorted({d for ds in by_city.values() for d in ds}, reverse=True)
    for day in dates:
        for c in chosen:
            if day in by_city[c.key]:
                yield simulate_city_day(config, c.key, day)


def find_event(config: SimConfig, ticker: str) -> CityDay:
    city, day = parse_event_ticker(config, ticker)
    if not is_served(config, city, day):
        raise UnknownTicker(f"event {ticker!r} is not listed at {config.now.isoformat()}")
    return simulate_city_day(config, city.key, day)


def find_market(config: SimConfig, ticker: str) -> tuple[CityDay, int]:
    event, _, _ = ticker.rpartition("-")
    if not event:
        raise UnknownTicker(f"{ticker!r} is not a market ticker like KXHIGHNY-26JUN01-B72.5")
    day = find_event(config, event)
    return day, day.index_of(ticker)
