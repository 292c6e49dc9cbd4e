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

import array
import dataclasses
import hashlib
import logging
import mmap
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from syndicate import shelf
from syndicate.cachefile import close_after, give_up, tables_schema
from syndicate.models import Edition
from syndicate.publish import FileRange, PublishedFile

log = logging.getLogger("syndicate")
_SCHEMA = tables_schema(
    "fragment store",
    2,
    {
        "documents": "CREATE TABLE documents (digest TEXT NOT NULL, context TEXT NOT NULL, keys TEXT NOT NULL,"
        " bounds BLOB, run INTEGER NOT NULL, PRIMARY KEY (digest, context)) WITHOUT ROWID",
    },
)
_KEEP_RUNS = 3  # records of documents published by older runs are dropped


# An item cut from a document: a view of its bytes, not a copy, or a range of a published file
# read only when it is written.
Fragment = bytes | memoryview | FileRange
Scannable = bytes | mmap.mmap  # a document in memory (a large one read whole: an anonymous map)
Document = Scannable | PublishedFile  # a published document (a large one: read on demand)


@dataclass(frozen=True, slots=True)
class Split:
    """A document cut into head, item fragments and tail: ``head + sep.join(items) + tail``.

    Joined from a :class:`Previous`, an "item" may be a run of consecutive items of the published
    document (one slice, separators included); ``bounds`` then says where each item starts.
    """

    head: bytes
    items: list[Fragment]
    tail: bytes
    sep: bytes
    bounds: list[int] | None = None  # where each item starts in the joined document (see item_bounds)

    def join(self, items: Sequence[Fragment]) -> bytes:
        return self.head + self.sep.join(bytes(i) if isinstance(i, FileRange) else i for i in items) + self.tail

    def parts(self) -> Iterator[Fragment]:
        """The document's pieces in order (``b"".join(parts())`` is :meth:`join` of :attr:`items`):
        written one by one, a joined feed never exists whole in memory."""
        yield self.head
        for index, item in enumerate(self.items):
            if index and self.sep:
                yield self.sep
            yield item
        yield self.tail


def split(document: Scannable, fmt: str, count: int) -> Split | None:
    """``document`` cut into ``count`` item fragments, or None when it is not exactly that."""
    found = item_bounds(document, fmt, count)
    if found is None:
        return None
    bounds, sep = found
    view = memoryview(document)  # the items are views: a cut costs no copy of the document
    items: list[Fragment] = [view[bounds[i] : bounds[i + 1] - len(sep)] for i in range(count)]
    return Split(document[: bounds[0]], items, document[bounds[-1] - len(sep) :], sep)


# How an item and a document's tail begin, in each format (RSS and Atom: after a newline).
_ITEM_MARK = {"rss": b"    <item>", "atom": b"  <entry", "json": b"    {"}
_TAIL_MARK = {"rss": b"  </channel>", "atom": b"</feed>", "json": b"\n  ]\n}\n"}


def item_bounds(document: Scannable, fmt: str, count: int) -> tuple[list[int], bytes] | None:
    """Where ``document``'s ``count`` items start, and its separator; None when it is not exactly that.

    ``count + 1`` offsets: item ``i`` is ``document[b[i] : b[i + 1] - len(sep)]`` (the last offset
    is where the tail starts, plus the separator's length), so items ``i`` to ``j`` are one slice.
    """
    if count < 1:
        return None
    if fmt == "json":
        return _json_bounds(document, count)
    mark, end = b"\n" + _ITEM_MARK[fmt], b"\n" + _TAIL_MARK[fmt]
    starts = []
    found = document.find(mark)
    while found != -1:
        starts.append(found + 1)
        found = document.find(mark, found + 1)
    stop = document.rfind(end)
    if len(starts) != count or stop == -1 or stop + 1 < starts[-1]:
        return None
    starts.append(stop + 1)
    return starts, b""


