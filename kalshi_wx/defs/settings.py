"""Settings: ``config/*.yaml`` validated once, and the environment variables that choose storage and sources.

Each file is one pydantic model; the domain settings inside them are ``core`` dataclasses, so a
section is validated by the same type the code runs on. Errors name the file and the key
(``config/backtest.yaml: engine.order_size: ...``). The files are read once per process
(``settings()``); environment variables are read when asked, because a test or the CLI may change
them between runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kalshi_wx.core.backtest import BacktestConfig, MoveSignalStrategy
from kalshi_wx.core.cities import City, cities_by_key
from kalshi_wx.core.config_types import Money, Real, Switch, Text, Whole
from kalshi_wx.core.errors import ConfigError
from kalshi_wx.core.live.walls import KILL_SWITCH_ENV, RiskLimits, kill_switch_reason
from kalshi_wx.core.models.settings import (
    CalibrationMethod,
    LabelSettings,
    LogisticSettings,
    ModelKind,
    ModelSettings,
    SplitSettings,
    TrainWindow,
    XgbSettings,
)
from kalshi_wx.core.payloads.forecasts import ForecastSource
from kalshi_wx.core.payloads.observations import ObservationSource
from kalshi_wx.core.pmf.fusion import FusionSettings
from kalshi_wx.sources.sim.common import SimMarket
from kalshi_wx.warehouse.backends import DEFAULT_LOCK_TIMEOUT_S

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = Path(os.environ.get("KALSHI_WX_CONFIG_DIR", REPO_ROOT / "config"))
CITIES_FILE, PMF_FILE, MODELS_FILE, BACKTEST_FILE = "cities.yaml", "pmf.yaml", "models.yaml", "backtest.yaml"
WEATHER_FILE = "weather.yaml"
HIGHRES_FILE = "highres.yaml"
LIVE_FILE = "live.yaml"
SIM_FILE = "sim.yaml"
AUTOMATION_FILE = "automation.yaml"


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- config/cities.yaml ---------------------------------------------------------------------------


class CitiesFile(_File):
    cities: list[City]

    @field_validator("cities")
    @classmethod
    def _unique(cls, cities: list[City]) -> list[City]:
        cities_by_key(cities)
        return cities


# --- config/pmf.yaml --------------------------------------------------------------------------------


class HazardSettings(_File):
    n_paths: Annotated[Whole, Field(ge=100)] = 4000  # Monte Carlo paths per city-day
    seed: Whole = 20260601  # with the partition key, fixes every draw
    fit_window_days: Whole = 14  # trailing days the AR(1) residual is fitted on
    min_fit_days: Annotated[Whole, Field(ge=1)] = 3  # below this, the prior parameters are used

    @model_validator(mode="after")
    def _window(self) -> HazardSettings:
        if self.fit_window_days < self.min_fit_days:
            raise ValueError(f"fit_window_days {self.fit_window_days} must be >= min_fit_days {self.min_fit_days}")
        return self


class DiagnosticsSettings(_File):
    score_times_lst: tuple[time, ...] = (time(10), time(13), time(16))  # local standard time
    score_window_days: Annotated[Whole, Field(ge=1)] = 60  # pmf/forecast_scores: days ending at the last settled one


class PmfSettings(_File):
    hazard: HazardSettings = HazardSettings()
    fusion: FusionSettings = FusionSettings()
    diagnostics: DiagnosticsSettings = DiagnosticsSettings()

    @property
    def score_times_lst(self) -> tuple[time, ...]:
        return self.diagnostics.score_times_lst


# --- config/models.yaml -----------------------------------------------------------------------------


class ModelsSettings(_File):
    window: TrainWindow
    seed: Annotated[Whole, Field(ge=0)] = 0  # fixes xgboost's sampling: a re-run reproduces models and metrics
    labels: LabelSettings = LabelSettings()
    split: SplitSettings = SplitSettings()
    calibration: CalibrationMethod = "sigmoid"
    logistic: LogisticSettings = LogisticSettings()
    xgboost: XgbSettings = XgbSettings()

    @property
    def settings(self) -> ModelSettings:
        return ModelSettings(self.labels, self.split, self.logistic, self.xgboost, self.calibration)


# --- config/backtest.yaml ---------------------------------------------------------------------------


class FusedEdgeSettings(_File):
    margin: Annotated[Money, Field(ge=0)] = Decimal("0.02")  # maker edge per contract after fees


class ModelMoveSettings(_File):
    horizon_min: Whole = 5  # the trained horizon whose model drives the strategy
    model: ModelKind = "xgboost"
    up_above: Real = 0.6
    exit_after_minutes: Whole = 5
    exit_patience_minutes: Whole = 2

    @model_validator(mode="after")
    def _strategy(self) -> ModelMoveSettings:
        MoveSignalStrategy(self.up_above)
        return self


class BacktestSettings(_File):
    engine: BacktestConfig = BacktestConfig()  # shared by every strategy; "hold" unless a strategy says otherwise
    fused_edge: FusedEdgeSettings = FusedEdgeSettings()
    model_move: ModelMoveSettings = ModelMoveSettings()

    @model_validator(mode="after")
    def _model_move_engine(self) -> BacktestSettings:
        self.model_move_config()
        return self

    def model_move_config(self) -> BacktestConfig:
        """The engine settings for the model-driven strategy: the same limits, closed by time."""
        m = self.model_move
        return replace(
            self.engine,
            exit_rule="time",
            exit_after_minutes=m.exit_after_minutes,
            exit_patience_minutes=m.exit_patience_minutes,
        )


# --- config/weather.yaml ----------------------------------------------------------------------------

MosModel = Literal["NBS", "NBE", "GFS", "LAV", "MEX", "NAM"]


class CityWeather(_File):
    observations: ObservationSource | None = None
    forecast: ForecastSource | None = None


class WeatherDefaults(_File):
    observations: ObservationSource = "iem_1min"
    forecast: ForecastSource = "iem_mos"


class MosSettings(_File):
    model: MosModel = "NBS"
    publication_delay_hours: dict[MosModel, Annotated[Whole, Field(ge=0, le=24)]] = {
        "NBS": 2, "NBE": 2, "LAV": 1, "GFS": 5, "NAM": 4, "MEX": 6,
    }  # fmt: skip
    lookback_hours: Annotated[Whole, Field(ge=1, le=96)] = 36

    @model_validator(mode="after")
    def _delay_of_model(self) -> MosSettings:
        if self.model not in self.publication_delay_hours:
            raise ValueError(f"publication_delay_hours has no entry for the model {self.model}")
        return self

    @property
    def publication_delay(self) -> timedelta:
        return timedelta(hours=self.publication_delay_hours[self.model])


class CoverageSettings(_File):
    min_share: Annotated[Real, Field(ge=0, le=1)] = 0.9
    max_gap_minutes: Annotated[Whole, Field(ge=1, le=1440)] = 60


@dataclass(frozen=True)
class CitySources:
    """Where one city's weather comes from."""

    observations: ObservationSource
    forecast: ForecastSource


