"""A tiny threaded HTTP server on loopback, shared by the simulator and the test fakes.

The app is a plain function ``Request -> Response`` so that the simulator and every fake can be
served over real sockets without each one re-implementing ``http.server`` plumbing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Send only this many bytes of the body under its full Content-Length, then close the
    # connection: a transfer cut short, as the fakes play a dropped connection.
    truncate_at: int | None = None

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Response:
        return cls(status, text.encode(), {"Content-Type": f"{content_type}; charset=utf-8"})


App = Callable[[Request], Response]


def _handler_for(app: App) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes; with Nagle on, the body waits for the client's delayed ACK
        # of the headers (about 40 ms on Linux), which made every loopback request take 45 ms.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            try:
                response = app(request)
            except Exception as exc:  # a bug in a fake must show up as a 500, not a hung client
                log.exception("loopback app failed on %s %s", self.command, self.path)
                response = Response.json({"error": {"code": "internal", "message": str(exc)}}, status=500)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body[: response.truncate_at])
            if response.truncate_at is not None:
                self.close_connection = True

        do_GET = do_POST = do_DELETE = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


class LoopbackServer:
    """Serve ``app`` on 127.0.0.1 (ephemeral port by default) from a daemon thread."""

    def __init__(self, app: App, *, host: str = "127.0.0.1", port: int = 0):
        self._server = ThreadingHTTPServer((host, port), _handler_for(app))
        self._server.daemon_threads = True
        # A short poll keeps stop() fast; shutdown() waits for the loop to notice.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="loopback-http",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # bound AF_INET: getsockname() names the host as str, never bytes
        return f"http://{host}:{port}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


Route = tuple[str, str, Callable[[Request, str], Response]]
"""(service, path prefix, handler): the handler gets the request and the path below the prefix."""


class MultiServiceServer:
    """Several APIs on one loopback port, each under its own path prefix; counts requests per service.

    Subclasses list their ``routes()`` and answer what no route matches in ``unrouted``; a context manager.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._server = LoopbackServer(self._app)
        self._started = False

    def routes(self) -> Sequence[Route]:
        raise NotImplementedError

    def unrouted(self, req: Request) -> Response:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def request_counts(self) -> dict[str, int]:
        """Requests served so far by service, and ``unknown`` for those no route matched."""
        with self._lock:
            return dict(self._counts)

    def start(self) -> Self:
        with self._lock:
            if not self._started:
                self._server.start()
                self._started = True
        return self

    def stop(self) -> None:
        with self._lock:
            if self._started:
                self._server.stop()
                self._started = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _count(self, service: str) -> None:
        with self._lock:
            self._counts[service] += 1

    def _app(self, req: Request) -> Response:
        for service, prefix, serve in self.routes():
            if req.path.startswith(prefix + "/"):
                self._count(service)
                return serve(req, req.path.removeprefix(prefix))
        self._count("unknown")
        return self.unrouted(req)
