"""``kalshi-wx doctor``: is this machine ready? One line per check, never a secret.

Config, keys (and, when they are set and the sources are live, one signed read: Kalshi answers
401 to a wrong key only on a signed call), the warehouse (a DuckDB file locked by another process
is named with that process's PID), the Dagster instance (storage reachable; the daemon's heartbeat
where one is expected) and connectivity.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx

from kalshi_wx.core.errors import ConfigError, PayloadError
from kalshi_wx.sources.http import redact, register_secret

OK, WARN, FAIL = "ok", "warn", "FAIL"
Check = tuple[str, str, str]  # (status, what, detail)

# Values doctor may come across (an error text can quote a connection string) and must never print.
_SECRET_VARIABLES = ("KALSHI_API_KEY_ID", "VISUAL_CROSSING_API_KEY", "DAGSTER_PG_PASSWORD", "POSTGRES_PASSWORD")


def _register_secrets() -> None:
    for name in _SECRET_VARIABLES:
        if value := os.environ.get(name, "").strip():
            register_secret(value)
    if password := urlsplit(os.environ.get("KALSHI_WX_WAREHOUSE_URL", "")).password:
        register_secret(password)


def _check_config() -> list[Check]:
    from kalshi_wx.defs.settings import CONFIG_DIR, load_settings

    try:
        cities = load_settings().cities
    except ConfigError as exc:
        return [(FAIL, "config", str(exc))]
    return [(OK, "config", f"{CONFIG_DIR}: {len(cities)} cities ({', '.join(cities)})")]


def _check_keys(mode: str) -> list[Check]:
    from kalshi_wx.defs.settings import city_sources, settings
    from kalshi_wx.sources.kalshi.auth import check_private_key

    results = [(OK, "sources", f"{mode} (set KALSHI_WX_SOURCES=sim|live|replay to override)")]
    key_id = os.environ.get("KALSHI_API_KEY_ID")
    pem = os.environ.get("KALSHI_PRIVATE_KEY_PATH")
    live = mode == "live"
    results.append((OK if key_id else (WARN if live else OK), "KALSHI_API_KEY_ID", "set" if key_id else "not set"))
    if pem:
        problems = check_private_key(pem)
        results.append((FAIL if problems else OK, "KALSHI_PRIVATE_KEY_PATH", "; ".join(problems) or f"{pem} usable"))
    else:
        results.append((WARN if live and key_id else OK, "KALSHI_PRIVATE_KEY_PATH", "not set (needed for portfolio)"))
    # Visual Crossing is optional: only the cities configured to use it need the key.
    vc_cities = [
        key
        for key in settings().cities
        if "visual_crossing" in (city_sources(key, mode).observations, city_sources(key, mode).forecast)
    ]
    vc = os.environ.get("VISUAL_CROSSING_API_KEY")
    needed = f"needed for {', '.join(vc_cities)}" if vc_cities else "not needed (config/weather.yaml)"
    status = FAIL if live and vc_cities and not vc else OK
    results.append((status, "VISUAL_CROSSING_API_KEY", f"{'set' if vc else 'not set'}; {needed}"))
    return results


def _check_signed_read(mode: str) -> list[Check]:
    """``GET /portfolio/balance``, signed: the one call that tells a right key from a well-formed wrong one."""
    from kalshi_wx.sources.http import RetryPolicy, SourceUnavailableError
    from kalshi_wx.sources.kalshi.auth import mask
    from kalshi_wx.sources.kalshi.client import KalshiClient, KalshiHTTPError

    name = "kalshi signed read"
    key_id = os.environ.get("KALSHI_API_KEY_ID", "").strip()
    if not key_id and not os.environ.get("KALSHI_PRIVATE_KEY_PATH", "").strip():
        return []
    if mode != "live":
        return [(OK, name, "not tried: sources are sim (with KALSHI_WX_SOURCES=live, doctor signs one read)")]
    try:
        client = KalshiClient.from_env(retry=RetryPolicy(max_attempts=2))
    except ConfigError as exc:
        return [(FAIL, name, str(exc))]
    with client:
        try:
            body = client.get_balance()
        except KalshiHTTPError as exc:
            if exc.status != 401:
                return [(FAIL, name, str(exc))]
            why = "a key pair that does not match, a revoked key, or a demo key on production or the reverse"
            return [(FAIL, name, f"{exc}: key {mask(key_id)} and its PEM are set but Kalshi rejected them ({why})")]
        except (SourceUnavailableError, PayloadError) as exc:
            return [(FAIL, name, str(exc))]
    return [(OK, name, f"GET /portfolio/balance: balance {_dollars(body)}")]


def _dollars(balance: dict[str, Any]) -> str:
    text = balance.get("balance_dollars")
    amount = Decimal(text) if isinstance(text, str) else Decimal(balance["balance"]) / 100
    return f"${amount:,.2f}"


def _check_storage() -> list[Check]:
    from kalshi_wx.defs.settings import default_warehouse_url
    from kalshi_wx.warehouse.backends import WarehouseLockedError
    from kalshi_wx.warehouse.resource import Warehouse

    # No waiting: a file locked now is what doctor should report, with the PID holding it.
    warehouse = Warehouse(url=default_warehouse_url(), lock_timeout_s=0)
    try:
        tables = warehouse.backend.existing_tables()
    except WarehouseLockedError as exc:
        return [(FAIL, "warehouse", str(exc))]
    except Exception as exc:  # any driver error means the warehouse is not usable
        return [(FAIL, "warehouse", f"{warehouse.backend.display_url}: {type(exc).__name__}: {_first_line(exc)}")]
    ours = sorted(t for t in tables if t.split(".")[0] in ("kalshi", "weather"))
    return [(OK, "warehouse", f"{warehouse.backend.display_url}: {len(ours)} tables")]


def _check_instance() -> list[Check]:
    """Storage reachable; daemon heartbeats, required where the instance is served (PostgreSQL storage).

    A laptop's SQLite instance has a daemon only while ``dagster dev`` runs, so there its absence
    is normal; a served instance (docker, one server) without one runs no schedule, sensor,
    backfill or queued run.
    """
    import dagster as dg
    from dagster._core.storage.runs import SqliteRunStorage

    from kalshi_wx.defs.settings import dagster_home

    home = dagster_home()
    if not (home / "dagster.yaml").exists():
        return [(OK, "dagster", f"{home}: no instance yet (the first demo or backfill creates it)")]
    retries = _ConnectionRetries()
    logging.getLogger().addFilter(retries)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            runs = instance.get_runs_count()
            served = not isinstance(instance.run_storage, SqliteRunStorage)
            statuses = [s for s in instance.get_daemon_statuses().values() if s.required]
    except Exception as exc:  # dagster, SQLAlchemy and the drivers raise many types for one outcome
        cause = _root_cause(exc)  # "too many retries" says less than the driver's "connection refused"
        problem = f"{type(cause).__name__}: {_first_line(cause)}"
        tried = f" after {retries.count} attempts" if retries.count else ""
        return [(FAIL, "dagster", f"{home / 'dagster.yaml'}: storage unreachable{tried}: {problem}")]
    finally:
        logging.getLogger().removeFilter(retries)
    storage = "PostgreSQL" if served else "SQLite"
    return [(OK, "dagster", f"{home} ({storage} storage): {runs} runs"), _daemon_check(statuses, served)]


class _ConnectionRetries(logging.Filter):
    """Counts dagster-postgres's failed connection attempts (a warning each, on the root logger) and
    keeps them off the console, where doctor prints one line per check."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Retrying failed database connection"):
            self.count += 1
            return False
        return True


