"""The publish journal is written in pieces, never built as one document: the same bytes as
``json.dumps(doc, sort_keys=True, indent=2)``, and a killed run's journal still rolls back."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate import publish
from syndicate.publish import journal_pieces


def _reference(backup: str, files: list[tuple[str, bool]], created: list[str]) -> bytes:
    doc = {
        "version": 1,
        "backup": backup,
        "files": [{"path": rel, "existed": had_old} for rel, had_old in files],
        "created": sorted(created),
    }
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


_paths = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    files=st.lists(st.tuples(_paths, st.booleans()), max_size=30),
    created=st.lists(_paths, max_size=6, unique=True),
)
def test_pieces_are_the_documents_bytes(files: list[tuple[str, bool]], created: list[str]) -> None:
    pieces = list(journal_pieces("backup-x1", files, created))
    assert b"".join(pieces) == _reference("backup-x1", files, created)


def test_a_large_journal_comes_in_bounded_pieces() -> None:
    files = [(f"en/articles/article-{n:05d}.html", n % 3 == 0) for n in range(5000)]
    pieces = list(journal_pieces("backup-abc", files, ["en", "en/articles"]))
    assert len(pieces) > 5000 // 512
    assert max(len(piece) for piece in pieces) < 100_000
    assert b"".join(pieces) == _reference("backup-abc", files, ["en", "en/articles"])
    doc = json.loads(b"".join(pieces))
    assert doc["files"][3] == {"path": "en/articles/article-00003.html", "existed": True}


def test_written_journal_is_read_back(tmp_path: Path) -> None:
    state = tmp_path / ".syndicate"
    state.mkdir()
    backup = state / "backup-abc123"
    backup.mkdir()
    files = [("en/rss.xml", True), ("en/articles/ümlaut é.html", False)]
    journal = publish._Journal(state, backup, files, frozenset({"en/articles"}))
    journal._write(fsync=False)
    loaded = publish._Journal.load(state)
    assert loaded is not None
    assert loaded.files == files
    assert loaded.created == frozenset({"en/articles"})
    assert loaded.backup == backup
