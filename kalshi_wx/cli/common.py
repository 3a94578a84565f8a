"""What several commands share: the instance directory, the cities asked for, the error a refused command raises."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kalshi_wx.defs.settings import kalshi_wx_home, settings


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
