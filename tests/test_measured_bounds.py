"""A full build's feeds written by the render workers record where their items start
(``fragments.Measured``): the bounds are exactly what scanning the document finds, so the next
run cuts the published feed by them without reading it whole; pieces that do not look like a
document's (a missing mark, a wrong count) give no bounds, and the run scans instead."""

from __future__ import annotations

import array
import hashlib
import sqlite3
from collections.abc import Callable

import pytest

import syndicate.render as render
from syndicate.config import Config
from syndicate.formats import BY_NAME
from syndicate.pipeline import build_editions, read_inputs
from syndicate.render import fragments
from syndicate.render.archive import Chain
from tests.test_render_workers import _publish_with, _tree, site  # noqa: F401 (fixture)


def _pieces(config: Config, fmt: str) -> list[tuple[list[bytes], int]]:
    articles, _ = read_inputs(config)
    out = []
    for edition in build_editions(config.site, articles):
        chain = Chain(edition.language, edition.language)
        out.append((list(BY_NAME[fmt].writer(config.site, edition, ["es"], chain)), len(edition.articles)))
    return out


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_measured_bounds_are_the_scanned_ones(source_only_config: Config, fmt: str) -> None:
    for pieces, count in _pieces(source_only_config, fmt):
        measured = fragments.Measured(fmt, pieces)
        document = b"".join(measured)
        assert document == b"".join(pieces)
        scanned = fragments.item_bounds(document, fmt, count)
        assert scanned is not None
        assert measured.bounds(count) == list(scanned[0])


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_pieces_that_are_not_a_documents_give_no_bounds(source_only_config: Config, fmt: str) -> None:
    (pieces, count), *_ = _pieces(source_only_config, fmt)
    assert count >= 2
    broken = [pieces[0], b"<odd/>" + pieces[1], *pieces[2:]]  # an item without its mark
    merged = [pieces[0], pieces[1] + pieces[2], *pieces[3:]]  # two items in one piece
    no_tail = pieces[:-1]
    for variant, items in ((broken, count), (merged, count), (no_tail, count)):
        measured = fragments.Measured(fmt, variant)
        list(measured)
        assert measured.bounds(items) is None
    measured = fragments.Measured(fmt, pieces)
    list(measured)
    assert measured.bounds(count + 1) is None and measured.bounds(0) is None
    assert fragments.Measured("html", pieces).bounds(count) is None


def test_a_full_builds_worker_feeds_record_their_bounds(
    site: Callable[[str], Config],  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(render, "_PARALLEL_MIN", 0)
    monkeypatch.setattr(render, "_STAGE_MIN", 0)
    monkeypatch.setattr(render, "_STAGE_ITEMS", 0)  # every feed written by a worker, in pieces
    config = site("two")
    _publish_with(config, 2, monkeypatch)
    tree = _tree(config.target)
    feeds = {p: data for p, data in tree.items() if p.endswith(("rss.xml", "atom.xml", "feed.json"))}
    by_digest = {}
    for path, data in feeds.items():
        by_digest[hashlib.sha256(data).hexdigest()] = (path, data)
    with sqlite3.connect(config.translation.cache.parent / "fragments.sqlite3") as conn:  # type: ignore[union-attr]
        rows = conn.execute("SELECT digest, context, keys, bounds FROM documents").fetchall()
    assert len(rows) == len(feeds) > 20
    for digest, context, keys, packed in rows:
        path, data = by_digest[digest]
        fmt = context.split("|")[0]
        count = len(keys.split(","))
        assert packed is not None, path
        recorded = array.array("q")
        recorded.frombytes(packed)
        scanned = fragments.item_bounds(data, fmt, count)
        assert scanned is not None and list(recorded) == list(scanned[0]), path
