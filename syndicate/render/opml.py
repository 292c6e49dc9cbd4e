"""OPML 2.0 subscription list (``feeds.opml``): every feed, grouped by language.

One outline per edition (text = the language's own name), holding one
outline per feed format with ``xmlUrl``, ``htmlUrl`` and ``language``:
``type="rss"`` for RSS and Atom (what OPML readers subscribe to),
``type="json"`` for JSON Feed (so no reader takes it for RSS).  No "now":
``dateModified`` is the newest article's date, in UTC, and is left out when
there are no articles.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from syndicate import localize
from syndicate.models import Edition, Site
from syndicate.render import html
from syndicate.render.feeds import rfc822_utc

OUTLINE_TYPES = {"rss": "rss", "atom": "rss", "json": "json"}


def render_opml(site: Site, editions: Sequence[Edition], formats: Sequence[str]) -> bytes:
    """The OPML document listing each edition's feeds in ``formats``."""
    root = etree.Element("opml", version="2.0")
    _head(etree.SubElement(root, "head"), site, editions)
    body = etree.SubElement(root, "body")
    for edition in editions:
        _edition_outline(body, site, edition, formats)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _head(head: etree._Element, site: Site, editions: Sequence[Edition]) -> None:
    etree.SubElement(head, "title").text = site.title
    newest = max((ed.updated for ed in editions if ed.updated is not None), default=None)
    if newest is not None:
        etree.SubElement(head, "dateModified").text = rfc822_utc(newest)
    if site.author:
        etree.SubElement(head, "ownerName").text = site.author
    etree.SubElement(head, "docs").text = "https://opml.org/spec2.opml"


def _edition_outline(body: etree._Element, site: Site, edition: Edition, formats: Sequence[str]) -> None:
    lang = edition.language
    name = localize.native_name(lang)
    group = etree.SubElement(body, "outline", text=name, title=name)
    group.set("language", lang)
    for fmt in formats:
        label = f"{edition.title} ({html.FEED_FORMATS[fmt].label})"
        outline = etree.SubElement(group, "outline")
        for key, value in (
            ("type", OUTLINE_TYPES[fmt]),
            ("text", label),
            ("title", label),
            ("xmlUrl", html.feed_url(site, lang, fmt)),
            ("htmlUrl", html.index_url(site, lang)),
            ("language", lang),
        ):
            outline.set(key, value)
        if fmt == "rss":
            outline.set("version", "RSS2")
