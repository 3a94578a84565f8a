"""Load and validate ``config/cities.yaml`` and runtime settings from the environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from datetime import date, time
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from kalshi_wx.core.backtest.interface import BacktestConfig
from kalshi_wx.core.backtest.strategies import MoveSignalStrategy
from kalshi_wx.core.errors import ConfigError
from kalshi_wx.core.fusion import FusionSettings

if TYPE_CHECKING:
    from kalshi_wx.core.models import LabelSettings, ModelSettings, TrainWindow

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(os.environ.get("KALSHI_WX_CONFIG_DIR", REPO_ROOT / "config"))
CITIES_FILE = CONFIG_DIR / "cities.yaml"
PMF_FILE = CONFIG_DIR / "pmf.yaml"
MODELS_FILE = CONFIG_DIR / "models.yaml"
BACKTEST_FILE = CONFIG_DIR / "backtest.yaml"

_CITY_FIELDS = {
    "key": str,
    "name": str,
    "series": str,
    "station": str,
    "station_name": str,
    "wfo": str,
    "cli_product": str,
    "timezone": str,
    "std_utc_offset_hours": int,
}


@dataclass(frozen=True)
class City:
    key: str
    name: str
    series: str
    station: str  # settlement station ICAO, e.g. KNYC
    station_name: str
    wfo: str  # NWS forecast office issuing the CLI, e.g. OKX
    cli_product: str  # e.g. CLINYC
    timezone: str
    std_utc_offset_hours: int

    @property
    def issuedby(self) -> str:
        """The CLI product's issuing id (``CLINYC`` -> ``NYC``)."""
        return self.cli_product.removeprefix("CLI")


