"""Owns the preview server (``syndicate serve``): the target over HTTP on 127.0.0.1.

A small :class:`http.server.ThreadingHTTPServer` for checking a published
directory with a real feed reader or browser before it goes live.  It behaves
like the static web server the target is meant for:

* the feed media types (``rss.xml`` -> ``application/rss+xml``, ``atom.xml``
  -> ``application/atom+xml``, ``feed.json`` -> ``application/feed+json``,
  ``*.opml`` -> ``text/x-opml``, ``*.html`` -> ``text/html``), UTF-8;
* a strong ``ETag`` (sha256 of the bytes sent) and ``Last-Modified``;
  ``If-None-Match`` / ``If-Modified-Since`` give ``304 Not Modified``;
* ``Accept-Encoding: gzip`` gives a gzip body (its own ETag) with
  ``Vary: Accept-Encoding``;
* ``GET`` and ``HEAD``; a directory serves its ``index.html``.

It never serves anything outside the directory (``..``, encoded or not,
symlinks leading out), nor hidden paths such as the tool's own
``.syndicate/`` (lock, manifest, status): those are 404.  It listens on the
loopback interface only and logs requests to stderr only when asked.
"""

from __future__ import annotations

import email.utils
import functools
import gzip
import hashlib
import http
import ipaddress
import os
import socket
import stat
import sys
from datetime import UTC
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from syndicate.errors import ConfigError
from syndicate.formats import FORMATS

DEFAULT_PORT = 8000
LOOPBACK = "127.0.0.1"

# By file name first, then by suffix; every text type is UTF-8.
MEDIA_TYPES_BY_NAME = {f.filename: f"{f.media_type}; charset=utf-8" for f in FORMATS}  # feeds: syndicate.formats
MEDIA_TYPES_BY_SUFFIX = {
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/vnd.microsoft.icon",
}
DEFAULT_MEDIA_TYPE = "application/octet-stream"
_COMPRESSIBLE = (
    "text/",
    *(f.media_type for f in FORMATS),
    "application/xml",
    "application/json",
    "image/svg+xml",
)


def media_type(name: str) -> str:
    """The Content-Type the preview server sends for a file called ``name``."""
    lower = name.lower()
    if lower in MEDIA_TYPES_BY_NAME:
        return MEDIA_TYPES_BY_NAME[lower]
    return MEDIA_TYPES_BY_SUFFIX.get(os.path.splitext(lower)[1], DEFAULT_MEDIA_TYPE)


