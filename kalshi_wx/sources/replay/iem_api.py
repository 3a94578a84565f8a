"""Recorded IEM answers served at IEM's paths, checked the way IEM checks its parameters.

IEM refuses a bad request with HTTP 422 and a one-line reason (``Unknown station provided: KNYC``
when a K-prefixed id reaches ``asos1min.py``, ``No vars= was specified``), and the replay does too,
so a client bug shows up here before it reaches IEM. A station or day with no recorded file gets
IEM's answer for no data: the header alone. Only the formats the clients ask for are served:
``asos1min.py`` with ``tz=UTC`` and comma delimiters, ``retrieve.py`` with ``fmt=text``,
``mos.py`` with ``format=csv``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from kalshi_wx.core.payloads.iem_cli import product_time
from kalshi_wx.sources.loopback import Request, Response
from kalshi_wx.sources.replay.layout import ReplayDir

PREFIX = "/iem"
# mos.py with no run to answer prints every column of IEM's alldata table (init/mos.sql), with runtime and
# ftime first and the t06/t12 pairs joined at the end; with rows it drops the columns empty in all of them.
# fmt: off
MOS_COLUMNS = [
    "runtime", "ftime", "station", "model", "n_x", "tmp", "dpt", "cld", "wdr", "wsp", "p06", "p12",
    "q06", "q12", "t06_1", "t06_2", "t12_1", "t12_2", "snw", "cig", "vis", "obv", "poz", "pos",
    "typ", "sky", "gst", "t03", "pzr", "psn", "ppl", "pra", "s06", "slv", "i06", "lcb",
    "swh", "dur", "mht", "twd", "tws", "hid", "sol", "q24", "p24", "t24", "ccg", "ppo",
    "pco", "cvs", "lp1", "lc1", "cp1", "cc1", "s12", "i12", "s24", "pzp", "prs", "txn",
    "xnd", "tsd", "dsd", "ssd", "gsd", "ifc", "ifv", "mvc", "mvv", "liv", "wsd", "p01",
    "pc1", "t06", "t12",
]
# fmt: on


class IemRequestError(ValueError):
    """IEM's 422: the plain-text reason it answers with."""


def _arg(req: Request, name: str, *, required: bool = True) -> str | None:
    value = req.arg(name)
    if required and not value:
        raise IemRequestError(f"No {name}= was specified in request.")
    return value or None


