"""A scriptable HTTP server on 127.0.0.1 that speaks the LibreTranslate API.

Network translation engines cannot be reached from the test machine, so their
code paths (deep-translator's real HTTP client, our retries, deadlines and
circuit breaker) are exercised against this server instead.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def libre_translation(request: Request) -> Reply:
    """The default LibreTranslate behaviour: a recognisable 'translation'."""
    if request.path.endswith("/languages"):
        return Reply(body=[{"code": "en", "name": "English"}, {"code": "es", "name": "Spanish"}])
    return Reply(body={"translatedText": f"ES:{request.params.get('q', '')}"})


class FakeServer:
    """A scriptable HTTP server; ``replies`` are served first, then ``default``."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.replies: list[Reply] = []
        self.default: Callable[[Request], Reply] = libre_translation
        self.release = threading.Event()  # ends every pending delay at teardown
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    @property
    def hits(self) -> int:
        return len([r for r in self.requests if not r.path.endswith("/languages")])

    def reply(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            reply = self.replies.pop(0) if self.replies else None
        return reply or self.default(request)

    def done(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body: Any = raw
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw)
                elif raw:
                    params.update({k: v[0] for k, v in parse_qs(raw).items()})
                request = Request(self.command, parts.path, params, body, dict(self.headers))
                reply = server.reply(request)
                try:
                    if reply.delay:
                        server.release.wait(reply.delay)
                    payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                    data = payload.encode()
                    self.send_response(reply.status)
                    kind = "text/html" if isinstance(reply.body, str) else "application/json"
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout): expected in hang tests
                finally:
                    server.done()

        return Handler


class Sleeps(list[float]):
    """Injected sleep: records the delays, waits only a token amount."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(0.001)


