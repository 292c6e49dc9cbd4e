"""A listing page rendered in a worker hands its lines to this process's line store through a file of the
scratch directory (:meth:`LineStore.hand_over`, :meth:`LineStore.adopt_file`), and a large page comes
back as a staged file: the bytes, and the rows of ``lines.sqlite3``, are those of a one-process build."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import syndicate.render as render
from syndicate.config import Config, load_config
from syndicate.models import Edition
from syndicate.pipeline import build_editions, read_inputs
from syndicate.publish import StagedFile
from syndicate.render import html, iter_render
from syndicate.render.lines import Handover, LineStore
from tests.test_render_workers import _write_article

ROOT = Path(__file__).resolve().parent.parent
Site = tuple[Config, list[Edition]]


@pytest.fixture(autouse=True)
def _always_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few hundred pages are below the threshold where a worker process pays off: use them anyway."""
    monkeypatch.setattr(render, "_PARALLEL_MIN", 0)


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """300 English articles (an index page of more lines than a value long_html puts in by marker) and
    40 Spanish ones, in three sections."""
    folder = tmp_path_factory.mktemp("articles")
    for number in range(300):
        _write_article(folder, number)
    for number in range(0, 80, 2):
        _write_article(folder, number, "es")
    base = load_config(ROOT / "syndicate.toml")
    config = dataclasses.replace(base, translation=dataclasses.replace(base.translation, languages=()), max_items=6)
    config = config.with_overrides(sources=[folder], cache=folder.parent / "t.sqlite3")
    articles, _ = read_inputs(config)
    return config, build_editions(config.site, articles)


def _render(site: Site, store: LineStore, workers: int, scratch: Path | None) -> list[tuple[str, str, bytes | None]]:
    """Every output, a staged file read back as its bytes (and left in place)."""
    config, eds = site
    found = []
    for path, key, data in iter_render(config.site, eds, sections=True, workers=workers, lines=store, scratch=scratch):
        found.append((path, key, Path(data.file).read_bytes() if isinstance(data, StagedFile) else data))
    return found


def _staged(site: Site, store: LineStore, scratch: Path) -> Iterator[tuple[str, str, object]]:
    """Every output of a two-worker build with ``scratch``, as it comes (a staged file as it is)."""
    config, eds = site
    yield from iter_render(config.site, eds, sections=True, workers=2, lines=store, scratch=scratch)


def _rows(database: Path) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The line store's contents: every line, and every context with its slot and run."""
    with sqlite3.connect(database) as conn:
        lines = sorted(conn.execute("SELECT context, key, line FROM lines"))
        contexts = sorted(conn.execute("SELECT context, slot, run FROM contexts"))
    conn.close()
    return lines, contexts


@pytest.fixture
def one_process(editions: Site, tmp_path: Path) -> tuple[list[tuple[str, str, bytes | None]], Path, int]:
    """The outputs of a one-process build, its line store file and how many lines it rendered."""
    store = LineStore(tmp_path / "one" / "lines.sqlite3")
    outputs = _render(editions, store, 1, None)
    store.close()
    return outputs, tmp_path / "one" / "lines.sqlite3", store.rendered


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[object]:
    """The arguments of every call of ``LineStore.<name>`` (in this process and, forked, in the workers)."""
    calls: list[object] = []
    real = getattr(LineStore, name)

    def spy(self: LineStore, *args: object) -> object:
        calls.append(args[0] if len(args) == 1 else args)
        return real(self, *args)

    monkeypatch.setattr(LineStore, name, spy)
    return calls


def _record_pids(monkeypatch: pytest.MonkeyPatch, record: Path) -> None:
    """Note the process id of every listing page render (an edition's or a section's) in ``record``."""
    for name in ("edition_index_page", "section_page"):
        real = getattr(html, name)

        def page(*args: object, real: Callable[..., bytes] = real, **kwargs: object) -> bytes:
            with record.open("a") as fh:
                fh.write(f"{os.getpid()}\n")
            return real(*args, **kwargs)

        monkeypatch.setattr(html, name, page)


