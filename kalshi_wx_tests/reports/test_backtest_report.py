"""The range report as a trader sees it: rendered by headless Chromium, plots visibly drawn."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from matplotlib import image

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.payloads.kalshi import markets_frame
from kalshi_wx.defs.settings import settings
from kalshi_wx.reports.backtest import RangeReport, build_range_report
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import BACKTEST_DAYS, BACKTEST_FILLS, FUSED_PMF, MARKETS, SETTLEMENT

DAYS = {date(2026, 6, 1): 71, date(2026, 6, 2): 76}  # real CLI highs of the real ladders


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("headless Chromium is required in CI (.ci/run installs Debian's chromium)")
    pytest.skip("chromium not installed (apt-get install chromium)")


@pytest.fixture
def warehouse(tmp_path, real_markets) -> Warehouse:
    warehouse = Warehouse(url=f"duckdb://{tmp_path / 'w.duckdb'}")
    for day, high in DAYS.items():
        event = f"KXHIGHNY-{day:%y}{day.strftime('%b').upper()}{day:%d}"
        markets = markets_frame(
            [m for m in real_markets if m["event_ticker"] == event], city="nyc", climate_date=day, source="t", tiers={}
        )
        warehouse.write_partition(MARKETS, markets, "nyc", day)
        warehouse.write_partition(
            SETTLEMENT,
            pl.DataFrame(
                # The settlement columns the report reads; the cross-checks stay null.
                [
                    {
                        "city": "nyc",
                        "climate_date": day,
                        "station": "KNYC",
                        "max_f": high,
                        "min_f": 60,
                        "report_type": "final",
                        "product_id": "p",
                        "kalshi_expiration_value": high,
                        "raw_text": "",
                    }
                ],
                schema=SETTLEMENT.columns,
            ),  # fmt: skip
            "nyc",
            day,
        )
        start, _ = climate_day_window(day, -5)
        minutes = [start + timedelta(minutes=m) for m in range(0, 1440, 30)]
        tickers = markets["ticker"].to_list()
        rng = np.random.default_rng(day.toordinal())
        p = rng.dirichlet(np.ones(len(tickers)), size=len(minutes))
        warehouse.write_partition(
            FUSED_PMF,
            pl.DataFrame(
                [
                    {
                        "city": "nyc",
                        "climate_date": day,
                        "ticker": t,
                        "ts": ts,
                        "p_wx": float(p[i, j]),
                        "p_mkt": None,
                        "w_mkt": 0.0,
                        "p_fused": float(p[i, j]),
                        "p_fused_norm": float(p[i, j]),
                    }
                    for i, ts in enumerate(minutes)
                    for j, t in enumerate(tickers)
                ],
                schema=FUSED_PMF.columns,
            ),  # fmt: skip
            "nyc",
            day,
        )
    # Day 1: bought 10 YES of the winning bracket at 0.40 (fee 0.17) and 5 NO of a loser at 0.70 (fee 0.08).
    # Day 2: bought 10 YES of a loser at 0.20 (fee 0.12).
    fills = [
        ("fused_edge", date(2026, 6, 1), "KXHIGHNY-26JUN01-B70.5", "yes", "0.40", 10, "0.17", "1", 15),
        ("fused_edge", date(2026, 6, 1), "KXHIGHNY-26JUN01-B72.5", "no", "0.70", 5, "0.08", "1", 18),
        ("fused_edge", date(2026, 6, 2), "KXHIGHNY-26JUN02-B73.5", "yes", "0.20", 10, "0.12", "0", 11),
    ]
    for day in DAYS:
        rows = [
            {"city": "nyc", "climate_date": d, "strategy": s, "fill_id": i, "order_id": i, "ticker": t,
             "ts": datetime(d.year, d.month, d.day, h, tzinfo=UTC), "side": side, "price": Decimal(px), "count": n,
             "liquidity": "maker", "fee": Decimal(fee), "payout": Decimal(pay), "p_signal": 0.5}
            for i, (s, d, t, side, px, n, fee, pay, h) in enumerate(fills) if d == day
        ]  # fmt: skip
        warehouse.write_partition(BACKTEST_FILLS, pl.DataFrame(rows, schema=BACKTEST_FILLS.columns), "nyc", day)
        # fused_edge ran both days; model_move only on the second (its first model), without a fill.
        ran = ["fused_edge", "model_move"] if day == date(2026, 6, 2) else ["fused_edge"]
        days = [
            {
                "city": "nyc",
                "climate_date": day,
                "strategy": s,
                "exit_rule": "hold",
                "model_sha256": None,
                "n_orders": 0,
                "n_fills": 0,
                "contracts": 0,
                "gross": Decimal(0),
                "fees": Decimal(0),
                "net": Decimal(0),
                "settled": True,
            }
            for s in ran
        ]  # fmt: skip  (only strategy, climate_date and settled are read by the report)
        warehouse.write_partition(BACKTEST_DAYS, pl.DataFrame(days, schema=BACKTEST_DAYS.columns), "nyc", day)
    return warehouse


def _report(warehouse: Warehouse, start: date, end: date) -> RangeReport:
    span = {"city": "nyc", "dates": (start, end)}
    return build_range_report(
        settings().city("nyc"),
        start,
        end,
        markets=warehouse.read(MARKETS, **span),
        fills=warehouse.read(BACKTEST_FILLS, **span),
        strategy_days=warehouse.read(BACKTEST_DAYS, **span),
        fused=warehouse.read(FUSED_PMF, **span),
        settlement=warehouse.read(SETTLEMENT, **span),
    )


def test_headline_numbers_are_computed_by_hand(warehouse):
    report = _report(warehouse, date(2026, 6, 1), date(2026, 6, 2))
    row, model = report.summary.iter_rows(named=True)
    # model_move ran one day and did not trade: one flat day, not two, and no Sharpe from one day.
    assert (model["strategy"], model["days"], model["fills"], model["net"]) == ("model_move", 1, 0, 0.0)
    assert model["sharpe_by_day"] is None and model["max_drawdown"] == 0.0
    assert (row["strategy"], row["days"]) == ("fused_edge", 2)
    # gross: 10 * (1 - 0.40) + 5 * (1 - 0.70) + 10 * (0 - 0.20) = 6.00 + 1.50 - 2.00 = 5.50
    assert row["gross"] == pytest.approx(5.50) and row["fees"] == pytest.approx(0.37)
    assert row["net"] == pytest.approx(5.13) and row["hit_rate"] == pytest.approx(2 / 3)
    # daily net: 7.50 - 0.25 = 7.25, then -2.12: drawdown 2.12; Sharpe = mean / sd of (7.25, -2.12)
    assert row["max_drawdown"] == pytest.approx(2.12)
    assert row["sharpe_by_day"] == pytest.approx(((7.25 - 2.12) / 2) / np.std([7.25, -2.12], ddof=1))


def test_report_renders_in_headless_chromium_with_visible_plots(warehouse, tmp_path):
    text = _report(warehouse, date(2026, 6, 1), date(2026, 6, 2)).html
    page = tmp_path / "report.html"
    page.write_text(text)
    assert text.count("data:image/png;base64,") == 3 and "http://" not in text and "https://" not in text
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}", f"--screenshot={shot}", "--window-size=1100,2600",
            "--hide-scrollbars", page.as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pixels = image.imread(shot)[:, :, :3]
    assert pixels.shape[0] == 2600 and pixels.std() > 0.05  # not a blank page
    # matplotlib's first colour (tab:blue, #1f77b4) draws the equity line, the reliability dots and the
    # bars: if the images failed to decode, no pixel of that colour would be on screen.
    tab_blue = np.array([0x1F, 0x77, 0xB4]) / 255
    blue = np.all(np.abs(pixels - tab_blue) < 0.06, axis=2)
    assert blue.sum() > 500, blue.sum()
    # and the plots sit in three separate bands of the page
    rows_with_blue = np.flatnonzero(blue.any(axis=1))
    assert len(np.split(rows_with_blue, np.flatnonzero(np.diff(rows_with_blue) > 40) + 1)) >= 3


def test_empty_range_is_refused(warehouse):
    with pytest.raises(ValueError, match="no markets for nyc between 2026-07-01 and 2026-07-02"):
        _report(warehouse, date(2026, 7, 1), date(2026, 7, 2))
