"""RSS 2.0 and Atom 1.0 feeds of one edition, built with feedgen.

feedgen does the bulk of the XML; this module owns the feed-level choices
and works around feedgen's traps (DESIGN 6):

* entries are added with ``order="append"`` (feedgen prepends by default);
* the RSS ``<link>`` is the href of the *last* ``link()`` call, so the self
  link is added first and the edition's index page last;
* build dates default to "now" in feedgen: they are always set from
  :attr:`Edition.updated`, and removed from RSS when the edition is empty;
* feedgen drops rel/type/hreflang from Atom entry links and never writes
  ``xml:lang`` on entries: the Atom output is parsed again with lxml and the
  entry links are rebuilt (:func:`_fix_atom`);
* feedgen formats RFC 822 dates with ``strftime`` under a process-global
  ``setlocale`` (so: never render from threads); the RSS dates are rewritten
  with :func:`email.utils.format_datetime`, English whatever the locale;
* readers take an RSS ``<description>`` as HTML, so the plain-text summary
  is HTML-escaped there (Atom ``<summary>`` stays ``type="text"``).

The edition passed in is rendered whole: trimming to ``max_items`` is the
caller's job (:func:`syndicate.render.render_site`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped, unused-ignore]
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from syndicate.models import Article, Edition, Site
from syndicate.render import html

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
GENERATOR = "syndicate"
# How an Atom entry of a translation links the original-language page (see entry_links).
ORIGINAL_LINK_REL = "related"
# Atom requires <updated> even on an empty feed; never "now", so a fixed date.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)


def categories(article: Article) -> list[str]:
    """The article's category then its tags, without duplicates or blanks."""
    terms = [article.category, *article.tags] if article.category else list(article.tags)
    return list(dict.fromkeys(t for t in terms if t and t.strip()))


def entry_links(site: Site, edition: Edition, article: Article) -> list[dict[str, str]]:
    """HTML links of an item: its own page, and for a translation the original's page.

    The item's page is the one ``rel="alternate"`` link.  The original is
    ``rel="related"`` (:data:`ORIGINAL_LINK_REL`) with its ``hreflang``:
    readers differ on which of several alternates is "the" link (feedparser
    takes the last one, others the first), so with a second alternate some
    readers of a translation would open the original instead.
    """
    page = html.article_url(site, edition.language, article.slug)
    links = [_html_link(page, "alternate", article.language)]
    tr = article.translation
    if tr is not None and tr.source_language != article.language:
        links.append(_html_link(html.original_url(site, tr), ORIGINAL_LINK_REL, tr.source_language))
    return links


