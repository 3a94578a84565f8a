"""Model artifacts: an atomic pickle that loads only with the SHA-256 recorded at training."""

from __future__ import annotations

import hashlib

import pytest

from kalshi_wx.core.models.train import predict_up_probability, train_cross_bracket_models
from kalshi_wx.warehouse.artifacts import load_model, save_model
from kalshi_wx_tests.core.models.conftest import FAST, synthetic_panel


def test_saved_model_round_trips_only_with_its_hash(tmp_path):
    panel = synthetic_panel(signal=True)
    trained = train_cross_bracket_models(panel, FAST, seed=11)
    path, sha256 = save_model(trained, tmp_path / "models" / "nyc")
    assert path.parent == tmp_path / "models" / "nyc" and sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    loaded = load_model(path, sha256)
    assert predict_up_probability(loaded, panel.head(50), 1).equals(predict_up_probability(trained, panel.head(50), 1))
    with pytest.raises(ValueError, match="refusing to unpickle"):
        load_model(path, "0" * 64)


def test_a_missing_artifact_is_file_not_found(tmp_path):
    # The backtest turns this into a failure that names the file and KALSHI_WX_HOME.
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "gone" / "cross_bracket_model.pkl", "0" * 64)
