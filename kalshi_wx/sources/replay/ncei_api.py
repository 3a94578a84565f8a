"""Recorded NCEI archive files served at their own URL paths, byte for byte."""

from __future__ import annotations

from kalshi_wx.sources.loopback import Request, Response
from kalshi_wx.sources.replay.layout import ReplayDir

PREFIX = "/ncei"


def serve(replay: ReplayDir, req: Request, path: str) -> Response:
    """``ncei/<path>`` as recorded, or NCEI's plain 404 for a file it does not have."""
    path_file = replay.file("ncei", *[p for p in path.split("/") if p])
    if req.method != "GET" or path_file is None:
        return Response.text(f"Not Found: {path}", status=404, content_type="text/html")
    return Response(200, path_file.read_bytes(), {"Content-Type": "text/plain"})
