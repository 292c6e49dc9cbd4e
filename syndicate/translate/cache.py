"""The segment cache: translated segments kept in SQLite between runs.

This module owns the cache file.  A segment's key is a SHA-256 over the
provider's cache key (engine version/config), source and target language,
the glossary version and the segment text, so a segment is never sent twice
unless something that changes its translation changed.

The cache is an optimisation and is never fatal: a file that is not a
database, fails SQLite's integrity check, has an unknown schema or cannot be
opened is reported with a warning, moved aside (``<name>.damaged``) and
rebuilt; if even that fails, the run continues with an in-memory cache.
A database locked by another run is not damage: that run's writes are
skipped with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("syndicate")

SCHEMA_VERSION = 1
MEMORY = ":memory:"
_SIDE_FILES = ("-wal", "-shm", "-journal")
_SCHEMA = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE segments ("
    " key TEXT PRIMARY KEY, provider TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,"
    " translation TEXT NOT NULL, created REAL NOT NULL) WITHOUT ROWID",
)
_COLUMNS = ("key", "provider", "source", "target", "translation", "created")
_BATCH = 500  # keys per SELECT (SQLite's variable limit is 999 on old builds)


def default_path() -> Path:
    """``<user cache dir>/syndicate/translations.sqlite3``."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("syndicate")) / "translations.sqlite3"


def segment_key(provider_key: str, source: str, target: str, glossary_version: str, text: str) -> str:
    """The cache key of one segment (hex SHA-256 over an unambiguous encoding)."""
    payload = json.dumps([provider_key, source, target, glossary_version, text], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One translated segment to store."""

    key: str
    provider: str  # provider name, for stats
    source: str
    target: str
    translation: str


class CacheDamaged(Exception):
    """The cache file cannot be used as it is (internal: triggers a rebuild)."""


class CacheBusy(Exception):
    """Another process holds a lock on the cache (internal: not damage, no rebuild)."""


class SegmentCache:
    """SQLite-backed map from segment key to translation."""

    def __init__(self, path: Path | None = None, *, memory: bool = False) -> None:
        """``path`` None: the user cache directory; ``memory``: a cache for this process only."""
        self.path: Path | None = None if memory else path if path is not None else default_path()
        self._conn = self._open_or_rebuild(self.path)

    @classmethod
    def in_memory(cls) -> SegmentCache:
        return cls(memory=True)

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

    def put_many(self, items: Iterable[CacheEntry]) -> None:
        """Store translations (replacing older ones with the same key)."""
        now = time.time()
        rows = [(e.key, e.provider, e.source, e.target, e.translation, now) for e in items]
        if rows:
            self._run_many("INSERT OR REPLACE INTO segments VALUES (?, ?, ?, ?, ?, ?)", rows)

    def stats(self) -> dict[str, Any]:
        """Entries, size on disk, counts per provider and language pair, and the path."""
        rows = self._run("SELECT provider, source, target, COUNT(*) FROM segments GROUP BY 1, 2, 3")
        providers: dict[str, dict[str, int]] = {}
        for provider, source, target, count in rows:
            providers.setdefault(str(provider), {})[f"{source}->{target}"] = int(count)
        return {
            "path": str(self.path) if self.path is not None else MEMORY,
            "entries": sum(sum(pairs.values()) for pairs in providers.values()),
            "size_bytes": self._size(),
            "providers": providers,
        }

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
        if path is None:
            return _open(MEMORY)
        try:
            return _open(path)
        except CacheBusy as exc:
            log.warning("translation cache %s is in use (%s); running without a cache", path, exc)
            self.path = None
            return _open(MEMORY)
        except CacheDamaged as exc:
            log.warning("translation cache %s is damaged (%s); rebuilding it", path, exc)
        except OSError as exc:
            log.warning("cannot open translation cache %s (%s); rebuilding it", path, exc)
        return self._rebuild(path)

    def _rebuild(self, path: Path) -> sqlite3.Connection:
        try:
            _move_aside(path)
            return _open(path)
        except (CacheDamaged, CacheBusy, OSError) as exc:
            log.warning("cannot rebuild translation cache %s (%s); running without a cache", path, exc)
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
        """Turn a database failure into a warning (and a rebuild when the file is damaged)."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                log.warning("translation cache %s is busy (%s); skipped", self.path, exc)
                return
            self._recover(exc)
        except sqlite3.DatabaseError as exc:
            self._recover(exc)

    def _recover(self, exc: sqlite3.Error) -> None:
        log.warning("translation cache %s failed (%s); rebuilding it", self.path or MEMORY, exc)
        with suppress(sqlite3.Error):
            self._conn.close()
        self._conn = self._rebuild(self.path) if self.path is not None else _open(MEMORY)

    def _size(self) -> int:
        if self.path is None:
            rows = self._run("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
            return int(rows[0][0]) if rows else 0
        files = [self.path, *(Path(f"{self.path}{suffix}") for suffix in _SIDE_FILES)]
        return sum(f.stat().st_size for f in files if f.exists())


def _open(path: Path | str) -> sqlite3.Connection:
    """Open (creating if new) and verify a cache database; raises CacheDamaged."""
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=10.0)
    except sqlite3.Error as exc:
        raise CacheDamaged(str(exc)) from exc
    try:
        _check(conn)
    except sqlite3.OperationalError as exc:
        conn.close()
        if _is_busy(exc):
            raise CacheBusy(str(exc)) from exc
        raise CacheDamaged(str(exc)) from exc
    except (sqlite3.DatabaseError, CacheDamaged) as exc:
        conn.close()
        raise CacheDamaged(str(exc)) from exc
    return conn


def _check(conn: sqlite3.Connection) -> None:
    """Integrity check, then create the schema in an empty file or verify the existing one."""
    result = conn.execute("PRAGMA quick_check").fetchone()
    if not result or result[0] != "ok":
        raise CacheDamaged(f"integrity check failed: {result[0] if result else 'no result'}")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        _create(conn)
        return
    if "schema_version" not in tables or "segments" not in tables:
        raise CacheDamaged(f"unexpected tables {sorted(tables)}")
    version = conn.execute("SELECT version FROM schema_version").fetchall()
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


def _move_aside(path: Path) -> None:
    """Rename a damaged cache to ``<name>.damaged`` (replacing an older one) and drop side files."""
    if path.exists() or path.is_symlink():
        os.replace(path, path.with_name(path.name + ".damaged"))
    for suffix in _SIDE_FILES:
        side = Path(f"{path}{suffix}")
        if side.exists():
            side.unlink()


def _is_busy(exc: sqlite3.Error) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message
