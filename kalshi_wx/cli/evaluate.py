"""``kalshi-wx evaluate``: forecast scores of p_wx, p_mkt, p_fused_norm and persistence over settled days."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from kalshi_wx.defs.settings import default_warehouse_url, kalshi_wx_home, settings


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    from kalshi_wx.defs.evaluation import evaluate_window
    from kalshi_wx.reports.markdown import markdown_table
    from kalshi_wx.reports.plots import reliability_png
    from kalshi_wx.warehouse.resource import Warehouse

    cities = settings().cities
    if args.city not in cities:
        print(f"error: unknown city {args.city!r}; configured: {', '.join(cities)}", file=sys.stderr)
        return 2
    try:
        result = evaluate_window(
            Warehouse(url=default_warehouse_url()),
            cities[args.city],
            args.start,
            args.end,
            settings().pmf,
            progress=lambda line: print(line, file=sys.stderr) if not args.json else None,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else kalshi_wx_home() / "artifacts" / "evaluate"
    out.mkdir(parents=True, exist_ok=True)
    plots = {}
    for pmf, (p, outcome) in result.reliability.items():
        path = out / f"reliability_{args.city}_{args.start}_{args.end}_{pmf}.png"
        path.write_bytes(reliability_png(p, outcome, f"{pmf} reliability, {args.city} {args.start}..{args.end}"))
        plots[pmf] = str(path)
    if args.json:
        print(
            json.dumps(
                {
                    "city": args.city,
                    "start": str(args.start),
                    "end": str(args.end),
                    "days_scored": result.days.height,
                    "days": result.days.with_columns(result.days["climate_date"].cast(str)).to_dicts(),
                    "scores": result.table.to_dicts(),
                    "paired_brier_differences": result.paired.to_dicts(),
                    "reliability_png": plots,
                },
                indent=2,
            )
        )
    else:
        print(f"{args.city} {args.start}..{args.end}: {result.days.height} settled day(s) scored")
        print(markdown_table(result.table))
        print("\nBrier differences on common days (negative: the first is better):")
        print(markdown_table(result.paired))
        for pmf, plot in plots.items():
            print(f"reliability ({pmf}): {plot}")
    return 0


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser("evaluate", help="score p_wx, p_mkt, p_fused_norm and persistence on settled days")
    evaluate.add_argument("--city", required=True)
    evaluate.add_argument("--start", required=True, type=_day, help="first climate day (YYYY-MM-DD)")
    evaluate.add_argument("--end", required=True, type=_day, help="last climate day, inclusive")
    evaluate.add_argument("--json", action="store_true", help="the table as JSON on stdout")
    evaluate.add_argument(
        "--out", help="directory for the reliability plots (default $KALSHI_WX_HOME/artifacts/evaluate)"
    )
    evaluate.set_defaults(func=cmd_evaluate)
