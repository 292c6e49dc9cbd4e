"""Index-page lines: each item's line on a listing page, rendered once and kept across runs.

An edition's index page (``<lang>/index.html``), its section pages and the
site's front page list items through the theme's ``item.html``: one line per
item.  A line depends only on the item's article, the page's language, the
heading level and the things every line shares (syndicate's code, the site,
the theme), never on the other items.  So :class:`LineStore` renders each line
once per render key and keeps it in ``lines.sqlite3`` in the cache directory;
a listing page joins its lines (:meth:`LineStore.lines`, called from the
theme's ``article_list.html`` as ``item_lines(heading)``) and a run after one
new article renders one new line per language and heading level, not 10,000.

The key of a line is ``(context, article key)``; the context is a digest of
the code version, the library versions, the site, the theme's digest, the
language and the heading level (:func:`context_of`).  ``item.html`` sees
``item``, ``heading``, ``site``, ``lang``, ``dir`` and ``labels`` only: what
the key covers.  The file is opened with
:func:`syndicate.cachefile.open_or_rebuild` (a file that is no line store is
rebuilt, with a warning); any later error makes the store memory-only for the
rest of the run (:func:`syndicate.cachefile.give_up`: one warning, and a
damaged file is moved aside for the next run to rebuild).
Lines of articles that a page no longer lists are dropped, and so are the
contexts a newer one replaced for the same language and heading (beyond the
newest two: switching a theme back and forth stays cheap).

A listing page rendered in a forked worker (a full build) hands its new lines
back to the parent's store: in a file of the scratch directory when there is
one (:meth:`LineStore.hand_over`, :meth:`LineStore.adopt_file`: written record
by record in the worker, read record by record into the database here, so
20,000 lines never travel as one pickled message nor wait whole in either
process), else as a list (:meth:`LineStore.take_new`, :meth:`LineStore.adopt`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sqlite3
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from markupsafe import Markup

from syndicate.cachefile import close_after, give_up, tables_schema
from syndicate.models import Article
from syndicate.render.frames import Frames
from syndicate.render.theme import Theme, long_html

_SCHEMA = tables_schema(
    "line store",
    2,
    {
        "lines": "CREATE TABLE lines (context TEXT NOT NULL, key TEXT NOT NULL, line TEXT NOT NULL,"
        " PRIMARY KEY (context, key)) WITHOUT ROWID",
        "contexts": "CREATE TABLE contexts (context TEXT PRIMARY KEY, slot TEXT NOT NULL, run INTEGER NOT NULL)"
        " WITHOUT ROWID",
    },
)
_KEEP_CONTEXTS = 2  # per language and heading: the newest contexts (code, site, theme) kept with their lines
ITEM_TEMPLATE = "item.html"
LINE_VARIABLES = ("site", "lang", "dir", "labels")  # what item.html sees besides item and heading

ItemOf = Callable[[Article], Mapping[str, object]]  # an article -> the ``item`` variable of item.html
# What a detached store rendered: new (context, key, line)s and the (context, slot, keys) its pages asked for.
NewLines = tuple[list[tuple[str, str, str]], list[tuple[str, str, tuple[str, ...]]]]
_INSERT = "INSERT OR REPLACE INTO lines (context, key, line) VALUES (?, ?, ?)"


@dataclass(frozen=True, slots=True)
class Handover:
    """What a detached store rendered, written to ``file`` (:meth:`LineStore.hand_over`): ``lines`` new
    lines, then ``asked`` pages' (context, slot, keys); ``size`` bytes in all (a shorter file is damaged)."""

    file: str
    size: int
    lines: int
    asked: int


