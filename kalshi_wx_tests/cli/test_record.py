"""The recorder against the simulator's REST and WebSocket servers on loopback.

In process for what needs its books or clock; as a subprocess (``kalshi-wx record``) for signals:
SIGTERM writes the open interval, SIGKILL loses at most the open interval and leaves every file readable.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from kalshi_wx.cli.main import main
from kalshi_wx.cli.record import Recorder, RecorderSettings, SeriesTarget
from kalshi_wx.core.live.recording import recording_day
from kalshi_wx.defs.settings import settings
from kalshi_wx.sources.kalshi.ws import ReconnectPolicy
from kalshi_wx.sources.sim.common import CryptoSeries, SimConfig
from kalshi_wx.sources.sim.kalshi_ws import SimWsServer, WsFaults
from kalshi_wx.sources.sim.server import SimServer
from kalshi_wx.warehouse import highres

REPO = Path(__file__).resolve().parents[2]
FAST = ReconnectPolicy(initial_s=0.05, max_s=0.2)
WEATHER, CRYPTO = "KXHIGHNY", "KXBTC15M"


@pytest.fixture(scope="module")
def config() -> SimConfig:
    return SimConfig(cities=tuple(settings().cities.values()), crypto=(CryptoSeries(),))


class Exchange:
    """The simulator's REST and WebSocket APIs on one clock."""

    def __init__(self, config: SimConfig, series: list[str], clock: Callable[[], float] = time.time, **ws_kwargs):
        ws_kwargs.setdefault("deltas_per_s", 20.0)
        ws_kwargs.setdefault("tick_s", 0.01)
        self.rest = SimServer(config, clock=clock).start()
        self.ws = SimWsServer(config, series=series, clock=clock, **ws_kwargs).start()
        deadline = time.monotonic() + 10
        while not self.ws.open_tickers() and time.monotonic() < deadline:
            time.sleep(0.01)

    def settings(self, root: Path, series: list[str], **kwargs) -> RecorderSettings:
        kwargs.setdefault("snapshot_ms", 50)
        kwargs.setdefault("part_seconds", 1)
        return RecorderSettings(
            series=tuple(SeriesTarget(s, settings().recording_offset_hours(s)) for s in series),
            root=root,
            ws_url=self.ws.url,
            api_base=self.rest.kalshi_base_url,
            reconnect=FAST,
            **kwargs,
        )

    def stop(self) -> None:
        self.ws.stop()
        self.rest.stop()


def _record(recorder: Recorder, seconds: float, during: Callable[[Recorder], Awaitable[None]] | None = None) -> float:
    """Run ``recorder`` for ``seconds`` (and ``during`` beside it); when it was told to stop."""
    stopped_at: list[float] = []

    async def run():
        stop = asyncio.Event()

        def stop_now() -> None:
            stopped_at.append(time.time())
            stop.set()

        asyncio.get_running_loop().call_later(seconds, stop_now)
        task = asyncio.create_task(recorder.run(stop))
        if during is not None:
            await during(recorder)
        await task

    asyncio.run(run())
    return stopped_at[0]


def _day_frame(root: Path, series: str) -> pl.DataFrame:
    offset = settings().recording_offset_hours(series)
    days = {recording_day(int(time.time() * 1000) + d, offset) for d in (-60_000, 0)}
    return pl.concat([highres.scan_day(root, series, day).collect() for day in sorted(days)])


def _parts(root: Path, series: str) -> list[highres.PartInfo]:
    days = sorted(highres.recorded_days(root, series))
    return [part for day in days for part in highres.day_parts(root, series, day)]


