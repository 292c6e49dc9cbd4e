"""OPML 2.0 subscription list (``feeds.opml``): every feed, grouped by language.

One outline per edition (text = the language's own name), holding one
outline per feed format with ``xmlUrl``, ``htmlUrl`` and ``language``, then
the same for each of the edition's sections (flat: many readers import one
level of folders only).  The outline type comes from the formats table:
``type="rss"`` for RSS and Atom (what OPML readers subscribe to),
``type="json"`` for JSON Feed (so no reader takes it for RSS).  No "now":
``dateModified`` is the newest article's date, in UTC, and is left out when
there are no articles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from syndicate import localize
from syndicate.formats import BY_NAME, PAGE, feed_path, section_dir
from syndicate.models import Edition, Site
from syndicate.render.feeds import rfc822_utc

if TYPE_CHECKING:
    from syndicate.render.sections import Section


def render_opml(
    site: Site,
    editions: Sequence[Edition],
    formats: Sequence[str],
    sections: Mapping[str, Sequence[Section]] | None = None,
) -> bytes:
    """The OPML document listing each edition's feeds in ``formats``, then its sections' feeds."""
    root = etree.Element("opml", version="2.0")
    _head(etree.SubElement(root, "head"), site, editions)
    body = etree.SubElement(root, "body")
    for edition in editions:
        group = _language_outline(body, edition.language)
        _feed_outlines(group, site, edition, edition.language, formats)
        for section in (sections or {}).get(edition.language, ()):
            _feed_outlines(group, site, section.edition, section_dir(edition.language, section.slug), formats)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _head(head: etree._Element, site: Site, editions: Sequence[Edition]) -> None:
    etree.SubElement(head, "title").text = site.title
    newest = max((ed.updated for ed in editions if ed.updated is not None), default=None)
    if newest is not None:
        etree.SubElement(head, "dateModified").text = rfc822_utc(newest)
    if site.author:
        etree.SubElement(head, "ownerName").text = site.author
    etree.SubElement(head, "docs").text = "https://opml.org/spec2.opml"


def _language_outline(body: etree._Element, lang: str) -> etree._Element:
    name = localize.native_name(lang)
    group = etree.SubElement(body, "outline", text=name, title=name)
    group.set("language", lang)
    return group


def _feed_outlines(group: etree._Element, site: Site, edition: Edition, directory: str, formats: Sequence[str]) -> None:
    """One outline per listed format of the feeds in ``directory`` (an edition's or a section's)."""
    lang = edition.language
    for fmt in formats:
        kind = BY_NAME[fmt]
        if kind.opml_type is None:
            continue
        label = f"{edition.title} ({kind.label})"
        outline = etree.SubElement(group, "outline")
        for key, value in (
            ("type", kind.opml_type),
            ("text", label),
            ("title", label),
            ("xmlUrl", site.url_for(feed_path(directory, fmt))),
            ("htmlUrl", site.url_for(directory, PAGE)),
            ("language", lang),
        ):
            outline.set(key, value)
        if kind.opml_version:
            outline.set("version", kind.opml_version)
