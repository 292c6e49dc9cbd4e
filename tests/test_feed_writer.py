"""The direct RSS/Atom item writer gives, byte for byte, what feedgen's tree gave (JSON Feed: its old layout).

``tests/feedgen_reference.py`` holds the renderers as they were before the
writer (feedgen adds every entry, lxml pretty-prints the fixed-up tree).
Hypothesis generates prepared editions with every field the items carry,
including the characters XML escapes (``& < > " ' ]]>``, ``\\r``, ``\\t``,
newlines), astral and right-to-left text, empty fields, images with and
without length and alt text, audio enclosures, date-only and translated
articles, archive chains and empty editions; both renderers must agree.
"""

from __future__ import annotations

import html as stdlib_html
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import feedparser  # type: ignore[import-untyped, unused-ignore]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from syndicate.models import Article, Block, Edition, Media, Site, Translation
from syndicate.render import _prepare, _prepare_site, clean_text, html
from syndicate.render.archive import Chain, chains
from syndicate.render.feeds import atom_entry, render_atom, render_rss, rfc822_utc, rss_item
from syndicate.render.jsonfeed import render_json_feed
from tests import feedgen_reference as reference

SPECIALS = ["&", "<", ">", '"', "'", "]]>", "\r", "\r\n", "\t", "\n", " ", "&amp;", "<b>", "\u2028", "\x85"]
ASTRAL_RTL = ["𝄞", "😀", "𠀋", "שלום", "مرحبا", "\u200f", "\u202e", "é", "ß", "日本"]
LANGS = ["en", "es", "ca", "gl", "ar", "he", "pt-BR"]

_chars = st.one_of(
    st.sampled_from(SPECIALS + ASTRAL_RTL),
    st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFFF),
)
# Unprepared text: _prepare removes what XML forbids, as the pipeline does.
text = st.lists(_chars, max_size=12).map("".join)
nonempty = st.lists(_chars, min_size=1, max_size=12).map("".join).filter(lambda t: clean_text(t) != "")
url = st.builds(
    lambda path, query: f"https://cdn.example.net/{path}{query}",
    st.from_regex(r"[a-z0-9/._-]{1,12}", fullmatch=True),
    st.sampled_from(["", "?a=1&b=2", '?q="x"', "?t=<y>"]),
)
moment = st.builds(
    lambda seconds, offset: datetime(2020, 1, 1, tzinfo=UTC).astimezone(timezone(timedelta(minutes=offset)))
    + timedelta(seconds=seconds),
    st.integers(0, 10**8),
    st.sampled_from([0, 180, -300, 330, 765]),
)
image = st.builds(
    Media,
    url=url,
    media_type=st.sampled_from(["", "image/jpeg", "image/png"]),
    length=st.sampled_from([0, 1, 48213]),
    alt=text,
)
audio = st.builds(
    Media,
    url=url,
    media_type=st.sampled_from(["", "audio/mpeg", "video/mp4"]),
    length=st.sampled_from([0, 1200]),
    alt=st.sampled_from(["", "Listen & learn"]),
)
translation = st.builds(
    Translation,
    engine=st.sampled_from(["Apertium", "Test <engine> & co"]),
    source_language=st.sampled_from(["en", "es"]),
    original_id=st.just("urn:uuid:original"),
    original_slug=st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
    human=st.booleans(),
)
body = st.lists(text.map(lambda t: Block(stdlib_html.escape(t))), max_size=3).map(tuple)


@st.composite
def articles(draw: st.DrawFn, language: str) -> Article:
    published = draw(moment)
    return Article(
        id=draw(st.sampled_from(["urn:uuid:3ff46c1c", "urn:x:a&b<c>", "tag:example.org,2025:é𝄞"])),
        slug=draw(st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)),
        title=draw(nonempty),
        summary=draw(text),
        body=draw(body),
        published=published,
        language=language,
        updated=draw(st.one_of(st.none(), st.just(published + timedelta(hours=5)), st.just(published))),
        category=draw(st.one_of(st.none(), text)),
        tags=tuple(draw(st.lists(text, max_size=3))),
        author=draw(st.one_of(st.none(), text)),
        translation=draw(st.one_of(st.none(), translation)),
        date_only=draw(st.booleans()),
        body_language=draw(st.sampled_from([None, "en", "ar"])),
        image=draw(st.one_of(st.none(), image)),
        enclosure=draw(st.one_of(st.none(), audio)),
    )


@st.composite
def sites_and_editions(draw: st.DrawFn) -> tuple[Site, Edition]:
    language = draw(st.sampled_from(LANGS))
    found = draw(st.lists(articles(language), max_size=4))
    unique = {a.slug: a for a in found}  # slugs are unique within an edition
    site = Site(
        title=draw(nonempty),
        url="https://news.example.org/",
        description=draw(text),
        timezone=draw(st.sampled_from(["Europe/Moscow", "UTC", "Asia/Kolkata"])),
        language="en",
        author=draw(st.one_of(st.none(), text)),
        email=draw(st.sampled_from([None, "desk@example.org"])),
        hubs=draw(st.sampled_from([(), ("https://hub.example.org/",)])),
        pages=draw(st.booleans()),
    )
    edition = Edition(language, draw(nonempty), draw(text), tuple(unique.values()))
    (prepared,) = _prepare([edition])
    return _prepare_site(site), prepared


