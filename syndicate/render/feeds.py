"""RSS 2.0 and Atom 1.0 feeds of one edition: feedgen's document frame, items written directly.

Each document is a frame and its items.  The frame (the channel or feed
head: titles, feed-level links, dates, authors, namespace declarations) is
still feedgen's, fixed up as below and rendered once per document without
entries (:func:`rss_frame`, :func:`atom_frame`), then cut where the items go.
The items (:func:`rss_item`, :func:`atom_entry`) are written directly as
text, byte for byte what feedgen's tree of the same entry serialized by lxml
(``pretty_print``, 2-space indentation, libxml2's escaping: :func:`_text`,
:func:`_attr`) gave: feedgen alone, building and serializing an lxml tree
per item, costs as much CPU as the whole rendering may, and a 10,000-item
tree held 120-140 MiB where the written document holds its own bytes
(``tests/test_feed_writer.py`` compares both against the feedgen-per-item
renderer kept in ``tests/feedgen_reference.py``).  What the items must be
is still the list below, which both implementations follow (DESIGN 6):

* items keep the edition's order (feedgen prepended entries by default);
* what readers pick must be what we mean: the feed-level links of both
  formats are written in one place, :func:`feed_links` (order) and
  :func:`_place_feed_links` (placement), replacing whatever feedgen made of
  its ``link()`` calls.  The edition's HTML page comes first of all (some
  readers take the first link whatever its ``rel``), then ``rel="self"``,
  then the sibling-language feeds, then the page again (readers that take
  the last alternate).  The RSS ``<link>`` is feedgen's one ``link()``
  call: the edition page;
* an entry has exactly one link, its own page (:func:`entry_link`), with
  rel/type/hreflang, and every Atom entry has ``xml:lang`` (feedgen drops
  the link's attributes and writes no entry language: its entries were
  fixed up after the fact);
* machine dates are UTC (RSS ``+0000``, Atom ``Z``), written by
  :func:`rfc822_utc` and :func:`rfc3339_utc` over feedgen's dates: feedgen
  formats RFC 822 with ``strftime`` under the process-global ``setlocale``
  (so: never render from threads) and defaults build dates to "now"; they
  are always set from :attr:`Edition.updated`, and removed from RSS when
  the edition is empty (the items' dates are written the same way);
* every item names its author (the article's, else the site's): Atom
  ``<author>``, RSS ``dc:creator`` (RSS ``<author>`` must be an e-mail), and
  the channel carries the site's as ``dc:creator``.  Readers that do not
  inherit the feed's author (sfeed, and the mail gateways built on it) would
  otherwise show none;
* an item's lead image is its RSS ``enclosure`` (unless the source gave an
  audio/video enclosure), ``media:content`` and ``media:thumbnail``, and an
  Atom ``link rel="enclosure"`` after the entry's one alternate link;
* readers take an RSS ``<description>`` as HTML, so the plain-text summary
  is HTML-escaped there (Atom ``<summary>`` stays text, Atom's default type).

The edition passed in is rendered whole: trimming to ``max_items`` is the
caller's job (:func:`syndicate.render.render_site`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped, unused-ignore]
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from syndicate.models import Article, Edition, Media, Site
from syndicate.render import html
from syndicate.render.archive import FH_NS, Chain
from syndicate.shelf import first_image

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
GENERATOR = "syndicate"
# Atom requires <updated> even on an empty feed; never "now", so a fixed date.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)
_LINK_KEYS = ("href", "rel", "type", "hreflang")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc822_utc(moment: datetime) -> str:
    """An RSS date in UTC with English names, e.g. ``Mon, 14 Apr 2025 07:46:00 +0000``.

    What :func:`email.utils.format_datetime` writes for a UTC time (a test holds
    it to that), without its time tuple: every item has one.
    """
    m = moment.astimezone(UTC)
    return (
        f"{_DAYS[m.weekday()]}, {m.day:02d} {_MONTHS[m.month - 1]} {m.year:04d}"
        f" {m.hour:02d}:{m.minute:02d}:{m.second:02d} +0000"
    )


def rfc3339_utc(moment: datetime) -> str:
    """An Atom / JSON Feed date in UTC, e.g. ``2025-04-14T07:46:00Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def categories(article: Article) -> list[str]:
    """The article's category then its tags, without duplicates or blanks."""
    terms = [article.category, *article.tags] if article.category else list(article.tags)
    return list(dict.fromkeys(t for t in terms if t and t.strip()))