def _json_bounds(document: Scannable, count: int) -> tuple[list[int], bytes] | None:
    opening, closing, sep = b'\n  "items": [\n', _TAIL_MARK["json"], _JSON_SEP
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
    if not all(document[b : b + 5] == _ITEM_MARK["json"] for b in bounds):  # every item is an object on its own line
        return None
    bounds.append(stop + len(sep))
    return bounds, sep


_JSON_SEP = b",\n"


# What a document rendered whole in pieces (head, one piece per item, tail) starts each piece with.
_ITEM_START = {
    "rss": (_ITEM_MARK["rss"],),
    "atom": (_ITEM_MARK["atom"],),
    "json": (_ITEM_MARK["json"], _JSON_SEP + _ITEM_MARK["json"]),
}


class Measured:
    """The pieces of a document rendered whole (head, one per item, tail: the formats'
    ``*_pieces`` renderers), passed on as they are while noting where each item starts: a
    worker that writes a full build's feed to a file records its item bounds, so the next run
    cuts it by them instead of reading it whole to scan it.

    :meth:`bounds` is None unless every piece looks as :func:`item_bounds` would find it (each
    item starts with its format's mark, the head and each RSS/Atom item end with a newline, the
    tail starts with the closing mark): then the run falls back to the scan, never to a cut by
    bounds that might be wrong.
    """

    _ITEM, _TAIL, _NEWLINE, _SEP = 1, 2, 4, 8  # a piece seen to start an item, a tail, to end a line, to start ",\n"

    def __init__(self, fmt: str, pieces: Iterable[bytes]) -> None:
        self.fmt, self._pieces = fmt, pieces
        self._starts: list[int] = []  # where each piece starts, and where the last one ends
        self._seen = bytearray()  # per piece: _ITEM | _TAIL | _NEWLINE flags

    def __iter__(self) -> Iterator[bytes]:
        at = 0
        items, tail = _ITEM_START.get(self.fmt, ()), _TAIL_MARK.get(self.fmt)
        for piece in self._pieces:
            flags = self._ITEM if items and piece.startswith(items) else 0
            flags |= self._TAIL if tail is not None and piece.startswith(tail) else 0
            flags |= self._NEWLINE if piece.endswith(b"\n") else 0
            flags |= self._SEP if piece.startswith(_JSON_SEP) else 0
            self._starts.append(at)
            self._seen.append(flags)
            at += len(piece)
            yield piece
        self._starts.append(at)

    def bounds(self, count: int) -> list[int] | None:
        """Where each of ``count`` items starts and where the tail does (plus the separator), as
        :func:`item_bounds` gives them; None when the pieces were not exactly that."""
        starts, seen = self._starts, self._seen
        if self.fmt not in _ITEM_START or count < 1 or len(seen) != count + 2:
            return None
        if not all(flags & self._ITEM for flags in seen[1:-1]) or not seen[-1] & self._TAIL:
            return None
        if self.fmt == "json":  # the first item alone, the others after ",\n"; the tail exactly the closing
            sep = len(_JSON_SEP)
            if seen[1] & self._SEP or not all(flags & self._SEP for flags in seen[2:-1]):
                return None
            if starts[-1] - starts[-2] != len(_TAIL_MARK["json"]):
                return None
            return [starts[1], *(start + sep for start in starts[2:-1])]
        if not all(flags & self._NEWLINE for flags in seen[:-1]):  # each mark follows a newline
            return None
        return starts[1:-1]


def head_articles(edition: Edition) -> set[int]:
    """Indices of the articles that decide a document's head: the newest change, the first image.

    Asked once per format of the same document: remembered for the last few editions."""
    hit = _heads.get(id(edition))
    if hit is not None and hit[0] is edition:
        return set(hit[1])
    newest, image = shelf.newest(edition.articles), shelf.first_image(edition.articles)
    chosen = {newest} if newest is not None else set()
    if image is not None:
        chosen.add(image)
    if len(_heads) >= 8:
        _heads.clear()
    _heads[id(edition)] = (edition, frozenset(chosen))
    return chosen


_heads: dict[int, tuple[Edition, frozenset[int]]] = {}  # id -> (edition, head articles): see head_articles