class WeatherSettings(_File):
    defaults: WeatherDefaults = WeatherDefaults()
    cities: dict[str, CityWeather] = {}
    mos: MosSettings = MosSettings()
    coverage: CoverageSettings = CoverageSettings()

    def sources(self, city_key: str) -> CitySources:
        """The city's configured sources: its own entry, else the defaults."""
        own = self.cities.get(city_key, CityWeather())
        return CitySources(
            observations=own.observations or self.defaults.observations,
            forecast=own.forecast or self.defaults.forecast,
        )


# --- config/highres.yaml ----------------------------------------------------------------------------


class HighresSettings(_File):
    """What ``kalshi-wx record`` records by default, and the partitions of ``highres/book_snapshots``."""

    series: tuple[Text, ...]  # the series partitions; recorded by default
    first_date: date  # the first day partition
    snapshot_ms: Annotated[Whole, Field(ge=10)] = 100
    depth: Annotated[Whole, Field(ge=1, le=50)] = 5  # bid levels kept per side in a row
    part_seconds: Annotated[Whole, Field(ge=1)] = 60  # one part file per interval: what a crash can lose
    discovery_seconds: Annotated[Real, Field(gt=0)] = 60.0  # REST poll for markets the lifecycle stream missed
    closed_day_grace_minutes: Annotated[Whole, Field(ge=0)] = 15  # after a day ends, before the sensor registers it
    min_coverage: Annotated[Real, Field(ge=0, le=1)] = 0.95  # share of a market's open interval with rows (check)

    @field_validator("series")
    @classmethod
    def _series(cls, series: tuple[str, ...]) -> tuple[str, ...]:
        if not series:
            raise ValueError("list at least one series")
        bad = [s for s in series if not (s.isalnum() and s.isupper())]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a series ticker (upper-case letters and digits)")
        if len(set(series)) != len(series):
            raise ValueError(f"a series is listed twice: {', '.join(series)}")
        return series

    @model_validator(mode="after")
    def _intervals(self) -> HighresSettings:
        if 3600 % self.part_seconds:
            raise ValueError(f"part_seconds {self.part_seconds} must divide 3600, so a part never straddles two days")
        if (self.part_seconds * 1000) % self.snapshot_ms:
            raise ValueError(f"snapshot_ms {self.snapshot_ms} must divide part_seconds x 1000")
        return self