def _read_yaml(path: Path, what: str) -> object:
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def _validate_city(entry: object, index: int, path: Path) -> City:
    where = f"{path}: cities[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(entry).__name__}")
    missing = [f for f in _CITY_FIELDS if f not in entry]
    if missing:
        raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(entry) - set(_CITY_FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for field, kind in _CITY_FIELDS.items():
        if not isinstance(entry[field], kind) or isinstance(entry[field], bool):
            raise ConfigError(f"{where}.{field}: expected {kind.__name__}, got {entry[field]!r}")
    key = entry["key"]
    if not re.fullmatch(r"[a-z]{3}", key):
        raise ConfigError(f"{where}.key: {key!r} must be three lower-case letters")
    if not re.fullmatch(r"K[A-Z]{3}", entry["station"]):
        raise ConfigError(f"{where}.station: {entry['station']!r} is not a US ICAO id like KNYC")
    if not re.fullmatch(r"CLI[A-Z]{3}", entry["cli_product"]):
        raise ConfigError(f"{where}.cli_product: {entry['cli_product']!r} must look like CLINYC")
    if not -12 <= entry["std_utc_offset_hours"] <= 0:
        raise ConfigError(f"{where}.std_utc_offset_hours: {entry['std_utc_offset_hours']} is not a US offset")
    try:
        ZoneInfo(entry["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}.timezone: unknown IANA zone {entry['timezone']!r}") from None
    return City(**entry)


def load_cities(path: Path = CITIES_FILE) -> dict[str, City]:
    """Cities keyed by their short key, in file order."""
    document = _read_yaml(path, "city config")
    if not isinstance(document, dict) or not isinstance(document.get("cities"), list):
        raise ConfigError(f"{path}: expected a top-level 'cities:' list")
    cities: dict[str, City] = {}
    for index, entry in enumerate(document["cities"]):
        city = _validate_city(entry, index, path)
        if city.key in cities:
            raise ConfigError(f"{path}: cities[{index}].key: duplicate city key {city.key!r}")
        cities[city.key] = city
    if not cities:
        raise ConfigError(f"{path}: no cities configured")
    return cities


@cache
def cities() -> dict[str, City]:
    return load_cities()


def city(key: str) -> City:
    try:
        return cities()[key]
    except KeyError:
        raise ConfigError(f"unknown city {key!r}; configured: {', '.join(cities())}") from None


def kalshi_wx_home() -> Path:
    """Where local data lives: ``$KALSHI_WX_HOME``, default ``./data``."""
    return Path(os.environ.get("KALSHI_WX_HOME", "data")).resolve()


@dataclass(frozen=True)
class HazardSettings:
    n_paths: int = 4000
    seed: int = 20260601
    fit_window_days: int = 14
    min_fit_days: int = 3


@dataclass(frozen=True)
class PmfConfig:
    hazard: HazardSettings
    fusion: FusionSettings
    score_times_lst: tuple[time, ...]


def _typed(value: object, type_name: str, where: str) -> object:
    """A YAML scalar as the dataclass field type ``type_name`` (a string: the modules use postponed annotations)."""
    if isinstance(value, bool):
        if type_name == "bool":
            return value
    elif type_name == "int" and isinstance(value, int):
        return value
    elif type_name == "float" and isinstance(value, int | float):
        return float(value)
    elif type_name == "str" and isinstance(value, str):
        return value
    elif type_name == "Decimal" and isinstance(value, int | float | str):
        # str() first: YAML's 0.02 is read as the decimal literal written, not its binary float.
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            return number
    wanted = {
        "Decimal": "a decimal number of dollars",
        "bool": "true or false",
        "int": "a whole number",
        "float": "a number",
        "str": "a string",
    }[type_name]
    raise ConfigError(f"{where}: expected {wanted}, got {value!r}")


def _section(document: dict, name: str, kind: type, path: Path):
    """Dataclass ``kind`` from the mapping ``document[name]``, each value checked against its field type."""
    entry = document.get(name) or {}
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: {name}: expected a mapping")
    known = {f.name: f.type for f in fields(kind)}
    unknown = sorted(set(entry) - set(known))
    if unknown:
        raise ConfigError(f"{path}: {name}: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}")
    values = {k: _typed(v, known[k], f"{path}: {name}.{k}") for k, v in entry.items()}
    try:
        return kind(**values)
    except ValueError as exc:
        raise ConfigError(f"{path}: {name}: {exc}") from None


def load_pmf_config(path: Path = PMF_FILE) -> PmfConfig:
    document = _read_yaml(path, "probability engine config") or {}
    times = []
    for text in (document.get("diagnostics") or {}).get("score_times_lst", ["10:00", "13:00", "16:00"]):
        try:
            times.append(time.fromisoformat(str(text)))
        except ValueError:
            raise ConfigError(f"{path}: diagnostics.score_times_lst: {text!r} is not HH:MM") from None
    hazard = _section(document, "hazard", HazardSettings, path)
    if hazard.n_paths < 100 or hazard.min_fit_days < 1 or hazard.fit_window_days < hazard.min_fit_days:
        raise ConfigError(f"{path}: hazard: need n_paths >= 100 and 1 <= min_fit_days <= fit_window_days")
    return PmfConfig(hazard, _section(document, "fusion", FusionSettings, path), tuple(times))


@cache
def pmf_config() -> PmfConfig:
    return load_pmf_config()


def backfill_command(city_key: str, start: date | str = "YYYY-MM-DD", end: date | str = "YYYY-MM-DD") -> str:
    """The CLI line that fills a city's days, for error messages; warm-up days feed the first day's AR(1) fit."""
    warmup = pmf_config().hazard.fit_window_days
    return f"kalshi-wx backfill --cities {city_key} --start {start} --end {end} --warmup-days {warmup}"


@dataclass(frozen=True)
class ModelsConfig:
    window: TrainWindow
    settings: ModelSettings
    seed: int


def _window_day(value: object, where: str) -> date:
    # YAML reads an unquoted 2026-06-01 as a date; quoted, or from run config, it is a string.
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a YYYY-MM-DD day") from None


def parse_train_window(entry: object, where: str) -> TrainWindow:
    """A training window from ``{start, end}`` or ``{last_days}`` (YAML or a run's config)."""
    from kalshi_wx.core.models import TrainWindow  # see load_models_config

    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with start and end, or last_days")
    unknown = sorted(set(entry) - {"start", "end", "last_days"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: start, end, last_days")
    last_days = entry.get("last_days")
    if last_days is not None and (isinstance(last_days, bool) or not isinstance(last_days, int)):
        raise ConfigError(f"{where}.last_days: expected a whole number of days, got {last_days!r}")
    try:
        return TrainWindow(
            start=None if entry.get("start") is None else _window_day(entry["start"], f"{where}.start"),
            end=None if entry.get("end") is None else _window_day(entry["end"], f"{where}.end"),
            last_days=last_days,
        )
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _label_settings(entry: object, path: Path) -> LabelSettings:
    from kalshi_wx.core.models import LabelSettings  # see load_models_config

    entry = entry or {}
    if not isinstance(entry, dict) or set(entry) - {"horizons_min", "eps"}:
        raise ConfigError(f"{path}: labels: expected a mapping with horizons_min and eps")
    horizons = entry.get("horizons_min", list(LabelSettings.horizons_min))
    if not isinstance(horizons, list) or any(isinstance(h, bool) or not isinstance(h, int) for h in horizons):
        raise ConfigError(f"{path}: labels.horizons_min: expected a list of whole minutes, got {horizons!r}")
    eps = entry.get("eps", LabelSettings.eps)
    if isinstance(eps, bool) or not isinstance(eps, int | float):
        raise ConfigError(f"{path}: labels.eps: expected a number (dollars), got {eps!r}")
    try:
        return LabelSettings(tuple(horizons), float(eps))
    except ValueError as exc:
        raise ConfigError(f"{path}: labels: {exc}") from None


def load_models_config(path: Path = MODELS_FILE) -> ModelsConfig:
    # Imported here: core.models pulls in scikit-learn and xgboost (~1 s), which only training needs.
    from kalshi_wx.core.models import CALIBRATION_METHODS, LogisticSettings, ModelSettings, SplitSettings, XgbSettings

    document = _read_yaml(path, "model training config") or {}
    known = {"window", "seed", "labels", "split", "calibration", "logistic", "xgboost"}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if "window" not in document:
        raise ConfigError(f"{path}: window: required (start and end, or last_days)")
    seed = document.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{path}: seed: expected a whole number >= 0, got {seed!r}")
    calibration = document.get("calibration", ModelSettings.calibration)
    if calibration not in CALIBRATION_METHODS:
        raise ConfigError(f"{path}: calibration: {calibration!r}, expected one of {', '.join(CALIBRATION_METHODS)}")
    settings = ModelSettings(
        labels=_label_settings(document.get("labels"), path),
        split=_section(document, "split", SplitSettings, path),
        logistic=_section(document, "logistic", LogisticSettings, path),
        xgboost=_section(document, "xgboost", XgbSettings, path),
        calibration=calibration,
    )
    return ModelsConfig(parse_train_window(document["window"], f"{path}: window"), settings, seed)


@cache
def models_config() -> ModelsConfig:
    return load_models_config()


@dataclass(frozen=True)
class FusedEdgeSettings:
    margin: Decimal = Decimal("0.02")  # maker edge per contract after fees needed to rest an order

    def __post_init__(self) -> None:
        if self.margin < 0:
            raise ValueError(f"margin {self.margin} must be >= 0")


@dataclass(frozen=True)
class ModelMoveSettings:
    horizon_min: int = 5  # the trained horizon whose model drives the strategy
    model: str = "xgboost"
    up_above: float = 0.6
    exit_after_minutes: int = 5
    exit_patience_minutes: int = 2


@dataclass(frozen=True)
class BacktestSettings:
    engine: BacktestConfig  # shared by every strategy; exit_rule "hold" unless a strategy says otherwise
    fused_edge: FusedEdgeSettings
    model_move: ModelMoveSettings

    def model_move_config(self) -> BacktestConfig:
        """The engine settings for the model-driven strategy: the same limits, closed by time."""
        m = self.model_move
        return replace(
            self.engine,
            exit_rule="time",
            exit_after_minutes=m.exit_after_minutes,
            exit_patience_minutes=m.exit_patience_minutes,
        )


def load_backtest_config(path: Path = BACKTEST_FILE) -> BacktestSettings:
    from kalshi_wx.core.models import MODEL_KINDS  # see load_models_config

    document = _read_yaml(path, "backtest config") or {}
    known = {"engine", "fused_edge", "model_move"}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    model_move = _section(document, "model_move", ModelMoveSettings, path)
    if model_move.model not in MODEL_KINDS:
        raise ConfigError(f"{path}: model_move.model: {model_move.model!r}, expected one of {', '.join(MODEL_KINDS)}")
    settings = BacktestSettings(
        _section(document, "engine", BacktestConfig, path),
        _section(document, "fused_edge", FusedEdgeSettings, path),
        model_move,
    )
    try:
        MoveSignalStrategy(model_move.up_above)
        settings.model_move_config()
    except ValueError as exc:
        raise ConfigError(f"{path}: model_move: {exc}") from None
    return settings


@cache
def backtest_config() -> BacktestSettings:
    return load_backtest_config()
