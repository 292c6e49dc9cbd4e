"""Owns the preview server (``syndicate serve``): a local build of the site over HTTP.

:class:`Preview` builds the article set into a private temporary directory
with ``site.url`` rewritten to the server's own address (so every link stays
on the preview), polls what a publish reads (the sources as their own listing
sees them, directory symlinks inside the roots included; the config file; the
theme directory), rebuilds when one changes (the normal incremental publish: unchanged files
are not rewritten, translations come from the cache) and tells open pages to
reload through server-sent events.  The published target is never touched.

The HTTP side is a small :class:`http.server.ThreadingHTTPServer` that
behaves like the static web server the target is meant for:

* the feed media types (``rss.xml`` -> ``application/rss+xml``, ``atom.xml``
  -> ``application/atom+xml``, ``feed.json`` -> ``application/feed+json``,
  ``*.opml`` -> ``text/x-opml``, ``*.html`` -> ``text/html``), UTF-8;
* a strong ``ETag`` (sha256 of the bytes sent) and ``Last-Modified``;
  ``If-None-Match`` / ``If-Modified-Since`` give ``304 Not Modified``;
* ``Accept-Encoding: gzip`` gives a gzip body (its own ETag) with
  ``Vary: Accept-Encoding``;
* single ``Range`` requests (``206 Partial Content``, ``416`` when
  unsatisfiable, ``If-Range`` honoured);
* ``GET`` and ``HEAD``; a directory serves its ``index.html``;
* a listen backlog of 128, one thread per connection.

In preview mode, and only there, HTML pages get a small script before
``</body>`` that listens on ``/_syndicate/events`` and reloads the page after
a rebuild; the files on disk never contain it.

It never serves anything outside the directory (``..``, encoded or not,
symlinks leading out), nor hidden paths such as the tool's own
``.syndicate/`` (lock, manifest, status): those are 404.  It listens on
127.0.0.1 unless told otherwise (``--bind``, with a warning when the address
is not a loopback one) and logs requests to stderr only when asked.
"""

from __future__ import annotations

import dataclasses
import email.utils
import functools
import gzip
import hashlib
import http
import ipaddress
import logging
import os
import re
import shutil
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from syndicate.errors import ConfigError, SyndicateError
from syndicate.formats import FORMATS

if TYPE_CHECKING:
    from syndicate.config import Config, SourceOptions
    from syndicate.pipeline import RunSummary

log = logging.getLogger("syndicate")

DEFAULT_PORT = 8000
LOOPBACK = "127.0.0.1"
LISTEN_BACKLOG = 128
EVENTS_PATH = "/_syndicate/events"
# A poll lists the sources as a publish does (about 25 us a file); polls are spaced at least this
# many times their own cost apart, so watching a large site takes at most a tenth of a core.
WATCH_COST_FACTOR = 10
KEEPALIVE_SECONDS = 15.0  # an idle event stream gets a comment this often (proxies close silent ones)
RELOAD_SCRIPT = (
    "<script>/* syndicate serve: reload after a rebuild (preview only, never published) */\n"
    f'new EventSource("{EVENTS_PATH}").addEventListener("reload", function () {{ location.reload(); }});\n'
    "</script>\n"
).encode()
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")

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


