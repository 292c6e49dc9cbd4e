"""The read loop's plain-string path: the parse cache keyed by listed file name, one symlink check per link.

A run in which one file changed takes every other file from the parse cache
by its listed name (no pathlib object per file); the cache key is the absolute
path, so a relative and an absolute listing of the same directory share it.
A regular file is opened as listed (no second ``lstat``); a symlink is still
resolved, and a regular file swapped for a symlink after the listing is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import syndicate.sources as sources
from syndicate.config import SourceOptions
from syndicate.errors import InputError
from syndicate.incremental import ParseCache
from syndicate.sources import list_inputs, read_articles


def _article(directory: Path, name: str, title: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {title}\ndate: 2025-04-10 18:30\n---\n\nThe text of {title}.\n", encoding="utf-8")
    return path


def _read(options: SourceOptions, cache_file: Path) -> tuple[tuple[str, ...], int, list[str]]:
    """(titles, parse cache hits, names of the files parsed) of one run."""
    parsed: list[str] = []
    real = sources.read_file

    def counting(path: Path | str, *args: object, **kwargs: object) -> object:
        parsed.append(os.path.basename(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    sources.read_file = counting  # type: ignore[assignment]
    cache = ParseCache(cache_file, options, "en")
    try:
        result = read_articles(options, "en", cache=cache, workers=1)
    finally:
        cache.close()
        sources.read_file = real
    return tuple(a.title for a in result.articles), cache.hits, parsed


def test_one_changed_file_is_the_only_one_parsed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for n in range(5):
        _article(src, f"2025/{n:02d}.md", f"Story {n}")
    options = SourceOptions(paths=(src,), timezone="UTC")
    cache_file = tmp_path / "cache" / "parsed.sqlite3"
    first, hits, parsed = _read(options, cache_file)
    assert hits == 0 and sorted(parsed) == [f"{n:02d}.md" for n in range(5)]
    changed = _article(src, "2025/03.md", "Story three, revised")
    os.utime(changed, ns=(1, 1_700_000_000_000_000_000))  # a new mtime whatever the clock's resolution
    titles, hits, parsed = _read(options, cache_file)
    assert parsed == ["03.md"] and hits == 4
    assert sorted(titles) == sorted([t for t in first if t != "Story 3"] + ["Story three, revised"])


def test_a_relative_listing_is_keyed_by_its_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two sites with the same relative source path, same sizes and mtimes: never each other's articles."""
    for site in ("a", "b"):
        for n in range(3):
            path = _article(tmp_path / site / "src", f"{n}.md", f"Story {site.upper()}{n}")
            os.utime(path, ns=(1, 1_700_000_000_000_000_000))
    cache_file = tmp_path / "parsed.sqlite3"
    relative = SourceOptions(paths=(Path("src"),), timezone="UTC")
    monkeypatch.chdir(tmp_path / "a")
    assert [f.filename for f in list_inputs(relative).files] == ["src/0.md", "src/1.md", "src/2.md"]
    titles_a, hits, parsed = _read(relative, cache_file)
    assert hits == 0 and len(parsed) == 3
    monkeypatch.chdir(tmp_path / "b")
    titles_b, hits, parsed = _read(relative, cache_file)
    assert hits == 0 and len(parsed) == 3
    assert sorted(titles_a) == ["Story A0", "Story A1", "Story A2"]
    assert sorted(titles_b) == ["Story B0", "Story B1", "Story B2"]
    monkeypatch.chdir(tmp_path / "a")
    assert _read(relative, cache_file) == (titles_a, 3, [])  # and each site's rows are its own


