"""Pages and item lines from frames are what Jinja2 renders, byte for byte.

With the shipped templates, an article page is its edition's frame (rendered once per
edition and shape, with markers for the article's own values) with the article's values
in the slots, and so is each item line of a listing page (:mod:`syndicate.render.frames`).
A user theme holding copies of ``article.html`` and ``item.html`` turns the frames off
(Jinja2 renders every page and line), so the two trees below are the same templates
through the two paths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import html as lxml_html

from syndicate.models import Article, Block, Edition, Site, Translation
from syndicate.render import html, render_site
from syndicate.render.frames import Frame, Frames
from syndicate.render.theme import DEFAULT_THEME, Theme

MSK = ZoneInfo("Europe/Moscow")
SITE = Site(
    title='World "Desk" & <Co>',
    url="https://news.example.org/desk/?a=1&b=2/",
    description="News & views",
    timezone="Europe/Moscow",
    language="en",
    author="Desk Editor",
)
BODY = (Block("Lede with &lt;markup&gt; &amp; ampersands."), Block("Background", "h2"), Block("Closing."))


def _article(n: int, **fields: object) -> Article:
    published = datetime(2025, 4, 14, 10, 46, tzinfo=MSK) - timedelta(hours=7 * n)
    base = Article(
        id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        slug=f"story-{n}",
        title=f"Story {n}",
        summary=f"Summary {n}",
        body=BODY,
        published=published,
        language="en",
        source=f"seeds/story-{n}.txt",
    )
    return base.replace(**fields)


def _translated(original: Article, language: str, **fields: object) -> Article:
    return original.replace(
        id=original.id.replace("4000-8000", f"4000-{language}00"),
        slug=f"{language}-{original.slug}",
        title=f"{language}: {original.title}",
        language=language,
        translation=Translation("Apertium", "en", original.id, original.slug),
    ).replace(**fields)


EN_ARTICLES = (
    _article(0, title="Quotes \"double\" & 'single' <b>not bold</b>", category="War & Peace", author="A. O'Neil"),
    _article(1, category="", tags=("x", "y"), author=None, summary=""),  # no category line, no summary
    _article(2, category=None, title_source="The whole sentence the title was cut from, & more"),
    _article(3, category="Economy", date_only=True),
    _article(4, title="Only in English", category="Economy"),
)
ES_ARTICLES = (
    _translated(EN_ARTICLES[0], "es", original_body=BODY),  # bilingual page: the original under it
    _translated(EN_ARTICLES[1], "es", body_language="en"),  # title-only translation
    _translated(EN_ARTICLES[2], "es"),
    _translated(EN_ARTICLES[3], "es", translation=Translation("Apertium", "en", EN_ARTICLES[3].id, "story-3", True)),
)
AR_ARTICLES = (_translated(EN_ARTICLES[0], "ar"), _translated(EN_ARTICLES[2], "ar", author="كاتب"))
EDITIONS = (
    Edition("en", "World Desk (English)", "News", EN_ARTICLES),
    Edition("es", "World Desk (español)", "Noticias", ES_ARTICLES),
    Edition("ar", "World Desk (العربية)", "أخبار", AR_ARTICLES, direction="rtl"),
)


def _copy_of(tmp_path: Path, names: Sequence[str]) -> Theme:
    """A user theme holding byte-identical copies of the shipped templates ``names``."""
    (tmp_path / "templates").mkdir()
    for name in names:
        (tmp_path / "templates" / name).write_bytes((DEFAULT_THEME / "templates" / name).read_bytes())
    return Theme(tmp_path)


LOGO_SITE = dataclasses.replace(SITE, logo="static/logo.svg", author=None)


@pytest.mark.parametrize("site", [SITE, LOGO_SITE], ids=["plain", "logo"])
@pytest.mark.parametrize("editions", [EDITIONS, EDITIONS[:1], EDITIONS[1:]], ids=["three", "one", "translations"])
def test_framed_pages_are_the_pages_jinja_renders(tmp_path: Path, site: Site, editions: tuple[Edition, ...]) -> None:
    jinja_theme = _copy_of(tmp_path, ["article.html", "item.html"])
    assert not jinja_theme.shipped(html.ARTICLE_TEMPLATES) and not jinja_theme.shipped(["item.html"])
    framed = render_site(site, editions)
    rendered = render_site(site, editions, theme=jinja_theme)
    pages = [path for path in framed if "/articles/" in path]
    assert len(pages) == sum(len(e.articles) for e in editions)
    assert {path: framed[path] for path in pages} == {path: rendered[path] for path in pages}
    assert framed == rendered  # the listing pages' item lines (item.html) too


def test_framed_page_carries_each_articles_own_values(tmp_path: Path) -> None:
    tree = render_site(SITE, EDITIONS)
    first = lxml_html.fromstring(tree["en/articles/story-0.html"])
    assert first.xpath("//h1/text()") == [EN_ARTICLES[0].title]
    assert first.xpath("//title/text()") == [f"{EN_ARTICLES[0].title} | World Desk (English)"]
    assert first.xpath("//p[@class='category']/text()") == ["War & Peace"]
    assert first.xpath("//span[@class='author']/text()") == ["A. O'Neil"]
    listed = lxml_html.fromstring(tree["en/index.html"])
    assert listed.xpath("//article[@id='story-1']//p[@class='summary']") == []
    assert listed.xpath("//article[@id='story-0']//a/text()") == [EN_ARTICLES[0].title]
    second = lxml_html.fromstring(tree["en/articles/story-1.html"])
    assert second.xpath("//p[@class='category']") == []
    assert second.xpath("//span[@class='author']/text()") == ["Desk Editor"]  # the desk's byline
    cut = lxml_html.fromstring(tree["en/articles/story-2.html"])
    assert cut.xpath("//h1/text()") == ["The whole sentence the title was cut from, & more"]
    bilingual = lxml_html.fromstring(tree["es/articles/es-story-0.html"])
    assert bilingual.xpath("//section[@class='original']/@lang") == ["en"]
    only_english = lxml_html.fromstring(tree["en/articles/story-4.html"])
    assert only_english.xpath("//link[@rel='alternate'][not(@type)]/@hreflang") == ["en"]
    switcher = only_english.xpath("//nav[@class='languages']//a/@href")
    assert switcher == ["https://news.example.org/desk/?a=1&b=2/es/index.html",
                        "https://news.example.org/desk/?a=1&b=2/ar/index.html"]  # fmt: skip


def _frame_of(tmp_path: Path, article_template: str) -> Frame | None:
    """The frame of ``EN_ARTICLES[0]``'s page made from a theme whose ``article.html`` is given."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "article.html").write_text(article_template)
    theme = Theme(tmp_path)
    edition = EDITIONS[0]
    parts = html._edition_parts(SITE, edition, EDITIONS, ("rss",), theme)
    page = html._article_context(SITE, edition, EN_ARTICLES[0], {"en": "https://x/en"}, EDITIONS)
    try:
        return Frames(theme, "article.html", parts, ())._frame(page)
    finally:
        html.clear_content_memo()


