"""What every part of the simulator shares: its world (cities and clock), seeding and wire formatting.

Everything the simulator serves is a pure function of ``SimConfig`` and the request, so two
processes (or two servers in one process) given the same config serve byte-identical payloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np

from kalshi_wx.core.cities import City, cities_by_key
from kalshi_wx.core.seeds import stable_seed

_DEFAULT_NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
_DEFAULT_CUTOFF = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)
# Markets exist from this many climate days before the clock's date; weather exists for any
# date up to the clock. Bounded so that an unfiltered /markets scan stays cheap.
DEFAULT_MARKET_HISTORY_DAYS = 16


@dataclass(frozen=True)
class CryptoSeries:
    """A simulated crypto series (``sim/crypto.py``): one binary market per window, or a strike ladder.

    The defaults are KXBTC15M (reference s10): a market per 15-minute window settling on a BTC index.
    ``strikes`` > 1 lists that many strikes per window around the opening price, as Kalshi's hourly
    ``KXBTCD`` ladders do. ``history_hours`` bounds how far back closed windows are listed.
    """

    ticker: str = "KXBTC15M"
    window_minutes: int = 15
    strikes: int = 1
    strike_step: float = 0.0005  # ladder spacing, as a fraction of the opening price
    start_price: float = 95_000.0  # the index on 2025-01-01T00:00Z
    annual_vol: float = 0.5
    history_hours: int = 24

    def __post_init__(self) -> None:
        if not self.ticker or not self.ticker.isalnum() or not self.ticker.isupper():
            raise ValueError(f"CryptoSeries.ticker {self.ticker!r} must be upper-case letters and digits")
        if self.window_minutes <= 0 or (24 * 60) % self.window_minutes:
            raise ValueError(f"CryptoSeries.window_minutes {self.window_minutes} must divide a day")
        if self.strikes < 1:
            raise ValueError(f"CryptoSeries.strikes must be >= 1, got {self.strikes}")


@dataclass(frozen=True)
class SimMarket:
    """The simulated weather market's maker, takers and fees, calibrated to the real KXHIGHCHI market.

    The values and their sources are in ``config/sim.yaml`` (``kalshi-wx sim calibrate`` prints the
    calibration); a bare ``SimConfig`` uses these defaults, which are that file's values
    (``kalshi_wx_tests/defs/test_settings.py`` holds the two together).

    The maker's belief about the day's high combines the public forecast and observations with a
    private view of the truth: its estimate of the day's maximum misses by ``belief_sd_f`` °F
    (linear in local standard hours between ``belief_sd_hours``, never increasing: the error of
    information that accumulates, so the belief is a martingale), and it reads the running maximum
    so far to ``running_max_sd_f``. Spreads are ``1 + spread_scale_cents[block] * (spread_floor + 4 p (1 - p))``
    cents times a log-normal draw per market and hour, by the local-standard-hour blocks starting at
    ``hour_blocks``. Takers arrive at ``trade_rate[block]`` per market-minute (more on the uncertain
    brackets) from the event's open, ``pre_day_trade_rate`` before the climate day; a taker buys YES
    with probability Phi((belief in ``taker_horizon_minutes`` - mid) / ``taker_information``), so
    flow is informed; sizes are log-normal.
    """

    belief_sd_hours: tuple[float, ...] = (0.0, 10.0, 13.0, 16.0, 24.0)
    belief_sd_f: tuple[float, ...] = (2.0, 1.11, 0.6, 0.52, 0.2)
    running_max_sd_f: float = 0.3
    requote_cents: float = 0.8
    hour_blocks: tuple[int, ...] = (0, 6, 10, 14, 18)
    spread_scale_cents: tuple[float, ...] = (3.19, 2.24, 6.62, 16.5, 13.01)
    spread_floor: float = 0.35
    spread_noise_sd: float = 0.4
    trade_rate: tuple[float, ...] = (0.0151, 0.2088, 0.169, 0.0747, 0.0077)
    taker_horizon_minutes: int = 60
    taker_information: float = 0.32
    pre_day_trade_rate: float = 0.0645
    trade_size_median: float = 14.0
    trade_size_sigma: float = 1.6
    fee_type: str = "quadratic_with_maker_fees"
    fee_multiplier: float = 1.0

    def __post_init__(self) -> None:
        for name in ("belief_sd_hours", "belief_sd_f", "hour_blocks", "spread_scale_cents", "trade_rate"):
            object.__setattr__(self, name, tuple(getattr(self, name)))  # hashable: it keys the day cache
        if len(self.belief_sd_hours) != len(self.belief_sd_f) or list(self.belief_sd_hours) != sorted(
            self.belief_sd_hours
        ):
            raise ValueError("SimMarket.belief_sd_hours must be increasing and as long as belief_sd_f")
        if list(self.belief_sd_f) != sorted(self.belief_sd_f, reverse=True):
            raise ValueError("SimMarket.belief_sd_f must not increase: information only accumulates")
        blocks = len(self.hour_blocks)
        if self.hour_blocks[0] != 0 or len(self.spread_scale_cents) != blocks or len(self.trade_rate) != blocks:
            raise ValueError(
                "SimMarket.hour_blocks must start at 0 and be as long as spread_scale_cents and trade_rate"
            )
        if min(self.belief_sd_f) <= 0 or self.running_max_sd_f <= 0 or self.taker_information <= 0:
            raise ValueError("SimMarket belief noise and taker_information must be positive")


@dataclass(frozen=True)
class SimConfig:
    """The simulator's world: its cities, a seed and a fixed clock (never the wall clock, so runs reproduce).

    ``cities`` are listed in this order everywhere (series, events, CLI products); any iterable of
    ``City`` is stored as a tuple, because the config keys the shared servers and the payload caches.
    ``now`` is the simulated present: nothing stamped after it is served. ``historical_cutoff``
    is both ``market_settled_ts`` and ``trades_created_ts`` of ``GET /historical/cutoff``.
    ``first_market_date`` is the first climate day with a listed event (default: 16 days
    before ``now``). ``crypto`` adds simulated crypto series (none by default: the city x date graph
    does not trade them). ``market`` is how the weather markets trade (``SimMarket``).
    """

    cities: tuple[City, ...]
    seed: int = 7
    now: datetime = _DEFAULT_NOW
    historical_cutoff: datetime = _DEFAULT_CUTOFF
    first_market_date: date | None = field(default=None)
    crypto: tuple[CryptoSeries, ...] = ()
    market: SimMarket = field(default_factory=SimMarket)
    _by_key: dict[str, City] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cities = tuple(self.cities)
        object.__setattr__(self, "cities", cities)
        object.__setattr__(self, "_by_key", cities_by_key(cities))
        object.__setattr__(self, "crypto", tuple(self.crypto))
        tickers = [c.series for c in cities] + [c.ticker for c in self.crypto]
        if len(set(tickers)) != len(tickers):
            raise ValueError(f"SimConfig: a series is listed twice: {', '.join(tickers)}")
        for name in ("now", "historical_cutoff"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise ValueError(f"SimConfig.{name} must be a timezone-aware datetime, got {value!r}")
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.historical_cutoff > self.now:
            raise ValueError(f"SimConfig.historical_cutoff {self.historical_cutoff} is after SimConfig.now {self.now}")

    def city(self, key: str) -> City:
        try:
            return self._by_key[key]
        except KeyError:
            raise ValueError(f"unknown city {key!r}; configured: {', '.join(self._by_key)}") from None

    def crypto_series(self, ticker: str) -> CryptoSeries | None:
        return next((c for c in self.crypto if c.ticker == ticker), None)

    @property
    def market_start_date(self) -> date:
        if self.first_market_date is not None:
            return self.first_market_date
        return (self.now - timedelta(days=DEFAULT_MARKET_HISTORY_DAYS)).date()

    @property
    def now_ts(self) -> int:
        return int(self.now.timestamp())


def stable_rng(*parts: object) -> np.random.Generator:
    """A Generator seeded from a stable digest of ``parts`` (same draws in every process)."""
    return np.random.default_rng(np.random.SeedSequence(stable_seed(*parts)))


_Q4 = Decimal("0.0001")
_Q2 = Decimal("0.01")
# Every price the exchange quotes is a whole cent (linear_cent), so the 101 strings are built once.
_CENT_DOLLARS = tuple(str((Decimal(c) / 100).quantize(_Q4)) for c in range(101))


def cents_to_dollars(cents: int) -> str:
    """Whole cents as a Kalshi ``*_dollars`` string: 56 -> ``"0.5600"``."""
    return _CENT_DOLLARS[cents]


def decimal_dollars(value: Decimal) -> str:
    return str(value.quantize(_Q4))


def centi_to_count(centi: int) -> str:
    """Hundredths of a contract as a Kalshi ``*_fp`` count: 1000 -> ``"10.00"``."""
    return str((Decimal(int(centi)) / 100).quantize(_Q2))


def iso_z(ts: datetime | float | int) -> str:
    """``2026-06-01T14:00:00Z``, with microseconds only when there are any (as Kalshi writes it)."""
    moment = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_us_to_iso(epoch_us: int) -> str:
    return iso_z(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(epoch_us)))


def norm_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF, vectorised (Abramowitz-Stegun 7.1.26; |error| < 1.5e-7).

    The market maker needs thousands of these per city-day; numpy has no erf and scipy is not a
    declared dependency.
    """
    x = np.asarray(x, dtype=np.float64)
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)
