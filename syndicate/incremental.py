"""Incremental builds: what lets a cron run in which nothing changed cost almost nothing.

Three layers, each keyed by the content that made its result:

* the **run fingerprint**: a digest of the code, the config, the translation
  engines' versions, the theme and every input file's path, size and mtime.  When
  it equals the last successful run's and every published file is intact (one
  ``lstat`` each, against the manifest's stamps:
  :func:`syndicate.publish.intact_published`), the run stops there: nothing is
  read, translated, rendered or written, and nothing heavy is imported (the
  fingerprint needs no renderer: :func:`theme_digest`; what an engine's version
  costs a process to ask is kept while its files keep their stat: :func:`stamped`).
* the **parse cache** (``parsed.sqlite3`` in the cache directory): an input
  file's articles, keyed by its path, size, mtime and the reader options, so
  only new or changed files are parsed; read in one query per run.

The input files are listed (and stat'ed) once per run
(:func:`syndicate.sources.list_inputs`): the fingerprint and the reading share
the listing.
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
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate import __version__
from syndicate.config import Config, SourceOptions
from syndicate.models import Article

if TYPE_CHECKING:
    from syndicate.cachefile import Schema
    from syndicate.sources import InputFile, InputListing

log = logging.getLogger("syndicate")
JSONValue = Any  # what json.dumps takes and json.loads gives back
# The no-op path (the fingerprint) imports this module: SQLite is imported by the parse cache only.
DEFAULT_THEME = Path(__file__).resolve().parent / "themes" / "default"  # as syndicate.render.theme has it


@functools.lru_cache(maxsize=1)
def _schema() -> Schema:
    from syndicate.cachefile import tables_schema

    return tables_schema(
        "parse cache",
        2,  # 2: each file's articles' render keys
        {
            "parsed": "CREATE TABLE parsed (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
            " options TEXT, articles BLOB, keys TEXT)",
        },
    )


def input_stats(listing: InputListing) -> list[tuple[str, int, int]]:
    """(path, size, mtime_ns) of every input file of a listing, in reading order; missing roots show as such."""
    stats: list[tuple[str, int, int]] = []
    for root in listing.roots:
        if root.error is not None:
            stats.append((str(root.root), -1, -1))
        stats.extend((f.filename, f.size, f.mtime_ns) for f in root.files)
    return stats + [image for root in listing.roots for image in root.media]


def theme_digest(directory: Path | None) -> str:
    """``load_theme(directory).digest`` (:class:`syndicate.render.theme.Theme`) without importing the renderer:
    a digest of every file of the user's theme directory (if any) and the default theme.

    Part of the run fingerprint, so a changed template is a change.  A directory that is
    no theme is the ConfigError :class:`~syndicate.render.theme.Theme` raises.
    """
    from syndicate.errors import ConfigError

    if directory is not None and not (directory / "templates").is_dir() and not (directory / "static").is_dir():
        raise ConfigError(f"output.theme: {directory} has no templates/ or static/ directory")
    digest = hashlib.blake2b(digest_size=16)
    for top in (*((directory,) if directory else ()), DEFAULT_THEME):
        for path in sorted(p for p in top.rglob("*") if p.is_file()):
            digest.update(path.relative_to(top).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def stamped(name: str, paths: Sequence[str], compute: Callable[[], JSONValue]) -> JSONValue:
    """``compute()``, kept across runs while every one of ``paths`` keeps its ``stat``.

    For what an engine's version is made of that costs a process to ask (``apertium -l``,
    ``dpkg-query``) but only changes with files: the answer is kept in ``stamped.json`` in
    the user cache directory under ``name``, with the stamps (inode, size, mtime, ctime;
    "missing") of ``paths``; a changed stamp asks again.  A damaged or unwritable file
    only means asking.
    """
    import json

    stamps = [_stat_stamp(path) for path in paths]
    memo = _stamped_file()
    try:
        kept = json.loads(memo.read_bytes())
    except (OSError, ValueError, RecursionError):
        kept = {}
    if not isinstance(kept, dict):
        kept = {}
    entry = kept.get(name)
    if isinstance(entry, dict) and entry.get("stamps") == stamps and "value" in entry:
        return entry["value"]
    value = compute()
    kept[name] = {"stamps": stamps, "value": value}
    temp = memo.with_name(f".{memo.name}.{os.getpid()}")
    with contextlib.suppress(OSError):
        memo.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(json.dumps(kept, sort_keys=True), encoding="utf-8")
        os.replace(temp, memo)
    return value


def _stat_stamp(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _stamped_file() -> Path:
    from syndicate.cachefile import cache_directory

    return cache_directory(None) / "stamped.json"


def run_fingerprint(config: Config, stats: Sequence[tuple[str, int, int]], engines: Sequence[str]) -> str:
    """A digest of everything a run's output depends on (inputs by their stat, not their bytes)."""
    digest = hashlib.blake2b(digest_size=20)
    for part in (__version__, code_version(), repr(config), *engines):
        digest.update(part.encode())
        digest.update(b"\0")
    # One encode of every line at once (the bytes os.fsencode gives name by name: names need not be UTF-8).
    lines = "".join([f"{path}\0{size}\0{mtime}\n" for path, size, mtime in stats])
    digest.update(lines.encode(sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()))
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


