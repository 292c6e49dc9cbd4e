"""The SQLite segment cache: hits, keys, stats, and surviving every kind of damaged file."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import pytest

from syndicate.translate.cache import CacheEntry, SegmentCache, default_path, segment_key


def _entry(text: str, translation: str, provider: str = "apertium", target: str = "es") -> CacheEntry:
    return CacheEntry(segment_key(provider, "en", target, "g1", text), provider, "en", target, translation)


def test_hit_and_miss_and_persistence(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    with SegmentCache(path) as cache:
        cache.put_many([_entry("Hello", "Hola"), _entry("World", "Mundo")])
        hit, miss = segment_key("apertium", "en", "es", "g1", "Hello"), segment_key("apertium", "en", "es", "g1", "x")
        assert cache.get_many([hit, miss]) == {hit: "Hola"}
    with SegmentCache(path) as reopened:  # kept between runs
        assert reopened.get_many([hit]) == {hit: "Hola"}


def test_many_keys_in_one_lookup(tmp_path: Path) -> None:
    with SegmentCache(tmp_path / "c.sqlite3") as cache:
        entries = [_entry(f"text {n}", f"texto {n}") for n in range(1500)]
        cache.put_many(entries)
        assert len(cache.get_many(e.key for e in entries)) == 1500


def test_key_changes_with_everything_that_changes_the_translation() -> None:
    base = ("apertium:eng-spa:v1", "en", "es", "g1", "Hello")
    key = segment_key(*base)
    variants = [
        ("apertium:eng-spa:v2", "en", "es", "g1", "Hello"),  # provider version/config
        ("libre@abc", "en", "es", "g1", "Hello"),  # provider
        ("apertium:eng-spa:v1", "en", "ca", "g1", "Hello"),  # target
        ("apertium:eng-spa:v1", "es", "es", "g1", "Hello"),  # source
        ("apertium:eng-spa:v1", "en", "es", "g2", "Hello"),  # glossary version
        ("apertium:eng-spa:v1", "en", "es", "g1", "Hello "),  # text
    ]
    keys = {segment_key(*v) for v in variants}
    assert key not in keys and len(keys) == len(variants)
    assert segment_key("a", "b|c", "d", "e", "f") != segment_key("a", "b", "c|d", "e", "f")  # unambiguous
    assert segment_key(*base) == key  # stable


def test_stats_and_clear(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with SegmentCache(path) as cache:
        cache.put_many([_entry("a", "A"), _entry("b", "B"), _entry("a", "A", target="ca"), _entry("a", "A", "google")])
        stats = cache.stats()
        assert stats["entries"] == 4 and stats["path"] == str(path) and stats["size_bytes"] > 0
        assert stats["providers"] == {"apertium": {"en->es": 2, "en->ca": 1}, "google": {"en->es": 1}}
        assert cache.clear() == 4
        assert cache.stats()["entries"] == 0 and cache.clear() == 0


def test_default_path_is_in_the_user_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "syndicate" / "translations.sqlite3"
    with SegmentCache() as cache:
        cache.put_many([_entry("a", "A")])
        assert cache.stats()["path"] == str(default_path())


def _damaged(path: Path, caplog: pytest.LogCaptureFixture, expect: str = "damaged") -> None:
    """Opening ``path`` warns, moves it aside, and yields a working cache."""
    with caplog.at_level(logging.WARNING, logger="syndicate"), SegmentCache(path) as cache:
        cache.put_many([_entry("Hello", "Hola")])
        key = _entry("Hello", "Hola").key
        assert cache.get_many([key]) == {key: "Hola"}
        assert cache.stats()["path"] == str(path)
    assert any(expect in r.getMessage() and str(path) in r.getMessage() for r in caplog.records), caplog.text
    with SegmentCache(path) as again:  # the rebuilt file is a proper cache now
        assert again.get_many([key]) == {key: "Hola"}


def test_garbage_file_is_reported_and_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(os.urandom(4096))
    _damaged(path, caplog)
    assert (tmp_path / "c.sqlite3.damaged").exists()


def test_corrupted_pages_are_met_in_use_moved_aside_and_rebuilt_next_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Opening reads the schema only (no quick_check): the query that meets the smashed pages makes the
    cache a miss for the rest of the run (in memory), with one warning naming the file, moved aside."""
    path = tmp_path / "c.sqlite3"
    entries = [_entry(f"text {n}" * 20, f"texto {n}" * 20) for n in range(400)]
    with SegmentCache(path) as cache:
        cache.put_many(entries)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    data[4096 * 3 : 4096 * 6] = b"\xff" * (4096 * 3)  # smash b-tree pages, keep the header
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="syndicate"), SegmentCache(path) as cache:
        assert not caplog.records  # opened without a word: nothing read the smashed pages yet
        assert cache.get_many([e.key for e in entries]) == {}  # met here: a miss, never an error
        assert [r.getMessage() for r in caplog.records if str(path) in r.getMessage()] == [
            f"translation cache {path} is damaged (database disk image is malformed); running without it,"
            " moved aside to c.sqlite3.damaged for the next run to rebuild"
        ]
        assert (tmp_path / "c.sqlite3.damaged").exists() and not path.exists()
        cache.put_many([_entry("Hello", "Hola")])  # the rest of the run: in memory
        assert cache.get_many([_entry("Hello", "Hola").key]) == {_entry("Hello", "Hola").key: "Hola"}
        assert cache.stats()["path"] == ":memory:"
    assert len(caplog.records) == 1
    hello = _entry("Hello", "Hola")
    with SegmentCache(path) as fresh:  # the next run: a new file, empty
        assert fresh.get_many([entries[0].key, hello.key]) == {} and fresh.stats()["path"] == str(path)
        fresh.put_many([hello])
    with SegmentCache(path) as again:
        assert again.get_many([hello.key]) == {hello.key: "Hola"}
    assert len(caplog.records) == 1


