"""Table schemas of the warehouse: one declaration serves DuckDB, PostgreSQL and validation.

Asset key ``[group, name]`` is table ``group.name``. Prices are exact decimals (Kalshi's fixed-point
strings); timestamps are UTC microseconds; ``climate_date`` is the local-standard-time day.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kalshi_wx.core.dtypes import COUNT, MONEY, PRICE, UTC_TS, ColumnTypes
from kalshi_wx.core.models.features import PANEL_FEATURES
from kalshi_wx.core.payloads.forecasts import FORECAST_SCHEMA
from kalshi_wx.core.payloads.kalshi import MARKETS_SCHEMA, TRADES_SCHEMA
from kalshi_wx.core.payloads.observations import STATION_OBS_SCHEMA
from kalshi_wx.core.settlement import SETTLEMENT_SCHEMA

# The raw tables' columns are declared where their frames are built (core); the warehouse adds
# the table name and key. PRICE: Kalshi emits up to 6 decimals; COUNT: contracts trade in 0.01 units.


@dataclass(frozen=True)
class TableSchema:
    name: str  # "group.table"
    columns: ColumnTypes  # a dtype class (pl.Utf8) or instance (pl.Decimal(12, 6))
    key: tuple[str, ...]  # unique within a partition
    partitioned: bool = True

    @property
    def group(self) -> str:
        return self.name.split(".")[0]

    @property
    def table(self) -> str:
        return self.name.split(".")[1]

    @property
    def polars_schema(self) -> pl.Schema:
        return pl.Schema(self.columns)

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Select and cast ``frame`` to this schema, naming the columns that are missing or extra."""
        missing = [c for c in self.columns if c not in frame.columns]
        extra = [c for c in frame.columns if c not in self.columns]
        if missing or extra:
            raise ValueError(
                f"frame for {self.name} does not match its schema: missing {missing or 'none'}, "
                f"unexpected {extra or 'none'}"
            )
        try:
            return frame.select([pl.col(c).cast(t, strict=True) for c, t in self.columns.items()])
        except pl.exceptions.PolarsError as exc:
            raise ValueError(f"frame for {self.name} has a column of the wrong type: {exc}") from exc


PARTITION_COLUMNS: ColumnTypes = {"city": pl.Utf8, "climate_date": pl.Date}


def _partitioned(name: str, key: tuple[str, ...], **columns: pl.DataType | type[pl.DataType]) -> TableSchema:
    return TableSchema(name, {**PARTITION_COLUMNS, **columns}, key)


SERIES = TableSchema(
    "kalshi.series",
    {
        "series_ticker": pl.Utf8,
        "title": pl.Utf8,
        "frequency": pl.Utf8,
        "fee_type": pl.Utf8,
        "fee_multiplier": PRICE,
        "settlement_source_urls": pl.Utf8,  # JSON list
        "fetched_at": UTC_TS,
        "raw_json": pl.Utf8,
    },
    key=("series_ticker",),
    partitioned=False,
)

MARKETS = TableSchema("kalshi.markets", MARKETS_SCHEMA, ("ticker",))

CANDLES_1M = _partitioned(
    "kalshi.candles_1m",
    ("ticker", "ts"),
    ticker=pl.Utf8,
    ts=UTC_TS,  # minute start
    yes_bid=PRICE,  # null when the bid side is empty
    yes_ask=PRICE,  # null when the ask side is empty
    has_quote=pl.Boolean,
    trade_price=PRICE,  # last trade in the minute, null when none
    volume=COUNT,
    open_interest=COUNT,
    is_filled=pl.Boolean,  # no candle this minute: carried forward from the last one
    raw_json=pl.Utf8,  # the candle as served, null on filled minutes
)

TRADES = TableSchema("kalshi.trades", TRADES_SCHEMA, ("trade_id",))

STATION_OBS = TableSchema("weather.station_obs", dict(STATION_OBS_SCHEMA), ("ts",))

SETTLEMENT = TableSchema("weather.settlement", SETTLEMENT_SCHEMA, ("city", "climate_date"))

FORECAST = TableSchema("weather.forecast", dict(FORECAST_SCHEMA), ("issued_at", "ts"))

HAZARD_PARAMS = _partitioned(
    "pmf.hazard_params",
    ("hour_lst",),
    hour_lst=pl.Int32,  # hour of the climate day, local standard time
    phi=pl.Float64,  # per-minute AR(1) coefficient of the residual against the baseline
    sigma=pl.Float64,  # per-minute innovation sd (degF) for this hour
    noise_sd=pl.Float64,  # white measurement noise (degF) of each reading, on top of the AR(1)
    fit_start=pl.Date,  # trailing fit window, always ending before climate_date
    fit_end=pl.Date,
    n_days=pl.Int32,
    method=pl.Utf8,  # "fit" or "prior" (too few trailing days)
    trailing_high_f=pl.Float64,  # mean observed high/low of the trailing days: the baseline
    trailing_low_f=pl.Float64,  # shape when no forecast was issued before the day (null if none)
    # Observation model: P(CLI high - rounded record max = d) on a complete record, d = 0..3 (3 = 3 or more).
    p_excess_0f=pl.Float64,
    p_excess_1f=pl.Float64,
    p_excess_2f=pl.Float64,
    p_excess_3f=pl.Float64,
    excess_days=pl.Int32,  # complete trailing days the excess was fitted on (the rest is its prior)
)