def _adopt_keys(articles: Sequence[Article], keys: object) -> None:
    """Give cached articles the render keys stored with them (made by this code version, as the
    options key says, for these very fields); a row whose keys do not match its articles gives none."""
    from syndicate.render import adopt_key

    found = str(keys).split(" ") if articles else []
    if len(found) != len(articles):
        return
    for article, key in zip(articles, found, strict=True):
        if key:
            adopt_key(article, key)


def parse_cache_path(config: Config) -> Path:
    """``parsed.sqlite3`` in the build cache directory (:attr:`Config.build_cache_dir`)."""
    return config.build_cache_dir / "parsed.sqlite3"


class ParseCache:
    """Parsed articles per input file, keyed by path, size, mtime and reader options.

    Values are pickled :class:`Article` tuples in the user's own cache
    directory (the same trust as the installed code), with their render keys
    (:func:`syndicate.render.prepared_key`, made once when the file is parsed:
    an unchanged file's articles are neither keyed nor digested again).  A run asks once for
    every listed file (:meth:`get_many`, one query) and stores the files it
    parsed in one transaction at :meth:`close`.  The file is opened through
    :func:`syndicate.cachefile.open_or_rebuild` (one that is no parse cache is
    rebuilt) and any error makes the cache a no-op for the rest of the run
    (:func:`syndicate.cachefile.give_up`: a damaged file is moved aside).
    """

    def __init__(self, path: Path | None, options: SourceOptions, language: str) -> None:
        from syndicate.cachefile import cache_directory, open_or_rebuild

        self.options_key = hashlib.blake2b(
            f"{code_version()}|{options!r}|{language}".encode(), digest_size=16
        ).hexdigest()
        self._conn = open_or_rebuild(path or cache_directory(None) / "parsed.sqlite3", _schema())
        self._pending: list[tuple[str, int, int, str, bytes, str]] = []
        self._keys: dict[str, str] = {}
        self._cwd: str | None = None
        self.hits = 0

    def get_many(self, files: Sequence[InputFile]) -> dict[str, tuple[Article, ...]]:
        """The cached articles of every listed file whose size and mtime are unchanged, by the file's
        listed name (:attr:`~syndicate.sources.InputFile.filename`): one query, no pathlib object per file."""

        from syndicate.cachefile import READ_ERRORS

        if self._conn is None or not files:
            return {}
        wanted = {self._key(file.filename): file for file in files if file.size >= 0}
        found: dict[str, tuple[Article, ...]] = {}
        try:  # row by row: the 10,000 pickles of a large set are never all in memory at once
            for path, size, mtime, blob, keys in self._conn.execute(
                "SELECT path, size, mtime_ns, articles, keys FROM parsed WHERE options = ?", (self.options_key,)
            ):
                file = wanted.get(path)
                if file is None or size != file.size or mtime != file.mtime_ns:
                    continue
                articles = pickle.loads(blob)
                if _media_current(articles):  # else an image the articles publish changed since: parse again
                    found[file.filename] = articles
                    _adopt_keys(articles, keys)
        except READ_ERRORS as exc:
            self._disable(exc)
            return {}
        self.hits += len(found)
        return found

    def put(self, file: InputFile, articles: Sequence[Article], blob: bytes | None = None) -> None:
        """Keep ``file``'s articles under the size and mtime it was listed with (written at :meth:`close`).

        ``blob`` is ``articles`` already pickled (by the worker that parsed them): stored as it is.
        """
        if self._conn is None or file.size < 0:
            return
        from syndicate.render import prepared_key
        from syndicate.sources import PICKLE_PROTOCOL

        blob = blob if blob is not None else pickle.dumps(tuple(articles), protocol=PICKLE_PROTOCOL)
        keys = " ".join(prepared_key(article) or "" for article in articles)  # remembered: the run asks again
        self._pending.append((self._key(file.filename), file.size, file.mtime_ns, self.options_key, blob, keys))

    def _key(self, filename: str) -> str:
        """:func:`_key`, once per file and run (:meth:`get_many` and :meth:`put` both need it); the
        working directory is asked once per run, not once per relative name."""
        key = self._keys.get(filename)
        if key is None:
            if self._cwd is None:
                self._cwd = os.getcwd()
            key = self._keys[filename] = _key(filename, self._cwd)
        return key

    def close(self) -> None:
        import sqlite3

        from syndicate.cachefile import close_after

        pending, self._pending = self._pending, []

        def write(conn: sqlite3.Connection) -> None:
            with conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO parsed (path, size, mtime_ns, options, articles, keys)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    pending,
                )

        if self._conn is not None:
            close_after(self._conn, write, "parse cache")
            self._conn = None

    def _disable(self, exc: Exception) -> None:
        from syndicate.cachefile import give_up

        give_up(self._conn, "parse cache", exc)
        self._conn = None


def _key(path: Path | str, cwd: str | None = None) -> str:
    """The file's absolute path as valid text (a name that is not UTF-8 is escaped, injectively).

    ``os.path.abspath`` (against ``cwd`` when given), not ``resolve``: no system call per file.
    """
    from syndicate.sources.safe import shown_name

    name = os.fspath(path)
    absolute = os.path.normpath(os.path.join(cwd, name)) if cwd is not None else os.path.abspath(name)
    return shown_name(absolute)


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
