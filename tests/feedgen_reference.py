"""The feed renderers as they were before the direct writer: feedgen builds every item.

Test-only reference for tests/test_feed_writer.py: :func:`render_rss` and
:func:`render_atom` here are syndicate's RSS and Atom renderers as released
before the item writer of :mod:`syndicate.render.feeds` (feedgen adds every
entry, then the lxml tree is fixed up and pretty-printed).  The direct
writer must give these bytes exactly.  The feed-level helpers (links,
authors, dates, categories) are shared with the real module: they are not
what is compared.  :func:`render_json_feed` is the JSON Feed layout as it
was before its items were encoded one by one into a buffer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped, unused-ignore]
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from syndicate.models import Article, Edition, Media, Site
from syndicate.render import html
from syndicate.render.archive import FH_NS, Chain
from syndicate.render.feeds import (
    _PARSER,
    ATOM_NS,
    EMPTY_FEED_UPDATED,
    GENERATOR,
    MEDIA_NS,
    XML_LANG,
    _place_feed_links,
    categories,
    entry_link,
    feed_author,
    feed_links,
    item_author,
    rfc822_utc,
    rfc3339_utc,
)
from syndicate.render.jsonfeed import VERSION, _archive_object, _authors, _item, _url

# ----------------------------------------------------------------------- feedgen


def _generator(site: Site, edition: Edition, chain: Chain | None, *, rss: bool) -> FeedGenerator:
    """A FeedGenerator with the feed-level fields and the edition's entries."""
    lang = edition.language
    fg = FeedGenerator()
    if rss:
        fg.load_extension("dc", atom=False, rss=True)
        fg.dc.dc_creator(feed_author(site))
        if site.email:  # RSS wants an address here: "desk@example.org (World Desk)"
            fg.managingEditor(f"{site.email} ({feed_author(site)})")
        if any(a.image for a in edition.articles):  # declares xmlns:media (written in _rss_media)
            fg.load_extension("media", atom=False, rss=True)
    page = site.url_for((chain or Chain(lang, lang)).page)  # the edition's (or section's) index page
    fg.id(page)
    fg.title(edition.title)
    fg.description(edition.description or edition.title)
    fg.language(lang)
    fg.generator(GENERATOR)
    fg.author(name=feed_author(site))
    # The one link() call: it is the RSS channel <link>.  Every feed-level link,
    # in both formats, is then written by _place_feed_links.
    fg.link(href=page, rel="alternate", type="text/html", hreflang=lang)
    updated = edition.updated or EMPTY_FEED_UPDATED
    fg.updated(updated)
    fg.pubDate(updated)
    for article in edition.articles:
        _add_entry(fg, site, edition, article, rss=rss)
    return fg


def _add_entry(fg: FeedGenerator, site: Site, edition: Edition, article: Article, *, rss: bool) -> None:
    fe = fg.add_entry(order="append")
    fe.id(article.id)  # also the RSS guid, isPermaLink="false"
    fe.title(article.title)
    fe.link(entry_link(site, edition, article))  # the RSS <link>; the Atom link is rebuilt
    fe.summary(article.summary)  # Atom type="text"; RSS <description> is escaped in _fix_rss_items
    fe.content(html.item_content_html(site, article), type="html")
    fe.published(article.published)
    fe.updated(article.modified)
    for term in categories(article):
        fe.category(term=term)
    fe.author(name=item_author(site, article))  # Atom; RSS <author> needs an e-mail: feedgen skips it
    if rss:
        fe.dc.dc_creator(item_author(site, article))


def _tree(fg: FeedGenerator, kind: str) -> etree._Element:
    """feedgen's own lxml tree of an RSS feed, to fix before serializing.

    ``_create_rss`` is what feedgen's ``rss_str`` calls before serializing; using it
    saves a serialize-and-parse round trip per feed.  Should a feedgen release drop
    it, the public string method is parsed instead: same tree, same bytes.
    """
    create = getattr(fg, f"_create_{kind}", None)
    if create is not None:
        root, _ = create()
        return root
    return etree.fromstring(fg.rss_str(pretty=False), _PARSER)


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# --------------------------------------------------------------------------- RSS


def render_rss(site: Site, edition: Edition, siblings: Sequence[str] = (), chain: Chain | None = None) -> bytes:
    """RSS 2.0 with content:encoded, dc:creator and atom:links (page, self, siblings).

    ``siblings`` are the languages of the other editions that have an RSS feed;
    ``chain`` the document's place among its archives (see :func:`feed_links`).
    """
    fg = _generator(site, edition, chain, rss=True)
    root = _tree(fg, "rss")
    channel = root.find("channel")
    assert channel is not None  # feedgen always writes one
    _fix_rss_build_dates(channel, edition)
    _fix_rss_items(channel, edition)
    _fix_rss_description(channel)
    _place_feed_links(channel, feed_links(site, edition, "rss", siblings, chain), after="description")
    if chain is not None and chain.archive:
        _mark_archive(channel)
    return _serialize(root)


def _mark_archive(parent: etree._Element) -> None:
    """``<fh:archive/>`` (RFC 5005 section 4: this document never changes), before the items."""
    first = parent.find("item")
    if first is None:
        first = parent.find(f"{{{ATOM_NS}}}entry")
    marker = etree.Element(f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS})
    if first is None:
        parent.append(marker)
    else:
        first.addprevious(marker)


def _fix_rss_build_dates(channel: etree._Element, edition: Edition) -> None:
    """UTC RFC 822 build dates; none at all on an empty feed (never "now")."""
    updated = edition.updated
    for name in ("lastBuildDate", "pubDate"):
        elem = channel.find(name)
        if elem is None:
            continue
        if updated is None:
            channel.remove(elem)
        else:
            elem.text = rfc822_utc(updated)


