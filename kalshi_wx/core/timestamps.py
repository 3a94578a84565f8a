"""RFC 3339 times from any payload (Kalshi, NWS) as aware UTC datetimes, with errors that name the field."""

from __future__ import annotations

from datetime import UTC, datetime

from kalshi_wx.core.errors import PayloadError


def parse_time(value: object, *, source: str, field: str, ticker: str | None = None) -> datetime | None:
    """An RFC 3339 time such as ``2026-06-03T04:59:00Z`` as an aware UTC datetime; empty -> None."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError(source, f"expected an RFC 3339 string, got {value!r}", field=field, ticker=ticker)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(source, f"not an RFC 3339 time: {value!r}", field=field, ticker=ticker) from None
    if parsed.tzinfo is None:
        raise PayloadError(source, f"time {value!r} has no UTC offset", field=field, ticker=ticker)
    return parsed.astimezone(UTC)
