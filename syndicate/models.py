"""Frozen data types shared by every stage; no I/O happens here.

* :class:`Article` is one item: what readers see as an entry in a feed.
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
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# Code points XML 1.0 forbids (tab, newline and carriage return are allowed): readers
# reject them with an error naming the line, renderers strip them as a last defence.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

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


@dataclass(frozen=True, slots=True)
class Translation:
    """Provenance of a translated article."""

    engine: str  # human-readable engine name, e.g. "Apertium"
    source_language: str  # BCP 47 tag of the original
    original_id: str
    original_slug: str
    human: bool = False  # written by a person (an input declaring ``translation_of``): no machine note


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
    body: tuple[Block, ...]
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
    original_body: tuple[Block, ...] = ()  # bilingual pages: the original shown under the translation
    image: Media | None = None  # the lead image (front matter, JSON image, else the first figure)
    media: tuple[Media, ...] = ()  # local files the article publishes (its lead image, its figures)
    enclosure: Media | None = None  # an audio or video file given by the source, passed through

    @property
    def modified(self) -> datetime:
        """The date a reader should treat as the last change."""
        return self.updated if self.updated and self.updated > self.published else self.published

    def replace(self, **changes: object) -> Article:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


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


for _cls in (Block, Translation, Media, Article):
    _pickled_by_fields(_cls)


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
    articles: tuple[Article, ...]
    direction: Literal["ltr", "rtl"] = "ltr"

    @property
    def updated(self) -> datetime | None:
        """Newest change among the articles: the feed's build date (never "now")."""
        return max((a.modified for a in self.articles), default=None)