# --- config/live.yaml --------------------------------------------------------------------------------

LIVE_ENV = "KALSHI_WX_LIVE"


class LiveSettings(_File):
    """The live executor: dry-run unless ``live`` is true here *and* ``KALSHI_WX_LIVE=1``."""

    live: Switch = False
    strategy: Literal["fused_edge"] = "fused_edge"  # the backtest strategy the executor asks (config/backtest.yaml)
    kill_file: Text = (
        "KILL"  # under $KALSHI_WX_HOME: while it exists, nothing is placed and resting orders are cancelled
    )
    walls: RiskLimits = RiskLimits()

    @field_validator("kill_file")
    @classmethod
    def _kill_file(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("name a file (relative to $KALSHI_WX_HOME or absolute)")
        return name


# --- config/sim.yaml --------------------------------------------------------------------------------


class SimCalibrationSettings(_File):
    """What ``kalshi-wx sim calibrate`` simulates beside the real market, and the tolerance per statistic."""

    city: Text
    years: Annotated[Whole, Field(ge=1)]
    tolerances: dict[Text, Annotated[Real, Field(gt=0)]]


class SimSettings(_File):
    """The simulated weather markets (``SimMarket``) and their calibration to the real KXHIGHCHI market."""

    market: SimMarket
    calibration: SimCalibrationSettings


# --- config/automation.yaml -------------------------------------------------------------------------


class AutomationSettings(_File):
    """How the graph runs by itself: settlement polling, the daily ingest, declarative refreshes, backfills."""

    settlement_poll_minutes: Annotated[Whole, Field(ge=1)] = 30  # the settlement sensor's interval
    ingest_hour_lst: Annotated[Whole, Field(ge=0, le=23)] = 8  # local standard hour the closed day is ingested
    late_correction_days: Annotated[Whole, Field(ge=0)] = 7  # automation refreshes days this far back
    dbt_batch_days: Annotated[Whole, Field(ge=1)] = 31  # partitions per dbt run in a backfill
    series_max_age_hours: Annotated[Real, Field(gt=0)] = 24  # `kalshi-wx backfill` refreshes kalshi/series past this


# --- loading ------------------------------------------------------------------------------------------

FileModel = TypeVar("FileModel", bound=BaseModel)


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def config_error(path: Path | str, exc: ValidationError) -> ConfigError:
    """One line per problem, each naming the file and the key."""
    problems = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] not in ("missing", "missing_argument", "value_error", "unexpected_keyword_argument"):
            given = error["input"]
            message += f", got {given if isinstance(given, Decimal) else repr(given)}"
        where = _where(error["loc"])
        problems.append(f"{path}: {where}: {message}" if where else f"{path}: {message}")
    return ConfigError("; ".join(problems))


class _DecimalLoader(yaml.SafeLoader):
    """YAML with every float read as the Decimal literal written: ``0.1`` is ``Decimal("0.1")``."""


def _decimal_scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    special = {".nan": "NaN", ".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity"}
    return Decimal(special.get(text, text))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal_scalar)


