"""The CLI end to end: publish, idempotence, summaries, exit codes, bad input, validate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate import __version__
from syndicate.cli import app
from syndicate.errors import ExitCode
from tests.helpers import read_only, tree_digest

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def publish(site_dir: Path, *extra: str | Path) -> tuple[int, str, str]:
    return invoke("publish", "--config", site_dir / "syndicate.toml", *extra)


def test_version() -> None:
    assert invoke("--version") == (0, f"syndicate {__version__}\n", "")


def test_every_command_has_help() -> None:
    import typer.main

    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert {"publish", "validate"} <= set(commands)
    for name, command in commands.items():
        assert command.help, f"{name} has no help text"
        code, out, _ = invoke(name, "--help")
        assert code == 0 and "Usage" in out


def test_publish_twice_is_byte_identical_and_rewrites_nothing(site_dir: Path) -> None:
    code, out, err = publish(site_dir)
    assert code == ExitCode.OK, err
    assert out.startswith("published 6 items (en 6) to ")
    assert out.rstrip().endswith("28 written, 0 unchanged, 0 removed")  # 12, and 4 sections x 4 files
    feeds = site_dir / "feeds"
    first = {k: v for k, v in tree_digest(feeds).items() if not k.startswith(".syndicate/")}
    code, out, _ = publish(site_dir)
    assert code == ExitCode.OK
    assert out.rstrip().endswith("0 written, 28 unchanged, 0 removed")
    second = {k: v for k, v in tree_digest(feeds).items() if not k.startswith(".syndicate/")}
    assert second == first  # same bytes and same mtimes: nothing was rewritten


def test_json_summary_and_status_file(site_dir: Path) -> None:
    code, out, _ = publish(site_dir, "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["items"] == {"en": 6}
    assert summary["outcome"] == "ok" and summary["written"] == 28  # 12, and 4 sections x 4 files
    status = json.loads((site_dir / "feeds" / ".syndicate" / "status.json").read_text())
    assert status["outcome"] == "ok" and status["items"] == {"en": 6}


def test_quiet_prints_nothing_on_success(site_dir: Path) -> None:
    assert publish(site_dir, "--quiet") == (0, "", "")


def test_cli_overrides(site_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "elsewhere"
    code, _, err = publish(site_dir, "--out", out_dir, "--base-url", "https://m.example.net/x", "--max-items", "2")
    assert code == 0, err
    rss = (out_dir / "en" / "rss.xml").read_text()
    assert rss.count("<item>") == 2
    assert "https://m.example.net/x/en/rss.xml" in rss


BAD_FILES = {
    "empty.txt": b"",
    "binary.txt": b"\x00\x01\x02PNG",
    "latin1.txt": "caf\u00e9".encode("latin-1"),
    "control.txt": b"Bad \x1b[31m escape.\n",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_is_skipped_with_a_one_line_error(site_dir: Path, name: str) -> None:
    (site_dir / "seeds" / name).write_bytes(BAD_FILES[name])
    code, out, err = publish(site_dir)
    assert code == ExitCode.INPUT
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"seeds/{name}" in lines[0] and "Traceback" not in err
    assert "published 6 items" in out and out.rstrip().endswith("; 1 input error")
    assert invoke("validate", site_dir / "feeds")[0] == 0


def test_unreadable_file(site_dir: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read any file; the reader's permission error is tested in test_sources")
    path = site_dir / "seeds" / "secret.txt"
    path.write_text("Secret.")
    path.chmod(0)
    code, _, err = publish(site_dir)
    assert code == ExitCode.INPUT and "secret.txt: cannot read: Permission denied" in err


def test_strict_publishes_nothing_when_an_input_is_bad(site_dir: Path) -> None:
    (site_dir / "seeds" / "empty.txt").write_bytes(b"")
    code, out, err = publish(site_dir, "--strict")
    assert code == ExitCode.INPUT and out == ""
    bad, verdict = err.strip().splitlines()
    assert bad.endswith("empty.txt: empty file")  # the file, then what the run did about it
    assert verdict == "syndicate: error: 1 input error; nothing published (--strict)"
    assert not (site_dir / "feeds" / "en").exists()


def test_all_inputs_bad_leaves_target_unchanged(site_dir: Path) -> None:
    assert publish(site_dir)[0] == 0
    before = tree_digest(site_dir / "feeds" / "en")
    for page in (site_dir / "seeds").iterdir():
        page.write_bytes(b"\x00")
    code, _, err = publish(site_dir)
    assert code == ExitCode.INPUT and "binary file" in err
    assert tree_digest(site_dir / "feeds" / "en") == before


def test_read_only_target_exits_publish_failed_and_is_unchanged(site_dir: Path) -> None:
    assert publish(site_dir)[0] == 0
    feeds = site_dir / "feeds"
    (site_dir / "seeds" / "new.txt").write_text("A new article arrived today.", encoding="utf-8")
    before = tree_digest(feeds)
    with read_only(feeds):
        code, out, err = publish(site_dir)
        assert tree_digest(feeds) == before
    assert code == ExitCode.PUBLISH_FAILED, (out, err)
    assert err.startswith("syndicate: error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_config_error_exit_code(site_dir: Path) -> None:
    code, _, err = publish(site_dir, "--timezone", "Nowhere/Land")
    assert code == ExitCode.USAGE and "unknown timezone 'Nowhere/Land'" in err


def test_validate_passes_on_published_seed_and_fails_on_broken_copy(site_dir: Path, tmp_path: Path) -> None:
    assert publish(site_dir)[0] == 0
    code, out, _ = invoke("validate", site_dir / "feeds")
    assert code == 0 and out.strip().endswith("valid")
    broken = tmp_path / "broken"
    shutil.copytree(site_dir / "feeds", broken)
    rss = broken / "en" / "rss.xml"
    rss.write_text(rss.read_text().replace("Mon, 14 Apr 2025", "Lun, 14 abr 2025"))
    (broken / "en" / "atom.xml").write_text("<feed><unclosed></feed>")
    code, _, err = invoke("validate", broken)
    assert code != 0
    assert "en/rss.xml" in err and "en/atom.xml" in err


def test_python_dash_m_runs_without_traceback(site_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "syndicate", "publish", "--config", str(site_dir / "syndicate.toml"), "nope/"],
        capture_output=True,
        text=True,
        cwd=site_dir,
    )
    assert proc.returncode == ExitCode.INPUT
    assert proc.stderr == "syndicate: error: nope: no such file or directory\n"
    assert "Traceback" not in proc.stderr


def test_init_scaffolds_a_working_site(tmp_path: Path) -> None:
    site = tmp_path / "newsroom"
    code, out, _ = invoke("init", site, "--title", 'Le "Desk"', "--timezone", "Europe/Paris", "--language", "fr")
    assert code == 0 and "crontab line" in out and f"cd {site.resolve()} &&" in out
    (site / "seeds" / "a.txt").write_text("Bonjour le monde. Une deuxième phrase.", encoding="utf-8")
    code, _, err = invoke("publish", "--config", site / "syndicate.toml")
    assert code == 0, err
    assert '<title>Le "Desk" (français)</title>' in (site / "feeds" / "fr" / "rss.xml").read_text()
    code, _, err = invoke("init", site)
    assert code == ExitCode.USAGE and "already exists" in err


def test_init_rejects_bad_values(tmp_path: Path) -> None:
    code, _, err = invoke("init", tmp_path, "--timezone", "Mars/Olympus")
    assert code == ExitCode.USAGE and "unknown timezone" in err
    assert not (tmp_path / "syndicate.toml").exists()


def test_feeds_only_site_links_items_to_the_index(site_dir: Path) -> None:
    config = site_dir / "syndicate.toml"
    config.write_text(config.read_text().replace("[output]\n", "[output]\npages = false\n"), encoding="utf-8")
    code, _, err = publish(site_dir)
    assert code == 0, err
    feeds = site_dir / "feeds"
    assert not (feeds / "en" / "articles").exists()
    import feedparser

    entries = feedparser.parse((feeds / "en" / "rss.xml").read_bytes()).entries
    index = (feeds / "en" / "index.html").read_text()
    for entry in entries:
        page, anchor = entry.link.split("#")
        assert page == "https://news.example.org/en/index.html"
        assert f'<article id="{anchor}"' in index
    assert invoke("validate", feeds)[0] == 0


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")
def test_translation_commands_through_the_cli(site_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    code, out, _ = invoke("providers", "--config", site_dir / "syndicate.toml")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "usable" in lines["apertium"] and "en->es" in lines["apertium"]
    assert "unusable" in lines["deepl"] and "DEEPL_AUTH_KEY" in lines["deepl"]

    code, out, _ = publish(site_dir, "--lang", "es", "--cache", cache, "--dry-run")
    assert code == 0 and out.startswith("dry run: es via apertium: ") and "characters would be sent" in out
    assert not (site_dir / "feeds").exists()

    code, out, err = publish(site_dir, "--lang", "es", "--cache", cache)
    assert code == 0, err
    assert out.startswith("published 12 items (en 6, es 6)")
    code, out, _ = publish(site_dir, "--lang", "es", "--cache", cache, "--dry-run")
    assert out.strip() == "dry run: es via apertium: 0 segments, 0 characters would be sent"

    code, out, _ = invoke("cache", "stats", "--cache", cache, "--json")
    stats = json.loads(out)
    assert code == 0 and stats["entries"] > 0
    code, out, _ = invoke("cache", "clear", "--cache", cache)
    assert code == 0 and out.startswith(f"removed {stats['entries']} cached translations")
    assert json.loads(invoke("cache", "stats", "--cache", cache, "--json")[1])["entries"] == 0


def test_unknown_provider_is_a_usage_error(site_dir: Path) -> None:
    code, _, err = publish(site_dir, "--lang", "es", "--provider", "babelfish")
    assert code == ExitCode.USAGE and "babelfish" in err and len(err.strip().splitlines()) == 1