class Reloader:
    """Counts rebuilds; every event-stream client waits for the next one."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.generation = 0
        self.closed = False

    def notify(self) -> None:
        with self._condition:
            self.generation += 1
            self._condition.notify_all()

    def close(self) -> None:
        with self._condition:
            self.closed = True
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int | None:
        """The generation after ``seen`` (or ``seen`` again on timeout); None once closed."""
        with self._condition:
            self._condition.wait_for(lambda: self.generation != seen or self.closed, timeout)
            return None if self.closed else self.generation


class PreviewHandler(SimpleHTTPRequestHandler):
    """GET/HEAD of the files under ``directory``; see the module docstring."""

    server_version = "syndicate-preview"
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection is closed after this many seconds

    def __init__(
        self, *args: Any, directory: str, verbose: bool = False, reloader: Reloader | None = None, **kwargs: Any
    ) -> None:
        self.verbose = verbose
        self.reloader = reloader
        super().__init__(*args, directory=directory, **kwargs)

    def version_string(self) -> str:
        return self.server_version

    # -- methods --------------------------------------------------------------

    def do_GET(self) -> None:
        self._respond(body=True)

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def _respond(self, *, body: bool) -> None:
        if self.reloader is not None and urlsplit(self.path).path == EVENTS_PATH:
            self._events(body)
            return
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
        if self.reloader is not None and ctype.startswith("text/html"):
            data = inject_reload_script(data)
        digest = hashlib.sha256(data).hexdigest()[:32]
        compressible = ctype.startswith(_COMPRESSIBLE)
        wanted = self._range(f'"{digest}"', len(data))
        gzipped = wanted is None and compressible and _accepts_gzip(self.headers.get("Accept-Encoding", ""))
        etag = f'"{digest}-gz"' if gzipped else f'"{digest}"'
        last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        headers = [
            ("ETag", etag),
            ("Last-Modified", last_modified),
            ("Cache-Control", "no-cache"),
            ("Accept-Ranges", "bytes"),
        ]
        if compressible:
            headers.append(("Vary", "Accept-Encoding"))
        if self._not_modified(etag, int(st.st_mtime)):
            self.send_response(http.HTTPStatus.NOT_MODIFIED)
            for key, value in headers:
                self.send_header(key, value)
            self.end_headers()
            return
        status = http.HTTPStatus.OK
        if wanted == "unsatisfiable":
            self._short(
                http.HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                b"416 Range Not Satisfiable\n",
                body,
                extra=[("Content-Range", f"bytes */{len(data)}")],
            )
            return
        if isinstance(wanted, tuple):
            first, last = wanted
            headers.append(("Content-Range", f"bytes {first}-{last}/{len(data)}"))
            data = data[first : last + 1]
            status = http.HTTPStatus.PARTIAL_CONTENT
        if gzipped:
            data = gzip.compress(data, mtime=0)  # mtime=0: the same bytes always give the same body
            headers.append(("Content-Encoding", "gzip"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _range(self, etag: str, size: int) -> tuple[int, int] | str | None:
        """The byte range asked for (first, last), "unsatisfiable", or None: send it all.

        One range only; a multi-range or malformed header is ignored (RFC 9110
        14.2 allows that), as is a Range whose If-Range names another version.
        """
        header = self.headers.get("Range")
        if header is None:
            return None
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range.strip() != etag:
            return None
        match = _RANGE_RE.fullmatch(header.strip())
        if match is None or match.group(1) == match.group(2) == "":
            return None
        start, end = match.groups()
        if start == "":  # the last N bytes
            count = int(end)
            if count == 0 or size == 0:
                return "unsatisfiable"
            return max(0, size - count), size - 1
        first = int(start)
        last = size - 1 if end == "" else min(int(end), size - 1)
        if end != "" and int(end) < first:
            return None  # an invalid range is ignored
        if first >= size:
            return "unsatisfiable"
        return first, last

    # -- live reload -----------------------------------------------------------

    def _events(self, body: bool) -> None:
        """A server-sent event stream: one ``reload`` event after each rebuild."""
        assert self.reloader is not None
        self.close_connection = True  # the stream ends when the connection does
        self.send_response(http.HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        if not body:
            return
        seen = self.reloader.generation
        try:
            self.wfile.write(b"retry: 1000\n: connected\n\n")
            self.wfile.flush()
            while True:
                current = self.reloader.wait(seen, KEEPALIVE_SECONDS)
                if current is None:
                    return
                if current == seen:
                    self.wfile.write(b": keep-alive\n\n")
                else:
                    self.wfile.write(f"event: reload\ndata: {current}\n\n".encode())
                    seen = current
                self.wfile.flush()
        except OSError:  # the page went away
            return

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

    def _short(
        self,
        status: http.HTTPStatus,
        text: bytes,
        body: bool,
        location: str | None = None,
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.send_header("X-Content-Type-Options", "nosniff")
        if location is not None:
            self.send_header("Location", location)
        for key, value in extra:
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(text)

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            sys.stderr.write(f"syndicate serve: {self.address_string()} {format % args}\n")


def inject_reload_script(page: bytes) -> bytes:
    """``page`` with the live-reload script before its last ``</body>`` (or at the end)."""
    at = page.lower().rfind(b"</body>")
    return page + RELOAD_SCRIPT if at < 0 else page[:at] + RELOAD_SCRIPT + page[at:]


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
    request_queue_size = LISTEN_BACKLOG  # http.server's default of 5 refuses a burst of page loads


class _PreviewServer6(_PreviewServer):
    address_family = socket.AF_INET6


def make_server(
    directory: Path,
    port: int = DEFAULT_PORT,
    host: str = LOOPBACK,
    *,
    verbose: bool = False,
    reloader: Reloader | None = None,
) -> ThreadingHTTPServer:
    """A server for ``directory`` bound to ``host:port`` (port 0: any free port); not started.

    ``host`` is an IP address (or ``localhost``); one that is not a loopback
    address is allowed with a warning, since it shows the preview to the
    network.  With a ``reloader``, HTML pages get the live-reload script.
    Raises :class:`ConfigError` when the directory does not exist, the host is
    not an IP address, or the port cannot be bound.
    """
    if not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory (publish into it first: syndicate publish --out {directory})")
    try:
        address = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
    except ValueError:
        raise ConfigError(f"invalid address {host!r}: give an IP address such as 127.0.0.1") from None
    if not address.is_loopback:
        log.warning("serving on %s, not a loopback address: other machines can see this preview", address)
    handler = functools.partial(
        PreviewHandler, directory=str(directory.resolve()), verbose=verbose, reloader=reloader
    )
    server_class = _PreviewServer6 if address.version == 6 else _PreviewServer
    try:
        return server_class((str(address), port), handler)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {address}:{port}: {exc.strerror or exc}") from None


def server_url(server: ThreadingHTTPServer) -> str:
    """``http://127.0.0.1:<port>/`` of a bound server (a wildcard address shows as loopback)."""
    host, port = server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else str(host)
    if ipaddress.ip_address(host).is_unspecified:
        host = LOOPBACK if ":" not in host else "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