def feed_author(site: Site) -> str:
    """The name a feed is written by: the site's author, else its title."""
    return site.author or site.title


def item_author(site: Site, article: Article) -> str:
    """The name an item is written by: its own author, else the feed's."""
    return article.author or feed_author(site)


def entry_link(site: Site, edition: Edition, article: Article) -> dict[str, str]:
    """The one link of an item: its own page in this edition.

    The original of a translation is linked from the item's content (the
    translation note) and from the page's hreflang alternates, never by a
    second entry link: readers differ on which of several links is "the"
    link (the first, the last, the first alternate), so with two some of
    them would send readers of a translation to the original.
    """
    page = html.article_url(site, edition.language, article.slug)
    return {"href": page, "rel": "alternate", "type": "text/html", "hreflang": article.language}


def feed_links(
    site: Site, edition: Edition, fmt: str, siblings: Sequence[str], chain: Chain | None = None
) -> list[dict[str, str]]:
    """A feed's links in the order readers must see them (DESIGN 6).

    Readers disagree on which link is the site: most take the first link (or
    the first alternate), newsboat the last alternate.  So the edition's HTML
    page comes first of all; then ``rel="self"``; then the feeds of the same
    format in the ``siblings`` languages; and, when there are siblings, the
    HTML page once more as the last alternate.  The closing link has no
    ``hreflang``, so no two alternates share a type and hreflang (the W3C
    validator warns on that).  With WebSub hubs configured, their
    ``rel="hub"`` links follow ``rel="self"``.

    ``chain`` places the document among its RFC 5005 archives (default: the
    edition's subscription feed without archives): its ``prev-archive``,
    ``next-archive`` and ``current`` links follow.  An archive page names no
    hub and no sibling languages (their pages hold other articles).
    """
    lang = edition.language
    media_type = html.FEED_FORMATS[fmt].media_type
    chain = chain or Chain(lang, lang)
    page = site.url_for(chain.page)
    links = [
        {"href": page, "rel": "alternate", "type": "text/html", "hreflang": lang},
        {"href": _doc_url(site, chain.directory, fmt), "rel": "self", "type": media_type},
        *(hub_links(site) if not chain.archive else []),
    ]
    for rel, directory in (
        ("prev-archive", chain.prev),
        ("next-archive", chain.next),
        ("current", chain.current if chain.archive else None),
    ):
        if directory is not None:
            links.append({"href": _doc_url(site, directory, fmt), "rel": rel, "type": media_type})
    if chain.archive:
        return links
    for sib in siblings:
        sibling = _doc_url(site, chain.sibling(lang, sib), fmt)
        links.append({"href": sibling, "rel": "alternate", "type": media_type, "hreflang": sib})
    if siblings:
        links.append({"href": page, "rel": "alternate", "type": "text/html"})
    return links


def _doc_url(site: Site, directory: str, fmt: str) -> str:
    return site.url_for(directory, html.FEED_FORMATS[fmt].filename)


def hub_links(site: Site) -> list[dict[str, str]]:
    """``rel="hub"`` links to the site's WebSub hubs, written right after ``rel="self"``."""
    return [{"href": hub, "rel": "hub"} for hub in site.hubs]


def _place_feed_links(parent: etree._Element, links: Sequence[dict[str, str]], after: str) -> None:
    """Replace every Atom-namespace ``<link>`` child of ``parent`` by ``links``, in order.

    They go right after the ``after`` child (RSS ``description``, Atom ``author``
    or ``updated``), whatever order or duplicates feedgen wrote.
    """
    for old in parent.findall(f"{{{ATOM_NS}}}link"):
        parent.remove(old)
    anchor = parent.find(after)
    position = parent.index(anchor) + 1 if anchor is not None else 0
    for offset, attrs in enumerate(links):
        link = etree.Element(f"{{{ATOM_NS}}}link", nsmap={"atom": ATOM_NS} if parent.tag == "channel" else None)
        for key in _LINK_KEYS:
            if key in attrs:
                link.set(key, attrs[key])
        parent.insert(position + offset, link)


