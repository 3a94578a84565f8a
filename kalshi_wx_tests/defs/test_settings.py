"""config/*.yaml through the pydantic settings: the shipped files load, and every bad value names file and key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import yaml

from kalshi_wx.core.errors import ConfigError
from kalshi_wx.defs.resources import build_resources
from kalshi_wx.defs.settings import (
    BACKTEST_FILE,
    CITIES_FILE,
    CONFIG_DIR,
    HIGHRES_FILE,
    LIVE_FILE,
    MODELS_FILE,
    SIM_FILE,
    BacktestSettings,
    HighresSettings,
    LiveSettings,
    ModelsSettings,
    PmfSettings,
    SimSettings,
    duckdb_lock_timeout_s,
    kill_switch,
    live_orders_enabled,
    load_cities,
    load_file,
    load_settings,
    parse_train_window,
)
from kalshi_wx.sources.sim.common import SimMarket


def test_shipped_cities_match_the_settlement_table():
    cities = load_settings().cities
    assert list(cities) == ["chi", "nyc", "aus", "mia", "lax", "den", "phl"]
    assert {c.series: c.station for c in cities.values()} == {
        "KXHIGHCHI": "KMDW",  # Midway, not O'Hare
        "KXHIGHNY": "KNYC",  # Central Park, not LGA/JFK
        "KXHIGHAUS": "KAUS",
        "KXHIGHMIA": "KMIA",
        "KXHIGHLAX": "KLAX",
        "KXHIGHDEN": "KDEN",
        "KXHIGHPHIL": "KPHL",
    }
    assert cities["nyc"].issuedby == "NYC" and cities["chi"].wfo == "LOT"
    assert {c.key: c.std_utc_offset_hours for c in cities.values()} == {
        "chi": -6, "nyc": -5, "aus": -6, "mia": -5, "lax": -8, "den": -7, "phl": -5,
    }  # fmt: skip


def _write_cities(tmp_path, mutate):
    document = yaml.safe_load((CONFIG_DIR / CITIES_FILE).read_text())
    mutate(document["cities"])
    path = tmp_path / "cities.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c[1].pop("station"), r"cities\[1\]\.station: Field required"),
        (lambda c: c[0].update(std_utc_offset_hours="-6"), r"cities\[0\]\.std_utc_offset_hours: .*integer, got '-6'"),
        (lambda c: c[2].update(timezone="America/Austin"), r"cities\[2\]\.timezone: unknown IANA zone"),
        (lambda c: c[3].update(station="MIA"), r"cities\[3\]\.station: String should match pattern .*, got 'MIA'"),
        (lambda c: c[4].update(key="nyc"), r"cities\[4\]\.key: duplicate city key 'nyc'"),
        (lambda c: c[5].update(colour="red"), r"cities\[5\]\.colour: Unexpected keyword argument"),
        (
            lambda c: c[6].update(std_utc_offset_hours=3),
            r"cities\[6\]\.std_utc_offset_hours: .*less than or equal to 0",
        ),
    ],
)
def test_bad_city_names_file_and_field(tmp_path, mutate, message):
    path = _write_cities(tmp_path, mutate)
    with pytest.raises(ConfigError, match=message) as info:
        load_cities(path)
    assert str(info.value).startswith(f"{path}: ")


def test_unparseable_or_missing_file(tmp_path):
    broken = tmp_path / "cities.yaml"
    broken.write_text("cities: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_cities(broken)
    with pytest.raises(ConfigError, match="nope.yaml: not found"):
        load_cities(tmp_path / "nope.yaml")
    broken.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping at the top level"):
        load_cities(broken)


def test_shipped_backtest_config_reads_money_as_decimal():
    settings = load_file(CONFIG_DIR / BACKTEST_FILE, BacktestSettings)
    assert settings.engine.max_exposure_dollars == Decimal("200") and settings.engine.taker_min_edge == Decimal("0.03")
    assert settings.engine.exit_rule == "hold" and settings.fused_edge.margin == Decimal("0.02")
    model = settings.model_move_config()
    assert (model.exit_rule, model.exit_after_minutes, model.order_size) == ("time", 5, settings.engine.order_size)


def test_backtest_money_written_as_a_float_is_read_as_written(tmp_path):
    path = tmp_path / "backtest.yaml"
    path.write_text("engine:\n  taker_min_edge: 0.1\nfused_edge:\n  margin: 0.015\n")
    settings = load_file(path, BacktestSettings)
    # Decimal(0.1) would be 0.1000000000000000055511151231257827...
    assert settings.engine.taker_min_edge == Decimal("0.1") and settings.fused_edge.margin == Decimal("0.015")
    assert isinstance(settings.engine.taker_min_edge, Decimal)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("engine:\n  order_size: 2.5\n", r"engine\.order_size: Input should be a valid integer, got 2\.5"),
        ("engine:\n  order_size: true\n", r"engine\.order_size: Input should be a valid integer, got True"),
        ("engine:\n  taker_fallback: 1\n", r"engine\.taker_fallback: Input should be a valid boolean, got 1"),
        ("engine:\n  max_exposure_dollars: lots\n", r"engine\.max_exposure_dollars: expected a decimal number"),
        ("engine:\n  max_exposure_dollars: .nan\n", r"engine\.max_exposure_dollars: expected a finite decimal"),
        ("engine:\n  exit_rule: trailing_stop\n", r"engine: exit_rule 'trailing_stop': expected one of hold, time"),
        ("engine:\n  queue_haircut: 2\n", r"engine: queue_haircut 2.0 must lie in \[0, 1\]"),
        ("model_move:\n  model: lightgbm\n", r"model_move\.model: Input should be 'logreg' or 'xgboost'"),
        ("model_move:\n  up_above: 0.4\n", r"model_move: up_above 0.4 must lie in \(0.5, 1\]"),
        ("model_move:\n  exit_after_minutes: 0\n", r"backtest.yaml: exit_after_minutes 0 must be >= 1"),
        ("fused_edge:\n  margin: '-0.01'\n", r"fused_edge\.margin: Input should be greater than or equal to 0"),
        ("strategies: {}\n", r"strategies: Extra inputs are not permitted"),
    ],
)
def test_bad_backtest_config_names_file_and_field(tmp_path, text, message):
    path = tmp_path / "backtest.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_file(path, BacktestSettings)
    assert str(info.value).startswith(f"{path}: ")


def test_shipped_models_and_pmf_config_load():
    config = load_file(CONFIG_DIR / MODELS_FILE, ModelsSettings)
    assert config.window.last_days is not None or config.window.start is not None
    assert config.settings.labels.horizons_min == (1, 5)
    assert config.settings.calibration in ("sigmoid", "isotonic")
    pmf = load_settings().pmf
    assert [t.isoformat(timespec="minutes") for t in pmf.score_times_lst] == ["10:00", "13:00", "16:00"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed: 1\n", r"window: Field required"),
        ("window: {start: 2026-06-05, end: 2026-06-01}\n", r"window: window end 2026-06-01 is before start"),
        ("window: {last_days: 7}\nlabels: {horizons_min: [1, x]}\n", r"labels\.horizons_min\[1\]"),
        ("window: {last_days: 7}\nxgboost: {depth: 3}\n", r"xgboost\.depth: Unexpected keyword argument"),
        ("window: {last_days: 7}\ncalibration: platt\n", r"calibration: Input should be 'sigmoid' or 'isotonic'"),
        ("window: {last_days: 7}\nsplit: {val_fraction: 0.6, test_fraction: 0.5}\n", r"split: val_fraction 0.6"),
        ("window: {last_days: 7}\nseed: -1\n", r"seed: Input should be greater than or equal to 0"),
    ],
)
def test_bad_models_config_is_named(tmp_path, text, message):
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_file(path, ModelsSettings)
    assert str(info.value).startswith(f"{path}: ")


def test_bad_pmf_config_is_named(tmp_path):
    path = tmp_path / "pmf.yaml"
    path.write_text("diagnostics:\n  score_times_lst: ['10:00', 'noon']\nhazard:\n  n_paths: 10\n")
    with pytest.raises(ConfigError) as info:
        load_file(path, PmfSettings)
    assert "hazard.n_paths: Input should be greater than or equal to 100" in str(info.value)
    assert "diagnostics.score_times_lst[1]" in str(info.value)


def test_run_config_window_parses_iso_strings():
    assert parse_train_window({"start": "2026-06-01", "end": "2026-06-03"}, "run config").end == date(2026, 6, 3)
    with pytest.raises(ConfigError, match=r"run config: start: Input should be a valid date"):
        parse_train_window({"start": "June 1", "end": "2026-06-03"}, "run config")
    with pytest.raises(ConfigError, match=r"run config: give either start and end, or last_days"):
        parse_train_window({"start": "2026-06-01", "end": "2026-06-03", "last_days": 4}, "run config")


def test_duckdb_lock_timeout_reaches_the_warehouse_resource(monkeypatch):
    monkeypatch.delenv("KALSHI_WX_DUCKDB_LOCK_TIMEOUT", raising=False)
    assert duckdb_lock_timeout_s() == 30.0
    monkeypatch.setenv("KALSHI_WX_DUCKDB_LOCK_TIMEOUT", "5")
    warehouse = build_resources(mode="sim", warehouse_url="duckdb:///tmp/unused.duckdb")["warehouse"]
    assert warehouse.backend.lock_timeout_s == 5.0
    for bad in ("-1", "soon", "inf"):
        monkeypatch.setenv("KALSHI_WX_DUCKDB_LOCK_TIMEOUT", bad)
        with pytest.raises(ConfigError, match=f"KALSHI_WX_DUCKDB_LOCK_TIMEOUT='{bad}': expected a number of seconds"):
            duckdb_lock_timeout_s()


def test_shipped_highres_settings_and_recording_days():
    loaded = load_settings()
    assert loaded.highres.series[0] == "KXBTC15M" and loaded.highres.snapshot_ms == 100
    assert set(loaded.highres.series) >= {c.series for c in loaded.cities.values()}
    assert loaded.recording_offset_hours("KXHIGHNY") == -5 and loaded.recording_offset_hours("KXBTC15M") == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"part_seconds": 7}, r"part_seconds 7 must divide 3600"),
        ({"snapshot_ms": 70}, r"snapshot_ms 70 must divide part_seconds x 1000"),
        ({"series": ["KXBTC15M", "kxhighny"]}, r"highres.yaml: series: 'kxhighny' is not a series ticker"),
        ({"series": []}, r"series: .*list at least one series"),
        ({"snapshot_ms": 5}, r"snapshot_ms: Input should be greater than or equal to 10, got 5"),
        ({"typo": 1}, r"highres.yaml: typo: Extra inputs are not permitted"),
    ],
)
def test_bad_highres_settings_name_file_and_key(tmp_path, change, message):
    document = yaml.safe_load((CONFIG_DIR / HIGHRES_FILE).read_text())
    document.update(change)
    path = tmp_path / "highres.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=message):
        load_file(path, HighresSettings)


def test_shipped_live_settings_are_a_dry_run_with_decimal_limits(tmp_path):
    live = load_settings().live
    assert live.live is False and live.strategy == "fused_edge" and live.kill_file == "KILL"
    assert live.walls.max_daily_loss == Decimal("100") and live.walls.price_collar == Decimal("0.05")
    # A YAML number is read as the decimal written, never through a binary float.
    path = tmp_path / "live.yaml"
    path.write_text("walls:\n  max_daily_loss: 100.10\n")
    assert load_file(path, LiveSettings).walls.max_daily_loss == Decimal("100.10")


def test_shipped_sim_settings_are_the_simulators_defaults():
    sim = load_settings().sim
    # A bare SimConfig (tests, benchmarks) trades the same calibrated market as the configured one.
    assert sim.market == SimMarket()
    assert sim.market.fee_type == "quadratic_with_maker_fees" and isinstance(sim.market.belief_sd_f, tuple)
    assert sim.calibration.city == "chi" and sim.calibration.tolerances["brier_13h"] == 0.10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"walls": {"max_daily_loss": "a lot"}}, r"live.yaml: walls.max_daily_loss: expected a decimal number"),
        ({"walls": {"max_open_orders": -1}}, r"live.yaml: walls.max_open_orders: Input should be greater than or"),
        ({"walls": {"max_open_order": 3}}, r"live.yaml: walls.max_open_order: Unexpected keyword argument"),
        ({"strategy": "random"}, r"live.yaml: strategy: Input should be 'fused_edge'"),
        ({"live": "yes"}, r"live.yaml: live: Input should be a valid boolean"),
        ({"kill_file": " "}, r"live.yaml: kill_file: name a file"),
    ],
)
def test_bad_live_settings_name_file_and_key(tmp_path, change, message):
    document = yaml.safe_load((CONFIG_DIR / LIVE_FILE).read_text())
    document.update(change)
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=message):
        load_file(path, LiveSettings)


def test_live_orders_need_the_config_flag_and_the_environment(monkeypatch):
    monkeypatch.delenv("KALSHI_WX_LIVE", raising=False)
    assert not live_orders_enabled(LiveSettings(live=True))
    monkeypatch.setenv("KALSHI_WX_LIVE", "1")
    assert live_orders_enabled(LiveSettings(live=True))
    assert not live_orders_enabled(LiveSettings(live=False))
    assert not live_orders_enabled()  # the shipped config is a dry run
    monkeypatch.setenv("KALSHI_WX_LIVE", "true")
    assert not live_orders_enabled(LiveSettings(live=True))


def test_kill_switch_from_the_environment_or_the_kill_file(monkeypatch, tmp_path):
    monkeypatch.setenv("KALSHI_WX_HOME", str(tmp_path))
    monkeypatch.delenv("KALSHI_WX_KILL", raising=False)
    assert kill_switch() is None
    (tmp_path / "KILL").write_text("")
    assert kill_switch() == f"kill file {tmp_path / 'KILL'} exists"
    (tmp_path / "KILL").unlink()
    monkeypatch.setenv("KALSHI_WX_KILL", "1")
    assert kill_switch() == "KALSHI_WX_KILL=1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"belief_sd_f": [2.0, 1.0]}, r"sim.yaml: market: .*belief_sd_hours must be increasing and as long as"),
        ({"trade_rate": [0.1, "lots"]}, r"sim.yaml: market.trade_rate\[1\]: Input should be a valid number"),
        (
            {"trade_rate": [0.1, 0.2]},
            r"hour_blocks must start at 0 and be as long as spread_scale_cents and trade_rate",
        ),
        ({"taker_information": 0}, r"taker_information must be positive"),
        ({"belief_sd_f": [2.0, 1.0, 0.5, 0.8, 0.2]}, r"belief_sd_f must not increase: information only accumulates"),
    ],
)
def test_bad_sim_settings_name_file_and_key(tmp_path, change, message):
    document = yaml.safe_load((CONFIG_DIR / SIM_FILE).read_text())
    document["market"].update(change)
    path = tmp_path / "sim.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=message):
        load_file(path, SimSettings)
