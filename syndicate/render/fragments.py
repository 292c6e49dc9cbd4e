"""Feeds joined from per-item fragments: a run renders only the items that are new or changed.

A feed document, as the renderers (:mod:`.feeds`, :mod:`.jsonfeed`) write it,
is a head, one fragment per item and a tail::

    RSS   head | "    <item>...</item>\\n" ... | "  </channel>\\n</rss>\\n"
    Atom  head | "  <entry ...>...</entry>\\n" ... | "</feed>\\n"
    JSON  head | "    {...}" joined by ",\\n" | "\\n  ]\\n}\\n"

An item's fragment depends only on the site, the edition's language and the
article (its render key), never on the other items; the head depends on the
edition and on two aggregates of its items (the newest ``modified`` date, and
whether any item has an image: the Media RSS namespace).  So when the last run's
document of a path is still published, this run's document is

* its fragments of the articles whose keys it already holds, cut from the
  published file (:func:`split`), and
* one small document rendered by the format's own renderer (for RSS and Atom:
  feedgen's frame and the directly written items) with only the new or changed
  articles plus the ones that decide the head, cut the same way: its head, its
  tail and the new fragments,

joined.  The result is byte-for-byte what rendering the whole edition gives
(the golden files and ``tests/test_fragments.py`` hold it to that).  Which item
keys a published document holds is recorded, by the document's sha256, in
``fragments.sqlite3`` in the cache directory; a document whose bytes or
context (code, site, language, format) differ from the record is never cut,
and any doubt (a cut that does not give exactly one fragment per key) falls
back to rendering the whole edition.  Full builds render whole documents as
before and only record their keys.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import mmap
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from syndicate.cachefile import give_up, tables_schema
from syndicate.models import Edition

log = logging.getLogger("syndicate")
_SCHEMA = tables_schema(
    "fragment store",
    1,
    {
        "documents": "CREATE TABLE documents (digest TEXT NOT NULL, context TEXT NOT NULL, keys TEXT NOT NULL,"
        " run INTEGER NOT NULL, PRIMARY KEY (digest, context)) WITHOUT ROWID",
    },
)
_KEEP_RUNS = 3  # records of documents published by older runs are dropped


Fragment = bytes | memoryview  # an item cut from a document: a view of its bytes, not a copy
Document = bytes | mmap.mmap  # a published document as read (a large one: an anonymous map)


@dataclass(frozen=True, slots=True)
class Split:
    """A document cut into head, item fragments and tail: ``head + sep.join(items) + tail``."""

    head: bytes
    items: list[Fragment]
    tail: bytes
    sep: bytes

    def join(self, items: Sequence[Fragment]) -> bytes:
        return self.head + self.sep.join(items) + self.tail

    def parts(self) -> Iterator[Fragment]:
        """The document's pieces in order (``b"".join(parts())`` is :meth:`join` of :attr:`items`):
        written one by one, a joined feed never exists whole in memory."""
        yield self.head
        for index, item in enumerate(self.items):
            if index and self.sep:
                yield self.sep
            yield item
        yield self.tail


def split(document: Document, fmt: str, count: int) -> Split | None:
    """``document`` cut into ``count`` item fragments, or None when it is not exactly that."""
    if count < 1:
        return None
    if fmt == "json":
        return _split_json(document, count)
    mark, end = (b"\n    <item>", b"\n  </channel>") if fmt == "rss" else (b"\n  <entry", b"\n</feed>")
    starts = []
    found = document.find(mark)
    while found != -1:
        starts.append(found + 1)
        found = document.find(mark, found + 1)
    stop = document.rfind(end)
    if len(starts) != count or stop == -1 or stop + 1 < starts[-1]:
        return None
    bounds = [*starts, stop + 1]
    view = memoryview(document)  # the items are views: a cut costs no copy of the document
    items: list[Fragment] = [view[bounds[i] : bounds[i + 1]] for i in range(count)]
    return Split(document[: starts[0]], items, document[stop + 1 :], b"")


def _split_json(document: Document, count: int) -> Split | None:
    opening, closing, sep = b'\n  "items": [\n', b"\n  ]\n}\n", b",\n"
    start = document.find(opening)
    if start == -1 or document[len(document) - len(closing) :] != closing:
        return None
    first, stop = start + len(opening), len(document) - len(closing)
    bounds = [first]  # an item is one line: JSON escapes every newline inside its strings
    found = document.find(sep, first, stop)
    while found != -1:
        bounds.append(found + len(sep))
        found = document.find(sep, found + len(sep), stop)
    if len(bounds) != count:
        return None
    ends = [b - len(sep) for b in bounds[1:]] + [stop]
    view = memoryview(document)  # views, as for RSS and Atom: no copy of the document
    items: list[Fragment] = [view[a:b] for a, b in zip(bounds, ends, strict=True)]
    if not all(bytes(item[:5]) == b"    {" for item in items):
        return None
    return Split(document[:first], items, closing, sep)


def head_articles(edition: Edition) -> set[int]:
    """Indices of the articles that decide a document's head: the newest change, the first image."""
    articles = edition.articles
    chosen = {max(range(len(articles)), key=lambda i: articles[i].modified)}
    for index, article in enumerate(articles):
        if getattr(article, "image", None) is not None:
            chosen.add(index)
            break
    return chosen