# ------------------------------------------------------------------ XML escaping
#
# Exactly what lxml (libxml2) writes when serializing to UTF-8: the item
# writers below must give the bytes the feedgen tree gave (tests/test_feed_writer.py).


def _text(text: str) -> str:
    """Element text as libxml2 escapes it: ``& < >``, and ``\\r`` as a character reference."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


_ATTR_SPECIAL = frozenset('&<>"\n\r\t')


def _attr(value: str) -> str:
    """An attribute value as libxml2 escapes it: ``& < > "`` and ``\\n \\r \\t`` as references."""
    if _ATTR_SPECIAL.isdisjoint(value):
        return value
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _leaf(indent: str, tag: str, text: str | None, attrs: str = "") -> str:
    """One pretty-printed text-only element: ``<x/>`` without text, ``<x></x>`` with ``""``."""
    if text is None:
        return f"{indent}<{tag}{attrs}/>\n"
    return f"{indent}<{tag}{attrs}>{_text(text)}</{tag}>\n"


# ------------------------------------------------------------- document frames
#
# The feed-level elements (channel or feed head, its links and dates, the
# namespace declarations) are feedgen's, fixed up as the docstring says, once
# per document and without entries; the items go where the frame is cut.

_RSS_TAIL = b"  </channel>\n</rss>\n"
_ATOM_TAIL = b"</feed>\n"


def _generator(
    site: Site, edition: Edition, chain: Chain | None, updated: datetime, *, rss: bool, media: bool
) -> FeedGenerator:
    """A FeedGenerator with the feed-level fields and no entries."""
    lang = edition.language
    fg = FeedGenerator()
    if rss:
        fg.load_extension("dc", atom=False, rss=True)
        fg.dc.dc_creator(feed_author(site))
        if site.email:  # RSS wants an address here: "desk@example.org (World Desk)"
            fg.managingEditor(f"{site.email} ({feed_author(site)})")
        if media:  # declares xmlns:media for the items' media:content and media:thumbnail
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
    fg.updated(updated)
    fg.pubDate(updated)
    return fg


def _rss_tree(fg: FeedGenerator) -> etree._Element:
    """feedgen's own lxml tree of an RSS feed, to fix before serializing.

    ``_create_rss`` is what feedgen's ``rss_str`` calls before serializing; using it
    saves a serialize-and-parse round trip per feed.  Should a feedgen release drop
    it, the public string method is parsed instead: same tree, same bytes.
    """
    create = getattr(fg, "_create_rss", None)
    if create is not None:
        root, _ = create()
        return root
    return etree.fromstring(fg.rss_str(pretty=False), _PARSER)


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _cut(document: bytes, tail: bytes) -> tuple[bytes, bytes]:
    """(head, tail) of an entry-less document: its items go right before the closing tags."""
    if not document.endswith(tail):  # the pretty printer always ends it so: a change in lxml, not in the input
        raise AssertionError(f"unexpected feed frame ending {document[-40:]!r}")
    return document[: -len(tail)], tail


def rss_frame(
    site: Site, edition: Edition, siblings: Sequence[str] = (), chain: Chain | None = None
) -> tuple[bytes, bytes]:
    """The RSS document of ``edition`` without its items, cut where they go: (head, tail).

    The head depends on the edition's fields and on two aggregates of its
    articles: the newest change (the build dates) and whether any has an
    image (the Media RSS namespace).
    """
    updated = edition.updated
    media = first_image(edition.articles) is not None
    fg = _generator(site, edition, chain, updated or EMPTY_FEED_UPDATED, rss=True, media=media)
    root = _rss_tree(fg)
    channel = root.find("channel")
    assert channel is not None  # feedgen always writes one
    for name in ("lastBuildDate", "pubDate"):  # UTC RFC 822; none at all on an empty feed (never "now")
        elem = channel.find(name)
        if elem is not None:
            if updated is None:
                channel.remove(elem)
            else:
                elem.text = rfc822_utc(updated)
    description = channel.find("description")
    if description is not None and description.text:  # HTML to readers, like the items'
        description.text = html.escape_text(description.text)
    _place_feed_links(channel, feed_links(site, edition, "rss", siblings, chain), after="description")
    if chain is not None and chain.archive:
        _mark_archive(channel)
    return _cut(_serialize(root), _RSS_TAIL)


