"""Short-horizon models per city, trained on a window of climate days of the feature panel.

The window is ``window`` in ``config/models.yaml`` unless the run's config overrides it: fixed
(start and end days) or the last N days ending on the latest settled day of the city's panel, a
day whose panel is complete. Fitted models go to ``$KALSHI_WX_HOME/artifacts/models/<city>/<start>_<end>/``;
their test-day scores (``models/metrics``) and the artifact's path and hash (``models/artifacts``)
are outputs of the same step, stored under (city, the window's last day).

No `from __future__ import annotations` here: Dagster validates the `context` annotation.
"""

from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from kalshi_wx.core.models.metrics import METRIC_COLUMNS
from kalshi_wx.core.models.settings import MIN_DAYS, TrainWindow
from kalshi_wx.core.models.splits import SPLITS
from kalshi_wx.core.models.train import TrainedModels, train_cross_bracket_models
from kalshi_wx.defs.assets.common import OWNERS, WAREHOUSE_POOL, warehouse_out
from kalshi_wx.defs.partitions import city_of, city_of_city_day, city_partitions
from kalshi_wx.defs.settings import (
    ModelsSettings,
    backfill_command,
    kalshi_wx_home,
    parse_train_window,
    settings,
)
from kalshi_wx.reports.markdown import markdown_table
from kalshi_wx.warehouse.artifacts import save_model
from kalshi_wx.warehouse.resource import Warehouse
from kalshi_wx.warehouse.schemas import PANEL

SETTINGS: ModelsSettings = settings().models

MODEL = dg.AssetKey(["models", "cross_bracket_model"])
PANEL_DEP = dg.AssetDep(
    ["features", "minute_panel_full"],
    partition_mapping=city_of_city_day,
)


class TrainingWindowConfig(dg.Config):
    """Overrides the window of config/models.yaml for one run: start and end (YYYY-MM-DD), or last_days."""

    start: str | None = None
    end: str | None = None
    last_days: int | None = None


def _metrics_rows(trained: TrainedModels, city_key: str, start: date, end: date, sha256: str) -> pl.DataFrame:
    bounds, counts = {}, {}
    for s in SPLITS:
        days = trained.split.days(s)
        bounds[f"{s}_start"], bounds[f"{s}_end"] = pl.lit(days[0]), pl.lit(days[-1])
        counts[f"n_{s}"] = pl.col("horizon_min").replace_strict({h: n[s] for h, n in trained.n_rows.items()})
    return trained.metrics.with_columns(
        city=pl.lit(city_key),
        climate_date=pl.lit(end),
        window_start=pl.lit(start),
        **bounds,
        **counts,
        calibration=pl.lit(trained.settings.calibration),
        seed=pl.lit(trained.seed),
        artifact_sha256=pl.lit(sha256),
    )


def _artifact_row(city_key: str, start: date, end: date, path_in_home: Path, sha256: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "city": [city_key],
            "climate_date": [end],
            "window_start": [start],
            "path": [path_in_home.as_posix()],
            "sha256": [sha256],
        }
    )


def _metrics_table(metrics: pl.DataFrame) -> str:
    return markdown_table(
        metrics.select((pl.col("horizon_min").cast(pl.Utf8) + " min").alias("horizon"), "model", *METRIC_COLUMNS)
    )


def _model_metadata(
    trained: TrainedModels, window: TrainWindow, start: date, end: date, days: list[date], path: Path, sha256: str
) -> dict:
    per_model = {
        f"h{row['horizon_min']}m_{row['model']}_{metric}": float(row[metric])
        for row in trained.metrics.iter_rows(named=True)
        for metric in ("accuracy", "roc_auc", "brier", "ece")
    }
    rows_per_split = {f"n_{s}_h{h}m": n for h, counts in trained.n_rows.items() for s, n in counts.items()}
    return {
        "path": dg.MetadataValue.path(str(path)),
        "sha256": sha256,
        "window": f"{start}..{end}",
        "window_rule": window.describe(),
        "days_in_panel": dg.MetadataValue.json([d.isoformat() for d in days]),
        "splits": dg.MetadataValue.json(trained.split.as_dict()),
        "metrics": dg.MetadataValue.md(_metrics_table(trained.metrics)),
        "seed": trained.seed,
        **per_model,
        **rows_per_split,
    }


@dg.multi_asset(
    outs={
        "cross_bracket_model": dg.AssetOut(
            key=MODEL,
            description=(
                "Calibrated logistic regression and xgboost of each bracket's next 1/5-minute mid move, "
                "scored on later days."
            ),
            kinds={"scikit-learn", "xgboost"},
            owners=OWNERS,
        ),
        "metrics": warehouse_out(
            "models", "metrics", "Test-day accuracy, ROC AUC, Brier and ECE of each model of a training run."
        ),
        "artifacts": warehouse_out(
            "models", "artifacts", "Where a training run's pickled models are, and their SHA-256."
        ),
    },
    name="models__cross_bracket_model",
    group_name="models",
    partitions_def=city_partitions,
    pool=WAREHOUSE_POOL,
    deps=[PANEL_DEP],
)
def cross_bracket_model(context: dg.AssetExecutionContext, config: TrainingWindowConfig, warehouse: Warehouse):
    """Trains a city's move models on a window of days; stores the pickle and records its scores and hash."""
    city_key = city_of(context.partition_key)
    override = config.model_dump(exclude_none=True)
    window = parse_train_window(override, "run config") if override else SETTINGS.window
    try:
        start, end = window.resolve(warehouse.latest_settled_day(city_key))
    except ValueError as exc:
        raise dg.Failure(
            description=f"{city_key}: {exc}; backfill settled days (`{backfill_command(city_key)}`)"
        ) from None
    panel = warehouse.read(PANEL, city=city_key, dates=(start, end))
    days = sorted(panel["climate_date"].unique())
    if len(days) < MIN_DAYS:
        rule = f" ({window.describe()})" if window.last_days is not None else ""
        raise dg.Failure(
            description=(
                f"{PANEL.name} holds {len(days)} climate day(s) for {city_key} in the window {start}..{end}{rule}: "
                f"{', '.join(map(str, days)) or 'none'}; training needs at least {MIN_DAYS}. Backfill the window "
                f"first (`{backfill_command(city_key, start, end)}`), "
                f"or choose another window in config/models.yaml or this run's config."
            )
        )
    context.log.info(f"training on {panel.height} panel rows of {len(days)} day(s), {start}..{end}")
    trained = train_cross_bracket_models(panel, SETTINGS.settings, SETTINGS.seed)
    home = kalshi_wx_home()
    path, sha256 = save_model(trained, home / "artifacts" / "models" / city_key / f"{start}_{end}")
    # The tables first: if storing them fails, no model is recorded without its scores and hash.
    yield dg.Output(_metrics_rows(trained, city_key, start, end, sha256), output_name="metrics")
    yield dg.Output(_artifact_row(city_key, start, end, path.relative_to(home), sha256), output_name="artifacts")
    # No value: the pickle is already on disk, so the IO manager stores nothing for the model itself.
    yield dg.MaterializeResult(
        asset_key=MODEL,
        metadata=_model_metadata(trained, window, start, end, days, path, sha256),
        # Same data and seed give the same bytes, so an unchanged re-run keeps its data version.
        data_version=dg.DataVersion(sha256),
    )
