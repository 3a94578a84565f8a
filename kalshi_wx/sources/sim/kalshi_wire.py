"""Kalshi Trade API v2 payloads (reference/kalshi_api.md s2-s4) rendered from a simulated day.

Field names and string formats copy the real objects in
``shared/data/real/kalshi/ericzzhang27_Kalshi-Weather-Trading``: ``"0.5600"`` dollars, ``"10.00"``
counts, ISO ``Z`` times, numeric strikes. Everything is cut at the simulator clock: nothing
stamped after ``now`` shows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from kalshi_wx.core.cities import City
from kalshi_wx.sources.sim.common import (
    SimConfig,
    centi_to_count,
    cents_to_dollars,
    decimal_dollars,
    epoch_us_to_iso,
    iso_z,
    stable_rng,
)
from kalshi_wx.sources.sim.exchange import NO_ASK, NO_BID, CityDay
from kalshi_wx.sources.sim.weather import MINUTES_PER_DAY

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# How Kalshi names the city in titles and the station in rules_primary; other cities fall back to
# the configured name and station.
_TITLE_NAME = {"nyc": "NYC", "lax": "LA"}
_RULES_PLACE = {
    "chi": "at Chicago Midway, IL",
    "nyc": "in Central Park, New York",
    "aus": "at Austin Bergstrom, TX",
    "mia": "at Miami International Airport",
    "lax": "in Los Angeles Airport, CA",
    "den": "at Denver International Airport, CO",
    "phl": "at Philadelphia International Airport",
}
_ZONE_LETTERS = {-5: "ET", -6: "CT", -7: "MT", -8: "PT"}
_RULES_SECONDARY = (
    "Not all weather data is the same. While checking a source like AccuWeather or Google Weather may help "
    "guide your decision, the official and final value used to determine this market is the highest "
    "temperature as reported by the corresponding NWS Climatological Report (Daily) linked in the rules "
    "above. Preliminary NWS reporting and measurement methods may be subject to underlying rounding and "
    "conversion nuances. Traders should exercise caution when interpreting preliminary NWS data."
)
_PRICE_RANGES = [{"end": "1.0000", "start": "0.0000", "step": "0.0100"}]
_BOOK_LEVELS = 20


def _title_name(city: City) -> str:
    return _TITLE_NAME.get(city.key, city.name)


def _long_date(day: date) -> str:
    return f"{_MONTH_NAMES[day.month - 1]} {day:%d}, {day.year}"  # "June 02, 2026"


def _short_date(day: date) -> str:
    return f"{_MONTH_NAMES[day.month - 1][:3]} {day.day}, {day.year}"  # "Jun 2, 2026"


def settlement_source(city: City) -> dict[str, str]:
    return {
        "name": "National Weather Service",
        "url": f"https://forecast.weather.gov/product.php?site={city.wfo}&product=CLI&issuedby={city.issuedby}",
    }


def series_payload(city: City, *, fee_type: str, fee_multiplier: float) -> dict[str, Any]:
    return {
        "ticker": city.series,
        "frequency": "daily",
        "title": f"Highest temperature in {_title_name(city)} today?",
        "category": "Climate and Weather",
        "tags": ["Weather", "Daily temperature"],
        "settlement_sources": [settlement_source(city)],
        "contract_url": "https://kalshi-public-docs.s3.amazonaws.com/contract_terms/NHIGH.pdf",
        "contract_terms_url": "https://kalshi-public-docs.s3.amazonaws.com/contract_terms/NHIGH.pdf",
        "product_metadata": {},
        "fee_type": fee_type,
        "fee_multiplier": float(fee_multiplier),
        "additional_prohibitions": [],
    }


def _seen_at(day: CityDay, now: datetime) -> datetime:
    """The instant the day's market data is read at: the clock, or the close once trading ended."""
    return min(now, day.close_time)


def _quote_at(day: CityDay, i: int, bars: int) -> tuple[int, int, int, int]:
    """(bid, ask, bid size, ask size) after ``bars`` completed bars."""
    if bars <= 0:
        return NO_BID, NO_ASK, 0, 0
    k = bars - 1
    return int(day.bid[i, k]), int(day.ask[i, k]), int(day.bid_size[i, k]), int(day.ask_size[i, k])