def render_feed(
    fmt: str,
    edition: Edition,
    keys: Sequence[str],
    render: Callable[[Edition], bytes],
    previous: Mapping[str, Fragment] | None,
) -> bytes:
    """The document of ``edition`` (item ``keys`` in order), reusing ``previous`` fragments by key."""
    document = assemble(fmt, edition, keys, render, previous)
    return document if isinstance(document, bytes) else document.join(document.items)


def assemble(
    fmt: str,
    edition: Edition,
    keys: Sequence[str],
    render: Callable[[Edition], bytes],
    previous: Mapping[str, Fragment] | None,
) -> bytes | Split:
    """:func:`render_feed` unjoined: a :class:`Split` whose items are this document's, in order
    (write its :meth:`Split.parts`), or the whole document when nothing could be reused.

    From a :class:`Previous` (the store's), the kept items come as runs of the published
    document (a new article among 10,000 is three pieces, not 10,000) with their bounds."""
    if not previous or not edition.articles:
        return render(edition)
    known = previous.index if isinstance(previous, Previous) else previous
    wanted = sorted({i for i, key in enumerate(keys) if key not in known} | head_articles(edition))
    partial = dataclasses.replace(edition, articles=shelf.take(edition.articles, wanted))
    cut = split(render(partial), fmt, len(wanted))
    if cut is None:
        return render(edition)
    fresh = dict(zip(wanted, cut.items, strict=True))
    if isinstance(previous, Previous):
        pieces, bounds = previous.runs(keys, fresh, len(cut.head))
        return Split(cut.head, pieces, cut.tail, cut.sep, bounds)
    items = [fresh[i] if i in fresh else previous[key] for i, key in enumerate(keys)]
    return Split(cut.head, items, cut.tail, cut.sep)


class Previous(Mapping[str, Fragment]):
    """The items of a published document by key, cut on demand from their bounds (:func:`item_bounds`)."""

    def __init__(self, document: Document, keys: Sequence[str], bounds: Sequence[int], sep: bytes) -> None:
        self.document, self.bounds, self.sep = document, bounds, len(sep)
        self.index = {key: i for i, key in enumerate(keys)}  # key -> its item's position

    def __getitem__(self, key: str) -> Fragment:
        return self._run(self.index[key], self.index[key])

    def __contains__(self, key: object) -> bool:
        return key in self.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)

    def _run(self, first: int, last: int) -> Fragment:
        """Items ``first`` to ``last`` (separators between them included): one view, no copy, or
        the range of the published file, read when it is written."""
        start, stop = self.bounds[first], self.bounds[last + 1] - self.sep
        if isinstance(self.document, PublishedFile):
            return self.document.range(start, stop)
        return memoryview(self.document)[start:stop]

    def runs(self, keys: Sequence[str], fresh: Mapping[int, Fragment], start: int) -> tuple[list[Fragment], list[int]]:
        """The pieces of a document whose items are ``keys`` (``fresh`` ones by position, the others
        kept here), consecutive kept items in one piece; and each item's start, the first at ``start``."""
        index, bounds, sep = self.index, self.bounds, self.sep
        pieces: list[Fragment] = []
        starts: list[int] = []
        first = last = -1  # the run of kept items being extended
        position = start
        for i, key in enumerate(keys):
            starts.append(position)
            piece = fresh.get(i)
            if piece is None:
                j = index[key]
                if first < 0 or j != last + 1:
                    if first >= 0:
                        pieces.append(self._run(first, last))
                    first = j
                last = j
                position += bounds[j + 1] - bounds[j]
            else:
                if first >= 0:
                    pieces.append(self._run(first, last))
                    first = -1
                pieces.append(piece)
                position += len(piece) + sep
        if first >= 0:
            pieces.append(self._run(first, last))
        starts.append(position)
        return pieces, starts


