"""Opening syndicate's SQLite cache files, and giving one up when it fails (one implementation for every cache).

Five caches live in the cache directory (:func:`cache_directory`): the segment
cache (``translations.sqlite3``, :mod:`syndicate.translate.cache`), the variant
cache (``variants.sqlite3``, :mod:`syndicate.translate.variant_cache`), the
parse cache (``parsed.sqlite3``, :mod:`syndicate.incremental`), the fragment
store (``fragments.sqlite3``, :mod:`syndicate.render.fragments`) and the line
store (``lines.sqlite3``, :mod:`syndicate.render.lines`).  A cache is an
optimisation and never fatal.

Opening (:func:`open_or_rebuild`) reads only the schema (``sqlite_master``)
and the cache's own version: a file that is not a database, is shorter than
its header says, or holds another schema or version is moved aside
(``<name>.damaged``) and rebuilt, with a warning.  It runs no integrity check
(``PRAGMA quick_check`` reads the whole file: a quarter of a second per run
at 10,000 articles): damage elsewhere in the file is met where a query reads
it, and every cache hands such an error to :func:`give_up`, which warns once
naming the file, closes it (the cache is a miss for the rest of the run) and,
when the error says the file is damaged (:func:`is_damage`), moves it aside
so that the next run rebuilds it.  SQLite checks the structure of each page
as it reads it, so a query returns rows of pages that passed that check or
fails.  Bytes changed inside a stored value are seen by neither this nor
``quick_check``: a pickled value that then fails to load is damage too
(:data:`READ_ERRORS`), a changed text is used as it is.
A file locked by another run is not damage: the caller runs without it.
When even a rebuild fails the caller gets None.  The cache commands open a
file as it is (no rebuild) and do check its integrity (:func:`verify`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("syndicate")
MEMORY = ":memory:"
SIDE_FILES = ("-wal", "-shm", "-journal")


class CacheDamaged(Exception):
    """The cache file cannot be used as it is (triggers a rebuild)."""


class CacheOutdated(CacheDamaged):
    """The cache file is intact but of an older schema: an upgrade, rebuilt without a warning."""


class CacheConnection(sqlite3.Connection):
    """A cache's connection (:func:`connect` makes them): it knows its file, for :func:`give_up`.

    ``path`` is None for an in-memory cache; ``file_id`` is the file's (device, inode) when it was
    opened, so a damaged file is moved aside only while it is still the one at ``path``.
    """

    path: Path | None = None
    file_id: tuple[int, int] | None = None


class CacheBusy(Exception):
    """Another process holds a lock on the cache (not damage: no rebuild)."""


@dataclass(frozen=True)
class Schema:
    """What a cache file must hold.

    ``check`` gets a connection and the names of its tables (``sqlite_master``
    was read: the file is a database, no shorter than its header says); it
    creates the schema in an empty file, verifies (or upgrades) an existing
    one, and raises :class:`CacheDamaged` otherwise.
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
        if row is not None and type(row[0]) is int and 0 < row[0] < version:
            raise CacheOutdated(f"schema {row[0]}, now {version}")
        if row is None or row[0] != version:
            raise CacheDamaged(f"schema {row[0] if row else None}, expected {version}")

    return Schema(name, check)


def cache_directory(translation_cache: Path | None) -> Path:
    """Where syndicate keeps its caches: beside a configured segment cache, else the user cache directory."""
    if translation_cache is not None:
        return translation_cache.parent
    import platformdirs

    return Path(platformdirs.user_cache_dir("syndicate"))


def connect(path: Path | str, schema: Schema) -> CacheConnection:
    """Open (creating if new) and check a cache database's schema; raises CacheDamaged or CacheBusy.

    No integrity check: damage met later goes to :func:`give_up` (see the module docstring)."""
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=10.0, factory=CacheConnection)
    except sqlite3.Error as exc:
        raise CacheDamaged(str(exc)) from exc
    try:
        verify(conn, schema)
    except sqlite3.OperationalError as exc:
        conn.close()
        if is_busy(exc):
            raise CacheBusy(str(exc)) from exc
        raise CacheDamaged(str(exc)) from exc
    except CacheDamaged:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise CacheDamaged(str(exc)) from exc
    if isinstance(path, Path):
        conn.path, conn.file_id = path, _file_id(path)
    return conn