def read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(), Loader=_DecimalLoader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except yaml.MarkedYAMLError as exc:
        # The mark is where the parser gave up; PyYAML's own text quotes "<unicode string>" and a caret.
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError(f"{path}: {where}not valid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None


def validate_file(path: Path, model: type[FileModel], document: Any) -> FileModel:
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(document).__name__}")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise config_error(path, exc) from None


def load_file(path: Path, model: type[FileModel]) -> FileModel:
    return validate_file(path, model, read_yaml(path))


@dataclass(frozen=True)
class Settings:
    """Everything in ``config/``: cities, weather sources, the probability engine, model training, the backtest,
    recording, the simulated markets."""

    config_dir: Path
    cities: Mapping[str, City]
    weather: WeatherSettings
    pmf: PmfSettings
    models: ModelsSettings
    backtest: BacktestSettings
    highres: HighresSettings
    live: LiveSettings
    sim: SimSettings
    automation: AutomationSettings

    def recording_offset_hours(self, series: str) -> int:
        """The UTC offset of a series' recording day: its city's standard offset for a weather
        series (so its days are climate days), else 0 (UTC days)."""
        for city in self.cities.values():
            if city.series == series:
                return city.std_utc_offset_hours
        return 0

    def city(self, key: str) -> City:
        try:
            return self.cities[key]
        except KeyError:
            raise ConfigError(f"unknown city {key!r}; configured: {', '.join(self.cities)}") from None


def load_cities(path: Path) -> dict[str, City]:
    return cities_by_key(load_file(path, CitiesFile).cities)


def load_weather(path: Path, cities: Mapping[str, City]) -> WeatherSettings:
    weather = load_file(path, WeatherSettings)
    unknown = sorted(set(weather.cities) - set(cities))
    if unknown:
        raise ConfigError(f"{path}: cities: {', '.join(unknown)} not in {CITIES_FILE} ({', '.join(cities)})")
    return weather


def load_settings(config_dir: Path = CONFIG_DIR) -> Settings:
    cities = load_cities(config_dir / CITIES_FILE)
    return Settings(
        config_dir=config_dir,
        cities=cities,
        weather=load_weather(config_dir / WEATHER_FILE, cities),
        pmf=load_file(config_dir / PMF_FILE, PmfSettings),
        models=load_file(config_dir / MODELS_FILE, ModelsSettings),
        backtest=load_file(config_dir / BACKTEST_FILE, BacktestSettings),
        highres=load_file(config_dir / HIGHRES_FILE, HighresSettings),
        live=load_file(config_dir / LIVE_FILE, LiveSettings),
        sim=load_file(config_dir / SIM_FILE, SimSettings),
        automation=load_file(config_dir / AUTOMATION_FILE, AutomationSettings),
    )


@cache
def settings() -> Settings:
    """The process's settings, read from ``$KALSHI_WX_CONFIG_DIR`` (default ``config/``) once."""
    return load_settings()


def parse_train_window(entry: object, where: str) -> TrainWindow:
    """A training window from ``{start, end}`` or ``{last_days}`` (a run's config)."""
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a mapping with start and end, or last_days")
    try:
        return TrainWindow(**entry)
    except (ValidationError, TypeError) as exc:
        if isinstance(exc, ValidationError):
            raise config_error(where, exc) from None
        raise ConfigError(f"{where}: {exc}") from None


def backfill_command(city_key: str, start: date | str = "YYYY-MM-DD", end: date | str = "YYYY-MM-DD") -> str:
    """The CLI line that fills a city's days, for error messages; warm-up days feed the first day's AR(1) fit."""
    warmup = settings().pmf.hazard.fit_window_days
    return f"kalshi-wx backfill --cities {city_key} --start {start} --end {end} --warmup-days {warmup}"


# --- the environment --------------------------------------------------------------------------------

SourceMode = Literal["sim", "live", "replay"]
KEY_VARIABLES = ("KALSHI_API_KEY_ID", "VISUAL_CROSSING_API_KEY")
SIM_SOURCES = CitySources(observations="visual_crossing", forecast="visual_crossing")


