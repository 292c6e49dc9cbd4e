"""Feeds joined from per-item fragments are byte-for-byte the feeds rendered whole."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate.config import Config
from syndicate.formats import BY_NAME
from syndicate.models import Edition, Media, Site
from syndicate.pipeline import build_editions, read_inputs
from syndicate.render import _article_key, _prepare, _prepare_site
from syndicate.render.archive import Chain, chains
from syndicate.render.fragments import FragmentStore, render_feed, split

FORMATS = ("rss", "atom", "json")


@pytest.fixture
def edition(source_only_config: Config) -> tuple[Site, Edition]:
    articles, _ = read_inputs(source_only_config)
    site = _prepare_site(source_only_config.site)
    (prepared,) = _prepare(build_editions(site, articles))
    return site, prepared


def _renderer(
    site: Site, fmt: str, calls: list[str] | None = None, chain: Chain | None = None
) -> Callable[[Edition], bytes]:
    def render(edition: Edition) -> bytes:
        if calls is not None:
            calls.extend(a.slug for a in edition.articles)
        return BY_NAME[fmt].renderer(site, edition, ["es"], chain)

    return render


def _with_media(edition: Edition) -> Edition:
    """Some articles with a lead image (local or remote) or an audio enclosure: other namespaces, other head."""
    articles = list(edition.articles)
    articles[2] = articles[2].replace(
        image=Media("https://news.example.org/en/media/ab-port.jpg", "image/jpeg", 48213, "The port at dawn")
    )
    articles[4] = articles[4].replace(
        image=Media("https://cdn.example.net/ferry.png", "image/png"),
        enclosure=Media("https://cdn.example.net/ferry.mp3", "audio/mpeg", 1200),
    )
    return dataclasses.replace(edition, articles=tuple(articles))


def _keys(edition: Edition) -> list[str]:
    return [_article_key(a) for a in edition.articles]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_document_is_its_head_fragments_and_tail(edition: tuple[Site, Edition], fmt: str) -> None:
    site, full = edition
    document = _renderer(site, fmt)(full)
    cut = split(document, fmt, len(full.articles))
    assert cut is not None and cut.join(cut.items) == document
    assert b"".join(cut.parts()) == document  # written piece by piece, the same bytes
    assert all(isinstance(item, memoryview) for item in cut.items)  # views of the document, never copies
    assert split(document, fmt, len(full.articles) + 1) is None  # never a guess at the count
    # a fragment is the same bytes whatever else the document holds
    alone = [split(_renderer(site, fmt)(dataclasses.replace(full, articles=(a,))), fmt, 1) for a in full.articles]
    assert [c.items[0] for c in alone if c is not None] == cut.items


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_new_and_a_changed_article_are_the_only_items_rendered(edition: tuple[Site, Edition], fmt: str) -> None:
    site, full = edition
    old = dataclasses.replace(full, articles=full.articles[1:])  # the newest one is new this run
    document = _renderer(site, fmt)(old)
    cut = split(document, fmt, len(old.articles))
    assert cut is not None
    previous = dict(zip(_keys(old), cut.items, strict=True))
    changed = full.articles[3]
    edited = changed.replace(title=changed.title + " (updated)", updated=changed.modified + timedelta(days=400))
    articles = list(full.articles)
    articles[3] = edited
    new = dataclasses.replace(full, articles=tuple(articles))

    calls: list[str] = []
    joined = render_feed(fmt, new, _keys(new), _renderer(site, fmt, calls), previous)

    assert joined == _renderer(site, fmt)(new)  # byte for byte the whole rendering
    assert sorted(calls) == sorted({full.articles[0].slug, edited.slug})  # the new one and the edited one


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("where", ["feed", "archive page"])
def test_images_enclosures_and_archive_links_join_to_the_same_bytes(
    edition: tuple[Site, Edition], fmt: str, where: str
) -> None:
    site, full = edition
    full = _with_media(full)
    current, archives = chains("en", 2)
    chain = current if where == "feed" else archives[0]
    old = dataclasses.replace(full, articles=tuple(a for i, a in enumerate(full.articles) if i not in (1, 2)))
    cut = split(_renderer(site, fmt, chain=chain)(old), fmt, len(old.articles))
    assert cut is not None
    previous = dict(zip(_keys(old), cut.items, strict=True))

    calls: list[str] = []
    joined = render_feed(fmt, full, _keys(full), _renderer(site, fmt, calls, chain), previous)

    assert joined == _renderer(site, fmt, chain=chain)(full)
    newest_change = max(full.articles, key=lambda a: a.modified).slug
    assert set(calls) <= {full.articles[1].slug, full.articles[2].slug, newest_change}
    if fmt == "rss":
        assert b"xmlns:media" in joined and b"<enclosure" in joined
    if where == "archive page" and fmt != "json":
        assert b"archive" in joined.split(cut.items[0])[0]  # the marker and the chain links are the head's


def test_the_store_reuses_only_the_document_it_recorded(tmp_path: Path, edition: tuple[Site, Edition]) -> None:
    site, full = edition
    published: dict[str, bytes] = {}
    old = dataclasses.replace(full, articles=full.articles[1:])
    store = FragmentStore(tmp_path / "fragments.sqlite3", published.get)
    published["en/rss.xml"] = render_feed("rss", old, _keys(old), _renderer(site, "rss"), None)
    store.record(published["en/rss.xml"], "rss", "context", _keys(old))
    store.close()

    store = FragmentStore(tmp_path / "fragments.sqlite3", published.get)
    assert store.previous("en/rss.xml", "rss", "other context") is None  # another site, code or language
    previous = store.previous("en/rss.xml", "rss", "context")
    assert previous is not None and set(previous) == set(_keys(old))
    published["en/rss.xml"] = published["en/rss.xml"].replace(b"<rss", b"<rss ", 1)  # edited by hand
    assert store.previous("en/rss.xml", "rss", "context") is None
    store.close()


def test_the_store_takes_the_publishers_recorded_digest(tmp_path: Path, edition: tuple[Site, Edition]) -> None:
    """A published document is found by the sha256 the manifest recorded: it is not hashed again."""
    import hashlib

    site, full = edition
    data = render_feed("rss", full, _keys(full), _renderer(site, "rss"), None)
    store = FragmentStore(tmp_path / "fragments.sqlite3", {"en/rss.xml": data}.get)
    store.record(data, "rss", "context", _keys(full))
    store.close()

    recorded = {"en/rss.xml": hashlib.sha256(data).hexdigest()}
    store = FragmentStore(tmp_path / "fragments.sqlite3", {"en/rss.xml": data}.get, recorded.get)
    previous = store.previous("en/rss.xml", "rss", "context")
    assert previous is not None and set(previous) == set(_keys(full))
    recorded["en/rss.xml"] = "0" * 64  # the digest asked is the recorded one, not one computed here
    assert store.previous("en/rss.xml", "rss", "context") is None
    store.close()


def test_a_damaged_store_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "fragments.sqlite3"
    path.write_bytes(b"not a database" * 300)
    store = FragmentStore(path, lambda _path: None)
    store.record(b"doc", "rss", "context", ["k"])
    store.close()
    assert "fragment store" in caplog.text and "rebuilding" in caplog.text
    assert (tmp_path / "fragments.sqlite3.damaged").exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_first_image_of_a_feed_changes_its_head_not_the_other_items(
    edition: tuple[Site, Edition], fmt: str
) -> None:
    site, plain = edition
    cut = split(_renderer(site, fmt)(plain), fmt, len(plain.articles))  # no image anywhere: no media namespace
    assert cut is not None
    previous = dict(zip(_keys(plain), cut.items, strict=True))
    pictured = _with_media(plain)

    joined = render_feed(fmt, pictured, _keys(pictured), _renderer(site, fmt), previous)

    assert joined == _renderer(site, fmt)(pictured)
