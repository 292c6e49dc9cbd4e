"""Outputs a render worker wrote to disk itself (publish.StagedFile): published as bytes would be, and
a large feed never passes through the publishing process's memory."""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

import syndicate.publish as publish
import syndicate.render as render
from syndicate.config import Config
from syndicate.formats import BY_NAME, NAMES
from syndicate.pipeline import build_editions, read_inputs
from syndicate.publish import StagedFile, publish_stream, read_manifest, scratch_directory, target_lock
from syndicate.render.archive import Chain
from tests.test_render_workers import _publish_with, _tree, site  # noqa: F401 (fixture)


def _count_adopted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files the publisher takes as staged files (from now on, in this process)."""
    adopted: list[str] = []
    real = publish._adopt_staged

    def adopt(path: str, staged: StagedFile, destination: str, fsync: bool = False) -> publish._Entry:
        adopted.append(os.path.basename(destination))
        return real(path, staged, destination, fsync)

    monkeypatch.setattr(publish, "_adopt_staged", adopt)
    return adopted


def _staged(target: Path, files: dict[str, bytes]) -> list[tuple[str, None, StagedFile]]:
    with scratch_directory(target) as scratch:
        assert scratch is not None and scratch.parent == target / ".syndicate"
        outputs = [(rel, None, StagedFile.write(str(scratch), data)) for rel, data in files.items()]
        with target_lock(target):
            report = publish_stream(outputs, target)
    assert not list((target / ".syndicate").glob("scratch-*"))  # removed on exit
    return report  # type: ignore[return-value]


def test_staged_files_publish_the_same_files_and_manifest_as_bytes(tmp_path: Path) -> None:
    files = {"en/rss.xml": b"<rss>one</rss>\n", "en/atom.xml": b"<feed>two</feed>\n"}
    with target_lock(tmp_path / "bytes"):
        publish_stream([(rel, None, data) for rel, data in files.items()], tmp_path / "bytes")
    _staged(tmp_path / "staged", files)
    for rel, data in files.items():
        made, reference = tmp_path / "staged" / rel, tmp_path / "bytes" / rel
        assert made.read_bytes() == data
        assert stat.S_IMODE(made.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)  # umask applies
        entry, same = read_manifest(tmp_path / "staged").files[rel], read_manifest(tmp_path / "bytes").files[rel]
        assert (entry.sha256, entry.size) == (same.sha256, same.size)


def test_a_staged_file_equal_to_the_published_one_is_not_written_again(tmp_path: Path) -> None:
    target = tmp_path / "site"
    files = {"en/rss.xml": b"<rss>one</rss>\n", "en/atom.xml": b"<feed>two</feed>\n"}
    _staged(target, files)
    before = {rel: (target / rel).stat().st_ino for rel in files}
    report = _staged(target, {**files, "en/atom.xml": b"<feed>changed</feed>\n"})
    assert report.written == ("en/atom.xml",) and report.unchanged == 1
    assert (target / "en/rss.xml").stat().st_ino == before["en/rss.xml"]
    assert (target / "en/atom.xml").read_bytes() == b"<feed>changed</feed>\n"
    # a file touched behind our back (other mtime, same bytes) is compared by content, and kept
    os.utime(target / "en/rss.xml", ns=(1, 1))
    again = _staged(target, {**files, "en/atom.xml": b"<feed>changed</feed>\n"})
    assert again.written == () and again.unchanged == 2


def test_a_killed_runs_scratch_directory_is_removed_by_the_next(tmp_path: Path) -> None:
    left = tmp_path / "site" / ".syndicate" / "scratch-killed"
    left.mkdir(parents=True)
    (left / "123-1").write_bytes(b"half a feed")
    _staged(tmp_path / "site", {"en/rss.xml": b"<rss/>\n"})
    assert not left.exists()


@pytest.mark.parametrize("fmt", NAMES)
def test_each_format_writes_in_pieces_the_bytes_it_renders(source_only_config: Config, fmt: str) -> None:
    articles, _ = read_inputs(source_only_config)
    publication = source_only_config.site
    for edition in build_editions(publication, articles):
        chain = Chain(edition.language, edition.language)
        for subset in (edition, dataclasses.replace(edition, articles=())):
            whole = BY_NAME[fmt].renderer(publication, subset, ["es"], chain)
            pieces = list(BY_NAME[fmt].writer(publication, subset, ["es"], chain))
            assert b"".join(pieces) == whole
            assert len(pieces) == len(subset.articles) + 2 or not subset.articles


@pytest.mark.parametrize("how", ["whole documents", "feeds in pieces"])
def test_workers_write_large_feeds_themselves_and_the_site_is_the_same_bytes(
    site: Callable[[str], Config],  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """With every output "large", the workers stage them all as files (a feed written piece by piece,
    or rendered whole and then written); the target is byte-identical to a one-process build, the
    fragment store still records every feed, and no scratch file is left."""
    monkeypatch.setattr(render, "_PARALLEL_MIN", 0)
    monkeypatch.setattr(render, "_STAGE_MIN", 0)
    monkeypatch.setattr(render, "_STAGE_ITEMS", 0 if how == "feeds in pieces" else 10**9)
    adopted = _count_adopted(monkeypatch)
    one, two = site("one"), site("two")
    summaries = [_publish_with(one, 1, monkeypatch), _publish_with(two, 2, monkeypatch)]
    assert summaries[0] == dataclasses.replace(summaries[1], target=summaries[0].target)
    assert _tree(one.target) == _tree(two.target)
    tree = _tree(two.target)
    feeds = [p for p in tree if p.endswith(("rss.xml", "atom.xml", "feed.json"))]
    pages = [p for p in tree if "/articles/" in p]
    listings = [p for p in tree if p.endswith("/index.html")]  # the front page joins its lines here: bytes
    assert {"rss.xml", "atom.xml", "feed.json", "index.html"} <= set(adopted)
    others = sorted(set(adopted) - {p.rpartition("/")[2] for p in feeds + pages + listings})
    assert len(adopted) == len(feeds) + len(pages) + len(listings) + len(others) and len(feeds) > 20
    assert others == ["feeds.opml"] and len(listings) > 2
    assert not list((two.target / ".syndicate").glob("scratch-*"))
    import sqlite3

    with sqlite3.connect(two.translation.cache.parent / "fragments.sqlite3") as conn:  # type: ignore[union-attr]
        assert conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == len(feeds)


@pytest.mark.parametrize("read", ["bytes", "anonymous map"])
def test_a_feed_joined_from_fragments_here_is_written_piece_by_piece(
    site: Callable[[str], Config],  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
    read: str,
) -> None:
    """After one new article, the feeds are joined from their published fragments in this process
    (the published documents read as bytes, or, as large ones are, into an anonymous map): written
    into a staged file piece by piece (never joined in memory), and byte-identical to a scratch
    build of the same articles."""
    from tests.test_render_workers import _write_article

    monkeypatch.setattr(publish, "_MAPPED_READ", 0 if read == "anonymous map" else 1 << 40)

    incremental, scratch = site("incremental"), site("scratch")
    _publish_with(incremental, 1, monkeypatch)
    _write_article(incremental.sources.paths[0], 99)
    joined: list[str] = []
    real = render.fragments.assemble

    def assemble(*args: object, **kwargs: object) -> object:
        document = real(*args, **kwargs)  # type: ignore[arg-type]
        if not isinstance(document, bytes):
            joined.append(str(args[0]))
        return document

    monkeypatch.setattr(render.fragments, "assemble", assemble)
    adopted = _count_adopted(monkeypatch)
    again = _publish_with(incremental, 1, monkeypatch)
    assert again.written > 0 and {"rss", "atom", "json"} <= set(joined)
    assert len(adopted) == len(joined)  # every joined feed went through a staged file
    monkeypatch.setattr(render.fragments, "assemble", real)
    _publish_with(scratch, 1, monkeypatch)
    assert _tree(incremental.target) == _tree(scratch.target)


def test_a_large_published_file_is_read_on_demand(tmp_path: Path) -> None:
    target = tmp_path / "site"
    big = b"<rss>" + b"x" * (publish._MAPPED_READ) + b"</rss>\n"
    _staged(target, {"en/rss.xml": big, "en/atom.xml": b"<feed/>\n"})
    manifest = read_manifest(target)
    large, small = manifest.published("en/rss.xml"), manifest.published("en/atom.xml")
    assert isinstance(large, publish.PublishedFile) and len(large) == len(big)
    assert bytes(large.range(0, 5)) == b"<rss>" and large.mapped()[:] == big
    assert small == b"<feed/>\n"
    (target / "en/rss.xml").write_bytes(b"changed behind our back")
    assert read_manifest(target).published("en/rss.xml") is None  # not intact: never cut
