"""A listing page's lines go into the page by marker (theme.long_html): never joined into one
text, the same bytes as joined, whatever the template does with them."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from syndicate.config import Config
from syndicate.pipeline import publish_site
from syndicate.render import theme as theme_module
from syndicate.render.theme import Theme, long_html
from tests.test_page_lines import LISTINGS, _published, archive  # noqa: F401  (the fixture)

PARTS = [f"<li>Report ‘{n}’ from the desk, {'word ' * 150}</li>\n" for n in range(2_000)]
JOINED = "".join(PARTS)


def _theme(tmp_path: Path, body: str) -> Theme:
    (tmp_path / "templates").mkdir(parents=True)
    (tmp_path / "templates" / "page.html").write_text(body, encoding="utf-8")
    return Theme(tmp_path)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<ol>\n{{ lines() }}</ol>\n", f"<ol>\n{JOINED}</ol>\n"),  # printed as it is: by marker
        ("{{ lines() }}|{{ lines() }}", f"{JOINED}|{JOINED}"),  # two values, two markers
        ("{% set x = lines() %}{{ x }}{{ x }}", JOINED * 2),  # one marker printed twice: joined render
        ("{{ lines()|length }}", str(len(JOINED))),  # a filter sees the value joined
        ("{% set x = lines() %}none", "none"),  # never printed
        ("<b>{{ title }}</b>{{ lines()[:12] }}", "<b>A &lt;title&gt;</b>" + JOINED[:12]),  # a cut: joined render
    ],
)
def test_a_long_value_reaches_the_page_as_if_joined(tmp_path: Path, body: str, expected: str) -> None:
    page = _theme(tmp_path, body).render("page.html", {"lines": lambda: long_html(PARTS), "title": "A <title>"})
    assert page == expected.encode("utf-8")


def test_outside_a_render_a_long_value_is_the_joined_html() -> None:
    assert long_html(PARTS) == JOINED and long_html(PARTS[:3]) == "".join(PARTS[:3])


def test_a_page_with_a_long_value_is_never_held_as_one_text(tmp_path: Path) -> None:
    theme = _theme(tmp_path, "<ol>\n{{ lines() }}</ol>\n")
    context = {"lines": lambda: long_html(PARTS)}
    theme.render("page.html", context)  # compile the template first
    tracemalloc.start()
    page = theme.render("page.html", context)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    text = 2 * len(JOINED)  # the joined lines as a str: two bytes per character (a curly quote)
    assert len(page) < len(JOINED) * 1.1
    assert peak < text * 1.5  # joined, the lines, the page and its bytes were 5 bytes per character


def test_listing_pages_by_marker_are_the_joined_pages(
    archive: Config,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish_site(archive)
    by_marker = _published(archive)
    monkeypatch.setattr(theme_module, "_LONG", 10**9)  # every value joined, as before
    for path in LISTINGS:
        (archive.target / path).unlink()
    publish_site(archive)
    joined = _published(archive)
    assert by_marker == joined
    assert by_marker["en/index.html"].count(b"<li") >= 300  # a listing long enough to go by marker
