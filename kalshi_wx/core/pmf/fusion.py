"""Fuse the weather PMF with the market's own prices.

``p_mkt`` comes from the 1-minute quote grid when there is one (``market_pmf``: the ladder's mids,
a quote carried forward a few minutes, never further) and otherwise from the trade tape
(``trade_pmf``: each bracket's last trade). Either way it is normalised over the ladder, brackets
the observed running max has ruled out are zeroed first (a stale price on a dead bracket is not an
opinion), and a minute where some live bracket has no price has no ``p_mkt``. Each source says how
far to trust it as ``liquidity`` in [0, 1]: from the ladder-mean spread for quotes, from the age of
the last trades for a tape (an afternoon tape is often an hour old while the temperature moves).

The pool is logit-linear per bracket,

    logit p_fused = (1 - w) logit p_wx + w logit p_mkt,    w = w_mkt_max * liquidity * (1 - hazard_shift * h60),

then renormalised over the ladder (``p_fused_norm``). ``w_mkt_max`` is higher
(``w_mkt_max_climatology``) on a day whose weather model had no forecast, only a climatology
baseline: on real days such a model is far less sharp than the market. The weight shrinks while a new high is likely
within the hour (high hazard), when observations move faster than prices. Only brackets the
running maximum has ruled out are 0; every other bracket keeps at least ``eps`` before the
renormalisation, so a sharp model can never turn a tail into a certain loss.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from pydantic.dataclasses import dataclass

from kalshi_wx.core.config_types import SETTINGS_CONFIG, Real, Whole
from kalshi_wx.core.quotes import book_known_at

MARKET_COLUMNS = ("ticker", "ts", "p_mkt", "liquidity")


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class FusionSettings:
    eps: Real = 1e-4  # probabilities are clipped to [eps, 1 - eps] before the logit; the floor of a live bracket
    max_stale_minutes: Whole = 30  # how long a two-sided quote may be carried forward
    w_mkt_max: Real = 0.6  # market weight at full liquidity and zero hazard
    w_mkt_max_climatology: Real = 0.95  # ... when the weather model had no forecast, only a climatology
    spread_full_trust: Real = 0.02  # ladder-mean spread (dollars) at or below which liquidity = 1
    spread_no_trust: Real = 0.20  # ... at or above which liquidity = 0
    hazard_shift: Real = 0.5  # fraction of the market weight removed at hazard_next_60m = 1
    trade_age_half_life_minutes: Real = 60.0  # a tape whose last trades are this old counts half

    def __post_init__(self) -> None:
        if not 0 < self.eps < 0.5:
            raise ValueError(f"fusion eps {self.eps} must lie in (0, 0.5)")
        if not 0 <= self.w_mkt_max <= 1 or not 0 <= self.w_mkt_max_climatology <= 1 or not 0 <= self.hazard_shift <= 1:
            raise ValueError("fusion w_mkt_max, w_mkt_max_climatology and hazard_shift must lie in [0, 1]")
        if not 0 <= self.spread_full_trust < self.spread_no_trust:
            raise ValueError("fusion spread_full_trust must be below spread_no_trust")
        if not self.trade_age_half_life_minutes > 0:
            raise ValueError("fusion trade_age_half_life_minutes must be > 0")


def ruled_out(running_max_f: pl.Expr, cap: pl.Expr) -> pl.Expr:
    """A bracket whose whole-degree top ``cap`` (null = open above) is below the rounded running max.

    The CLI maximum is never below the observed maximum (rounded half up, as ``hazard.round_half_up``).
    Before the first observation the running max is null or NaN (``hazard_pmf`` stores NaN), and
    nothing is ruled out: polars orders NaN above every number, so it must not reach the comparison.
    """
    known = running_max_f.fill_nan(None)
    return (cap.is_not_null() & known.is_not_null() & ((known + 0.5).floor() > cap)).fill_null(False)


def _normalised(priced: pl.DataFrame, caps: Mapping[str, int | None] | None) -> pl.DataFrame:
    """``price`` -> ``p_mkt`` over the ladder per minute, ruled-out brackets zeroed (needs running_max_f)."""
    n_brackets = priced["ticker"].n_unique()
    if caps is not None and "running_max_f" in priced.columns:
        cap = pl.col("ticker").replace_strict(dict(caps), default=None, return_dtype=pl.Int64)
        priced = priced.with_columns(
            price=pl.when(ruled_out(pl.col("running_max_f"), cap)).then(0.0).otherwise(pl.col("price"))
        )
    by_minute = pl.col("ts")
    return priced.with_columns(
        p_mkt=pl.when(pl.col("price").count().over(by_minute) == n_brackets).then(
            pl.col("price") / pl.col("price").sum().over(by_minute)
        )
    )


def market_pmf(
    candles: pl.DataFrame,
    settings: FusionSettings,
    *,
    running_max: pl.DataFrame | None = None,
    caps: Mapping[str, int | None] | None = None,
) -> pl.DataFrame:
    """Per (ticker, ts): ``p_mkt`` and ``liquidity`` (from the ladder-mean spread) from a 1-minute candle grid.

    ``candles`` needs ticker, ts, yes_bid, yes_ask (null = empty side), as in ``kalshi.candles_1m``.
    With ``running_max`` (ts, running_max_f) and ``caps`` (ticker -> whole-degree top, None = open),
    brackets ruled out by the running max are zeroed before normalising.
    """
    # An empty side is a bound, not a gap: no bid means nobody pays more than 0, no ask means
    # nobody sells below 1. A far tail is typically quoted on one side only, and it still says
    # "cheap". Only a book with no side at all is no quote.
    bid = pl.col("yes_bid").cast(pl.Float64).fill_null(0.0)
    ask = pl.col("yes_ask").cast(pl.Float64).fill_null(1.0)
    any_side = pl.col("yes_bid").is_not_null() | pl.col("yes_ask").is_not_null()
    quoted = (
        book_known_at(candles)
        .with_columns(
            price=pl.when(any_side).then((bid + ask) / 2),
            spread=pl.when(any_side).then(ask - bid),
            quoted_at=pl.when(any_side).then(pl.col("ts")),
        )
        .with_columns(pl.col("price", "spread", "quoted_at").forward_fill().over("ticker"))
        .with_columns(
            fresh=(pl.col("ts") - pl.col("quoted_at")) <= pl.duration(minutes=settings.max_stale_minutes),
        )
        .with_columns(
            price=pl.when("fresh").then("price"),
            spread=pl.when("fresh").then("spread"),
        )
    )
    if running_max is not None:
        quoted = quoted.join(running_max.select("ts", "running_max_f").unique("ts"), on="ts", how="left")
    spread = pl.col("spread").mean().over("ts")
    liquidity = ((settings.spread_no_trust - spread) / (settings.spread_no_trust - settings.spread_full_trust)).clip(
        0, 1
    )
    return _normalised(quoted, caps).select("ticker", "ts", "p_mkt", liquidity.alias("liquidity"))


def trade_pmf(
    trades: pl.DataFrame,
    minutes: pl.Series,
    settings: FusionSettings,
    *,
    tickers: list[str],
    running_max: pl.DataFrame | None = None,
    caps: Mapping[str, int | None] | None = None,
) -> pl.DataFrame:
    """Per (ticker, minute): ``p_mkt`` from each bracket's last trade stamped at or before the minute.

    ``trades`` has ticker, ts, yes_price (as ``kalshi.trades``); ``minutes`` are the UTC minute starts
    to price; ``tickers`` is the ladder. ``liquidity`` halves every ``trade_age_half_life_minutes`` of
    the ladder's last-trade age (weighted by ``p_mkt``, so ruled-out brackets do not count). A bracket
    that has not traded yet has no price, so neither has the minute, unless the running max has ruled
    it out.
    """
    grid = pl.DataFrame({"ticker": tickers}).join(pl.DataFrame({"ts": minutes}), how="cross").sort("ts")
    tape = (
        trades.select("ticker", pl.col("ts").alias("traded_at"), pl.col("yes_price").cast(pl.Float64).alias("price"))
        .sort("traded_at")
        .unique(["ticker", "traded_at"], keep="last", maintain_order=True)
    )
    priced = grid.join_asof(
        tape, left_on="ts", right_on="traded_at", by="ticker", strategy="backward", check_sortedness=False
    )
    if running_max is not None:
        priced = priced.join(running_max.select("ts", "running_max_f").unique("ts"), on="ts", how="left")
    priced = _normalised(priced, caps)
    # The ladder's age is the probability-weighted mean of its last trades' ages: a far tail that last
    # traded at dawn carries little of the market's opinion, the favourites carry most of it.
    age_minutes = (pl.col("ts") - pl.col("traded_at")).dt.total_seconds() / 60.0
    age = (pl.col("p_mkt") * age_minutes).sum().over("ts") / pl.col("p_mkt").sum().over("ts")
    liquidity = (0.5 ** (age / settings.trade_age_half_life_minutes)).fill_null(0.0).fill_nan(0.0)
    return priced.select("ticker", "ts", "p_mkt", liquidity.alias("liquidity")).sort("ticker", "ts")


def day_market_pmf(
    candles: pl.DataFrame,
    trades: pl.DataFrame,
    hazard: pl.DataFrame,
    caps: Mapping[str, int | None],
    settings: FusionSettings,
) -> pl.DataFrame:
    """``market_pmf`` when the day has a quote grid with prices, else ``trade_pmf`` on the day's minutes.

    ``hazard`` (ticker, ts, running_max_f) gives the minutes to price and the running max that rules
    brackets out.
    """
    running = hazard.select("ts", "running_max_f").unique("ts")
    if not candles.is_empty():
        quoted = market_pmf(candles, settings, running_max=running, caps=caps)
        if quoted["p_mkt"].is_not_null().any():
            return quoted
    minutes = running.sort("ts")["ts"]
    return trade_pmf(trades, minutes, settings, tickers=list(caps), running_max=running, caps=caps)


def _logit(p: pl.Expr, eps: float) -> pl.Expr:
    clipped = p.clip(eps, 1 - eps)
    return (clipped / (1 - clipped)).log()


def fuse(
    hazard: pl.DataFrame,
    market: pl.DataFrame,
    settings: FusionSettings,
    caps: Mapping[str, int | None],
) -> pl.DataFrame:
    """Join the weather PMF (ticker, ts, p_wx, running_max_f, hazard_next_60m, baseline) with a market PMF and pool.

    ``market`` is ``market_pmf`` or ``trade_pmf`` output; ``caps`` maps each ticker to its bracket's
    whole-degree top (None = open above). Returns ticker, ts, p_wx, p_mkt, w_mkt, p_fused,
    p_fused_norm (p_fused_norm sums to 1 per minute).
    """
    cap = pl.col("ticker").replace_strict(dict(caps), default=None, return_dtype=pl.Int64)
    joined = hazard.select("ticker", "ts", "p_wx", "running_max_f", "hazard_next_60m", "baseline").join(
        market.select(MARKET_COLUMNS), on=["ticker", "ts"], how="left"
    )
    w_max = (
        pl.when(pl.col("baseline") == "climatology").then(settings.w_mkt_max_climatology).otherwise(settings.w_mkt_max)
    )
    w_mkt = (
        pl.when(pl.col("p_mkt").is_null())
        .then(0.0)
        .otherwise(w_max * pl.col("liquidity") * (1 - settings.hazard_shift * pl.col("hazard_next_60m")))
    )
    z = (1 - pl.col("w_mkt")) * _logit(pl.col("p_wx"), settings.eps) + pl.col("w_mkt") * _logit(
        pl.col("p_mkt").fill_null(0.5), settings.eps
    )
    pooled = (
        joined.with_columns(w_mkt=w_mkt.fill_null(0.0), dead=ruled_out(pl.col("running_max_f"), cap))
        .with_columns(
            p_fused=pl.when("dead")
            .then(0.0)
            .when(pl.col("w_mkt") == 0)
            .then(pl.col("p_wx").clip(settings.eps, 1.0))
            .otherwise(1 / (1 + (-z).exp()))
        )
        .with_columns(p_fused_norm=pl.col("p_fused") / pl.col("p_fused").sum().over("ts"))
    )
    return pooled.select("ticker", "ts", "p_wx", "p_mkt", "w_mkt", "p_fused", "p_fused_norm").sort("ticker", "ts")