def market_payload(config: SimConfig, day: CityDay, i: int) -> dict[str, Any]:
    """The ``Market`` object of market ``i`` of ``day`` as ``GET /markets`` shows it at ``config.now``."""
    now = config.now
    spec, city = day.markets[i], day.city
    status = day.status(now)
    seen = _seen_at(day, now)
    bars = day.bars_done(seen)
    bid, ask, bid_size, ask_size = _quote_at(day, i, bars)

    seen_us = int(seen.timestamp() * 1_000_000)
    mine = day.trades_of(i)
    traded = mine[day.trade_us[mine] <= seen_us]
    last_price = int(day.trade_price[traded[-1]]) if traded.size else 0
    volume = centi_to_count(int(day.trade_count[traded].sum()))
    open_interest = int(day.open_interest[i, bars - 1]) if bars else 0

    bids, asks = day.bid[i, :bars], day.ask[i, :bars]
    requotes = np.flatnonzero((bids != np.r_[NO_BID, bids[:-1]]) | (asks != np.r_[NO_ASK, asks[:-1]]))
    changed_us = [int(day.trade_us[traded[-1]])] if traded.size else []
    if requotes.size:
        k = int(requotes[-1])
        changed_us.append(day.start_ts * 1_000_000 + k * 60_000_000 + int(day.quote_us[k]))
    updated = epoch_us_to_iso(max(changed_us)) if changed_us else iso_z(day.open_time)

    label = spec.bracket.label
    if spec.strike_type == "between":
        condition, short = (
            f"between {spec.floor_strike}-{spec.cap_strike}°",
            f"{spec.floor_strike}-{spec.cap_strike}°",
        )
    elif spec.strike_type == "greater":
        condition, short = f"greater than {spec.floor_strike}°", f">{spec.floor_strike}°"
    else:
        condition, short = f"less than {spec.cap_strike}°", f"<{spec.cap_strike}°"
    climate_date = day.climate_date
    place = _RULES_PLACE.get(city.key, f"at {city.station_name.title()}")
    zone = _ZONE_LETTERS.get(city.std_utc_offset_hours, f"UTC{city.std_utc_offset_hours:+d}")
    occurrence = datetime(climate_date.year, climate_date.month, climate_date.day, 14, tzinfo=UTC)
    expires = occurrence + timedelta(days=7)
    finalized = status == "finalized"
    won = finalized and i == day.winner

    market: dict[str, Any] = {
        "can_close_early": True,
        "close_time": iso_z(day.close_time),
        "created_time": iso_z(day.created_time),
        "early_close_condition": (
            f"The Last Trading Time will be 11:59 PM {zone} on {_long_date(climate_date)} regardless of any "
            "data releases or events occurring. Expiration will occur on the sooner of the first 7:00 or "
            f"8:00\nAM ET following the release of the data for {_long_date(climate_date)}, or one week "
            f"after {_long_date(climate_date)}."
        ),
        "event_ticker": day.event_ticker,
        "expected_expiration_time": iso_z(occurrence + timedelta(days=1)),
        "expiration_time": iso_z(expires),
        "expiration_value": str(day.cli_max_f) if finalized else "",
        "fractional_trading_enabled": True,
        "last_price_dollars": cents_to_dollars(last_price),
        "latest_expiration_time": iso_z(expires),
        "liquidity_dollars": "0.0000",
        "market_type": "binary",
        "no_ask_dollars": cents_to_dollars(100 - bid),
        "no_bid_dollars": cents_to_dollars(100 - ask),
        "no_sub_title": label,
        "notional_value_dollars": "1.0000",
        "occurrence_datetime": iso_z(occurrence),
        "open_interest_fp": centi_to_count(open_interest),
        "open_time": iso_z(day.open_time),
        # The sim trades only within the climate day and is read at most at its close, so 24 h
        # earlier there was nothing yet: Kalshi shows that as zeros on every previous_* field.
        "previous_price_dollars": "0.0000",
        "previous_yes_ask_dollars": "0.0000",
        "previous_yes_bid_dollars": "0.0000",
        "price_level_structure": "linear_cent",
        "price_ranges": [dict(r) for r in _PRICE_RANGES],
        "response_price_units": "usd_cent",
        "result": ("yes" if won else "no") if finalized else "",
        "rules_primary": (
            f"If the highest temperature recorded {place} for {_long_date(climate_date)} as reported by the "
            f"National Weather Service's Climatological Report (Daily), is {condition}, then the market "
            "resolves to Yes."
        ),
        "rules_secondary": _RULES_SECONDARY,
        "settlement_timer_seconds": 3600,
        "status": status,
        "strike_type": spec.strike_type,
        "subtitle": label,
        "ticker": spec.ticker,
        "title": f"Will the **high temp in {_title_name(city)}** be {short} on {_short_date(climate_date)}?",
        "updated_time": iso_z(day.settlement_ts) if finalized else updated,
        "volume_24h_fp": volume,  # the same 24 h as the previous_* fields
        "volume_fp": volume,
        "yes_ask_dollars": cents_to_dollars(ask),
        "yes_ask_size_fp": centi_to_count(ask_size),
        "yes_bid_dollars": cents_to_dollars(bid),
        "yes_bid_size_fp": centi_to_count(bid_size),
        "yes_sub_title": label,
    }
    if spec.floor_strike is not None:
        market["floor_strike"] = spec.floor_strike
    if spec.cap_strike is not None:
        market["cap_strike"] = spec.cap_strike
    if finalized:
        market["settlement_value_dollars"] = "1.0000" if won else "0.0000"
        market["settlement_ts"] = iso_z(day.settlement_ts)
    return dict(sorted(market.items()))