def atom_frame(
    site: Site, edition: Edition, siblings: Sequence[str] = (), chain: Chain | None = None
) -> tuple[bytes, bytes]:
    """The Atom document of ``edition`` without its entries, cut where they go: (head, tail)."""
    updated = edition.updated or EMPTY_FEED_UPDATED
    fg = _generator(site, edition, chain, updated, rss=False, media=False)
    # feedgen builds its Atom tree with an ``xmlns`` attribute instead of a namespace,
    # so only the serialized form is real Atom: parse it.
    root = etree.fromstring(fg.atom_str(pretty=False), _PARSER)
    root.set(XML_LANG, edition.language)
    found = root.find(f"{{{ATOM_NS}}}updated")
    if found is not None:
        found.text = rfc3339_utc(updated)
    _place_feed_links(root, feed_links(site, edition, "atom", siblings, chain), after=f"{{{ATOM_NS}}}author")
    if chain is not None and chain.archive:
        _mark_archive(root)
    return _cut(_serialize(root), _ATOM_TAIL)


def _mark_archive(parent: etree._Element) -> None:
    """``<fh:archive/>`` (RFC 5005 section 4: this document never changes), last before the items."""
    parent.append(etree.Element(f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS}))


# --------------------------------------------------------------------------- RSS


def render_rss(site: Site, edition: Edition, siblings: Sequence[str] = (), chain: Chain | None = None) -> bytes:
    """RSS 2.0 with content:encoded, dc:creator and atom:links (page, self, siblings).

    ``siblings`` are the languages of the other editions that have an RSS feed;
    ``chain`` the document's place among its archives (see :func:`feed_links`).
    """
    return joined(rss_pieces(site, edition, siblings, chain))


def rss_pieces(
    site: Site, edition: Edition, siblings: Sequence[str] = (), chain: Chain | None = None
) -> Iterator[bytes]:
    """:func:`render_rss` in pieces (head, one per item, tail): written one by one to a file, a
    10,000-item document is never whole in memory."""
    head, tail = rss_frame(site, edition, siblings, chain)
    yield head
    for article in edition.articles:
        yield rss_item(site, edition, article).encode("utf-8")
    yield tail


def joined(pieces: Iterable[bytes]) -> bytes:
    """A document from its pieces, each written into one buffer as it comes: it costs about its own
    bytes (``BytesIO.getvalue`` hands its buffer over without a copy when nothing else holds it)."""
    out = io.BytesIO()
    for piece in pieces:
        out.write(piece)
    return out.getvalue()


def rss_item(site: Site, edition: Edition, article: Article) -> str:
    """One ``<item>`` as the document holds it: indented, with its final newline.

    Element order is feedgen's (title, link, description, content:encoded,
    guid, categories, pubDate, dc:creator), then the enclosure and Media RSS
    image (:func:`_rss_media`).  Readers treat an RSS ``<description>`` as
    HTML, so a plain-text summary holding ``<`` or ``&`` is escaped once more
    to show as written; without a summary the description is the content.
    """
    content = html.item_content_html(site, article)
    page = html.article_url(site, edition.language, article.slug)
    parts = ["    <item>\n"]
    if article.title:
        parts.append(_leaf("      ", "title", article.title))
    parts.append(_leaf("      ", "link", page))
    if article.summary:
        parts.append(_leaf("      ", "description", html.escape_text(article.summary)))
        parts.append(_leaf("      ", "content:encoded", content))
    else:
        parts.append(_leaf("      ", "description", content))
    parts.append(_leaf("      ", "guid", article.id, ' isPermaLink="false"'))
    parts.extend(_leaf("      ", "category", term) for term in categories(article))
    parts.append(_leaf("      ", "pubDate", rfc822_utc(article.published)))
    parts.append(_leaf("      ", "dc:creator", item_author(site, article)))
    _rss_media(parts, article)
    parts.append("    </item>\n")
    return "".join(parts)


