"""The data records of a CSV answer, checked against its header."""

from __future__ import annotations

from collections.abc import Iterator

from kalshi_wx.core.errors import PayloadError


def data_records(reader: Iterator[list[str]], header: list[str], *, origin: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, record) of each non-blank record after ``header``.

    A record narrower or wider than the header is an error naming its line: a cut-off answer would
    otherwise shift columns under the wrong names.
    """
    for line, record in enumerate(reader, start=2):
        if not record:
            continue
        if len(record) != len(header):
            raise PayloadError(
                origin, f"line {line}: {len(record)} fields, the header has {len(header)} (truncated?)", field="row"
            )
        yield line, record
