"""Frozen data types shared by every stage; no I/O happens here.

* :class:`Article` is one item: what readers see as an entry in a feed.
* :class:`Block` is one piece of an article's body (a paragraph, a heading,
  a list item, a quotation or preformatted text).  Blocks hold plain text:
  markup is built around the text by the renderers, never stored with it, so
  a translation engine only ever sees text.
* :class:`Translation` marks an article as a machine translation of another.
* :class:`Site` is the publication; :class:`Edition` is one language's set of
  articles with its localized title and description.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# Code points XML 1.0 forbids (tab, newline and carriage return are allowed): readers
# reject them with an error naming the line, renderers strip them as a last defence.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

BlockKind = Literal["p", "h2", "h3", "li", "quote", "pre"]
BLOCK_KINDS: tuple[BlockKind, ...] = ("p", "h2", "h3", "li", "quote", "pre")


@dataclass(frozen=True, slots=True)
class Block:
    """One block of body text; ``text`` is plain text, never markup."""

    text: str
    kind: BlockKind = "p"


@dataclass(frozen=True, slots=True)
class Translation:
    """Provenance of a translated article."""

    engine: str  # human-readable engine name, e.g. "Apertium"
    source_language: str  # BCP 47 tag of the original
    original_id: str
    original_slug: str


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

    @property
    def modified(self) -> datetime:
        """The date a reader should treat as the last change."""
        return self.updated if self.updated and self.updated > self.published else self.published

    def replace(self, **changes: object) -> Article:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


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
