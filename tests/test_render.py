"""The rendered target tree, read back the way readers and validators read it."""

from __future__ import annotations

import email.utils
import json
import locale
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape, unescape
from zoneinfo import ZoneInfo

import feedparser
import listparser
import pytest
from feedgen.feed import FeedGenerator
from lxml import etree
from lxml import html as lxml_html

from syndicate.errors import ConfigError, InputError
from syndicate.models import Article, Block, Edition, Site, Translation
from syndicate.render import render_site
from syndicate.render.feeds import render_atom

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
MSK = ZoneInfo("Europe/Moscow")
BASE = "https://news.example.org/desk/"

SITE = Site(
    title="World Desk",
    url=BASE,
    description="News from everywhere",
    timezone="Europe/Moscow",
    language="en",
    author="Desk Editor",
)

BODY = (
    Block("Lede paragraph with &lt;markup&gt; &amp; ampersands."),
    Block("Background", "h2"),
    Block("", "ul", (Block("first point", "li"), Block("second point", "li"))),
    Block("", "quote", (Block("A quoted sentence.", "p"),)),
    Block("code  block", "pre"),
    Block("Closing paragraph."),
)

# (slug, title, category, tags, hours before 2025-04-14 10:46 MSK, updated hours later)
_STORIES = [
    (
        "talks-resume",
        "Talks resume <script>alert(1)</script> & more",
        "Ukraine-Russia War",
        ("talks",),
        0,
        None,
    ),
    ("markets-calm", "Markets calm", "Economy", (), 3, 1),
    ("storm-warning", "Storm warning", None, ("weather", "alerts"), 26, None),
    ("old-news", "Old news", "Archive", (), 50, 60),  # updated after everything else
]


def _english(
    slug: str, title: str, category: str | None, tags: tuple[str, ...], ago: int, upd: int | None
) -> Article:
    published = datetime(2025, 4, 14, 10, 46, tzinfo=MSK) - timedelta(hours=ago)
    return Article(
        id=f"urn:uuid:00000000-0000-4000-8000-{ago:012d}",
        slug=slug,
        title=title,
        summary=f"Summary of {title}",
        body=BODY,
        published=published,
        updated=published + timedelta(hours=upd) if upd else None,
        language="en",
        category=category,
        tags=tags,
        source=f"seeds/{slug}.txt",
    )


def _translated(original: Article, language: str, slug: str, title: str) -> Article:
    return original.replace(
        id=original.id.replace("4000-8000", f"4000-{language}00"),
        slug=slug,
        title=title,
        summary=f"{title}: resumen",
        language=language,
        translation=Translation("Apertium", "en", original.id, original.slug),
    )


EN_ARTICLES = tuple(_english(*story) for story in _STORIES)
ES_ARTICLES = tuple(
    _translated(a, "es", f"es-{a.slug}", f"Noticia {i}: {a.title}") for i, a in enumerate(EN_ARTICLES)
)
AR_ARTICLES = tuple(_translated(a, "ar", f"ar-{a.slug}", f"خبر {i}") for i, a in enumerate(EN_ARTICLES[:2]))

EN = Edition("en", "World Desk (English)", "News from everywhere", EN_ARTICLES)
ES = Edition("es", "World Desk (español)", "Noticias de todas partes", ES_ARTICLES)
AR = Edition("ar", "World Desk (العربية)", "أخبار", AR_ARTICLES, direction="rtl")
EDITIONS = (EN, ES, AR)
LANGS = ("en", "es", "ar")


@pytest.fixture(scope="module")
def tree() -> dict[str, bytes]:
    return render_site(SITE, EDITIONS)


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _rss_items(data: bytes) -> list[etree._Element]:
    return _xml(data).findall("channel/item")


# -------------------------------------------------------------- the tree


def test_tree_has_every_file_and_only_safe_relative_paths(tree: dict[str, bytes]) -> None:
    expected = {"index.html", "feeds.opml"}
    for edition in EDITIONS:
        lang = edition.language
        expected |= {f"{lang}/rss.xml", f"{lang}/atom.xml", f"{lang}/feed.json", f"{lang}/index.html"}
        expected |= {f"{lang}/articles/{a.slug}.html" for a in edition.articles}
    assert set(tree) == expected
    assert list(tree) == sorted(tree)
    for path in tree:
        assert not path.startswith("/") and ".." not in path.split("/")


