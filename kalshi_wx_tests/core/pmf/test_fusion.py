from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest

from kalshi_wx.core.pmf.fusion import FusionSettings, fuse, market_pmf

T0 = datetime(2026, 6, 1, 5, tzinfo=UTC)
PRICE = pl.Decimal(12, 6)


def candles(quotes: dict[str, list[tuple[str, str] | None]]) -> pl.DataFrame:
    """Dense candle grid where quotes[t][i] is the book KNOWN at minute i (None = empty book).

    A candle stamped s closes at s + 1 min, so the book known at minute i is the bar stamped i - 1.
    """
    rows = []
    for ticker, minutes in quotes.items():
        # One more bar than quotes: the grid is dense, so minute len-1 has a row of its own, whose
        # own close (an empty book here) is only known after the last minute asked about.
        for i, quote in enumerate([*minutes, None]):
            bid, ask = quote or (None, None)  # (None, "0.04") is a book with asks only
            rows.append(
                {
                    "ticker": ticker,
                    "ts": T0 + timedelta(minutes=i - 1),
                    "yes_bid": Decimal(bid) if bid else None,
                    "yes_ask": Decimal(ask) if ask else None,
                    "has_quote": bool(bid and ask),
                }
            )
    return pl.DataFrame(
        rows,
        schema={"ticker": pl.Utf8, "ts": pl.Datetime("us", "UTC"), "yes_bid": PRICE, "yes_ask": PRICE,
                "has_quote": pl.Boolean},
    )  # fmt: skip


def known(frame: pl.DataFrame) -> pl.DataFrame:
    """market_pmf rows from T0 on: the row stamped T0 - 1 min has no closed bar before it."""
    return frame.filter(pl.col("ts") >= T0)


def hazard(p_wx: dict[str, list[float]], h60: float = 0.0) -> pl.DataFrame:
    rows = [
        {"ticker": t, "ts": T0 + timedelta(minutes=i), "p_wx": p, "hazard_next_60m": h60}
        for t, ps in p_wx.items()
        for i, p in enumerate(ps)
    ]
    return pl.DataFrame(rows)


def test_market_pmf_normalises_mids_and_needs_every_bracket():
    frame = known(
        market_pmf(
            candles({"A": [("0.20", "0.24"), None], "B": [("0.50", "0.54"), ("0.50", "0.54")], "C": [None, None]}),
            FusionSettings(),
        )
    )
    assert frame.filter(pl.col("ticker") == "A")["p_mkt"].to_list() == [None, None]  # C never quoted
    two = known(market_pmf(candles({"A": [("0.20", "0.24")], "B": [("0.70", "0.74")]}), FusionSettings()))
    assert two.sort("ticker")["p_mkt"].to_list() == pytest.approx([0.22 / 0.94, 0.72 / 0.94])
    assert two["spread"].to_list() == pytest.approx([0.04, 0.04])


def test_one_sided_books_are_bounds_and_empty_books_are_gaps():
    one_sided = candles({"A": [(None, "0.04")], "B": [("0.90", "0.94")]})  # A: asks only
    frame = known(market_pmf(one_sided, FusionSettings())).sort("ticker")
    assert frame["p_mkt"].to_list() == pytest.approx([0.02 / 0.94, 0.92 / 0.94])
    empty = known(market_pmf(candles({"A": [None], "B": [("0.90", "0.94")]}), FusionSettings()))
    assert empty["p_mkt"].to_list() == [None, None]


def test_quotes_are_carried_only_while_fresh():
    quotes = {"A": [("0.40", "0.42")] + [None] * 4, "B": [("0.58", "0.60")] * 5}
    frame = known(market_pmf(candles(quotes), FusionSettings(max_stale_minutes=2))).filter(pl.col("ticker") == "A")
    assert [p is not None for p in frame.sort("ts")["p_mkt"]] == [True, True, True, False, False]


