from __future__ import annotations

import pytest
import yaml

from kalshi_wx.config import CITIES_FILE, load_cities
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
