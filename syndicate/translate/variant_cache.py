"""The variant cache: one source article in one target language, translated or refused, kept between runs.

This module owns ``variants.sqlite3`` in the cache directory
(:func:`syndicate.cachefile.cache_directory`).  A row is keyed by

* ``context``: a digest of everything but the article that makes a variant
  (syndicate's code version, the engine's cache key and name, the source and
  target language, the translation mode, the glossary version,
  ``translation.max_unknown`` and ``on_error``), see :func:`context_key`;
* ``source``: the source article's content key (the digest of its repr,
  :func:`syndicate.render.content_key`).

and holds an :class:`Entry`: the translated article (with its render key when
it is already prepared for rendering), or the reason it is refused.  A row also
names the site (target directory) that stored it: a run prunes only its own
site's rows that it did not use, never another site's.  On a hit
nothing of that article is segmented, looked up in the segment cache or gated;
a run reads one language's rows in one query (:meth:`VariantCache.load`).

An entry is stored as a pickle (:func:`encode`) that refers to, rather than
copies, what the run holds anyway: syndicate's classes, the empty body, and
the field values of its source article (the translation keeps its slug, dates,
file and media; the row's source key is the digest of every one of them, so
this run's source article with that key holds the same values).  Loading one
then builds only what the translation changed; a row of a source article this
run does not have is never unpickled.  The translation stage pickles new
entries where it builds them (in its worker processes, :mod:`syndicate.translate.workers`).

What is stored (decided by the translation stage, :mod:`syndicate.pipeline`):
every translated article, except a network engine's that used a segment sent
back unchanged (that segment is retried next run, so the article is too); a
refusal only when the engine is deterministic (apertium) and the failure is
a gate's verdict, never a passing fault (no answer, deferred, engine
unavailable).  A refusal by the "one answer for several inputs" gate names
its partners (the other articles with that answer) and keeps its (sent,
answer) pairs: it holds only while every partner is a cached refusal too.

Like the other caches it is an optimisation: a file that is no variant cache
is moved aside and rebuilt with one warning when it is opened
(:func:`syndicate.cachefile.open_or_rebuild`), and a failure mid-run disables
it for that run with one warning (:func:`syndicate.cachefile.give_up`; a
damaged file is moved aside then, for the next run to rebuild).  The cache commands open it
with :meth:`VariantCache.open_existing` (nothing created, damage is an error).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import operator
import pickle
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from types import MethodType
from typing import Any, NamedTuple

from syndicate.cachefile import (
    READ_ERRORS,
    SIDE_FILES,
    CacheDamaged,
    give_up,
    is_busy,
    open_or_rebuild,
    tables_schema,
    verify,
)
from syndicate.models import EMPTY_BODY, Article, Body, Media, Translation, _pickled_by_fields

log = logging.getLogger("syndicate")

FILE_NAME = "variants.sqlite3"
_SCHEMA = 1
_NAME = "variant cache"
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Entry:
    """One source article's outcome in one language."""

    article: Article | None  # the translated article; None: refused
    reason: str | None = None  # why it is refused
    key: str | None = None  # the translated article's render key, when it is already prepared
    partners: tuple[str, ...] = ()  # source keys of the articles refused with the same repeated answer
    pairs: tuple[tuple[str, str], ...] = ()  # (sent, answer) of its segments refused as a repeated answer


_pickled_by_fields(Entry)  # loaded as Entry(*fields): no dataclass __setstate__ per entry


class Packed(NamedTuple):
    """An entry as it is stored (:func:`encode`): its pickle, and whether it is a refusal."""

    blob: bytes
    refused: bool


# What an entry's pickle refers to by position instead of copying: syndicate's classes, the empty body and
# the body loader, then the source article's field values (see the module docstring).  A change of this
# list is a change of syndicate's code, so of every context key: a row is never read with another list.
_STATIC: tuple[object, ...] = (Entry, Article, Translation, Media, datetime, EMPTY_BODY, Body._packed)
_LOADER = len(_STATIC) - 1  # Body._packed: a new bound method at every access, found by equality
_STATIC_IDS = {id(value): n for n, value in enumerate(_STATIC[:_LOADER])}
_source_fields = operator.attrgetter(*(f.name for f in fields(Article)))


def references(source: Article) -> list[object]:
    """What the stored entries of ``source``'s translations refer to: positions in this list."""
    return [*_STATIC, *_source_fields(source)]