def test_render_is_byte_identical_across_runs(tree: dict[str, bytes]) -> None:
    assert render_site(SITE, EDITIONS) == tree


def _links_in(path: str, data: bytes) -> set[str]:
    if path.endswith(".json"):
        feed = json.loads(data)
        urls = {feed["home_page_url"], feed["feed_url"]} | {item["url"] for item in feed["items"]}
        return urls | {
            u for item in feed["items"] for u in re.findall(r'href="([^"]+)"', item["content_html"])
        }
    if path.endswith(".html"):
        doc = lxml_html.fromstring(data)
        return {str(href) for href in doc.xpath("//@href")}
    root = _xml(data)
    urls = {str(u) for u in root.xpath("//@href | //@xmlUrl | //@htmlUrl | //link/text()")}
    for text in root.xpath("//*[local-name()='content' or local-name()='encoded']/text()"):
        urls |= set(re.findall(r'href="([^"]+)"', str(text)))
    return urls


def test_every_link_points_into_the_tree(tree: dict[str, bytes]) -> None:
    seen = 0
    for path, data in tree.items():
        for url in _links_in(path, data):
            assert url.startswith(BASE), f"{path}: relative or foreign URL {url}"
            assert url.removeprefix(BASE) in tree, f"{path}: {url} is not rendered"
            seen += 1
    assert seen > 100


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_item_links_map_to_rendered_pages(tree: dict[str, bytes], lang: str, name: str) -> None:
    parsed = feedparser.parse(tree[f"{lang}/{name}"])
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.link.startswith(f"{BASE}{lang}/articles/")
        assert entry.link.removeprefix(BASE) in tree


# ------------------------------------------------------------ RSS and Atom


@pytest.mark.parametrize("edition", EDITIONS, ids=LANGS)
@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_feedparser_reads_every_feed(tree: dict[str, bytes], edition: Edition, name: str) -> None:
    lang = edition.language
    parsed = feedparser.parse(tree[f"{lang}/{name}"])
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == edition.title
    assert parsed.feed.link == f"{BASE}{lang}/index.html"
    assert parsed.feed.language == lang
    assert [e.title for e in parsed.entries] == [a.title for a in edition.articles]
    assert [e.link for e in parsed.entries] == [
        f"{BASE}{lang}/articles/{a.slug}.html" for a in edition.articles
    ]
    assert [e.id for e in parsed.entries] == [a.id for a in edition.articles]
    published = [datetime(*e.published_parsed[:6], tzinfo=UTC) for e in parsed.entries]
    assert published == [a.published for a in edition.articles]
    assert published == sorted(published, reverse=True)  # append order, newest first
    # RSS descriptions are HTML (the summary escaped once more), Atom summaries plain text
    summaries = [
        unescape(e.summary) if e.summary_detail.type == "text/html" else e.summary for e in parsed.entries
    ]
    assert summaries == [a.summary for a in edition.articles]
    assert all('class="dateline"' in e.content[0].value for e in parsed.entries)
    terms = [[t.term for t in e.get("tags", [])] for e in parsed.entries]
    assert terms == [[t for t in (a.category, *a.tags) if t] for a in edition.articles]


def test_rss_channel_link_is_the_index_page_not_the_self_link(tree: dict[str, bytes]) -> None:
    channel = _xml(tree["es/rss.xml"]).find("channel")
    assert channel is not None
    assert channel.findtext("link") == f"{BASE}es/index.html"
    self_links = [el for el in channel.findall(f"{ATOM}link") if el.get("rel") == "self"]
    assert [(el.get("href"), el.get("type")) for el in self_links] == [
        (f"{BASE}es/rss.xml", "application/rss+xml")
    ]


