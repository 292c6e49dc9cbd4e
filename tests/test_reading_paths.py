"""The cheaper reading path (issue 13, row (a)) reads exactly what the plain one did.

* whitespace and ``<br>`` tidying take shortcuts for the common case: the
  blocks are those the general rule gives, for every kind of space;
* a read worker sends each file's articles pickled, and the parse cache keeps
  that pickle: the next run gets the same articles from the cache;
* a listed file that is not a symlink is opened where it is; a symlink (to a
  file inside the sources) and a file under a symlinked source directory are
  still read, a symlink leading outside still refused.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import syndicate.sources as sources
from syndicate.config import Config, load_config
from syndicate.content import html_to_blocks, sanitize
from syndicate.incremental import ParseCache, parse_cache_path
from syndicate.sources import read_articles

ROOT = Path(__file__).resolve().parent.parent
# every space character XML allows (readers reject the others, and html_to_blocks drops them)
SPACES = [" ", "\t", "\n", "\r", "\x85", "\xa0", "\u1680", "\u2003", "\u2028", "\u202f", "\u3000"]


@pytest.mark.parametrize("space", SPACES)
def test_every_space_character_and_run_of_them_becomes_one_space(space: str) -> None:
    html = f"<p>a{space}b{space}{space}c {space}d{space} <em>e{space}f</em>{space}</p><p>{space}g{space}</p>"
    (first, second) = html_to_blocks(html)
    assert first.html == "a b c d <em>e f</em>"
    assert second.html == "g"


def test_text_without_any_space_to_change_is_kept_as_it_is_and_escaped() -> None:
    (block,) = html_to_blocks("<p>Tom &amp; Jerry &lt;3 “quoted” — naïve café</p>")
    assert block.html == "Tom &amp; Jerry &lt;3 “quoted” — naïve café"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p><br> one <br><br> two <br></p>", "one<br><br>two"),
        ("<p>one  <br>  two</p>", "one<br>two"),
        ("<p><br><br>only</p>", "only"),
        ("<p>a <code>x  y</code>  b</p>", "a <code>x y</code> b"),  # double spaces go inside code too, as always
        ("<p>  <strong> bold </strong>  </p>", "<strong>bold</strong>"),
    ],
)
def test_line_breaks_and_double_spaces_are_tidied(html: str, expected: str) -> None:
    (block,) = html_to_blocks(html)
    assert block.html == expected


def test_the_sanitizer_configured_once_still_removes_what_the_allowlist_does_not_allow() -> None:
    dirty = '<p onclick="x()">a <script>alert(1)</script><a href="javascript:x()">b</a><!-- c --></p>'
    for _ in range(2):  # the same answer from the reused cleaner
        cleaned = sanitize(dirty)
        assert "script" not in cleaned and "onclick" not in cleaned and "javascript" not in cleaned
        assert "<!--" not in cleaned
    (block,) = html_to_blocks(dirty)
    assert block.html == "a b"


def _write(folder: Path, count: int) -> None:
    for number in range(count):
        body = f"Paragraph {number} of the article,\twith  spaces and a [link](https://example.org/{number}).\n"
        text = f'---\ntitle: "Article {number}"\ndate: 2025-03-{1 + number % 28:02d}T10:{number % 60:02d}:00Z\n---\n\n'
        (folder / f"a{number:03d}.md").write_text(text + body + "\nSecond  paragraph.\n", encoding="utf-8")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    folder = tmp_path / "articles"
    folder.mkdir()
    _write(folder, 30)
    base = load_config(ROOT / "syndicate.toml")
    base = dataclasses.replace(base, translation=dataclasses.replace(base.translation, languages=()))
    return base.with_overrides(sources=[folder], target=tmp_path / "out", cache=tmp_path / "cache" / "t.sqlite3")


def test_articles_parsed_in_workers_come_back_the_same_from_the_parse_cache(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = read_articles(config.sources, "en", workers=1)
    monkeypatch.setattr(sources, "PARALLEL_READ_MIN", 0)
    monkeypatch.setattr(sources, "_READ_BATCH", 4)
    outcomes: list[str] = []
    runs = []
    for _ in range(2):
        cache = ParseCache(parse_cache_path(config), config.sources, "en")
        try:
            result = read_articles(
                config.sources, "en", cache=cache, workers=2, on_file=lambda _, outcome: outcomes.append(outcome)
            )
            runs.append(result)
        finally:
            cache.close()
    assert len(serial.articles) == 30
    assert runs[0].articles == runs[1].articles == serial.articles
    assert sum("parse cache" in o for o in outcomes) == 30  # the second run: every file from the cache
    first = serial.articles[-1]
    assert first.title == "Article 0"
    assert first.body[0].html == 'Paragraph 0 of the article, with spaces and a <a href="https://example.org/0">link</a>.'


def test_symlinks_inside_the_sources_are_read_and_one_leading_outside_is_not(tmp_path: Path, config: Config) -> None:
    folder = config.sources.paths[0]
    outside = tmp_path / "outside"
    outside.mkdir()
    _write(outside, 1)
    (folder / "inside-link.md").symlink_to(folder / "a001.md")
    (folder / "outside-link.md").symlink_to(outside / "a000.md")
    linked_root = tmp_path / "linked-root"
    linked_root.symlink_to(folder, target_is_directory=True)

    direct = read_articles(config.sources, "en")
    through_link = read_articles(dataclasses.replace(config.sources, paths=(linked_root,)), "en")
    assert not direct.errors and not through_link.errors
    assert direct.files == through_link.files == 31  # 30 files and the link inside; the one outside skipped
    assert [a.replace(source="") for a in through_link.articles] == [a.replace(source="") for a in direct.articles]
    assert all(a.source.startswith(str(linked_root)) for a in through_link.articles)  # named as listed
    assert sorted(a.title for a in direct.articles) == sorted(f"Article {n}" for n in range(30))
    assert all(re.fullmatch(r"[a-z0-9-]+", a.slug) for a in direct.articles)
