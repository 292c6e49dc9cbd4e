"""Multilingual publishing end to end: en, es and ca (real apertium) and a right-to-left
language (ar, through a test provider): language metadata, hreflang alternates,
localized datelines across a daylight-saving change, OPML, and English RFC 822 dates
under a non-English process locale."""

from __future__ import annotations

import locale
import re
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import feedparser
import listparser
import pytest
from lxml import etree, html

from syndicate.config import Config, load_config
from syndicate.errors import ExitCode
from syndicate.pipeline import Stage, publish_site
from syndicate.translate.base import Translator
from syndicate.validate import validate_target

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "es", "ca", "ar")
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")


class RightToLeftTestEngine:
    """A stand-in engine for a right-to-left language (no such apertium pair is installed)."""

    name = "rtl-test"
    display_name = "RTL Test Engine"
    max_chars = 10_000
    calls = 0

    def cache_key(self) -> str:
        return "rtl-test/1"

    def supports(self, source: str, target: str) -> bool:
        return source == "en" and target == "ar"

    def available(self) -> tuple[bool, str]:
        return True, "test engine"

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str | None]:
        self.calls += 1
        return [f"ترجمة: {text}" for text in texts]


WINTER = "---\ntitle: Clocks still on winter time\ndate: 2025-03-29T12:00:00Z\n---\nThe clocks change tomorrow.\n"
SUMMER = "---\ntitle: Clocks now on summer time\ndate: 2025-03-31T12:00:00Z\n---\nThe clocks changed on Sunday.\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Path]:
    root = tmp_path_factory.mktemp("multilingual")
    shutil.copytree(ROOT / "seeds", root / "seeds")
    (root / "seeds" / "winter.md").write_text(WINTER, encoding="utf-8")
    (root / "seeds" / "summer.md").write_text(SUMMER, encoding="utf-8")
    config = load_config(ROOT / "syndicate.toml").with_overrides(
        sources=[root / "seeds"],
        target=root / "feeds",
        cache=root / "cache.sqlite3",
        timezone="Europe/Madrid",
        languages=["es", "ca", "ar"],
    )
    config = replace(config, translation=replace(config.translation, providers=(("ar", "rtl-test"),)))

    def providers(name: str) -> Translator:
        from syndicate.translate.registry import get_provider

        return RightToLeftTestEngine() if name == "rtl-test" else get_provider(name, config.translation)

    summary = publish_site(config, stage=Stage(providers=providers))
    assert summary.exit_code == ExitCode.OK, summary.as_dict()
    assert summary.items == {lang: 8 for lang in LANGS}
    return config, root / "feeds"


def _xml(path: Path) -> etree._Element:
    return etree.fromstring(path.read_bytes())


def _page(path: Path) -> html.HtmlElement:
    return html.document_fromstring(path.read_bytes())


def test_the_published_site_validates(site: tuple[Config, Path]) -> None:
    _, feeds = site
    assert validate_target(feeds) == []


@pytest.mark.parametrize("lang", LANGS)
def test_language_metadata_everywhere(site: tuple[Config, Path], lang: str) -> None:
    _, feeds = site
    direction = "rtl" if lang == "ar" else "ltr"
    assert _xml(feeds / lang / "rss.xml").findtext("channel/language") == lang
    atom = _xml(feeds / lang / "atom.xml")
    assert atom.get(XML_LANG) == lang
    assert [e.get(XML_LANG) for e in atom.iter(f"{ATOM}entry")] == [lang] * 8
    import json

    assert json.loads((feeds / lang / "feed.json").read_text())["language"] == lang
    pages = [feeds / lang / "index.html", *sorted((feeds / lang / "articles").glob("*.html"))]
    assert len(pages) == 9
    for page in pages:
        root = _page(page)
        assert (root.get("lang"), root.get("dir")) == (lang, direction), page


@pytest.mark.parametrize("lang", LANGS)
def test_feeds_link_their_siblings_with_hreflang(site: tuple[Config, Path], lang: str) -> None:
    config, feeds = site
    atom = _xml(feeds / lang / "atom.xml")
    siblings = {
        link.get("hreflang"): link.get("href")
        for link in atom.findall(f"{ATOM}link")
        if link.get("rel") == "alternate" and link.get("type") == "application/atom+xml"
    }
    assert siblings == {other: config.site.url_for(other, "atom.xml") for other in LANGS if other != lang}


