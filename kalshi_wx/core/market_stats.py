"""What a daily-high bracket market looks like, measured the same way on real and simulated tapes.

The simulator is calibrated to these statistics (``kalshi-wx sim calibrate``): spread by time of
day and by the bracket's distance from the settled high, quote updates and trades per market-hour,
trade sizes, trading before the climate day, and how well the market's implied probabilities
score (probability of the winning bracket and multiclass Brier at fixed local standard times).

The frames, one shape for real and simulated data (prices in float dollars, counts in contracts):

* ``trades``: climate_date, ticker, ts (UTC), yes_price, count, taker_yes: every trade from the
  event's open.
* ``quotes``: climate_date, ticker, ts (the minute's start, UTC), bid, ask: one row per minute the
  exchange emitted a candle (a quote change or a trade); an empty side is null.
* ``ladder``: climate_date, ticker, lo_f, hi_f: each event's brackets (whole-degree YES range).
* ``highs``: climate_date, high_f: the settled CLI high.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import polars as pl

from kalshi_wx.core.fees import trading_fee
from kalshi_wx.core.pmf.scoring import multiclass_brier

HOUR_BLOCKS: tuple[tuple[int, int], ...] = ((0, 6), (6, 10), (10, 14), (14, 18), (18, 24))
# Distance in whole °F from the bracket's nearest degree to the settled high (0 = the winner).
DISTANCE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 0), (1, 2), (3, 5), (6, None))
SCORE_HOURS_LST: tuple[int, ...] = (10, 13, 16)
# The fee schedule's worked examples (reference/kalshi_api.md s8, the Kalshi fee schedule since
# 2025-07): 100 contracts at 50 cents cost a taker $1.75 and, on a series with maker fees, a maker
# $0.44. No fee is on the recorded tapes, so these are the real side of the fee rows.
REAL_FEES_100_AT_50C = {"taker_fee_100_at_50c": 1.75, "maker_fee_100_at_50c": 0.44}


@dataclass(frozen=True)
class Comparison:
    """One statistic real vs simulated; passes when ``|sim / real - 1| <= tolerance``."""

    statistic: str
    real: float
    sim: float
    tolerance: float

    @property
    def ratio(self) -> float:
        return self.sim / self.real if self.real else math.inf

    @property
    def ok(self) -> bool:
        return abs(self.ratio - 1.0) <= self.tolerance


def _lst_hour(ts: str, std_offset: int) -> pl.Expr:
    """Hours since the climate day's local-standard midnight (negative before the day)."""
    start = pl.col("climate_date").cast(pl.Datetime("us", "UTC")) - pl.duration(hours=std_offset)
    return (pl.col(ts) - start).dt.total_seconds() / 3600.0


def _block_label(lo: int, hi: int) -> str:
    return f"{lo:02d}-{hi:02d}h"


