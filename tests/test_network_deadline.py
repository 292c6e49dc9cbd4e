"""A total deadline per request (issue 12 item 9): a server on 127.0.0.1 that trickles
its answer one byte at a time never holds a request past ``timeout``.

Per-read socket timeouts cannot see such a server (every read gets a byte in
time); the batch deadline is set far away here so that only the per-request
deadline can end the request.  Bounds keep well over 5x slack (no speed asserts).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from syndicate.config import TranslationOptions
from syndicate.translate.providers.web import web_provider
from tests.libre_server import Sleeps

TIMEOUT = 1.0
SLACK_BOUND = 20.0  # seconds; the trickle below would take minutes


class Trickler:
    """Answers every HTTP request by sending its bytes ``interval`` seconds apart."""

    def __init__(self, *, headers_first: bool, interval: float = 0.5) -> None:
        self.headers_first = headers_first
        self.interval = interval
        self.stop = threading.Event()
        self.requests = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        self.requests += 1
        body = json.dumps({"translatedText": "ES: " + "x" * 300}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        with conn:
            conn.settimeout(0.5)
            try:
                conn.recv(65536)
                if self.headers_first:
                    conn.sendall(head)
                    payload = body
                else:
                    payload = head + body
                for index in range(len(payload)):
                    if self.stop.wait(self.interval):
                        return
                    conn.sendall(payload[index : index + 1])
            except OSError:
                return  # the client cut the connection: what the deadline is for

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.fixture(params=[False, True], ids=["trickled-status-line", "trickled-body"])
def trickler(request: pytest.FixtureRequest) -> Iterator[Trickler]:
    server = Trickler(headers_first=request.param)
    yield server
    server.close()


def test_a_trickling_server_is_cut_at_the_total_deadline(trickler: Trickler) -> None:
    options = replace(
        TranslationOptions(),
        timeout=TIMEOUT,
        retries=0,
        settings=(("libre", (("deadline", "600"), ("url", trickler.url))),),  # batch backstop far away
    )
    provider = web_provider("libre", options, environ={}, sleep=Sleeps(), jitter=lambda: 0.0)
    started = time.monotonic()
    result = provider.translate_batch(["Six hours of talks."], "en", "es")
    elapsed = time.monotonic() - started
    assert result == [None]  # no answer, and certainly no partial one
    assert trickler.requests == 1
    assert elapsed < SLACK_BOUND  # ~1 s expected; a per-read timeout alone would take minutes


def test_the_deadline_covers_retries_of_a_trickling_server(trickler: Trickler) -> None:
    options = replace(
        TranslationOptions(),
        timeout=TIMEOUT,
        retries=2,
        settings=(("libre", (("deadline", "600"), ("url", trickler.url))),),
    )
    provider = web_provider("libre", options, environ={}, sleep=Sleeps(), jitter=lambda: 0.0)
    started = time.monotonic()
    assert provider.translate_batch(["Six hours of talks."], "en", "es") == [None]
    assert trickler.requests == 3  # a cut request is retried like any timeout
    assert time.monotonic() - started < 3 * SLACK_BOUND
