"""Recorded order-book snapshots on disk: Parquet part files per series and day.

Layout (``root`` is ``$KALSHI_WX_HOME``)::

    highres/series=<SERIES>/date=<YYYY-MM-DD>/part-<interval start ms>-<writer>.parquet

A part holds one interval of one recorder (or one imported file's rows of that day). It is written
to a hidden temporary file in the same directory, flushed to disk and renamed into place, so a
reader sees a whole file or none and a crash leaves at most a stray ``.part-*.tmp`` (ignored by
readers, removed by the next recorder). What the recorder counted in the interval (sequence gaps,
resnapshots, reconnects, ...), its settings and the markets' open intervals travel in the part's
Parquet key-value metadata (``kalshi_wx.recording``), so data and counters are written together.

The seed's canonical JSONL(.gz) snapshot format (``ts_ms``, ``market_ticker``, ``yes_bid``,
``yes_ask``, ``no_bid``, ``no_ask``, ``yes_mid``, ``spread``) is exported from and imported into
this layout.
"""

from __future__ import annotations

import errno
import fcntl
import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import polars as pl
import pyarrow.parquet as pq

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.live.snapshots import (
    SNAPSHOT_COLUMNS,
    PriceUnit,
    canonical_frame,
    canonical_records,
    empty_snapshots,
)

HIGHRES_DIR = "highres"
METADATA_KEY = "kalshi_wx.recording"
FORMAT_VERSION = 1
_PART_GLOB = "part-*.parquet"


def series_dir(root: Path | str, series: str) -> Path:
    return Path(root) / HIGHRES_DIR / f"series={series}"


def day_dir(root: Path | str, series: str, day: date) -> Path:
    return series_dir(root, series) / f"date={day.isoformat()}"


def part_name(interval_start_ms: int, writer: str) -> str:
    return f"part-{interval_start_ms}-{writer}.parquet"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, write: Any) -> Path:
    """Call ``write(temp_path)``, flush the file to disk and rename it to ``path``; nothing is left on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def write_part(directory: Path, name: str, frame: pl.DataFrame, recording: Mapping[str, Any]) -> Path:
    """Write ``frame`` (snapshot rows) atomically as ``directory/name`` with ``recording`` as its metadata."""
    if dict(frame.schema) != SNAPSHOT_COLUMNS:
        raise ValueError(f"{directory / name}: not a snapshot frame: {dict(frame.schema)}")
    metadata = {METADATA_KEY: json.dumps({"format": FORMAT_VERSION, **recording}, sort_keys=True)}
    frame = frame.sort("ts_ms", "market_ticker")
    return _atomic_write(directory / name, lambda tmp: frame.write_parquet(tmp, metadata=metadata, statistics=True))


def remove_temp_files(root: Path | str, series: str) -> int:
    """Delete the temporary files a crashed writer left under the series; how many there were."""
    removed = 0
    for tmp in series_dir(root, series).glob("date=*/.part-*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def part_files(root: Path | str, series: str, day: date) -> list[Path]:
    """The day's complete part files, oldest interval first (temporary files are hidden and skipped)."""
    return sorted(day_dir(root, series, day).glob(_PART_GLOB))


def read_recording(path: Path, metadata: pq.FileMetaData | None = None) -> dict[str, Any]:
    """The ``kalshi_wx.recording`` metadata of a part (counters, settings, market windows)."""
    metadata = metadata or pq.read_metadata(path)
    raw = (metadata.metadata or {}).get(METADATA_KEY.encode())
    if raw is None:
        raise PayloadError(str(path), f"no {METADATA_KEY} metadata: not a part written by kalshi-wx")
    try:
        return dict(json.loads(raw))
    except ValueError:
        raise PayloadError(str(path), f"{METADATA_KEY} metadata is not JSON") from None


@dataclass(frozen=True)
class PartInfo:
    path: Path
    rows: int
    bytes: int
    recording: dict[str, Any]


def day_parts(root: Path | str, series: str, day: date) -> list[PartInfo]:
    """Every part of the day with its row count and recording metadata (read from the footers only)."""
    parts = []
    for path in part_files(root, series, day):
        metadata = pq.read_metadata(path)
        parts.append(PartInfo(path, metadata.num_rows, path.stat().st_size, read_recording(path, metadata)))
    return parts