def _rss_media(parts: list[str], article: Article) -> None:
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
        parts.append(
            f'      <enclosure url="{_attr(enclosure.url)}" length="{enclosure.length}"'
            f' type="{_attr(enclosure.media_type)}"/>\n'
        )
    if image is None:
        return
    attrs = f'url="{_attr(image.url)}" medium="image"'
    if image.media_type:
        attrs += f' type="{_attr(image.media_type)}"'
    if image.length:
        attrs += f' fileSize="{image.length}"'
    if image.alt:
        parts.append(f"      <media:content {attrs}>\n")
        parts.append(_leaf("        ", "media:description", image.alt, ' type="plain"'))
        parts.append("      </media:content>\n")
    else:
        parts.append(f"      <media:content {attrs}/>\n")
    parts.append(f'      <media:thumbnail url="{_attr(image.url)}"/>\n')


# -------------------------------------------------------------------------- Atom


def render_atom(site: Site, edition: Edition, siblings: Sequence[str] = (), chain: Chain | None = None) -> bytes:
    """Atom 1.0 with xml:lang on the feed and every entry, UTC dates and hreflang'd links.

    ``siblings`` are the languages of the other editions that have an Atom feed.
    """
    return joined(atom_pieces(site, edition, siblings, chain))


def atom_pieces(
    site: Site, edition: Edition, siblings: Sequence[str] = (), chain: Chain | None = None
) -> Iterator[bytes]:
    """:func:`render_atom` in pieces (head, one per entry, tail)."""
    head, tail = atom_frame(site, edition, siblings, chain)
    yield head
    for article in edition.articles:
        yield atom_entry(site, edition, article).encode("utf-8")
    yield tail


def atom_entry(site: Site, edition: Edition, article: Article) -> str:
    """One ``<entry>`` as the document holds it: indented, with its final newline.

    Element order is feedgen's (id, title, updated, author, content, the
    links, summary, categories, published); the one link is the item's page
    with rel, type and hreflang (feedgen drops them), followed by the
    enclosure and lead image as ``rel="enclosure"`` links.  Atom ``<summary>``
    stays plain text (no ``type``: the XML escaping alone is right).
    """
    name = item_author(site, article)
    link = entry_link(site, edition, article)
    parts = [
        f'  <entry xml:lang="{_attr(article.language)}">\n',
        _leaf("    ", "id", article.id or None),
        _leaf("    ", "title", article.title or None),
        _leaf("    ", "updated", rfc3339_utc(article.modified)),
    ]
    if name:
        parts.append(f"    <author>\n      <name>{_text(name)}</name>\n    </author>\n")
    parts.append(_leaf("    ", "content", html.item_content_html(site, article) or None, ' type="html"'))
    parts.append(
        f'    <link rel="alternate" type="text/html" hreflang="{_attr(link["hreflang"])}"'
        f' href="{_attr(link["href"])}"/>\n'
    )
    for media in (article.enclosure, article.image):
        if media is not None:
            parts.append(_atom_enclosure(media))
    parts.append(_leaf("    ", "summary", article.summary or None))
    parts.extend(f'    <category term="{_attr(term)}"/>\n' for term in categories(article))
    parts.append(_leaf("    ", "published", rfc3339_utc(article.published)))
    parts.append("  </entry>\n")
    return "".join(parts)


def _atom_enclosure(media: Media) -> str:
    """``<link rel="enclosure">`` after the entry's one alternate link (type, length and alt when known)."""
    attrs = 'rel="enclosure"'
    if media.media_type:
        attrs += f' type="{_attr(media.media_type)}"'
    if media.length:
        attrs += f' length="{media.length}"'
    if media.alt:
        attrs += f' title="{_attr(media.alt)}"'
    return f'    <link {attrs} href="{_attr(media.url)}"/>\n'
