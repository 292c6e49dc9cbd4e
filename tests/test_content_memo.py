"""The item contents memo (:func:`syndicate.render.html.item_content_html`): an edition's contents
held as UTF-8 in a few large buffers, given back exactly as rendered, freed between editions."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from syndicate.models import Article, Block, Site
from syndicate.render import html

SITE = Site(title="Desk", url="https://news.example.org/", description="", timezone="Europe/Moscow", language="en")
# Lone surrogates (what ``surrogateescape`` makes of bad input bytes), astral and right-to-left text.
ODD = "\udcff lone \ud800 high, 𝄞 clef, 😀, 𠀋, שלום, مرحبا, ‘quotes’, ß"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    html.clear_content_memo()
    yield
    html.clear_content_memo()


def _article(number: int, text: str) -> Article:
    return Article(
        id=f"urn:uuid:{number}",
        slug=f"a-{number}",
        title=f"Title {number}",
        summary="",
        body=(Block(html=text),),
        published=datetime(2025, 4, 14, 7, 46, tzinfo=UTC) + timedelta(minutes=number),
        language="es",
    )


def _rendered(article: Article) -> str:
    """The content as rendered without the memo."""
    html.clear_content_memo()
    return html.item_content_html(SITE, article)


def test_the_memo_gives_back_exactly_the_text_it_was_given() -> None:
    articles = [_article(n, f"<b>{n}</b> {ODD * (n % 7)}") for n in range(50)]
    expected = [_rendered(a) for a in articles]
    assert ODD in expected[1] and expected[1].count("\udcff") == 1
    html.clear_content_memo()
    first = [html.item_content_html(SITE, a) for a in articles]  # rendered and kept
    kept = [html.item_content_html(SITE, a) for a in articles]  # from the memo
    assert first == expected and kept == expected
    assert len(html._content_memo) == len(articles)


def test_contents_across_buffers_and_larger_than_one_come_back_whole() -> None:
    big = ODD * (3 * html._CHUNK // len(ODD.encode("utf-8", "surrogatepass")))  # three buffers' worth
    articles = [_article(n, ("x" * 3000 + ODD) if n != 200 else big) for n in range(800)]
    expected = [_rendered(a) for a in articles]
    html.clear_content_memo()
    for article in articles:
        html.item_content_html(SITE, article)
    assert html._content_text.size >= len(big) + 2 * html._CHUNK  # several buffers, one of them the big text's
    assert [html.item_content_html(SITE, a) for a in articles] == expected


def test_clear_content_memo_frees_the_buffers() -> None:
    article = _article(1, ODD)
    text = html.item_content_html(SITE, article)
    assert html._content_text.size == html._CHUNK
    html.clear_content_memo()
    assert html._content_memo == {} and html._content_text.size == 0
    assert html._dateline.cache_info().currsize == 0
    assert html.item_content_html(SITE, article) == text  # rendered again after a clear


def test_a_recycled_id_is_not_taken_for_the_article_it_was() -> None:
    kept, other = _article(1, "<p>kept</p>"), _article(2, "<p>other</p>")
    html.item_content_html(SITE, kept)
    html._content_memo[id(other)] = html._content_memo[id(kept)]  # as if ``other`` had ``kept``'s old id
    assert "other" in html.item_content_html(SITE, other) and "kept" not in html.item_content_html(SITE, other)
    elsewhere = dataclasses.replace(SITE, url="https://elsewhere.example.org/")
    html._content_memo[id(kept)] = (elsewhere, kept, html._content_memo[id(kept)][2])
    assert html.item_content_html(SITE, kept) == _rendered(kept)  # another site's entry is not used


def test_a_forked_worker_writes_into_its_own_copy_of_the_buffers() -> None:
    first = _article(1, "<p>parent</p>")
    parent_text = html.item_content_html(SITE, first)
    end = len(parent_text.encode("utf-8"))  # where the next content goes in the first buffer
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: adds to the buffer it inherited; the parent's must not change
        try:
            html.item_content_html(SITE, _article(2, "<p>child</p>"))
            os.write(write, b"ok")
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 2) == b"ok"
    os.waitpid(pid, 0)
    os.close(read)
    assert html._content_text._maps[0][end : end + 64] == bytes(64)  # nothing of the worker's here
    assert html.item_content_html(SITE, first) == parent_text


def test_without_a_map_the_contents_are_kept_in_the_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise OSError(12, "Cannot allocate memory")

    article = _article(1, ODD)
    expected = _rendered(article)
    html.clear_content_memo()
    monkeypatch.setattr(html.mmap, "mmap", refused)
    assert html.item_content_html(SITE, article) == expected
    assert isinstance(html._content_text._maps[0], bytearray)
    assert html.item_content_html(SITE, article) == expected  # from the memo
