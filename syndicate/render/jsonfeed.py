"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) of one edition.

Owns the JSON Feed layout: key order, RFC 3339 dates in UTC (``Z``), authors
both as 1.1 ``authors`` and, for JSON Feed 1.0 readers, ``author``, and
the byte form (UTF-8, not ASCII-escaped, final newline; the feed's keys one per
line and each item compact on a line of its own, which lets the C encoder do
the work: ``indent=2`` falls back to the pure-Python one, 5x slower), so the
same edition always gives the same bytes.  The edition is rendered whole:
trimming to ``max_items`` is the caller's job.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from syndicate.content import blocks_text
from syndicate.models import Article, Edition, Site
from syndicate.render import html
from syndicate.render.archive import RFC5005, Chain
from syndicate.render.feeds import categories, feed_author, item_author, joined, rfc3339_utc

VERSION = "https://jsonfeed.org/version/1.1"


def render_json_feed(site: Site, edition: Edition, chain: Chain | None = None, siblings: Sequence[str] = ()) -> bytes:
    """The edition as a JSON Feed 1.1 document (see :func:`json_feed_pieces`)."""
    return joined(json_feed_pieces(site, edition, chain, siblings))


def json_feed_pieces(
    site: Site, edition: Edition, chain: Chain | None = None, siblings: Sequence[str] = ()
) -> Iterator[bytes]:
    """The edition as a JSON Feed 1.1 document, in pieces: the head, one per item (with the comma
    before it), the tail.

    ``chain`` places it among its archives (RFC 5005): ``next_url`` (JSON
    Feed's pagination) leads to the next older document, and the ``_archive``
    extension object carries the RFC 5005 links by their names.  JSON Feed has
    no way to name sibling languages: ``siblings`` is accepted for the formats
    table's one renderer signature, and unused.
    """
    lang = edition.language
    chain = chain or Chain(lang, lang)
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": edition.title,
        "home_page_url": site.url_for(chain.page),
        "feed_url": _url(site, chain.directory),
    }
    if edition.description:
        feed["description"] = edition.description
    feed["language"] = lang
    feed.update(_authors(feed_author(site)))
    if site.hubs and not chain.archive:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in site.hubs]
    if chain.prev is not None:
        feed["next_url"] = _url(site, chain.prev)
    if chain.prev is not None or chain.archive:
        feed["_archive"] = _archive_object(site, chain)
    head = "".join(f"  {_dump(key)}: {_dump(value)},\n" for key, value in feed.items())
    if not edition.articles:
        yield ("{\n" + head + '  "items": []\n}\n').encode("utf-8")
        return
    yield ("{\n" + head + '  "items": [\n').encode("utf-8")
    separator = ""
    for article in edition.articles:
        yield (separator + "    " + _dump(_item(site, edition, article))).encode("utf-8")
        separator = ",\n"
    yield b"\n  ]\n}\n"


def _url(site: Site, directory: str) -> str:
    return site.url_for(directory, html.FEED_FORMATS["json"].filename)


def _archive_object(site: Site, chain: Chain) -> dict[str, Any]:
    """RFC 5005 in JSON: ``archive`` (this document never changes) and the chain's links."""
    found: dict[str, Any] = {"about": RFC5005}
    if chain.archive:
        found["archive"] = True
        found["current"] = _url(site, chain.current)
    if chain.prev is not None:
        found["prev-archive"] = _url(site, chain.prev)
    if chain.next is not None:
        found["next-archive"] = _url(site, chain.next)
    return found


# One encoder for every value (json.dumps would build one per call for these options).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def _dump(value: object) -> str:
    return _ENCODER.encode(value)


def _item(site: Site, edition: Edition, article: Article) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": article.id,
        "url": html.article_url(site, edition.language, article.slug),
        "title": article.title,
        "content_html": html.item_content_html(site, article),
        "content_text": blocks_text(article.body),
    }
    if article.summary:
        item["summary"] = article.summary
    if article.image is not None:
        item["image"] = article.image.url
    if article.enclosure is not None:
        attachment: dict[str, Any] = {"url": article.enclosure.url, "mime_type": article.enclosure.media_type}
        if article.enclosure.length:
            attachment["size_in_bytes"] = article.enclosure.length
        item["attachments"] = [attachment]
    item["date_published"] = rfc3339_utc(article.published)
    item["date_modified"] = rfc3339_utc(article.modified)
    item.update(_authors(item_author(site, article)))  # also where readers do not inherit the feed's
    tags = categories(article)
    if tags:
        item["tags"] = tags
    item["language"] = article.language
    return item


def _authors(name: str) -> dict[str, Any]:
    """``authors`` (JSON Feed 1.1) and the deprecated ``author`` that 1.0 readers look for."""
    return {"authors": [{"name": name}], "author": {"name": name}}