def _when(req: Request, name: str, *, aware: bool) -> datetime:
    text = _arg(req, name)
    assert text is not None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise IemRequestError(f"Invalid {name}: {text!r}") from None
    if moment.tzinfo is None:
        if aware:
            raise IemRequestError(f"{name} must have a timezone: {text!r}")
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _asos1min(replay: ReplayDir, req: Request) -> Response:
    station = (_arg(req, "station") or "").upper()
    variables = [v for v in (_arg(req, "vars") or "").split(",") if v]
    start, end = _when(req, "sts", aware=True), _when(req, "ets", aware=True)
    if (req.arg("tz") or "UTC") != "UTC" or (req.arg("delim") or "comma") != "comma":
        raise IemRequestError("the replay serves tz=UTC and delim=comma only")
    # IEM keys ASOS sites without the K (reference s0): a 4-letter K id is the classic client bug.
    if not re.fullmatch(r"[A-Z0-9]{3,4}", station) or re.fullmatch(r"K[A-Z]{3}", station):
        raise IemRequestError(f"Unknown station provided: {station}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["station", "station_name", "valid(UTC)", *variables])
    for day in _days(start, end):
        path = replay.file("iem", "asos1min", station, f"{day.isoformat()}.csv")
        if path is None:
            continue
        reader = csv.DictReader(io.StringIO(path.read_text()))
        missing = [v for v in variables if v not in (reader.fieldnames or [])]
        if missing:
            raise IemRequestError(f"Unknown variable {missing[0]} specified in request.")
        for row in reader:
            valid = datetime.strptime(row["valid(UTC)"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            if start <= valid < end:
                writer.writerow([row["station"], row["station_name"], row["valid(UTC)"], *(row[v] for v in variables)])
    return Response(200, out.getvalue().encode("ascii"), {"Content-Type": "application/octet-stream"})


def _cli_json(replay: ReplayDir, req: Request) -> Response:
    station = _arg(req, "station") or ""
    if not re.fullmatch(r"[A-Z0-9]{4}", station):
        raise IemRequestError(f"station: {station!r} is not 4 upper-case characters")
    year = _arg(req, "year") or ""
    if not year.isdigit():
        raise IemRequestError(f"year: {year!r} is not a year")
    path = replay.file("iem", "cli", station, f"{year}.json")
    if path is None:
        return Response.json({"results": [], "generated_at": "1970-01-01T00:00:00Z"})
    return Response(200, path.read_bytes(), {"Content-Type": "application/json"})


def _products(replay: ReplayDir, pil: str) -> list[tuple[datetime, Path]]:
    found = []
    for path in replay.files("iem", "afos", pil, suffix=".txt"):
        try:
            found.append((product_time(path.stem), path))
        except ValueError:
            continue  # not named after a product id: not a product of the archive
    return sorted(found)


def _retrieve(replay: ReplayDir, req: Request) -> Response:
    pil = (_arg(req, "pil") or "").upper()
    if not 3 <= len(pil) <= 6:
        raise IemRequestError(f"Invalid PIL length: {pil}")
    if (req.arg("fmt") or "text") != "text":
        raise IemRequestError("the replay serves fmt=text only")
    start = _when(req, "sdate", aware=False) if req.arg("sdate") else datetime(1980, 1, 1, tzinfo=UTC)
    end = _when(req, "edate", aware=False) if req.arg("edate") else datetime.now(UTC) + timedelta(days=1)
    limit = int(req.arg("limit") or "1")
    chosen = [p for when, p in _products(replay, pil) if start <= when <= end]
    if req.arg("order", "desc") == "desc":
        chosen.reverse()
    chosen = chosen[:limit]
    if not chosen:
        return Response.text(f"ERROR: Could not Find: {pil}")
    body = "".join(f"\x01\n{p.read_text().strip(chr(10))}\n\x03\n" for p in chosen)
    return Response.text(body)


def _nwstext(replay: ReplayDir, product_id: str) -> Response:
    parts = product_id.split("-")
    path = replay.file("iem", "afos", parts[3], f"{product_id}.txt") if len(parts) in (4, 5) else None
    if path is None:
        return Response.json({"detail": "Product not found."}, status=404)
    return Response.text(path.read_text())


def _mos(replay: ReplayDir, req: Request) -> Response:
    station, model = (_arg(req, "station") or "").upper(), _arg(req, "model") or ""
    if (req.arg("format") or "csv") != "csv":
        raise IemRequestError("the replay serves format=csv only")
    start, end = _when(req, "sts", aware=True), _when(req, "ets", aware=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    for day in _days(start, end + timedelta(microseconds=1)):
        path = replay.file("iem", "mos", station, model, f"{day.isoformat()}.csv")
        if path is None:
            continue
        reader = csv.reader(io.StringIO(path.read_text()))
        file_header = next(reader)
        if header is not None and file_header != header:
            raise IemRequestError(f"recorded MOS files of {station} {model} disagree on their columns ({path.name})")
        header = file_header
        at = header.index("runtime")
        for row in reader:
            if row and start <= datetime.fromisoformat(row[at]).replace(tzinfo=UTC) <= end:
                rows.append(row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header or MOS_COLUMNS)
    writer.writerows(rows)
    return Response.text(out.getvalue())


def serve(replay: ReplayDir, req: Request, path: str) -> Response:
    """Answer ``req`` for ``path`` (below ``PREFIX``) from the recorded files, or IEM's 422/404."""
    try:
        if path == "/cgi-bin/request/asos1min.py":
            return _asos1min(replay, req)
        if path == "/json/cli.py":
            return _cli_json(replay, req)
        if path == "/cgi-bin/afos/retrieve.py":
            return _retrieve(replay, req)
        if match := re.fullmatch(r"/api/1/nwstext/([A-Za-z0-9-]{28,35})", path):
            return _nwstext(replay, match[1])
        if path == "/cgi-bin/request/mos.py":
            return _mos(replay, req)
    except IemRequestError as exc:
        return Response.text(str(exc), status=422)
    return Response.text(f"Not Found: {PREFIX}{path}", status=404)
