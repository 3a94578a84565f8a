from __future__ import annotations

import json

from kalshi_wx.cli.bench.backtest import run_backtest_benchmark


def test_backtest_benchmark_smoke():
    # Tiny sizes: this checks the report's shape and consistency, not the speed (no timing asserts).
    report = run_backtest_benchmark(days=2)
    json.dumps(report)  # the CLI prints it as JSON
    assert report["benchmark"] == "backtest_engine" and report["strategy"] == "fused_edge"
    assert report["city_days"] == 2 and report["bracket_minutes"] == 2 * 6 * 1440
    assert report["engine_s"] > 0 and report["bracket_minutes_per_s"] > 0 and report["prepare_s"] > 0
    assert report["orders"] > 0 and report["fills"] > 0
    assert isinstance(report["net_dollars"], float)