# -- preview ------------------------------------------------------------------

Snapshot = tuple[tuple[str, int, int], ...]


@dataclasses.dataclass(frozen=True)
class Watched:
    """What a publish of the site reads: the sources, the config file, the theme directory."""

    sources: SourceOptions | None = None
    config: Path | None = None
    theme: Path | None = None


def snapshot(watched: Watched) -> Snapshot:
    """(path, size, mtime_ns) of every file a publish reads, as its run fingerprint sees them.

    The sources are listed by :func:`syndicate.sources.list_inputs`, the very
    listing a publish reads (input files and the images beside them, directory
    symlinks inside the roots followed, loops cut, hidden names skipped): a
    file edited under a linked directory is a change, a file the publish
    skips is not.  A missing file or root shows as ``(path, -1, -1)``.
    """
    from syndicate.incremental import input_stats
    from syndicate.render.theme import theme_stamp
    from syndicate.sources import list_inputs

    found: list[tuple[str, int, int]] = []
    if watched.sources is not None:
        found += input_stats(list_inputs(watched.sources))
    if watched.config is not None:
        found.append(_stamp(watched.config))
    if watched.theme is not None:
        found += theme_stamp(watched.theme)
    return tuple(found)


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return str(path), -1, -1
    return str(path), st.st_size, st.st_mtime_ns


