"""Unchanged outputs cost little and change no byte: kept feed items join as runs of the
published document, cut by the bounds recorded with it; a chain of incremental runs
publishes exactly what one full build of the same input does."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate.config import Config, load_config
from syndicate.errors import PublishError
from syndicate.models import Edition, Site
from syndicate.pipeline import Stage, publish_site
from syndicate.publish import StagedFile, publish
from syndicate.render.fragments import FragmentStore, Previous, Split, assemble, item_bounds
from tests.helpers import tree_digest
from tests.test_fragments import FORMATS, _keys, _renderer, _with_media
from tests.test_fragments import edition as edition  # the fixture
from tests.test_translation_e2e import Recorder

ROOT = Path(__file__).resolve().parent.parent


def _join(document: bytes | Split) -> bytes:
    return document if isinstance(document, bytes) else document.join(document.items)


@pytest.mark.parametrize("fmt", FORMATS)
def test_kept_items_join_as_runs_and_their_recorded_bounds_cut_the_next_document(
    tmp_path: Path, edition: tuple[Site, Edition], fmt: str
) -> None:
    site, full = edition
    full = _with_media(full)
    published: dict[str, bytes] = {}
    path = f"en/{fmt}"

    # run 1 (a full build): the document rendered whole, recorded without bounds
    old = dataclasses.replace(full, articles=full.articles[1:])
    published[path] = _renderer(site, fmt)(old)
    store = FragmentStore(tmp_path / "fragments.sqlite3", published.get)
    store.record(published[path], fmt, "context", _keys(old))
    store.close()

    # run 2: one new article; the store finds the items by a scan, the join records their bounds
    store = FragmentStore(tmp_path / "fragments.sqlite3", published.get)
    previous = store.previous(path, fmt, "context")
    assert isinstance(previous, Previous) and set(previous) == set(_keys(old))
    calls: list[str] = []
    joined = assemble(fmt, full, _keys(full), _renderer(site, fmt, calls), previous)
    assert isinstance(joined, Split) and joined.bounds is not None
    assert _join(joined) == _renderer(site, fmt)(full)  # byte for byte the whole rendering
    assert len(joined.items) <= 5 < len(full.articles)  # the new item, the head's and runs of kept ones
    assert calls and full.articles[0].slug in calls and len(calls) <= 3
    published[path] = _join(joined)
    assert joined.bounds == item_bounds(published[path], fmt, len(full.articles))[0]  # type: ignore[index]
    store.record(published[path], fmt, "context", _keys(full), joined.bounds)
    store.close()

    # run 3: an article edited in the middle, one dropped; the recorded bounds cut the document
    articles = list(full.articles)
    articles[3] = articles[3].replace(title="Edited", updated=articles[3].modified + timedelta(days=500))
    del articles[-2]
    new = dataclasses.replace(full, articles=tuple(articles))
    store = FragmentStore(tmp_path / "fragments.sqlite3", published.get)
    previous = store.previous(path, fmt, "context")
    assert isinstance(previous, Previous)
    assert list(previous.bounds) == item_bounds(published[path], fmt, len(full.articles))[0]  # type: ignore[index]
    calls.clear()
    joined = assemble(fmt, new, _keys(new), _renderer(site, fmt, calls), previous)
    assert _join(joined) == _renderer(site, fmt)(new)
    assert articles[3].slug in calls and len(calls) <= 3  # the edited item (and the head's), no other
    assert b"".join(joined.parts()) == _renderer(site, fmt)(new)  # type: ignore[union-attr]
    store.close()


@pytest.mark.parametrize("bounds", [[1, 2, 3], [0] * 100, [10**9] * 100])
def test_recorded_bounds_that_do_not_fit_the_document_are_not_used(
    tmp_path: Path, edition: tuple[Site, Edition], bounds: list[int]
) -> None:
    site, full = edition
    data = _renderer(site, "rss")(full)
    bounds = bounds[: len(full.articles) + 1] if len(bounds) > 3 else bounds
    store = FragmentStore(tmp_path / "fragments.sqlite3", {"en/rss.xml": data}.get)
    store.record(data, "rss", "context", _keys(full), bounds)
    store.close()

    store = FragmentStore(tmp_path / "fragments.sqlite3", {"en/rss.xml": data}.get)
    previous = store.previous("en/rss.xml", "rss", "context")
    assert previous is not None  # found again by a scan of the document
    assert [bytes(previous[key]) for key in _keys(full)] == [bytes(item) for item in _split_items(data)]
    store.close()


def _split_items(data: bytes) -> list[bytes]:
    """The RSS items as a reader sees them: each ``<item>`` element's line block."""
    _head, *items = data.split(b"\n    <item>")
    items[-1] = items[-1].split(b"\n  </channel>")[0]
    return [b"    <item>" + item + b"\n" for item in items]


def test_a_large_piece_is_written_as_it_is(tmp_path: Path) -> None:
    big = bytes(range(256)) * 8192  # 2 MiB: passed on without a copy into a chunk
    pieces: list[bytes | memoryview] = [b"<head>", memoryview(big)[1:], b"small", memoryview(big), b"</tail>"]
    staged = StagedFile.write(str(tmp_path), pieces)
    expected = b"".join(pieces)
    assert Path(staged.file).read_bytes() == expected
    assert staged.sha256 == hashlib.sha256(expected).hexdigest() and staged.size == len(expected)


def test_a_path_that_is_also_a_directory_is_refused(tmp_path: Path) -> None:
    files = {f"en/articles/a{n}.html": b"x" for n in range(50)}
    files["en/articles"] = b"a file where a directory goes"
    with pytest.raises(PublishError, match="en/articles: refusing to publish: it is both a file and a directory"):
        publish(files, tmp_path / "out", fsync=False)
    assert not (tmp_path / "out" / "en").exists()


def _article(n: int) -> str:
    return f"---\ntitle: Story {n}\ndate: 2025-01-{1 + n % 28:02}T{n % 24:02}:00:00+00:00\n---\nBody of story {n}.\n"


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(40):
        (folder / f"a{n:03}.md").write_text(_article(n), encoding="utf-8")
    return folder


def _config(tmp_path: Path, sources: Path, target: str) -> Config:
    base = load_config(ROOT / "syndicate.toml").with_overrides(
        sources=[sources], target=tmp_path / target, cache=tmp_path / f"cache-{target}" / "t.sqlite3"
    )
    return replace(base, max_items=30, translation=replace(base.translation, languages=("es",)))


def _publish(config: Config) -> None:
    publish_site(config, stage=Stage(providers=Recorder(config)))


def _tree(config: Config) -> dict[str, str]:
    """Every published file's sha256 (not its mtime: the two targets were written at different times)."""
    return {k: v[0] for k, v in tree_digest(config.target).items() if not k.startswith(".syndicate/")}


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")
def test_a_chain_of_incremental_runs_publishes_what_one_full_build_does(tmp_path: Path, sources: Path) -> None:
    incremental = _config(tmp_path, sources, "incremental")
    _publish(incremental)
    (sources / "new1.md").write_text(_article(100).replace("Story 100", "New one"), encoding="utf-8")
    _publish(incremental)  # joined from the full build's documents (found by a scan)
    (sources / "new2.md").write_text(_article(101).replace("Story 101", "New two"), encoding="utf-8")
    (sources / "a007.md").write_text(_article(7).replace("Body of", "Edited body of"), encoding="utf-8")
    (sources / "a003.md").unlink()
    _publish(incremental)  # joined from the last run's documents (cut by their recorded bounds)

    full = _config(tmp_path, sources, "full")
    _publish(full)
    assert _tree(incremental) == _tree(full)
