"""Frozen data types shared by every stage; no I/O happens here but a body's spill (:mod:`syndicate.bodies`).

* :class:`Article` is one item: what readers see as an entry in a feed.
* :class:`Body` is an article's blocks as one compact value: packed (a pickle,
  about a third of the objects' size), during a run kept in a spill file
  (:mod:`syndicate.bodies`), and unpacked when a stage walks it, so tens of
  thousands of articles in every language fit in little memory.
* :class:`Block` is one node of an article's body (DESIGN 3.4): a paragraph,
  heading, list and list item, block quote, code block, table (rows and
  cells), figure or rule.  Text-bearing blocks keep their inline markup as
  sanitized HTML (links with absolute hrefs, emphasis, strong, code spans,
  line breaks, inline images): readers sanitize it when they read, renderers
  write it as it is, and plain text (summaries, ``content_text``) is derived
  from it.
* :class:`Media` is an article's lead image or audio/video enclosure.
* :class:`Translation` marks an article as a machine translation of another.
* :class:`Site` is the publication; :class:`Edition` is one language's set of
  articles with its localized title and description.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import pickle
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, overload

from syndicate import bodies

# Code points XML 1.0 forbids (tab, newline and carriage return are allowed): readers
# reject them with an error naming the line, renderers strip them as a last defence.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What repr() writes for the characters XML_FORBIDDEN matches: str's repr escapes every
# one of them (\x00-\x1f but tab, newline and CR; surrogates; U+FFFE/U+FFFF).  A literal
# backslash is written doubled, so it can only make a false alarm, never a miss.
FORBIDDEN_IN_REPR = re.compile(r"\\x(?:0[0-8bcef]|1[0-9a-f])|\\ud[89a-f][0-9a-f]{2}|\\uff(?:fe|ff)")

BlockKind = Literal[
    "p", "h2", "h3", "h4", "ul", "ol", "li", "quote", "pre", "table", "tr", "th", "td", "figure", "hr"
]
BLOCK_KINDS: tuple[BlockKind, ...] = (
    "p", "h2", "h3", "h4", "ul", "ol", "li", "quote", "pre", "table", "tr", "th", "td", "figure", "hr"
)  # fmt: skip
# Kinds whose ``html`` is text a reader sees (and an engine translates); ``pre`` holds code.
TEXT_KINDS = frozenset({"p", "h2", "h3", "h4", "li", "th", "td", "figure"})


@dataclass(frozen=True, slots=True)
class Block:
    """One node of an article body.

    * ``html``: sanitized inline HTML for text-bearing kinds (``p``, headings,
      ``li``, table cells, a figure's caption); the escaped code of a ``pre``;
      empty for containers (``ul``, ``ol``, ``quote``, ``table``, ``tr``) and ``hr``.
    * ``children``: nested blocks: a list's items, an item's nested lists or
      further paragraphs, a quote's blocks, a table's rows, a row's cells.
    * ``attrs``: ``src``/``alt``/``title`` of a figure's image, ``start`` of an
      ordered list, ``align`` of a cell, ``lang`` of a code block.
    """

    html: str = ""
    kind: BlockKind = "p"
    children: tuple[Block, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()

    def attr(self, name: str, default: str = "") -> str:
        return next((value for key, value in self.attrs if key == name), default)

    @property
    def text(self) -> str:
        """The block's own text, without markup (a figure: its caption, else its alt text)."""
        from syndicate.content import html_to_text

        own = html_to_text(self.html, keep_space=self.kind == "pre")
        return own or (self.attr("alt") if self.kind == "figure" else "")

    def walk(self) -> Iterator[Block]:
        """This block and every block inside it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


class Body(Sequence[Block]):
    """An article's top-level blocks, held as one pickled ``bytes`` value.

    A body is written once (by a reader or a translation) and then read by a few
    stages; held as a tree of :class:`Block` objects it costs about three times
    its text (an object and a tuple per block, two bytes per character for any
    text with a curly quote).  Packed, 40,000 articles in four languages fit in
    a fraction of the memory, and the caches and worker processes move the
    bytes as they are.  Walking a body unpacks it (the last unpacked bodies are
    kept, so the stages that walk one article in turn unpack it once).

    Equality, hashing and render keys use :attr:`digest`, a digest of the
    blocks' ``repr`` (stable across runs and processes, unlike pickle bytes,
    whose sharing of equal strings depends on where they came from).
    ``repr(body)`` is the blocks' tuple, as it always was.
    """

    __slots__ = ("_at", "_data", "_size", "_spill", "clean", "digest")
    _data: bytes | None  # the packed blocks, or None: they wait in ``_spill`` at ``_at``
    _spill: bodies.Spill | None
    _at: int
    _size: int
    digest: str
    clean: bool

    def __init__(self, blocks: Iterable[Block] = ()) -> None:
        blocks = tuple(blocks)
        text = repr(blocks)
        self._keep(pickle.dumps(blocks, protocol=pickle.HIGHEST_PROTOCOL) if blocks else b"")
        self.digest = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
        self.clean = FORBIDDEN_IN_REPR.search(text) is None  # no character XML forbids, at any depth

    def _keep(self, data: bytes) -> None:
        """Hold ``data`` in the run's spill file (:mod:`syndicate.bodies`) if there is one, else here."""
        spill = bodies.current() if data else None
        at = spill.put(data) if spill is not None else None
        if at is None:
            self._data, self._spill, self._at, self._size = data, None, 0, len(data)
        else:
            self._data, self._spill, self._at, self._size = None, spill, at, len(data)

    @classmethod
    def _packed(cls, data: bytes, digest: str, clean: bool) -> Body:
        if not data and digest == EMPTY_BODY.digest:  # most articles' original_body: one shared object
            return EMPTY_BODY
        body = cls.__new__(cls)
        body._keep(data)
        body.digest, body.clean = digest, clean
        return body

    def _bytes(self) -> bytes:
        if self._data is not None:
            return self._data
        assert self._spill is not None
        return self._spill.get(self._at, self._size)

    def __reduce__(self) -> tuple[object, tuple[bytes, str, bool]]:
        return Body._packed, (self._bytes(), self.digest, self.clean)

    @property
    def blocks(self) -> tuple[Block, ...]:
        return _unpacked(self._bytes())

    @property
    def packed_size(self) -> int:
        return self._size

    @property
    def spilled(self) -> bool:
        """Whether the packed blocks wait in the run's spill file rather than in memory."""
        return self._data is None

    def __iter__(self) -> Iterator[Block]:
        return iter(self.blocks)

    def __len__(self) -> int:
        return len(self.blocks)

    def __bool__(self) -> bool:
        return self._size > 0

    @overload
    def __getitem__(self, index: int) -> Block: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Block, ...]: ...
    def __getitem__(self, index: int | slice) -> Block | tuple[Block, ...]:
        return self.blocks[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Body):
            return self.digest == other.digest
        if isinstance(other, tuple):
            return self.blocks == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return repr(self.blocks)

    @property
    def token(self) -> str:
        """What a render key writes for this body: its digest, or its whole ``repr`` when that
        shows a character XML forbids (so the key's check for them sees it)."""
        return f"Body({self.digest!r})" if self.clean else repr(self)