def test_rss_channel_fields(tree: dict[str, bytes]) -> None:
    channel = _xml(tree["en/rss.xml"]).find("channel")
    assert channel is not None
    assert channel.findtext("generator") == "syndicate"
    assert channel.findtext("language") == "en"
    assert channel.findtext("description") == EN.description
    newest = max(a.modified for a in EN_ARTICLES)  # old-news was updated last
    assert email.utils.parsedate_to_datetime(channel.findtext("lastBuildDate")) == newest
    assert email.utils.parsedate_to_datetime(channel.findtext("pubDate")) == newest
    assert channel.findtext("link") == f"{BASE}en/index.html"
    assert channel.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Desk Editor"
    # the edition page first of all, then self, then the sibling feeds (DESIGN 6)
    links = channel.findall(f"{ATOM}link")
    assert [(el.get("rel"), el.get("type"), el.get("hreflang"), el.get("href")) for el in links] == [
        ("alternate", "text/html", "en", f"{BASE}en/index.html"),
        ("self", "application/rss+xml", None, f"{BASE}en/rss.xml"),
        ("alternate", "application/rss+xml", "es", f"{BASE}es/rss.xml"),
        ("alternate", "application/rss+xml", "ar", f"{BASE}ar/rss.xml"),
        ("alternate", "text/html", None, f"{BASE}en/index.html"),  # for readers that take the last alternate
    ]


def test_rss_items(tree: dict[str, bytes]) -> None:
    items = _rss_items(tree["es/rss.xml"])
    first = items[0]
    guid = first.find("guid")
    assert guid is not None and guid.get("isPermaLink") == "false" and guid.text == ES_ARTICLES[0].id
    assert first.findtext("description") == escape(ES_ARTICLES[0].summary)
    assert "&lt;script&gt;" in (first.findtext("description") or "")
    assert first.findtext("pubDate") == "Mon, 14 Apr 2025 07:46:00 +0000"  # machine dates in UTC
    assert first.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Desk Editor"  # the site's: no own author
    content = first.findtext(CONTENT_ENCODED) or ""
    assert "Lede paragraph with &lt;markup&gt; &amp; ampersands." in content
    assert "<script>" not in content
    assert [el.text for el in first.findall("category")] == ["Ukraine-Russia War", "talks"]


def test_item_content_html_structure(tree: dict[str, bytes]) -> None:
    content = _rss_items(tree["es/rss.xml"])[0].findtext(CONTENT_ENCODED) or ""
    assert content.startswith(
        '<p class="dateline"><time datetime="2025-04-14T10:46:00+03:00">'
        "14 de abril de 2025, 10:46 MSK</time></p>"
    )
    assert "<h2>Background</h2>\n<ul>\n<li>first point</li>\n<li>second point</li>\n</ul>" in content
    assert "<blockquote>\n<p>A quoted sentence.</p>\n</blockquote>\n<pre><code>code  block</code></pre>" in content
    assert content.endswith(
        '<p class="translation-note">Traducción automática del inglés por Apertium. '
        f'<a href="{BASE}en/articles/talks-resume.html" hreflang="en">Artículo original</a></p>'
    )


def test_source_items_have_no_translation_note(tree: dict[str, bytes]) -> None:
    for item in _rss_items(tree["en/rss.xml"]):
        assert "translation-note" not in (item.findtext(CONTENT_ENCODED) or "")


@pytest.fixture
def german_time_locale() -> Iterator[None]:
    old = locale.setlocale(locale.LC_ALL)
    for name in ("de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "es_ES.UTF-8"):
        try:
            locale.setlocale(locale.LC_ALL, name)
            break
        except locale.Error:
            continue
    else:
        pytest.skip("no de_DE/fr_FR/es_ES locale installed (see `locale -a`)")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_ALL, old)


@pytest.mark.usefixtures("german_time_locale")
def test_rss_dates_are_english_whatever_the_process_locale(tree: dict[str, bytes]) -> None:
    assert datetime(2025, 5, 1).strftime("%a %b") != "Thu May"  # the locale really is foreign
    again = render_site(SITE, EDITIONS)
    assert again == tree
    assert b"<pubDate>Mon, 14 Apr 2025 07:46:00 +0000</pubDate>" in again["en/rss.xml"]