def automation_running_by_default() -> bool:
    """Whether sensors and schedules start RUNNING: ``KALSHI_WX_AUTOMATION=off`` makes them start STOPPED
    (a scratch instance, a test's daemon), still listed and startable from the UI or ``dagster sensor start``."""
    value = os.environ.get("KALSHI_WX_AUTOMATION", "on").strip().lower()
    if value not in ("on", "off"):
        raise ConfigError(f"KALSHI_WX_AUTOMATION must be 'on' or 'off', got {value!r}")
    return value == "on"


def kalshi_wx_home() -> Path:
    """Where local data lives: ``$KALSHI_WX_HOME``, default ``./data``."""
    return Path(os.environ.get("KALSHI_WX_HOME", "data")).resolve()


def dagster_home() -> Path:
    """The Dagster instance the CLI runs on: ``$DAGSTER_HOME``, default ``$KALSHI_WX_HOME/dagster_home``."""
    return Path(os.environ.get("DAGSTER_HOME") or kalshi_wx_home() / "dagster_home").resolve()


def default_warehouse_url() -> str:
    """``KALSHI_WX_WAREHOUSE_URL`` if set, else the DuckDB file ``$KALSHI_WX_HOME/warehouse.duckdb``."""
    return os.environ.get("KALSHI_WX_WAREHOUSE_URL") or f"duckdb://{kalshi_wx_home() / 'warehouse.duckdb'}"


def duckdb_lock_timeout_s() -> float:
    """``KALSHI_WX_DUCKDB_LOCK_TIMEOUT``: seconds to wait for a DuckDB warehouse file another process holds."""
    text = os.environ.get("KALSHI_WX_DUCKDB_LOCK_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ConfigError(f"KALSHI_WX_DUCKDB_LOCK_TIMEOUT={text!r}: expected a number of seconds >= 0")
    return seconds


def live_orders_enabled(live: LiveSettings | None = None) -> bool:
    """Whether the executor may send orders: ``live: true`` in config/live.yaml and ``KALSHI_WX_LIVE=1``."""
    configured = (live or settings().live).live
    return configured and os.environ.get(LIVE_ENV, "").strip() == "1"


def kill_file() -> Path:
    """The kill file of config/live.yaml, resolved against ``$KALSHI_WX_HOME``."""
    return kalshi_wx_home() / settings().live.kill_file


def kill_switch() -> str | None:
    """Why trading is stopped (``KALSHI_WX_KILL`` set, or the kill file present); None when it is not."""
    path = kill_file()
    return kill_switch_reason(os.environ.get(KILL_SWITCH_ENV), path.exists(), str(path))


def source_mode() -> SourceMode:
    """``KALSHI_WX_SOURCES`` (sim, live or replay); unset, live as soon as a key is set, else the simulator."""
    explicit = os.environ.get("KALSHI_WX_SOURCES", "").strip().lower()
    modes: dict[str, SourceMode] = {"sim": "sim", "live": "live", "replay": "replay"}
    if explicit in modes:
        return modes[explicit]
    if explicit:
        raise ConfigError(f"KALSHI_WX_SOURCES={explicit!r}: expected 'sim', 'live' or 'replay'")
    return "live" if any(os.environ.get(v) for v in KEY_VARIABLES) else "sim"


def replay_dir() -> Path:
    """``KALSHI_WX_REPLAY_DIR``: the recorded payloads replay mode serves (README, "Replay")."""
    text = os.environ.get("KALSHI_WX_REPLAY_DIR", "").strip()
    if not text:
        raise ConfigError("KALSHI_WX_SOURCES=replay needs KALSHI_WX_REPLAY_DIR (a directory of recorded payloads)")
    path = Path(text).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"KALSHI_WX_REPLAY_DIR={text!r}: not a directory")
    return path


def city_sources(city_key: str, mode: str) -> CitySources:
    """Where a city's weather comes from in ``mode``: the simulator speaks Visual Crossing only."""
    return SIM_SOURCES if mode == "sim" else settings().weather.sources(city_key)


def storage_kind(url: str | None = None) -> str:
    """``postgres`` or ``duckdb``: the warehouse's kind, shown on every asset."""
    return "postgres" if (url or default_warehouse_url()).startswith("postgres") else "duckdb"