@functools.lru_cache(maxsize=64)
def _unpacked(data: bytes) -> tuple[Block, ...]:
    """A packed body's blocks (bytes cache their hash: a repeated unpack costs one lookup)."""
    return pickle.loads(data) if data else ()


EMPTY_BODY = Body()


def _share(record: object, names: tuple[str, ...]) -> None:
    """Make ``record``'s string fields ``names`` the one shared copy of their value.

    An article exists once per language, and every copy that comes back from a
    cache or a worker process brings its own strings: the same slug, source
    file, language tag and original's id tens of thousands of times over.
    Interned, each value is held once (about 15 MiB at N=10,000, in the main
    process and in every render worker that inherits it).
    """
    for name in names:
        value = getattr(record, name)
        if type(value) is str:
            object.__setattr__(record, name, sys.intern(value))


@dataclass(frozen=True, slots=True)
class Translation:
    """Provenance of a translated article."""

    engine: str  # human-readable engine name, e.g. "Apertium"
    source_language: str  # BCP 47 tag of the original
    original_id: str
    original_slug: str
    human: bool = False  # written by a person (an input declaring ``translation_of``): no machine note

    def __post_init__(self) -> None:
        _share(self, ("engine", "source_language", "original_id", "original_slug"))


@dataclass(frozen=True, slots=True)
class Media:
    """An article's lead image or its audio/video enclosure.

    ``url`` is absolute; ``length`` is the size in bytes (0: unknown, a remote
    file); ``media_type`` is "" when unknown.  A local file published into the
    target has its source ``file`` and its target-relative ``path``.
    """

    url: str
    media_type: str = ""
    length: int = 0
    alt: str = ""
    file: str = ""
    path: str = ""
    mtime_ns: int = 0  # a local file's when it was read: a changed file makes cached parses stale