def _distance_label(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"{lo}+F"
    return f"{lo}F" if lo == hi else f"{lo}-{hi}F"


def bracket_distance(ladder: pl.DataFrame, highs: pl.DataFrame) -> pl.DataFrame:
    """climate_date, ticker, distance_f: whole °F from the bracket to the settled high (0 = it won)."""
    joined = ladder.join(highs, on="climate_date", how="inner")
    below = pl.when(pl.col("lo_f").is_not_null() & (pl.col("high_f") < pl.col("lo_f"))).then(
        pl.col("lo_f") - pl.col("high_f")
    )
    above = pl.when(pl.col("hi_f").is_not_null() & (pl.col("high_f") > pl.col("hi_f"))).then(
        pl.col("high_f") - pl.col("hi_f")
    )
    return joined.select(
        "climate_date", "ticker", pl.coalesce(below, above, pl.lit(0)).cast(pl.Int64).alias("distance_f")
    )


def _in_day(frame: pl.DataFrame, std_offset: int) -> pl.DataFrame:
    hour = _lst_hour("ts", std_offset)
    return frame.with_columns(hour.alias("hour_lst")).filter((pl.col("hour_lst") >= 0) & (pl.col("hour_lst") < 24))


def _two_sided_spreads(quotes: pl.DataFrame, std_offset: int) -> pl.DataFrame:
    return (
        _in_day(quotes, std_offset)
        .filter(pl.col("bid").is_not_null() & pl.col("ask").is_not_null())
        .with_columns(((pl.col("ask") - pl.col("bid")) * 100.0).alias("spread_cents"))
    )


def spread_by_hour(quotes: pl.DataFrame, std_offset: int) -> dict[str, float]:
    """Mean two-sided spread in cents per block of local standard hours of the climate day."""
    spreads = _two_sided_spreads(quotes, std_offset)
    out = {}
    for lo, hi in HOUR_BLOCKS:
        block = spreads.filter((pl.col("hour_lst") >= lo) & (pl.col("hour_lst") < hi))["spread_cents"]
        out[_block_label(lo, hi)] = float(block.mean()) if block.len() else math.nan  # type: ignore[arg-type]
    return out


def spread_by_distance(
    quotes: pl.DataFrame, ladder: pl.DataFrame, highs: pl.DataFrame, std_offset: int
) -> dict[str, float]:
    """Mean two-sided spread in cents by the bracket's distance from the settled high."""
    spreads = _two_sided_spreads(quotes, std_offset).join(
        bracket_distance(ladder, highs), on=["climate_date", "ticker"], how="inner"
    )
    out = {}
    for lo, hi in DISTANCE_BUCKETS:
        cond = pl.col("distance_f") >= lo
        if hi is not None:
            cond &= pl.col("distance_f") <= hi
        bucket = spreads.filter(cond)["spread_cents"]
        out[_distance_label(lo, hi)] = float(bucket.mean()) if bucket.len() else math.nan  # type: ignore[arg-type]
    return out


def quote_updates_per_market_hour(quotes: pl.DataFrame, std_offset: int) -> float:
    """Candle minutes whose closing bid or ask differs from the market's previous candle, per market-hour."""
    day = _in_day(quotes, std_offset).sort("climate_date", "ticker", "ts")
    changed = day.with_columns(
        (
            pl.col("bid").ne_missing(pl.col("bid").shift(1).over("climate_date", "ticker"))
            | pl.col("ask").ne_missing(pl.col("ask").shift(1).over("climate_date", "ticker"))
        ).alias("changed")
    )
    market_days = changed.select(pl.struct("climate_date", "ticker").n_unique()).item()
    return float(changed["changed"].sum()) / (24.0 * market_days) if market_days else math.nan


def trade_activity(trades: pl.DataFrame, ladder: pl.DataFrame, std_offset: int) -> dict[str, float]:
    """Trades and contracts per market-hour inside the climate day, sizes, and the share traded before it.

    Rates are over every market of the ladders (a market with no trade counts as zero), so a thin
    tail bracket lowers them as it does on the exchange.
    """
    market_days = ladder.join(trades.select("climate_date").unique(), on="climate_date").height
    timed = trades.with_columns(_lst_hour("ts", std_offset).alias("hour_lst"))
    day = timed.filter((pl.col("hour_lst") >= 0) & (pl.col("hour_lst") < 24))
    before = timed.filter(pl.col("hour_lst") < 0)
    sizes = trades["count"].to_numpy()
    total = float(sizes.sum())
    hours = 24.0 * market_days
    by_block = {}
    for lo, hi in HOUR_BLOCKS:
        block = day.filter((pl.col("hour_lst") >= lo) & (pl.col("hour_lst") < hi)).height
        by_block[f"trades_per_market_hour_{_block_label(lo, hi)}"] = (
            block / ((hi - lo) * market_days) if market_days else math.nan
        )
    return {
        **by_block,
        "trades_per_market_hour": day.height / hours if hours else math.nan,
        "contracts_per_market_hour": float(day["count"].sum()) / hours if hours else math.nan,
        "trade_size_median": float(np.median(sizes)) if sizes.size else math.nan,
        "trade_size_p90": float(np.percentile(sizes, 90)) if sizes.size else math.nan,
        "trade_size_mean": float(sizes.mean()) if sizes.size else math.nan,
        "pre_day_contract_share": float(before["count"].sum()) / total if total else math.nan,
    }


def taker_markout_cents(trades: pl.DataFrame, ladder: pl.DataFrame, highs: pl.DataFrame) -> float:
    """What a taker earns per contract held to settlement, in cents (contract-weighted).

    Minus the half-spread for flow that knows nothing; nearer zero (or above) the more it knows.
    """
    settled = trades.join(bracket_distance(ladder, highs), on=["climate_date", "ticker"], how="inner")
    sign = pl.when(pl.col("taker_yes")).then(1.0).otherwise(-1.0)
    won = (pl.col("distance_f") == 0).cast(pl.Float64)
    earned = settled.select((sign * (won - pl.col("yes_price")) * 100.0 * pl.col("count")).sum()).item()
    contracts = float(settled["count"].sum())
    return float(earned) / contracts if contracts else math.nan


def implied_probabilities(
    trades: pl.DataFrame, ladder: pl.DataFrame, std_offset: int, hours_lst: Sequence[int] = SCORE_HOURS_LST
) -> pl.DataFrame:
    """climate_date, hour_lst, ticker, p: the last traded YES price at each hour, normalised over the ladder.

    A bracket not traded yet counts as 0. An event with no trade at all by that hour is left out.
    """
    rows = []
    for hour in hours_lst:
        seen = trades.filter(_lst_hour("ts", std_offset) <= hour).sort("ts")
        last = seen.group_by("climate_date", "ticker").agg(pl.col("yes_price").last().alias("price"))
        at = (
            ladder.select("climate_date", "ticker")
            .join(last, on=["climate_date", "ticker"], how="left")
            .with_columns(pl.col("price").fill_null(0.0), pl.lit(hour).alias("hour_lst"))
        )
        rows.append(at)
    priced = pl.concat(rows).with_columns(pl.col("price").sum().over("climate_date", "hour_lst").alias("total"))
    return (
        priced.filter(pl.col("total") > 0)
        .with_columns((pl.col("price") / pl.col("total")).alias("p"))
        .select("climate_date", "hour_lst", "ticker", "p")
        .sort("climate_date", "hour_lst", "ticker")
    )


def market_scores(
    trades: pl.DataFrame,
    ladder: pl.DataFrame,
    highs: pl.DataFrame,
    std_offset: int,
    hours_lst: Sequence[int] = SCORE_HOURS_LST,
) -> dict[str, float]:
    """Mean probability of the winning bracket and multiclass Brier of the market at each hour."""
    probs = implied_probabilities(trades, ladder, std_offset, hours_lst).join(
        bracket_distance(ladder, highs), on=["climate_date", "ticker"], how="inner"
    )
    out = {}
    for hour in hours_lst:
        at = probs.filter(pl.col("hour_lst") == hour).sort("climate_date", "ticker")
        p_win, briers = [], []
        for _, event in at.group_by("climate_date", maintain_order=True):
            p = event["p"].to_numpy()[None, :]
            won = np.flatnonzero(event["distance_f"].to_numpy() == 0)
            if won.size != 1:
                continue
            p_win.append(float(p[0, won[0]]))
            briers.append(multiclass_brier(p, won))
        out[f"p_winner_{hour:02d}h"] = float(np.mean(p_win)) if p_win else math.nan
        out[f"brier_{hour:02d}h"] = float(np.mean(briers)) if briers else math.nan
    return out


def market_statistics(
    trades: pl.DataFrame,
    quotes: pl.DataFrame,
    ladder: pl.DataFrame,
    highs: pl.DataFrame,
    std_offset: int,
) -> dict[str, float]:
    """Every statistic of the calibration table, by name. ``quotes`` may be empty (no quote statistics)."""
    stats = {**trade_activity(trades, ladder, std_offset), **market_scores(trades, ladder, highs, std_offset)}
    stats["taker_markout_cents"] = taker_markout_cents(trades, ladder, highs)
    if quotes.height:
        stats |= {f"spread_cents_{k}": v for k, v in spread_by_hour(quotes, std_offset).items()}
        stats |= {f"spread_cents_{k}": v for k, v in spread_by_distance(quotes, ladder, highs, std_offset).items()}
        stats["quote_updates_per_market_hour"] = quote_updates_per_market_hour(quotes, std_offset)
    return stats


def fee_statistics(fee_type: str, fee_multiplier: Decimal) -> dict[str, float]:
    """The fee of 100 contracts at 50 cents, taker and maker, under a series' fee schedule."""
    half = Decimal("0.50")
    return {
        "taker_fee_100_at_50c": float(trading_fee(fee_type, fee_multiplier, 100, half, maker=False)),
        "maker_fee_100_at_50c": float(trading_fee(fee_type, fee_multiplier, 100, half, maker=True)),
    }


def compare(real: Mapping[str, float], sim: Mapping[str, float], tolerances: Mapping[str, float]) -> list[Comparison]:
    """Real vs simulated for every statistic that has a tolerance; a statistic missing on one side is an error."""
    missing = [name for name in tolerances if name not in real or name not in sim]
    if missing:
        raise ValueError(f"statistics {missing} are not measured on both the real and the simulated market")
    return [Comparison(name, real[name], sim[name], tol) for name, tol in tolerances.items()]