def _fix_rss_items(channel: etree._Element, edition: Edition) -> None:
    """UTC pubDate; the summary as HTML-escaped text.

    Readers treat an RSS ``<description>`` as HTML, so a plain-text summary
    holding ``<`` or ``&`` must be escaped once more to show as written.
    """
    for item, article in zip(channel.iterfind("item"), edition.articles, strict=True):
        date = item.find("pubDate")
        if date is not None:
            date.text = rfc822_utc(article.published)
        description = item.find("description")
        if description is not None and article.summary:
            description.text = html.escape_text(article.summary)
        _rss_media(item, article)


def _rss_media(item: etree._Element, article: Article) -> None:
    """The item's ``enclosure`` (its audio/video file, else its lead image) and Media RSS image.

    RSS allows one enclosure per item, and it must give a length above 0
    and a type (the W3C validator rejects ``length="0"``): a remote image
    of unknown size is no enclosure.  The image is always also
    ``media:content`` (with its alt text as ``media:description``) and
    ``media:thumbnail``, which is where feed readers look for thumbnails.
    """
    image = article.image
    enclosure = article.enclosure or image
    if enclosure is not None and enclosure.length > 0 and enclosure.media_type:
        etree.SubElement(
            item, "enclosure", url=enclosure.url, length=str(enclosure.length), type=enclosure.media_type
        )
    if image is None:
        return
    content = etree.SubElement(item, f"{{{MEDIA_NS}}}content", url=image.url, medium="image")
    if image.media_type:
        content.set("type", image.media_type)
    if image.length:
        content.set("fileSize", str(image.length))
    if image.alt:
        etree.SubElement(content, f"{{{MEDIA_NS}}}description", type="plain").text = image.alt
    etree.SubElement(item, f"{{{MEDIA_NS}}}thumbnail", url=image.url)


def _fix_rss_description(channel: etree._Element) -> None:
    """The channel <description> is HTML to readers too: escaped like the items' (Atom's
    <subtitle> is type="text", where the XML escaping alone is right)."""
    description = channel.find("description")
    if description is not None and description.text:
        description.text = html.escape_text(description.text)


# -------------------------------------------------------------------------- Atom


def render_atom(site: Site, edition: Edition, siblings: Sequence[str] = (), chain: Chain | None = None) -> bytes:
    """Atom 1.0 with xml:lang on the feed and every entry, UTC dates and hreflang'd links.

    ``siblings`` are the languages of the other editions that have an Atom feed.
    """
    fg = _generator(site, edition, chain, rss=False)
    # feedgen builds its Atom tree with an ``xmlns`` attribute instead of a namespace,
    # so only the serialized form is real Atom: parse it.
    root = etree.fromstring(fg.atom_str(pretty=False), _PARSER)
    _fix_atom(root, site, edition)
    _place_feed_links(root, feed_links(site, edition, "atom", siblings, chain), after=f"{{{ATOM_NS}}}author")
    if chain is not None and chain.archive:
        _mark_archive(root)
    return _serialize(root)


def _fix_atom(root: etree._Element, site: Site, edition: Edition) -> None:
    """Set xml:lang, UTC dates and rebuild the entry link feedgen stripped of rel/type/hreflang."""
    root.set(XML_LANG, edition.language)
    _set_text(root, "updated", rfc3339_utc(edition.updated or EMPTY_FEED_UPDATED))
    entries = root.findall(f"{{{ATOM_NS}}}entry")
    for entry, article in zip(entries, edition.articles, strict=True):
        entry.set(XML_LANG, article.language)
        _set_text(entry, "updated", rfc3339_utc(article.modified))
        _set_text(entry, "published", rfc3339_utc(article.published))
        old = entry.findall(f"{{{ATOM_NS}}}link")
        position = entry.index(old[0]) if old else len(entry)
        for elem in old:
            entry.remove(elem)
        attrs = entry_link(site, edition, article)
        link = etree.Element(f"{{{ATOM_NS}}}link")
        for key in ("rel", "type", "hreflang", "href"):
            link.set(key, attrs[key])
        entry.insert(position, link)
        for offset, media in enumerate(m for m in (article.enclosure, article.image) if m is not None):
            entry.insert(position + 1 + offset, _atom_enclosure(media))


def _atom_enclosure(media: Media) -> etree._Element:
    """``<link rel="enclosure">`` after the entry's one alternate link (type, length and alt when known)."""
    link = etree.Element(f"{{{ATOM_NS}}}link", rel="enclosure")
    if media.media_type:
        link.set("type", media.media_type)
    if media.length:
        link.set("length", str(media.length))
    if media.alt:
        link.set("title", media.alt)
    link.set("href", media.url)
    return link


def _set_text(parent: etree._Element, tag: str, text: str) -> None:
    elem = parent.find(f"{{{ATOM_NS}}}{tag}")
    if elem is not None:
        elem.text = text


# ---------------------------------------------------------------------- JSON Feed


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def render_json_feed(  # the JSON Feed layout before items were written one by one
    site: Site, edition: Edition, chain: Chain | None = None, siblings: Sequence[str] = ()
) -> bytes:
    """The edition as a JSON Feed 1.1 document.

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
    items = [_dump(_item(site, edition, article)) for article in edition.articles]
    head = [f"  {_dump(key)}: {_dump(value)}" for key, value in feed.items()]
    body = "  \"items\": [\n" + ",\n".join(f"    {item}" for item in items) + "\n  ]" if items else '  "items": []'
    return ("{\n" + ",\n".join([*head, body]) + "\n}\n").encode("utf-8")

