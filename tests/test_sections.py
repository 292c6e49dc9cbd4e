"""Section feeds (DESIGN 9): one feed set per category per language, found from the OPML and the pages."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import listparser
import lxml.etree
import lxml.html
import pytest

from syndicate.config import Config, config_from_mapping, load_config
from syndicate.errors import ConfigError, ExitCode
from syndicate.pipeline import Stage, publish_site
from syndicate.render.sections import section_slug
from syndicate.validate import validate_target
from tests.helpers import tree_digest

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "es", "ca")
SEED_CATEGORIES = {"Diplomatic Standoff", "Ukraine-Russia War", "Ukraine", "Russia - USA"}
FEEDS = ("rss.xml", "atom.xml", "feed.json")


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Path]:
    if shutil.which("apertium") is None:
        pytest.skip("apertium is not installed")
    root = tmp_path_factory.mktemp("sections")
    config = load_config(ROOT / "syndicate.toml").with_overrides(target=root / "feeds", cache=root / "cache.sqlite3")
    summary = publish_site(config)
    assert summary.exit_code == ExitCode.OK, summary.as_dict()
    return config, root / "feeds"


def _sections(feeds: Path, lang: str) -> dict[str, str]:
    """slug -> the section's title as its RSS feed gives it."""
    found = {}
    for directory in sorted((feeds / lang / "sections").iterdir()):
        parsed = feedparser.parse((directory / "rss.xml").read_bytes())
        assert not parsed.bozo, (directory, parsed.get("bozo_exception"))
        found[directory.name] = parsed.feed.title
    return found


def test_one_feed_set_per_category_in_every_language(seed: tuple[Config, Path]) -> None:
    _, feeds = seed
    slugs = {section_slug(name) for name in SEED_CATEGORIES}
    assert slugs == {"diplomatic-standoff", "ukraine-russia-war", "ukraine", "russia-usa"}
    for lang in LANGS:
        assert set(_sections(feeds, lang)) == slugs  # the same slugs in every language
        for slug in slugs:
            for name in (*FEEDS, "index.html"):
                assert (feeds / lang / "sections" / slug / name).is_file(), (lang, slug, name)
    english = _sections(feeds, "en")
    assert english["ukraine"] == "Ukraine | World Desk (English)"
    spanish = _sections(feeds, "es")
    assert spanish["ukraine"] == "Ucrania | World Desk (español)"  # localized like the category
    assert all(spanish[slug].split(" | ")[0] != english[slug].split(" | ")[0] for slug in ("ukraine", "russia-usa"))


def test_a_section_feed_holds_its_categorys_articles(seed: tuple[Config, Path]) -> None:
    _, feeds = seed
    for lang in LANGS:
        edition = feedparser.parse((feeds / lang / "atom.xml").read_bytes())
        by_category: dict[str, set[str]] = {}
        for entry in edition.entries:
            if entry.get("tags"):
                by_category.setdefault(entry.tags[0].term, set()).add(entry.id)
        seen = set()
        for directory in (feeds / lang / "sections").iterdir():
            section = feedparser.parse((directory / "atom.xml").read_bytes())
            ids = {entry.id for entry in section.entries}
            categories = {entry.tags[0].term for entry in section.entries}
            assert len(categories) == 1
            assert ids == by_category[categories.pop()]
            seen |= ids
        assert seen == set().union(*by_category.values())


def test_sections_are_in_the_opml_and_found_through_their_discovery_links(seed: tuple[Config, Path]) -> None:
    config, feeds = seed
    site = config.site.url
    opml = listparser.parse((feeds / "feeds.opml").read_bytes())
    assert opml.bozo is False
    section_urls = {feed.url for feed in opml.feeds if "/sections/" in feed.url}
    expected = {
        f"{site}{lang}/sections/{section_slug(name)}/{feed}"
        for lang in LANGS
        for name in SEED_CATEGORIES
        for feed in FEEDS
    }
    assert section_urls == expected
    for url in section_urls:
        lang, _, slug, _ = url.removeprefix(site).split("/")
        for page in (f"{lang}/sections/{slug}/index.html", f"{lang}/index.html"):
            head = lxml.html.fromstring((feeds / page).read_bytes()).head
            discovered = {link.get("href") for link in head.iter("link") if link.get("rel") == "alternate"}
            assert url in discovered, (page, url)
    # The edition index links each section's page.
    index = lxml.html.fromstring((feeds / "es/index.html").read_bytes())
    links = {a.get("href"): a.text_content() for a in index.xpath('//nav[@class="sections"]//a')}
    assert links[f"{site}es/sections/ukraine/index.html"] == "Ucrania"


def test_opml_groups_section_feeds_by_language(seed: tuple[Config, Path]) -> None:
    _, feeds = seed
    tree = lxml.etree.parse(str(feeds / "feeds.opml"))
    for group in tree.getroot().find("body"):
        lang = group.get("language")
        urls = [outline.get("xmlUrl") for outline in group]
        assert urls and all(f"/{lang}/" in url for url in urls)
        assert any("/sections/" in url for url in urls)