@pytest.mark.parametrize(
    "template",
    [
        '{% extends "base.html" %}{% block main %}{{ article.title|upper }}{% endblock %}',
        '{% extends "base.html" %}{% block main %}{{ article.title|length }}{% endblock %}',
        '{% extends "base.html" %}{% block main %}{{ article.title[:5] }}{% endblock %}',
        '{% extends "base.html" %}{% block main %}{{ article.published.year }}{% endblock %}',
        '{% extends "base.html" %}{% block main %}{{ article.tags|join(",") }}{% endblock %}',
    ],
    ids=["filter", "length", "cut", "published", "tags"],
)
def test_a_template_that_changes_or_reads_a_value_gets_no_frame(tmp_path: Path, template: str) -> None:
    assert _frame_of(tmp_path, template) is None


def test_a_template_that_only_prints_values_gets_a_frame(tmp_path: Path) -> None:
    frame = _frame_of(tmp_path, '{% extends "base.html" %}{% block main %}<h1>{{ article.title }}</h1>{% endblock %}')
    assert frame is not None
    assert len(frame.texts) == len(frame.slots) + 1 and all("\x00" not in text for text in frame.texts)


def test_a_marker_like_text_in_the_sites_own_strings_is_never_a_slot(tmp_path: Path) -> None:
    site = dataclasses.replace(SITE, title="Desk \x00slot0\x00 \x00slot1b\x00", author="\x00slot2\x00")
    jinja_theme = _copy_of(tmp_path, ["article.html", "item.html"])
    framed = render_site(site, EDITIONS[:1])
    assert framed == render_site(site, EDITIONS[:1], theme=jinja_theme)
    assert b'<span class="author">slot2</span>' in framed["en/articles/story-1.html"]  # NULs dropped, no slot
