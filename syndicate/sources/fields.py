"""Turning loosely typed metadata (front matter, JSON) into Article fields.

Markdown front matter and JSON objects share key names (Hugo, Jekyll,
Pelican and JSON Feed spellings); this module maps them once for both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    """A one-line text field; anything but a string (``"title": 5``, an object) is an error."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(path, f"{key} must be text (a string), not {_type_name(value)}")
    text = normalize_space(value)
    check_xml_chars(path, text)
    return text or None


def _type_name(value: object) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", dict: "an object", list: "a list"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


def check_types(path: str, item: Mapping[str, Any], body_keys: Sequence[str]) -> None:
    """Body fields of a JSON article have the types the reader takes, or the file is an error:
    text, or a list of texts (``content_html``: text only).  A body of another type is never
    dropped silently."""
    for key in body_keys:
        value = item.get(key)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            raise InputError(path, f"{key} must be text or a list of texts, not {_type_name(value)}")
    html = item.get("content_html")
    if html is not None and not isinstance(html, str):
        raise InputError(path, f"content_html must be text (a string), not {_type_name(html)}")


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
        if isinstance(item, int) and not isinstance(item, bool):  # a year as a tag: `tags: [2024]`
            item = str(item)
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


def is_draft(meta: Mapping[str, Any]) -> bool:
    return meta.get("draft") is True or meta.get("published") is False