def test_section_feeds_link_their_siblings_and_validate(seed: tuple[Config, Path]) -> None:
    config, feeds = seed
    atom = feedparser.parse((feeds / "ca/sections/ukraine/atom.xml").read_bytes())
    links = {(link.rel, link.get("hreflang")): link.href for link in atom.feed.links}
    assert links[("self", None)] == config.site.url + "ca/sections/ukraine/atom.xml"
    assert links[("alternate", "en")] == config.site.url + "en/sections/ukraine/atom.xml"
    assert links[("alternate", "ca")] == config.site.url + "ca/sections/ukraine/index.html"
    assert validate_target(feeds) == []
    documents = [p for p in feeds.rglob("*") if "/sections/" in p.as_posix() and p.name in FEEDS]
    assert len(documents) == len(LANGS) * len(SEED_CATEGORIES) * len(FEEDS)
    for path in documents:
        if path.suffix == ".json":
            assert json.loads(path.read_bytes())["items"], path
            continue
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo and parsed.entries, (path, parsed.get("bozo_exception"))


# ----------------------------------------------------------------- configuration and scale


class _Upper:
    """A fast engine: words swap case, markup tokens stay, and the language is appended."""

    name = "upper"
    display_name = "Upper"
    max_chars = 100_000

    def available(self) -> tuple[bool, str]:
        return True, "test engine"

    def supports(self, source: str, target: str) -> bool:
        return True

    def cache_key(self) -> str:
        return "upper:1"

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str | None]:
        out = []
        for text in texts:
            pieces = re.split(r"((?:ZQ|XQ|QZ|QX)[A-Z]{2}Q)", text)
            out.append("".join(p if i % 2 else p.swapcase() for i, p in enumerate(pieces)) + f" ({target})")
        return out


def _newsroom(tmp_path: Path, categories: int, per_category: int, **output: object) -> Config:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    items = [
        {
            "title": f"Story {n} of desk {c}",
            "date_published": (start + timedelta(hours=c * per_category + n)).isoformat(),
            "category": f"Desk number {c}",
            "content_text": f"Text of story {n} from desk {c}.",
        }
        for c in range(categories)
        for n in range(per_category)
    ]
    (tmp_path / "seeds").mkdir(parents=True)
    (tmp_path / "seeds/wire.json").write_text(json.dumps(items), encoding="utf-8")
    raw = {
        "site": {"title": "Desk", "url": "https://news.example.org/", "language": "en"},
        "sources": {"paths": ["seeds"]},
        "output": {"target": "feeds", **output},
        "translation": {"languages": ["fr", "de", "it"], "provider": "upper", "cache": "cache.sqlite3"},
    }
    return config_from_mapping(raw, base=tmp_path)


def test_a_new_article_rewrites_only_the_feeds_it_is_in(tmp_path: Path) -> None:
    """20 sections x 4 languages x 3 formats: one new article touches its section's feeds and the editions'."""
    config = _newsroom(tmp_path, categories=20, per_category=2)
    stage = Stage(providers=lambda name: _Upper())
    assert publish_site(config, stage=stage).exit_code == ExitCode.OK
    target = tmp_path / "feeds"
    before = tree_digest(target)
    assert len([p for p in before if "/sections/" in p and p.endswith(FEEDS)]) == 20 * 4 * 3
    late = {"title": "Late story", "date_published": "2025-04-01T00:00:00Z", "category": "Desk number 7",
            "content_text": "Late."}  # fmt: skip
    (tmp_path / "seeds/late.json").write_text(json.dumps(late), encoding="utf-8")
    assert publish_site(config, stage=stage).exit_code == ExitCode.OK
    after = tree_digest(target)
    changed = {p for p in after if before.get(p) != after[p] and not p.startswith(".")}
    feeds_changed = {p for p in changed if p.endswith(FEEDS)}
    langs = ("en", "fr", "de", "it")
    assert feeds_changed == {f"{lang}/{name}" for lang in langs for name in FEEDS} | {
        f"{lang}/sections/desk-number-7/{name}" for lang in langs for name in FEEDS
    }
    section_pages = {p for p in changed if "/sections/" in p and p.endswith("index.html")}
    assert section_pages == {f"{lang}/sections/desk-number-7/index.html" for lang in langs}


def test_sections_false_and_a_list(tmp_path: Path) -> None:
    none = _newsroom(tmp_path / "a", categories=3, per_category=1, sections=False)
    publish_site(none, stage=Stage(providers=lambda name: _Upper()))
    assert not (tmp_path / "a/feeds/en/sections").exists()
    assert b"/sections/" not in (tmp_path / "a/feeds/feeds.opml").read_bytes()
    some = _newsroom(tmp_path / "b", categories=3, per_category=1, sections=["Desk number 1", "desk-number-2"])
    publish_site(some, stage=Stage(providers=lambda name: _Upper()))
    for lang in ("en", "fr"):
        names = sorted(p.name for p in (tmp_path / "b/feeds" / lang / "sections").iterdir())
        assert names == ["desk-number-1", "desk-number-2"]


@pytest.mark.parametrize("value", ["'yes'", "[1]", "{a = 1}"])
def test_bad_sections_value_is_a_config_error(tmp_path: Path, value: str) -> None:
    config = tmp_path / "syndicate.toml"
    config.write_text(f"[output]\nsections = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"syndicate\.toml:2: output\.sections must be"):
        load_config(config)


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Economy", "economy"), ("Ukraine-Russia War", "ukraine-russia-war"), ("Économie & Co.", "economie-co")],
)
def test_slugs_come_from_the_name(name: str, slug: str) -> None:
    assert section_slug(name) == slug


def test_other_scripts_are_transliterated_and_a_name_without_letters_gets_a_stable_digest() -> None:
    assert section_slug("Экономика") == "ekonomika"
    slug = section_slug("★ ★")
    assert re.fullmatch(r"section-[0-9a-f]{8}", slug) and slug == section_slug("★ ★") != section_slug("—")
