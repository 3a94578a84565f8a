"""``kalshi-wx sim calibrate``: the real KXHIGHCHI market beside the simulated one, statistic by statistic."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from kalshi_wx.cli.replay import default_real_data
from kalshi_wx.core.market_stats import REAL_FEES_100_AT_50C, compare, fee_statistics, market_statistics
from kalshi_wx.defs.settings import SimCalibrationSettings, settings
from kalshi_wx.sources.replay.real_market import load_kxhighchi
from kalshi_wx.sources.sim.common import SimConfig
from kalshi_wx.sources.sim.tape import simulated_tape

FEE_TOLERANCE = 0.0  # a fee schedule is either the real one or not


def calibration_report(real_dir: Path, config: SimConfig, calibration: SimCalibrationSettings) -> dict[str, Any]:
    """Every calibration statistic, real vs simulated (``config``), with its tolerance and whether it passes."""
    # Progress on stderr: stdout is the table, or JSON with --json.
    print(f"reading the real KXHIGHCHI market under {real_dir} ...", file=sys.stderr)
    real = load_kxhighchi(real_dir)
    dates = [d.replace(year=d.year - back) for back in range(calibration.years) for d in real.dates]
    print(f"simulating {calibration.city} on {len(dates)} days (the tape's dates in {calibration.years} years) ...",
          file=sys.stderr)  # fmt: skip
    sim = simulated_tape(config, calibration.city, dates)
    real_stats = market_statistics(real.trades, real.quotes, real.ladder, real.highs, real.std_offset)
    sim_stats = market_statistics(sim.trades, sim.quotes, sim.ladder, sim.highs, sim.std_offset)
    real_stats |= REAL_FEES_100_AT_50C
    sim_stats |= fee_statistics(config.market.fee_type, Decimal(str(config.market.fee_multiplier)))
    tolerances = dict(calibration.tolerances) | dict.fromkeys(REAL_FEES_100_AT_50C, FEE_TOLERANCE)
    rows = compare(real_stats, sim_stats, tolerances)
    return {
        "real": {"market": "KXHIGHCHI", "dir": str(real_dir), "days": len(real.dates),
                 "first": str(real.dates[0]), "last": str(real.dates[-1])},
        "simulated": {"city": calibration.city, "seed": config.seed, "days": len(dates)},
        "statistics": [
            {"statistic": r.statistic, "real": r.real, "sim": r.sim, "ratio": r.ratio, "tolerance": r.tolerance,
             "ok": r.ok}
            for r in rows
        ],
        "passed": all(r.ok for r in rows),
    }  # fmt: skip


def _print_table(report: dict[str, Any]) -> None:
    real, sim = report["real"], report["simulated"]
    print(f"real: {real['market']} {real['first']}..{real['last']} ({real['days']} days, {real['dir']})")
    print(f"simulated: {sim['city']} on {sim['days']} days (seed {sim['seed']})")
    print(f"{'statistic':34} {'real':>10} {'sim':>10} {'ratio':>7} {'tol':>6}  ok")
    for row in report["statistics"]:
        print(
            f"{row['statistic']:34} {row['real']:10.4f} {row['sim']:10.4f} {row['ratio']:7.3f} "
            f"{row['tolerance']:6.2f}  {'yes' if row['ok'] else 'NO'}"
        )
    print("calibration " + ("passed" if report["passed"] else "FAILED: see the rows marked NO"))


def cmd_sim_calibrate(args: argparse.Namespace) -> int:
    from kalshi_wx.defs.resources import sim_config  # Dagster: only when the command runs

    real_dir = Path(args.real_data) if args.real_data else default_real_data()
    try:
        report = calibration_report(real_dir, sim_config(), settings().sim.calibration)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)
    return 0 if report["passed"] else 1


def add_sim_parser(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser("sim", help="the offline simulator")
    actions = sim.add_subparsers(dest="sim_command", required=True)
    calibrate = actions.add_parser(
        "calibrate", help="the simulated market beside the real KXHIGHCHI market, statistic by statistic"
    )
    calibrate.add_argument("--real-data", help="the shared real-data folder (default $KALSHI_WX_REAL_DATA)")
    calibrate.add_argument("--json", action="store_true", help="print the table as JSON")
    calibrate.set_defaults(func=cmd_sim_calibrate)
