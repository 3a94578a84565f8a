"""``kalshi-wx backfill``: Dagster asset backfills of cities x climate days (weather first), followed until they end.

The backfill is the one the UI creates (on the backfills page, runs tagged ``dagster/backfill``,
re-executable); the daemon launches its runs, so one must be running on the same instance. Without
one the command submits nothing and says how to start it.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta

from kalshi_wx.cli.common import UsageError, check_days, check_sources, city_list, prepare_dagster_home

POLL_SECONDS = 2.0


def _hours(age: timedelta) -> str:
    return f"{age.total_seconds() / 3600:.1f} h"


def _refresh_series(instance, *, verbose: bool) -> bool:
    """Re-materialize kalshi/series in process when it is missing or older than the configured age."""
    from kalshi_wx.definitions import build_definitions
    from kalshi_wx.defs.backfills import series_age
    from kalshi_wx.defs.resources import build_resources
    from kalshi_wx.defs.runs import run_series_job
    from kalshi_wx.defs.settings import settings

    max_age = timedelta(hours=settings().automation.series_max_age_hours)
    age = series_age(instance)
    if age is not None and age <= max_age:
        print(f"kalshi/series: materialized {_hours(age)} ago (refreshed past {_hours(max_age)}): kept")
        return True
    print(f"kalshi/series: {'never materialized' if age is None else f'{_hours(age)} old'}: refreshing ...", flush=True)
    outcome = run_series_job(build_definitions(build_resources()), instance, log_level="INFO" if verbose else "WARNING")
    for failure in outcome.failures:
        print(f"error: {failure.line(outcome.key)}", file=sys.stderr, flush=True)
    return outcome.success


def follow_backfill(instance, backfill_id: str, *, poll_seconds: float = POLL_SECONDS) -> bool:
    """Print each partition as it completes or fails until the backfill ends, then the failures' root causes."""
    from kalshi_wx.defs.backfills import backfill_progress, backfill_run_ids
    from kalshi_wx.defs.run_errors import failed_partitions

    started = time.monotonic()
    reported: set[str] = set()
    while True:
        progress = backfill_progress(instance, backfill_id)
        total = len(progress.partitions)
        for key in progress.partitions:
            if key in reported or (key not in progress.done and key not in progress.failed):
                continue
            reported.add(key)
            state = "FAILED" if key in progress.failed else "ok"
            print(f"  [{len(reported)}/{total}] {key:<16} {state} at {time.monotonic() - started:.0f}s", flush=True)
        if progress.finished:
            break
        time.sleep(poll_seconds)
    failures = failed_partitions(instance, backfill_run_ids(instance, backfill_id))
    for failure in failures:
        print(f"  failed: {failure.line()}", file=sys.stderr)
    print(
        f"backfill {backfill_id} {progress.status.value}: {len(progress.done)} of {total} partition(s) done, "
        f"{len(progress.failed)} failed, in {time.monotonic() - started:.0f}s"
    )
    return progress.status.value == "COMPLETED_SUCCESS"


def run_backfill(cities: list[str], start: date, end: date, *, warmup_days: int, verbose: bool) -> int:
    import dagster as dg

    from kalshi_wx.definitions import defs
    from kalshi_wx.defs.backfills import daemon_running, submit_asset_backfill
    from kalshi_wx.defs.jobs import CITY_DAY, WEATHER_HISTORY
    from kalshi_wx.defs.runs import partition_keys

    check_days(start, end, warmup_days)
    check_sources(None)
    dagster_home = prepare_dagster_home()
    keys = [str(k) for k in partition_keys(cities, start, end)]
    with dg.DagsterInstance.get() as instance:
        if not daemon_running(instance):
            raise UsageError(
                f"no dagster-daemon is running on {dagster_home}; a backfill's runs are launched by it. "
                f"Start one on this instance (`DAGSTER_HOME={dagster_home} dagster-daemon run -w workspace.yaml`, "
                "or `make dev`), then run this again"
            )
        if not _refresh_series(instance, verbose=verbose):
            return 1
        print(f"dagster:  {dagster_home}")
        # The AR(1) fit of a day reads the 14 days before it from the warehouse, a dependency Dagster is not
        # told of (see defs/assets/pmf.py): the weather of every day, warm-up included, goes first, so no fit
        # depends on the order the daemon happens to run the days in.
        first = start - timedelta(days=warmup_days)
        weather_keys = [str(k) for k in partition_keys(cities, first, end)]
        title = f"weather for {','.join(cities)} {first}..{end}"
        weather_id = submit_asset_backfill(instance, defs, weather_keys, WEATHER_HISTORY, title=title)
        print(f"backfill {weather_id}: weather of {len(weather_keys)} city-day(s), {warmup_days} warm-up day(s) a city")
        if not follow_backfill(instance, weather_id):
            print("weather FAILED: no fit or probability is computed on missing weather", file=sys.stderr)
            return 1
        title = f"{','.join(cities)} {start}..{end}"
        backfill_id = submit_asset_backfill(instance, defs, keys, CITY_DAY - WEATHER_HISTORY, title=title)
        print(f"backfill {backfill_id}: {len(keys)} city-day partition(s), on the UI's backfills page", flush=True)
        return 0 if follow_backfill(instance, backfill_id) else 1


def cmd_backfill(args) -> int:
    return run_backfill(
        city_list(args.cities),
        args.start,
        args.end,
        warmup_days=args.warmup_days,
        verbose=args.verbose,
    )
