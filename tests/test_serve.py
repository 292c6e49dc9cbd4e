"""``syndicate serve``: the preview server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import email.utils
import gzip
import http.client
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from syndicate.config import load_config
from syndicate.errors import ConfigError
from syndicate.pipeline import publish_site
from syndicate.serve import make_server, server_url
from tests.test_ops import write_config

ROOT = Path(__file__).resolve().parent.parent

HTML = "text/html; charset=utf-8"
MEDIA_TYPES = {
    "/": HTML,
    "/index.html": HTML,
    "/feeds.opml": "text/x-opml; charset=utf-8",
    "/en/": HTML,
    "/en/index.html": HTML,
    "/en/rss.xml": "application/rss+xml; charset=utf-8",
    "/en/atom.xml": "application/atom+xml; charset=utf-8",
    "/en/feed.json": "application/feed+json; charset=utf-8",
    "/en/articles/{article}": HTML,
}


@dataclass
class Served:
    root: Path
    port: int
    article: str  # the name of one article page

    def file(self, path: str) -> Path:
        rel = path.format(article=self.article).lstrip("/")
        target = self.root / rel
        return target / "index.html" if rel == "" or rel.endswith("/") else target


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("serve")
    root = base / "feeds"
    shutil.copytree(ROOT / "seeds", base / "seeds")
    publish_site(load_config(write_config(base)).with_overrides(target=root))
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0:secret\n")
    (root / "secret-link.txt").symlink_to(outside / "secret.txt")
    (root / "outside-dir").symlink_to(outside)
    (root / "status-link.json").symlink_to(root / ".syndicate" / "status.json")
    (root / "en-link").symlink_to(root / "en")  # a symlink that stays inside is fine
    article = sorted((root / "en" / "articles").iterdir())[0].name
    server = make_server(root, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(root, server.server_address[1], article)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def request(served: Served, path: str, method: str = "GET", **headers: str) -> Response:
    """Send ``path`` exactly as given (no client-side normalization of '..')."""
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        conn.putrequest(method, path.format(article=served.article), skip_accept_encoding=True)
        for key, value in headers.items():
            conn.putheader(key.replace("_", "-"), value)
        conn.endheaders()
        response = conn.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        conn.close()


# -- what is served -----------------------------------------------------------


@pytest.mark.parametrize("path", sorted(MEDIA_TYPES))
def test_media_types_and_bytes(served: Served, path: str) -> None:
    response = request(served, path)
    assert response.status == 200
    assert response.headers["Content-Type"] == MEDIA_TYPES[path]
    data = served.file(path).read_bytes()
    assert response.body == data
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Content-Encoding"] is None
    print(f"media types: {len(MEDIA_TYPES)} kinds of path checked")


def test_etag_and_last_modified(served: Served) -> None:
    response = request(served, "/en/rss.xml")
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    mtime = (served.root / "en" / "rss.xml").stat().st_mtime
    assert response.headers["Last-Modified"] == email.utils.formatdate(mtime, usegmt=True)
    assert request(served, "/en/rss.xml").headers["ETag"] == etag  # stable
    assert request(served, "/en/atom.xml").headers["ETag"] != etag


def test_if_none_match_gives_304_without_body(served: Served) -> None:
    etag = request(served, "/en/feed.json").headers["ETag"]
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        response = request(served, "/en/feed.json", If_None_Match=header)
        assert response.status == 304, header
        assert response.body == b""
        assert response.headers["ETag"] == etag
        assert response.headers["Content-Length"] is None
    assert request(served, "/en/feed.json", If_None_Match='"stale"').status == 200


def test_if_modified_since_gives_304(served: Served) -> None:
    last_modified = request(served, "/feeds.opml").headers["Last-Modified"]
    response = request(served, "/feeds.opml", If_Modified_Since=last_modified)
    assert response.status == 304 and response.body == b""
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    assert request(served, "/feeds.opml", If_Modified_Since=later).status == 304
    earlier = email.utils.formatdate(0, usegmt=True)
    assert request(served, "/feeds.opml", If_Modified_Since=earlier).status == 200
    assert request(served, "/feeds.opml", If_Modified_Since="yesterday").status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3).
    assert request(served, "/feeds.opml", If_None_Match='"stale"', If_Modified_Since=last_modified).status == 200


def test_gzip_when_asked(served: Served) -> None:
    plain = request(served, "/en/atom.xml")
    zipped = request(served, "/en/atom.xml", Accept_Encoding="br;q=1.0, gzip;q=0.8")
    assert zipped.status == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding" and plain.headers["Vary"] == "Accept-Encoding"
    assert zipped.headers["Content-Type"] == plain.headers["Content-Type"]
    assert gzip.decompress(zipped.body) == (served.root / "en" / "atom.xml").read_bytes()
    assert len(zipped.body) < len(plain.body)
    assert zipped.headers["Content-Length"] == str(len(zipped.body))
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    again = request(served, "/en/atom.xml", Accept_Encoding="gzip", If_None_Match=zipped.headers["ETag"])
    assert again.status == 304 and again.headers["ETag"] == zipped.headers["ETag"]
    # The identity variant's ETag does not validate the gzip variant, nor the other way round.
    assert request(served, "/en/atom.xml", Accept_Encoding="gzip", If_None_Match=plain.headers["ETag"]).status == 200
    assert request(served, "/en/atom.xml", If_None_Match=zipped.headers["ETag"]).status == 200
    for refused in ("gzip;q=0", "identity", "br"):
        assert request(served, "/en/atom.xml", Accept_Encoding=refused).headers["Content-Encoding"] is None


def test_head(served: Served) -> None:
    get = request(served, "/en/rss.xml")
    head = request(served, "/en/rss.xml", "HEAD")
    assert head.status == 200 and head.body == b""
    for key in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Vary"):
        assert head.headers[key] == get.headers[key], key
    assert request(served, "/nope.xml", "HEAD").status == 404


def test_directories(served: Served) -> None:
    response = request(served, "/en")
    assert response.status == 301 and response.headers["Location"] == "/en/"
    assert request(served, "/en?x=1").headers["Location"] == "/en/?x=1"
    assert request(served, "/en/articles/").status == 404  # no index.html: no listing either
    assert request(served, "/en-link/rss.xml").body == (served.root / "en" / "rss.xml").read_bytes()


NOT_FOUND = [
    "/.syndicate/status.json",
    "/.syndicate/manifest.json",
    "/.syndicate/lock",
    "/.syndicate/",
    "/.syndicate",
    "/%2esyndicate/status.json",
    "/en/../.syndicate/status.json",
    "/status-link.json",
    "/../etc/passwd",
    "/../../../../etc/passwd",
    "/en/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/en/..%2f..%2f..%2fetc%2fpasswd",
    "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/..%5c..%5cetc%5cpasswd",
    "//etc/passwd",
    "/etc/passwd",
    "/secret-link.txt",
    "/outside-dir/secret.txt",
    "/outside-dir/",
    "/en/rss.xml%00.html",
    "/%ff%fe",
    "/nope.html",
    "/en/articles/nope.html",
    "/en/rss.xml/",
]


@pytest.mark.parametrize("path", NOT_FOUND)
def test_never_outside_the_directory_nor_its_state(served: Served, path: str) -> None:
    response = request(served, path)
    assert response.status == 404, (path, response.status, response.body[:80])
    assert b"root:" not in response.body and b'"outcome"' not in response.body
    print(f"traversal: {len(NOT_FOUND)} paths refused")


def test_other_methods_are_refused(served: Served) -> None:
    assert request(served, "/en/rss.xml", "POST").status == 501
    assert request(served, "/en/rss.xml", "PUT").status == 501


def test_a_republished_file_gets_a_new_etag(tmp_path: Path) -> None:
    (tmp_path / "feed.json").write_text('{"v": 1}')
    server = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        where = Served(tmp_path, server.server_address[1], "")
        first = request(where, "/feed.json")
        new = tmp_path / "new.json"
        new.write_text('{"v": 2}')
        os.replace(new, tmp_path / "feed.json")
        second = request(where, "/feed.json", If_None_Match=first.headers["ETag"])
        assert second.status == 200 and second.body == b'{"v": 2}'
        assert second.headers["ETag"] != first.headers["ETag"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- ranges ------------------------------------------------------------------


def test_a_byte_range_gives_206_with_those_bytes(served: Served) -> None:
    whole = served.file("/en/rss.xml").read_bytes()
    response = request(served, "/en/rss.xml", Range="bytes=0-99", Accept_Encoding="gzip")
    assert response.status == 206
    assert response.body == whole[:100]
    assert response.headers["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert response.headers["Content-Length"] == "100" and "Content-Encoding" not in response.headers
    tail = request(served, "/en/rss.xml", Range="bytes=-10")
    assert (tail.status, tail.body) == (206, whole[-10:])
    rest = request(served, "/en/rss.xml", Range=f"bytes={len(whole) - 5}-")
    assert (rest.status, rest.body) == (206, whole[-5:])
    beyond = request(served, "/en/rss.xml", Range=f"bytes=10-{len(whole) + 1000}")
    assert (beyond.status, beyond.body) == (206, whole[10:])


def test_an_unsatisfiable_range_gives_416(served: Served) -> None:
    size = served.file("/en/rss.xml").stat().st_size
    response = request(served, "/en/rss.xml", Range=f"bytes={size}-")
    assert response.status == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=5-2", "bytes=0-1,5-9", "pages=1-2", "bytes=-"])
def test_an_invalid_or_multiple_range_is_ignored(served: Served, header: str) -> None:
    response = request(served, "/en/rss.xml", Range=header)
    assert response.status == 200 and response.body == served.file("/en/rss.xml").read_bytes()


def test_if_range_with_an_old_etag_sends_everything(served: Served) -> None:
    whole = served.file("/en/rss.xml").read_bytes()
    etag = request(served, "/en/rss.xml").headers["ETag"]
    assert request(served, "/en/rss.xml", Range="bytes=0-9", If_Range=etag).status == 206
    response = request(served, "/en/rss.xml", Range="bytes=0-9", If_Range='"old"')
    assert (response.status, response.body) == (200, whole)


# -- make_server and serve_forever -------------------------------------------


def test_bound_to_loopback_by_default(tmp_path: Path) -> None:
    server = make_server(tmp_path, port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
        assert server_url(server) == f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.server_close()
    with pytest.raises(ConfigError, match=r"invalid address 'example\.org'"):
        make_server(tmp_path, port=0, host="example.org")


def test_a_non_local_bind_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server = make_server(tmp_path, port=0, host="0.0.0.0")
    try:
        assert server.server_address[0] == "0.0.0.0"
        assert server_url(server).startswith("http://127.0.0.1:")  # links a browser here can follow
    finally:
        server.server_close()
    assert "serving on 0.0.0.0, not a loopback address" in caplog.text
    caplog.clear()
    make_server(tmp_path, port=0, host="127.0.0.2").server_close()
    assert caplog.text == ""


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2) to read the listen backlog")
def test_a_real_listen_backlog(tmp_path: Path) -> None:
    server = make_server(tmp_path, port=0)
    try:
        port = server.server_address[1]
        shown = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True)
        _recv_q, send_q = shown.stdout.split()[1:3]  # for a listening socket Send-Q is the backlog
        assert int(send_q) >= 128
    finally:
        server.server_close()


def test_many_concurrent_requests_are_all_answered(served: Served) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def fetch() -> None:
        status = request(served, "/en/rss.xml").status
        with lock:
            results.append(status)

    threads = [threading.Thread(target=fetch) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [200] * 100


def test_missing_directory_and_busy_port(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        make_server(tmp_path / "nope", port=0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}: "):
            make_server(tmp_path, port=port)