def test_records_several_series_at_the_cadence_into_part_files(tmp_path, config):
    exchange = Exchange(config, [WEATHER, CRYPTO])
    try:
        recorder = Recorder(exchange.settings(tmp_path, [WEATHER, CRYPTO], depth=3))
        began = time.time()
        stopped = _record(recorder, 2.6)
    finally:
        exchange.stop()
    summary = recorder.summary()
    for series, markets in ((WEATHER, 6), (CRYPTO, 1)):
        frame = _day_frame(tmp_path, series)
        assert frame["market_ticker"].n_unique() == markets and frame.height == summary.rows[series]
        assert frame.select(pl.struct("market_ticker", "ts_ms").is_unique().all()).item()
        steps = frame.sort("ts_ms").group_by("market_ticker").agg(pl.col("ts_ms").diff().median())["ts_ms"]
        assert steps.to_list() == [50.0] * markets
        assert int(began * 1000) <= frame["ts_ms"].min() and frame["ts_ms"].max() >= int((stopped - 1.0) * 1000)
        assert not frame.filter(pl.col("yes_bid") >= pl.col("yes_ask")).height
        parts = _parts(tmp_path, series)
        assert len(parts) == summary.parts[series] >= 2  # one part per second of the run (startup takes some)
        recording = parts[0].recording
        assert (recording["snapshot_ms"], recording["depth"], recording["series"]) == (50, 3, series)
        assert set(recording["markets"]) <= set(frame["market_ticker"])
        assert frame["yes_bid_prices"].list.len().max() <= 3


def test_gaps_are_resnapshotted_and_counted_with_the_data(tmp_path, config):
    exchange = Exchange(config, [WEATHER], faults=WsFaults(gap_every=40))
    try:
        recorder = Recorder(exchange.settings(tmp_path, [WEATHER]))

        async def at_rest(recorder: Recorder) -> None:
            await asyncio.sleep(2.0)
            exchange.ws.set_faults(WsFaults())
            await asyncio.sleep(0.3)
            exchange.ws.freeze()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                books = recorder.books()
                truth = {t: exchange.ws.book(t) for t in books}
                if all(b.has_snapshot and (b.levels("yes"), b.levels("no")) == truth[t] for t, b in books.items()):
                    return
                await asyncio.sleep(0.02)
            pytest.fail("the recorder's books never matched the server's")

        _record(recorder, 3.0, at_rest)
        injected = exchange.ws.stats_snapshot().gaps_injected
    finally:
        exchange.stop()
    counted = sum(p.recording["counters"].get("gaps", 0) for p in _parts(tmp_path, WEATHER))
    resnapshots = sum(p.recording["counters"].get("resnapshots", 0) for p in _parts(tmp_path, WEATHER))
    assert injected >= 3 and counted == injected == recorder.summary().counters[WEATHER]["gaps"]
    assert resnapshots == 6 * injected  # every market of the sid, for every gap
    events = [e for p in _parts(tmp_path, WEATHER) for e in p.recording["events"] if e["kind"] == "gaps"]
    assert "seq jumped from" in events[0]["detail"]


def test_a_dropped_connection_is_recovered_without_duplicated_rows(tmp_path, config):
    exchange = Exchange(config, [WEATHER])
    try:
        recorder = Recorder(exchange.settings(tmp_path, [WEATHER]))

        subscriptions = set()

        async def drop(recorder: Recorder) -> None:
            await asyncio.sleep(1.0)
            assert exchange.ws.drop_connections() == 1
            await asyncio.sleep(1.2)
            subscriptions.update(channel for _, _, channel, _ in exchange.ws.subscriptions())
            exchange.ws.freeze()
            await asyncio.sleep(0.3)

        _record(recorder, 3.0, drop)
    finally:
        exchange.stop()
    frame = _day_frame(tmp_path, WEATHER)
    assert frame.select(pl.struct("market_ticker", "ts_ms").is_unique().all()).item()
    assert recorder.ws is not None and recorder.ws.counters.connects == 2
    assert subscriptions == {"orderbook_delta", "market_lifecycle_v2"}  # everything subscribed again
    assert sum(p.recording["counters"].get("reconnects", 0) for p in _parts(tmp_path, WEATHER)) == 1
    # rows resume for every market after the reconnect, and the gap in between is at most a moment
    for ticker, stamps in frame.group_by("market_ticker").agg(pl.col("ts_ms").sort()).iter_rows():
        steps = pl.Series(stamps).diff().drop_nulls()
        assert steps.max() < 2_000, ticker
        assert stamps[-1] - stamps[0] > 2_000, ticker