class Preview:
    """A private build of the site, served with live reload; rebuilt when its inputs change.

    ``load`` returns the site's Config as the user gave it (config file plus
    command-line options): it is called again after each change, so an edited
    config takes effect.  ``config_path`` is watched too.  ``report`` gets one
    line per build (its outcome and time) or per failed build (the error).
    """

    def __init__(
        self,
        load: Callable[[], Config],
        *,
        config_path: Path | None = None,
        drafts: bool = False,
        host: str = LOOPBACK,
        port: int = DEFAULT_PORT,
        verbose: bool = False,
        interval: float = 0.5,
        report: Callable[[str], None] = lambda _line: None,
    ) -> None:
        self.load = load
        self.report = report
        self.config_path = config_path
        self.drafts = drafts
        self.interval = interval
        self.directory = Path(tempfile.mkdtemp(prefix="syndicate-preview-"))
        self.reloader = Reloader()
        try:
            self.server = make_server(self.directory, port, host, verbose=verbose, reloader=self.reloader)
        except SyndicateError:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        self.url = server_url(self.server)
        self.builds = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watched = Watched(config=config_path)
        self._seen: Snapshot = ()
        self._pause = interval

    def config(self) -> Config:
        """The user's config pointed at the preview: local URL, private target, drafts if asked."""
        from syndicate.config import WebSubOptions

        config = self.load().with_overrides(base_url=self.url, target=self.directory)
        return dataclasses.replace(
            config,
            sources=dataclasses.replace(config.sources, drafts=self.drafts),
            site=dataclasses.replace(config.site, hubs=()),  # a preview never tells WebSub hubs anything
            websub=WebSubOptions(),
        )

    def build(self) -> RunSummary | None:
        """Publish into the preview directory; on an error, report it and keep the last build."""
        from syndicate.pipeline import publish_site

        started = time.monotonic()
        try:
            config = self.config()
        except SyndicateError as exc:  # e.g. a config being edited: watch it (and what we watched) until it is fixed
            self._seen = snapshot(self._watched)
            self.report(f"syndicate: error: {exc}")
            return None
        self._watched = Watched(config.sources, self.config_path, config.theme)
        self._seen = snapshot(self._watched)
        try:
            summary = publish_site(config)
        except SyndicateError as exc:
            self.report(f"syndicate: error: {exc}")
            return None
        self.builds += 1
        self.report(f"built in {time.monotonic() - started:.2f} s: {summary.line()}")
        self.reloader.notify()
        return summary

    def changed(self) -> bool:
        """Whether anything watched changed since the last build."""
        return self._poll() != self._seen

    def _poll(self) -> Snapshot:
        """A snapshot of the watched files; the pause before the next one grows with its cost."""
        started = time.monotonic()
        found = snapshot(self._watched)
        self._pause = max(self.interval, WATCH_COST_FACTOR * (time.monotonic() - started))
        return found

    def watch(self) -> None:
        """Poll until stopped; rebuild once the inputs have been quiet for one pause."""
        while not self._stop.wait(self._pause):
            if not self.changed():
                continue
            before = self._poll()
            while not self._stop.wait(self._pause):  # let an editor finish saving
                after = self._poll()
                if after == before:
                    break
                before = after
            if not self._stop.is_set():
                self.build()

    def start(self) -> None:
        """Build once, then serve and watch in background threads.

        The threads (and every thread they start: request handlers, a rebuild's writers) block
        SIGINT and SIGTERM, so the kernel delivers Ctrl-C to the main thread, whose sleep it
        interrupts: delivered to a background thread, it would wait for the main thread to wake.
        """
        self.build()
        mask = getattr(signal, "pthread_sigmask", None)  # POSIX
        previous = mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if mask is not None else None
        try:
            for target in (self.server.serve_forever, self.watch):
                thread = threading.Thread(target=target, daemon=True, name=f"syndicate-preview-{target.__name__}")
                thread.start()
                self._threads.append(thread)
        finally:
            if mask is not None and previous is not None:
                mask(signal.SIG_SETMASK, previous)

    def stop(self) -> None:
        """Stop watching and serving, and delete the preview directory."""
        self._stop.set()
        self.reloader.close()
        if self._threads:
            self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(10)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Preview:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_preview(preview: Preview) -> None:
    """Run ``preview`` until Ctrl-C; prints its URL first."""
    try:
        preview.start()
        print(f"previewing at {preview.url} (rebuilds on change; Ctrl-C stops)", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        preview.stop()
