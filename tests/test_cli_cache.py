"""``syndicate cache clear`` and the build caches beside the translation cache (parsed.sqlite3,
fragments.sqlite3, lines.sqlite3): kept and named by default, deleted with ``--all``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from syndicate.cli import app
from tests.test_cache_commands import ROWS, _fill, _on_a_terminal, _stats
from tests.test_ops import write_config

runner = CliRunner()
BUILD = ("parsed.sqlite3", "fragments.sqlite3", "lines.sqlite3")


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _published_site(site_dir: Path) -> tuple[Path, Path]:
    """A real publish with its caches in site_dir/cache: every build cache exists afterwards."""
    config = write_config(site_dir)
    cache = site_dir / "cache" / "translations.sqlite3"
    config.write_text(config.read_text() + f'\n[translation]\ncache = "{cache}"\n', encoding="utf-8")
    code, _, err = invoke("publish", "--config", config)
    assert code == 0, err
    assert {p.name for p in cache.parent.iterdir()} >= set(BUILD)
    return config, cache


def _rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_clear_keeps_the_build_caches_and_says_so(site_dir: Path) -> None:
    config, cache = _published_site(site_dir)
    _fill(cache, ROWS)
    code, out, err = invoke("cache", "clear", "--config", config, "--yes")
    assert (code, err) == (0, "")
    assert out == (
        "removed 4 cached translations; kept the build caches "
        "(parsed.sqlite3, fragments.sqlite3, lines.sqlite3; --all removes them)\n"
    )
    assert all((cache.parent / name).is_file() for name in BUILD)
    assert _stats(cache)["entries"] == 0


def test_clear_all_deletes_them_and_the_next_publish_rebuilds_the_same_feeds(site_dir: Path) -> None:
    config, cache = _published_site(site_dir)
    before = (site_dir / "feeds" / "en" / "rss.xml").read_bytes()
    (cache.parent / "parsed.sqlite3.damaged").write_bytes(b"old")  # a copy moved aside once: goes too
    code, out, err = invoke("cache", "clear", "--config", config, "--all")
    assert (code, err) == (0, "")
    assert out == (
        "removed 0 cached translations (there is no cache yet); removed the build caches "
        f"(parsed.sqlite3, fragments.sqlite3, lines.sqlite3) in {cache.parent}\n"
    )
    left = {p.name for p in cache.parent.iterdir()}
    assert not left & {*BUILD, *(f"{n}{s}" for n in BUILD for s in ("-wal", "-shm", ".damaged"))}, left
    (site_dir / "feeds" / "en" / "rss.xml").unlink()  # force a real run, not the no-op path
    code, _, err = invoke("publish", "--config", config)
    assert code == 0, err
    assert (site_dir / "feeds" / "en" / "rss.xml").read_bytes() == before
    assert _rows(cache.parent / "parsed.sqlite3", "sqlite_master") > 0  # rebuilt by the run


def test_clear_all_with_translations_removes_both(site_dir: Path) -> None:
    config, cache = _published_site(site_dir)
    _fill(cache, ROWS)
    code, out, _ = invoke("cache", "clear", "--config", config, "--all", "--yes")
    assert code == 0 and out == (
        "removed 4 cached translations; removed the build caches "
        f"(parsed.sqlite3, fragments.sqlite3, lines.sqlite3) in {cache.parent}\n"
    )
    assert _stats(cache)["entries"] == 0 and not any((cache.parent / name).exists() for name in BUILD)
    code, out, _ = invoke("cache", "clear", "--config", config, "--all", "--yes")  # nothing left: nothing to name
    assert code == 0 and out == "removed 0 cached translations\n"


def test_clear_all_asks_on_a_terminal_naming_the_build_caches(site_dir: Path) -> None:
    config, cache = _published_site(site_dir)
    _fill(cache, ROWS)
    code, output = _on_a_terminal(["cache", "clear", "--config", str(config), "--all"], b"n\n")
    assert "delete all 4 cached translations in " in output
    assert "and the build caches (parsed.sqlite3, fragments.sqlite3, lines.sqlite3)?" in " ".join(output.split())
    assert code == 2 and "nothing removed" in output
    assert all((cache.parent / name).is_file() for name in BUILD) and _stats(cache)["entries"] == 4


# -- [cache] directory: the build caches where the config says, whatever the translation cache -------------


def _config_text(site_dir: Path, extra: str) -> Path:
    config = write_config(site_dir)
    config.write_text(config.read_text() + extra, encoding="utf-8")
    return config


def test_the_cache_directory_holds_the_build_caches_and_the_segments(site_dir: Path) -> None:
    from syndicate.config import load_config

    config = _config_text(site_dir, '\n[cache]\ndirectory = "state"\n')
    loaded = load_config(config)
    assert loaded.build_cache_dir == site_dir / "state"  # relative to the config file
    assert loaded.translation.cache == site_dir / "state" / "translations.sqlite3"
    code, _, err = invoke("publish", "--config", config)
    assert code == 0, err
    assert {p.name for p in (site_dir / "state").iterdir()} >= set(BUILD)


def test_a_shared_translation_cache_does_not_move_the_build_caches(site_dir: Path) -> None:
    from syndicate.config import load_config

    shared = site_dir / "shared" / "translations.sqlite3"
    config = _config_text(site_dir, f'\n[cache]\ndirectory = "state"\n[translation]\ncache = "{shared}"\n')
    assert load_config(config).translation.cache == shared and load_config(config).build_cache_dir == site_dir / "state"
    code, _, err = invoke("publish", "--config", config)
    assert code == 0, err
    assert {p.name for p in (site_dir / "state").iterdir()} >= set(BUILD)
    assert not any((shared.parent / name).exists() for name in BUILD)
    code, out, _ = invoke("cache", "clear", "--config", config, "--all", "--yes")
    removed = f"removed the build caches (parsed.sqlite3, fragments.sqlite3, lines.sqlite3) in {site_dir / 'state'}"
    assert code == 0 and removed in out
    assert not any((site_dir / "state" / name).exists() for name in BUILD)


def test_a_bad_cache_table_is_a_one_line_error_naming_the_key(site_dir: Path) -> None:
    cases = (('\n[cache]\ndir = "state"\n', "[cache] unknown key 'dir' (allowed: directory)"),
             ("\n[cache]\ndirectory = 3\n", "cache.directory"))  # fmt: skip
    for extra, key in cases:
        config = _config_text(site_dir, extra)
        code, out, err = invoke("publish", "--config", config)
        assert code == 2 and out == ""
        assert err.startswith(f"syndicate: error: {config}:") and key in err and len(err.splitlines()) == 1, err
