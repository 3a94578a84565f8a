"""Hand-made books, prints and signals for engine scenarios, a strategy that follows a script and a
recorder of what a strategy was shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl

from kalshi_wx.core.backtest import BacktestConfig, FeeSchedule, MinuteView, run_backtest

D = Decimal
T0 = datetime(2026, 6, 1, 5, tzinfo=UTC)
TK = "KXHIGHNY-26JUN01-B72.5"
TK2 = "KXHIGHNY-26JUN01-B74.5"
MAKER_FEES = FeeSchedule("quadratic_with_maker_fees", D(1))
NO_MAKER_FEES = FeeSchedule("quadratic", D(1))
PRICE = pl.Decimal(12, 6)


def at(minutes: float) -> datetime:
    return T0 + timedelta(seconds=round(minutes * 60))


def book(n: int = 5, tickers=(TK,), quotes: dict | None = None) -> pl.DataFrame:
    """bid 0.40 / ask 0.45 everywhere unless ``quotes[(ticker, minute)] = (bid, ask)``."""
    quotes = quotes or {}
    rows = [
        (t, at(k), *(D(x) if x is not None else None for x in quotes.get((t, k), ("0.40", "0.45"))))
        for t in tickers
        for k in range(n)
    ]
    return pl.DataFrame(
        rows,
        schema={"ticker": pl.Utf8, "ts": pl.Datetime("us", "UTC"), "yes_bid": PRICE, "yes_ask": PRICE},
        orient="row",
    )


def trades(*rows: tuple[str, float, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [(t, at(m), D(p), D(c)) for t, m, p, c in rows],
        schema={"ticker": pl.Utf8, "ts": pl.Datetime("us", "UTC"), "yes_price": PRICE, "count": pl.Decimal(18, 2)},
        orient="row",
    )


def signal(p: float = 0.5, n: int = 5, tickers=(TK,)) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ticker": [t for t in tickers for _ in range(n)],
            "ts": [at(k) for _ in tickers for k in range(n)],
            "p_yes": [p] * (n * len(tickers)),
        }
    )


class Script:
    """Places the given intents at given minutes and records every view it is handed."""

    name = "script"

    def __init__(self, plan: dict[int, list]):
        self.plan = plan
        self.views: list[MinuteView] = []

    def start_day(self, tickers, first_ts):
        self.views.clear()

    def on_minute(self, view):
        self.views.append(view)
        return self.plan.get(view.minute, [])


def run(plan, trades_frame=None, fees=MAKER_FEES, settled=None, config=None, book_frame=None, n=5):
    strategy = Script(plan)
    result = run_backtest(
        book_frame if book_frame is not None else book(n),
        trades_frame if trades_frame is not None else trades(),
        signal(n=n),
        strategy,
        fees,
        settled,
        config or BacktestConfig(),
    )
    return result, strategy


class Recorder:
    """Wraps a strategy and keeps every view it was handed."""

    def __init__(self, inner):
        self.inner, self.name, self.views = inner, inner.name, []

    def start_day(self, tickers, first_ts):
        self.inner.start_day(tickers, first_ts)

    def on_minute(self, view):
        self.views.append(view)
        return self.inner.on_minute(view)