def test_atom_entry_links_keep_rel_type_and_hreflang(tree: dict[str, bytes]) -> None:
    entries = _xml(tree["es/atom.xml"]).findall(f"{ATOM}entry")
    assert len(entries) == len(ES_ARTICLES)
    for entry, article in zip(entries, ES_ARTICLES, strict=True):
        links = [dict(el.attrib) for el in entry.findall(f"{ATOM}link")]
        assert article.translation is not None
        assert links == [
            {
                "rel": "alternate",
                "type": "text/html",
                "hreflang": "es",
                "href": f"{BASE}es/articles/{article.slug}.html",
            },
        ]  # one link only: the original is linked from the content's translation note
    # feedparser sees the same, and picks the item's own page as its link
    entry = feedparser.parse(tree["es/atom.xml"]).entries[0]
    assert entry.link == f"{BASE}es/articles/es-talks-resume.html"
    assert [(link.rel, link.get("hreflang")) for link in entry.links] == [("alternate", "es")]


def test_feedgen_still_drops_atom_entry_link_attributes() -> None:
    """Canary for the lxml workaround in render.feeds: fails once feedgen is fixed."""
    fg = FeedGenerator()
    fg.id("urn:x")
    fg.title("t")
    fe = fg.add_entry()
    fe.id("urn:y")
    fe.title("t")
    fe.link(href="https://example.org/a", rel="alternate", type="text/html", hreflang="es")
    link = _xml(fg.atom_str()).find(f"{ATOM}entry/{ATOM}link")
    assert link is not None and dict(link.attrib) == {"href": "https://example.org/a"}


def test_atom_xml_lang_on_feed_and_entries(tree: dict[str, bytes]) -> None:
    for lang in LANGS:
        root = _xml(tree[f"{lang}/atom.xml"])
        assert root.get(XML_LANG) == lang
        entries = root.findall(f"{ATOM}entry")
        assert entries and all(entry.get(XML_LANG) == lang for entry in entries)


def test_atom_feed_level_fields(tree: dict[str, bytes]) -> None:
    root = _xml(tree["es/atom.xml"])
    assert root.findtext(f"{ATOM}id") == f"{BASE}es/index.html"
    assert root.findtext(f"{ATOM}subtitle") == ES.description
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Desk Editor"
    assert root.findtext(f"{ATOM}generator") == "syndicate"
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated") or "") == max(
        a.modified for a in ES_ARTICLES
    )
    links = [
        (el.get("rel"), el.get("type"), el.get("hreflang"), el.get("href"))
        for el in root.findall(f"{ATOM}link")
    ]
    # the edition page is the first link of all, before self; the sibling feeds follow (DESIGN 6)
    assert links == [
        ("alternate", "text/html", "es", f"{BASE}es/index.html"),
        ("self", "application/atom+xml", None, f"{BASE}es/atom.xml"),
        ("alternate", "application/atom+xml", "en", f"{BASE}en/atom.xml"),
        ("alternate", "application/atom+xml", "ar", f"{BASE}ar/atom.xml"),
        ("alternate", "text/html", None, f"{BASE}es/index.html"),  # for readers that take the last alternate
    ]
    kinds = [(rel, type_, hreflang) for rel, type_, hreflang, _ in links if rel == "alternate"]
    assert len(kinds) == len(set(kinds)), "duplicate alternate of one type and hreflang"


def test_atom_entry_dates_and_categories(tree: dict[str, bytes]) -> None:
    entries = _xml(tree["en/atom.xml"]).findall(f"{ATOM}entry")
    old_news = entries[3]
    article = EN_ARTICLES[3]
    assert datetime.fromisoformat(old_news.findtext(f"{ATOM}published") or "") == article.published
    assert datetime.fromisoformat(old_news.findtext(f"{ATOM}updated") or "") == article.modified
    assert old_news.findtext(f"{ATOM}updated") == "2025-04-14T17:46:00Z"  # machine dates in UTC
    content = old_news.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert [el.get("term") for el in entries[2].findall(f"{ATOM}category")] == ["weather", "alerts"]


# -------------------------------------------------------------- max_items