def chain_for(language: str, kind: int) -> Chain | None:
    """None (the default), a subscription feed with archives, or an archive page in the middle."""
    if kind == 0:
        return None
    current, archives = chains(language, 3)
    return current if kind == 1 else archives[1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites_and_editions(), st.integers(0, 2), st.lists(st.sampled_from(["es", "ca"]), max_size=2, unique=True))
def test_direct_writer_is_byte_identical_to_feedgen(
    found: tuple[Site, Edition], kind: int, siblings: list[str]
) -> None:
    site, edition = found
    chain = chain_for(edition.language, kind)
    html.clear_content_memo()
    assert render_rss(site, edition, siblings, chain) == reference.render_rss(site, edition, siblings, chain)
    assert render_atom(site, edition, siblings, chain) == reference.render_atom(site, edition, siblings, chain)
    assert render_json_feed(site, edition, chain) == reference.render_json_feed(site, edition, chain)


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_the_nastiest_item_parses_back_to_its_fields(fmt: str) -> None:
    """What a real XML parser and a feed reader extract from a hand-written worst case."""
    nasty = "Tom & Jerry <b>\"quoted\"</b> 'x' ]]> a\rb\tc 𝄞 שלום"
    article = Article(
        id="urn:x:a&b",
        slug="nasty",
        title=nasty,
        summary=nasty,
        body=(Block(stdlib_html.escape(nasty)),),
        published=datetime(2025, 4, 14, 7, 46, tzinfo=UTC),
        language="en",
        category=nasty,
        author=nasty,
        image=Media('https://cdn.example.net/a.jpg?x=1&y="2"', "image/jpeg", 10, nasty),
        enclosure=Media("https://cdn.example.net/a.mp3", "audio/mpeg", 1200),
    )
    site = Site("Desk", "https://news.example.org/", "", "UTC", "en")
    (edition,) = _prepare([Edition("en", "Desk", "", (article,))])
    render = render_rss if fmt == "rss" else render_atom
    data = render(site, edition)
    root = etree.fromstring(data)
    ns = {"a": "http://www.w3.org/2005/Atom", "media": "http://search.yahoo.com/mrss/"}
    if fmt == "rss":
        item = root.find("channel/item")
        assert item.findtext("title") == nasty
        assert item.findtext("description") == html.escape_text(nasty)
        assert item.findtext("category") == nasty
        assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == nasty
        assert item.find("enclosure").get("url") == "https://cdn.example.net/a.mp3"
        assert item.find("media:content", ns).get("url") == 'https://cdn.example.net/a.jpg?x=1&y="2"'
        assert item.findtext("media:content/media:description", namespaces=ns) == nasty
    else:
        entry = root.find("a:entry", ns)
        assert entry.findtext("a:title", namespaces=ns) == nasty
        assert entry.findtext("a:summary", namespaces=ns) == nasty
        assert entry.find("a:category", ns).get("term") == nasty
        assert [link.get("title") for link in entry.findall("a:link", ns)] == [None, None, nasty]
    parsed = feedparser.parse(data).entries[0]
    assert parsed.id == "urn:x:a&b"
    assert parsed.link == "https://news.example.org/en/articles/nasty.html"


def test_items_are_what_the_documents_hold() -> None:
    """The public item writers give the documents' own item text (the fragments cut the same)."""
    site = Site("Desk", "https://news.example.org/", "", "UTC", "en", author="A & B")
    article = Article(
        "urn:x:1", "one", "One", "", (Block("x"),), datetime(2025, 1, 1, tzinfo=UTC), "en", date_only=True
    )
    (edition,) = _prepare([Edition("en", "Desk", "", (article,))])
    prepared = edition.articles[0]
    assert rss_item(site, edition, prepared).encode() in render_rss(site, edition)
    assert atom_entry(site, edition, prepared).encode() in render_atom(site, edition)
    # without a summary the RSS description is the content, and Atom's summary is empty
    assert b"<content:encoded>" not in render_rss(site, edition)
    assert b"    <summary/>\n" in render_atom(site, edition)


def test_content_html_is_built_once_per_article_for_every_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """RSS, Atom and JSON Feed share each item's content HTML (html's memo): built once per article."""
    site = Site("Desk", "https://news.example.org/", "", "UTC", "en")
    found = [
        Article(f"urn:x:{n}", f"a{n}", f"T{n}", "s", (Block("b"),), datetime(2025, 1, n, tzinfo=UTC), "en")
        for n in range(1, 6)
    ]
    (edition,) = _prepare([Edition("en", "Desk", "", tuple(found))])
    built: list[str] = []
    real = html.body_html

    def body_html(blocks: tuple[Block, ...]) -> str:
        built.append(blocks[0].html)
        return real(blocks)

    monkeypatch.setattr(html, "body_html", body_html)
    html.clear_content_memo()
    rss, atom, json_feed = render_rss(site, edition), render_atom(site, edition), render_json_feed(site, edition)
    assert len(built) == len(found)
    for data in (rss, atom, json_feed):
        assert data.count(b"&lt;p&gt;b&lt;/p&gt;" if data is not json_feed else b"<p>b</p>") == len(found)


@given(
    st.datetimes(
        min_value=datetime(1000, 1, 1),
        max_value=datetime(9000, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=14))]),
    )
)
def test_rss_dates_are_what_the_email_library_writes(moment: datetime) -> None:
    assert rfc822_utc(moment) == format_datetime(moment.astimezone(UTC))
