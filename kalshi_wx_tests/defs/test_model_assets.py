"""models/cross_bracket_model over five simulated days of the full daily graph for one city."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from kalshi_wx.core.models import load_model, predict_up_probability
from kalshi_wx.definitions import build_definitions
from kalshi_wx.defs.assets.models import PANEL, cross_bracket_model
from kalshi_wx.defs.resources import build_resources
from kalshi_wx.defs.runs import partition_keys, run_partitions, run_series
from kalshi_wx.warehouse.schemas import MODEL_METRICS

CITY, FIRST, LAST = "aus", date(2026, 6, 1), date(2026, 6, 5)
MODEL = dg.AssetKey(["models", "cross_bracket_model"])
METRICS = ("accuracy", "roc_auc", "brier", "ece")


def _window(start: date, end: date) -> dict:
    return {
        "ops": {"models__cross_bracket_model": {"config": {"start": start.isoformat(), "end": end.isoformat()}}},
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    home = tmp_path_factory.mktemp("models_home")
    with pytest.MonkeyPatch.context() as mp, dg.DagsterInstance.ephemeral() as instance:
        mp.setenv("KALSHI_WX_HOME", str(home))  # the artifact directory
        resources = build_resources(mode="sim", warehouse_url=f"duckdb://{home / 'warehouse.duckdb'}")
        defs = build_definitions(resources)
        assert run_series(defs, instance)
        warmup = partition_keys([CITY], FIRST - timedelta(days=3), FIRST - timedelta(days=1))
        assert all(o.success for o in run_partitions(defs, instance, warmup, job_name="weather_history"))
        days = run_partitions(defs, instance, partition_keys([CITY], FIRST, LAST), job_name="daily")
        assert all(o.success for o in days), [o.error for o in days]

        job = defs.resolve_implicit_global_asset_job_def()

        def materialize(start: date, end: date) -> dg.ExecuteInProcessResult:
            return job.execute_in_process(
                partition_key=CITY, asset_selection=[MODEL], instance=instance, run_config=_window(start, end),
                raise_on_error=False,
            )  # fmt: skip

        runs = []
        for _ in range(2):
            result = materialize(FIRST, LAST)
            assert result.success, [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
            runs.append(instance.get_latest_materialization_event(MODEL).asset_materialization)
        # Rows after the second run: replacing the slice must not have added any.
        metrics = resources["warehouse"].read(MODEL_METRICS, city=CITY)
        yield resources["warehouse"], runs, metrics, materialize


def test_asset_spec_is_per_city_with_panel_lineage():
    spec = next(iter(cross_bracket_model.specs))
    assert spec.group_name == "models" and spec.owners and "\n" not in spec.description
    assert {"scikit-learn", "xgboost"} <= set(spec.kinds)
    assert spec.partitions_def.get_partition_keys() and "aus" in spec.partitions_def.get_partition_keys()
    [dep] = spec.deps
    assert dep.asset_key == dg.AssetKey(["features", "minute_panel_full"])
    assert isinstance(dep.partition_mapping, dg.MultiToSingleDimensionPartitionMapping)


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
    warehouse, _, before, materialize = trained
    result = materialize(LAST - timedelta(days=1), LAST + timedelta(days=3))
    assert not result.success
    [message] = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    assert "2 climate day(s) for aus in the window 2026-06-04..2026-06-08" in message
    assert "kalshi-wx backfill --cities aus --start 2026-06-04 --end 2026-06-08" in message
    assert warehouse.read(MODEL_METRICS, city=CITY).equals(before)  # nothing written