def _html_link(href: str, rel: str, hreflang: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": "text/html", "hreflang": hreflang}


# ----------------------------------------------------------------------- feedgen


def _generator(site: Site, edition: Edition, self_fmt: str, siblings: Sequence[str]) -> FeedGenerator:
    """A FeedGenerator with the feed-level fields and the edition's entries."""
    lang = edition.language
    fg = FeedGenerator()
    fg.id(html.index_url(site, lang))
    fg.title(edition.title)
    fg.description(edition.description or edition.title)
    fg.language(lang)
    fg.generator(GENERATOR)
    fg.author(name=site.author or site.title)
    media_type = html.FEED_FORMATS[self_fmt].media_type
    fg.link(href=html.feed_url(site, lang, self_fmt), rel="self", type=media_type)
    for sib in siblings:
        fg.link(href=html.feed_url(site, sib, self_fmt), rel="alternate", type=media_type, hreflang=sib)
    # Last: feedgen uses the last link() href as the RSS channel <link>.
    fg.link(href=html.index_url(site, lang), rel="alternate", type="text/html", hreflang=lang)
    updated = edition.updated or EMPTY_FEED_UPDATED
    fg.updated(updated)
    fg.pubDate(updated)
    for article in edition.articles:
        _add_entry(fg, site, edition, article)
    return fg


def _add_entry(fg: FeedGenerator, site: Site, edition: Edition, article: Article) -> None:
    fe = fg.add_entry(order="append")
    fe.id(article.id)  # also the RSS guid, isPermaLink="false"
    fe.title(article.title)
    fe.link(entry_links(site, edition, article)[0])  # the RSS <link>; Atom links are rebuilt
    fe.summary(article.summary)  # Atom type="text"; RSS <description> is escaped in _fix_rss_items
    fe.content(html.item_content_html(site, article), type="html")
    fe.published(article.published)
    fe.updated(article.modified)
    for term in categories(article):
        fe.category(term=term)
    if article.author:
        fe.author(name=article.author)


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


def render_rss(site: Site, edition: Edition, siblings: Sequence[str] = ()) -> bytes:
    """RSS 2.0 with content:encoded and atom:link self and sibling alternates.

    ``siblings`` are the languages of the other editions that have an RSS feed.
    """
    fg = _generator(site, edition, "rss", ())
    root = _tree(fg, "rss")
    channel = root.find("channel")
    assert channel is not None  # feedgen always writes one
    _fix_rss_build_dates(channel, edition)
    _fix_rss_items(channel, edition)
    _fix_rss_description(channel)
    _add_rss_siblings(channel, site, siblings)
    return _serialize(root)


def _fix_rss_build_dates(channel: etree._Element, edition: Edition) -> None:
    """Locale-independent RFC 822 build dates; none at all on an empty feed (never "now")."""
    updated = edition.updated
    for name in ("lastBuildDate", "pubDate"):
        elem = channel.find(name)
        if elem is None:
            continue
        if updated is None:
            channel.remove(elem)
        else:
            elem.text = format_datetime(updated)


def _fix_rss_items(channel: etree._Element, edition: Edition) -> None:
    """Locale-independent pubDate; the summary as HTML-escaped text.

    Readers treat an RSS ``<description>`` as HTML, so a plain-text summary
    holding ``<`` or ``&`` must be escaped once more to show as written.
    """
    for item, article in zip(channel.iterfind("item"), edition.articles, strict=True):
        date = item.find("pubDate")
        if date is not None:
            date.text = format_datetime(article.published)
        description = item.find("description")
        if description is not None and article.summary:
            description.text = html.escape_text(article.summary)


def _fix_rss_description(channel: etree._Element) -> None:
    """The channel <description> is HTML to readers too: escaped like the items' (Atom's
    <subtitle> is type="text", where the XML escaping alone is right)."""
    description = channel.find("description")
    if description is not None and description.text:
        description.text = html.escape_text(description.text)


def _add_rss_siblings(channel: etree._Element, site: Site, siblings: Sequence[str]) -> None:
    """atom:link rel=alternate hreflang=... to each sibling's RSS, after the self link."""
    self_link = channel.find(f"{{{ATOM_NS}}}link")
    position = channel.index(self_link) + 1 if self_link is not None else len(channel)
    for offset, sibling in enumerate(siblings):
        link = etree.Element(f"{{{ATOM_NS}}}link", nsmap={"atom": ATOM_NS})
        for key, value in (
            ("href", html.feed_url(site, sibling, "rss")),
            ("rel", "alternate"),
            ("type", html.FEED_FORMATS["rss"].media_type),
            ("hreflang", sibling),
        ):
            link.set(key, value)
        channel.insert(position + offset, link)


# -------------------------------------------------------------------------- Atom


def render_atom(site: Site, edition: Edition, siblings: Sequence[str] = ()) -> bytes:
    """Atom 1.0 with xml:lang on the feed and every entry and hreflang'd links.

    ``siblings`` are the languages of the other editions that have an Atom feed.
    """
    fg = _generator(site, edition, "atom", siblings)
    # feedgen builds its Atom tree with an ``xmlns`` attribute instead of a namespace,
    # so only the serialized form is real Atom: parse it.
    root = etree.fromstring(fg.atom_str(pretty=False), _PARSER)
    _fix_atom(root, site, edition)
    return _serialize(root)


def _fix_atom(root: etree._Element, site: Site, edition: Edition) -> None:
    """Set xml:lang and rebuild the entry links feedgen stripped of rel/type/hreflang."""
    root.set(XML_LANG, edition.language)
    entries = root.findall(f"{{{ATOM_NS}}}entry")
    for entry, article in zip(entries, edition.articles, strict=True):
        entry.set(XML_LANG, article.language)
        old = entry.findall(f"{{{ATOM_NS}}}link")
        position = entry.index(old[0]) if old else len(entry)
        for elem in old:
            entry.remove(elem)
        for offset, attrs in enumerate(entry_links(site, edition, article)):
            link = etree.Element(f"{{{ATOM_NS}}}link")
            for key in ("rel", "type", "hreflang", "href"):
                link.set(key, attrs[key])
            entry.insert(position + offset, link)