def _daemon_check(statuses: Sequence[Any], served: bool) -> Check:
    heartbeats = [s.last_heartbeat.timestamp for s in statuses if s.last_heartbeat is not None]
    down = sorted(s.daemon_type for s in statuses if not s.healthy)
    if not down:
        age = time.time() - min(heartbeats)
        return (OK, "dagster-daemon", f"{len(statuses)} daemons alive, oldest heartbeat {age:.0f}s ago")
    if not served:
        if not heartbeats:
            return (OK, "dagster-daemon", "not running (schedules, sensors and backfills need it: `make dev` runs one)")
        return (WARN, "dagster-daemon", f"stopped: no recent heartbeat from {', '.join(down)}")
    if not heartbeats:
        waiting = "schedules, sensors, backfills and queued runs wait until `dagster-daemon run` starts"
        return (FAIL, "dagster-daemon", f"no heartbeat on this served instance: {waiting}")
    return (FAIL, "dagster-daemon", f"no recent heartbeat from {', '.join(down)}")


def _root_cause(exc: BaseException) -> BaseException:
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    return exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


def _reach(name: str, url: str, **kwargs: Any) -> Check:
    try:
        response = httpx.get(url, timeout=5.0, **kwargs)
    except httpx.HTTPError as exc:
        return (FAIL, name, f"{url.split('?')[0]}: {type(exc).__name__}")
    status = OK if response.status_code < 400 else FAIL
    return (status, name, f"{url.split('?')[0]}: HTTP {response.status_code}")


