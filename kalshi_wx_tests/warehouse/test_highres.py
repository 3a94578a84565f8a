"""Recorded snapshots on disk: atomic part files with their counters, the day as a LazyFrame, the lock, JSONL."""

from __future__ import annotations

import gzip
import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.live.book import OrderBook
from kalshi_wx.core.live.snapshots import CANONICAL_COLUMNS, SNAPSHOT_COLUMNS, SnapshotBuffer, snapshot_row
from kalshi_wx.warehouse import highres

DAY = date(2026, 9, 6)
START = 1_788_652_800_000  # 2026-09-06T00:00:00Z
SERIES = "KXBTC15M"


def _frame(ticker: str = "KXBTC15M-26SEP060015-15", start: int = START, rows: int = 10) -> pl.DataFrame:
    book = OrderBook(ticker)
    book.apply_snapshot([(Decimal("0.40"), Decimal(3))], [(Decimal("0.55"), Decimal(2))], seq=4)
    buffer = SnapshotBuffer()
    for i in range(rows):
        buffer.append(start + 100 * i, snapshot_row(book, 3))
    return buffer.take()


def _write(root: Path, start: int = START, rows: int = 10, **recording) -> Path:
    return highres.write_part(
        highres.day_dir(root, SERIES, DAY),
        highres.part_name(start, "rtest"),
        _frame(start=start, rows=rows),
        {"series": SERIES, "snapshot_ms": 100, "counters": {"gaps": 1}, **recording},
    )


def test_parts_are_written_whole_with_their_recording_metadata(tmp_path):
    path = _write(tmp_path, markets={"KXBTC15M-26SEP060015-15": [START, START + 900_000]})
    assert path == tmp_path / f"highres/series={SERIES}/date=2026-09-06/part-{START}-rtest.parquet"
    recording = highres.read_recording(path)
    assert recording["counters"] == {"gaps": 1} and recording["format"] == highres.FORMAT_VERSION
    [part] = highres.day_parts(tmp_path, SERIES, DAY)
    assert (part.rows, part.recording["snapshot_ms"]) == (10, 100) and part.bytes == path.stat().st_size
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    with pytest.raises(ValueError, match="not a snapshot frame"):
        highres.write_part(path.parent, "part-1-x.parquet", pl.DataFrame({"ts_ms": [1]}), {})


def test_a_failed_write_leaves_neither_the_file_nor_its_temporary(tmp_path):
    target = tmp_path / "d" / "part-1-x.parquet"

    def half_then_crash(tmp: Path) -> None:
        tmp.write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        highres._atomic_write(target, half_then_crash)
    assert list(target.parent.iterdir()) == []


def test_a_day_reads_as_one_lazy_frame_and_stray_temporaries_are_ignored_then_removed(tmp_path):
    assert highres.scan_day(tmp_path, SERIES, DAY).collect().schema == pl.Schema(SNAPSHOT_COLUMNS)
    _write(tmp_path, START, 10)
    _write(tmp_path, START + 60_000, 5)
    day = highres.day_dir(tmp_path, SERIES, DAY)
    (day / f".part-{START + 120_000}-rtest.parquet.123.tmp").write_bytes(b"PAR1 torn")
    lazy = highres.scan_day(tmp_path, SERIES, DAY)
    assert isinstance(lazy, pl.LazyFrame) and lazy.select(pl.len()).collect().item() == 15
    assert highres.remove_temp_files(tmp_path, SERIES) == 1
    assert len(list(day.iterdir())) == 2


def test_recorded_days_fingerprint_changes_with_the_files(tmp_path):
    assert highres.recorded_days(tmp_path, SERIES) == {}
    _write(tmp_path, START)
    first = highres.recorded_days(tmp_path, SERIES)
    assert list(first) == [DAY] and first[DAY].startswith("1-")
    _write(tmp_path, START + 60_000)
    assert highres.recorded_days(tmp_path, SERIES)[DAY].startswith("2-")


def test_one_recorder_per_series(tmp_path):
    with highres.SeriesLock(tmp_path, SERIES) as lock:
        assert lock.path.read_text() == str(os.getpid())
        with pytest.raises(RuntimeError, match=rf"series {SERIES}: already being recorded by pid \d+"):
            highres.SeriesLock(tmp_path, SERIES).acquire()
        highres.SeriesLock(tmp_path, "KXHIGHNY").acquire().release()  # other series are independent
    highres.SeriesLock(tmp_path, SERIES).acquire().release()


@pytest.mark.parametrize("name", ["day.jsonl", "day.jsonl.gz"])
def test_jsonl_export_then_import_round_trips_and_is_idempotent(tmp_path, name):
    frame = pl.concat([_frame(), _frame("KXBTC15M-26SEP060030-30", START + 5)])
    out = tmp_path / name
    assert highres.export_jsonl(frame, out) == 20
    opener = gzip.open if name.endswith(".gz") else open
    with opener(out, "rt") as handle:
        first = json.loads(handle.readline())
    assert list(first) == list(CANONICAL_COLUMNS) and first["yes_bid"] == "0.4000"
    back = highres.read_jsonl(out)
    assert (
        back.select(CANONICAL_COLUMNS)
        .sort("ts_ms", "market_ticker")
        .equals(frame.select(CANONICAL_COLUMNS).sort("ts_ms", "market_ticker"))
    )
    root = tmp_path / "home"
    parts = highres.import_frame(root, SERIES, back, utc_offset_hours=0, source=str(out))
    again = highres.import_frame(root, SERIES, back, utc_offset_hours=0, source=str(out))
    assert parts == again and len(parts) == 1  # the same content gets the same name: no duplicate rows
    assert highres.scan_day(root, SERIES, DAY).select(pl.len()).collect().item() == 20
    assert highres.read_recording(parts[0])["source"] == str(out)


def test_import_files_rows_by_the_series_day_and_refuses_other_series(tmp_path):
    late = _frame(start=START + 86_400_000 - 200, rows=4)  # 23:59:59.8Z .. 00:00:00.1Z on the next day
    utc = highres.import_frame(tmp_path / "utc", SERIES, late, utc_offset_hours=0, source="x")
    assert [p.parent.name for p in utc] == ["date=2026-09-06", "date=2026-09-07"]
    climate = highres.import_frame(tmp_path / "lst", SERIES, late, utc_offset_hours=-5, source="x")
    assert [p.parent.name for p in climate] == ["date=2026-09-06"]
    with pytest.raises(PayloadError, match="ticker KXBTC15M-26SEP060015-15: 10 row"):
        highres.import_frame(tmp_path, "KXHIGHNY", _frame(), utc_offset_hours=0, source="x")


def test_import_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"ts_ms": 1, "market_ticker": "M", "yes_bid": "0.5"}\n{"ts_ms": 2, "market_ticker": "M"\n')
    with pytest.raises(PayloadError, match=r"bad.jsonl:2: not JSON"):
        highres.read_jsonl(bad)
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(PayloadError, match=r"broken.jsonl.gz: cannot read"):
        highres.read_jsonl(broken)
