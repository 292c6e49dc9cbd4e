"""Incremental builds: what lets a cron run in which nothing changed cost almost nothing.

Three layers, each keyed by the content that made its result:

* the **run fingerprint**: a digest of the code, the config, the translation
  engines' versions and every input file's path, size and mtime.  When it
  equals the last successful run's and every published file is intact, the
  run stops there: nothing is read, translated, rendered or written.
* the **parse cache** (SQLite in the user cache directory): an input file's
  articles, keyed by its path, size, mtime and the reader options, so only
  new or changed files are parsed.
* render keys (``render.render_changed``) and the publish manifest: only
  outputs whose inputs changed are rendered and written.

Every layer is an optimisation: a damaged cache is rebuilt, never fatal.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import pickle
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from syndicate import __version__
from syndicate.config import Config, SourceOptions
from syndicate.models import Article

log = logging.getLogger("syndicate")
_SCHEMA = 1


def input_stats(paths: Iterable[Path]) -> list[tuple[str, int, int]]:
    """(path, size, mtime_ns) of every input file, in reading order; missing roots show as such."""
    from syndicate.errors import InputError
    from syndicate.sources import find_files

    paths = list(paths)
    stats: list[tuple[str, int, int]] = []
    for root in paths:
        try:
            files = list(find_files([root], roots=paths))
        except InputError:
            stats.append((str(root), -1, -1))
            continue
        for path, _ in files:
            try:
                st = os.stat(path)
            except OSError:
                stats.append((str(path), -1, -1))
                continue
            stats.append((str(path), st.st_size, st.st_mtime_ns))
    return stats + media_stats(paths)


def media_stats(paths: Iterable[Path]) -> list[tuple[str, int, int]]:
    """(path, size, mtime_ns) of the image files under the source directories (articles publish them)."""
    from syndicate.sources.media import IMAGE_TYPES

    stats: list[tuple[str, int, int]] = []
    for root in paths:
        if not root.is_dir():
            continue
        for top, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_TYPES:
                    with contextlib.suppress(OSError):
                        st = os.stat(os.path.join(top, name), follow_symlinks=False)
                        stats.append((os.path.join(top, name), st.st_size, st.st_mtime_ns))
    return stats


def run_fingerprint(config: Config, stats: Sequence[tuple[str, int, int]], engines: Sequence[str]) -> str:
    """A digest of everything a run's output depends on (inputs by their stat, not their bytes)."""
    digest = hashlib.blake2b(digest_size=20)
    for part in (__version__, code_version(), repr(config), *engines):
        digest.update(part.encode())
        digest.update(b"\0")
    for path, size, mtime in stats:
        digest.update(os.fsencode(path) + f"\0{size}\0{mtime}\n".encode())  # names need not be UTF-8
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of syndicate's own source files: new code never reuses old results."""
    root = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class ParseCache:
    """Parsed articles per input file, keyed by path, size, mtime and reader options.

    Values are pickled :class:`Article` tuples in the user's own cache
    directory (the same trust as the installed code); a damaged file is
    replaced, and any error makes the cache a no-op for the rest of the run.
    """

    def __init__(self, path: Path | None, options: SourceOptions, language: str) -> None:
        self.options_key = hashlib.blake2b(
            f"{code_version()}|{options!r}|{language}".encode(), digest_size=16
        ).hexdigest()
        self._conn = _open(path or default_path())
        self.hits = 0

    def get(self, path: Path) -> tuple[Article, ...] | None:
        stamp = _stamp(path)
        if self._conn is None or stamp is None:
            return None
        try:
            row = self._conn.execute(
                "SELECT articles FROM parsed WHERE path = ? AND size = ? AND mtime_ns = ? AND options = ?",
                (_key(path), *stamp, self.options_key),
            ).fetchone()
            articles = pickle.loads(row[0]) if row else None
        except (sqlite3.Error, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            self._disable(exc)
            return None
        if articles is not None and not _media_current(articles):
            return None  # an image the articles publish changed since: parse again
        if articles is not None:
            self.hits += 1
        return articles

    def put(self, path: Path, articles: Sequence[Article]) -> None:
        stamp = _stamp(path)
        if self._conn is None or stamp is None:
            return
        try:
            self._conn.execute(
                "INSERT OR REPLACE INTO parsed (path, size, mtime_ns, options, articles) VALUES (?, ?, ?, ?, ?)",
                (_key(path), *stamp, self.options_key, pickle.dumps(tuple(articles), protocol=5)),
            )
        except sqlite3.Error as exc:
            self._disable(exc)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.commit()
                self._conn.close()
            self._conn = None

    def _disable(self, exc: Exception) -> None:
        log.warning("parse cache disabled for this run: %s", exc)
        with contextlib.suppress(sqlite3.Error):
            if self._conn is not None:
                self._conn.close()
        self._conn = None


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("syndicate")) / "parsed.sqlite3"


def _key(path: Path) -> str:
    """The file's absolute path as valid text (a name that is not UTF-8 is escaped, injectively)."""
    from syndicate.sources.safe import shown_name

    return shown_name(path.resolve())


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _media_current(articles: Iterable[Article]) -> bool:
    """Whether every local media file of ``articles`` still has the size and mtime it was read with."""
    for article in articles:
        for media in article.media:
            try:
                st = os.stat(media.file)
            except OSError:
                return False
            if (st.st_size, st.st_mtime_ns) != (media.length, media.mtime_ns):
                return False
    return True


def _open(path: Path) -> sqlite3.Connection | None:
    for attempt in range(2):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (schema INTEGER)")
            row = conn.execute("SELECT schema FROM meta").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES (?)", (_SCHEMA,))
            elif row[0] != _SCHEMA:
                raise sqlite3.DatabaseError(f"schema {row[0]}, expected {_SCHEMA}")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS parsed (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
                " options TEXT, articles BLOB)"
            )
            conn.commit()
            return conn
        except (sqlite3.Error, OSError) as exc:
            if attempt == 0:
                log.warning("parse cache %s is damaged (%s); rebuilding it", path, exc)
                with contextlib.suppress(OSError):
                    path.unlink()
                    for suffix in ("-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
            else:
                log.warning("parse cache %s is unusable (%s); reading every file", path, exc)
    return None