def _check_connectivity(mode: str) -> list[Check]:
    from kalshi_wx.sources.kalshi.client import resolve_base_url
    from kalshi_wx.sources.nws import NwsClient

    if mode == "sim":
        from kalshi_wx.defs.resources import sim_config
        from kalshi_wx.sources.sim.server import shared_sim_server

        server = shared_sim_server(sim_config())
        kalshi, nws = server.kalshi_base_url, server.nws_base_url
    elif mode == "replay":
        from kalshi_wx.defs.resources import replay_server

        try:
            replay = replay_server()
        except ConfigError as exc:
            return [(FAIL, "replay", str(exc))]
        kalshi, nws = replay.kalshi_base_url, replay.nws_base_url
    else:
        kalshi = resolve_base_url(os.environ.get("KALSHI_API_BASE"))
        nws = NwsClient().base_url
    # Visual Crossing bills every query, so doctor does not call it.
    return [
        _reach("kalshi", f"{kalshi}/historical/cutoff"),
        _reach("nws", f"{nws}/products/types/CLI/locations/NYC", headers={"User-Agent": "kalshi-wx doctor"}),
    ]


def run_doctor(echo: Callable[[str], None] = print) -> int:
    from kalshi_wx.defs.settings import source_mode

    _register_secrets()
    try:
        mode = source_mode()
    except ConfigError as exc:
        echo(f"[{FAIL}] sources: {exc}")
        return 1
    checks: list[tuple[str, Callable[[], list[Check]]]] = [
        ("config", _check_config),
        ("keys", lambda: _check_keys(mode)),
        ("kalshi signed read", lambda: _check_signed_read(mode)),
        ("warehouse", _check_storage),
        ("dagster", _check_instance),  # a PostgreSQL instance that is down takes dagster-postgres ~10 s of retries
        ("connectivity", lambda: _check_connectivity(mode)),
    ]
    results: list[Check] = []
    for what, check in checks:
        try:
            found = check()
        except ConfigError as exc:  # the checks after config read it; a broken file is reported once, above
            config_failed = any(status == FAIL and name == "config" for status, name, _ in results)
            found = [(FAIL, what, "not checked: needs the config above" if config_failed else str(exc))]
        for status, name, detail in found:
            echo(redact(f"[{status:>4}] {name}: {detail}"))
            results.append((status, name, detail))
    failed = [r for r in results if r[0] == FAIL]
    echo(f"{len(failed)} problem(s)" if failed else "all good")
    return 1 if failed else 0
