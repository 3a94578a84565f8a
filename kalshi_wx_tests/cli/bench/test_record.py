from __future__ import annotations

import json
import os
from pathlib import Path

from kalshi_wx.cli.bench.record import process_cpu_seconds, run_record_benchmark


def test_process_cpu_seconds_reads_this_process():
    spent = process_cpu_seconds(os.getpid())
    # The kernel charges CPU time in clock ticks to whichever process a tick finds running, so a short burst
    # may be charged nothing on a loaded machine: work until a tick lands (a broken reader never sees one).
    for _ in range(200):
        sum(i * i for i in range(200_000))
        if process_cpu_seconds(os.getpid()) > spent:
            break
    assert process_cpu_seconds(os.getpid()) > spent > 0
    assert Path(f"/proc/{os.getpid()}/stat").exists()


def test_record_benchmark_smoke():
    # Tiny sizes: this checks the report's shape and that its figures agree, not the speed.
    report = run_record_benchmark(markets=4, deltas_per_s=10.0, seconds=2.0, warmup_s=0.5, gap_every=15)
    json.dumps(report)  # the CLI prints it as JSON
    assert report["benchmark"] == "record" and report["markets"] == 4
    assert report["full_cadence_rows_per_s"] == 40.0 and report["markets_recorded"] == 4
    # How close to the full cadence a loaded machine gets is the benchmark's figure, not this test's.
    assert 0 < report["cadence_ratio"] <= 1.05 and report["cpu_s_per_wall_s"] > 0
    assert report["gaps_injected"] >= 2 and report["gaps_detected"] == report["gaps_injected"]
    assert report["resnapshots"] == 4 * report["gaps_injected"] and report["median_step_ms"] > 0
    assert len(report["loadavg_1m"]) == 2
    assert report["deltas_measured"] > 0 and 0 <= report["lag_ms_p50"] <= report["lag_ms_p99"] <= report["lag_ms_max"]