class PreviewHandler(SimpleHTTPRequestHandler):
    """GET/HEAD of the files under ``directory``; see the module docstring."""

    server_version = "syndicate-preview"
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection is closed after this many seconds

    def __init__(self, *args: Any, directory: str, verbose: bool = False, **kwargs: Any) -> None:
        self.verbose = verbose
        super().__init__(*args, directory=directory, **kwargs)

    def version_string(self) -> str:
        return self.server_version

    # -- methods --------------------------------------------------------------

    def do_GET(self) -> None:
        self._respond(body=True)

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def _respond(self, *, body: bool) -> None:
        target = self._resolve()
        if target is None:
            self._not_found(body)
            return
        if isinstance(target, str):  # a directory asked for without its trailing slash
            self._redirect(target, body)
            return
        try:
            data, st = _read(target)
        except OSError:
            self._not_found(body)
            return
        ctype = media_type(target.name)
        digest = hashlib.sha256(data).hexdigest()[:32]
        compressible = ctype.startswith(_COMPRESSIBLE)
        gzipped = compressible and _accepts_gzip(self.headers.get("Accept-Encoding", ""))
        etag = f'"{digest}-gz"' if gzipped else f'"{digest}"'
        last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        headers = [("ETag", etag), ("Last-Modified", last_modified), ("Cache-Control", "no-cache")]
        if compressible:
            headers.append(("Vary", "Accept-Encoding"))
        if self._not_modified(etag, int(st.st_mtime)):
            self.send_response(http.HTTPStatus.NOT_MODIFIED)
            for key, value in headers:
                self.send_header(key, value)
            self.end_headers()
            return
        if gzipped:
            data = gzip.compress(data, mtime=0)  # mtime=0: the same bytes always give the same body
            headers.append(("Content-Encoding", "gzip"))
        self.send_response(http.HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    # -- paths ----------------------------------------------------------------

    def _resolve(self) -> Path | str | None:
        """The file to serve; a redirect location (str) for a directory without '/'; None: 404."""
        raw = urlsplit(self.path).path
        try:
            segments = [unquote(part, errors="strict") for part in raw.split("/")]
        except UnicodeDecodeError:
            return None
        if any(_unsafe_segment(s) for s in segments):
            return None
        root = Path(self.directory)
        real = _inside(root, root.joinpath(*(s for s in segments if s)))
        if real is not None and real.is_dir():
            if not raw.endswith("/"):
                return raw + "/"
            real = _inside(root, real / "index.html")
        elif raw.endswith("/"):
            return None  # a file is not a directory: "/en/rss.xml/" would break relative links
        return real if real is not None and real.is_file() else None

    # -- conditional requests -------------------------------------------------

    def _not_modified(self, etag: str, mtime: int) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:  # RFC 9110 13.1.2: If-Modified-Since is then ignored
            tags = [t.strip() for t in match.split(",")]
            return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return mtime <= int(when.timestamp())

    # -- other responses ------------------------------------------------------

    def _not_found(self, body: bool) -> None:
        self._short(http.HTTPStatus.NOT_FOUND, b"404 Not Found\n", body)

    def _redirect(self, location: str, body: bool) -> None:
        query = urlsplit(self.path).query
        self._short(
            http.HTTPStatus.MOVED_PERMANENTLY,
            b"301 Moved Permanently\n",
            body,
            location + (f"?{query}" if query else ""),
        )

    def _short(self, status: http.HTTPStatus, text: bytes, body: bool, location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.send_header("X-Content-Type-Options", "nosniff")
        if location is not None:
            self.send_header("Location", location)
        self.end_headers()
        if body:
            self.wfile.write(text)

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            sys.stderr.write(f"syndicate serve: {self.address_string()} {format % args}\n")


def _unsafe_segment(segment: str) -> bool:
    """'..', '.', hidden names, and anything that decodes to a separator or NUL."""
    return segment.startswith(".") or any(c in segment for c in "/\\\0")


def _inside(root: Path, candidate: Path) -> Path | None:
    """``candidate`` with symlinks resolved, if it exists inside ``root`` and is not hidden there."""
    try:
        real = candidate.resolve(strict=True)
        inside = real.relative_to(root)
    except (OSError, ValueError, RuntimeError):
        return None  # missing, a symlink loop, or a symlink leading out of the directory
    if any(part.startswith(".") for part in inside.parts):
        return None  # e.g. a symlink into .syndicate/
    return real


def _read(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes and the stat of the very file read (it may be replaced meanwhile)."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(str(path))
        return fh.read(), st


def _accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (``gzip``, ``x-gzip`` or ``*`` with q > 0)."""
    ranked: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name.strip():
            ranked[name.strip().lower()] = quality
    for name in ("gzip", "x-gzip"):
        if name in ranked:
            return ranked[name] > 0
    return ranked.get("*", 0.0) > 0


class _PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _PreviewServer6(_PreviewServer):
    address_family = socket.AF_INET6


def make_server(
    directory: Path, port: int = DEFAULT_PORT, host: str = LOOPBACK, *, verbose: bool = False
) -> ThreadingHTTPServer:
    """A server for ``directory`` bound to ``host:port`` (port 0: any free port); not started.

    Raises :class:`ConfigError` when the directory does not exist, the host is
    not a loopback address, or the port cannot be bound.
    """
    if not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory (publish into it first: syndicate publish --out {directory})")
    try:
        address = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
    except ValueError:
        raise ConfigError(f"invalid host {host!r}: use 127.0.0.1 (the preview server is local only)") from None
    if not address.is_loopback:
        raise ConfigError(f"refusing to serve on {host}: the preview server listens on the loopback interface only")
    handler = functools.partial(PreviewHandler, directory=str(directory.resolve()), verbose=verbose)
    server_class = _PreviewServer6 if address.version == 6 else _PreviewServer
    try:
        return server_class((str(address), port), handler)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {address}:{port}: {exc.strerror or exc}") from None


def server_url(server: ThreadingHTTPServer) -> str:
    """``http://127.0.0.1:<port>/`` of a bound server."""
    host, port = server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else str(host)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve_forever(directory: Path, port: int = DEFAULT_PORT, *, verbose: bool = False) -> None:
    """Serve ``directory`` until Ctrl-C; prints the URL first."""
    server = make_server(directory, port, verbose=verbose)
    try:
        print(f"serving {directory} at {server_url(server)} (Ctrl-C stops)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()
