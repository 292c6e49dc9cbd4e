"""Caches checked on error, not on open (issue 13): damage a run meets while it uses a cache.

Opening a cache reads its schema and version only, no ``PRAGMA quick_check`` (which reads the whole
file).  For each of the five caches a real cache is built by a real run (40 articles, English and Spanish
by apertium), then damaged: garbage pages in the middle of the file (opening does not see
them, quick_check does), or the file cut to half (SQLite sees that as it reads the first page: the
header counts more pages than the file has).  The next run, one new article, exits 0, publishes the
same bytes as a run without any cache, warns once naming the file and leaves it moved aside
(``<name>.damaged``); the run after that, one more article, works and re-creates the cache.
A value the pickled caches cannot load (the variant and parse caches) is damage met in use too.
Two connections to one damaged file (the segment cache's language threads) still make one warning.
Real apertium, real SQLite.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from syndicate.config import Config, load_config
from syndicate.errors import ExitCode
from syndicate.pipeline import publish_site
from syndicate.translate.cache import CacheEntry, SegmentCache
from tests.test_page_lines import _article

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")

ARTICLES = 40
NEW = (ARTICLES + 100, ARTICLES + 101)  # the articles the second and third runs add
CACHES = [  # file, what warnings call it, its main table
    ("translations.sqlite3", "translation cache", "segments"),
    ("variants.sqlite3", "variant cache", "variants"),
    ("parsed.sqlite3", "parse cache", "parsed"),
    ("fragments.sqlite3", "fragment store", "documents"),
    ("lines.sqlite3", "line store", "lines"),
]


def _config(root: Path, sources: Path) -> Config:
    """A site of ``sources`` published to ``root/feeds``, its five caches in ``root/cache``."""
    base = load_config(ROOT / "syndicate.toml").with_overrides(
        sources=[sources], target=root / "feeds", cache=root / "cache" / "translations.sqlite3"
    )
    return replace(base, translation=replace(base.translation, languages=("es",)))


def _write_articles(sources: Path, numbers: range | tuple[int, ...]) -> None:
    sources.mkdir(exist_ok=True)
    for n in numbers:
        (sources / f"a{n:03}.md").write_text(_article(n), encoding="utf-8")


def _published(config: Config) -> dict[str, str]:
    """Every published file (not syndicate's own state) -> sha256 of its bytes."""
    return {
        path.relative_to(config.target).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(config.target.rglob("*"))
        if path.is_file() and not path.relative_to(config.target).as_posix().startswith(".syndicate/")
    }


@dataclass(frozen=True)
class Uncached:
    """What runs without any cache publish: after the second run's inputs, and after the third's."""

    second: dict[str, str]
    third: dict[str, str]


@pytest.fixture(scope="module")
def uncached(tmp_path_factory: pytest.TempPathFactory) -> Uncached:
    """Each from scratch: an empty cache directory and an empty target."""
    outputs = []
    for count in (1, 2):
        root = tmp_path_factory.mktemp(f"uncached{count}")
        _write_articles(root / "articles", range(ARTICLES))
        _write_articles(root / "articles", NEW[:count])
        config = _config(root, root / "articles")
        assert publish_site(config).exit_code == ExitCode.OK
        outputs.append(_published(config))
    return Uncached(*outputs)


def _page_size(path: Path) -> int:
    size = int.from_bytes(path.read_bytes()[16:18], "big")
    return 65536 if size == 1 else size


def _readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)


