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

from syndicate.content import resolve_url
from syndicate.errors import InputError
from syndicate.models import Article, Block
from syndicate.sources.common import (
    ReadContext,
    article_id,
    article_slug,
    check_date,
    check_language,
    check_slug,
    check_url,
    check_xml_chars,
    derive_title,
    normalize_space,
    title_source,
)
from syndicate.sources.ids import explicit_id, uuid_form
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
TRANSLATION_OF_KEYS = ("translation_of", "translationKey", "translation_key")


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


def date_field(path: str, value: Any, key: str, tz: str) -> datetime | None:
    found = date_value(path, value, key, tz)
    return found[0] if found else None


def date_value(path: str, value: Any, key: str, tz: str) -> tuple[datetime, bool] | None:
    """``(instant, date_only)``: a date without a time of day is midnight in ``tz``, flagged."""
    if value is None:
        return None
    date_only = False
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, date):
        parsed, date_only = datetime(value.year, value.month, value.day), True
    elif isinstance(value, str):
        parsed = parse_header_date(value.strip(), tz)
        date_only = parsed is not None and is_date_only(value)
    else:
        parsed = None
    if parsed is None:
        raise InputError(path, f"{key}: {value!r} is not a date (use ISO 8601 or RFC 822)")
    moment = check_date(path, parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz)), key)
    return moment, date_only


def is_date_only(value: str) -> bool:
    """Whether a date string names a day without a time of day (``2025-06-05``)."""
    return len(value.strip()) == 10 and value.strip()[4] == "-"


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


def base_url(path: str, meta: Mapping[str, Any], ctx: ReadContext) -> str | None:
    """What relative URLs in the body resolve against: the article's own URL, else the site's."""
    value = first(meta, LINK_KEYS)
    if isinstance(value, str) and resolve_url(value, None):
        return value.strip()
    return ctx.options.base_url or None


def build_article(
    path: str,
    meta: Mapping[str, Any],
    body: tuple[Block, ...],
    ctx: ReadContext,
    *,
    file: str | None = None,
    own_id: bool = True,
) -> Article:
    """An Article from metadata and body blocks, with derived fields filled in.

    ``file`` is the article's file on disk when ``path`` (what errors name) is
    not, e.g. an item of a JSON list: local images are found next to it.
    ``own_id``: an ``id`` in ``meta`` is the article's id (:mod:`syndicate.sources.ids`).
    """
    from syndicate.sources.media import read_media

    tz = ctx.options.timezone
    image, media, enclosure, body = read_media(path, file or path, meta, body, base_url(path, meta, ctx), ctx)
    summary = text_field(path, first(meta, SUMMARY_KEYS), "summary")
    lede = summary or next((b.text for b in body if b.kind == "p" and b.text), None)
    title = text_field(path, first(meta, TITLE_KEYS), "title")
    cut_from = None
    if not title and lede:
        title = derive_title(lede)
        cut_from = title_source(lede, title)
    if not title:
        raise InputError(path, "no title and no text to derive one from")
    dated = date_value(path, first(meta, DATE_KEYS), "date", tz)
    published, date_only = dated or (ctx.default_date, False)
    link_value = text_field(path, first(meta, LINK_KEYS), "url")
    link = check_url(path, link_value) if link_value else None
    ident = (explicit_id(path, meta.get("id")) if own_id else None) or article_id(title, published, link)
    language_value = text_field(path, first(meta, LANGUAGE_KEYS), "language")
    slug_value = text_field(path, meta.get("slug"), "slug")
    categories = list_field(path, first(meta, CATEGORY_KEYS), "category")
    authors = list_field(path, first(meta, AUTHOR_KEYS), "author")
    return Article(
        id=ident,
        slug=check_slug(path, slug_value) if slug_value else article_slug(title, uuid_form(ident)),
        title=title,
        summary=lede or title,
        body=body,
        published=published,
        updated=date_field(path, first(meta, UPDATED_KEYS), "updated", tz),
        language=check_language(path, language_value) if language_value else ctx.language,
        category=categories[0] if categories else None,
        tags=categories[1:] + list_field(path, first(meta, TAG_KEYS), "tags"),
        author=", ".join(authors) or None,
        link=link,
        source=path,
        title_source=cut_from,
        date_only=date_only,
        translation_of=text_field(path, first(meta, TRANSLATION_OF_KEYS), "translation_of"),
        image=image,
        media=media,
        enclosure=enclosure,
    )


# Set by read_articles from SourceOptions.drafts: a preview (``serve --drafts``) shows drafts.
INCLUDE_DRAFTS: ContextVar[bool] = ContextVar("include_drafts", default=False)


def is_draft(meta: Mapping[str, Any]) -> bool:
    """Whether the article is a draft to leave out (never, while drafts are included)."""
    if INCLUDE_DRAFTS.get():
        return False
    return meta.get("draft") is True or meta.get("published") is False
