"""Cross-bracket models on synthetic panels: labels, day splits, scores, reproducibility, config."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from kalshi_wx.core.models import (
    FEATURES,
    SPLITS,
    LabelSettings,
    ModelSettings,
    SplitSettings,
    TrainWindow,
    XgbSettings,
    add_labels,
    expected_calibration_error,
    feature_frame,
    latest_model_before,
    load_model,
    move_signal,
    predict_up_probability,
    save_model,
    split_by_date,
    train_cross_bracket_models,
)

FIRST_DAY = date(2026, 6, 1)
# Small and fast, but the same code path as the config defaults.
FAST = ModelSettings(xgboost=XgbSettings(n_estimators=60, max_depth=3, learning_rate=0.1))


def synthetic_panel(*, signal: bool, n_days: int = 8, n_tickers: int = 4, minutes: int = 360, seed: int = 0):
    """A minute_panel_full lookalike. With ``signal`` the mid reverts toward ``p_fused_norm`` (learnable
    from ``edge_fused``); without it the mid is a random walk whose steps no feature at t can foresee."""
    rng = np.random.default_rng(seed)
    frames = []
    for d in range(n_days):
        day = FIRST_DAY + timedelta(days=d)
        start = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
        ts = [start + timedelta(minutes=i) for i in range(minutes)]
        for k in range(n_tickers):
            fair = np.clip(0.5 + np.cumsum(rng.normal(0, 0.01, minutes)), 0.05, 0.95)
            mid = np.empty(minutes)
            mid[0] = fair[0]
            pull = 0.3 if signal else 0.0
            for i in range(1, minutes):
                mid[i] = mid[i - 1] + pull * (fair[i - 1] - mid[i - 1]) + rng.normal(0, 0.01)
            spread = rng.choice([0.01, 0.02, 0.03], minutes)
            temp = 70 + np.cumsum(rng.normal(0, 0.05, minutes))
            frames.append(
                pl.DataFrame(
                    {
                        "city": "nyc",
                        "climate_date": day,
                        "ticker": f"KXSYN-{k}",
                        "ts": ts,
                        "lo_f": 70 + 2 * k,
                        "hi_f": 71 + 2 * k,
                        "yes_bid": mid - spread / 2,
                        "yes_ask": mid + spread / 2,
                        "mid": mid,
                        "spread": spread,
                        "has_quote": True,
                        "volume": rng.poisson(2, minutes).astype(float),
                        "trade_price": np.where(rng.random(minutes) < 0.3, mid, np.nan),
                        "obs_temp_f": temp,
                        "obs_age_min": (np.arange(minutes) % 5).astype(float),
                        "obs_running_max_f": np.maximum.accumulate(temp),
                        "minutes_to_close": (1440 - np.arange(minutes)).astype(float),
                        "p_wx": fair,
                        "hazard_next_5m": rng.random(minutes) * 0.1,
                        "hazard_next_60m": rng.random(minutes) * 0.5,
                        "pmf_running_max_f": np.maximum.accumulate(temp),
                        "p_mkt": mid,
                        "p_fused": fair,
                        "p_fused_norm": fair,
                        # Decided by the end of the day: a model must never see it.
                        "settled_max_f": 72,
                        "settlement_report_type": "final",
                        "settled_yes": int(k == 1),
                    },
                    nan_to_null=True,
                )
            )
    panel = pl.concat(frames).sort("ticker", "ts")
    by_ticker = ["climate_date", "ticker"]
    return panel.with_columns(
        (pl.col("mid") - pl.col("mid").shift(n).over(by_ticker)).alias(f"mid_chg_{n}m") for n in (1, 5, 15)
    ).with_columns(mid_below_delta=pl.lit(None, pl.Float64), mid_above_delta=pl.lit(None, pl.Float64))


@pytest.fixture(scope="module")
def learnable():
    panel = synthetic_panel(signal=True)
    return panel, train_cross_bracket_models(panel, FAST, seed=11)


# --- labels and features ------------------------------------------------------------------------


def _ladder_rows(mids: list[float | None], minutes: list[int] | None = None) -> pl.DataFrame:
    start = datetime(2026, 6, 1, 5, tzinfo=UTC)
    minutes = minutes if minutes is not None else list(range(len(mids)))
    return pl.DataFrame(
        {
            "city": "nyc",
            "climate_date": date(2026, 6, 1),
            "ticker": "A",
            "ts": [start + timedelta(minutes=m) for m in minutes],
            "mid": mids,
        }
    )


def test_labels_are_the_sign_of_the_next_move_beyond_eps():
    rows = _ladder_rows([0.50, 0.52, 0.52, 0.49, None, 0.50])
    labelled = add_labels(rows, [1, 2], eps=0.001)
    # 0.52 -> 0.52 is within eps; a missing mid at t or t + h, or past the last minute, is no label.
    assert labelled["y_1m"].to_list() == [1, None, 0, None, None, None]
    assert labelled["y_2m"].to_list() == [1, 0, None, 1, None, None]
    assert labelled["move_1m"][0] == pytest.approx(0.02)


def test_labels_find_the_later_mid_by_time_not_by_row():
    rows = _ladder_rows([0.50, 0.60, 0.40], minutes=[0, 2, 3])  # minute 1 is missing from the grid
    assert add_labels(rows, [1], eps=0.001)["y_1m"].to_list() == [None, 0, None]


def test_perturbing_future_mids_changes_labels_but_no_feature_at_or_before_t():
    panel = synthetic_panel(signal=True, n_days=1, n_tickers=2, minutes=120)
    cut = panel["ts"].min() + timedelta(minutes=60)
    future = pl.col("ts") > cut
    perturbed = panel.with_columns(pl.when(future).then(pl.col("mid") + 0.3).otherwise("mid").alias("mid"))

    def up_to_cut(frame: pl.DataFrame) -> pl.DataFrame:
        return feature_frame(frame).filter(frame["ts"] <= cut)

    assert up_to_cut(perturbed).equals(up_to_cut(panel))
    labels, labels_perturbed = (add_labels(f, [1, 5], 0.001).filter(pl.col("ts") <= cut) for f in (panel, perturbed))
    for h in ("y_1m", "y_5m"):
        # Only rows whose t + h lies past the cut can differ, and some do.
        changed = labels.filter(labels[h].ne_missing(labels_perturbed[h]))
        assert changed.height > 0
        assert (changed["ts"] > cut - timedelta(minutes=int(h[2:-1]))).all()


def test_features_are_the_documented_columns_and_never_the_settlement():
    panel = synthetic_panel(signal=True, n_days=1, n_tickers=2, minutes=30)
    features = feature_frame(panel)
    assert tuple(features.columns) == FEATURES
    assert not any(name.startswith("settled") or name.startswith("move") for name in FEATURES)
    relabelled = panel.with_columns(settled_yes=1 - pl.col("settled_yes"), settled_max_f=pl.lit(99))
    assert feature_frame(relabelled).equals(features)


def test_missing_panel_columns_are_named():
    with pytest.raises(ValueError, match="p_wx"):
        feature_frame(synthetic_panel(signal=True, n_days=1, minutes=10).drop("p_wx"))


# --- splits -------------------------------------------------------------------------------------


def test_split_is_by_whole_days_in_time_order():
    days = [FIRST_DAY + timedelta(days=i) for i in range(5)]
    rows = [d for d in reversed(days) for _ in range(100)]  # one entry per row, in any order
    split = split_by_date(rows)
    assert (split.train, split.val, split.test) == (tuple(days[:3]), (days[3],), (days[4],))
    ten = split_by_date([FIRST_DAY + timedelta(days=i) for i in range(10)], val_fraction=0.2, test_fraction=0.3)
    assert [len(ten.days(s)) for s in SPLITS] == [5, 2, 3]
    assert max(ten.train) < min(ten.val) and max(ten.val) < min(ten.test)


def test_split_with_explicit_windows_and_refusals():
    days = [FIRST_DAY + timedelta(days=i) for i in range(6)]
    split = split_by_date(
        days, windows={"train": (days[0], days[2]), "val": (days[3], days[3]), "test": (days[5], days[5])}
    )
    assert split.as_dict() == {
        "train": ["2026-06-01", "2026-06-02", "2026-06-03"],
        "val": ["2026-06-04"],
        "test": ["2026-06-06"],
    }
    with pytest.raises(ValueError, match="must end before"):
        split_by_date(days, windows={"train": (days[0], days[3]), "val": (days[3], days[4]), "test": (days[5],) * 2})
    with pytest.raises(ValueError, match="at least 3"):
        split_by_date(days[:2])


def test_training_never_splits_a_day(learnable):
    panel, trained = learnable
    split = trained.split
    assert sum(len(split.days(s)) for s in SPLITS) == panel["climate_date"].n_unique()
    assert not set(split.train) & set(split.val) and not set(split.val) & set(split.test)
    assert max(split.train) < min(split.val) <= max(split.val) < min(split.test)
    labelled = add_labels(panel, [1, 5], FAST.labels.eps)
    for h in (1, 5):
        counts = labelled.filter(pl.col(f"y_{h}m").is_not_null()).group_by("climate_date").len()
        for s in SPLITS:
            expected = counts.filter(pl.col("climate_date").is_in(list(split.days(s))))["len"].sum()
            assert trained.n_rows[h][s] == expected


# --- scores and training ------------------------------------------------------------------------


def test_expected_calibration_error_on_known_cases():
    assert expected_calibration_error([0.05, 0.05, 0.95, 0.95], [0, 0, 1, 1]) == pytest.approx(0.05)
    assert expected_calibration_error([0.25] * 4, [1, 0, 0, 0]) == pytest.approx(0.0)
    # Half the rows in bin 1 (p = 0.1, all up), half in bin 8 (p = 0.85, all up).
    assert expected_calibration_error([0.1] * 5 + [0.85] * 5, [1] * 10) == pytest.approx(0.5 * 0.9 + 0.5 * 0.15)
    assert expected_calibration_error([1.0, 0.0], [1, 0]) == pytest.approx(0.0)  # 1.0 is in the last bin
    with pytest.raises(ValueError):
        expected_calibration_error([], [])


def test_a_learnable_signal_scores_well_on_test_days(learnable):
    _, trained = learnable
    assert trained.metrics.height == 4
    for row in trained.metrics.iter_rows(named=True):
        assert row["roc_auc"] > 0.7, row  # 0.75-0.82 with this seed
        assert row["brier"] < row["brier_base_rate"] - 0.03, row
        assert row["ece"] < 0.08, row


def test_random_labels_score_near_chance():
    panel = synthetic_panel(signal=False)
    trained = train_cross_bracket_models(panel, FAST, seed=11)
    # ~2,700 test rows per horizon: the AUC's standard error is ~0.011, so 0.05 is over 4 of them.
    for row in trained.metrics.iter_rows(named=True):
        assert abs(row["roc_auc"] - 0.5) < 0.05, row
        assert row["brier"] > row["brier_base_rate"] - 0.01, row


def test_training_is_reproducible_from_the_seed(learnable, tmp_path):
    panel, first = learnable
    second = train_cross_bracket_models(panel.sample(fraction=1.0, shuffle=True, seed=5), FAST, seed=11)
    assert second.metrics.equals(first.metrics)
    for h in (1, 5):
        for kind in ("logreg", "xgboost"):
            assert predict_up_probability(second, panel, h, kind).equals(predict_up_probability(first, panel, h, kind))
    (_, sha_a), (_, sha_b) = save_model(first, tmp_path / "a"), save_model(second, tmp_path / "b")
    assert sha_a == sha_b
    other_seed = train_cross_bracket_models(panel, FAST, seed=12)
    assert not predict_up_probability(other_seed, panel, 5).equals(predict_up_probability(first, panel, 5))


def test_too_few_labels_in_a_split_is_a_clear_error():
    panel = synthetic_panel(signal=True, n_days=3, n_tickers=1, minutes=60)
    # A last day whose mid never moves has no label at all there.
    flat = panel.with_columns(
        pl.when(pl.col("climate_date") == pl.col("climate_date").max()).then(0.5).otherwise("mid").alias("mid")
    )
    with pytest.raises(ValueError, match="split\\(s\\) test lack both up and down moves"):
        train_cross_bracket_models(flat, FAST, seed=1)


def test_predict_up_probability_is_aligned_and_null_without_a_mid(learnable):
    panel, trained = learnable
    slice_ = panel.filter(pl.col("climate_date") == trained.split.test[0]).head(20)
    slice_ = slice_.with_columns(mid=pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise("mid"))
    p = predict_up_probability(trained, slice_, 1, "logreg")
    assert p.name == "p_up_1m" and p.len() == 20 and p.null_count() == 1 and p[3] is None
    assert p.drop_nulls().is_between(0, 1).all()
    assert predict_up_probability(trained, slice_.head(0), 5).len() == 0
    with pytest.raises(KeyError, match="no xgboost model for 15-minute"):
        predict_up_probability(trained, slice_, 15)


def test_move_signal_is_the_prediction_keyed_by_ticker_and_minute(learnable):
    panel, trained = learnable
    day = panel.filter(pl.col("climate_date") == trained.split.test[0])
    signal = move_signal(trained, day, 5, "logreg")
    assert signal.columns == ["ticker", "ts", "p_up"] and signal.height == day.height
    assert signal["p_up"].equals(predict_up_probability(trained, day, 5, "logreg").alias("p_up"))
    assert signal.select("ticker", "ts").equals(day.select("ticker", "ts"))


def test_latest_model_before_never_picks_a_window_reaching_the_day():
    ends = [date(2026, 6, 3), date(2026, 6, 10), date(2026, 6, 7)]
    artifacts = pl.DataFrame({"climate_date": ends, "sha256": ["a", "b", "c"]})
    assert latest_model_before(artifacts, date(2026, 6, 3)) is None  # its own last day is not "before"
    assert latest_model_before(artifacts, date(2026, 6, 4))["sha256"] == "a"
    assert latest_model_before(artifacts, date(2026, 6, 10))["sha256"] == "c"
    assert latest_model_before(artifacts, date(2026, 7, 1))["sha256"] == "b"
    assert latest_model_before(artifacts.head(0), date(2026, 7, 1)) is None


def test_saved_model_round_trips_only_with_its_hash(learnable, tmp_path):
    panel, trained = learnable
    path, sha256 = save_model(trained, tmp_path / "models" / "nyc")
    assert path.parent == tmp_path / "models" / "nyc" and sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    loaded = load_model(path, sha256)
    assert predict_up_probability(loaded, panel.head(50), 1).equals(predict_up_probability(trained, panel.head(50), 1))
    with pytest.raises(ValueError, match="refusing to unpickle"):
        load_model(path, "0" * 64)


# --- settings and config ------------------------------------------------------------------------


def test_train_window_resolves_fixed_and_relative_windows():
    assert TrainWindow(start=FIRST_DAY, end=date(2026, 6, 5)).resolve(None) == (FIRST_DAY, date(2026, 6, 5))
    assert TrainWindow(last_days=5).resolve(date(2026, 6, 5)) == (FIRST_DAY, date(2026, 6, 5))
    with pytest.raises(ValueError, match="no day is settled"):
        TrainWindow(last_days=5).resolve(None)
    for bad in ({}, {"start": FIRST_DAY}, {"start": FIRST_DAY, "end": FIRST_DAY, "last_days": 3}, {"last_days": 2}):
        with pytest.raises(ValueError):
            TrainWindow(**bad)


def test_settings_refuse_bad_values():
    with pytest.raises(ValueError):
        LabelSettings(horizons_min=(0,))
    with pytest.raises(ValueError):
        SplitSettings(val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError):
        ModelSettings(calibration="platt")