class LineStore:
    """The lines of the listing pages of one run: a memo of the current context over ``lines.sqlite3``.

    ``path`` None keeps the lines of the run in memory only.  ``rendered``
    counts the lines this run rendered with ``item.html``; ``reused`` the ones
    it took from the store or from an earlier page of the run.
    """

    def __init__(self, path: Path | None = None) -> None:
        from syndicate.cachefile import open_or_rebuild

        self._conn = open_or_rebuild(path, _SCHEMA) if path is not None else None
        self.cold = True  # no line kept at all (a first or full build): listing pages may render elsewhere
        if self._conn is not None:
            try:  # synchronous=NORMAL: a cache, a lost last commit only costs a re-render
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self.cold = self._conn.execute("SELECT 1 FROM lines LIMIT 1").fetchone() is None
            except sqlite3.Error as exc:
                self._disable(exc)
        self._detached = False  # in a forked worker: the database is the parent's, never touched here
        self._context = ""
        self._memo: dict[str, str] = {}  # article key -> line, in the current context
        self._asked: dict[str, set[str]] = {}  # context -> the keys its pages listed this run
        self._loaded: dict[str, set[str]] = {}  # context -> the keys the store held for it
        self._pending: list[tuple[str, str, str]] = []  # (context, key, line) to write
        self._slots: dict[str, str] = {}  # context -> "language|heading", the pages it serves
        self._adopted: dict[str, dict[str, str]] = {}  # context -> lines a worker rendered for this run
        self._requests: list[tuple[str, str, tuple[str, ...]]] = []  # detached: (context, slot, keys) asked
        self.rendered = 0
        self.reused = 0

    def lines(
        self,
        theme: Theme,
        site: object,
        language: str,
        heading: str,
        variables: Mapping[str, Any],
        articles: Sequence[Article],
        keys: Sequence[str],
        item_of: ItemOf,
    ) -> Markup:
        """The joined lines of ``articles`` (article keys ``keys``) on a page in ``language``, rendering
        only the ones not kept.  ``variables`` are the page's (item.html gets :data:`LINE_VARIABLES`)."""
        context = context_of(site, theme, language, heading)
        self._slots[context] = f"{language}|{heading}"
        self._enter(context)
        memo = self._memo
        self._asked[context].update(keys)
        if self._detached:
            self._requests.append((context, self._slots[context], tuple(keys)))
        missing = [i for i, key in enumerate(keys) if key not in memo]
        self.reused += len(keys) - len(missing)
        if missing:
            fresh = _render(theme, variables, heading, (item_of(articles[i]) for i in missing))
            for i, line in zip(missing, fresh, strict=True):
                memo[keys[i]] = line
                self._pending.append((context, keys[i], line))
            self.rendered += len(missing)
        return long_html([memo[key] for key in keys])

    def _enter(self, context: str) -> None:
        """Make ``context`` the current one: write the last one's new lines, load this one's kept lines."""
        if context == self._context:
            return
        self._flush()
        self._context = context
        self._memo = self._load(context)
        self._memo.update(self._adopted.get(context, {}))
        self._loaded.setdefault(context, set()).update(self._memo)
        self._asked.setdefault(context, set())

    # ------------------------------------------------ listing pages in workers

    def detach(self) -> None:
        """In a forked worker process: render lines in memory only, never touching the parent's database
        (not even closing it); :meth:`take_new` hands what was rendered back to the parent."""
        if not self._detached:
            self._detached = True
            self._pending, self._requests = [], []  # the parent's, inherited: not this process's to hand back

    def take_new(self) -> NewLines:
        """In a worker: the lines rendered and the pages asked for since the last call."""
        new, asked = self._pending, self._requests
        self._pending, self._requests = [], []
        self._memo, self._context = {}, ""  # handed over: a worker does not keep a page's lines after it
        return new, asked

    def hand_over(self, directory: str) -> Handover:
        """In a worker: :meth:`take_new`, written record by record into a new file in ``directory``
        (length-prefixed UTF-8: the pages' keys, then the lines) for the parent's :meth:`adopt_file`;
        the lines are not kept here."""
        new, asked = self.take_new()
        global _handover_serial
        _handover_serial += 1
        name = f"{directory}/lines-{os.getpid()}-{_handover_serial}"
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "wb", buffering=1 << 16) as fh:
                for context, slot, keys in asked:
                    _write_strings(fh, (context, slot, str(len(keys))))
                    _write_strings(fh, keys)
                for row in new:
                    _write_strings(fh, row)
                size = fh.tell()
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        return Handover(name, size, len(new), len(asked))

    def adopt_file(self, handover: Handover) -> None:
        """In the parent: :meth:`adopt` the pages and lines of a worker's :meth:`hand_over` file, read
        record by record (the lines go into the database as they are read), then delete the file.

        Raises OSError or ValueError when the file cannot be read or is not as announced; then no
        line of it is in the database (one transaction) and no page's keys are noted: the caller
        renders the page here instead."""
        try:
            with open(handover.file, "rb", buffering=1 << 16) as fh:
                if os.fstat(fh.fileno()).st_size != handover.size:
                    raise ValueError(f"{handover.file}: not {handover.size} bytes")
                asked = []
                for _ in range(handover.asked):
                    context, slot, count = _read_strings(fh, 3, handover.size)
                    asked.append((context, slot, _read_strings(fh, int(count), handover.size)))
                self._flush()  # this process's own new lines first, as adopt does
                rows = self._adopting(_read_lines(fh, handover.lines, handover.size))
                if self._conn is not None:
                    try:
                        with self._conn:  # one transaction: a damaged file leaves no line of it written
                            self._conn.executemany(_INSERT, rows)
                    except sqlite3.Error as exc:
                        self._disable(exc)
                for _ in rows:  # memory only (no database, or it just failed): kept by _adopting
                    pass
        finally:
            with contextlib.suppress(OSError):
                os.unlink(handover.file)
        for context, slot, keys in asked:
            self._slots[context] = slot
            self._asked.setdefault(context, set()).update(keys)
        self.rendered += handover.lines

    def _adopting(self, rows: Iterator[tuple[str, str, str]]) -> Iterator[tuple[str, str, str]]:
        """``rows`` passed on, each kept in memory first where :meth:`adopt` keeps it."""
        for row in rows:
            context, key, line = row
            if self._conn is None:
                self._adopted.setdefault(context, {})[key] = line
            if context == self._context:
                self._memo[key] = line
            yield row

    def adopt(self, new: Sequence[tuple[str, str, str]], asked: Sequence[tuple[str, str, tuple[str, ...]]]) -> None:
        """In the parent: keep the lines a worker rendered, as if its pages had been rendered here
        (written at once: a page rendered here later finds them in the database, or in memory when
        the store has none)."""
        for context, key, line in new:
            if self._conn is None:
                self._adopted.setdefault(context, {})[key] = line
            if context == self._context:
                self._memo[key] = line
        self._pending.extend(new)
        self.rendered += len(new)
        for context, slot, keys in asked:
            self._slots[context] = slot
            self._asked.setdefault(context, set()).update(keys)
        self._flush()

    def _load(self, context: str) -> dict[str, str]:
        if self._conn is None or self._detached:
            return {}
        try:
            return dict(self._conn.execute("SELECT key, line FROM lines WHERE context = ?", (context,)).fetchall())
        except sqlite3.Error as exc:
            self._disable(exc)
            return {}

    def _flush(self) -> None:
        """Write the new lines rendered since the last flush."""
        if self._detached:
            return  # kept for take_new
        pending, self._pending = self._pending, []
        if self._conn is None or not pending:
            return
        try:
            with self._conn:
                self._conn.executemany(_INSERT, pending)
        except sqlite3.Error as exc:
            self._disable(exc)

    def close(self) -> None:
        """Write what is pending; drop the kept lines no page of their context listed this run, and
        the contexts a newer one replaced (a changed theme, site or code) beyond the newest few."""
        self._flush()
        stale = [(c, key) for c, loaded in self._loaded.items() for key in loaded - self._asked[c]]
        used = [(c, self._slots[c]) for c in self._asked]
        self._memo, self._loaded, self._asked = {}, {}, {}
        if self._conn is not None:
            close_after(self._conn, lambda conn: self._prune(conn, stale, used), "line store")
            self._conn = None

    @staticmethod
    def _prune(conn: sqlite3.Connection, stale: list[tuple[str, str]], used: list[tuple[str, str]]) -> None:
        """Drop the ``stale`` lines, note this run's contexts (``used``: context, slot), and drop the
        contexts beyond the newest few of each slot: one transaction."""
        with conn:
            conn.executemany("DELETE FROM lines WHERE context = ? AND key = ?", stale)
            row = conn.execute("SELECT COALESCE(MAX(run), 0) FROM contexts").fetchone()
            run = int(row[0]) + 1
            conn.executemany(
                "INSERT OR REPLACE INTO contexts (context, slot, run) VALUES (?, ?, ?)",
                [(c, slot, run) for c, slot in used],
            )
            for slot in sorted({slot for _, slot in used}):
                older = conn.execute(
                    "SELECT context FROM contexts WHERE slot = ? ORDER BY run DESC LIMIT -1 OFFSET ?",
                    (slot, _KEEP_CONTEXTS),
                ).fetchall()
                conn.executemany("DELETE FROM lines WHERE context = ?", older)
                conn.executemany("DELETE FROM contexts WHERE context = ?", older)

    def _disable(self, exc: Exception) -> None:
        give_up(self._conn, "line store", exc)
        self._conn = None