def encode(entry: Entry, source: Article) -> Packed:
    """``entry`` (the outcome of ``source`` in one language) as it is stored."""
    table = dict(_STATIC_IDS)
    values = _source_fields(source)
    table.update((id(value), n) for n, value in enumerate(values, len(_STATIC)) if _worth(value))

    def persistent_id(obj: object) -> int | None:
        ref = table.get(id(obj))
        if ref is None and type(obj) is MethodType and obj == Body._packed:
            return _LOADER
        if ref is None and type(obj) is Body and not obj:
            return _STATIC_IDS[id(EMPTY_BODY)]
        return ref

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.persistent_id = persistent_id  # type: ignore[method-assign]
    pickler.dump(entry)
    return Packed(buffer.getvalue(), entry.article is None)


def decode(blob: object, refs: list[object]) -> Entry:
    """A stored entry, given its source article's :func:`references`."""
    if not isinstance(blob, bytes):
        raise TypeError(f"not a variant cache entry: {type(blob).__name__}")
    unpickler = pickle.Unpickler(io.BytesIO(blob))
    unpickler.persistent_load = refs.__getitem__  # type: ignore[method-assign]
    entry = unpickler.load()
    if not isinstance(entry, Entry):
        raise TypeError(f"not a variant cache entry: {type(entry).__name__}")
    return entry


def _worth(value: object) -> bool:
    """Whether a reference to ``value`` saves anything over a copy."""
    if value is None or type(value) in (bool, int, float):
        return False
    return not (type(value) in (str, tuple, bytes) and len(value) < 2)  # type: ignore[arg-type]


class Sources:
    """This run's source articles by content key, with what their stored entries refer to (made once)."""

    def __init__(self, articles: Mapping[str, Article]) -> None:
        self._articles = articles
        self._refs: dict[str, list[object]] = {}

    def references(self, key: str) -> list[object] | None:
        """The references of the source article with content key ``key``; None: this run has none."""
        refs = self._refs.get(key)
        if refs is None:
            article = self._articles.get(key)
            if article is None:
                return None
            refs = self._refs[key] = references(article)
        return refs


def cache_path(directory: Path) -> Path:
    return directory / FILE_NAME


def context_key(*parts: object) -> str:
    """A digest of what, besides the article, makes a variant (see the module docstring)."""
    from syndicate.incremental import code_version

    return hashlib.blake2b(repr((code_version(), *parts)).encode(), digest_size=16).hexdigest()


