"""models/cross_bracket_model over five simulated days of the full daily graph for one city."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from kalshi_wx.core.models.train import predict_up_probability
from kalshi_wx.defs.assets.backtest import backtest_report
from kalshi_wx.defs.assets.models import PANEL, cross_bracket_model
from kalshi_wx.warehouse.artifacts import load_model
from kalshi_wx.warehouse.schemas import MODEL_ARTIFACTS, MODEL_METRICS
from kalshi_wx_tests.defs.conftest import (
    ARTIFACTS_ASSET,
    CITY,
    FIRST,
    LAST,
    METRICS_ASSET,
    MODEL,
    SimDays,
    step_errors,
)

METRICS = ("accuracy", "roc_auc", "brier", "ece")


@pytest.fixture(scope="module")
def trained(sim_days: SimDays):
    runs = []
    for _ in range(2):
        result = sim_days.train(FIRST, LAST)
        assert result.success, step_errors(result)
        runs.append(sim_days.instance.get_latest_materialization_event(MODEL).asset_materialization)
    # Rows after the second run: replacing the slice must not have added any.
    metrics = sim_days.warehouse.read(MODEL_METRICS, city=CITY, climate_date=LAST)
    return sim_days.warehouse, runs, metrics, sim_days.train


def test_asset_spec_is_per_city_with_panel_lineage():
    spec = next(iter(cross_bracket_model.specs))
    assert spec.group_name == "models" and spec.owners and "\n" not in spec.description
    assert {"scikit-learn", "xgboost"} <= set(spec.kinds)
    assert spec.partitions_def.get_partition_keys() and "aus" in spec.partitions_def.get_partition_keys()
    [dep] = spec.deps
    assert dep.asset_key == dg.AssetKey(["features", "minute_panel_full"])
    assert isinstance(dep.partition_mapping, dg.MultiToSingleDimensionPartitionMapping)


def test_scores_and_artifact_rows_are_assets_of_the_step_and_the_backtest_reads_the_artifacts():
    specs = {spec.key: spec for spec in cross_bracket_model.specs}
    assert set(specs) == {MODEL, METRICS_ASSET, ARTIFACTS_ASSET}
    for key in (METRICS_ASSET, ARTIFACTS_ASSET):
        spec = specs[key]
        assert spec.group_name == "models" and spec.owners and "\n" not in spec.description
        assert spec.partitions_def == specs[MODEL].partitions_def
    deps = {dep.asset_key: dep for spec in backtest_report.specs for dep in spec.deps}
    assert MODEL not in deps
    assert isinstance(deps[ARTIFACTS_ASSET].partition_mapping, dg.MultiToSingleDimensionPartitionMapping)


def test_artifact_is_written_with_the_recorded_hash(trained):
    warehouse, runs, _, _ = trained
    metadata = runs[-1].metadata
    path = Path(metadata["path"].value)
    assert path.exists() and path.parts[-4:-1] == ("models", CITY, f"{FIRST}_{LAST}")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == metadata["sha256"].value
    models = load_model(path, metadata["sha256"].value)
    panel = warehouse.read(PANEL, city=CITY, climate_date=LAST)
    p = predict_up_probability(models, panel, 5)
    assert p.len() == panel.height and p.drop_nulls().is_between(0, 1).all()


def test_artifact_row_points_into_the_home_with_the_hash(trained, sim_days):
    warehouse, runs, _, _ = trained
    rows = warehouse.read(MODEL_ARTIFACTS, city=CITY, climate_date=LAST)
    assert rows.height == 1  # re-training the window replaced the row
    row = rows.row(0, named=True)
    assert row["window_start"] == FIRST and row["sha256"] == runs[-1].metadata["sha256"].value
    assert row["path"] == f"artifacts/models/{CITY}/{FIRST}_{LAST}/cross_bracket_model.pkl"
    assert (sim_days.home / row["path"]).resolve() == Path(runs[-1].metadata["path"].value).resolve()


def test_metadata_holds_metrics_splits_and_row_counts(trained):
    _, runs, _, _ = trained
    metadata = runs[-1].metadata
    assert metadata["splits"].value == {
        "train": ["2026-06-01", "2026-06-02", "2026-06-03"],
        "val": ["2026-06-04"],
        "test": ["2026-06-05"],
    }
    assert "| 5 min | xgboost |" in metadata["metrics"].value
    for h in (1, 5):
        for kind in ("logreg", "xgboost"):
            assert 0 <= metadata[f"h{h}m_{kind}_brier"].value <= 1
            assert 0 <= metadata[f"h{h}m_{kind}_roc_auc"].value <= 1
        assert all(metadata[f"n_{s}_h{h}m"].value > 100 for s in ("train", "val", "test"))


def test_metrics_table_has_one_row_per_model_matching_the_metadata(trained):
    _, runs, metrics, _ = trained
    metadata = runs[-1].metadata
    assert metrics.height == 4 and set(metrics["climate_date"]) == {LAST}
    assert set(metrics["window_start"]) == {FIRST} and set(metrics["test_start"]) == {LAST}
    assert set(metrics["artifact_sha256"]) == {metadata["sha256"].value}
    for row in metrics.iter_rows(named=True):
        for metric in METRICS:
            assert row[metric] == pytest.approx(metadata[f"h{row['horizon_min']}m_{row['model']}_{metric}"].value)
        assert row["n_test"] == metadata[f"n_test_h{row['horizon_min']}m"].value


def test_a_second_run_reproduces_metrics_and_bytes(trained):
    _, (first, second), _, _ = trained
    numeric = [k for k in first.metadata if k.startswith(("h1m_", "h5m_", "n_"))]
    assert numeric and all(first.metadata[k].value == second.metadata[k].value for k in numeric)
    assert first.metadata["sha256"].value == second.metadata["sha256"].value


def test_too_few_days_fails_naming_the_window_and_the_backfill(trained):
    warehouse, _, _, materialize = trained
    before = warehouse.read(MODEL_METRICS, city=CITY)
    result = materialize(LAST - timedelta(days=1), LAST + timedelta(days=3))
    assert not result.success
    [message] = step_errors(result)
    assert "2 climate day(s) for aus in the window 2026-06-04..2026-06-08" in message
    assert "kalshi-wx backfill --cities aus --start 2026-06-04 --end 2026-06-08" in message
    assert warehouse.read(MODEL_METRICS, city=CITY).equals(before)  # nothing written