_handover_serial = 0  # per process: hand-over files are lines-<pid>-<serial> in the scratch directory
_LENGTH = struct.Struct("<I")


def _write_strings(fh: BinaryIO, texts: Iterable[str]) -> None:
    """Each of ``texts`` as its UTF-8 length (4 bytes, little-endian) and its UTF-8."""
    for text in texts:
        data = text.encode("utf-8")
        fh.write(_LENGTH.pack(len(data)))
        fh.write(data)


def _read_strings(fh: BinaryIO, count: int, limit: int) -> list[str]:
    """The next ``count`` strings :func:`_write_strings` wrote in a file of ``limit`` bytes; ValueError
    when the file ends early (a damaged length is never read as it says: at most ``limit`` bytes)."""
    texts = []
    for _ in range(count):
        head = fh.read(4)
        if len(head) != 4:
            raise ValueError("line hand-over file ends early")
        (size,) = _LENGTH.unpack(head)
        if size > limit:
            raise ValueError("line hand-over file ends early")
        data = fh.read(size)
        if len(data) != size:
            raise ValueError("line hand-over file ends early")
        texts.append(data.decode("utf-8"))
    return texts


def _read_lines(fh: BinaryIO, count: int, limit: int) -> Iterator[tuple[str, str, str]]:
    """The last ``count`` records of a hand-over file, (context, key, line) one at a time; ValueError
    when the file ends before them or does not end after them."""
    for _ in range(count):
        context, key, line = _read_strings(fh, 3, limit)
        yield context, key, line
    if fh.read(1):
        raise ValueError("line hand-over file goes on after its last line")


def _render(
    theme: Theme, variables: Mapping[str, Any], heading: str, items: Iterable[Mapping[str, object]]
) -> list[str]:
    """``item.html`` rendered for each item (a broken user template is a ConfigError naming it)."""
    shared = {name: variables[name] for name in LINE_VARIABLES}
    shared["heading"] = heading
    return Frames(theme, ITEM_TEMPLATE, shared, (ITEM_TEMPLATE,)).render_all({"item": item} for item in items)


def context_of(site: object, theme: Theme, language: str, heading: str) -> str:
    """The digest every line of a page shares: code, libraries, site, theme, language, heading."""
    parts = (_code_version(), repr(site), theme.digest, language, heading)
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def article_key(article: Article) -> str:
    """A digest of every field of an article (for callers that have no render key at hand)."""
    return hashlib.blake2b(article.key_text().encode(), digest_size=12).hexdigest()


@functools.lru_cache(maxsize=1)
def _code_version() -> str:
    from importlib.metadata import version

    from syndicate.incremental import code_version

    libraries = ",".join(f"{package}={version(package)}" for package in ("babel", "jinja2", "markupsafe"))
    return f"{code_version()}|{libraries}"
