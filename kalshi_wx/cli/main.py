"""The ``kalshi-wx`` command: demo, backfill, record, highres, report, evaluate, doctor, bench, parse-cli, replay,
sim."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from datetime import date, timedelta
from pathlib import Path
from typing import NoReturn

from kalshi_wx.cli.backfill import cmd_backfill
from kalshi_wx.cli.common import UsageError, check_days, check_sources, city_list, prepare_dagster_home
from kalshi_wx.cli.evaluate import add_evaluate_parser
from kalshi_wx.cli.replay import add_replay_parser
from kalshi_wx.cli.sim import add_sim_parser
from kalshi_wx.core.errors import ConfigError, PayloadError
from kalshi_wx.defs.settings import SourceMode, default_warehouse_url, kalshi_wx_home, settings, source_mode

DEMO_START = date(2026, 6, 1)
DEMO_CITIES = ("nyc", "chi")


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (usage is one ``--help`` away), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _print_failures(outcome) -> None:
    for failure in outcome.failures:
        print(f"error: {failure.line(outcome.key)}", file=sys.stderr, flush=True)


def _print_progress(i: int, total: int, outcome) -> None:
    status = "ok" if outcome.success else f"FAILED (run {outcome.run_id})"
    checks = f", failed checks: {', '.join(outcome.failed_checks)}" if outcome.failed_checks else ""
    print(f"  [{i}/{total}] {outcome.key:<16} {status} in {outcome.seconds:.1f}s{checks}", flush=True)
    _print_failures(outcome)


def _materialize(
    cities: list[str], start: date, end: date, *, mode: SourceMode | None, warmup_days: int = 0, verbose: bool = False
) -> int:
    import dagster as dg

    from kalshi_wx.definitions import build_definitions
    from kalshi_wx.defs.resources import build_resources
    from kalshi_wx.defs.runs import partition_keys, run_partitions, run_series_job

    check_days(start, end, warmup_days)
    resources = build_resources(mode=check_sources(mode))
    defs = build_definitions(resources)
    keys = partition_keys(cities, start, end)
    dagster_home = prepare_dagster_home()
    print(f"warehouse: {resources['warehouse'].backend.display_url}")
    print(f"sources:   {resources['kalshi'].mode}")
    print(f"dagster:   {dagster_home}")
    with dg.DagsterInstance.get() as instance:
        print("kalshi/series ...", flush=True)
        log_level = _log_level(verbose)
        series = run_series_job(defs, instance, log_level=log_level)
        if not series.success:
            _print_failures(series)
            return 1
        if warmup_days:
            history = partition_keys(cities, start - timedelta(days=warmup_days), start - timedelta(days=1))
            print(f"{len(history)} earlier day(s) of weather for the AR(1) fit:", flush=True)
            warm = run_partitions(
                defs, instance, history, job_name="weather_history", log_level=log_level, on_progress=_print_progress
            )
            if not all(o.success for o in warm):
                print("weather history FAILED: the fit would fall back to its prior", file=sys.stderr)
                return 1
        print(f"{len(keys)} city-day partition(s):", flush=True)
        outcomes = run_partitions(defs, instance, keys, log_level=log_level, on_progress=_print_progress)
    failed = [o for o in outcomes if not o.success]
    print(f"done: {len(outcomes) - len(failed)} succeeded, {len(failed)} failed; warehouse {default_warehouse_url()}")
    return 1 if failed else 0


def _log_level(verbose: bool) -> str:
    # Without --verbose the console shows progress and one line per failure (the run's log is in the UI).
    return "INFO" if verbose else "CRITICAL"


def _run_per_city(
    job_name: str, cities: list[str], op_config: dict[str, dict], *, mode: SourceMode | None, verbose: bool
) -> list:
    """One run of a per-city job (models, reports) per city on the local instance, with progress."""
    import dagster as dg

    from kalshi_wx.definitions import build_definitions
    from kalshi_wx.defs.resources import build_resources
    from kalshi_wx.defs.runs import run_city_job

    defs = build_definitions(build_resources(mode=check_sources(mode)))
    prepare_dagster_home()
    outcomes = []
    with dg.DagsterInstance.get() as instance:
        for i, city_key in enumerate(cities, start=1):
            outcome = run_city_job(
                defs, instance, job_name, city_key, op_config=op_config, log_level=_log_level(verbose)
            )
            _print_progress(i, len(cities), outcome)
            outcomes.append(outcome)
    return outcomes


REPORT_OP = "backtest__backtest_range_report"
REPORT_KEY = "backtest/backtest_range_report"
# What a backtest headline was traded against, printed above it: simulated returns are not returns.
HEADLINE_SOURCE = {
    "sim": "SIMULATED MARKET, NOT REAL RETURNS: the offline simulator, calibrated to the real KXHIGHCHI market "
    "(kalshi-wx sim calibrate)",
    "replay": "REAL RECORDED MARKET (replay of $KALSHI_WX_REPLAY_DIR): fills simulated against recorded prices",
    "live": "Kalshi's market data: fills simulated against its prices",
}


def _range_reports(
    cities: list[str], start: date, end: date, *, mode: SourceMode | None, verbose: bool, out: str | None = None
) -> int:
    """Materialize backtest/backtest_range_report per city and print each headline and HTML path."""
    config = {"start": start.isoformat(), "end": end.isoformat(), **({"out_dir": out} if out else {})}
    print(f"range reports ({REPORT_KEY}):")
    code = 0
    for outcome in _run_per_city("reports", cities, {REPORT_OP: config}, mode=mode, verbose=verbose):
        if not outcome.success:
            code = 2
            continue
        metadata = outcome.materializations[REPORT_KEY]
        print(f"\n{HEADLINE_SOURCE[mode or source_mode()]}")
        print(f"Backtest {outcome.key} {metadata['range'].value}:")
        print(metadata["summary"].value)
        print(f"report: {metadata['path'].value}")
    return code


def cmd_demo(args) -> int:
    from kalshi_wx.cli.summary import print_summary
    from kalshi_wx.core.models.settings import MIN_DAYS

    cities = city_list(args.cities)
    if args.days < 1:
        raise UsageError(f"--days {args.days}: at least 1")
    end = args.start + timedelta(days=args.days - 1)
    check_days(args.start, end, args.warmup_days)
    # Walk forward: train on every day but the last, then trade the last with those models.
    walk_forward = args.days > MIN_DAYS
    train_end = end - timedelta(days=1) if walk_forward else end
    if walk_forward:
        print(f"train on {args.start}..{train_end}, then trade {end} with the models trained on those days")
    code = _materialize(cities, args.start, train_end, mode="sim", warmup_days=args.warmup_days, verbose=args.verbose)
    if args.days < MIN_DAYS:
        print(f"per-city models: skipped (a train/validation/test split needs {MIN_DAYS} days, --days {args.days})")
    else:
        print("per-city models (models/cross_bracket_model):")
        window = {"models__cross_bracket_model": {"start": args.start.isoformat(), "end": train_end.isoformat()}}
        outcomes = _run_per_city("models", cities, window, mode="sim", verbose=args.verbose)
        code = code or (0 if all(o.success for o in outcomes) else 1)
    if walk_forward:
        code = _materialize(cities, end, end, mode="sim", verbose=args.verbose) or code
    print_summary(cities, args.start, end)
    code = _range_reports(cities, args.start, end, mode="sim", verbose=args.verbose) or code
    if args.record_seconds > 0:
        code = _record_demo(cities, args.record_seconds, verbose=args.verbose) or code
    print(
        "\nOpen the UI on the same instance and warehouse:\n"
        f"  DAGSTER_HOME={os.environ['DAGSTER_HOME']} .venv/bin/dagster dev   (or: make dev)"
    )
    return code


def _series_list(text: str | None) -> list[str]:
    series = [s.strip() for s in (text or "").split(",") if s.strip()]
    return series or list(settings().highres.series)


def _sim_config():
    """The simulated world of ``record`` and the demo: the configured cities and KXBTC15M."""
    from kalshi_wx.sources.sim.common import CryptoSeries, SimConfig

    return SimConfig(cities=tuple(settings().cities.values()), crypto=(CryptoSeries(),), market=settings().sim.market)


def _recorder_settings(args, series: list[str], ws_url: str, api_base: str, signer):
    from kalshi_wx.cli.record import RecorderSettings, SeriesTarget

    config = settings().highres
    return RecorderSettings(
        series=tuple(SeriesTarget(s, settings().recording_offset_hours(s)) for s in series),
        root=kalshi_wx_home(),
        ws_url=ws_url,
        api_base=api_base,
        snapshot_ms=args.snapshot_ms or config.snapshot_ms,
        depth=args.depth or config.depth,
        part_seconds=args.part_seconds or config.part_seconds,
        discovery_s=config.discovery_seconds,
        signer=signer,
    )


def _run_recorder(args, series: list[str], ws_url: str, api_base: str, duration_s: float | None, signer=None) -> int:
    import asyncio

    from kalshi_wx.cli.record import record

    recorder_settings = _recorder_settings(args, series, ws_url, api_base, signer)
    home = recorder_settings.root
    print(f"recording {', '.join(series)} every {recorder_settings.snapshot_ms} ms from {ws_url}", flush=True)
    print(f"files:     {home / 'highres'}/series=<S>/date=<D>/ (a part every {recorder_settings.part_seconds} s)")
    print("stop with Ctrl-C (the open interval is written first)" if duration_s is None else f"for {duration_s:g} s")
    summary = asyncio.run(
        record(recorder_settings, duration_s=duration_s, on_part=lambda line: print(line, flush=True))
    )
    for ticker in series:
        counted = ", ".join(f"{k} {v}" for k, v in summary.counters[ticker].items() if v) or "nothing counted"
        print(f"{ticker}: {summary.rows[ticker]} rows in {summary.parts[ticker]} part(s); {counted}")
    return 0


def cmd_record(args) -> int:
    from kalshi_wx.cli.record import simulated_exchange
    from kalshi_wx.core.errors import ConfigError
    from kalshi_wx.defs.settings import source_mode
    from kalshi_wx.sources.kalshi.auth import KalshiSigner
    from kalshi_wx.sources.kalshi.ws import resolve_ws_url
    from kalshi_wx.warehouse.highres import SeriesLocked

    series = _series_list(args.series)
    try:
        signer = KalshiSigner.from_env()
        if args.ws_url:
            api_base = args.api_base or os.environ.get("KALSHI_API_BASE", "")
            return _run_recorder(args, series, resolve_ws_url(args.ws_url), api_base, args.duration_s, signer)
        if source_mode() == "sim":
            with simulated_exchange(_sim_config(), series) as (api_base, ws_url):
                return _run_recorder(args, series, ws_url, api_base, args.duration_s)
        if signer is None:
            raise ConfigError(
                "Kalshi's WebSocket needs an authenticated connection: "
                "set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH"
            )
        api_base = os.environ.get("KALSHI_API_BASE", "")
        ws_url = resolve_ws_url(os.environ.get("KALSHI_WS_URL"), api_base)
        return _run_recorder(args, series, ws_url, api_base, args.duration_s, signer)
    except (ValueError, SeriesLocked) as exc:  # ConfigError and bad settings are ValueErrors
        print(f"error: {exc}", file=sys.stderr)
        return 2


def cmd_highres(args) -> int:
    from kalshi_wx.core.errors import PayloadError
    from kalshi_wx.warehouse import highres

    root = kalshi_wx_home()
    try:
        if args.action == "export":
            frame = highres.scan_day(root, args.series, args.date).collect()
            if frame.is_empty():
                print(f"error: no snapshots of {args.series} on {args.date} under {root / 'highres'}", file=sys.stderr)
                return 2
            rows = highres.export_jsonl(frame, args.out)
            print(f"{rows} rows of {args.series} {args.date} -> {args.out}")
            return 0
        if args.series not in settings().highres.series:
            print(
                f"note: {args.series} is not in config/highres.yaml, so highres/book_snapshots has no partition for it"
            )
        frame = highres.read_jsonl(args.file, unit=args.unit)
        offset = settings().recording_offset_hours(args.series)
        parts = highres.import_frame(root, args.series, frame, utc_offset_hours=offset, source=str(args.file))
        for part in parts:
            print(f"imported -> {part}")
        print(f"{frame.height} rows of {args.series} in {len(parts)} day(s)")
        return 0
    except (OSError, PayloadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


DEMO_PART_SECONDS = 10


def _record_demo(cities: list[str], seconds: float, *, verbose: bool) -> int:
    """Record the simulated KXBTC15M and the cities' weather series live, then register the day's files."""
    import dagster as dg

    from kalshi_wx.cli.record import simulated_exchange
    from kalshi_wx.core.live.recording import recording_day
    from kalshi_wx.definitions import build_definitions
    from kalshi_wx.defs.resources import build_resources
    from kalshi_wx.defs.run_errors import failed_partitions

    series = ["KXBTC15M", *(settings().city(c).series for c in cities)]
    print(f"\nlive order books (highres/book_snapshots): {seconds:g} s of {', '.join(series)} from the simulator")
    options = argparse.Namespace(snapshot_ms=None, depth=None, part_seconds=DEMO_PART_SECONDS)
    with simulated_exchange(_sim_config(), series) as (api_base, ws_url):
        code = _run_recorder(options, series, ws_url, api_base, seconds)
    prepare_dagster_home()
    defs = build_definitions(build_resources(mode="sim"))
    job = defs.resolve_job_def("highres")
    now_ms = int(time.time() * 1000)
    with dg.DagsterInstance.get() as instance:
        for ticker in series:
            if ticker not in settings().highres.series:
                print(f"  {ticker}: not in config/highres.yaml, so it has no highres partition")
                continue
            day = recording_day(now_ms, settings().recording_offset_hours(ticker))
            key = dg.MultiPartitionKey({"series": ticker, "date": day.isoformat()})
            result = job.execute_in_process(
                partition_key=key,
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": _log_level(verbose)}}}},
            )
            if not result.success:
                for failure in failed_partitions(instance, [result.run_id]):
                    print(f"error: {failure.line()}", file=sys.stderr)
                code = 1
                continue
            [event] = result.asset_materializations_for_node("highres__book_snapshots")
            meta = {k: v.value for k, v in event.metadata.items()}
            failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
            checks = f"; checks not passed: {', '.join(failed)}" if failed else "; checks passed"
            print(
                f"  {ticker} {day}: {meta['dagster/row_count']} rows, {meta['markets']} markets, "
                f"median step {meta.get('median_step_ms', 0):.0f} ms, gaps {meta['gaps']}{checks}\n"
                f"    {meta['path']}"
            )
    print("  (markets_covered warns on a short recording: the day's markets were open far longer than it ran)")
    return code


def cmd_report(args) -> int:
    cities = city_list(args.city, "--city")
    check_days(args.start, args.end)
    return _range_reports(cities, args.start, args.end, mode=None, verbose=args.verbose, out=args.out)


def cmd_doctor(args) -> int:
    from kalshi_wx.cli.doctor import run_doctor

    return run_doctor()


def cmd_bench(args) -> int:
    if args.which == "ingest":
        from kalshi_wx.cli.bench.ingest import run_ingest_benchmark

        result = run_ingest_benchmark(requests=args.requests)
    elif args.which == "hazard":
        from kalshi_wx.cli.bench.hazard import run_hazard_benchmark

        result = run_hazard_benchmark(n_paths=args.paths)
    elif args.which == "record":
        from kalshi_wx.cli.bench.record import run_record_benchmark

        result = run_record_benchmark(
            markets=args.markets, deltas_per_s=args.deltas_per_s, seconds=args.seconds, snapshot_ms=args.snapshot_ms
        )
    elif args.which == "backfill":
        from kalshi_wx.cli.bench.backfill import run_backfill_benchmark

        result = run_backfill_benchmark(days=args.backfill_days)
    else:
        from kalshi_wx.cli.bench.backtest import run_backtest_benchmark

        result = run_backtest_benchmark(days=args.days)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, value in result.items():
            print(f"{name:>20}: {value}")
    return 0


def cmd_parse_cli(args) -> int:
    from kalshi_wx.core.errors import PayloadError
    from kalshi_wx.core.payloads.nws_cli import parse_cli_product

    path = Path(args.file)
    try:
        summaries = parse_cli_product(path.read_text(errors="replace"), source=str(path))
    except (OSError, PayloadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([s.to_json_dict() for s in summaries], indent=2))
        return 0
    for s in summaries:
        print(
            f"{s.station}  {s.climate_date}  max {s.max_f if s.max_f is not None else 'none observed'}"
            f"  min {s.min_f if s.min_f is not None else 'none observed'}  ({s.report_type})"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kalshi-wx", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging, run logs and tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="materialize the whole graph on the offline simulator")
    demo.add_argument("--cities", default=",".join(DEMO_CITIES), help="comma-separated city keys")
    demo.add_argument("--start", type=_date, default=DEMO_START, help="first climate day")
    demo.add_argument(
        "--days", type=int, default=4, help="climate days: models train on all but the last, which they then trade"
    )
    demo.add_argument("--warmup-days", type=int, default=7, help="earlier days of weather to fit the AR(1) residual on")
    demo.add_argument(
        "--record-seconds", type=float, default=30, help="live order books to record from the simulator (0: none)"
    )
    demo.set_defaults(func=cmd_demo)

    backfill = sub.add_parser(
        "backfill", help="a Dagster backfill of the city x day graph for cities x a date range (needs the daemon)"
    )
    backfill.add_argument("--cities", required=True, help="comma-separated city keys, or 'all'")
    backfill.add_argument("--start", type=_date, required=True)
    backfill.add_argument("--end", type=_date, required=True, help="inclusive")
    backfill.add_argument(
        "--warmup-days", type=int, default=0, help="earlier days of weather to backfill too (for the fit)"
    )
    backfill.set_defaults(func=cmd_backfill)

    record = sub.add_parser("record", help="record order-book snapshots of whole series from the WebSocket")
    record.add_argument("--series", help="comma-separated series (default: config/highres.yaml)")
    record.add_argument("--snapshot-ms", type=int, help="one row per market every this many ms (default: config)")
    record.add_argument("--depth", type=int, help="bid levels per side in a row (default: config)")
    record.add_argument("--part-seconds", type=int, help="interval of a part file (default: config)")
    record.add_argument("--duration-s", type=float, help="stop after this long (default: until Ctrl-C / SIGTERM)")
    record.add_argument("--ws-url", help="WebSocket URL (default: KALSHI_WS_URL, or the simulator in sim mode)")
    record.add_argument("--api-base", help="REST base for discovery, with --ws-url (default: KALSHI_API_BASE)")
    record.set_defaults(func=cmd_record)

    highres = sub.add_parser("highres", help="export or import recorded snapshots (the canonical JSONL format)")
    highres_sub = highres.add_subparsers(dest="action", required=True)
    export = highres_sub.add_parser("export", help="one series-day as JSONL (gzip when --out ends in .gz)")
    export.add_argument("--series", required=True)
    export.add_argument("--date", type=_date, required=True, help="the recording day")
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(func=cmd_highres)
    import_ = highres_sub.add_parser("import", help="file a JSONL(.gz) recording into $KALSHI_WX_HOME/highres")
    import_.add_argument("file", type=Path)
    import_.add_argument("--series", required=True)
    import_.add_argument("--unit", choices=["dollars", "cents"], default="dollars", help="of the file's prices")
    import_.set_defaults(func=cmd_highres)

    report = sub.add_parser("report", help="write the HTML backtest report for a city and date range")
    report.add_argument("--city", required=True, help="a city key of config/cities.yaml")
    report.add_argument("--start", type=_date, required=True)
    report.add_argument("--end", type=_date, required=True, help="inclusive")
    report.add_argument("--out", help="directory (default $KALSHI_WX_HOME/artifacts/reports)")
    report.set_defaults(func=cmd_report)

    doctor = sub.add_parser("doctor", help="check config, keys, storage and connectivity")
    doctor.set_defaults(func=cmd_doctor)

    bench = sub.add_parser("bench", help="performance figures")
    bench.add_argument("which", choices=["ingest", "hazard", "backtest", "record", "backfill"])
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--requests", type=int, default=200, help="ingest: requests against the 20/s fake")
    bench.add_argument("--paths", type=int, default=10_000, help="hazard: Monte Carlo paths")
    bench.add_argument("--days", type=int, default=20, help="backtest: simulated city-days")
    bench.add_argument("--markets", type=int, default=200, help="record: simulated markets")
    bench.add_argument("--deltas-per-s", type=float, default=10.0, help="record: deltas per market per second")
    bench.add_argument("--seconds", type=float, default=60.0, help="record: measured seconds")
    bench.add_argument("--snapshot-ms", type=int, default=100, help="record: the recorder's cadence")
    bench.add_argument("--backfill-days", type=int, default=14, help="backfill: climate days of nyc and chi")
    bench.set_defaults(func=cmd_bench)

    parse_cli = sub.add_parser("parse-cli", help="parse one NWS Daily Climate Report (CLI) product file")
    parse_cli.add_argument("file")
    parse_cli.add_argument("--json", action="store_true", help="one JSON object per climate summary")
    parse_cli.set_defaults(func=cmd_parse_cli)

    add_replay_parser(sub)
    add_evaluate_parser(sub)
    add_sim_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; a user error (bad config, variable, argument, file, locked warehouse) is one line on
    stderr and exit code 2, a traceback only with ``--verbose``."""
    from dotenv import load_dotenv

    from kalshi_wx.warehouse.backends import WarehouseLockedError

    load_dotenv()  # secrets may live in .env; they are read from the environment only
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (UsageError, ConfigError, PayloadError, WarehouseLockedError, OSError) as exc:
        if args.verbose:
            raise
        print(f"kalshi-wx {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"kalshi-wx {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        first = (str(exc).strip().splitlines() or [""])[0]
        print(f"kalshi-wx {args.command}: {type(exc).__name__}: {first} (--verbose shows where)", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    level = logging.DEBUG if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")
    # Libraries that set their own loggers to INFO (dagster-dbt) still stop at the console's level.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
    if not args.verbose:
        # The partition mappings the graph uses are marked beta in dagster 1.13; say so once, in the README.
        warnings.filterwarnings("ignore", message=r".* is currently in (beta|preview)")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