@pytest.mark.parametrize("lang", ["es", "ca", "ar"])
def test_translated_items_link_their_original(site: tuple[Config, Path], lang: str) -> None:
    config, feeds = site
    english = feedparser.parse((feeds / "en" / "atom.xml").read_bytes()).entries
    translated = feedparser.parse((feeds / lang / "atom.xml").read_bytes())
    assert translated.bozo is False
    assert translated.feed.link == config.site.url_for(lang, "index.html")
    for entry, original in zip(translated.entries, english, strict=True):
        assert entry.title_detail.language == lang
        assert entry.id != original.id
        assert entry.link == original.link.replace("/en/", f"/{lang}/")
        assert [link.href for link in entry.links] == [entry.link]  # one link: its own page (DESIGN 6)
        assert original.link in entry.content[0].value  # the original: from the content's translation note


def test_article_pages_carry_hreflang_alternates_for_every_language(site: tuple[Config, Path]) -> None:
    config, feeds = site
    for page in sorted((feeds / "es" / "articles").glob("*.html")):
        alternates = {
            link.get("hreflang"): link.get("href")
            for link in _page(page).iter("link")
            if link.get("rel") == "alternate" and link.get("hreflang")
        }
        assert alternates == {lang: config.site.url_for(lang, "articles", page.name) for lang in LANGS}


DATELINES = {
    # CLDR puts a narrow no-break space (U+202F) before AM/PM.
    "en": (
        "March 29, 2025, 1:00\u202fPM CET",
        "March 31, 2025, 2:00\u202fPM CEST",
        "April 14, 2025, 9:46\u202fAM CEST",
    ),
    "es": ("29 de marzo de 2025, 13:00 CET", "31 de marzo de 2025, 14:00 CEST", "14 de abril de 2025, 9:46 CEST"),
    "ca": ("29 de març del 2025, 13:00 CET", "31 de març del 2025, 14:00 CEST", "14 d’abril del 2025, 9:46 CEST"),
    "ar": ("29 مارس 2025، 1:00 م CET", "31 مارس 2025، 2:00 م CEST", "14 أبريل 2025، 9:46 ص CEST"),
}


@pytest.mark.parametrize("lang", LANGS)
def test_localized_datelines_on_both_sides_of_a_dst_change(site: tuple[Config, Path], lang: str) -> None:
    _, feeds = site
    index = (feeds / lang / "index.html").read_text(encoding="utf-8")
    shown = re.findall(r'<p class="dateline"><time datetime="[^"]+">([^<]+)</time>', index)
    winter, summer, seed = DATELINES[lang]
    assert shown[0] == seed  # the seed page, published 14 April 10:46 Moscow time
    assert shown[-2:] == [summer, winter]
    rss = (feeds / lang / "rss.xml").read_text(encoding="utf-8")
    assert "<pubDate>Sat, 29 Mar 2025 12:00:00 +0000</pubDate>" in rss  # machine dates are never localized


def test_opml_lists_every_feed_with_its_language(site: tuple[Config, Path]) -> None:
    config, feeds = site
    parsed = listparser.parse((feeds / "feeds.opml").read_bytes())
    assert parsed.bozo is False
    urls = {feed.url for feed in parsed.feeds}
    expected = {config.site.url_for(lang, name) for lang in LANGS for name in ("rss.xml", "atom.xml", "feed.json")}
    assert expected <= urls
    assert all("/sections/" in url for url in urls - expected)  # and the section feeds (tests/test_sections.py)
    outlines = _xml(feeds / "feeds.opml").iter("outline")
    languages = {o.get("xmlUrl"): o.get("language") for o in outlines if o.get("xmlUrl")}
    assert languages == {url: url.removeprefix(config.site.url).split("/")[0] for url in urls}


def test_rss_dates_stay_english_under_a_german_locale(site: tuple[Config, Path], tmp_path: Path) -> None:
    config, _ = site
    try:
        saved = locale.setlocale(locale.LC_ALL)
        locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
    except locale.Error:
        pytest.skip("the de_DE.UTF-8 locale is not installed (scripts/bootstrap generates it)")
    try:
        assert locale.nl_langinfo(locale.DAY_2) == "Montag"
        target = tmp_path / "feeds"
        publish_site(replace(config, target=target, translation=replace(config.translation, languages=())))
    finally:
        locale.setlocale(locale.LC_ALL, saved)
    rss = (target / "en" / "rss.xml").read_text(encoding="utf-8")
    dates = re.findall(r"<pubDate>([^<]+)</pubDate>", rss)
    english = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr) 2025 .+")
    assert dates and all(english.fullmatch(d) for d in dates)
    assert "Mo," not in rss and "Apr" in rss
