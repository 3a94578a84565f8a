from __future__ import annotations

import json

from kalshi_wx.cli.bench.hazard import run_hazard_benchmark


def test_hazard_benchmark_smoke():
    # Tiny sizes: this checks the report's shape and consistency, not the speed (no timing asserts).
    report = run_hazard_benchmark(n_paths=200, seed=3)
    json.dumps(report)  # the CLI prints it as JSON
    assert report["benchmark"] == "hazard_monte_carlo"
    assert report["n_paths"] == 200 and report["reference_paths"] == 200 and not report["reference_scaled"]
    assert report["observations"] == 288 and report["brackets"] == 6
    assert report["numba_s"] > 0 and report["reference_s"] > 0 and report["speedup"] > 0
    assert report["nominal_step_updates"] == 200 * 1439 * 1440 // 2
    assert 0 <= report["p_wx_max_abs_diff"] <= 1
    assert isinstance(report["meets_target"], bool)
