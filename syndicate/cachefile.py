"""Opening syndicate's SQLite cache files: open, check, rebuild (one implementation for every cache).

Four caches live in the cache directory (:func:`cache_directory`): the segment
cache (``translations.sqlite3``, :mod:`syndicate.translate.cache`), the parse
cache (``parsed.sqlite3``, :mod:`syndicate.incremental`), the fragment store
(``fragments.sqlite3``, :mod:`syndicate.render.fragments`) and the line store
(``lines.sqlite3``, :mod:`syndicate.render.lines`).  A cache is an
optimisation and never fatal: :func:`open_or_rebuild` opens a file and checks
it (SQLite's ``quick_check``, then the cache's own schema check); a file that
is not a database or fails a check is moved aside (``<name>.damaged``) and
rebuilt, with a warning.  A file locked by another run is not damage: the
caller runs without it.  When even a rebuild fails the caller gets None.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("syndicate")
MEMORY = ":memory:"
SIDE_FILES = ("-wal", "-shm", "-journal")


class CacheDamaged(Exception):
    """The cache file cannot be used as it is (triggers a rebuild)."""


class CacheBusy(Exception):
    """Another process holds a lock on the cache (not damage: no rebuild)."""


@dataclass(frozen=True)
class Schema:
    """What a cache file must hold.

    ``check`` gets a connection whose file passed ``quick_check`` and the names
    of its tables; it creates the schema in an empty file, verifies (or
    upgrades) an existing one, and raises :class:`CacheDamaged` otherwise.
    """

    name: str  # as messages say it: "translation cache", "parse cache"
    check: Callable[[sqlite3.Connection, set[str]], None]


def tables_schema(name: str, version: int, tables: Mapping[str, str], *, create: bool = True) -> Schema:
    """The usual cache schema: a ``meta`` table holding ``version`` and ``tables`` (name -> CREATE statement).

    An empty file gets them (in WAL mode) when ``create``; an existing one must
    hold exactly those tables and that version, else it is :class:`CacheDamaged`.
    """

    def check(conn: sqlite3.Connection, found: set[str]) -> None:
        if not found and create:
            with conn:
                conn.execute("CREATE TABLE meta (schema INTEGER)")
                conn.execute("INSERT INTO meta VALUES (?)", (version,))
                for statement in tables.values():
                    conn.execute(statement)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA journal_mode=WAL")
            return
        if found != {"meta", *tables}:
            raise CacheDamaged(f"unexpected tables {sorted(found)}")
        row = conn.execute("SELECT schema FROM meta").fetchone()
        if row is None or row[0] != version:
            raise CacheDamaged(f"schema {row[0] if row else None}, expected {version}")

    return Schema(name, check)


def cache_directory(translation_cache: Path | None) -> Path:
    """Where syndicate keeps its caches: beside a configured segment cache, else the user cache directory."""
    if translation_cache is not None:
        return translation_cache.parent
    import platformdirs

    return Path(platformdirs.user_cache_dir("syndicate"))


def connect(path: Path | str, schema: Schema) -> sqlite3.Connection:
    """Open (creating if new) and check a cache database; raises CacheDamaged or CacheBusy."""
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=10.0)
    except sqlite3.Error as exc:
        raise CacheDamaged(str(exc)) from exc
    try:
        verify(conn, schema)
    except sqlite3.OperationalError as exc:
        conn.close()
        if is_busy(exc):
            raise CacheBusy(str(exc)) from exc
        raise CacheDamaged(str(exc)) from exc
    except (sqlite3.DatabaseError, CacheDamaged) as exc:
        conn.close()
        raise CacheDamaged(str(exc)) from exc
    return conn


def verify(conn: sqlite3.Connection, schema: Schema) -> None:
    """SQLite's integrity check, then the cache's own schema check."""
    result = conn.execute("PRAGMA quick_check").fetchone()
    if not result or result[0] != "ok":
        raise CacheDamaged(f"integrity check failed: {result[0] if result else 'no result'}")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    schema.check(conn, tables)


def open_or_rebuild(path: Path, schema: Schema) -> sqlite3.Connection | None:
    """The checked cache at ``path``; a damaged one is moved aside and rebuilt; None when unusable."""
    try:
        return connect(path, schema)
    except CacheBusy as exc:
        log.warning("%s %s is in use (%s); running without a cache", schema.name, path, exc)
        return None
    except CacheDamaged as exc:
        log.warning("%s %s is damaged (%s); rebuilding it", schema.name, path, exc)
    except OSError as exc:
        log.warning("cannot open %s %s (%s); rebuilding it", schema.name, path, exc)
    return rebuild(path, schema)


def rebuild(path: Path, schema: Schema) -> sqlite3.Connection | None:
    """Move the file aside and start an empty cache there; None (warned) when even that fails."""
    try:
        move_aside(path)
        return connect(path, schema)
    except (CacheDamaged, CacheBusy, OSError) as exc:
        log.warning("cannot rebuild %s %s (%s); running without a cache", schema.name, path, exc)
    return None


def move_aside(path: Path) -> None:
    """Rename a damaged cache to ``<name>.damaged`` (replacing an older one) and drop side files."""
    if path.exists() or path.is_symlink():
        os.replace(path, path.with_name(path.name + ".damaged"))
    for suffix in SIDE_FILES:
        side = Path(f"{path}{suffix}")
        if side.exists():
            side.unlink()


BUILD_CACHES = ("parsed.sqlite3", "fragments.sqlite3", "lines.sqlite3")  # no translation in them


def build_caches(directory: Path) -> list[Path]:
    """The build caches present in ``directory`` (``cache clear --all`` removes them)."""
    return [directory / name for name in BUILD_CACHES if (directory / name).is_file()]


def remove_cache(path: Path) -> None:
    """Delete a cache file, its side files and a copy moved aside as damaged (OSError if one cannot go)."""
    for victim in (path, *(Path(f"{path}{suffix}") for suffix in SIDE_FILES), path.with_name(path.name + ".damaged")):
        with contextlib.suppress(FileNotFoundError):
            victim.unlink()


def give_up(conn: sqlite3.Connection | None, what: str, exc: Exception) -> None:
    """A cache that failed mid-run: warn once and close it; the run goes on without it."""
    log.warning("%s disabled for this run: %s", what, exc)
    if conn is not None:
        with contextlib.suppress(sqlite3.Error):
            conn.close()


def is_busy(exc: sqlite3.Error) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message