def test_a_bar_is_used_only_once_it_has_closed():
    grid = candles({"A": [("0.40", "0.42"), ("0.10", "0.12")], "B": [("0.58", "0.60"), ("0.88", "0.90")]})
    by_minute = market_pmf(grid, FusionSettings()).filter(pl.col("ticker") == "A").sort("ts")
    # The bar stamped T0 (closing at T0 + 1 min) must not move p_mkt at T0.
    assert by_minute.filter(pl.col("ts") == T0)["p_mkt"].item() == pytest.approx(0.41)
    changed = grid.with_columns(
        yes_bid=pl.when(pl.col("ts") == T0).then(pl.lit(Decimal("0.99")).cast(PRICE)).otherwise("yes_bid")
    )
    again = market_pmf(changed, FusionSettings()).filter((pl.col("ticker") == "A") & (pl.col("ts") <= T0))
    assert again.sort("ts")["p_mkt"].to_list() == by_minute.filter(pl.col("ts") <= T0)["p_mkt"].to_list()


def test_pool_sums_to_one_and_keeps_the_weather_zeros():
    wx = hazard({"A": [0.0, 0.0], "B": [0.7, 0.6], "C": [0.3, 0.4]})
    mkt = market_pmf(
        candles({"A": [("0.10", "0.12")] * 2, "B": [("0.40", "0.42")] * 2, "C": [("0.45", "0.47")] * 2}),
        FusionSettings(),
    )
    fused = fuse(wx, mkt, FusionSettings())
    sums = fused.group_by("ts").agg(pl.col("p_fused_norm").sum())["p_fused_norm"]
    assert sums.to_list() == pytest.approx([1.0, 1.0])
    assert fused.filter(pl.col("ticker") == "A")["p_fused_norm"].to_list() == [0.0, 0.0]
    b = fused.filter(pl.col("ticker") == "B").row(0, named=True)
    assert b["p_mkt"] < b["p_fused"] < b["p_wx"]  # pooled between the two opinions


def test_equal_opinions_pool_to_themselves_and_missing_market_means_weather_only():
    wx = hazard({"A": [0.25], "B": [0.75]})
    same = market_pmf(candles({"A": [("0.24", "0.26")], "B": [("0.74", "0.76")]}), FusionSettings())
    fused = fuse(wx, same, FusionSettings()).sort("ticker")
    assert fused["p_fused"].to_list() == pytest.approx([0.25, 0.75], abs=1e-9)
    none = market_pmf(candles({"A": [None], "B": [("0.74", "0.76")]}), FusionSettings())
    alone = fuse(wx, none, FusionSettings()).sort("ticker")
    assert alone["w_mkt"].to_list() == [0.0, 0.0] and alone["p_fused_norm"].to_list() == [0.25, 0.75]


def test_market_weight_falls_with_spread_and_with_hazard():
    wx = {"A": [0.3], "B": [0.7]}
    tight = market_pmf(candles({"A": [("0.49", "0.51")], "B": [("0.49", "0.51")]}), FusionSettings())
    wide = market_pmf(candles({"A": [("0.40", "0.55")], "B": [("0.45", "0.60")]}), FusionSettings())
    settings = FusionSettings()
    w_tight = fuse(hazard(wx), tight, settings)["w_mkt"][0]
    w_wide = fuse(hazard(wx), wide, settings)["w_mkt"][0]
    w_hazard = fuse(hazard(wx, h60=1.0), tight, settings)["w_mkt"][0]
    assert w_tight == pytest.approx(settings.w_mkt_max)
    assert 0 < w_wide < w_tight
    assert w_hazard == pytest.approx(settings.w_mkt_max * (1 - settings.hazard_shift))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="spread_full_trust"):
        FusionSettings(spread_full_trust=0.3, spread_no_trust=0.2)
    with pytest.raises(ValueError, match="eps"):
        FusionSettings(eps=0.7)
