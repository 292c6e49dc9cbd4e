"""Editions' articles on shelves (syndicate.shelf): packed records that read back as the same articles."""

from __future__ import annotations

import dataclasses
import gc
import os
import pickle
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import syndicate.pipeline as pipeline
from syndicate.bodies import spilling
from syndicate.config import Config
from syndicate.models import Article, Block, Edition, Media, Translation
from syndicate.render import forget_keys, iter_render
from syndicate.shelf import Shelf, column, first_image, newest, shelve, take

NEW_YORK = ZoneInfo("America/New_York")


class Title(str):
    """A str subclass: a value marshal does not write (the record is pickled instead)."""


def _articles() -> list[Article]:
    """Articles that use every field, with every kind of date marshal has to carry."""
    body = (Block("Talks in <em>Geneva</em>."), Block("", "ul", (Block("one", "li"), Block("two", "li"))))
    image = Media("https://example.org/a.jpg", "image/jpeg", 1234, "A map", "/src/a.jpg", "media/a.jpg", 99)
    plain = Article("urn:a", "a", "Alpha", "Summary A", body, datetime(2024, 3, 3, 9, 0, tzinfo=UTC), "en")
    return [
        plain,
        plain.replace(
            id="urn:b",
            slug="b",
            title="Beta",
            published=datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK, fold=1),  # the second 01:30 that night
            updated=datetime(2024, 11, 4, 8, 0, tzinfo=timezone(timedelta(hours=3), "MSK")),
            category="World",
            tags=("talks", "geneva"),
            author="Desk",
            link="https://example.org/b",
            source="articles/b.md",
            title_source="Beta, the whole sentence.",
            date_only=True,
            body_language="en",
            original_body=(Block("Original text."),),
            image=image,
            media=(image,),
            enclosure=Media("https://example.org/b.mp3", "audio/mpeg", 5000),
        ),
        plain.replace(
            id="urn:c",
            slug="c",
            language="es",
            title="Gamma",
            published=datetime(2024, 1, 1),  # naive: a library caller's; kept as it is
            translation=Translation("Apertium", "en", "urn:a", "a"),
            translation_of="urn:a",
        ),
        plain.replace(id="urn:d", slug="d", title=Title("Delta, a str subclass"), body=()),
    ]


def _fields(article: Article) -> list[tuple[str, object, type]]:
    return [(f.name, getattr(article, f.name), type(getattr(article, f.name))) for f in dataclasses.fields(article)]


@pytest.mark.parametrize("spilled", [True, False], ids=["in the spill file", "in memory"])
def test_every_field_reads_back_as_it_was_written(tmp_path: Path, spilled: bool) -> None:
    articles = _articles()
    if spilled:
        with spilling(tmp_path) as spill:
            shelf = shelve(articles)
        assert spill is not None and spill.size > 0
    else:
        shelf = shelve(articles)
    back = list(shelf)
    assert back == articles
    for before, after in zip(articles, back, strict=True):
        assert _fields(after) == _fields(before)  # the values and their types (a Body stays a Body)
        assert after.key_text() == before.key_text()  # so the render keys are the same
        assert after.published.fold == before.published.fold
        assert after.published.utcoffset() == before.published.utcoffset()
        assert tuple(after.body) == tuple(before.body) and tuple(after.original_body) == tuple(before.original_body)


def test_a_shelf_is_a_sequence_equal_to_the_tuple_of_its_articles() -> None:
    articles = _articles()
    shelf = shelve(articles)
    assert len(shelf) == 4 and shelf[1] == articles[1] and shelf[-1] == articles[-1]
    assert shelf == tuple(articles) and tuple(articles) == shelf and shelf == shelve(articles)
    assert shelf != tuple(articles[:3]) and shelf != shelve(articles[1:])
    assert repr(shelf) == repr(tuple(articles)) and hash(shelf) == hash(tuple(articles))
    part = shelf[1:3]
    assert isinstance(part, Shelf) and part == tuple(articles[1:3])
    picked = shelf.take([3, 0])
    assert isinstance(picked, Shelf) and list(picked) == [articles[3], articles[0]]
    assert pickle.loads(pickle.dumps(shelf)) == tuple(articles)  # another process gets the articles
    edition = Edition("en", "Desk", "News", shelf)
    assert edition == Edition("en", "Desk", "News", tuple(articles))


def test_the_heads_are_read_without_unpacking_and_agree_with_the_articles() -> None:
    articles = _articles()
    shelf = shelve(articles)
    for name in ("ids", "slugs", "groups", "languages", "categories", "media"):
        assert column(shelf, name) == column(articles, name), name
    assert column(shelf, "groups") == ["urn:a", "urn:b", "urn:a", "urn:d"]  # a translation joins its original's
    assert column(shelf[1:], "slugs") == ["b", "c", "d"]
    assert take(shelf, [2]) == (articles[2],) and take(articles, [2]) == (articles[2],)


