"""What several commands share: the instance directory, the cities asked for, the error a refused command raises."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

from kalshi_wx.defs.settings import SourceMode, kalshi_wx_home, settings


class UsageError(ValueError):
    """A command line that cannot run as given (an unknown city, a reversed range): refused before any run."""


def prepare_dagster_home() -> Path:
    """``$DAGSTER_HOME`` (default ``$KALSHI_WX_HOME/dagster_home``) with the local instance config."""
    home = Path(os.environ.get("DAGSTER_HOME") or kalshi_wx_home() / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(settings().config_dir / "dagster.local.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def city_list(text: str, option: str = "--cities") -> list[str]:
    """Validated against config/cities.yaml here, not in the parser: ``--help`` works with a broken config."""
    cities = settings().cities
    keys = list(cities) if text.strip() == "all" else [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in keys if c not in cities]
    if unknown or not keys:
        raise UsageError(
            f"{option}: unknown city {', '.join(unknown) or '(none given)'}; configured: {', '.join(cities)}"
        )
    return keys


def check_days(start: date, end: date, warmup_days: int = 0) -> None:
    """A range of climate-day partitions (and its warm-up days): in order, within the days the partitions define."""
    if end < start:
        raise UsageError(f"--end {end} is before --start {start}")
    if warmup_days < 0:
        raise UsageError(f"--warmup-days {warmup_days} is negative")
    from kalshi_wx.defs.partitions import FIRST_CLIMATE_DAY, climate_day_partitions

    first = start - timedelta(days=warmup_days)
    if first < date.fromisoformat(FIRST_CLIMATE_DAY):
        warmup = f" less --warmup-days {warmup_days} ({first})" if warmup_days else ""
        raise UsageError(f"--start {start}{warmup} is before the first climate-day partition {FIRST_CLIMATE_DAY}")
    last = date.fromisoformat(climate_day_partitions.get_last_partition_key() or FIRST_CLIMATE_DAY)
    if end > last:
        raise UsageError(f"--end {end} is after the last complete climate-day partition {last}")


def check_sources(mode: SourceMode | None) -> SourceMode:
    """The sources' settings, read before any run: a bad variable or key file is one line, nothing written."""
    from kalshi_wx.defs.settings import duckdb_lock_timeout_s, replay_dir, source_mode
    from kalshi_wx.sources.kalshi.auth import KalshiSigner

    mode = mode or source_mode()
    if mode == "replay":
        replay_dir()
    if mode == "live":
        KalshiSigner.from_env()  # reads and parses KALSHI_PRIVATE_KEY_PATH
    duckdb_lock_timeout_s()
    return mode
