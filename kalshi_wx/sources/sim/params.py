"""Query parameters of the simulator's JSON routes, and the JSON error a refused request gets.

A bad value is a 400 naming the parameter, never a silent default, so a client bug shows up
against the simulator before it reaches the real API.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from kalshi_wx.sources.loopback import Request, Response


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(exc: ApiError) -> Response:
    return Response.json({"error": {"code": exc.code, "message": exc.message}}, status=exc.status)


def get_only(req: Request, server: str, answer: Callable[[], dict[str, Any]]) -> Response:
    """The JSON body ``answer()`` builds for a GET, or Kalshi's JSON error (``server`` names who refuses)."""
    if req.method != "GET":
        return error_response(ApiError(405, "method_not_allowed", f"{server} serves GET only, not {req.method}"))
    try:
        return Response.json(answer())
    except ApiError as exc:
        return error_response(exc)


def bad_request(param: str, message: str) -> ApiError:
    return ApiError(400, "bad_request", f"{param}: {message}")


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def int_arg(
    req: Request, name: str, *, default: int | None = None, lo: int | None = None, hi: int | None = None
) -> int:
    raw = req.arg(name)
    if raw is None or raw == "":
        if default is None:
            raise bad_request(name, "is required")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(name, f"expected an integer, got {raw!r}") from None
    if lo is not None and value < lo:
        raise bad_request(name, f"{value} is below the minimum {lo}")
    if hi is not None and value > hi:
        raise bad_request(name, f"{value} is above the maximum {hi}")
    return value


def optional_int_arg(req: Request, name: str) -> int | None:
    return None if req.arg(name) in (None, "") else int_arg(req, name)


def bool_arg(req: Request, name: str) -> bool:
    raw = (req.arg(name) or "false").lower()
    if raw not in ("true", "false"):
        raise bad_request(name, f"expected true or false, got {raw!r}")
    return raw == "true"


def refuse(req: Request, names: Iterable[str]) -> None:
    for name in names:
        if req.arg(name) not in (None, ""):
            raise bad_request(name, "is not supported by the simulator")


def page(req: Request, items: list[Any], *, default_limit: int, max_limit: int) -> tuple[list[Any], str]:
    """Slice ``items`` by ``limit`` and an opaque ``cursor`` tied to this query's filters."""
    limit = int_arg(req, "limit", default=default_limit, lo=1, hi=max_limit)
    filters = sorted((k, v) for k, vs in req.query.items() if k not in ("cursor", "limit") for v in vs)
    fingerprint = hashlib.blake2b(repr((req.path, filters)).encode(), digest_size=6).hexdigest()
    offset = 0
    cursor = req.arg("cursor")
    if cursor:
        try:
            raw_offset, _, raw_fingerprint = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
            offset = int(raw_offset)
        except (ValueError, UnicodeDecodeError):
            raise bad_request("cursor", f"{cursor!r} is not a cursor this server issued") from None
        if raw_fingerprint != fingerprint or offset < 0:
            raise bad_request("cursor", "belongs to a different query (filters changed between pages)")
    items_page = items[offset : offset + limit]
    more = offset + limit < len(items)
    next_cursor = base64.urlsafe_b64encode(f"{offset + limit}:{fingerprint}".encode()).decode() if more else ""
    return items_page, next_cursor