def test_two_workers_hand_their_lines_over_in_files_the_bytes_and_rows_of_one_process(
    editions: Site,
    one_process: tuple[list[tuple[str, str, bytes | None]], Path, int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    expected, one_db, one_rendered = one_process
    adopted, listed = _spy(monkeypatch, "adopt_file"), _spy(monkeypatch, "adopt")
    record = tmp_path / "pids"
    _record_pids(monkeypatch, record)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    store = LineStore(tmp_path / "two" / "lines.sqlite3")
    assert store.cold
    got = _render(editions, store, 2, scratch)
    store.close()
    assert got == expected
    assert _rows(tmp_path / "two" / "lines.sqlite3") == _rows(one_db)
    assert store.rendered >= one_rendered > 300  # a worker renders again the lines its earlier page handed over
    pids = record.read_text().split()
    listings = [path for path, _, _ in got if path.endswith("/index.html")]
    assert len(pids) == len(listings) == 1 + 1 + 3 + 3 and str(os.getpid()) not in pids  # all in the workers
    assert listed == [] and len(adopted) == len(listings)  # every page's lines came through a file
    handovers = [h for h in adopted if isinstance(h, Handover)]
    assert len(handovers) == len(adopted) and 300 < sum(h.lines for h in handovers) <= store.rendered
    assert not [p for p in scratch.iterdir() if p.name.startswith("lines-")]  # every hand-over file deleted


def test_a_large_listing_page_comes_back_as_a_staged_file(
    editions: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The English index page (300 lines, about 0.5 MB) is a staged file once the staging size is below
    it; the small section pages of Spanish stay bytes; every file in the scratch directory is an output."""
    expected = {path: data for path, _, data in _render(editions, LineStore(None), 1, None)}
    size = len(expected["en/index.html"] or b"")
    monkeypatch.setattr(render, "_STAGE_MIN", size)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    store = LineStore(None)
    outputs = {path: data for path, _, data in _staged(editions, store, scratch)}
    assert isinstance(outputs["en/index.html"], StagedFile)
    assert isinstance(outputs["es/index.html"], bytes) and isinstance(outputs["es/sections/world/index.html"], bytes)
    files = {path: data.file for path, data in outputs.items() if isinstance(data, StagedFile)}
    assert sorted(p.as_posix() for p in scratch.iterdir()) == sorted(files.values())  # no hand-over file left
    for path, data in outputs.items():
        assert (Path(data.file).read_bytes() if isinstance(data, StagedFile) else data) == expected[path]


def test_a_memory_only_store_renders_the_same_bytes_with_hand_overs(
    editions: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No database (a library caller's store), a scratch directory: the lines still come through files."""
    expected = _render(editions, LineStore(None), 1, None)
    adopted = _spy(monkeypatch, "adopt_file")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert _render(editions, LineStore(None), 2, scratch) == expected
    assert len(adopted) == 8 and not list(scratch.iterdir())  # every page under 1 MB: bytes, no file left


@pytest.mark.parametrize("kept", ["in memory", "in a database"])
def test_lines_adopted_from_a_file_serve_a_page_rendered_here_as_lines_adopted_as_a_list(
    editions: Site, tmp_path: Path, kept: str
) -> None:
    """A detached store (a worker's) renders a page and hands its lines over, in a file or as a list;
    the parent's store then renders the same page from them alone (every line reused), to the same
    bytes, and keeps the same rows."""
    from syndicate.render.theme import load_theme

    config, eds = editions
    theme, english = load_theme(), eds[0]

    def page(store: LineStore) -> bytes:
        return html.edition_index_page(config.site, english, eds, ("rss",), theme, (), store)

    results = {}
    for how in ("file", "list"):
        worker = LineStore(None)
        worker.detach()
        made = page(worker)
        database = tmp_path / how / "lines.sqlite3"
        parent = LineStore(database if kept == "in a database" else None)
        if how == "file":
            handover = worker.hand_over(str(tmp_path))
            assert handover.lines == len(english.articles) and handover.asked == 1
            parent.adopt_file(handover)
            assert not Path(handover.file).exists()
        else:
            parent.adopt(*worker.take_new())
        assert worker.take_new() == ([], [])  # handed over: the worker keeps none of them
        assert page(parent) == made
        assert (parent.rendered, parent.reused) == (len(english.articles), len(english.articles))
        parent.close()
        results[how] = _rows(database) if kept == "in a database" else None
    assert results["file"] == results["list"]
    assert results["file"] is None or len(results["file"][0]) == len(english.articles)


def test_a_second_run_reuses_every_line_the_workers_handed_over(
    editions: Site,
    one_process: tuple[list[tuple[str, str, bytes | None]], Path, int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    expected, one_db, _ = one_process
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    database = tmp_path / "two" / "lines.sqlite3"
    first = LineStore(database)
    _render(editions, first, 2, scratch)
    first.close()
    again = LineStore(database)
    assert not again.cold
    assert _render(editions, again, 2, scratch) == expected
    again.close()
    assert again.rendered == 0 and again.reused == first.rendered + first.reused
    assert _rows(database)[0] == _rows(one_db)[0]


def _truncated(handover: Handover) -> None:
    os.truncate(handover.file, handover.size // 2)


def _missing(handover: Handover) -> None:
    os.unlink(handover.file)


def _unreadable(handover: Handover) -> None:  # a directory in its place (root reads a file of mode 000)
    os.unlink(handover.file)
    os.mkdir(handover.file)


def _garbled(handover: Handover) -> None:  # the same size, but its second half is not what was written
    with open(handover.file, "r+b") as fh:
        fh.seek(handover.size // 2)
        fh.write(b"\xff" * (handover.size - handover.size // 2))


def _misannounced(handover: Handover) -> Handover:  # a record that promises more lines than the file has
    return dataclasses.replace(handover, lines=handover.lines + 1)


@pytest.mark.parametrize("damage", [_truncated, _missing, _unreadable, _garbled, _misannounced, None])
def test_a_hand_over_that_fails_renders_the_page_here_with_the_same_bytes_and_rows(
    editions: Site,
    one_process: tuple[list[tuple[str, str, bytes | None]], Path, int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    damage: Callable[[Handover], Handover | None] | None,
) -> None:
    """The worker's lines file damaged after it was written (or, None: the worker cannot write it): this
    process renders the listing page itself; the bytes and the line store are those of one process,
    and no scratch file but the staged outputs is left (the discarded page's file is deleted)."""
    expected, one_db, _ = one_process
    monkeypatch.setattr(render, "_STAGE_MIN", 0)  # every listing page comes as a staged file: it is discarded
    real = LineStore.hand_over

    def hand_over(self: LineStore, directory: str) -> Handover:
        if damage is None:
            raise OSError(28, "No space left on device")
        handover = real(self, directory)
        return damage(handover) or handover

    monkeypatch.setattr(LineStore, "hand_over", hand_over)
    record = tmp_path / "pids"
    _record_pids(monkeypatch, record)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    store = LineStore(tmp_path / "two" / "lines.sqlite3")
    files = []
    got = []
    for path, key, data in _staged(editions, store, scratch):
        if isinstance(data, StagedFile):
            files.append(data.file)
            data = Path(data.file).read_bytes()
        got.append((path, key, data))
    store.close()
    assert [(path, key) for path, key, _ in got] == [(path, key) for path, key, _ in expected]
    assert got == [(path, key, data) for path, key, data in expected]
    assert _rows(tmp_path / "two" / "lines.sqlite3") == _rows(one_db)
    assert record.read_text().split().count(str(os.getpid())) == 8  # each listing page rendered again here
    left = sorted(p.as_posix() for p in scratch.iterdir() if not p.is_dir() or damage is not _unreadable)
    assert left == sorted(files)