def test_newest_and_first_image_pick_what_the_articles_would_with_ties_to_the_first() -> None:
    when = datetime(2024, 5, 1, 12, tzinfo=UTC)
    base = Article("urn:1", "s1", "T", "S", (), when, "en")
    articles = [
        base,
        base.replace(id="urn:2", slug="s2", updated=when + timedelta(hours=2)),
        base.replace(id="urn:3", slug="s3", published=(when + timedelta(hours=2)).astimezone(NEW_YORK)),  # a tie
        base.replace(id="urn:4", slug="s4", image=Media("https://example.org/i.png")),
    ]
    shelf = shelve(articles)
    assert newest(shelf) == newest(articles) == 1
    assert first_image(shelf) == first_image(articles) == 3
    assert newest(shelve([])) is None and first_image(shelf[:3]) is None
    # the build date of a feed: the same object's value, its time zone included
    assert Edition("en", "D", "N", shelf).updated == Edition("en", "D", "N", tuple(articles)).updated
    assert Edition("en", "D", "N", shelf).updated.tzinfo is UTC  # type: ignore[union-attr]


def test_refiling_prepares_only_the_articles_without_a_render_key() -> None:
    articles = _articles()
    keys = {"urn:a": "key-a", "urn:c": "key-c"}
    shelf = shelve(articles, key_of=lambda a: keys.get(a.id))
    assert not shelf.keyed and shelf.key_at(0) == "key-a" and shelf.key_at(1) is None
    prepared: list[str] = []

    def prepare(article: Article) -> tuple[Article, str]:
        prepared.append(article.id)
        return article.replace(title=article.title.upper()), f"key-{article.slug}"

    refiled = shelf.refiled(prepare)
    assert prepared == ["urn:b", "urn:d"]  # the keyed ones are neither unpacked nor packed again
    assert refiled.keyed and refiled.keys == ("key-a", "key-b", "key-c", "key-d")
    assert [a.title for a in refiled] == ["Alpha", "BETA", "Gamma", "DELTA, A STR SUBCLASS"]
    assert refiled.refiled(prepare) is refiled and prepared == ["urn:b", "urn:d"]
    with pytest.raises(ValueError, match="no render key"):
        _ = shelf.keys


def test_a_forked_process_reads_the_records_through_the_inherited_spill(tmp_path: Path) -> None:
    articles = _articles()[:3]
    with spilling(tmp_path):
        shelf = shelve(articles * 300)  # more than the spill's write buffer holds
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what a render worker does
        try:
            ok = list(shelf) == articles * 300 and shelf[899] == articles[2]
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"


def _render_all(editions: Sequence[Edition], config: Config, workers: int) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for path, _key, data in iter_render(config.site, editions, formats=config.formats, workers=workers):
        assert isinstance(data, bytes)
        out[path] = data
    return out


def test_a_run_renders_the_same_bytes_from_shelves_as_from_tuples(seed_config: Config, tmp_path: Path) -> None:
    config = seed_config
    with spilling(tmp_path / "spill"):
        editions, _errors, _translated = pipeline._shelved_editions(
            config, strict=False, stage=pipeline.Stage(), listing=None
        )
        assert all(isinstance(edition.articles, Shelf) for edition in editions)
        as_tuples = [dataclasses.replace(e, articles=tuple(e.articles)) for e in editions]
        assert _render_all(editions, config, 1) == _render_all(as_tuples, config, 1)


def test_once_shelved_a_run_holds_no_article_objects(seed_config: Config, tmp_path: Path) -> None:
    pipeline._filed()  # made once per process, by whichever run first files a hit
    gc.collect()
    before = sum(1 for o in gc.get_objects() if type(o) is Article)
    with spilling(tmp_path / "spill"):
        editions, _errors, _translated = pipeline._shelved_editions(
            seed_config, strict=False, stage=pipeline.Stage(), listing=None
        )
        gc.collect()
        alive = sum(1 for o in gc.get_objects() if type(o) is Article) - before
        assert sum(len(e.articles) for e in editions) > 0
        assert alive == 0


def test_a_warm_runs_cached_translations_are_filed_as_each_language_is_planned(
    seed_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = seed_config
    with spilling(tmp_path / "spill"):
        pipeline._shelved_editions(config, strict=False, stage=pipeline.Stage(), listing=None)  # the cache warm
    seen: list[int] = []
    real = pipeline._look_up_all

    def counting(*args: object, **kwargs: object) -> None:
        gc.collect()
        seen.append(sum(1 for o in gc.get_objects() if type(o) is Article))
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_look_up_all", counting)
    articles, _errors = pipeline.read_inputs(config)
    sources = len(articles)
    del articles
    forget_keys()  # the parse cache's keys came with them: the memo would keep this read's articles
    pipeline._filed()  # the placeholder of a filed hit: made once, as any earlier run may have made it
    gc.collect()
    before = sum(1 for o in gc.get_objects() if type(o) is Article)  # what earlier tests left in this process
    with spilling(tmp_path / "spill"):
        editions, _errors, translated = pipeline._shelved_editions(
            config, strict=False, stage=pipeline.Stage(), listing=None
        )
    assert not translated.missing and len(editions) == 3
    assert all(len(e.articles) == sources for e in editions)
    # every language planned, its cached translations on the shelf: the run's source articles are
    # the only article objects it holds
    assert [count - before for count in seen] == [sources]
