"""Fuse the weather PMF with the market's own prices.

``p_mkt`` is the ladder's mids normalised to sum to 1 (a quote may be carried forward a few
minutes, never further); a minute where some bracket has no usable mid has no ``p_mkt``. The pool
is logit-linear per bracket,

    logit p_fused = (1 - w) logit p_wx + w logit p_mkt,

then renormalised over the ladder (``p_fused_norm``). The market weight ``w`` grows with
liquidity (tight spreads) and shrinks while a new high is likely within the hour (high hazard),
when 5-minute observations move faster than quotes. Brackets the running maximum has already
ruled out (``p_wx == 0``) stay at 0: the market cannot revive them.
"""

from __future__ import annotations

import polars as pl
from pydantic.dataclasses import dataclass

from kalshi_wx.core.config_types import SETTINGS_CONFIG, Real, Whole
from kalshi_wx.core.quotes import book_known_at


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class FusionSettings:
    eps: Real = 1e-4  # probabilities are clipped to [eps, 1 - eps] before the logit
    max_stale_minutes: Whole = 30  # how long a two-sided quote may be carried forward
    w_mkt_max: Real = 0.6  # market weight at full liquidity and zero hazard
    spread_full_trust: Real = 0.02  # ladder-mean spread (dollars) at or below which liquidity = 1
    spread_no_trust: Real = 0.20  # ... at or above which liquidity = 0
    hazard_shift: Real = 0.5  # fraction of the market weight removed at hazard_next_60m = 1

    def __post_init__(self) -> None:
        if not 0 < self.eps < 0.5:
            raise ValueError(f"fusion eps {self.eps} must lie in (0, 0.5)")
        if not 0 <= self.w_mkt_max <= 1 or not 0 <= self.hazard_shift <= 1:
            raise ValueError("fusion w_mkt_max and hazard_shift must lie in [0, 1]")
        if not 0 <= self.spread_full_trust < self.spread_no_trust:
            raise ValueError("fusion spread_full_trust must be below spread_no_trust")


def market_pmf(candles: pl.DataFrame, settings: FusionSettings) -> pl.DataFrame:
    """Per (ticker, ts): ``p_mkt`` and the ladder-mean ``spread`` from a dense 1-minute candle grid.

    ``candles`` needs ticker, ts, yes_bid, yes_ask (null = empty side), as in ``kalshi.candles_1m``.
    """
    n_brackets = candles["ticker"].n_unique()
    # An empty side is a bound, not a gap: no bid means nobody pays more than 0, no ask means
    # nobody sells below 1. A far tail is typically quoted on one side only, and it still says
    # "cheap". Only a book with no side at all is no quote.
    bid = pl.col("yes_bid").cast(pl.Float64).fill_null(0.0)
    ask = pl.col("yes_ask").cast(pl.Float64).fill_null(1.0)
    any_side = pl.col("yes_bid").is_not_null() | pl.col("yes_ask").is_not_null()
    quoted = (
        book_known_at(candles)
        .with_columns(
            mid=pl.when(any_side).then((bid + ask) / 2),
            spread=pl.when(any_side).then(ask - bid),
            quoted_at=pl.when(any_side).then(pl.col("ts")),
        )
        .with_columns(pl.col("mid", "spread", "quoted_at").forward_fill().over("ticker"))
        .with_columns(
            fresh=(pl.col("ts") - pl.col("quoted_at")) <= pl.duration(minutes=settings.max_stale_minutes),
        )
        .with_columns(
            mid=pl.when("fresh").then("mid"),
            spread=pl.when("fresh").then("spread"),
        )
    )
    by_minute = pl.col("ts")
    return quoted.select(
        "ticker",
        "ts",
        pl.when(pl.col("mid").count().over(by_minute) == n_brackets)
        .then(pl.col("mid") / pl.col("mid").sum().over(by_minute))
        .alias("p_mkt"),
        pl.col("spread").mean().over(by_minute).alias("spread"),
    )


def _logit(p: pl.Expr, eps: float) -> pl.Expr:
    clipped = p.clip(eps, 1 - eps)
    return (clipped / (1 - clipped)).log()


def fuse(hazard: pl.DataFrame, market: pl.DataFrame, settings: FusionSettings) -> pl.DataFrame:
    """Join the weather PMF (ticker, ts, p_wx, hazard_next_60m) with ``market_pmf`` output and pool.

    Returns ticker, ts, p_wx, p_mkt, w_mkt, p_fused, p_fused_norm (p_fused_norm sums to 1 per minute).
    """
    liquidity = (
        (settings.spread_no_trust - pl.col("spread")) / (settings.spread_no_trust - settings.spread_full_trust)
    ).clip(0, 1)
    joined = hazard.select("ticker", "ts", "p_wx", "hazard_next_60m").join(market, on=["ticker", "ts"], how="left")
    w_mkt = (
        pl.when(pl.col("p_mkt").is_null())
        .then(0.0)
        .otherwise(settings.w_mkt_max * liquidity * (1 - settings.hazard_shift * pl.col("hazard_next_60m")))
    )
    z = (1 - pl.col("w_mkt")) * _logit(pl.col("p_wx"), settings.eps) + pl.col("w_mkt") * _logit(
        pl.col("p_mkt").fill_null(0.5), settings.eps
    )
    pooled = (
        joined.with_columns(w_mkt=w_mkt.fill_null(0.0))
        .with_columns(
            p_fused=pl.when(pl.col("p_wx") == 0)
            .then(0.0)
            .when(pl.col("w_mkt") == 0)
            .then(pl.col("p_wx"))
            .otherwise(1 / (1 + (-z).exp()))
        )
        .with_columns(p_fused_norm=pl.col("p_fused") / pl.col("p_fused").sum().over("ts"))
    )
    return pooled.select("ticker", "ts", "p_wx", "p_mkt", "w_mkt", "p_fused", "p_fused_norm").sort("ticker", "ts")