def verify(conn: sqlite3.Connection, schema: Schema, *, integrity: bool = False) -> None:
    """The cache's own schema check; first SQLite's integrity check (``quick_check``, which reads the
    whole file) when ``integrity``: the cache commands ask for it, a run's opening does not."""
    if integrity:
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
    except CacheOutdated as exc:  # made by an older syndicate: nothing is wrong, nothing to keep
        log.info("%s %s is from an older version of syndicate (%s); rebuilding it", schema.name, path, exc)
        return rebuild(path, schema, keep=False)
    except CacheDamaged as exc:
        log.warning("%s %s is damaged (%s); rebuilding it", schema.name, path, exc)
    except OSError as exc:
        log.warning("cannot open %s %s (%s); rebuilding it", schema.name, path, exc)
    return rebuild(path, schema)


def rebuild(path: Path, schema: Schema, *, keep: bool = True) -> sqlite3.Connection | None:
    """Move the file aside (``keep``; else delete it) and start an empty cache there; None (warned) when
    even that fails."""
    try:
        if keep:
            move_aside(path)
        else:
            for victim in (path, *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)):
                with contextlib.suppress(FileNotFoundError):
                    victim.unlink()
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


def close_after(conn: sqlite3.Connection, write: Callable[[sqlite3.Connection], None], what: str) -> None:
    """A cache's last ``write`` (at the end of a run), then its connection closed; a failure gives
    the cache up (:func:`give_up`) instead.  The caller drops the connection either way."""
    try:
        write(conn)
    except sqlite3.Error as exc:
        give_up(conn, what, exc)
        return
    with contextlib.suppress(sqlite3.Error):
        conn.close()


def give_up(conn: sqlite3.Connection | None, what: str, exc: Exception) -> None:
    """A cache that failed mid-run: one warning naming its file, and the connection closed; the caller
    drops it and the run goes on without it (a miss for the rest of the run).

    When ``exc`` says the file is damaged (:func:`is_damage`) and it is still the file ``conn`` opened,
    it is moved aside (``<name>.damaged``, side files dropped): the next run rebuilds it.  Another
    connection to the same file (the segment cache's language threads) that meets the damage after
    it was moved aside says so only at the info level.  A failure that is no damage (a lock, a full
    disk) leaves the file where it is.
    """
    path = conn.path if isinstance(conn, CacheConnection) else None
    opened = conn.file_id if isinstance(conn, CacheConnection) else None
    if conn is not None:
        with contextlib.suppress(sqlite3.Error):
            conn.close()
    if not is_damage(exc):
        busy = isinstance(exc, sqlite3.OperationalError) and is_busy(exc)
        state = "is in use by another run" if busy else "failed"
        log.warning("%s %s %s (%s); running without it", what, path or MEMORY, state, exc)
        return
    if path is None or opened is None:
        log.warning("%s %s is damaged (%s); running without it", what, path or MEMORY, exc)
        return
    aside = path.with_name(path.name + ".damaged")
    with _moving:  # the check and the move, one thread at a time
        if _file_id(path) != opened:
            if _file_id(aside) == opened:  # moved aside by another connection, which said so
                log.info("%s %s is damaged (%s); running without it (moved aside already)", what, path, exc)
            else:
                log.warning("%s %s is damaged (%s); running without it", what, path, exc)
            return
        try:
            move_aside(path)
        except OSError as moving:
            log.warning("%s %s is damaged (%s); running without it (cannot move it aside: %s)", what, path, exc, moving)
            return
    log.warning(
        "%s %s is damaged (%s); running without it, moved aside to %s for the next run to rebuild",
        what, path, exc, aside.name,
    )  # fmt: skip


_moving = threading.Lock()
_DAMAGE_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
# What reading the rows of a pickled cache raises when its file or a value is damaged: SQLite's errors,
# and what loading a damaged pickle raises (pickle's documentation: "including (but not necessarily
# limited to)" the second to sixth).  The variant and parse caches give the cache up on these.
READ_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.Error, pickle.UnpicklingError, AttributeError, EOFError, ImportError, IndexError,
    KeyError, TypeError, ValueError, OverflowError, RecursionError,
)  # fmt: skip


def is_damage(exc: BaseException) -> bool:
    """Whether an error met using a cache says its file is damaged.

    SQLite's "database disk image is malformed" and "file is not a database" (a garbage page, a
    truncated file), and any error that is no SQLite error: a stored value that cannot be decoded.
    A lock, a full disk, a read-only file or a missing table are not (a missing table is seen by
    the next run's schema check).
    """
    if not isinstance(exc, sqlite3.Error):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _DAMAGE_CODES


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def is_busy(exc: sqlite3.Error) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message
