"""Rendering and reading in worker processes: the same outputs (and errors), in the same order, as in one."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

import syndicate.pipeline as pipeline
import syndicate.render as render
import syndicate.sources as sources
from syndicate.config import Config, load_config
from syndicate.errors import ConfigError
from syndicate.pipeline import Stage, build_editions, publish_site, read_inputs
from syndicate.render import feeds, iter_render
from syndicate.render.fragments import FragmentStore
from syndicate.render.theme import Theme
from syndicate.sources import read_articles

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
SECTIONS = ("World", "Science", "Sport")


@pytest.fixture(autouse=True)
def _always_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 12 pages here are below the threshold where a worker process pays off: use one anyway."""
    monkeypatch.setattr(render, "_PARALLEL_MIN", 0)


@pytest.fixture
def editions(source_only_config: Config) -> tuple[Config, list]:  # type: ignore[type-arg]
    articles, _ = read_inputs(source_only_config)
    # the same articles once more as a second edition, so there are two editions of pages
    spanish = [a.replace(language="es", id=a.id + "-es") for a in articles]
    return source_only_config, build_editions(source_only_config.site, [*articles, *spanish])


@pytest.mark.parametrize("batch", [1, 2, 200])
def test_one_and_two_workers_give_the_same_outputs_in_the_same_order(
    editions: tuple[Config, list],
    monkeypatch: pytest.MonkeyPatch,
    batch: int,  # type: ignore[type-arg]
) -> None:
    config, eds = editions
    monkeypatch.setattr(render, "_BATCH", batch)  # pages per task: 1 and 2 exercise the look-ahead window
    one = list(iter_render(config.site, eds, max_items=4, workers=1))
    two = list(iter_render(config.site, eds, max_items=4, workers=2))
    assert [path for path, _, _ in one] == [path for path, _, _ in two]
    assert one == two
    pages = [path for path, _, data in one if "/articles/" in path and data]
    assert len(pages) == 12 and {p.split("/")[0] for p in pages} == {"en", "es"}


def test_the_pages_are_rendered_in_another_process(
    editions: tuple[Config, list],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    from syndicate.render import html

    config, eds = editions
    record, real = tmp_path / "pids", html.article_page

    def article_page(*args: object, **kwargs: object) -> bytes:
        with record.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(html, "article_page", article_page)
    list(iter_render(config.site, eds, workers=2))
    pids = set(record.read_text().split())
    assert len(record.read_text().split()) == 12 and str(os.getpid()) not in pids


def test_unchanged_outputs_are_skipped_the_same_way(editions: tuple[Config, list]) -> None:  # type: ignore[type-arg]
    config, eds = editions
    first = list(iter_render(config.site, eds, workers=1))
    previous = {path: key for path, key, _ in first if path.startswith("es/")}
    one = list(iter_render(config.site, eds, previous=previous, workers=1))
    two = list(iter_render(config.site, eds, previous=previous, workers=2))
    assert one == two
    assert all(data is None for path, _, data in two if path.startswith("es/"))
    assert all(data is not None for path, _, data in two if path.startswith("en/articles/"))


def test_a_template_error_in_a_worker_is_the_same_one_line_error(
    editions: tuple[Config, list],
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    config, eds = editions
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "article.html").write_text("{{ article.nope.deeper }}", encoding="utf-8")
    errors = []
    for workers in (1, 2):
        with pytest.raises(ConfigError) as info:
            list(iter_render(config.site, eds, theme=Theme(tmp_path), workers=workers))
        errors.append(info.value.message)
    assert errors[0] == errors[1] and "article.html" in errors[0]


def test_a_worker_that_dies_leaves_its_pages_to_the_main_process(
    editions: tuple[Config, list],
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg]
) -> None:
    from syndicate.render import html

    config, eds = editions
    expected = list(iter_render(config.site, eds, workers=1))
    parent, real = os.getpid(), html.article_page

    def article_page(*args: object, **kwargs: object) -> bytes:
        if os.getpid() != parent:
            os._exit(9)  # killed (out of memory, a signal) in the middle of a batch
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(html, "article_page", article_page)
    assert list(iter_render(config.site, eds, workers=2)) == expected


