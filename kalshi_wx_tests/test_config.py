from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from kalshi_wx.config import CITIES_FILE, load_backtest_config, load_cities
from kalshi_wx.core.errors import ConfigError


def test_shipped_cities_match_the_settlement_table():
    cities = load_cities()
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


def _write(tmp_path, mutate):
    document = yaml.safe_load(CITIES_FILE.read_text())
    mutate(document["cities"])
    path = tmp_path / "cities.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c[1].pop("station"), r"cities\[1\]: missing field\(s\) station"),
        (
            lambda c: c[0].update(std_utc_offset_hours="-6"),
            r"cities\[0\]\.std_utc_offset_hours: expected int",
        ),
        (lambda c: c[2].update(timezone="America/Austin"), r"cities\[2\]\.timezone: unknown IANA zone"),
        (lambda c: c[3].update(station="MIA"), r"cities\[3\]\.station: 'MIA' is not a US ICAO"),
        (lambda c: c[4].update(key="nyc"), r"cities\[4\]\.key: duplicate city key 'nyc'"),
        (lambda c: c[5].update(colour="red"), r"cities\[5\]: unknown field\(s\) colour"),
    ],
)
def test_bad_config_names_file_and_field(tmp_path, mutate, message):
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError, match=message) as info:
        load_cities(path)
    assert str(path) in str(info.value)


def test_unparseable_or_missing_file(tmp_path):
    broken = tmp_path / "cities.yaml"
    broken.write_text("cities: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_cities(broken)
    with pytest.raises(ConfigError, match="not found"):
        load_cities(tmp_path / "nope.yaml")


def test_shipped_backtest_config_reads_money_as_decimal():
    settings = load_backtest_config()
    assert settings.engine.max_exposure_dollars == Decimal("200") and settings.engine.taker_min_edge == Decimal("0.03")
    assert settings.engine.exit_rule == "hold" and settings.fused_edge.margin == Decimal("0.02")
    model = settings.model_move_config()
    assert (model.exit_rule, model.exit_after_minutes, model.order_size) == ("time", 5, settings.engine.order_size)


def test_backtest_money_written_as_a_float_is_read_as_written(tmp_path):
    path = tmp_path / "backtest.yaml"
    path.write_text("engine:\n  taker_min_edge: 0.1\nfused_edge:\n  margin: 0.015\n")
    settings = load_backtest_config(path)
    # Decimal(0.1) would be 0.1000000000000000055511151231257827...
    assert settings.engine.taker_min_edge == Decimal("0.1") and settings.fused_edge.margin == Decimal("0.015")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("engine:\n  order_size: 2.5\n", r"engine\.order_size: expected a whole number, got 2\.5"),
        ("engine:\n  taker_fallback: 1\n", r"engine\.taker_fallback: expected true or false"),
        ("engine:\n  max_exposure_dollars: lots\n", r"engine\.max_exposure_dollars: expected a decimal number"),
        ("engine:\n  max_exposure_dollars: .nan\n", r"engine\.max_exposure_dollars: expected a decimal number"),
        ("engine:\n  exit_rule: trailing_stop\n", r"engine: exit_rule 'trailing_stop': expected one of hold, time"),
        ("engine:\n  queue_haircut: 2\n", r"engine: queue_haircut 2.0 must lie in \[0, 1\]"),
        ("model_move:\n  model: lightgbm\n", r"model_move\.model: 'lightgbm', expected one of logreg, xgboost"),
        ("model_move:\n  up_above: 0.4\n", r"model_move: up_above 0.4 must lie in \(0.5, 1\]"),
        ("model_move:\n  exit_after_minutes: 0\n", r"model_move: exit_after_minutes 0 must be >= 1"),
        ("fused_edge:\n  margin: '-0.01'\n", r"fused_edge: margin -0.01 must be >= 0"),
        ("strategies: {}\n", r"unknown key\(s\) strategies"),
    ],
)
def test_bad_backtest_config_names_file_and_field(tmp_path, text, message):
    path = tmp_path / "backtest.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_backtest_config(path)
    assert str(path) in str(info.value)