def test_max_items_limits_feeds_but_not_pages() -> None:
    files = render_site(SITE, EDITIONS, max_items=2)
    for lang in LANGS:
        for name in ("rss.xml", "atom.xml"):
            assert len(feedparser.parse(files[f"{lang}/{name}"]).entries) == min(2, len(AR_ARTICLES) + 2)
        assert len(json.loads(files[f"{lang}/feed.json"])["items"]) == 2
    assert "en/articles/old-news.html" in files
    assert b"old-news.html" in files["en/index.html"]


def test_build_date_is_the_newest_included_item() -> None:
    files = render_site(SITE, EDITIONS, max_items=2)
    channel = _xml(files["en/rss.xml"]).find("channel")
    assert channel is not None
    expected = max(a.modified for a in EN_ARTICLES[:2])
    assert expected < EN_ARTICLES[3].modified  # old-news (left out) has the newest change of all
    assert email.utils.parsedate_to_datetime(channel.findtext("lastBuildDate")) == expected
    updated = _xml(files["en/atom.xml"]).findtext(f"{ATOM}updated")
    assert datetime.fromisoformat(updated or "") == expected


def test_empty_edition_still_gives_valid_feeds() -> None:
    empty = Edition("fr", "World Desk (français)", "", ())
    files = render_site(SITE, (EN, empty))
    rss = feedparser.parse(files["fr/rss.xml"])
    atom = feedparser.parse(files["fr/atom.xml"])
    assert not rss.bozo and not atom.bozo
    assert rss.entries == [] and atom.entries == []
    assert rss.feed.link == atom.feed.link == f"{BASE}fr/index.html"
    channel = _xml(files["fr/rss.xml"]).find("channel")
    assert channel is not None and channel.find("lastBuildDate") is None  # never "now"
    assert _xml(files["fr/atom.xml"]).findtext(f"{ATOM}updated") == "1970-01-01T00:00:00Z"
    assert json.loads(files["fr/feed.json"])["items"] == []
    assert files == render_site(SITE, (EN, empty))


def test_formats_subset() -> None:
    files = render_site(SITE, EDITIONS, formats=("atom",))
    assert not any(p.endswith(("rss.xml", "feed.json")) for p in files)
    assert "es/atom.xml" in files
    assert b"application/rss+xml" not in files["index.html"]
    assert [f.url for f in listparser.parse(files["feeds.opml"].decode()).feeds] == [
        f"{BASE}{lang}/atom.xml" for lang in LANGS
    ]


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="'gopher'"):
        render_site(SITE, EDITIONS, formats=("rss", "gopher"))
    with pytest.raises(ConfigError, match="max_items"):
        render_site(SITE, EDITIONS, max_items=-1)
    with pytest.raises(ConfigError, match=r"'\.\./x'"):
        render_site(SITE, (Edition("../x", "t", "d", ()),))
    with pytest.raises(ConfigError, match="two editions"):
        render_site(SITE, (EN, Edition("EN", "t", "d", ())))


def test_unsafe_or_duplicate_slugs_name_the_source() -> None:
    bad = EN_ARTICLES[0].replace(slug="../../etc/passwd")
    with pytest.raises(InputError, match=r"seeds/talks-resume\.txt"):
        render_site(SITE, (Edition("en", "t", "d", (bad,)),))
    twice = (EN_ARTICLES[0], EN_ARTICLES[1].replace(slug="talks-resume"))
    with pytest.raises(InputError, match="used twice"):
        render_site(SITE, (Edition("en", "t", "d", twice),))


def test_tags_are_normalized_before_they_become_directories() -> None:
    files = render_site(SITE, (Edition("pt_br", "t", "d", ()),))
    assert "pt-BR/rss.xml" in files
    assert b'<html lang="pt-BR" dir="ltr">' in files["pt-BR/index.html"]


def test_xml_forbidden_characters_never_break_a_feed() -> None:
    dirty = EN_ARTICLES[0].replace(title="Bad\x0b title\x00", body=(Block("text\x1f here"),))
    files = render_site(SITE, (Edition("en", "t\x08", "d", (dirty,)),))
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse(files[f"en/{name}"])
        assert not parsed.bozo
        assert parsed.entries[0].title == "Bad title"
    assert json.loads(files["en/feed.json"])["items"][0]["title"] == "Bad title"