def scan_day(root: Path | str, series: str, day: date) -> pl.LazyFrame:
    """The day's snapshots as one LazyFrame (empty, with the snapshot schema, when nothing was recorded)."""
    files = part_files(root, series, day)
    if not files:
        return empty_snapshots().lazy()
    return pl.scan_parquet(files, schema=SNAPSHOT_COLUMNS)


def recorded_days(root: Path | str, series: str) -> dict[date, str]:
    """Days of ``series`` with part files, each with a fingerprint that changes when its files do."""
    days: dict[date, str] = {}
    for directory in sorted(series_dir(root, series).glob("date=*")):
        try:
            day = date.fromisoformat(directory.name.removeprefix("date="))
        except ValueError:
            continue
        files = sorted(directory.glob(_PART_GLOB))
        if files:
            digest = hashlib.blake2b(digest_size=8)
            for path in files:
                stat = path.stat()
                digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
            days[day] = f"{len(files)}-{digest.hexdigest()}"
    return days


class SeriesLocked(RuntimeError):
    """Another process is recording the series."""


class SeriesLock:
    """One recorder per series: an exclusive ``flock`` on ``highres/series=<S>/.recorder.lock``.

    The kernel drops the lock when the process dies, so a crashed recorder never blocks the next.
    """

    def __init__(self, root: Path | str, series: str):
        self.path = series_dir(root, series) / ".recorder.lock"
        self.series = series
        self._handle: IO[str] | None = None

    def acquire(self) -> SeriesLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise SeriesLocked(
                    f"series {self.series}: already being recorded by pid {holder} (lock {self.path})"
                ) from None
            raise
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> SeriesLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# --- the canonical JSONL(.gz) format ------------------------------------------------------------------------


def _open_text(path: Path, mode: str, *, gz: bool) -> IO[str]:
    if gz:
        return io.TextIOWrapper(gzip.GzipFile(filename=path, mode=mode + "b"), encoding="utf-8")
    return open(path, mode, encoding="utf-8")  # noqa: SIM115 - returned to a with block


def export_jsonl(frame: pl.DataFrame, path: Path | str) -> int:
    """Write ``frame``'s rows in the canonical format (gzip when ``path`` ends in .gz), atomically; rows written."""
    path = Path(path)
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        with _open_text(tmp, "w", gz=path.suffix == ".gz") as handle:
            for record in canonical_records(frame.sort("ts_ms", "market_ticker")):
                handle.write(json.dumps(record, separators=(",", ":")) + "\n")
                rows += 1

    _atomic_write(path, write)
    return rows


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    with _open_text(path, "r", gz=path.suffix == ".gz") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except ValueError as exc:
                raise PayloadError(f"{path}:{number}", f"not JSON: {exc}") from None


def read_jsonl(path: Path | str, *, unit: PriceUnit = "dollars") -> pl.DataFrame:
    """Snapshot rows from a canonical JSONL(.gz) file; errors name ``file:line`` and the field."""
    path = Path(path)
    try:
        return canonical_frame(_lines(path), source=str(path), unit=unit)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise PayloadError(str(path), f"cannot read: {exc}") from None


def import_frame(
    root: Path | str, series: str, frame: pl.DataFrame, *, utc_offset_hours: int, source: str
) -> list[Path]:
    """File ``frame`` into the layout, one part per day, named by the content so importing twice is a no-op."""
    foreign = frame.filter(~pl.col("market_ticker").str.starts_with(f"{series}-"))
    if foreign.height:
        raise PayloadError(
            source, f"{foreign.height} row(s) are not markets of {series}", ticker=foreign[0, "market_ticker"]
        )
    if frame.is_empty():
        return []
    days = frame.with_columns(
        pl.from_epoch(pl.col("ts_ms") + utc_offset_hours * 3_600_000, time_unit="ms").dt.date().alias("_day")
    )
    written = []
    for (day,), rows in days.partition_by("_day", as_dict=True, maintain_order=True).items():
        part = rows.drop("_day").sort("ts_ms", "market_ticker")
        digest = hashlib.blake2b(part.write_ipc(None).getvalue(), digest_size=8).hexdigest()
        first_ms, last_ms = part["ts_ms"][0], part["ts_ms"][-1]
        writer = f"import-{digest}"
        recording = {
            "series": series,
            "writer": writer,
            "source": source,
            "interval_start_ms": first_ms,
            "interval_end_ms": last_ms + 1,
            "counters": {},
            "markets": {},
        }
        written.append(write_part(day_dir(root, series, day), part_name(first_ms, writer), part, recording))
    return written