class VariantCache:
    """Translated (or refused) articles per source article, target language and context."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = open_or_rebuild(path, _SCHEMA_CHECK)
        self._strict = False
        self.queries = 0  # SELECTs run (a run makes one per language)

    @classmethod
    def open_existing(cls, path: Path, *, writable: bool = False) -> VariantCache | None:
        """The cache at ``path`` as it is, for the cache commands; None if there is none.

        Creates nothing and never rebuilds: a damaged file is an InputError naming it.
        """
        from syndicate.errors import InputError

        if not path.exists():
            return None
        self = cls.__new__(cls)
        self.path, self._strict, self.queries = path, True, 0
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={'rw' if writable else 'ro'}", uri=True)
        except sqlite3.Error as exc:
            raise InputError(path, f"cannot open {_NAME}: {exc}") from exc
        try:
            verify(conn, tables_schema(_NAME, _SCHEMA, _TABLES, create=False), integrity=True)
        except (sqlite3.Error, CacheDamaged) as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
                raise InputError(path, f"{_NAME} is in use by another run ({exc})") from exc
            raise InputError(path, f"damaged {_NAME} ({exc}); delete it or run a publish to rebuild it") from exc
        self._conn = conn
        return self

    # ------------------------------------------------------------------ a run

    def load(self, context: str, sources: Sources) -> dict[str, Entry]:
        """The entries of ``context`` (one language's) of the source articles in ``sources``, by source
        key: one query.  The rows of other source articles are not unpickled."""
        if self._conn is None:
            return {}
        try:
            self.queries += 1
            rows = self._conn.execute("SELECT source, entry FROM variants WHERE context = ?", (context,))
            # row by row: a language's 10,000 pickles are never all in memory (each body goes to the spill)
            found: dict[str, Entry] = {}
            for source, blob in rows:
                refs = sources.references(source)
                if refs is not None:
                    found[source] = decode(blob, refs)
            return found
        except READ_ERRORS as exc:
            self._disable(exc)
            return {}

    def add(self, context: str, site: str, target: str, provider: str, new: Mapping[str, Packed]) -> None:
        """Add ``new`` (entries of ``context``, in language ``target``) for ``site`` (its target directory)."""
        if self._conn is None or not new:
            return
        now = time.time()
        rows = ((context, s, site, provider, target, now, int(e.refused), e.blob) for s, e in new.items())
        try:
            with self._conn:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO variants (context, source, site, provider, target, created, refused, entry)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.Error as exc:
            self._disable(exc)

    def prune(self, context: str, site: str, target: str, keep: Iterable[str]) -> None:
        """Drop ``site``'s rows of ``target`` that this run did not use (another context, or a source
        article it no longer has).  Other sites sharing the cache directory keep theirs."""
        if self._conn is None:
            return
        kept = set(keep)
        try:
            with self._conn:
                stale = [
                    (str(c), str(s))
                    for c, s in self._conn.execute(
                        "SELECT context, source FROM variants WHERE site = ? AND target = ?", (site, target)
                    )
                    if c != context or s not in kept
                ]
                self._conn.executemany("DELETE FROM variants WHERE context = ? AND source = ?", stale)
        except sqlite3.Error as exc:
            self._disable(exc)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def __enter__(self) -> VariantCache:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- commands

    def stats(self) -> dict[str, Any]:
        """Entries (translated and refused), size, and counts per provider and target language."""
        rows = self._query("SELECT provider, target, COUNT(*) FROM variants GROUP BY 1, 2 ORDER BY 1, 2")
        providers: dict[str, dict[str, int]] = {}
        for provider, target, count in rows:
            providers.setdefault(str(provider), {})[str(target)] = int(count)
        counted = self._query("SELECT COUNT(*) FROM variants WHERE refused")
        refused = int(counted[0][0]) if counted else 0
        total = sum(n for pairs in providers.values() for n in pairs.values())
        return {"path": str(self.path), "entries": total, "refused": refused, "size_bytes": self._size(),
                "providers": providers}  # fmt: skip

    def forget(self, *, provider: str | None = None, language: str | None = None, before: float | None = None) -> int:
        """Delete the entries matching every given filter (as :meth:`SegmentCache.forget`); how many."""
        clauses: list[str] = []
        params: list[Any] = []
        if provider is not None:
            clauses.append("(provider = ? OR provider LIKE ?)")
            params += [provider, f"{provider}@%"]
        if language is not None:
            clauses.append("(target = ? OR target LIKE ?)")
            params += [language, f"{language}-%"]
        if before is not None:
            clauses.append("created < ?")
            params.append(before)
        where = " AND ".join(clauses) if clauses else "1"
        counted = self._query(f"SELECT COUNT(*) FROM variants WHERE {where}", params)
        total = int(counted[0][0]) if counted else 0
        if total:
            self._query(f"DELETE FROM variants WHERE {where}", params)
        return total

    def forget_sources(self, sources: Iterable[str]) -> int:
        """Delete every entry of the given source articles (by content key), whatever the language."""
        keys = list(dict.fromkeys(sources))
        total = 0
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            counted = self._query(f"SELECT COUNT(*) FROM variants WHERE source IN ({marks})", chunk)
            total += int(counted[0][0]) if counted else 0
            self._query(f"DELETE FROM variants WHERE source IN ({marks})", chunk)
        return total

    def clear(self) -> int:
        counted = self._query("SELECT COUNT(*) FROM variants")
        self._query("DELETE FROM variants")
        return int(counted[0][0]) if counted else 0

    # --------------------------------------------------------------- helpers

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        if self._conn is None:
            return []
        try:
            with self._conn:
                return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            if self._strict:
                from syndicate.errors import InputError

                raise InputError(self.path, f"{_NAME} failed ({exc})") from exc
            self._disable(exc)
            return []

    def _disable(self, exc: Exception) -> None:
        give_up(self._conn, _NAME, exc)
        self._conn = None

    def _size(self) -> int:
        files = [self.path, *(Path(f"{self.path}{suffix}") for suffix in SIDE_FILES)]
        return sum(f.stat().st_size for f in files if f.exists())


_TABLES = {
    "variants": "CREATE TABLE variants (context TEXT NOT NULL, source TEXT NOT NULL, site TEXT NOT NULL,"
    " provider TEXT NOT NULL, refused INTEGER NOT NULL,"
    " target TEXT NOT NULL, created REAL NOT NULL, entry BLOB NOT NULL,"
    " PRIMARY KEY (context, source)) WITHOUT ROWID",
}
_SCHEMA_CHECK = tables_schema(_NAME, _SCHEMA, _TABLES)