def event_status(config: SimConfig, day: CityDay) -> str:
    """The ``/events`` status filter value the event matches: open, closed or settled."""
    return {"active": "open", "closed": "closed", "finalized": "settled"}[day.status(config.now)]


def event_payload(config: SimConfig, day: CityDay, *, nested: bool) -> dict[str, Any]:
    city = day.city
    event: dict[str, Any] = {
        "event_ticker": day.event_ticker,
        "series_ticker": city.series,
        "sub_title": f"On {_short_date(day.climate_date)}",
        "title": f"Highest temperature in {_title_name(city)} on {_short_date(day.climate_date)}?",
        "collateral_return_type": "MECNET",
        "mutually_exclusive": True,
        "category": "Climate and Weather",
        "strike_date": iso_z(day.close_time),
        "strike_period": "",
        "settlement_sources": [settlement_source(city)],
        "product_metadata": {},
    }
    if nested:
        # Nested markets leave out those settled before the historical cutoff, as the live API does.
        event["markets"] = [] if day.is_historical(config) else market_list(config, day)
    return event


def market_list(config: SimConfig, day: CityDay) -> list[dict[str, Any]]:
    return [market_payload(config, day, i) for i in range(len(day.markets))]


def _ohlc(values: list[int]) -> dict[str, str]:
    return {
        "open_dollars": cents_to_dollars(values[0]),
        "low_dollars": cents_to_dollars(min(values)),
        "high_dollars": cents_to_dollars(max(values)),
        "close_dollars": cents_to_dollars(values[-1]),
    }


