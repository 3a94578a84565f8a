"""``kalshi-wx evaluate`` on a warehouse holding one simulated city-day of the whole graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kalshi_wx.cli.main import main
from kalshi_wx_tests.conftest import DAY


def test_evaluate_json_table_and_plots(materialized, kalshi_wx_home, monkeypatch, tmp_path, capsys):
    _, warehouse, _ = materialized
    monkeypatch.setenv("KALSHI_WX_WAREHOUSE_URL", warehouse.url)
    out = tmp_path / "plots"
    assert main(["evaluate", "--city", "nyc", "--start", str(DAY), "--end", str(DAY), "--json", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["days_scored"] == 1 and report["days"][0]["p_wx_from"] == "stored"
    rows = {(r["pmf"], r["time_lst"]): r for r in report["scores"]}
    assert set(rows) == {(p, t) for p in ("p_wx", "p_mkt", "p_fused_norm", "persistence")
                         for t in ("10:00", "13:00", "16:00", "all")}  # fmt: skip
    assert rows[("p_wx", "16:00")]["n"] == 1 and rows[("p_wx", "all")]["n"] == 3
    assert rows[("p_wx", "13:00")]["brier_se"] is None  # one day: no bootstrap error
    assert 0 <= rows[("p_fused_norm", "all")]["brier"] <= 2
    paired = {(r["pmf"], r["reference"], r["time_lst"]): r for r in report["paired_brier_differences"]}
    fused_vs_market = paired[("p_fused_norm", "p_mkt", "13:00")]
    assert fused_vs_market["n"] == 1
    assert fused_vs_market["brier_diff"] == pytest.approx(
        rows[("p_fused_norm", "13:00")]["brier"] - rows[("p_mkt", "13:00")]["brier"]
    )
    for path in report["reliability_png"].values():
        assert path.startswith(str(out)) and Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The text form prints the same table.
    assert main(["evaluate", "--city", "nyc", "--start", str(DAY), "--end", str(DAY), "--out", str(out)]) == 0
    assert "| 16:00 | p_wx | 1 |" in capsys.readouterr().out


def test_evaluate_refuses_bad_input_in_one_line(kalshi_wx_home, capsys):
    assert main(["evaluate", "--city", "bos", "--start", "2025-07-01", "--end", "2025-07-02"]) == 2
    assert "unknown city 'bos'" in capsys.readouterr().err
    assert main(["evaluate", "--city", "nyc", "--start", "2025-07-02", "--end", "2025-07-01"]) == 2
    assert "the end is before the start" in capsys.readouterr().err