def test_wrong_schema_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE segments (key TEXT, value TEXT)")
    conn.commit()
    conn.close()
    _damaged(path, caplog, expect="unexpected tables")


def test_newer_schema_version_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite3"
    SegmentCache(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    _damaged(path, caplog, expect="schema version")


def test_unusable_location_falls_back_to_memory(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    with caplog.at_level(logging.WARNING, logger="syndicate"), SegmentCache(blocker / "c.sqlite3") as cache:
        cache.put_many([_entry("Hello", "Hola")])
        assert cache.get_many([_entry("Hello", "Hola").key]) == {_entry("Hello", "Hola").key: "Hola"}
        assert cache.stats()["path"] == ":memory:"
    assert any("running without a cache" in r.getMessage() for r in caplog.records)


def test_damage_while_running_is_recovered(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite3"
    with caplog.at_level(logging.WARNING, logger="syndicate"), SegmentCache(path) as cache:
        cache.put_many([_entry("a", "A")])
        cache._conn.execute("DROP TABLE segments")  # simulate another tool breaking the file
        assert cache.get_many([_entry("a", "A").key]) == {}  # warning, a miss: never fatal
        cache.put_many([_entry("b", "B")])  # the rest of the run in memory
        assert cache.get_many([_entry("b", "B").key]) == {_entry("b", "B").key: "B"}
    assert [r.getMessage() for r in caplog.records] == [
        f"translation cache {path} failed (no such table: segments); running without it"
    ]  # no damage SQLite reports: the file stays, and the next open's schema check rebuilds it
    assert path.exists() and not (tmp_path / "c.sqlite3.damaged").exists()
    _damaged(path, caplog, expect="unexpected tables")
    assert (tmp_path / "c.sqlite3.damaged").exists()


def test_memory_cache() -> None:
    with SegmentCache.in_memory() as cache:
        cache.put_many([_entry("a", "A")])
        assert cache.stats()["entries"] == 1 and cache.stats()["size_bytes"] > 0
        assert cache.stats()["path"] == ":memory:"
