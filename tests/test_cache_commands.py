"""Cache surgery through the CLI: ``cache stats`` / ``forget`` / ``clear`` on a real SQLite file.

stats creates nothing and never rebuilds a damaged cache; forget works by
provider, language, article and age; clear asks on a real terminal (a pty).
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import load_config
from syndicate.errors import ExitCode
from syndicate.pipeline import read_inputs
from syndicate.translate.cache import CacheEntry, SegmentCache, text_hash
from syndicate.translate.variants import segments_of
from tests.conftest import ROOT, SEEDS

runner = CliRunner()


def invoke(*args: str | Path, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _fill(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """rows: (provider, target, source text, translation)."""
    with SegmentCache(path) as cache:
        cache.put_many(
            CacheEntry(f"{provider}|{target}|{text}", provider, "en", target, translation, text_hash=text_hash(text))
            for provider, target, text, translation in rows
        )


ROWS = [
    ("apertium", "es", "Six hours.", "Seis horas."),
    ("apertium", "ca", "Six hours.", "Sis hores."),
    ("libre@3f2a", "es", "Two sides.", "Dos lados."),
    ("deepl", "fr", "Two sides.", "Deux côtés."),
]


def _stats(path: Path) -> dict[str, object]:
    code, out, err = invoke("cache", "stats", "--cache", path, "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_stats_per_provider_and_language(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    _fill(path, ROWS)
    stats = _stats(path)
    assert stats["entries"] == 4
    assert stats["providers"] == {
        "apertium": {"en->ca": 1, "en->es": 1},
        "deepl": {"en->fr": 1},
        "libre@3f2a": {"en->es": 1},
    }
    assert stats["languages"] == {"ca": 1, "es": 2, "fr": 1}
    code, out, _ = invoke("cache", "stats", "--cache", path)
    assert code == 0 and "entries: 4" in out and "apertium: 2 (en->ca 1, en->es 1)" in out and "es 2" in out


def test_stats_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "cache.sqlite3"
    stats = _stats(path)
    assert stats["entries"] == 0 and stats["exists"] is False
    assert not (tmp_path / "not").exists()


def test_stats_reports_a_damaged_cache_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    code, out, err = invoke("cache", "stats", "--cache", path)
    assert code == ExitCode.INPUT and out == ""
    assert err.count("\n") == 1 and str(path) in err and "damaged" in err
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.sqlite3"]  # no .damaged, no rebuilt file
    code, _, err = invoke("cache", "forget", "--cache", path, "--provider", "apertium")
    assert code == ExitCode.INPUT and "damaged" in err and path.read_bytes() == before


def test_a_version_1_cache_is_read_and_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute(
            "CREATE TABLE segments (key TEXT PRIMARY KEY, provider TEXT NOT NULL, source TEXT NOT NULL,"
            " target TEXT NOT NULL, translation TEXT NOT NULL, created REAL NOT NULL) WITHOUT ROWID"
        )
        conn.execute("INSERT INTO schema_version VALUES (1)")
        conn.execute("INSERT INTO segments VALUES ('k', 'libre', 'en', 'es', 'Hola.', 1.0)")
    conn.close()
    assert _stats(path)["entries"] == 1  # read-only: shown as it is
    with SegmentCache(path) as cache:
        assert cache.get_many(["k"]) == {"k": "Hola."}
        assert cache.get_entries(["k"])["k"].words == 0


def test_forget_by_provider_language_and_age(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    _fill(path, ROWS)
    assert invoke("cache", "forget", "--cache", path, "--provider", "libre")[1] == "forgot 1 cached translations\n"
    assert "libre@3f2a" not in _stats(path)["providers"]  # type: ignore[operator]
    assert invoke("cache", "forget", "--cache", path, "--lang", "ca")[1] == "forgot 1 cached translations\n"
    _fill(path, [("apertium", "sr-Latn", "Six hours.", "Šest sati.")])
    assert invoke("cache", "forget", "--cache", path, "--lang", "sr")[1] == "forgot 1 cached translations\n"
    assert _stats(path)["languages"] == {"es": 1, "fr": 1}
    with sqlite3.connect(path) as conn:  # one entry from 2020
        conn.execute("UPDATE segments SET created = ? WHERE target = 'fr'", (1_580_000_000.0,))
    conn.close()
    assert (
        invoke("cache", "forget", "--cache", path, "--older-than", "2021-01-01")[1] == "forgot 1 cached translations\n"
    )
    assert _stats(path)["languages"] == {"es": 1}
    code, _, err = invoke("cache", "forget", "--cache", path, "--older-than", "last tuesday")
    assert code == ExitCode.USAGE and "--older-than" in err
    code, _, err = invoke("cache", "forget", "--cache", path)
    assert code == ExitCode.USAGE and "needs" in err
    assert _stats(path)["entries"] == 1


def test_forget_by_article(tmp_path: Path) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    config = tmp_path / "syndicate.toml"
    config.write_text((ROOT / "syndicate.toml").read_text(encoding="utf-8"), encoding="utf-8")
    articles, _ = read_inputs(load_config(config))
    first, second = articles[0], articles[1]
    mine = {s for s in segments_of(first) if s not in segments_of(second)}
    path = tmp_path / "cache.sqlite3"
    _fill(path, [("apertium", lang, text, f"{lang}:{text}") for lang in ("es", "ca") for text in segments_of(first)])
    _fill(
        path, [("apertium", "es", text, f"es:{text}") for text in segments_of(second) if text not in segments_of(first)]
    )
    before = _stats(path)["entries"]
    code, out, err = invoke("cache", "forget", "--config", config, "--cache", path, "--article", first.slug)
    assert code == 0, err
    forgotten = int(out.split()[1])
    assert forgotten == 2 * len(set(segments_of(first)))  # es and ca rows of every segment of it
    assert _stats(path)["entries"] == before - forgotten  # type: ignore[operator]
    with SegmentCache(path) as cache:
        left = {row[0] for row in cache._run("SELECT text_hash FROM segments")}
    assert not {text_hash(t) for t in mine} & left
    assert {text_hash(t) for t in segments_of(second) if t not in segments_of(first)} <= left
    code, _, err = invoke("cache", "forget", "--config", config, "--cache", path, "--article", "no-such-article")
    assert code == ExitCode.USAGE and "no-such-article" in err


def test_clear_with_yes_and_without_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    _fill(path, ROWS)
    assert invoke("cache", "clear", "--cache", path, "--yes")[1] == "removed 4 cached translations\n"
    _fill(path, ROWS)
    assert invoke("cache", "clear", "--cache", path)[1] == "removed 4 cached translations\n"  # cron: no question


def _on_a_terminal(args: list[str], answer: bytes) -> tuple[int, str]:
    """Run the real CLI with a pty as its terminal, answer its question, return (exit, output)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "syndicate", *args], stdin=follower, stdout=follower, stderr=follower, close_fds=True
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60  # generous: a loaded machine starts Python slowly
    answered = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        if not answered and b"?" in output:
            os.write(leader, answer)
            answered = True
        if process.poll() is not None and not ready:
            break
    process.wait(timeout=60)
    os.close(leader)
    return process.returncode, output.decode("utf-8", "replace")


def test_clear_asks_on_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    _fill(path, ROWS)
    code, output = _on_a_terminal(["cache", "clear", "--cache", str(path)], b"n\n")
    assert "delete all 4 cached translations" in output and "nothing removed" in output
    assert code == ExitCode.USAGE
    assert _stats(path)["entries"] == 4
    code, output = _on_a_terminal(["cache", "clear", "--cache", str(path)], b"y\n")
    assert code == 0 and "removed 4 cached translations" in output
    assert _stats(path)["entries"] == 0
