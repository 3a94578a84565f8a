"""Build a replay directory (``layout``) from the real files of the project's shared data folder.

Two sets, chosen with ``sets``:

* ``kxhighchi``: Chicago's KXHIGHCHI market: every recorded ``GET /events/{event}`` payload
  (2024-08-16..2025-05-08, cents era) and the full trade tape of 2025-04-01..2025-05-08
  (cpratim/Kalshi-Weather-Trading, MIT), byte for byte; the one-minute candles of May 2025
  (Halsted312/weather_updated, a table in cents) rebuilt as cents-era candlestick payloads, synthetic
  forward-filled minutes left out; Midway's official daily highs (the same repository's IEM CLI
  table) rebuilt as IEM ``/json/cli.py`` answers, without product ids (none were recorded).
* ``knyc``: Central Park's weather: the NCEI 5-minute files of June-August 2025 byte for byte, and the
  CLI daily values with their IEM product ids (ericzzhang27-sys/Kalshi-Weather-Trading) rebuilt as
  ``/json/cli.py`` answers. The manifest sets Central Park's observation source to ``ncei_5min``.

No series payload was ever recorded, so ``kalshi/series/<SERIES>.json`` of every configured city is
rebuilt from the documented fields (fee_type ``quadratic``, multiplier 1: the recorded days are
before the maker fees of July 2025, reference/kalshi_api.md s8; the CLI settlement source;
``kalshi/series`` asks for all of them). What was rebuilt rather than copied is listed under
``rebuilt`` in ``replay.json``.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from kalshi_wx.core.cities import City
from kalshi_wx.sources.ncei import five_minute_path
from kalshi_wx.sources.replay.layout import MANIFEST
from kalshi_wx.sources.sim.kalshi_wire import series_payload

SETS = ("kxhighchi", "knyc")
CPRATIM = "kalshi/cpratim_KXHIGHCHI"
HALSTED_CANDLES = "kalshi/halsted312_KXHIGHCHI/candles_chicago_may2025.parquet"
HALSTED_HIGHS = "daily_tmax/halsted312_iem_cli/chicago.parquet"
NCEI_KNYC = "asos_5min/jetpackjules_KNYC"
KNYC_CLI = "daily_tmax/knyc_cli_daily_2025-06-01_to_08-31.csv"


@dataclass
class BuildReport:
    """What a build wrote, for the CLI to print and the manifest to keep."""

    out: Path
    files: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # kind -> files written
    rebuilt: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    weather_sources: dict[str, dict[str, str]] = field(default_factory=dict)
    days: dict[str, tuple[str, str]] = field(default_factory=dict)  # set -> (first, last) climate day


def _write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _require(real: Path, relative: str) -> Path:
    path = real / relative
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found; is {real} the shared real-data folder (KALSHI_WX_REAL_DATA)?")
    return path


def _cents_candle(row: dict[str, Any]) -> dict[str, Any]:
    """One row of the Halsted candle table as a cents-era ``MarketCandlestick`` (reference s2)."""

    def ohlc(prefix: str) -> dict[str, Any]:
        return {k: row[f"{prefix}_{k}"] for k in ("open", "low", "high", "close")}

    traded = bool(row["has_trade"])
    price = {
        k: (int(row[f"trade_{k}"]) if traded and row[f"trade_{k}"] is not None else None)
        for k in ("open", "low", "high", "close", "mean", "previous", "min", "max")
    }
    end = int(row["bucket_start"].timestamp()) + 60 * int(row["period_minutes"])
    return {
        "end_period_ts": end,
        "yes_bid": ohlc("yes_bid"),
        "yes_ask": ohlc("yes_ask"),
        "price": price,
        "volume": int(row["volume"]),
        "open_interest": int(row["open_interest"]),
    }


def _cli_year_docs(rows: Iterable[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_year[date.fromisoformat(row["valid"]).year].append(row)
    return {
        year: {"generated_at": "replay", "results": sorted(days, key=lambda d: d["valid"])}
        for year, days in by_year.items()
    }


def _kxhighchi(real: Path, out: Path, chicago: City, report: BuildReport) -> None:
    events_dir = _require(real, f"{CPRATIM}/events")
    kept_events = set()
    for path in sorted(events_dir.glob("*.json")):
        body = json.loads(path.read_text())
        event = body["event"]["event_ticker"]
        _copy(path, out / "kalshi" / "events" / f"{event}.json")
        kept_events.add(event)
        report.files["kalshi events"] += 1
    trade_days = sorted(_require(real, f"{CPRATIM}/trades").glob("*.json"))
    for path in trade_days:
        tape = json.loads(path.read_text())
        events = {ticker.rsplit("-", 1)[0] for ticker in tape}
        if len(events) != 1:
            raise ValueError(f"{path}: trades of several events {sorted(events)}")
        _copy(path, out / "kalshi" / "trades" / f"{events.pop()}.json")
        report.files["kalshi trade tapes"] += 1
    report.days["kxhighchi"] = (trade_days[0].stem, trade_days[-1].stem)
    candles = pl.read_parquet(_require(real, HALSTED_CANDLES)).filter(~pl.col("is_synthetic")).sort("bucket_start")
    for (ticker,), bars in candles.group_by("ticker", maintain_order=True):
        if str(ticker).rsplit("-", 1)[0] not in kept_events:
            continue
        _write_json(
            out / "kalshi" / "candles" / f"{ticker}.json",
            {"candlesticks": [_cents_candle(r) for r in bars.iter_rows(named=True)]},
        )
        report.files["kalshi candle series"] += 1
    report.rebuilt.append("kalshi/candles/*.json: Halsted312's table of May 2025 candles (cents) as cents-era payloads")
    highs = pl.read_parquet(_require(real, HALSTED_HIGHS)).drop_nulls("tmax_iem_f")
    rows = [
        {"station": chicago.station, "valid": r["date_local"].isoformat(), "name": chicago.station_name,
         "high": int(r["tmax_iem_f"]), "product": None}
        for r in highs.iter_rows(named=True)
    ]  # fmt: skip
    for year, doc in _cli_year_docs(rows).items():
        _write_json(out / "iem" / "cli" / chicago.station / f"{year}.json", doc)
        report.files["iem cli years"] += 1
    report.rebuilt.append(f"iem/cli/{chicago.station}/*.json: Halsted312's IEM CLI highs, no product ids")
    report.sources += [
        "cpratim/Kalshi-Weather-Trading @f0b5bf5b data/kalshi/kxhighchi (MIT)",
        "Halsted312/weather_updated @3c2b6c94 (no stated licence)",
    ]


def _knyc(real: Path, out: Path, nyc: City, report: BuildReport) -> None:
    months = sorted(_require(real, NCEI_KNYC).glob(f"asos-5min-{nyc.station}-*.dat"))
    for path in months:
        stamp = path.stem.rsplit("-", 1)[1]
        target = out / "ncei" / five_minute_path(nyc.station, int(stamp[:4]), int(stamp[4:])).lstrip("/")
        _copy(path, target)
        report.files["ncei 5-minute months"] += 1
    with _require(real, KNYC_CLI).open() as handle:
        rows = [
            {"station": nyc.station, "valid": r["date"], "name": r["source_station_name"],
             "high": int(float(r["official_daily_high_f"])), "high_time": r["cli_high_time_local"],
             "low": int(float(r["cli_low_f"])), "low_time": r["cli_low_time_local"],
             "product": r["cli_product_id"], "link": f"/api/1/nwstext/{r['cli_product_id']}"}
            for r in csv.DictReader(handle)
        ]  # fmt: skip
    for year, doc in _cli_year_docs(rows).items():
        _write_json(out / "iem" / "cli" / nyc.station / f"{year}.json", doc)
        report.files["iem cli years"] += 1
    report.rebuilt.append(f"iem/cli/{nyc.station}/*.json: the CLINYC daily values and IEM ids of ericzzhang27's CSV")
    report.weather_sources[nyc.key] = {"observations": "ncei_5min"}
    report.days["knyc"] = (str(rows[0]["valid"]), str(rows[-1]["valid"]))
    report.sources += [
        "Jetpackjules/Kalshi-Trader @231880118b98 asos_5min_data (no stated licence)",
        "ericzzhang27-sys/Kalshi-Weather-Trading @3af36ea1 (no stated licence)",
    ]


def build_replay(real: Path, out: Path, *, cities: dict[str, City], sets: Iterable[str] = SETS) -> BuildReport:
    """Write the chosen sets into ``out`` (created; existing files of the same names are replaced)."""
    chosen = list(dict.fromkeys(sets))
    unknown = [s for s in chosen if s not in SETS]
    if unknown:
        raise ValueError(f"unknown replay set(s) {unknown}; known: {', '.join(SETS)}")
    out.mkdir(parents=True, exist_ok=True)
    report = BuildReport(out)
    # kalshi/series reads every configured city's series, so each gets one, recorded or not.
    for city in cities.values():
        _write_json(
            out / "kalshi" / "series" / f"{city.series}.json",
            {"series": series_payload(city, fee_type="quadratic", fee_multiplier=1.0)},
        )
    report.files["kalshi series"] = len(cities)
    report.rebuilt.append("kalshi/series/*.json: no series payload was recorded; the documented fields")
    if "kxhighchi" in chosen:
        _kxhighchi(real, out, cities["chi"], report)
    if "knyc" in chosen:
        _knyc(real, out, cities["nyc"], report)
    manifest = {
        "built_by": "kalshi-wx replay build",
        "sets": chosen,
        "days": report.days,
        "historical_cutoff": "1970-01-01T00:00:00Z",
        "weather_sources": report.weather_sources,
        "sources": report.sources,
        "rebuilt": report.rebuilt,
    }
    _write_json(out / MANIFEST, manifest)
    return report
