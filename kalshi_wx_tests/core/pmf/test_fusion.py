from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest

from kalshi_wx.core.pmf.fusion import FusionSettings, fuse, market_pmf, trade_pmf

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


# Whole-degree tops of the test ladders' brackets: A <= 80, B 81-82, C open above.
CAPS = {"A": 80, "B": 82, "C": None}


def hazard(
    p_wx: dict[str, list[float]], h60: float = 0.0, running_max: float | None = None, baseline: str = "forecast"
) -> pl.DataFrame:
    rows = [
        {
            "ticker": t,
            "ts": T0 + timedelta(minutes=i),
            "p_wx": p,
            "hazard_next_60m": h60,
            "running_max_f": running_max,
            "baseline": baseline,
        }
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
    # ladder-mean spread 0.04 between full trust (0.02) and none (0.20)
    assert two["liquidity"].to_list() == pytest.approx([16 / 18, 16 / 18])


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


def test_pool_sums_to_one_and_zeroes_only_brackets_the_running_max_rules_out():
    book = candles({"A": [("0.10", "0.12")] * 2, "B": [("0.40", "0.42")] * 2, "C": [("0.45", "0.47")] * 2})
    settings = FusionSettings()
    # A running max of 80.6 rounds to 81: A (<= 80) is dead, in p_mkt too, whatever its price.
    wx = hazard({"A": [0.0, 0.0], "B": [0.7, 0.6], "C": [0.3, 0.4]}, running_max=80.6)
    fused = fuse(wx, market_pmf(book, settings, running_max=wx, caps=CAPS), settings, CAPS)
    sums = fused.group_by("ts").agg(pl.col("p_fused_norm").sum())["p_fused_norm"]
    assert sums.to_list() == pytest.approx([1.0, 1.0])
    a = fused.filter(pl.col("ticker") == "A")
    assert a["p_fused_norm"].to_list() == [0.0, 0.0] and a["p_mkt"].to_list() == [0.0, 0.0]
    b = fused.filter(pl.col("ticker") == "B").row(0, named=True)
    assert b["p_mkt"] < b["p_fused"] < b["p_wx"]  # pooled between the two opinions
    # The same model zero with a running max that leaves A alive (80.4 rounds to 80) is only a tail.
    alive = hazard({"A": [0.0, 0.0], "B": [0.7, 0.6], "C": [0.3, 0.4]}, running_max=80.4)
    for market in (market_pmf(book, settings, running_max=alive, caps=CAPS), market_pmf(candles({}), settings)):
        tail = fuse(alive, market, settings, CAPS).filter(pl.col("ticker") == "A")["p_fused_norm"]
        assert (tail > 0).all()
    # Before the first observation hazard_pmf's running max is NaN: nothing is ruled out yet.
    unseen = hazard({"A": [0.0, 0.0], "B": [0.7, 0.6], "C": [0.3, 0.4]}, running_max=float("nan"))
    early = fuse(unseen, market_pmf(book, settings, running_max=unseen, caps=CAPS), settings, CAPS)
    assert (early["p_fused_norm"] > 0).all() and (early["p_mkt"] > 0).all()


def test_trade_pmf_takes_each_brackets_last_trade_and_trusts_it_less_with_age():
    def trade(ticker: str, minute: int, price: str) -> dict:
        return {"ticker": ticker, "ts": T0 + timedelta(minutes=minute), "yes_price": Decimal(price)}

    tape = pl.DataFrame(
        [trade("A", 0, "0.30"), trade("B", 1, "0.50"), trade("A", 2, "0.20"), trade("C", 3, "0.40")],
        schema={"ticker": pl.Utf8, "ts": pl.Datetime("us", "UTC"), "yes_price": PRICE},
    )
    minutes = pl.Series([T0 + timedelta(minutes=m) for m in (2, 3, 63)], dtype=pl.Datetime("us", "UTC"))
    settings = FusionSettings(trade_age_half_life_minutes=60)
    frame = trade_pmf(tape, minutes, settings, tickers=["A", "B", "C"])
    at = {ts: dict(zip(g["ticker"], g["p_mkt"], strict=True)) for (ts,), g in frame.group_by("ts")}
    assert at[minutes[0]]["A"] is None  # C has not traded yet: no market PMF
    assert at[minutes[1]] == pytest.approx({"A": 0.2 / 1.1, "B": 0.5 / 1.1, "C": 0.4 / 1.1})
    liquidity = dict(zip(frame["ts"], frame["liquidity"], strict=False))
    # ages 1, 2, 0 minutes, weighted 0.2, 0.5, 0.4 (over 1.1)
    assert liquidity[minutes[1]] == pytest.approx(0.5 ** ((0.2 * 1 + 0.5 * 2 + 0.4 * 0) / 1.1 / 60))
    assert liquidity[minutes[2]] == pytest.approx(0.5 ** ((0.2 * 61 + 0.5 * 62 + 0.4 * 60) / 1.1 / 60))
    # A running max of 81 rules A out: its stale price no longer counts, and neither does its age.
    running = pl.DataFrame({"ts": minutes, "running_max_f": [81.0] * 3})
    dead = trade_pmf(tape, minutes, settings, tickers=["A", "B", "C"], running_max=running, caps=CAPS)
    row = dead.filter(pl.col("ts") == minutes[1]).sort("ticker")
    assert row["p_mkt"].to_list() == pytest.approx([0.0, 0.5 / 0.9, 0.4 / 0.9])
    assert row["liquidity"][0] == pytest.approx(0.5 ** ((0.5 * 2 + 0.4 * 0) / 0.9 / 60))


def test_equal_opinions_pool_to_themselves_and_missing_market_means_weather_only():
    wx = hazard({"A": [0.25], "B": [0.75]})
    same = market_pmf(candles({"A": [("0.24", "0.26")], "B": [("0.74", "0.76")]}), FusionSettings())
    fused = fuse(wx, same, FusionSettings(), CAPS).sort("ticker")
    assert fused["p_fused"].to_list() == pytest.approx([0.25, 0.75], abs=1e-9)
    none = market_pmf(candles({"A": [None], "B": [("0.74", "0.76")]}), FusionSettings())
    alone = fuse(wx, none, FusionSettings(), CAPS).sort("ticker")
    assert alone["w_mkt"].to_list() == [0.0, 0.0] and alone["p_fused_norm"].to_list() == [0.25, 0.75]


def test_market_weight_falls_with_spread_and_with_hazard():
    wx = {"A": [0.3], "B": [0.7]}
    tight = market_pmf(candles({"A": [("0.49", "0.51")], "B": [("0.49", "0.51")]}), FusionSettings())
    wide = market_pmf(candles({"A": [("0.40", "0.55")], "B": [("0.45", "0.60")]}), FusionSettings())
    settings = FusionSettings()
    w_tight = fuse(hazard(wx), tight, settings, CAPS)["w_mkt"][0]
    w_wide = fuse(hazard(wx), wide, settings, CAPS)["w_mkt"][0]
    w_hazard = fuse(hazard(wx, h60=1.0), tight, settings, CAPS)["w_mkt"][0]
    assert w_tight == pytest.approx(settings.w_mkt_max)
    assert 0 < w_wide < w_tight
    assert w_hazard == pytest.approx(settings.w_mkt_max * (1 - settings.hazard_shift))
    w_climatology = fuse(hazard(wx, baseline="climatology"), tight, settings, CAPS)["w_mkt"][0]
    assert w_climatology == pytest.approx(settings.w_mkt_max_climatology)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="spread_full_trust"):
        FusionSettings(spread_full_trust=0.3, spread_no_trust=0.2)
    with pytest.raises(ValueError, match="eps"):
        FusionSettings(eps=0.7)