def candlesticks(config: SimConfig, day: CityDay, i: int, start_ts: int, end_ts: int) -> list[dict[str, Any]]:
    """1-minute candles of market ``i`` ending in ``[start_ts, end_ts]`` and by ``config.now``.

    As on Kalshi, a minute with no quote change and no trade has no candle.
    """
    day_start = day.start_ts
    first = max(0, -(-(start_ts - day_start) // 60) - 1)  # first bar whose end >= start_ts
    stop = min(day.bars_done(config.now), MINUTES_PER_DAY, (end_ts - day_start) // 60)
    if stop <= first:
        return []
    bid, ask = day.bid[i].astype(np.int64), day.ask[i].astype(np.int64)
    prev_bid, prev_ask = np.r_[NO_BID, bid[:-1]], np.r_[NO_ASK, ask[:-1]]
    emitted = (bid != prev_bid) | (ask != prev_ask) | (day.volume[i] > 0)
    bars = np.flatnonzero(emitted[first:stop]) + first

    mine = day.trades_of(i)
    minute_of = (day.trade_us[mine] // 1_000_000 - day_start) // 60
    prices, counts = day.trade_price[mine].astype(np.int64), day.trade_count[mine].astype(np.int64)
    candles = []
    for k in bars.tolist():
        lo, hi = np.searchsorted(minute_of, [k, k + 1])
        before = int(prices[lo - 1]) if lo > 0 else None
        if hi > lo:
            traded = prices[lo:hi].tolist()
            volume = int(counts[lo:hi].sum())
            mean = Decimal(int((prices[lo:hi] * counts[lo:hi]).sum())) / Decimal(volume) / 100
            price: dict[str, Any] = {
                **_ohlc(traded),
                "mean_dollars": decimal_dollars(mean),
                "previous_dollars": None if before is None else cents_to_dollars(before),
                "min_dollars": cents_to_dollars(min(traded)),
                "max_dollars": cents_to_dollars(max(traded)),
            }
        else:
            volume = 0
            price = dict.fromkeys(
                ("open_dollars", "low_dollars", "high_dollars", "close_dollars", "mean_dollars"), None
            )
            price |= {
                "previous_dollars": None if before is None else cents_to_dollars(before),
                "min_dollars": None,
                "max_dollars": None,
            }
        candles.append(
            {
                "end_period_ts": day_start + 60 * (k + 1),
                "yes_bid": _ohlc([int(prev_bid[k]), int(bid[k])]),
                "yes_ask": _ohlc([int(prev_ask[k]), int(ask[k])]),
                "price": price,
                "volume_fp": centi_to_count(volume),
                "open_interest_fp": centi_to_count(int(day.open_interest[i, k])),
            }
        )
    return candles


def trade_payload(day: CityDay, j: int) -> dict[str, Any]:
    yes_price = int(day.trade_price[j])
    taker_yes = bool(day.trade_taker_yes[j])
    side = "yes" if taker_yes else "no"
    return {
        "trade_id": day.trade_id(j),
        "ticker": day.markets[int(day.trade_market[j])].ticker,
        "count_fp": centi_to_count(int(day.trade_count[j])),
        "yes_price_dollars": cents_to_dollars(yes_price),
        "no_price_dollars": cents_to_dollars(100 - yes_price),
        "taker_side": side,
        "taker_outcome_side": side,
        "taker_book_side": "bid" if taker_yes else "ask",  # a YES taker is a bid on the YES book
        "created_time": epoch_us_to_iso(int(day.trade_us[j])),
        "is_block_trade": False,
    }


def _levels(best: int, best_size: int, rng: np.random.Generator) -> list[list[str]]:
    """Bids from ``best`` down, the top one with the maker's size, deeper ones patchy; ascending."""
    if best <= 0:
        return []
    prices = np.arange(best, max(best - _BOOK_LEVELS, 0), -1)
    present = rng.random(prices.size) < 0.75
    present[0] = True
    sizes = np.maximum(1, np.round(rng.lognormal(3.5, 1.3, prices.size) * 100)).astype(np.int64)
    sizes[0] = best_size
    keep = np.flatnonzero(present)[::-1]
    return [[cents_to_dollars(int(prices[j])), centi_to_count(int(sizes[j]))] for j in keep]


def book_payload(
    bid: int, ask: int, bid_size: int, ask_size: int, rng: np.random.Generator, depth: int
) -> dict[str, Any]:
    """``orderbook_fp`` around a maker's touch (cents; NO_BID / NO_ASK for an empty side), best last."""
    yes = _levels(bid, bid_size, rng)
    no = _levels(100 - ask, ask_size, rng)  # a YES ask at a is a NO bid at 1 - a
    if depth > 0:
        yes, no = yes[-depth:], no[-depth:]
    return {"orderbook_fp": {"yes_dollars": yes, "no_dollars": no}}


def orderbook_payload(config: SimConfig, day: CityDay, i: int, depth: int) -> dict[str, Any]:
    """``orderbook_fp`` as of the clock (or the last minute of trading), bids only, best last."""
    bars = day.bars_done(_seen_at(day, config.now))
    bid, ask, bid_size, ask_size = _quote_at(day, i, bars)
    rng = stable_rng(day.seed, day.markets[i].ticker, bars, "book")
    return book_payload(bid, ask, bid_size, ask_size, rng, depth)