# ------------------------------------------------------------- JSON Feed


@pytest.mark.parametrize("edition", EDITIONS, ids=LANGS)
def test_json_feed(tree: dict[str, bytes], edition: Edition) -> None:
    data = tree[f"{edition.language}/feed.json"]
    assert data.endswith(b"}\n")
    feed = json.loads(data.decode("utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == edition.title
    assert feed["home_page_url"] == f"{BASE}{edition.language}/index.html"
    assert feed["feed_url"] == f"{BASE}{edition.language}/feed.json"
    assert feed["language"] == edition.language
    assert feed["authors"] == [{"name": "Desk Editor"}]
    assert [item["id"] for item in feed["items"]] == [a.id for a in edition.articles]
    for item, article in zip(feed["items"], edition.articles, strict=True):
        assert set(item) >= {
            "id",
            "url",
            "title",
            "summary",
            "content_html",
            "date_published",
            "date_modified",
        }
        assert item["language"] == edition.language
        published = datetime.fromisoformat(item["date_published"])
        assert published.tzinfo is not None and published == article.published
        assert datetime.fromisoformat(item["date_modified"]) == article.modified
        assert item.get("tags", []) == [t for t in (article.category, *article.tags) if t]


def test_json_feed_is_utf8_not_escaped(tree: dict[str, bytes]) -> None:
    assert "World Desk (español)".encode() in tree["es/feed.json"]
    assert "\\u" not in tree["ar/feed.json"].decode()


# ------------------------------------------------------------------ OPML


def test_opml_lists_every_feed_with_its_language(tree: dict[str, bytes]) -> None:
    parsed = listparser.parse(tree["feeds.opml"].decode("utf-8"))
    assert not parsed.bozo
    assert parsed.meta.title == "World Desk"
    expected = [f"{BASE}{lang}/{name}" for lang in LANGS for name in ("rss.xml", "atom.xml", "feed.json")]
    assert [feed.url for feed in parsed.feeds] == expected
    assert parsed.feeds[3].categories == [["español"]]
    outlines = _xml(tree["feeds.opml"]).findall("body/outline/outline")
    assert [(o.get("language"), o.get("type")) for o in outlines] == [
        (lang, kind) for lang in LANGS for kind in ("rss", "rss", "json")
    ]
    assert all(o.get("htmlUrl") == f"{BASE}{o.get('language')}/index.html" for o in outlines)
    head = _xml(tree["feeds.opml"]).find("head")
    assert head is not None and head.find("dateCreated") is None
    assert email.utils.parsedate_to_datetime(head.findtext("dateModified")) == EN_ARTICLES[3].modified


# ------------------------------------------------------------------ HTML


def _page(data: bytes) -> lxml_html.HtmlElement:
    assert data.startswith(b"<!DOCTYPE html>\n")
    return lxml_html.fromstring(data)


@pytest.mark.parametrize(("lang", "direction"), [("en", "ltr"), ("es", "ltr"), ("ar", "rtl")])
def test_pages_have_lang_and_dir(tree: dict[str, bytes], lang: str, direction: str) -> None:
    pages = [p for p in tree if p.startswith(f"{lang}/") and p.endswith(".html")]
    assert len(pages) >= 3
    for path in pages:
        root = _page(tree[path])
        assert (root.get("lang"), root.get("dir")) == (lang, direction)
        assert root.xpath("//meta[@charset='utf-8']") and root.xpath("//meta[@name='viewport']")
        assert root.xpath("//link[@rel='canonical']/@href") == [BASE + path]


def test_article_page(tree: dict[str, bytes]) -> None:
    root = _page(tree["es/articles/es-talks-resume.html"])
    assert root.xpath("//h1/text()") == [ES_ARTICLES[0].title]
    assert not root.xpath("//script"), "article text must be escaped"
    assert root.xpath("//p[@class='category']/text()") == ["Ukraine-Russia War"]
    assert root.xpath("//p[@class='dateline']/time/text()") == ["14 de abril de 2025, 10:46 MSK"]
    note = root.xpath("//p[@class='translation-note']/a")[0]
    assert (note.get("href"), note.get("hreflang"), note.text) == (
        f"{BASE}en/articles/talks-resume.html",
        "en",
        "Artículo original",
    )
    alternates = {
        el.get("hreflang"): el.get("href") for el in root.xpath("//link[@rel='alternate'][not(@type)]")
    }
    assert alternates == {
        "en": f"{BASE}en/articles/talks-resume.html",
        "es": f"{BASE}es/articles/es-talks-resume.html",
        "ar": f"{BASE}ar/articles/ar-talks-resume.html",
    }
    assert f"{BASE}es/index.html" in root.xpath("//footer//a/@href")


def test_article_page_alternates_only_where_it_exists(tree: dict[str, bytes]) -> None:
    root = _page(tree["en/articles/storm-warning.html"])  # not translated into Arabic
    hreflangs = root.xpath("//link[@rel='alternate'][not(@type)]/@hreflang")
    assert sorted(hreflangs) == ["en", "es"]


def test_feed_discovery_links(tree: dict[str, bytes]) -> None:
    edition_page = _page(tree["es/index.html"])
    found = {
        (el.get("type"), el.get("href")) for el in edition_page.xpath("//head/link[@rel='alternate'][@type]")
    }
    assert found == {
        ("application/rss+xml", f"{BASE}es/rss.xml"),
        ("application/atom+xml", f"{BASE}es/atom.xml"),
        ("application/feed+json", f"{BASE}es/feed.json"),
    }
    root_page = _page(tree["index.html"])
    hrefs = root_page.xpath("//head/link[@rel='alternate'][@type]/@href")
    assert sorted(hrefs) == sorted(
        f"{BASE}{lang}/{n}" for lang in LANGS for n in ("rss.xml", "atom.xml", "feed.json")
    )


def test_edition_index_lists_all_articles_newest_first(tree: dict[str, bytes]) -> None:
    root = _page(tree["es/index.html"])
    assert root.xpath("//ol[@class='articles']//h2/a/@href") == [
        f"{BASE}es/articles/{a.slug}.html" for a in ES_ARTICLES
    ]
    assert root.xpath("//ol[@class='articles']//p[@class='summary']/text()") == [
        a.summary for a in ES_ARTICLES
    ]
    hreflangs = root.xpath("//link[@rel='alternate'][not(@type)]/@hreflang")
    assert sorted(hreflangs) == sorted(LANGS)


def test_root_index_language_switcher(tree: dict[str, bytes]) -> None:
    root = _page(tree["index.html"])
    assert (root.get("lang"), root.get("dir")) == ("en", "ltr")
    switcher = root.xpath("//nav[@class='languages']/ul/li/a")
    assert [(a.text, a.get("hreflang")) for a in switcher] == [
        ("English", "en"),
        ("español", "es"),
        ("العربية", "ar"),
    ]
    assert root.xpath("//main/section[1]//h3/a/@href")[0] == f"{BASE}en/articles/talks-resume.html"


def test_atom_renderer_alone_is_pure() -> None:
    assert render_atom(SITE, ES, ["en"]) == render_atom(SITE, ES, ["en"])


def test_untranslated_fallback_article_keeps_its_own_language() -> None:
    """An article published untranslated in another edition (on_error = "original")."""
    fallback = EN_ARTICLES[2].replace(id="urn:uuid:fallback-es")
    spanish = Edition("es", "World Desk (español)", "", (ES_ARTICLES[0], fallback))
    files = render_site(SITE, (EN, spanish))
    entries = _xml(files["es/atom.xml"]).findall(f"{ATOM}entry")
    assert [e.get(XML_LANG) for e in entries] == ["es", "en"]
    page = _page(files["es/articles/storm-warning.html"])
    assert page.get("lang") == "es"
    assert page.xpath("//article/@lang") == ["en"]
    assert page.xpath("//p[@class='dateline']/time/text()") == ["April 13, 2025, 8:46\u202fAM MSK"]
    # hreflang="es" must not point at English text
    english_page = _page(files["en/articles/storm-warning.html"])
    assert english_page.xpath("//link[@rel='alternate'][not(@type)]/@hreflang") == ["en"]
