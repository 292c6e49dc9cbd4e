"""Turning loosely typed metadata (front matter, JSON) into Article fields.

Markdown front matter and JSON objects share key names (Hugo, Jekyll,
Pelican and JSON Feed spellings); this module maps them once for both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from syndicate.errors import InputError
from syndicate.models import Article, Block
from syndicate.sources.common import (
    article_id,
    article_slug,
    check_date,
    check_language,
    check_slug,
    check_url,
    check_xml_chars,
    derive_title,
    normalize_space,
)
from syndicate.sources.pagetext import parse_header_date

TITLE_KEYS = ("title",)
DATE_KEYS = ("date", "date_published", "pubdate")
UPDATED_KEYS = ("updated", "lastmod", "modified", "date_modified", "last_modified_at")
SUMMARY_KEYS = ("summary", "description", "excerpt", "lede")
CATEGORY_KEYS = ("category", "categories", "section")
TAG_KEYS = ("tags", "keywords")
AUTHOR_KEYS = ("author", "authors")
LANGUAGE_KEYS = ("language", "lang", "locale")
LINK_KEYS = ("url", "link", "canonical", "external_url")


def first(meta: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if key in meta and meta[key] not in (None, "", [], {}):
            return meta[key]
    return None


def text_field(path: str, value: Any, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(path, f"{key} must be text, not {type(value).__name__}")
    text = normalize_space(str(value))
    check_xml_chars(path, text)
    return text or None


def date_field(path: str, value: Any, key: str, tz: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        parsed = parse_header_date(value.strip(), tz)
    else:
        parsed = None
    if parsed is None:
        raise InputError(path, f"{key}: {value!r} is not a date (use ISO 8601 or RFC 822)")
    return check_date(path, parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz)), key)


def list_field(path: str, value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise InputError(path, f"{key} must be a string or a list of strings")
    result = []
    for item in items:
        if isinstance(item, Mapping):  # JSON Feed authors: [{"name": ...}]
            item = item.get("name")
        text = text_field(path, item, key)
        if text:
            result.append(text)
    return tuple(result)


def build_article(
    path: str,
    meta: Mapping[str, Any],
    body: tuple[Block, ...],
    *,
    default_date: datetime,
    language: str,
    tz: str,
) -> Article:
    """An Article from metadata and body blocks, with derived fields filled in."""
    summary = text_field(path, first(meta, SUMMARY_KEYS), "summary")
    lede = summary or next((b.text for b in body if b.kind == "p"), None)
    title = text_field(path, first(meta, TITLE_KEYS), "title") or (derive_title(lede) if lede else None)
    if not title:
        raise InputError(path, "no title and no text to derive one from")
    published = date_field(path, first(meta, DATE_KEYS), "date", tz) or default_date
    link_value = text_field(path, first(meta, LINK_KEYS), "url")
    link = check_url(path, link_value) if link_value else None
    ident = article_id(title, published, link)
    language_value = text_field(path, first(meta, LANGUAGE_KEYS), "language")
    slug_value = text_field(path, meta.get("slug"), "slug")
    categories = list_field(path, first(meta, CATEGORY_KEYS), "category")
    authors = list_field(path, first(meta, AUTHOR_KEYS), "author")
    return Article(
        id=ident,
        slug=check_slug(path, slug_value) if slug_value else article_slug(title, ident),
        title=title,
        summary=lede or title,
        body=body,
        published=published,
        updated=date_field(path, first(meta, UPDATED_KEYS), "updated", tz),
        language=check_language(path, language_value) if language_value else language,
        category=categories[0] if categories else None,
        tags=categories[1:] + list_field(path, first(meta, TAG_KEYS), "tags"),
        author=", ".join(authors) or None,
        link=link,
        source=path,
    )


# Set by read_articles from SourceOptions.drafts: a preview (``serve --drafts``) shows drafts.
INCLUDE_DRAFTS: ContextVar[bool] = ContextVar("include_drafts", default=False)


def is_draft(meta: Mapping[str, Any]) -> bool:
    """Whether the article is a draft to leave out (never, while drafts are included)."""
    if INCLUDE_DRAFTS.get():
        return False
    return meta.get("draft") is True or meta.get("published") is False
