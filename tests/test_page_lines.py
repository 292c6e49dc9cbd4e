"""Listing pages from kept lines (issue 13): each item's line on an edition index, a section page
and the front page is rendered once by the theme's item.html and kept in lines.sqlite3; a page is
joined from its lines, byte for byte what a from-scratch render gives."""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from syndicate.config import Config, load_config
from syndicate.errors import ConfigError, ExitCode
from syndicate.pipeline import publish_site
from syndicate.render.frames import Frames

ROOT = Path(__file__).resolve().parent.parent
DESKS = ("Economy", "Security", "Diplomacy")
NEW = "---\ntitle: The embassies reopen\ndate: 2025-04-15T09:00:00+03:00\ncategory: Diplomacy\n---\nThey met.\n"
LISTINGS = ("en/index.html", "en/sections/economy/index.html", "en/sections/diplomacy/index.html", "index.html")


def _article(n: int) -> str:
    day, month = 1 + n % 28, 1 + (n // 28) % 12
    return (
        f"---\ntitle: Report number {n} from the desk\ndate: 2024-{month:02}-{day:02}T{n % 24:02}:00:00+03:00\n"
        f"category: {DESKS[n % 3]}\nsummary: What happened on day {n}.\n---\nThe story of day {n}.\n"
    )


def _config(tmp_path: Path, name: str, sources: Path) -> Config:
    base = load_config(ROOT / "syndicate.toml").with_overrides(
        sources=[sources], target=tmp_path / name / "feeds", cache=tmp_path / name / "cache" / "t.sqlite3"
    )
    return replace(base, max_items=400, translation=replace(base.translation, languages=()))


@pytest.fixture
def archive(tmp_path: Path) -> Config:
    """300 English articles in three sections, every one on its edition's index page."""
    sources = tmp_path / "articles"
    sources.mkdir()
    for n in range(300):
        (sources / f"a{n:03}.md").write_text(_article(n), encoding="utf-8")
    return _config(tmp_path, "site", sources)


class ItemRenders:
    """Every item line rendered from the theme's item.html (by its frame or by Jinja2): (heading, item title)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        real = Frames.render_all

        def render_all(frames: Frames, pages: Iterable[Mapping[str, Any]]) -> list[str]:
            pages = list(pages)
            if frames.name == "item.html":
                self.calls.update((frames.shared["heading"], page["item"]["title"]) for page in pages)
            return real(frames, pages)

        monkeypatch.setattr(Frames, "render_all", render_all)


def _published(config: Config) -> dict[str, bytes]:
    root = config.target
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.relative_to(root).as_posix().startswith(".syndicate/")
    }


def _store(config: Config) -> Path:
    assert config.translation.cache is not None
    return config.translation.cache.parent / "lines.sqlite3"


def _headlines(page: bytes) -> list[str]:
    return [str(a) for a in lxml.html.fromstring(page).xpath("//ol[@class='articles']/li//a/text()")]


def test_one_new_article_among_300_renders_its_own_lines_only(
    archive: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import syndicate.pipeline

    one_process = (syndicate.pipeline, "worker_processes", lambda: 1)  # the renders are counted in this process
    monkeypatch.setattr(*one_process)
    first = ItemRenders(monkeypatch)
    assert publish_site(archive).exit_code == ExitCode.OK
    # A full build renders each article's line once per heading level: the edition index and the
    # section pages share the h2 lines, the front page renders h3 lines for its 10 latest items.
    assert len(first.calls) == 310 and set(first.calls.values()) == {1}
    assert Counter(heading for heading, _ in first.calls) == {"h2": 300, "h3": 10}
    before = _published(archive)

    (archive.sources.paths[0] / "new.md").write_text(NEW, encoding="utf-8")
    monkeypatch.undo()
    monkeypatch.setattr(*one_process)
    renders = ItemRenders(monkeypatch)
    assert publish_site(archive).exit_code == ExitCode.OK
    after = _published(archive)

    # The new article is on three listing pages (the edition index, its section, the front page):
    # one h2 line serves the first two, one h3 line the front page; no other item is rendered again.
    assert renders.calls == {("h2", "The embassies reopen"): 1, ("h3", "The embassies reopen"): 1}
    assert _headlines(after["en/index.html"])[0] == "The embassies reopen"
    assert len(_headlines(after["en/index.html"])) == 301
    assert _headlines(after["en/sections/diplomacy/index.html"])[0] == "The embassies reopen"
    assert "The embassies reopen" not in _headlines(after["en/sections/economy/index.html"])
    assert _headlines(after["index.html"])[0] == "The embassies reopen"
    assert after["en/sections/economy/index.html"] == before["en/sections/economy/index.html"]

    # Byte for byte what a from-scratch build (empty cache, empty target) publishes.
    scratch = replace(archive, target=tmp_path / "scratch" / "feeds")
    scratch = replace(scratch, translation=replace(scratch.translation, cache=tmp_path / "scratch" / "c" / "t.sqlite3"))
    assert publish_site(scratch).exit_code == ExitCode.OK
    fresh = _published(scratch)
    assert fresh.keys() == after.keys()
    assert all(fresh[path] == after[path] for path in LISTINGS)
    assert fresh == after


def test_a_removed_article_leaves_its_pages_and_the_store(archive: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    assert publish_site(archive).exit_code == ExitCode.OK
    (archive.sources.paths[0] / "a299.md").unlink()  # the newest article, in the front page's latest ten
    renders = ItemRenders(monkeypatch)
    assert publish_site(archive).exit_code == ExitCode.OK
    assert list(renders.calls) == [("h3", "Report number 289 from the desk")]  # the one that moved up
    index = (archive.target / "en" / "index.html").read_bytes()
    assert len(_headlines(index)) == 299 and "Report number 299 from the desk" not in _headlines(index)
    with sqlite3.connect(_store(archive)) as conn:
        kept = {row[0] for row in conn.execute("SELECT line FROM lines")}
    assert not any("report-number-299-" in line for line in kept)  # its lines are dropped
    assert sum("report-number-298-" in line for line in kept) == 2  # h2 and h3


def _theme(tmp_path: Path, templates: dict[str, str], name: str = "theme") -> Path:
    theme = tmp_path / name
    (theme / "templates").mkdir(parents=True, exist_ok=True)
    for name, text in templates.items():
        (theme / "templates" / name).write_text(text, encoding="utf-8")
    return theme


def test_a_theme_item_template_makes_its_own_lines(archive: Config, tmp_path: Path) -> None:
    assert publish_site(archive).exit_code == ExitCode.OK
    default_lines = _published(archive)
    item = '<li class="mine" data-lang="{{ lang }}">{{ item.title }} ({{ labels.index }})</li>\n'
    themed = replace(archive, theme=_theme(tmp_path, {"item.html": item}))
    assert publish_site(themed).exit_code == ExitCode.OK
    for path in LISTINGS:
        doc = lxml.html.fromstring((archive.target / path).read_bytes())
        entries = doc.xpath("//ol[@class='articles']/li")
        assert entries and all(li.get("class") == "mine" and li.get("data-lang") == "en" for li in entries)
        assert not doc.xpath("//ol[@class='articles']//article")  # the default item markup is gone
    # Back to the default theme: its own lines, byte for byte the first build.
    assert publish_site(archive).exit_code == ExitCode.OK
    assert _published(archive) == default_lines


def test_a_theme_that_loops_over_items_itself_still_works(archive: Config, tmp_path: Path) -> None:
    """The documented ``items`` variable: a theme's own list, without item.html or item_lines."""
    listing = (
        '{% if items %}<ul class="own">\n{% for item in items %}<li data-slug="{{ item.slug }}">'
        "{{ item.dateline }}{{ item.title }}</li>\n{% endfor %}</ul>\n{% endif %}\n"
    )
    themed = replace(archive, theme=_theme(tmp_path, {"article_list.html": listing}))
    assert publish_site(themed).exit_code == ExitCode.OK
    doc = lxml.html.fromstring((archive.target / "en" / "index.html").read_bytes())
    entries = doc.xpath("//ul[@class='own']/li")
    assert len(entries) == 300 and entries[0].get("data-slug").startswith("report-number-299-")
    assert entries[0].xpath(".//time/@datetime")  # the dateline HTML is there, not escaped
    assert len(lxml.html.fromstring((archive.target / "index.html").read_bytes()).xpath("//ul[@class='own']/li")) == 10


def test_an_item_template_that_uses_a_page_variable_is_a_one_line_error(archive: Config, tmp_path: Path) -> None:
    item = "<li>{{ item.title }} {{ edition.title }}</li>\n"  # item.html sees item, heading, site, lang, dir, labels
    themed = replace(archive, theme=_theme(tmp_path, {"item.html": item}))
    with pytest.raises(ConfigError) as caught:
        publish_site(themed)
    assert "item.html" in str(caught.value) and "edition" in str(caught.value) and "\n" not in str(caught.value)


def test_a_damaged_store_is_rebuilt(archive: Config, caplog: pytest.LogCaptureFixture) -> None:
    assert publish_site(archive).exit_code == ExitCode.OK
    good = _published(archive)
    store = _store(archive)
    store.write_bytes(b"this is not a database" * 100)
    (archive.target / "en" / "index.html").unlink()  # so the run renders the index page again
    with caplog.at_level(logging.WARNING, logger="syndicate"):
        assert publish_site(archive).exit_code == ExitCode.OK
    assert any("line store" in r.getMessage() and "damaged" in r.getMessage() for r in caplog.records)
    assert _published(archive) == good
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT COUNT(*) FROM lines").fetchone()[0] == 300


def test_a_heading_level_shared_by_two_kinds_of_page_keeps_all_its_lines(
    archive: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edition index with h3 headlines, like the front page: the front page lists 10 of them
    after the section pages (h2) were rendered, and the other lines stay kept."""
    edition = (ROOT / "syndicate/themes/default/templates/edition.html").read_text(encoding="utf-8")
    assert 'heading = "h2"' in edition
    themed = replace(archive, theme=_theme(tmp_path, {"edition.html": edition.replace('"h2"', '"h3"')}))
    assert publish_site(themed).exit_code == ExitCode.OK
    for n, title in enumerate(("The embassies reopen", "The talks resume")):
        (archive.sources.paths[0] / f"new{n}.md").write_text(NEW.replace("The embassies reopen", title))
        renders = ItemRenders(monkeypatch)
        assert publish_site(themed).exit_code == ExitCode.OK
        monkeypatch.undo()
        assert renders.calls == {("h3", title): 1, ("h2", title): 1}  # the edition index's h3 lines were kept
    headlines = _headlines((archive.target / "en" / "index.html").read_bytes())
    assert set(headlines[:2]) == {"The talks resume", "The embassies reopen"} and len(headlines) == 302


def test_lines_of_a_replaced_theme_are_dropped_beyond_the_newest_two(
    archive: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert publish_site(archive).exit_code == ExitCode.OK  # the default theme
    items = {n: f'<li class="v{n}">{{{{ item.title }}}}</li>\n' for n in (1, 2)}
    themes = [replace(archive, theme=_theme(tmp_path, {"item.html": items[n]}, f"t{n}")) for n in (1, 2)]
    for themed in themes:
        assert publish_site(themed).exit_code == ExitCode.OK
    with sqlite3.connect(_store(archive)) as conn:
        slots = dict(conn.execute("SELECT slot, COUNT(*) FROM contexts GROUP BY slot").fetchall())
        assert slots == {"en|h2": 2, "en|h3": 2}  # the default theme's contexts were replaced
        kept = [row[0] for row in conn.execute("SELECT line FROM lines")]
    assert len(kept) == 2 * (300 + 10) and not any("<article" in line for line in kept)
    # Back to the first user theme: its lines are still kept, nothing is rendered again.
    renders = ItemRenders(monkeypatch)
    assert publish_site(themes[0]).exit_code == ExitCode.OK
    assert not renders.calls
    assert lxml.html.fromstring((archive.target / "en" / "index.html").read_bytes()).xpath("//li[@class='v1']")
