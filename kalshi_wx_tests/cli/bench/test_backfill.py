"""`kalshi-wx bench backfill`: both modes fill the same city-days with the same rows; the figures are reported."""

from __future__ import annotations

from kalshi_wx.cli.bench.backfill import run_backfill_benchmark


def test_per_partition_and_batched_fill_the_same_panels(kalshi_wx_home):
    figures = run_backfill_benchmark(cities=("nyc",), days=2)
    assert figures["city_days"] == 2
    # 6 brackets x 1440 minutes per city-day, whichever way the runs were cut.
    assert figures["per_partition_panel_rows"] == figures["batched_panel_rows"] == 2 * 6 * 1440
    for mode in ("per_partition", "batched"):
        assert figures[f"{mode}_s_per_city_day"] == round(figures[f"{mode}_wall_s"] / 2, 2)
    assert figures["speedup"] == round(figures["per_partition_wall_s"] / figures["batched_wall_s"], 2)