def test_a_few_pages_to_render_stay_in_this_process(
    editions: tuple[Config, list],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    from syndicate.render import html

    monkeypatch.setattr(render, "_PARALLEL_MIN", 400)
    config, eds = editions
    record, real = tmp_path / "pids", html.article_page

    def article_page(*args: object, **kwargs: object) -> bytes:
        with record.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(html, "article_page", article_page)
    two = list(iter_render(config.site, eds, workers=2))
    assert set(record.read_text().split()) == {str(os.getpid())}
    monkeypatch.setattr(html, "article_page", real)
    assert two == list(iter_render(config.site, eds, workers=1))


# ----------------------------------------------------- whole builds: feeds, sections, archives, reading


def _write_article(folder: Path, number: int, language: str = "en") -> None:
    day = 1 + number % 28
    (folder / f"a{number:03d}-{language}.md").write_text(
        f"---\ntitle: Story number {number} ({language})\ndate: 2025-03-{day:02d}T{number % 24:02d}:15:00+01:00\n"
        f"language: {language}\ncategory: {SECTIONS[number % 3]}\ntags: [t{number % 5}]\n---\n"
        f"The **body** of story {number}, with [a link](https://example.org/{number}).\n\nA second paragraph.\n",
        encoding="utf-8",
    )


@pytest.fixture
def site(tmp_path: Path) -> Callable[[str], Config]:
    """A site of 40 articles in English and 20 in Spanish (three sections, archive pages) and a
    config per target name: the same sources and caches, its own target."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for number in range(40):
        _write_article(folder, number)
    for number in range(0, 40, 2):
        _write_article(folder, number, "es")
    base = load_config(ROOT / "syndicate.toml")
    base = dataclasses.replace(
        base, translation=dataclasses.replace(base.translation, languages=()), max_items=6, archive_page_size=5
    )

    def config(name: str) -> Config:
        return base.with_overrides(
            sources=[folder], target=tmp_path / name, cache=tmp_path / f"cache-{name}" / "t.sqlite3"
        )

    return config


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".syndicate" not in p.relative_to(root).parts
    }


def _publish_with(config: Config, workers: int, monkeypatch: pytest.MonkeyPatch) -> pipeline.RunSummary:
    monkeypatch.setattr(pipeline, "worker_processes", lambda: workers)
    monkeypatch.setattr(sources, "PARALLEL_READ_MIN", 0)
    monkeypatch.setattr(sources, "_READ_BATCH", 7)
    return publish_site(config, stage=Stage())


def test_a_whole_site_is_the_same_bytes_with_1_and_2_workers(
    site: Callable[[str], Config], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Feeds, section feeds, archive pages, index and article pages; a full build, then an incremental one."""
    one, two = site("one"), site("two")
    first = [_publish_with(one, 1, monkeypatch), _publish_with(two, 2, monkeypatch)]
    assert first[0] == dataclasses.replace(first[1], target=first[0].target)
    tree = _tree(one.target)
    assert tree == _tree(two.target)
    assert {"en/sections/world/rss.xml", "es/sections/sport/atom.xml", "en/archive/1/feed.json"} <= set(tree)
    assert sum("/articles/" in path for path in tree) == 60
    # the fragment store was written by the main process: one record per feed document
    documents = sum(path.endswith(("rss.xml", "atom.xml", "feed.json")) for path in tree)
    for config in (one, two):
        with sqlite3.connect(config.translation.cache.parent / "fragments.sqlite3") as conn:  # type: ignore[union-attr]
            assert conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == documents
    _write_article(one.sources.paths[0], 99)  # a new article: feeds joined from fragments, one page
    again = [_publish_with(one, 1, monkeypatch), _publish_with(two, 2, monkeypatch)]
    assert again[0].written == again[1].written > 0
    assert _tree(one.target) == _tree(two.target) != tree


def test_feeds_and_index_pages_render_in_the_workers_too(
    editions: tuple[Config, list],  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from syndicate.render import html

    config, eds = editions
    record = tmp_path / "pids"
    real_rss, real_index = feeds.render_rss, html.edition_index_page

    def noted(real: Callable[..., bytes], what: str) -> Callable[..., bytes]:
        def call(*args: object, **kwargs: object) -> bytes:
            with record.open("a") as fh:
                fh.write(f"{what} {os.getpid()}\n")
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(feeds, "render_rss", noted(real_rss, "rss"))
    monkeypatch.setattr(html, "edition_index_page", noted(real_index, "index"))
    outputs = list(iter_render(config.site, eds, workers=2, sections=True))
    lines = [line.split() for line in record.read_text().splitlines()]
    assert {what for what, _ in lines} == {"rss", "index"}
    assert str(os.getpid()) not in {pid for _, pid in lines}
    monkeypatch.setattr(feeds, "render_rss", real_rss)
    monkeypatch.setattr(html, "edition_index_page", real_index)
    assert outputs == list(iter_render(config.site, eds, workers=1, sections=True))


def test_a_feed_joined_from_fragments_stays_in_this_process_with_the_store(
    editions: tuple[Config, list],  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """With an unchanged render base, a published feed is joined here from its fragments (a few new
    items rendered), and this process records every document, rendered here or in a worker."""
    from syndicate.render import html

    config, eds = editions
    published: dict[str, bytes] = {}
    store = FragmentStore(tmp_path / "fragments.sqlite3", published.get)
    first = list(iter_render(config.site, eds, max_items=4, fragments=store, workers=2))
    store.close()
    published.update((path, data) for path, _, data in first if data is not None)
    previous = {path: key for path, key, _ in first}
    changed_first = eds[0].articles[0].replace(title="A changed headline")
    newer = dataclasses.replace(eds[0], articles=(changed_first, *eds[0].articles[1:]))
    changed = [newer, *eds[1:]]
    expected = list(iter_render(config.site, changed, max_items=4, previous=previous, workers=1))
    store = FragmentStore(tmp_path / "fragments.sqlite3", published.get)
    record = tmp_path / "pids"
    real_rss, real_index = feeds.render_rss, html.edition_index_page

    def noted(real: Callable[..., bytes], what: str) -> Callable[..., bytes]:
        def call(*args: object, **kwargs: object) -> bytes:
            with record.open("a") as fh:
                fh.write(f"{what} {os.getpid()}\n")
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(feeds, "render_rss", noted(real_rss, "rss"))
    monkeypatch.setattr(html, "edition_index_page", noted(real_index, "index"))
    got = list(iter_render(config.site, changed, max_items=4, previous=previous, fragments=store, workers=2))
    assert got == expected
    assert store.reused > 0  # the en feeds were joined from the fragments the first run recorded
    store.close()
    calls = [line.split() for line in record.read_text().splitlines()]
    here = str(os.getpid())
    assert ["rss", here] in calls and all(pid == here for what, pid in calls if what == "rss")
    assert ["index", here] not in calls and any(what == "index" for what, _ in calls)  # the index page: a worker


def _bounded(call: Callable[[], T], seconds: float = 120.0) -> T:
    """``call()``, failing the test instead of hanging when it does not return within ``seconds``
    (it takes well under a second: the bound only proves that a dead worker is no hang)."""
    result: list[T] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"did not return within {seconds} s"
    return result[0]


def _bad_files(folder: Path) -> None:
    (folder / "a005-en.md").write_bytes(b"---\ntitle: bad bytes\n---\n\xff\xfe not UTF-8\n")
    (folder / "a017-en.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    (folder / "a031-en.md").write_text("---\ntitle: A date\ndate: the day after\n---\nbody\n", encoding="utf-8")


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_reading_in_2_processes_gives_the_same_articles_and_errors_in_the_same_order(
    site: Callable[[str], Config], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, batch: int
) -> None:
    config = site("read")
    _bad_files(config.sources.paths[0])
    monkeypatch.setattr(sources, "PARALLEL_READ_MIN", 0)
    monkeypatch.setattr(sources, "_READ_BATCH", batch)
    record, real = tmp_path / "pids", sources.read_file

    def read_file(*args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
        with record.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sources, "read_file", read_file)
    one = read_articles(config.sources, "en", workers=1)
    record.unlink()
    two = read_articles(config.sources, "en", workers=2)
    assert len(one.articles) == 57 and len(one.errors) == 3 and one.files == 60
    assert two.articles == one.articles
    assert [str(e) for e in two.errors] == [str(e) for e in one.errors]
    assert [e.path for e in one.errors] == sorted(e.path for e in one.errors)  # in listing order
    pids = record.read_text().split()
    # every good file parsed in a worker; each bad one failed there and was read again here for its error
    assert pids.count(str(os.getpid())) == 3 and len(pids) == 63


def test_a_parallel_read_fills_the_parse_cache_from_this_process(
    site: Callable[[str], Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate.incremental import ParseCache, parse_cache_path

    config = site("cache")
    monkeypatch.setattr(sources, "PARALLEL_READ_MIN", 0)
    monkeypatch.setattr(sources, "_READ_BATCH", 4)
    outcomes: list[str] = []
    for _ in range(2):
        cache = ParseCache(parse_cache_path(config), config.sources, "en")
        try:
            result = read_articles(
                config.sources, "en", cache=cache, workers=2, on_file=lambda _s, outcome: outcomes.append(outcome)
            )
        finally:
            cache.close()
        assert len(result.articles) == 60
    assert len(outcomes) == 120
    assert not any("parse cache" in o for o in outcomes[:60])
    assert all("parse cache" in o for o in outcomes[60:])


def test_a_read_worker_that_dies_leaves_its_files_to_the_main_process(
    site: Callable[[str], Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = site("dies")
    _bad_files(config.sources.paths[0])
    expected = read_articles(config.sources, "en", workers=1)
    monkeypatch.setattr(sources, "PARALLEL_READ_MIN", 0)
    monkeypatch.setattr(sources, "_READ_BATCH", 5)
    parent, real = os.getpid(), sources.read_file

    def read_file(*args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
        if os.getpid() != parent:
            os._exit(9)  # killed (out of memory, a signal) in the middle of a batch
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sources, "read_file", read_file)
    got = _bounded(lambda: read_articles(config.sources, "en", workers=2))
    assert got.articles == expected.articles
    assert [str(e) for e in got.errors] == [str(e) for e in expected.errors]


def test_a_read_pool_broken_while_batches_go_out_leaves_the_rest_to_the_main_process(
    site: Callable[[str], Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that dies before every batch is submitted breaks the pool: the submission that
    finds it broken must not fail the read (it did, rarely, when the first batch killed its
    worker fast enough); the files not submitted are read here, in order, with their errors."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    config = site("broken-submit")
    _bad_files(config.sources.paths[0])
    expected = read_articles(config.sources, "en", workers=1)
    monkeypatch.setattr(sources, "PARALLEL_READ_MIN", 0)
    monkeypatch.setattr(sources, "_READ_BATCH", 5)
    real_submit, calls = ProcessPoolExecutor.submit, []

    def submit(self: ProcessPoolExecutor, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) >= 3:
            raise BrokenProcessPool("a worker died")
        return real_submit(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ProcessPoolExecutor, "submit", submit)
    got = _bounded(lambda: read_articles(config.sources, "en", workers=2))
    assert len(calls) == 3
    assert got.articles == expected.articles
    assert [str(e) for e in got.errors] == [str(e) for e in expected.errors]


def test_a_render_worker_that_dies_is_no_hang(
    editions: tuple[Config, list],  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, eds = editions
    expected = list(iter_render(config.site, eds, sections=True, workers=1))
    parent, real = os.getpid(), feeds.render_atom

    def render_atom(*args: object, **kwargs: object) -> bytes:
        if os.getpid() != parent:
            os._exit(9)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(feeds, "render_atom", render_atom)
    assert _bounded(lambda: list(iter_render(config.site, eds, sections=True, workers=2))) == expected


def test_the_worker_count_follows_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, workers in ((1, 1), (2, 2), (3, 3), (64, pipeline.MAX_WORKERS)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert pipeline.worker_processes() == workers


def test_listing_pages_render_in_the_workers_on_a_cold_line_store_and_here_on_a_warm_one(
    editions: tuple[Config, list],  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The line store is this process's.  With no line kept (a full build) the listing pages render in
    the workers, which hand their new lines back to it; once it holds lines, they join them here.
    Either way the bytes are those of one process and the store ends up with every line."""
    from syndicate.render import html
    from syndicate.render.lines import LineStore

    config, eds = editions
    expected = list(iter_render(config.site, eds, sections=True, workers=1, lines=LineStore(None)))
    record, real_index = tmp_path / "pids", html.edition_index_page

    def edition_index_page(*args: object, **kwargs: object) -> bytes:
        with record.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real_index(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(html, "edition_index_page", edition_index_page)
    store = LineStore(tmp_path / "lines.sqlite3")
    assert store.cold
    got = list(iter_render(config.site, eds, sections=True, workers=2, lines=store))
    store.close()
    assert got == expected
    assert str(os.getpid()) not in set(record.read_text().split())  # rendered in the workers
    assert store.rendered > 0

    record.unlink()
    again = LineStore(tmp_path / "lines.sqlite3")  # a rerun finds every line the workers rendered
    assert not again.cold
    assert list(iter_render(config.site, eds, sections=True, workers=2, lines=again)) == expected
    assert again.rendered == 0 and again.reused > 0
    assert set(record.read_text().split()) == {str(os.getpid())}  # joined here, from the store
    again.close()