HAZARD_PMF = _partitioned(
    "pmf.hazard_pmf",
    ("ticker", "ts"),
    ticker=pl.Utf8,
    ts=UTC_TS,  # minute start; uses observations stamped <= ts only
    running_max_f=pl.Float64,
    p_wx=pl.Float64,
    hazard_next_5m=pl.Float64,
    hazard_next_60m=pl.Float64,
    baseline=pl.Utf8,  # forecast | climatology: what the day's baseline path was built from
)

FUSED_PMF = _partitioned(
    "pmf.fused_pmf",
    ("ticker", "ts"),
    ticker=pl.Utf8,
    ts=UTC_TS,
    p_wx=pl.Float64,
    p_mkt=pl.Float64,  # normalised market mid; null while the ladder has no usable quotes
    w_mkt=pl.Float64,  # weight of the market in the logit pool
    p_fused=pl.Float64,
    p_fused_norm=pl.Float64,
)

BACKTEST_FILLS = _partitioned(
    "backtest.backtest_report",
    ("strategy", "fill_id"),
    strategy=pl.Utf8,
    fill_id=pl.Int64,  # sequence within the strategy's day
    order_id=pl.Int64,
    ticker=pl.Utf8,
    ts=UTC_TS,
    side=pl.Utf8,  # "yes" or "no": the contract bought
    price=PRICE,  # dollars paid per contract of that side
    count=pl.Int64,
    liquidity=pl.Utf8,  # "maker" or "taker"
    fee=PRICE,  # dollars, this fill's share of the order's rounded fee
    payout=PRICE,  # dollars per contract at settlement; null until settled
    # The strategy's probability, at ts, that the contract bought pays out (settlement strategies)
    # or that the mid moves its way over the model's horizon (model_move).
    p_signal=pl.Float64,
)

# One row per strategy backtested on the day, with or without fills: the days a strategy ran are
# what its daily PnL, Sharpe and drawdown are taken over (model_move only runs once a model exists).
BACKTEST_DAYS = _partitioned(
    "backtest.strategy_days",
    ("strategy",),
    strategy=pl.Utf8,
    exit_rule=pl.Utf8,  # hold | time
    model_sha256=pl.Utf8,  # the artifact model_move traded with; null for the other strategies
    n_orders=pl.Int64,
    n_fills=pl.Int64,
    contracts=pl.Int64,
    turnover=MONEY,  # premium paid: price x count over the fills
    gross=MONEY,
    fees=MONEY,
    net=MONEY,
    hit_rate=pl.Float64,  # share of traded tickers with positive net; null if none traded or unsettled
    max_drawdown=pl.Float64,  # dollars, from the intraday equity curve (positions marked to the mid)
    settled=pl.Boolean,  # false: marked to the last mid, not settled
)

# One row per (horizon, model) of a models/cross_bracket_model run. Its asset (models/metrics) is
# partitioned by city alone, so the rows' climate_date, the training window's last day, completes the
# slice: (city, that day) holds one run, and re-training the same window replaces it.
MODEL_METRICS = _partitioned(
    "models.metrics",
    ("horizon_min", "model"),
    horizon_min=pl.Int32,
    model=pl.Utf8,  # logreg | xgboost
    window_start=pl.Date,
    train_start=pl.Date,  # the day splits, chronological and whole days
    train_end=pl.Date,
    val_start=pl.Date,  # calibration days
    val_end=pl.Date,
    test_start=pl.Date,  # the days scored below
    test_end=pl.Date,
    n_train=pl.Int64,  # labelled rows (moves beyond eps) per split
    n_val=pl.Int64,
    n_test=pl.Int64,
    accuracy=pl.Float64,
    roc_auc=pl.Float64,
    brier=pl.Float64,
    brier_base_rate=pl.Float64,  # Brier of always predicting the training up-rate
    ece=pl.Float64,  # expected calibration error, 10 equal-width bins
    test_up_rate=pl.Float64,
    calibration=pl.Utf8,
    seed=pl.Int64,
    artifact_sha256=pl.Utf8,
)

# One row per models/cross_bracket_model run, sliced like models.metrics. A backtest of day D loads
# the run whose window ended last before D (core.models.walk_forward.latest_model_before).
MODEL_ARTIFACTS = _partitioned(
    "models.artifacts",
    ("sha256",),
    window_start=pl.Date,
    path=pl.Utf8,  # relative to KALSHI_WX_HOME, so the home can move between machines
    sha256=pl.Utf8,  # of the pickle's bytes; loading refuses any other
)

# The columns that training and the model-driven backtest read from the dbt table. dbt owns the table
# (it is not in TABLES); this declaration only lets Warehouse.read select, order and type-check them.
PANEL = TableSchema(
    "features.minute_panel_full",
    {
        **PARTITION_COLUMNS,
        "ticker": pl.Utf8,
        "ts": UTC_TS,
        "lo_f": pl.Int32,
        "hi_f": pl.Int32,
        "trade_price": pl.Float64,
        **{c: pl.Float64 for c in PANEL_FEATURES if c != "has_quote"},
        "has_quote": pl.Boolean,
    },
    key=("ticker", "ts"),
)
TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (
        SERIES, MARKETS, CANDLES_1M, TRADES, STATION_OBS, SETTLEMENT, FORECAST, HAZARD_PARAMS, HAZARD_PMF, FUSED_PMF,
        BACKTEST_FILLS, BACKTEST_DAYS, MODEL_METRICS, MODEL_ARTIFACTS,
    )
}  # fmt: skip


def table_for(group: str, name: str) -> TableSchema:
    try:
        return TABLES[f"{group}.{name}"]
    except KeyError:
        raise KeyError(f"no warehouse table declared for asset {group}/{name}; known: {sorted(TABLES)}") from None
