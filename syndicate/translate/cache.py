"""The segment cache: translated segments kept in SQLite between runs.

This module owns the cache file.  A segment's key is a SHA-256 over the
provider's cache key (engine version/config), source and target language,
the glossary version and the segment text, so a segment is never sent twice
unless something that changes its translation changed.

The cache is an optimisation and is never fatal: a file that is not a
database, has an unknown schema or cannot be opened is reported with a
warning, moved aside (``<name>.damaged``) and rebuilt; if even that fails,
the run continues with an in-memory cache.  Opening runs no integrity check:
damage met by a query mid-run (:func:`syndicate.cachefile.give_up`) is one
warning naming the file, which is moved aside for the next run to rebuild,
and the run goes on with an in-memory cache (a miss for what the file held).
A database locked by another run is not damage: that run's writes are
skipped with a warning.

The cache commands (``cache stats``/``forget``/``clear``) open it with
:meth:`SegmentCache.open_existing` instead: nothing is created (no file, no
directory) and a damaged file is an error naming it, never silently rebuilt.

Each row also records the words and unknown words of its translation (for
apertium's unknown-word share) and ``text_hash``, a hash of the source
segment alone (no provider, language or glossary in it): ``cache forget
--article`` computes the hashes of an article's current segments and deletes
every row with one of them, whatever the engine or language.  A segment
shared by several articles (a category name) is then forgotten for all of
them; it is simply translated again.  A version-1 cache is upgraded in place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syndicate.cachefile import MEMORY, SIDE_FILES, CacheDamaged, Schema, cache_directory, connect, give_up, verify
from syndicate.cachefile import is_busy as _is_busy

log = logging.getLogger("syndicate")

SCHEMA_VERSION = 2
_NAME = "translation cache"
_SCHEMA = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE segments ("
    " key TEXT PRIMARY KEY, provider TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,"
    " translation TEXT NOT NULL, created REAL NOT NULL,"
    " words INTEGER NOT NULL DEFAULT 0, unknown INTEGER NOT NULL DEFAULT 0,"
    " text_hash TEXT NOT NULL DEFAULT '') WITHOUT ROWID",
    "CREATE INDEX segments_text_hash ON segments (text_hash)",
)
_UPGRADE_FROM_1 = (
    "ALTER TABLE segments ADD COLUMN words INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE segments ADD COLUMN unknown INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE segments ADD COLUMN text_hash TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX segments_text_hash ON segments (text_hash)",
    "UPDATE schema_version SET version = 2",
)
_COLUMNS = ("key", "provider", "source", "target", "translation", "created", "words", "unknown", "text_hash")
_BATCH = 500  # keys per SELECT (SQLite's variable limit is 999 on old builds)


def default_path() -> Path:
    """``<user cache dir>/syndicate/translations.sqlite3``."""
    return cache_directory(None) / "translations.sqlite3"


def segment_key(provider_key: str, source: str, target: str, glossary_version: str, text: str) -> str:
    """The cache key of one segment (hex SHA-256 over an unambiguous encoding)."""
    payload = json.dumps([provider_key, source, target, glossary_version, text], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def text_hash(text: str) -> str:
    """A hash of a source segment alone (for ``cache forget --article``)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One translated segment to store."""

    key: str
    provider: str  # provider name, for stats
    source: str
    target: str
    translation: str
    words: int = 0
    unknown: int = 0
    text_hash: str = ""


@dataclass(frozen=True, slots=True)
class Cached:
    """A cached translation and its word counts."""

    translation: str
    words: int
    unknown: int


class SegmentCache:
    """SQLite-backed map from segment key to translation."""

    def __init__(self, path: Path | None = None, *, memory: bool = False) -> None:
        """``path`` None: the user cache directory; ``memory``: a cache for this process only."""
        self.path: Path | None = None if memory else path if path is not None else default_path()
        self._strict = False  # True: opened by open_existing, failures raise instead of rebuilding
        self._conn = self._open_or_rebuild(self.path)

    @classmethod
    def in_memory(cls) -> SegmentCache:
        return cls(memory=True)

    @classmethod
    def open_existing(cls, path: Path | None = None, *, writable: bool = False) -> SegmentCache | None:
        """The cache at ``path`` as it is, for the cache commands; ``None`` if there is none.

        Creates nothing (neither the file nor its directory) and never
        rebuilds: a damaged or foreign file is an :class:`InputError` naming it.
        """
        from syndicate.errors import InputError

        path = path if path is not None else default_path()
        if not path.exists():
            return None
        if not path.is_file():
            raise InputError(path, "not a translation cache (not a regular file)")
        self = cls.__new__(cls)
        self.path = path
        mode = "rw" if writable else "ro"
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=10.0)
        except sqlite3.Error as exc:
            raise InputError(path, f"cannot open translation cache: {exc}") from exc
        try:
            verify(conn, _schema(create=False, upgrade=writable), integrity=True)
        except (sqlite3.Error, CacheDamaged) as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
                raise InputError(path, f"translation cache is in use by another run ({exc})") from exc
            raise InputError(
                path, f"damaged translation cache ({exc}); delete it or run a publish to rebuild it"
            ) from exc
        self._conn = conn
        self._strict = True
        return self

    # ----------------------------------------------------------------- public

    def get_many(self, keys: Iterable[str]) -> dict[str, str]:
        """The cached translations among ``keys`` (missing keys are absent)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            rows = self._run(f"SELECT key, translation FROM segments WHERE key IN ({marks})", chunk)
            found.update((str(k), str(v)) for k, v in rows)
        return found

    def get_entries(self, keys: Iterable[str]) -> dict[str, Cached]:
        """The cached translations among ``keys``, with their word counts."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Cached] = {}
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            rows = self._run(f"SELECT key, translation, words, unknown FROM segments WHERE key IN ({marks})", chunk)
            found.update((str(k), Cached(str(t), int(w), int(u))) for k, t, w, u in rows)
        return found

    def put_many(self, items: Iterable[CacheEntry]) -> None:
        """Store translations (replacing older ones with the same key)."""
        now = time.time()
        rows = [
            (e.key, e.provider, e.source, e.target, e.translation, now, e.words, e.unknown, e.text_hash) for e in items
        ]
        if rows:
            self._run_many(
                f"INSERT OR REPLACE INTO segments ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * 9)})", rows
            )

    def stats(self) -> dict[str, Any]:
        """Entries, size on disk, counts per provider (per language pair) and per target language."""
        rows = self._run("SELECT provider, source, target, COUNT(*) FROM segments GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
        providers: dict[str, dict[str, int]] = {}
        languages: dict[str, int] = {}
        for provider, source, target, count in rows:
            providers.setdefault(str(provider), {})[f"{source}->{target}"] = int(count)
            languages[str(target)] = languages.get(str(target), 0) + int(count)
        oldest = self._run("SELECT MIN(created), MAX(created) FROM segments")
        return {
            "path": str(self.path) if self.path is not None else MEMORY,
            "entries": sum(languages.values()),
            "size_bytes": self._size(),
            "providers": providers,
            "languages": dict(sorted(languages.items())),
            "oldest": _iso(oldest[0][0]) if oldest else None,
            "newest": _iso(oldest[0][1]) if oldest else None,
        }

    def forget(
        self,
        *,
        provider: str | None = None,
        language: str | None = None,
        before: float | None = None,
        text_hashes: Iterable[str] | None = None,
    ) -> int:
        """Delete the entries matching every given filter; returns how many.

        ``language`` matches the target (or source) language and its
        script/region forms (``sr`` matches ``sr-Latn``); ``before`` is
        a POSIX time (entries created earlier go); ``text_hashes`` selects
        the segments of given source texts (see :func:`text_hash`).
        """
        clauses: list[str] = []
        params: list[Any] = []
        if provider is not None:
            clauses.append("(provider = ? OR provider LIKE ?)")
            params += [provider, f"{provider}@%"]
        if language is not None:  # "sr" also matches "sr-Latn"
            clauses.append("(target = ? OR source = ? OR target LIKE ? OR source LIKE ?)")
            params += [language, language, f"{language}-%", f"{language}-%"]
        if before is not None:
            clauses.append("created < ?")
            params.append(before)
        hashes = list(dict.fromkeys(text_hashes)) if text_hashes is not None else None
        if hashes is not None:
            if not hashes:
                return 0
            clauses.append(f"text_hash IN ({','.join('?' * len(hashes))})")
            params += hashes
        where = " AND ".join(clauses) if clauses else "1"
        counted = self._run(f"SELECT COUNT(*) FROM segments WHERE {where}", params)
        total = int(counted[0][0]) if counted else 0
        if total:
            self._run(f"DELETE FROM segments WHERE {where}", params)
        return total

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        count = self._run("SELECT COUNT(*) FROM segments")
        total = int(count[0][0]) if count else 0
        self._run("DELETE FROM segments")
        self._run("VACUUM")
        return total

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SegmentCache:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------- opening

    def _open_or_rebuild(self, path: Path | None) -> sqlite3.Connection:
        from syndicate.cachefile import open_or_rebuild

        conn = open_or_rebuild(path, _SCHEMA_CHECK) if path is not None else None
        return conn if conn is not None else self._in_memory()

    def _in_memory(self) -> sqlite3.Connection:
        self.path = None
        return _open(MEMORY)

    # ------------------------------------------------------------- queries

    def _run(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._recovering(sql), self._conn:
            return self._conn.execute(sql, tuple(params)).fetchall()
        return []

    def _run_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._recovering(sql), self._conn:
            self._conn.executemany(sql, rows)

    @contextmanager
    def _recovering(self, sql: str) -> Iterator[None]:
        """Turn a database failure into a warning and a miss (:meth:`_recover`); a lock only skips the query."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if _is_busy(exc) and not self._strict:
                log.warning("translation cache %s is busy (%s); skipped", self.path, exc)
                return
            self._recover(exc)
        except sqlite3.DatabaseError as exc:
            self._recover(exc)

    def _recover(self, exc: sqlite3.Error) -> None:
        if self._strict:
            from syndicate.errors import InputError

            raise InputError(self.path or MEMORY, f"translation cache failed ({exc})") from exc
        give_up(self._conn, _NAME, exc)  # one warning; a damaged file is moved aside for the next run
        self._conn = self._in_memory()  # the rest of the run: what it translates, kept in this process

    def _size(self) -> int:
        if self.path is None:
            rows = self._run("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
            return int(rows[0][0]) if rows else 0
        files = [self.path, *(Path(f"{self.path}{suffix}") for suffix in SIDE_FILES)]
        return sum(f.stat().st_size for f in files if f.exists())


def _open(path: Path | str) -> sqlite3.Connection:
    """Open (creating if new) and verify a cache database; raises CacheDamaged."""
    return connect(path, _SCHEMA_CHECK)


def _schema(*, create: bool = True, upgrade: bool = True) -> Schema:
    def check(conn: sqlite3.Connection, tables: set[str]) -> None:
        _check(conn, tables, create=create, upgrade=upgrade)

    return Schema(_NAME, check)


def _check(conn: sqlite3.Connection, tables: set[str], *, create: bool = True, upgrade: bool = True) -> None:
    """Create the schema in an empty file or verify (and upgrade) the existing one."""
    if not tables:
        if not create:
            raise CacheDamaged("no tables: not a translation cache")
        _create(conn)
        return
    if "schema_version" not in tables or "segments" not in tables:
        raise CacheDamaged(f"unexpected tables {sorted(tables)}")
    version = conn.execute("SELECT version FROM schema_version").fetchall()
    if version == [(1,)] and upgrade:
        with conn:
            for statement in _UPGRADE_FROM_1:
                conn.execute(statement)
        version = [(SCHEMA_VERSION,)]
    if version == [(1,)] and not upgrade:
        return  # read-only: an old cache is shown as it is (stats reads no new column)
    if version != [(SCHEMA_VERSION,)]:
        raise CacheDamaged(f"schema version {version}, expected {SCHEMA_VERSION}")
    columns = tuple(row[1] for row in conn.execute("PRAGMA table_info(segments)"))
    if columns != _COLUMNS:
        raise CacheDamaged(f"unexpected columns {columns}")


def _create(conn: sqlite3.Connection) -> None:
    with conn:
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
    with suppress(sqlite3.Error):
        conn.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer; best effort


_SCHEMA_CHECK = _schema()


def _iso(timestamp: object) -> str | None:
    from datetime import UTC, datetime

    if not isinstance(timestamp, int | float):
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