@dataclass(frozen=True, slots=True)
class Article:
    """One feed item.  ``published`` and ``updated`` are timezone-aware."""

    id: str  # a stable IRI (urn:uuid:...), derived from content and date
    slug: str  # ASCII, [a-z0-9-], unique within the article set
    title: str
    summary: str
    body: Sequence[Block]  # a Body once constructed (a tuple of blocks is packed)
    published: datetime
    language: str  # BCP 47 tag
    updated: datetime | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    author: str | None = None
    link: str | None = None  # canonical external URL given by the source (http/https)
    source: str = ""  # the input file, for messages only (never part of identity)
    translation: Translation | None = None
    title_source: str | None = None  # the whole sentence a derived title was cut from
    date_only: bool = False  # the source gave a date without a time of day
    translation_of: str | None = None  # declared original (id, slug, source file or translationKey)
    body_language: str | None = None  # the body's language when it differs (title-only translations)
    original_body: Sequence[Block] = EMPTY_BODY  # bilingual pages: the original shown under the translation
    image: Media | None = None  # the lead image (front matter, JSON image, else the first figure)
    media: tuple[Media, ...] = ()  # local files the article publishes (its lead image, its figures)
    enclosure: Media | None = None  # an audio or video file given by the source, passed through

    def __post_init__(self) -> None:
        if type(self.body) is not Body:
            object.__setattr__(self, "body", Body(self.body))
        if type(self.original_body) is not Body:
            object.__setattr__(self, "original_body", Body(self.original_body) if self.original_body else EMPTY_BODY)
        _share(self, _SHARED_ARTICLE_FIELDS)

    @property
    def modified(self) -> datetime:
        """The date a reader should treat as the last change."""
        return self.updated if self.updated and self.updated > self.published else self.published

    def replace(self, **changes: object) -> Article:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def key_text(self) -> str:
        """``repr(self)`` with each body written as its :attr:`Body.token`: every field, stable
        across runs, and cheap (render keys and cache keys digest it)."""
        parts = []
        for name in _ARTICLE_FIELDS:
            value = getattr(self, name)
            parts.append(f"{name}={value.token if type(value) is Body else repr(value)}")
        return f"Article({', '.join(parts)})"


def _pickled_by_fields(cls: type) -> None:
    """Pickle a frozen slotted dataclass as ``cls(*fields)``.

    The caches (parse, variant) and the worker processes move tens of thousands
    of articles through pickle; the dataclass default (a ``fields()`` call and a
    ``setattr`` per field on every load) measured a quarter slower to load.
    """
    names = tuple(f.name for f in dataclasses.fields(cls))

    def __reduce__(self: object) -> tuple[type, tuple[object, ...]]:
        return cls, tuple(getattr(self, name) for name in names)

    cls.__reduce__ = __reduce__  # type: ignore[assignment, method-assign]


for _cls in (Translation, Media, Article):
    _pickled_by_fields(_cls)


# A body is tens of blocks, unpacked several times a run (its page, its feeds): a Block is
# unpickled by setting its four slots, not through the frozen dataclass's __init__ (30% faster).
_SET_HTML, _SET_KIND, _SET_CHILDREN, _SET_ATTRS = (Block.__dict__[f.name].__set__ for f in dataclasses.fields(Block))


def _block(html: str, kind: BlockKind, children: tuple[Block, ...], attrs: tuple[tuple[str, str], ...]) -> Block:
    block = object.__new__(Block)
    _SET_HTML(block, html)
    _SET_KIND(block, kind)
    _SET_CHILDREN(block, children)
    _SET_ATTRS(block, attrs)
    return block


def _block_reduce(self: Block) -> tuple[object, tuple[object, ...]]:
    return _block, (self.html, self.kind, self.children, self.attrs)


Block.__reduce__ = _block_reduce  # type: ignore[assignment, method-assign]
_ARTICLE_FIELDS = tuple(f.name for f in dataclasses.fields(Article))
# the fields every language's copy of an article shares (a source article's id is also its translations' original_id)
_SHARED_ARTICLE_FIELDS = ("id", "slug", "language", "source", "category", "body_language", "translation_of")


@dataclass(frozen=True, slots=True)
class Site:
    """The publication as configured; ``url`` always ends with a slash."""

    title: str
    url: str
    description: str
    timezone: str  # IANA name, e.g. "Europe/Moscow"
    language: str  # the source language (BCP 47)
    author: str | None = None
    pages: bool = True  # False: no article pages; items link to their entry in the edition index
    logo: str | None = None  # absolute URL of the site's logo, shown on every page
    email: str | None = None  # the desk's e-mail address: RSS managingEditor
    hubs: tuple[str, ...] = ()  # WebSub hubs every subscription feed names (rel="hub")

    def url_for(self, *parts: str) -> str:
        """Absolute URL of a path inside the target, e.g. ``url_for("es", "rss.xml")``."""
        return self.url + "/".join(p.strip("/") for p in parts if p)


@dataclass(frozen=True, slots=True)
class Edition:
    """One language's published set, newest article first."""

    language: str
    title: str  # localized, e.g. "World Desk (español)"
    description: str
    articles: Sequence[Article]  # a tuple, or a shelf (:mod:`syndicate.shelf`) in a run
    direction: Literal["ltr", "rtl"] = "ltr"

    @property
    def updated(self) -> datetime | None:
        """Newest change among the articles: the feed's build date (never "now")."""
        newest = getattr(self.articles, "newest", None)  # a shelf finds it without unpacking every article
        if newest is not None:
            index = newest()
            return None if index is None else self.articles[index].modified
        return max((a.modified for a in self.articles), default=None)
