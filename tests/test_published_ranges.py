"""A large published feed is never read whole to be joined again: its kept items are ranges of
the published file (``publish.FileRange``), read a megabyte at a time as the joined document is
written; a file changed in place meanwhile is a one-line error, never a short or mixed copy."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from syndicate import publish
from syndicate.errors import PublishError
from syndicate.publish import FileRange, PublishedFile, StagedFile
from syndicate.render import fragments


def _published(tmp_path: Path, data: bytes) -> PublishedFile:
    path = tmp_path / "rss.xml"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    return PublishedFile(str(path), fd, len(data))


def test_ranges_are_read_exactly_and_in_chunks(tmp_path: Path) -> None:
    data = bytes(range(256)) * 20_000  # 5 MB
    source = _published(tmp_path, data)
    piece = source.range(1000, 4_500_000)
    assert len(piece) == 4_499_000
    assert bytes(piece) == data[1000:4_500_000]
    chunks = list(piece.chunks(1 << 20))
    assert len(chunks) == 5 and max(map(len, chunks)) == 1 << 20
    assert b"".join(chunks) == data[1000:4_500_000]


def test_a_staged_file_of_mixed_pieces_has_the_joined_bytes_and_their_digest(tmp_path: Path) -> None:
    data = b"".join(b"    <item>%06d</item>\n" % n for n in range(200_000))  # 4.4 MB
    source = _published(tmp_path, data)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pieces = [
        b"<head>\n",
        source.range(0, 2_000_000),
        memoryview(b"<new/>\n"),
        source.range(10, 20),
        source.range(2_000_000, len(data)),
        b"</tail>\n",
    ]
    expected = b"<head>\n" + data[:2_000_000] + b"<new/>\n" + data[10:20] + data[2_000_000:] + b"</tail>\n"
    staged = StagedFile.write(str(scratch), pieces)
    assert Path(staged.file).read_bytes() == expected
    assert staged.sha256 == hashlib.sha256(expected).hexdigest() and staged.size == len(expected)


def test_a_file_shortened_in_place_is_an_error_naming_it(tmp_path: Path) -> None:
    data = b"x" * (3 << 20)
    source = _published(tmp_path, data)
    (tmp_path / "rss.xml").write_bytes(b"x" * 100)  # truncated in place: the descriptor sees it
    with pytest.raises(PublishError, match=r"rss\.xml: changed while publishing; nothing was replaced, run again"):
        b"".join(source.range(0, len(data)).chunks())
    with pytest.raises(PublishError, match="changed while publishing"):
        source.mapped()


def test_a_replaced_file_is_still_read_as_it_was_found(tmp_path: Path) -> None:
    data = b"y" * (2 << 20)
    source = _published(tmp_path, data)
    other = tmp_path / "new.xml"
    other.write_bytes(b"z" * 10)
    other.replace(tmp_path / "rss.xml")  # a rename over it: the open descriptor keeps the old file
    assert bytes(source.range(0, len(data))) == data


def test_previous_cuts_runs_of_a_published_file_as_ranges(tmp_path: Path) -> None:
    items = [b"    <item>%d</item>\n" % n for n in range(5)]
    head, tail = b"<rss>\n  <channel>\n", b"  </channel>\n</rss>\n"
    document = head + b"".join(items) + tail
    found = fragments.item_bounds(document, "rss", 5)
    assert found is not None
    source = _published(tmp_path, document)
    previous = fragments.Previous(source, ["a", "b", "c", "d", "e"], *found)
    run = previous._run(1, 3)
    assert isinstance(run, FileRange) and bytes(run) == b"".join(items[1:4])
    split = fragments.Split(b"H", [previous["a"], b"<new>", run], b"T", b"")
    assert split.join(split.items) == b"H" + items[0] + b"<new>" + b"".join(items[1:4]) + b"T"


def test_the_store_digests_a_published_file_without_reading_it_whole(tmp_path: Path) -> None:
    data = b"q" * (3 << 20) + b"end"
    source = _published(tmp_path, data)
    assert fragments._digest(source) == hashlib.sha256(data).hexdigest()
    assert len(data) >= publish._MAPPED_READ