class FragmentStore:
    """The last runs' feed documents: which item keys each holds, found again by its sha256.

    ``published(path)`` gives the bytes of a path as the target holds it when
    it is intact (else None); ``recorded(path)``, when given, their sha256 as
    the publisher recorded it (a 10,000-item feed is then not hashed again).
    Records live in ``fragments.sqlite3`` (opened with
    :func:`syndicate.cachefile.open_or_rebuild`: a file that is no fragment
    store is rebuilt, and any later error makes the store a no-op, whole
    documents are rendered: :func:`syndicate.cachefile.give_up`, which moves
    a damaged file aside for the next run to rebuild).
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
        self._pending: list[tuple[str, str, str, bytes | None]] = []
        self.reused = 0  # fragments taken from published documents, this run

    def previous(self, path: str, fmt: str, context: str) -> Previous | None:
        """key -> fragment of the document published at ``path``, when its record matches.

        Its items are found by the bounds recorded with it (a document this process joined), else
        by one scan (:func:`item_bounds`: a document rendered whole, as a full build does)."""
        if self._conn is None:
            return None
        data = self.published(path)
        if data is None:
            return None
        try:
            row = self._conn.execute(
                "SELECT keys, bounds FROM documents WHERE digest = ? AND context = ?",
                ((self.recorded and self.recorded(path)) or _digest(data), _context(fmt, context)),
            ).fetchone()
        except sqlite3.Error as exc:
            self._disable(exc)
            return None
        if row is None:
            return None
        keys = row[0].split(",") if row[0] else []
        found = _recorded_bounds(row[1], fmt, len(keys), len(data))
        if found is None:  # a document rendered whole (a full build) is scanned once, read whole
            if isinstance(data, PublishedFile):
                data = data.mapped()
            found = item_bounds(data, fmt, len(keys))
        if found is None:
            return None
        self.reused += len(keys)
        return Previous(data, keys, *found)

    def record(
        self, data: bytes | str, fmt: str, context: str, keys: Sequence[str], bounds: Sequence[int] | None = None
    ) -> None:
        """Remember which item keys the document ``data`` (its bytes, or their sha256 in hex) holds,
        and where they start when known (:attr:`Split.bounds`); written at :meth:`close`."""
        if self._conn is not None and keys:
            digest = data if isinstance(data, str) else _digest(data)
            packed = array.array("q", bounds).tobytes() if bounds is not None else None
            self._pending.append((digest, _context(fmt, context), ",".join(keys), packed))

    def close(self) -> None:
        if self._conn is None:
            return
        pending, self._pending = self._pending, []

        def write(conn: sqlite3.Connection) -> None:
            with conn:
                row = conn.execute("SELECT COALESCE(MAX(run), 0) FROM documents").fetchone()
                run = int(row[0]) + 1
                conn.executemany(
                    "INSERT OR REPLACE INTO documents (digest, context, keys, bounds, run) VALUES (?, ?, ?, ?, ?)",
                    [(*entry, run) for entry in pending],
                )
                conn.execute("DELETE FROM documents WHERE run <= ?", (run - _KEEP_RUNS,))

        close_after(self._conn, write, "fragment store")
        self._conn = None

    def _disable(self, exc: Exception) -> None:
        give_up(self._conn, "fragment store", exc)
        self._conn = None


def _recorded_bounds(packed: object, fmt: str, count: int, size: int) -> tuple[Sequence[int], bytes] | None:
    """The item bounds recorded with a document (of this digest: the same bytes), when they fit it."""
    if not isinstance(packed, bytes) or len(packed) != 8 * (count + 1):
        return None
    bounds = array.array("q")
    bounds.frombytes(packed)
    sep = _JSON_SEP if fmt == "json" else b""
    if not 0 < bounds[0] <= bounds[-1] - len(sep) <= size:
        return None
    return bounds, sep


def _digest(data: Document) -> str:
    if isinstance(data, PublishedFile):
        digest = hashlib.sha256()
        for chunk in data.range(0, len(data)).chunks():
            digest.update(chunk)
        return digest.hexdigest()
    return hashlib.sha256(data).hexdigest()


def _context(fmt: str, context: str) -> str:
    return f"{fmt}|{context}"