def render_feed(
    fmt: str,
    edition: Edition,
    keys: Sequence[str],
    render: Callable[[Edition], bytes],
    previous: dict[str, Fragment] | None,
) -> bytes:
    """The document of ``edition`` (item ``keys`` in order), reusing ``previous`` fragments by key."""
    document = assemble(fmt, edition, keys, render, previous)
    return document if isinstance(document, bytes) else document.join(document.items)


def assemble(
    fmt: str,
    edition: Edition,
    keys: Sequence[str],
    render: Callable[[Edition], bytes],
    previous: dict[str, Fragment] | None,
) -> bytes | Split:
    """:func:`render_feed` unjoined: a :class:`Split` whose items are this document's, in order
    (write its :meth:`Split.parts`), or the whole document when nothing could be reused."""
    if not previous or not edition.articles:
        return render(edition)
    wanted = sorted({i for i, key in enumerate(keys) if key not in previous} | head_articles(edition))
    partial = dataclasses.replace(edition, articles=tuple(edition.articles[i] for i in wanted))
    cut = split(render(partial), fmt, len(wanted))
    if cut is None:
        return render(edition)
    fresh = dict(zip(wanted, cut.items, strict=True))
    items = [fresh[i] if i in fresh else previous[key] for i, key in enumerate(keys)]
    return Split(cut.head, items, cut.tail, cut.sep)


class FragmentStore:
    """The last runs' feed documents: which item keys each holds, found again by its sha256.

    ``published(path)`` gives the bytes of a path as the target holds it when
    it is intact (else None); ``recorded(path)``, when given, their sha256 as
    the publisher recorded it (a 10,000-item feed is then not hashed again).
    Records live in ``fragments.sqlite3`` (opened with
    :func:`syndicate.cachefile.open_or_rebuild`: a damaged file is rebuilt, and
    any error makes the store a no-op: whole documents are rendered).
    """

    def __init__(
        self,
        path: Path,
        published: Callable[[str], Document | None],
        recorded: Callable[[str], str | None] | None = None,
    ) -> None:
        from syndicate.cachefile import open_or_rebuild

        self.published = published
        self.recorded = recorded  # the sha256 the publisher recorded for an intact path: not hashed again
        self._conn = open_or_rebuild(path, _SCHEMA)
        self._pending: list[tuple[str, str, str]] = []
        self.reused = 0  # fragments taken from published documents, this run

    def previous(self, path: str, fmt: str, context: str) -> dict[str, Fragment] | None:
        """key -> fragment of the document published at ``path``, when its record matches."""
        if self._conn is None:
            return None
        data = self.published(path)
        if data is None:
            return None
        try:
            row = self._conn.execute(
                "SELECT keys FROM documents WHERE digest = ? AND context = ?",
                ((self.recorded and self.recorded(path)) or _digest(data), _context(fmt, context)),
            ).fetchone()
        except sqlite3.Error as exc:
            self._disable(exc)
            return None
        if row is None:
            return None
        keys = row[0].split(",") if row[0] else []
        cut = split(data, fmt, len(keys))
        if cut is None:
            return None
        self.reused += len(keys)
        return dict(zip(keys, cut.items, strict=True))

    def record(self, data: bytes | str, fmt: str, context: str, keys: Sequence[str]) -> None:
        """Remember which item keys the document ``data`` (its bytes, or their sha256 in hex) holds
        (written at :meth:`close`)."""
        if self._conn is not None and keys:
            digest = data if isinstance(data, str) else _digest(data)
            self._pending.append((digest, _context(fmt, context), ",".join(keys)))

    def close(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(sqlite3.Error), self._conn:
            row = self._conn.execute("SELECT COALESCE(MAX(run), 0) FROM documents").fetchone()
            run = int(row[0]) + 1
            self._conn.executemany(
                "INSERT OR REPLACE INTO documents (digest, context, keys, run) VALUES (?, ?, ?, ?)",
                [(*entry, run) for entry in self._pending],
            )
            self._conn.execute("DELETE FROM documents WHERE run <= ?", (run - _KEEP_RUNS,))
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        self._conn = None
        self._pending = []

    def _disable(self, exc: Exception) -> None:
        give_up(self._conn, "fragment store", exc)
        self._conn = None


def _digest(data: Document) -> str:
    return hashlib.sha256(data).hexdigest()


def _context(fmt: str, context: str) -> str:
    return f"{fmt}|{context}"
