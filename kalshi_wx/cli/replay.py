"""``kalshi-wx replay build``: a replay directory from the shared real files, and how to run on it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.replay.build import SETS, build_replay

RAW_MARKET = "kalshi/markets,kalshi/trades,kalshi/candles_1m,weather/settlement"
RAW_WEATHER = "weather/station_obs,weather/forecast,weather/settlement"


def default_real_data() -> Path:
    """``KALSHI_WX_REAL_DATA``, else ``../shared/data/real`` beside the repository."""
    env = os.environ.get("KALSHI_WX_REAL_DATA", "").strip()
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


def cmd_replay_build(args: argparse.Namespace) -> int:
    real = Path(args.real_data) if args.real_data else default_real_data()
    out = Path(args.out).resolve()
    try:
        report = build_replay(real, out, cities=dict(settings().cities), sets=args.sets or SETS)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"replay directory {out}:")
    for kind, count in sorted(report.files.items()):
        print(f"  {count:>5} {kind}")
    for line in report.rebuilt:
        print(f"  rebuilt: {line}")
    print("\nRun the graph on it (no keys, no network):")
    print(f"  export KALSHI_WX_SOURCES=replay KALSHI_WX_REPLAY_DIR={out}")
    # The probability layer needs a market and weather for the same city-day; the shared data has
    # Chicago's market without its weather and Central Park's weather without its market.
    selections = {"kxhighchi": ("chi", RAW_MARKET), "knyc": ("nyc", RAW_WEATHER)}
    for name, (first, last) in report.days.items():
        city, select = selections[name]
        print(f"  # {name}: {first}..{last}")
        print(f"  dagster asset materialize -m kalshi_wx.definitions --select '{select}' --partition '{city}|{first}'")
    print("  (kalshi-wx backfill runs the whole graph: the raw layer succeeds, the probability layer needs both)")
    return 0


def add_replay_parser(sub: argparse._SubParsersAction) -> None:
    replay = sub.add_parser("replay", help="recorded payloads served in place of the live services")
    actions = replay.add_subparsers(dest="replay_command", required=True)
    build = actions.add_parser("build", help="build a replay directory from the shared real files")
    build.add_argument("out", help="directory to write (created)")
    build.add_argument("--real-data", help="the shared real-data folder (default $KALSHI_WX_REAL_DATA)")
    build.add_argument(
        "--set",
        dest="sets",
        action="append",
        choices=SETS,
        help="kxhighchi (Chicago market), knyc (Central Park weather)",
    )
    build.set_defaults(func=cmd_replay_build)
