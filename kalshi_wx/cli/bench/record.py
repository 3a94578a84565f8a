"""Recorder throughput: ``kalshi-wx record`` as its own process against the simulator's WebSocket.

The simulator (REST and WebSocket, in this process) lists one window of a strike-ladder BTC series
with ``markets`` strikes, each book moving ``deltas_per_s`` times a second, and drops one delta in
every ``gap_every`` (its seq still used) so the recorder must notice the gap and resnapshot. The
recorder (a subprocess, so its CPU is its own) records it at ``snapshot_ms`` into a temporary
``KALSHI_WX_HOME``. After ``warmup_s`` the bench measures ``seconds`` of:

* rows written per second (from the part files), against the full cadence markets x 1000 / snapshot_ms,
  and each market's median step between rows. Every injected gap takes all the books of the
  subscription out of the rows until their snapshots are back, which costs each market up to one
  tick: at one gap per 10 s that alone is about 1% of the full cadence, hence a 98% target;
* CPU seconds per wall second of the recorder process (``/proc/<pid>/stat``: user + system, all threads);
* lag from a delta's ``ts_ms`` (the server's clock when it sent it) to the first row of its market
  whose ``seq`` shows the delta was applied: the server keeps a log of every delta it sent;
* sequence gaps the recorder counted (part metadata) against the gaps the server injected.

Gap injection stops a moment before the recorder is stopped, so every injected gap has been seen.
The machine's load average is reported with the figures: on a shared machine it moves the lag most.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from kalshi_wx.core.live.recording import recording_day, sum_counters
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.sim.common import CryptoSeries, SimConfig
from kalshi_wx.sources.sim.kalshi_ws import SimWsServer, WsFaults
from kalshi_wx.sources.sim.server import SimServer
from kalshi_wx.warehouse import highres

BENCH_SERIES = "KXBTCD"
TARGET_CPU = 0.5  # of one core
TARGET_CADENCE = 0.98  # share of the full cadence's rows, with a gap injected every 10 s
_PART_SECONDS = 10
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its threads, from ``/proc/<pid>/stat``."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime (fields 14 and 15 of stat)


def _wait_for(
    condition, timeout_s: float, what: str, recorder: subprocess.Popen | None = None, log: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if recorder is not None and recorder.poll() is not None:
            output = log.read_text()[-2000:] if log else ""
            raise RuntimeError(f"the recorder exited ({recorder.returncode}) before {what}: {output}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.1)


def _lags_ms(deltas: pl.DataFrame, rows: pl.DataFrame) -> pl.Series:
    """For each delta, the first row of its market with seq >= the delta's, minus the delta's ts_ms."""
    joined = deltas.sort("seq").join_asof(
        rows.select("market_ticker", pl.col("seq").alias("row_seq"), pl.col("ts_ms").alias("row_ts_ms"))
        .drop_nulls("row_seq")
        .sort("row_seq"),
        left_on="seq",
        right_on="row_seq",
        by="market_ticker",
        strategy="forward",
        check_sortedness=False,  # sorted by seq above; polars cannot check sortedness within by-groups
    )
    return (joined["row_ts_ms"] - joined["ts_ms"]).drop_nulls()


def run_record_benchmark(
    markets: int = 200,
    deltas_per_s: float = 10.0,
    seconds: float = 60.0,
    snapshot_ms: int = 100,
    *,
    warmup_s: float = 5.0,
    gap_every: int | None = None,
) -> dict:
    if markets < 1 or deltas_per_s <= 0 or seconds <= 0:
        raise ValueError("markets, deltas_per_s and seconds must be positive")
    # About one injected gap every 10 s of the whole delta stream.
    gap_every = gap_every or max(50, int(markets * deltas_per_s * 10))
    # A daily window, so a run does not straddle a window change (about one in 1,440 minutes would).
    series = CryptoSeries(BENCH_SERIES, window_minutes=24 * 60, strikes=markets)
    config = SimConfig(cities=tuple(settings().cities.values()), crypto=(series,))
    with (
        tempfile.TemporaryDirectory(prefix="kalshi-wx-bench-record-") as home,
        SimServer(config, clock=time.time) as rest,
        SimWsServer(
            config,
            series=[BENCH_SERIES],
            deltas_per_s=deltas_per_s,
            log_sent=True,
            faults=WsFaults(gap_every=gap_every),
        ) as ws,
    ):
        _wait_for(lambda: len(ws.open_tickers()) == markets, 30, "the simulated markets")
        log = Path(home) / "recorder.log"
        command = [
            sys.executable, "-m", "kalshi_wx.cli.main", "record", "--series", BENCH_SERIES,
            "--snapshot-ms", str(snapshot_ms), "--part-seconds", str(_PART_SECONDS),
            "--ws-url", ws.url, "--api-base", rest.kalshi_base_url,
        ]  # fmt: skip
        env = {**os.environ, "KALSHI_WX_HOME": home}
        with open(log, "w") as out:
            recorder = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_for(
                lambda: any(s[2] == "orderbook_delta" and s[3] >= markets for s in ws.subscriptions()),
                60,
                "the recorder's subscription",
                recorder,
                log,
            )
            time.sleep(warmup_s)
            load_began = os.getloadavg()[0]
            began, cpu_began = time.time(), process_cpu_seconds(recorder.pid)
            time.sleep(seconds)
            ended, cpu_ended = time.time(), process_cpu_seconds(recorder.pid)
            load_ended = os.getloadavg()[0]
            ws.set_faults(WsFaults())
            time.sleep(1.5)
            recorder.send_signal(signal.SIGTERM)
            code = recorder.wait(60)
        finally:
            if recorder.poll() is None:
                recorder.kill()
        if code != 0:
            raise RuntimeError(f"the recorder exited with {code}: {log.read_text()[-2000:]}")
        stats = ws.stats_snapshot()
        sent = ws.sent_deltas()
        days = sorted({recording_day(int(t * 1000), 0) for t in (began, ended)})
        frame = pl.concat([highres.scan_day(home, BENCH_SERIES, d).collect() for d in days])
        parts = [p for d in days for p in highres.day_parts(home, BENCH_SERIES, d)]
    window = frame.filter(pl.col("ts_ms").is_between(int(began * 1000), int(ended * 1000), closed="left"))
    deltas = pl.DataFrame(
        {
            "market_ticker": [d.market_ticker for d in sent],
            "seq": [d.seq for d in sent],
            "ts_ms": [d.ts_ms for d in sent],
        },
        schema={"market_ticker": pl.Utf8, "seq": pl.Int64, "ts_ms": pl.Int64},
    ).filter(pl.col("ts_ms").is_between(int(began * 1000), int(ended * 1000) - 1000, closed="left"))
    lags = _lags_ms(deltas, frame)
    median_step = (
        window.sort("ts_ms")
        .group_by("market_ticker")
        .agg(pl.col("ts_ms").diff().median().alias("step"))
        .select(pl.col("step").median())
        .item()
    )
    wall = ended - began
    counters = sum_counters(p.recording.get("counters", {}) for p in parts)
    rows_per_s = window.height / wall
    expected = markets * 1000 / snapshot_ms
    cpu = (cpu_ended - cpu_began) / wall
    return {
        "benchmark": "record",
        "started": datetime.fromtimestamp(began, UTC).isoformat(timespec="seconds"),
        "markets": markets,
        "deltas_per_market_per_s": deltas_per_s,
        "snapshot_ms": snapshot_ms,
        "seconds": round(wall, 2),
        "snapshot_rows_per_s": round(rows_per_s, 1),
        "full_cadence_rows_per_s": expected,
        "cadence_ratio": round(rows_per_s / expected, 4),
        "markets_recorded": window["market_ticker"].n_unique(),
        "median_step_ms": median_step,
        "cpu_s_per_wall_s": round(cpu, 3),
        "deltas_sent_per_s": round(deltas.height / max(wall - 1.0, 1e-9), 1),
        "lag_ms_p50": float(lags.quantile(0.5) or 0.0) if lags.len() else None,
        "lag_ms_p99": float(lags.quantile(0.99) or 0.0) if lags.len() else None,
        "lag_ms_max": int(lags.max()) if lags.len() else None,  # type: ignore[arg-type]
        "deltas_measured": lags.len(),
        "gaps_injected": stats.gaps_injected,
        "gaps_detected": counters["gaps"],
        "resnapshots": counters["resnapshots"],
        "late_ticks": counters["late_ticks"],
        "reconnects": counters["reconnects"],
        "loadavg_1m": [round(load_began, 2), round(load_ended, 2)],
        "cpus": os.cpu_count(),
        "target_met": rows_per_s / expected >= TARGET_CADENCE
        and median_step == snapshot_ms
        and cpu < TARGET_CPU
        and counters["gaps"] == stats.gaps_injected,
        "targets": {
            "cadence_ratio": f">= {TARGET_CADENCE}",
            "median_step_ms": f"== {snapshot_ms}",
            "cpu_s_per_wall_s": f"< {TARGET_CPU}",
            "gaps_detected": "== gaps_injected",
        },
    }
