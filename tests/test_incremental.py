"""Incremental builds: a rerun with nothing changed reads, translates, renders and writes
nothing; one new article costs its own pages and the files that list it, no more."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import Config, load_config
from syndicate.pipeline import RunSummary, Stage, publish_site
from syndicate.render import feeds, html, jsonfeed
from tests.helpers import tree_digest
from tests.test_translation_e2e import Recorder

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "es", "ca")
FORMATS = ("rss", "atom", "json")
pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")


class Counters:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import syndicate.sources as sources

        self.parsed: list[str] = []
        self.pages: list[str] = []
        real_read, real_page = sources.read_file, html.article_page

        def read_file(path: Path | str, *args: object, **kwargs: object) -> object:
            self.parsed.append(Path(path).name)
            return real_read(path, *args, **kwargs)  # type: ignore[arg-type]

        def article_page(site: object, edition: object, article: object, *args: object) -> bytes:
            self.pages.append(article.slug)  # type: ignore[attr-defined]
            return real_page(site, edition, article, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(sources, "read_file", read_file)
        monkeypatch.setattr(html, "article_page", article_page)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    base = load_config(ROOT / "syndicate.toml").with_overrides(
        sources=[tmp_path / "seeds"], target=tmp_path / "feeds", cache=tmp_path / "cache" / "t.sqlite3"
    )
    return replace(base, translation=replace(base.translation, languages=("es", "ca")))


def _publish(config: Config) -> tuple[RunSummary, Recorder]:
    recorder = Recorder(config)
    return publish_site(config, stage=Stage(providers=recorder)), recorder


def _published(config: Config) -> dict[str, tuple[str, int]]:
    return {k: v for k, v in tree_digest(config.target).items() if not k.startswith(".syndicate/")}


def test_a_rerun_with_nothing_changed_does_nothing(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    _publish(config)
    before = _published(config)
    counters = Counters(monkeypatch)
    summary, engines = _publish(config)
    print(f"no-change rerun: {len(counters.parsed)} parsed, {engines.calls} engine calls, {summary.written} written")
    assert counters.parsed == [] and counters.pages == []
    assert engines.calls == 0
    assert summary.written == 0 and summary.exit_code == 0
    assert summary.items == {"en": 6, "es": 6, "ca": 6}
    assert summary.line().startswith("published 18 items (en 6, es 6, ca 6)")  # as a full run says it
    assert _published(config) == before  # same bytes, same mtimes


def test_one_new_article_writes_its_pages_and_what_lists_it(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    _publish(config)
    before = _published(config)
    (config.sources.paths[0] / "new.md").write_text(
        "---\ntitle: The embassies reopen\ndate: 2025-04-15T09:00:00+03:00\n---\nThe two sides met again.\n",
        encoding="utf-8",
    )
    counters = Counters(monkeypatch)
    summary, engines = _publish(config)
    after = _published(config)
    written = {path for path in after if before.get(path) != after[path]}
    new_pages = {path for path in after if path not in before}
    print(f"one new article: parsed {counters.parsed}, {engines.calls} engine calls, {len(written)} files written")
    assert counters.parsed == ["new.md"]  # every other file came from the parse cache
    assert engines.calls == 2  # one apertium batch per language, for the new segments only
    assert len(new_pages) == 3 and all("/articles/the-embassies-reopen-" in p for p in new_pages)
    assert len(counters.pages) == 3  # no other article page was even rendered
    listing = {f"{lang}/{name}" for lang in LANGS for name in ("rss.xml", "atom.xml", "feed.json", "index.html")}
    assert written == new_pages | listing | {"index.html", "feeds.opml"}
    assert summary.written == len(written)


def test_a_config_change_reuses_parsed_and_translated_articles(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    _publish(config)
    before = _published(config)
    counters = Counters(monkeypatch)
    summary, engines = _publish(replace(config, max_items=3))
    after = _published(config)
    assert counters.parsed == [] and counters.pages == [] and engines.calls == 0
    written = {path for path in after if before.get(path) != after[path]}
    feeds = ("rss.xml", "atom.xml", "feed.json")
    archives = {f"{lang}/archive/1/{name}" for lang in LANGS for name in feeds}  # the 3 that left the window
    assert written == {f"{lang}/{name}" for lang in LANGS for name in feeds} | archives
    assert summary.items == {"en": 3, "es": 3, "ca": 3}


def test_a_damaged_parse_cache_is_rebuilt(config: Config, caplog: pytest.LogCaptureFixture) -> None:
    _publish(config)
    parse_cache = config.translation.cache.parent / "parsed.sqlite3"  # type: ignore[union-attr]
    assert parse_cache.is_file()
    parse_cache.write_bytes(b"this is not a database" * 100)
    summary, _ = _publish(replace(config, max_items=4))
    assert summary.exit_code == 0
    assert "parse cache" in caplog.text and "rebuilding" in caplog.text


def test_an_edited_published_file_is_repaired(config: Config) -> None:
    _publish(config)
    page = next((config.target / "es" / "articles").iterdir())
    good = page.read_bytes()
    page.write_bytes(b"vandalized")
    summary, _ = _publish(config)
    assert page.read_bytes() == good
    assert summary.written == 1


WORDS = "harbour ferry council budget minister station bridge river school market museum road".split()


def _article(n: int) -> str:
    a, b = WORDS[n % len(WORDS)], WORDS[(n // len(WORDS)) % len(WORDS)]
    day = 1 + n % 28
    month = 1 + (n // 28) % 12
    return (
        f"---\ntitle: The {a} and the {b} number {n}\ndate: 2024-{month:02}-{day:02}T{n % 24:02}:00:00+03:00\n---\n"
        f"The {a} opened again on day {n}. People said the {b} was ready.\n"
    )


@pytest.fixture
def archive(tmp_path: Path) -> Config:
    """300 articles in en, es and ca, every one in every feed."""
    sources = tmp_path / "articles"
    sources.mkdir()
    for n in range(300):
        (sources / f"a{n:03}.md").write_text(_article(n), encoding="utf-8")
    base = load_config(ROOT / "syndicate.toml").with_overrides(
        sources=[sources], target=tmp_path / "feeds", cache=tmp_path / "cache" / "t.sqlite3"
    )
    return replace(base, max_items=400, translation=replace(base.translation, languages=("es", "ca")))


def test_one_new_article_among_300_costs_that_article_alone(archive: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    from collections import Counter

    _publish(archive)
    before = _published(archive)
    (archive.sources.paths[0] / "new.md").write_text(
        "---\ntitle: The embassies reopen\ndate: 2025-04-15T09:00:00+03:00\n---\nThe two sides met again.\n",
        encoding="utf-8",
    )
    counters = Counters(monkeypatch)
    languages: Counter[str] = Counter()
    counted_page = html.article_page

    def article_page(site: object, edition: object, *args: object) -> bytes:
        languages[edition.language] += 1  # type: ignore[attr-defined]
        return counted_page(site, edition, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(html, "article_page", article_page)
    items: Counter[tuple[str, str, str]] = Counter()  # (language, format, title) of every feed item rendered
    real_rss, real_atom, real_item = feeds.rss_item, feeds.atom_entry, jsonfeed._item

    def rss_item(site: object, edition: Any, article: Any) -> str:
        items[(edition.language, "rss", article.title)] += 1
        return real_rss(site, edition, article)  # type: ignore[arg-type]

    def atom_entry(site: object, edition: Any, article: Any) -> str:
        items[(edition.language, "atom", article.title)] += 1
        return real_atom(site, edition, article)  # type: ignore[arg-type]

    def json_item(site: object, edition: Any, article: Any) -> Any:
        items[(edition.language, "json", article.title)] += 1
        return real_item(site, edition, article)

    monkeypatch.setattr(feeds, "rss_item", rss_item)
    monkeypatch.setattr(feeds, "atom_entry", atom_entry)
    monkeypatch.setattr(jsonfeed, "_item", json_item)
    summary, _ = _publish(archive)
    after = _published(archive)

    assert counters.parsed == ["new.md"]  # one file re-read
    assert languages == {"en": 1, "es": 1, "ca": 1}  # one article page rendered per language
    # one item per feed: the new article's, rendered once per language and format; the other 300 are reused
    assert sorted((lang, fmt) for lang, fmt, _ in items) == sorted((lang, fmt) for lang in LANGS for fmt in FORMATS)
    assert set(items.values()) == {1}
    assert {title for lang, _, title in items if lang == "en"} == {"The embassies reopen"}
    assert set(counters.pages) == {p.rsplit("/", 1)[1][: -len(".html")] for p in after if p not in before}
    written = {path for path in after if before.get(path) != after[path]}
    new_pages = {path for path in after if path not in before}
    listing = {f"{lang}/{name}" for lang in LANGS for name in ("rss.xml", "atom.xml", "feed.json", "index.html")}
    assert len(new_pages) == 3 and all("/articles/the-embassies-reopen" in p for p in new_pages)
    assert written == new_pages | listing | {"index.html", "feeds.opml"}  # its pages, the feeds, the index pages
    assert summary.written == len(written) and summary.items["en"] == 301
