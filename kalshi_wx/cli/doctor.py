"""``kalshi-wx doctor``: is this machine ready? Config, keys, storage, connectivity; never prints a secret."""

from __future__ import annotations

import os
from collections.abc import Callable

import httpx

from kalshi_wx.core.errors import ConfigError

OK, WARN, FAIL = "ok", "warn", "FAIL"


def _check_config() -> list[tuple[str, str, str]]:
    from kalshi_wx.defs.settings import CONFIG_DIR, load_settings

    try:
        cities = load_settings().cities
    except ConfigError as exc:
        return [(FAIL, "config", str(exc))]
    return [(OK, "config", f"{CONFIG_DIR}: {len(cities)} cities ({', '.join(cities)})")]


def _check_keys(mode: str) -> list[tuple[str, str, str]]:
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


def _check_storage() -> list[tuple[str, str, str]]:
    from kalshi_wx.defs.settings import default_warehouse_url
    from kalshi_wx.warehouse.resource import Warehouse

    warehouse = Warehouse(url=default_warehouse_url())
    try:
        tables = warehouse.backend.existing_tables()
    except Exception as exc:  # any driver error means the warehouse is not usable
        return [(FAIL, "warehouse", f"{warehouse.backend.display_url}: {type(exc).__name__}: {exc}")]
    ours = sorted(t for t in tables if t.split(".")[0] in ("kalshi", "weather"))
    return [(OK, "warehouse", f"{warehouse.backend.display_url}: {len(ours)} tables")]


def _reach(name: str, url: str, **kwargs) -> tuple[str, str, str]:
    try:
        response = httpx.get(url, timeout=5.0, **kwargs)
    except httpx.HTTPError as exc:
        return (FAIL, name, f"{url.split('?')[0]}: {type(exc).__name__}")
    status = OK if response.status_code < 400 else FAIL
    return (status, name, f"{url.split('?')[0]}: HTTP {response.status_code}")


def _check_connectivity(mode: str) -> list[tuple[str, str, str]]:
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

    try:
        mode = source_mode()
    except ConfigError as exc:
        echo(f"[{FAIL}] sources: {exc}")
        return 1
    results = [*_check_config(), *_check_keys(mode), *_check_storage(), *_check_connectivity(mode)]
    for status, name, detail in results:
        echo(f"[{status:>4}] {name}: {detail}")
    failed = [r for r in results if r[0] == FAIL]
    echo(f"{len(failed)} problem(s)" if failed else "all good")
    return 1 if failed else 0