def _quick_check(path: Path) -> str:
    conn = _readonly(path)
    try:
        return str(conn.execute("PRAGMA quick_check").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()


def _garbage_pages(path: Path) -> None:
    """Overwrite pages in the middle of the file (past its first two: the schema and the version that
    opening reads) with bytes that are no page: what opening reads still reads, quick_check fails."""
    page = _page_size(path)
    data = bytearray(path.read_bytes())
    pages = len(data) // page
    assert pages >= 6, f"{path.name}: {pages} pages, too small to damage past the pages opening reads"
    first, last = pages // 2, max(pages // 2 + 1, 3 * pages // 4)
    data[first * page : last * page] = b"\xa5" * ((last - first) * page)
    path.write_bytes(bytes(data))
    conn = _readonly(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] >= 2
        version = "schema_version" if path.name == "translations.sqlite3" else "meta"
        assert conn.execute(f"SELECT * FROM {version}").fetchall()
    finally:
        conn.close()
    assert _quick_check(path) != "ok"


def _cut_to_half(path: Path) -> None:
    """Truncate the file to half its size: SQLite itself refuses it as it reads the first page."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.truncate(size // 2)
    conn = _readonly(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="malformed"):
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()


DAMAGE: dict[str, Callable[[Path], None]] = {"garbage pages": _garbage_pages, "cut to half": _cut_to_half}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize(("name", "what", "table"), CACHES, ids=[c[0] for c in CACHES])
def test_a_cache_damaged_between_runs_costs_one_warning_and_is_rebuilt_by_the_next_run(
    tmp_path: Path, uncached: Uncached, caplog: pytest.LogCaptureFixture, name: str, what: str, table: str, damage: str
) -> None:
    config, path = _built(tmp_path, name)
    DAMAGE[damage](path)
    _next_two_runs(config, path, what, table, uncached, caplog)


@pytest.mark.parametrize(("name", "what", "table", "column"), [
    ("variants.sqlite3", "variant cache", "variants", "entry"),
    ("parsed.sqlite3", "parse cache", "parsed", "articles"),
])  # fmt: skip
def test_a_stored_value_that_does_not_load_is_damage_too(
    tmp_path: Path, uncached: Uncached, caplog: pytest.LogCaptureFixture, name: str, what: str, table: str, column: str
) -> None:
    """Pages SQLite accepts, values the pickled caches cannot load: handled as damage met in use."""
    config, path = _built(tmp_path, name)
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE {table} SET {column} = X'80ff00'")
    conn.close()
    assert _quick_check(path) == "ok"
    _next_two_runs(config, path, what, table, uncached, caplog)


def _built(root: Path, name: str) -> tuple[Config, Path]:
    """A site of :data:`ARTICLES` articles published once, and the path of its cache ``name``."""
    _write_articles(root / "articles", range(ARTICLES))
    config = _config(root, root / "articles")
    assert publish_site(config).exit_code == ExitCode.OK
    path = root / "cache" / name
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(c[0] for c in CACHES)  # closed, no -wal left
    return config, path


def _next_two_runs(
    config: Config, path: Path, what: str, table: str, uncached: Uncached, caplog: pytest.LogCaptureFixture
) -> None:
    """One new article: the run meets the damage; one more: the run re-creates the cache."""
    sources = config.sources.paths[0]
    _write_articles(sources, NEW[:1])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="syndicate"):
        summary = publish_site(config)
    assert summary.exit_code == ExitCode.OK
    assert _published(config) == uncached.second  # the same bytes as a run without any cache
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and str(path) in r.getMessage()]
    assert len(warned) == 1 and warned[0].startswith(f"{what} {path} is damaged ("), warned
    assert path.with_name(f"{path.name}.damaged").is_file()
    others = [p.name for p in path.parent.iterdir() if p.name.endswith(".damaged") and p.name != f"{path.name}.damaged"]
    assert not others

    _write_articles(sources, NEW[1:])
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="syndicate"):
        summary = publish_site(config)
    assert summary.exit_code == ExitCode.OK
    assert _published(config) == uncached.third
    assert not caplog.records, caplog.text
    assert _quick_check(path) == "ok"
    conn = _readonly(path)
    try:
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] > 0
    finally:
        conn.close()


def test_two_connections_meeting_one_damaged_file_warn_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """As the language threads do, each with its own connection: the first to meet the damage moves
    the file aside and warns, the other runs without it too and says so at the info level only."""
    path = tmp_path / "translations.sqlite3"
    entries = [CacheEntry(f"{n:064x}", "apertium", "en", "es", f"texto {n} " * 30) for n in range(300)]
    with SegmentCache(path) as cache:
        cache.put_many(entries)
    _garbage_pages(path)
    with caplog.at_level(logging.INFO, logger="syndicate"), SegmentCache(path) as one, SegmentCache(path) as two:
        assert one.get_many(e.key for e in entries) == {}
        assert two.get_many(e.key for e in entries) == {}
        two.put_many(entries[:1])  # in memory for the rest of the run, as one's
        assert two.get_many([entries[0].key]) == {entries[0].key: entries[0].translation}
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            logging.WARNING,
            f"translation cache {path} is damaged (database disk image is malformed); running without it,"
            " moved aside to translations.sqlite3.damaged for the next run to rebuild",
        ),
        (
            logging.INFO,
            f"translation cache {path} is damaged (database disk image is malformed); running without it"
            " (moved aside already)",
        ),
    ]
    assert not path.exists() and path.with_name("translations.sqlite3.damaged").is_file()