def test_a_name_that_is_not_utf8_is_cached(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    name = os.fsdecode(b"caf\xe9.md")  # Latin-1 bytes: not UTF-8
    try:
        _article(src, name, "Café")
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses a name that is not UTF-8")
    options = SourceOptions(paths=(src,), timezone="UTC")
    cache_file = tmp_path / "parsed.sqlite3"
    assert _read(options, cache_file)[1:] == (0, [name])
    titles, hits, parsed = _read(options, cache_file)
    assert (titles, hits, parsed) == (("Café",), 1, [])


def test_the_listing_marks_symlinks_and_they_are_still_read_through(tmp_path: Path) -> None:
    src = tmp_path / "src"
    target = _article(src, "real/one.md", "The original")
    (src / "link.md").symlink_to(target)
    files = {f.relative: f for f in list_inputs(SourceOptions(paths=(src,), timezone="UTC")).files}
    assert files["real/one.md"].linked is False and files["link.md"].linked is True
    assert files["link.md"].size == target.stat().st_size
    result = read_articles(SourceOptions(paths=(src,), timezone="UTC"), "en", workers=1)
    assert [a.title for a in result.articles] == ["The original"] and result.files == 2 and not result.errors


def test_a_file_swapped_for_a_symlink_after_the_listing_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    victim = _article(src, "post.md", "Listed as a regular file")
    outside = _article(tmp_path / "elsewhere", "secret.md", "Never published")
    options = SourceOptions(paths=(src,), timezone="UTC")
    listing = list_inputs(options)
    assert [f.linked for f in listing.files] == [False]
    victim.unlink()
    victim.symlink_to(outside)  # after the listing judged it: opened as listed, never followed
    result = read_articles(options, "en", listing=listing, workers=1)
    assert result.articles == ()
    (error,) = result.errors
    assert isinstance(error, InputError) and "post.md" in str(error) and "symlink" in str(error)
    assert "\n" not in str(error) and "Never published" not in str(error)


def test_an_undated_article_is_dated_by_the_mtime_it_was_listed_with(tmp_path: Path) -> None:
    """The default date and the parse cache's key come from the same ``lstat`` (the listing's)."""
    src = tmp_path / "src"
    path = src / "undated.md"
    src.mkdir()
    path.write_text("---\ntitle: No date given\n---\n\nText.\n", encoding="utf-8")
    os.utime(path, ns=(1, 1_700_000_000_999_999_999))  # int(st_mtime) rounds this one up
    options = SourceOptions(paths=(src,), timezone="UTC")
    listing = list_inputs(options)
    os.utime(path, ns=(1, 1_600_000_000_000_000_000))  # touched after the listing
    (article,) = read_articles(options, "en", listing=listing, workers=1).articles
    assert article.published.timestamp() == 1_700_000_001  # as listed, not as stat'ed now (1_600_000_000)


def _cached_run(options: SourceOptions, cache_file: Path) -> list[object]:
    cache = ParseCache(cache_file, options, "en")
    try:
        return list(read_articles(options, "en", cache=cache, workers=1).articles)
    finally:
        cache.close()


def test_an_unchanged_files_articles_come_with_their_render_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate.models import Article
    from syndicate.render import _repr_key, content_key, forget_keys

    src = tmp_path / "src"
    for n in range(3):
        _article(src, f"2025/{n:02d}.md", f"Story {n}")
    options = SourceOptions(paths=(src,), timezone="UTC")
    cache_file = tmp_path / "cache" / "parsed.sqlite3"
    first = _cached_run(options, cache_file)
    expected = [_repr_key(a.key_text()) for a in first if isinstance(a, Article)]
    forget_keys()
    digested: list[str] = []
    real = Article.key_text

    def counting(self: Article) -> str:
        digested.append(self.slug)
        return real(self)

    monkeypatch.setattr(Article, "key_text", counting)
    again = _cached_run(options, cache_file)
    assert [content_key(a) for a in again if isinstance(a, Article)] == expected
    assert digested == []  # the keys came with the cached articles: none digested again
    forget_keys()

    # a row whose keys do not match its articles (damage, a hand edit) gives none: they are made again
    import sqlite3

    with sqlite3.connect(cache_file) as conn:
        conn.execute("UPDATE parsed SET keys = 'x y z'")
    conn.close()
    third = _cached_run(options, cache_file)
    assert [content_key(a) for a in third if isinstance(a, Article)] == expected
    assert len(digested) == 3
    forget_keys()


def test_a_parse_cache_of_an_older_schema_is_rebuilt_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import sqlite3

    src = tmp_path / "src"
    _article(src, "2025/00.md", "Story")
    options = SourceOptions(paths=(src,), timezone="UTC")
    cache_file = tmp_path / "cache" / "parsed.sqlite3"
    cache_file.parent.mkdir()
    with sqlite3.connect(cache_file) as conn:  # what syndicate before the render keys wrote (schema 1)
        conn.execute("CREATE TABLE meta (schema INTEGER)")
        conn.execute("INSERT INTO meta VALUES (1)")
        conn.execute(
            "CREATE TABLE parsed (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, options TEXT, articles BLOB)"
        )
    conn.close()
    with caplog.at_level(logging.INFO, logger="syndicate"):
        titles, hits, parsed = _read(options, cache_file)
    assert titles == ("Story",) and hits == 0 and parsed == ["00.md"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # an upgrade, not damage
    assert any("older version of syndicate" in r.getMessage() for r in caplog.records)
    assert not cache_file.with_name("parsed.sqlite3.damaged").exists()
    assert _read(options, cache_file)[1:] == (1, [])  # rebuilt in the new schema: the next run hits


def test_a_cache_of_a_newer_or_unknown_schema_is_still_damage(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging
    import sqlite3

    cache_file = tmp_path / "parsed.sqlite3"
    with sqlite3.connect(cache_file) as conn:
        conn.execute("CREATE TABLE meta (schema INTEGER)")
        conn.execute("INSERT INTO meta VALUES (99)")
        conn.execute(
            "CREATE TABLE parsed (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, options TEXT,"
            " articles BLOB, keys TEXT)"
        )
    conn.close()
    with caplog.at_level(logging.WARNING, logger="syndicate"):
        ParseCache(cache_file, SourceOptions(paths=(tmp_path,), timezone="UTC"), "en").close()
    assert any("is damaged (schema 99" in r.getMessage() for r in caplog.records)
    assert cache_file.with_name("parsed.sqlite3.damaged").exists()