def test_new_markets_are_discovered_as_they_open_and_closed_ones_dropped(tmp_path, config):
    # A clock 1.5 s before a 15-minute boundary: the KXBTC15M window closes and the next one opens.
    boundary = (int(time.time()) // 900 + 2) * 900
    offset = boundary - 1.5 - time.time()

    def clock() -> float:
        return time.time() + offset

    exchange = Exchange(config, [CRYPTO], clock=clock)
    try:
        recorder = Recorder(exchange.settings(tmp_path, [CRYPTO]), clock=clock)
        _record(recorder, 3.5)
    finally:
        exchange.stop()
    frame = pl.concat(
        [highres.scan_day(tmp_path, CRYPTO, recording_day(int(clock() * 1000) + d, 0)).collect() for d in (-5000, 0)]
    ).unique()
    by_market = frame.group_by("market_ticker").agg(pl.col("ts_ms").min().alias("first"), pl.col("ts_ms").max())
    old, new = sorted(by_market.iter_rows(), key=lambda r: r[1])
    assert old[2] < boundary * 1000 <= new[1] < boundary * 1000 + 2_000  # recorded within moments of opening
    assert new[0].endswith(f"-{datetime.fromtimestamp(boundary + 900, UTC):%M}")
    windows = {t: w for p in _parts(tmp_path, CRYPTO) for t, w in p.recording["markets"].items()}
    assert windows[new[0]] == [boundary * 1000, (boundary + 900) * 1000]


def test_a_second_recorder_of_the_same_series_is_refused(tmp_path, config):
    exchange = Exchange(config, [WEATHER])
    try:
        refused = pytest.raises(RuntimeError, match=f"series {WEATHER}: already being recorded by pid {os.getpid()}")
        with highres.SeriesLock(tmp_path, WEATHER), refused:
            _record(Recorder(exchange.settings(tmp_path, [WEATHER])), 1.0)
    finally:
        exchange.stop()


def test_settings_are_checked():
    base = {"series": (SeriesTarget(WEATHER),), "root": Path("."), "ws_url": "ws://x", "api_base": ""}
    with pytest.raises(ValueError, match="part_seconds 7 must divide an hour"):
        RecorderSettings(**base, part_seconds=7)
    with pytest.raises(ValueError, match="snapshot_ms 300 must divide part_seconds 1 x 1000"):
        RecorderSettings(**base, part_seconds=1, snapshot_ms=300)
    with pytest.raises(ValueError, match="a series is listed twice"):
        RecorderSettings(**{**base, "series": (SeriesTarget(WEATHER), SeriesTarget(WEATHER))})


# --- the recorder as its own process ----------------------------------------------------------------------


def _spawn(home: Path, exchange: Exchange, *extra: str, part_seconds: int = 1) -> subprocess.Popen:
    env = {**os.environ, "KALSHI_WX_HOME": str(home), "PYTHONPATH": str(REPO)}
    command = [
        sys.executable, "-m", "kalshi_wx.cli.main", "record", "--series", WEATHER, "--snapshot-ms", "50",
        "--part-seconds", str(part_seconds), "--ws-url", exchange.ws.url,
        "--api-base", exchange.rest.kalshi_base_url, *extra,
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_parts(home: Path, count: int, process: subprocess.Popen, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(list(highres.series_dir(home, WEATHER).glob("date=*/part-*.parquet"))) < count:
        if process.poll() is not None:
            pytest.fail(f"the recorder exited with {process.returncode}: {process.stdout.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the recorder wrote no parts")
        time.sleep(0.05)


def test_sigterm_writes_the_open_interval_and_exits_cleanly(tmp_path, config):
    # Parts of a minute: what is on disk after SIGTERM was written by the shutdown, from the open interval.
    exchange = Exchange(config, [WEATHER])
    try:
        process = _spawn(tmp_path, exchange, part_seconds=60)
        deadline = time.monotonic() + 30
        while not any(c == "orderbook_delta" for _, _, c, _ in exchange.ws.subscriptions()):
            assert process.poll() is None and time.monotonic() < deadline, "the recorder never subscribed"
            time.sleep(0.05)
        time.sleep(1.5)
        signalled = time.time()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        exchange.stop()
    assert process.returncode == 0, output
    assert f"{WEATHER}: " in output and " rows in " in output
    frame = _day_frame(tmp_path, WEATHER)
    assert frame["market_ticker"].n_unique() == 6 and frame["ts_ms"].max() >= int((signalled - 0.5) * 1000)
    assert frame["ts_ms"].max() - frame["ts_ms"].min() >= 1_000  # the second and a half before the signal


def test_kill_9_loses_at_most_the_open_interval_and_every_file_reads(tmp_path, config):
    exchange = Exchange(config, [WEATHER])
    try:
        process = _spawn(tmp_path, exchange)
        _wait_for_parts(tmp_path, 3, process)
        time.sleep(0.5)
        killed = time.time()
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        # a restart on the same home cleans up and is not locked out by the dead recorder
        restart = _spawn(tmp_path, exchange, "--duration-s", "1.2")
        output, _ = restart.communicate(timeout=60)
    finally:
        exchange.stop()
    assert process.returncode == -signal.SIGKILL and restart.returncode == 0, output
    files = sorted(highres.series_dir(tmp_path, WEATHER).glob("date=*/*"))
    assert files and not [f for f in files if f.name.startswith(".")]  # stray temporaries removed
    parts = _parts(tmp_path, WEATHER)
    assert len(parts) == len(files)
    for part in parts:  # every file reads, data and metadata
        assert pl.read_parquet(part.path).height == part.rows
        assert part.recording["series"] == WEATHER
    first_run = sorted((p for p in parts if p.recording["writer"] == parts[0].recording["writer"]),
                       key=lambda p: p.recording["interval_start_ms"])  # fmt: skip
    starts = [p.recording["interval_start_ms"] for p in first_run]
    assert starts == list(range(starts[0], starts[-1] + 1, 1000))  # no interval missing before the kill
    assert first_run[-1].recording["interval_end_ms"] >= int(killed * 1000) - 2 * 1000  # only the open one lost


def test_cli_exports_and_imports_jsonl(tmp_path, config, monkeypatch, capsys):
    monkeypatch.setenv("KALSHI_WX_HOME", str(tmp_path / "home"))
    exchange = Exchange(config, [WEATHER])
    try:
        _record(Recorder(exchange.settings(tmp_path / "home", [WEATHER])), 1.5)
    finally:
        exchange.stop()
    day = recording_day(int(time.time() * 1000), -5)
    out = tmp_path / "export.jsonl.gz"
    assert main(["highres", "export", "--series", WEATHER, "--date", day.isoformat(), "--out", str(out)]) == 0
    rows = _day_frame(tmp_path / "home", WEATHER).height
    assert f"{rows} rows of {WEATHER} {day}" in capsys.readouterr().out
    monkeypatch.setenv("KALSHI_WX_HOME", str(tmp_path / "other"))
    assert main(["highres", "import", str(out), "--series", WEATHER]) == 0
    assert _day_frame(tmp_path / "other", WEATHER).height == rows
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"ts_ms": 1, "market_ticker": "KXHIGHNY-X", "yes_bid": "2"}\n')
    assert main(["highres", "import", str(bad), "--series", WEATHER]) == 2
    assert f"{bad}:1, ticker KXHIGHNY-X, field 'yes_bid'" in capsys.readouterr().err
    assert main(["record", "--series", WEATHER, "--part-seconds", "7", "--ws-url", "ws://127.0.0.1:9"]) == 2
    assert "part_seconds 7 must divide an hour" in capsys.readouterr().err
    assert replace(config).crypto  # the fixture is untouched


def test_a_refused_book_subscription_is_asked_for_again(tmp_path, config):
    exchange = Exchange(config, [WEATHER], faults=WsFaults(refuse_book_subscriptions=1))
    try:
        recorder = Recorder(exchange.settings(tmp_path, [WEATHER]))
        _record(recorder, 2.0)
    finally:
        exchange.stop()
    assert recorder.ws is not None and recorder.ws.counters.errors == 1
    frame = _day_frame(tmp_path, WEATHER)
    assert frame["market_ticker"].n_unique() == 6 and frame.height > 6 * 10
    errors = [e for p in _parts(tmp_path, WEATHER) for e in p.recording["events"] if e["kind"] == "error"]
    assert "error 10 (channel error)" in errors[0]["detail"]
