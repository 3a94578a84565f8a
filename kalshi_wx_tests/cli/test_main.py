"""The ``kalshi-wx`` command as a user runs it."""

from __future__ import annotations

import json
import os
import re
import stat

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshi_wx.cli.main import main


def test_parse_cli_json_on_real_products(test_data, capsys):
    assert main(["parse-cli", str(test_data / "nws_cli/pyiem/CLINYC.txt"), "--json"]) == 0
    [nyc] = json.loads(capsys.readouterr().out)
    assert set(nyc) == {"station", "climate_date", "max_f", "min_f", "report_type"}
    assert (nyc["climate_date"], nyc["max_f"], nyc["min_f"], nyc["report_type"]) == ("2013-01-02", 33, 22, "final")

    # A morning issuance with no observed maximum: null, not the normals block's MAXIMUM.
    assert main(["parse-cli", str(test_data / "nws_cli/pyiem/CLIICT.txt"), "--json"]) == 0
    [ict] = json.loads(capsys.readouterr().out)
    assert ict["max_f"] is None and ict["report_type"] == "preliminary"

    # One product, six Alaska stations.
    assert main(["parse-cli", str(test_data / "nws_cli/pyiem/CLIANC.txt"), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 6


def test_parse_cli_text_output_and_bad_file(test_data, tmp_path, capsys):
    assert main(["parse-cli", str(test_data / "nws_cli/pyiem/CLIICT.txt")]) == 0
    assert "none observed" in capsys.readouterr().out
    assert main(["parse-cli", str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt" in capsys.readouterr().err


def test_doctor_reports_keys_without_printing_them(kalshi_wx_home, tmp_path, monkeypatch, capsys):
    pem = tmp_path / "kalshi.pem"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(pem, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP)  # group-readable: doctor must complain
    secret_id = "a3f1c2d4-secret-key-id"
    monkeypatch.setenv("KALSHI_API_KEY_ID", secret_id)
    monkeypatch.setenv("KALSHI_PRIVATE_KEY_PATH", str(pem))
    monkeypatch.setenv("VISUAL_CROSSING_API_KEY", "vc-secret-9f8e7d")
    monkeypatch.setenv("KALSHI_WX_SOURCES", "sim")  # keys set, but stay offline

    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert secret_id not in out and "vc-secret-9f8e7d" not in out
    assert "chmod 600" in out
    assert "[  ok] kalshi:" in out and "[  ok] warehouse:" in out

    os.chmod(pem, stat.S_IRUSR | stat.S_IWUSR)
    assert main(["doctor"]) == 0
    assert "all good" in capsys.readouterr().out


def test_doctor_rejects_a_bad_source_mode(kalshi_wx_home, monkeypatch, capsys):
    monkeypatch.setenv("KALSHI_WX_SOURCES", "production")
    assert main(["doctor"]) == 1
    assert "expected 'sim', 'live' or 'replay'" in capsys.readouterr().out


def test_bench_ingest_json(capsys):
    assert main(["bench", "ingest", "--json", "--requests", "20"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["served"] == result["requests"] == 20 and result["server_burst"] == 1.0  # no-burst server
    assert result["requests_per_s"] <= result["limit_per_s"] * 1.25  # the client limiter held


def test_demo_one_partition(kalshi_wx_home, monkeypatch, capsys):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["demo", "--cities", "nyc", "--days", "1", "--record-seconds", "2"]) == 0
    out = capsys.readouterr().out
    assert "[1/1] nyc|2026-06-01   ok" in out
    assert "kalshi.candles_1m" in out and "8640" in out
    assert (kalshi_wx_home / "warehouse.duckdb").exists()
    assert (kalshi_wx_home / "dagster_home" / "dagster.yaml").exists()
    # The live part: both series recorded from the simulator's WebSocket and registered as highres partitions.
    for series, markets in (("KXBTC15M", 1), ("KXHIGHNY", 6)):
        assert re.search(rf"  {series} \d{{4}}-\d\d-\d\d: \d+ rows, {markets} markets, median step 100 ms", out), out
        assert list((kalshi_wx_home / "highres" / f"series={series}").glob("date=*/part-*.parquet"))


def test_unknown_city_is_refused(kalshi_wx_home, capsys):
    assert main(["backfill", "--cities", "nyc,bos", "--start", "2026-06-01", "--end", "2026-06-01"]) == 2
    assert capsys.readouterr().err == (
        "kalshi-wx backfill: error: --cities: unknown city bos; configured: chi, nyc, aus, mia, lax, den, phl\n"
    )
    assert list(kalshi_wx_home.iterdir()) == []


def test_report_command_materializes_the_range_report(materialized, kalshi_wx_home, monkeypatch, tmp_path, capsys):
    import dagster as dg

    from kalshi_wx_tests.conftest import DAY

    _, warehouse, _ = materialized
    monkeypatch.setenv("KALSHI_WX_WAREHOUSE_URL", warehouse.url)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    out = tmp_path / "reports"
    assert main(["report", "--city", "nyc", "--start", str(DAY), "--end", str(DAY), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"report: {out}" in printed and "| fused_edge | 1 |" in printed
    # The report is an asset materialization in the local instance, so the UI shows it too.
    with dg.DagsterInstance.from_config(str(kalshi_wx_home / "dagster_home")) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["backtest", "backtest_range_report"]))
    assert event.asset_materialization.partition == "nyc"
    assert event.asset_materialization.metadata["path"].value.startswith(str(out))
    assert main(["report", "--city", "nyc", "--start", "2026-09-01", "--end", "2026-09-02"]) == 2
    # One line: the partition, the failed run and the asset's own message (not Dagster's wrapper).
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: nyc (run ") and "): backtest__backtest_range_report: Failure: no markets" in line
    assert "kalshi-wx backfill --cities nyc" in line


def test_replay_build_then_doctor_in_replay_mode(kalshi_wx_home, tmp_path, monkeypatch, capsys, real_data):
    out = tmp_path / "replay"
    assert main(["replay", "build", str(out), "--real-data", str(real_data), "--set", "knyc"]) == 0
    printed = capsys.readouterr().out
    assert "3 ncei 5-minute months" in printed and "7 kalshi series" in printed
    assert f"KALSHI_WX_REPLAY_DIR={out}" in printed
    manifest = json.loads((out / "replay.json").read_text())
    assert manifest["sets"] == ["knyc"] and manifest["weather_sources"] == {"nyc": {"observations": "ncei_5min"}}
    assert (
        out / "ncei/data/automated-surface-observing-system-five-minute/access/2025/07/asos-5min-KNYC-202507.dat"
    ).read_bytes() == (real_data / "asos_5min/jetpackjules_KNYC/asos-5min-KNYC-202507.dat").read_bytes()

    monkeypatch.setenv("KALSHI_WX_SOURCES", "replay")
    monkeypatch.delenv("KALSHI_WX_REPLAY_DIR", raising=False)
    assert main(["doctor"]) == 1
    assert "[FAIL] replay: KALSHI_WX_SOURCES=replay needs KALSHI_WX_REPLAY_DIR" in capsys.readouterr().out
    monkeypatch.setenv("KALSHI_WX_REPLAY_DIR", str(out))
    assert main(["doctor"]) == 0
    checked = capsys.readouterr().out
    assert (
        "[  ok] kalshi:" in checked
        and "[  ok] nws:" in checked
        and "VISUAL_CROSSING_API_KEY: not set; not needed" in checked
    )


def test_replay_build_names_a_missing_folder(tmp_path, capsys):
    assert main(["replay", "build", str(tmp_path / "out"), "--real-data", str(tmp_path / "nowhere")]) == 2
    assert "nowhere/kalshi/cpratim_KXHIGHCHI/events: not found" in capsys.readouterr().err
