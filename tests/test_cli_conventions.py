"""CLI conventions (issue 14): help everywhere, clean metavars, choices, completion, one error
prefix, pluralised summaries, -v/-vv, progress on a TTY, and JSON error objects."""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from syndicate.cli import PROVIDER_CHOICES, app

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "syndicate"
OURS = ("publish", "validate", "status", "serve", "init", "new")
COMMANDS = (*OURS, "providers", "cache", "cache stats", "cache forget", "cache clear")

runner = CliRunner()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """-v and -vv set the package logger's level: leave it as it was for the next test."""
    logger = logging.getLogger("syndicate")
    level, handlers, propagate = logger.level, list(logger.handlers), logger.propagate
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers
    logger.propagate = propagate


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def all_commands() -> dict[str, object]:
    """Every command, sub-commands as "cache stats"."""
    found: dict[str, object] = {}
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        found[name] = command
        for sub, subcommand in getattr(command, "commands", {}).items():
            found[f"{name} {sub}"] = subcommand
    return found


def test_every_command_and_every_option_has_help_text() -> None:
    commands = all_commands()
    assert set(COMMANDS) == set(commands)
    for name, command in commands.items():
        assert command.help, f"`syndicate {name}` has no help text"  # type: ignore[attr-defined]
        for param in command.params:  # type: ignore[attr-defined]
            assert getattr(param, "help", None), f"`syndicate {name}`: {param.name} has no help text"
        code, out, _ = invoke(*name.split(), "--help")
        assert code == 0 and out.startswith("Usage: syndicate ")


@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_clean_metavars(name: str) -> None:
    _, out, _ = invoke(*name.split(), "--help")
    assert not re.search(r"<(?!skip\|)[^>]*>|\{[A-Za-z_]+\}", out), out
    for option, metavar in re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)(?: ([^\s]+))?", out, re.M):
        # a value is named in capitals, as in every command (FILE, DIR, LANG), or lists its choices
        assert not metavar or re.fullmatch(r"[A-Z]+|\[[a-z|]+\]", metavar), f"{name} {option} {metavar}"
        assert metavar not in ("PATH", "INTEGER"), f"{name} {option}: typer's bare metavar {metavar}"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("providers", ["--config FILE"]),
        ("cache stats", ["--config FILE", "--cache FILE", "--json"]),
        ("cache forget", ["--provider ENGINE", "--lang LANG", "--article ARTICLE", "--older-than DATE",
                          "--config FILE", "--cache FILE"]),
        ("cache clear", ["--config FILE", "--cache FILE", "--all", "--yes"]),
    ],
)  # fmt: skip
def test_cache_and_providers_options_are_named_like_the_others(name: str, expected: list[str]) -> None:
    _, out, _ = invoke(*name.split(), "--help")
    shown = re.findall(r"^\s+(?:-\w, )?(--[a-z-]+(?: [A-Z]+)?)", out, re.M)
    assert shown == [*expected, "--help"], out
    config_help = " ".join(out.split()).split("--config FILE")[1]
    assert config_help.lstrip().startswith("Config file (default: ./syndicate.toml if present).")


def test_help_shows_the_choices() -> None:
    out = " ".join(invoke("publish", "--help")[1].split())
    assert "--on-error [skip|original]" in out
    assert "apertium, baidu, deepl, google, libre, microsoft, mymemory, openai, papago, qcri, yandex" in out
    code, _, err = invoke("publish", "--on-error", "ignore")
    assert code == 2 and "'ignore' is not one of 'skip', 'original'" in " ".join(err.split())


def test_the_provider_choices_are_the_registered_engines() -> None:
    from syndicate.translate.registry import PROVIDERS

    assert tuple(sorted(PROVIDERS)) == PROVIDER_CHOICES


def complete(words: str, cword: int) -> list[str]:
    env = {**os.environ, "_SYNDICATE_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    done = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    return done.stdout.split()


@pytest.mark.slow
def test_shell_completion() -> None:
    script = subprocess.run([str(SCRIPT), "--show-completion", "bash"], capture_output=True, text=True, timeout=60)
    assert script.returncode == 0
    assert "_SYNDICATE_COMPLETE=complete_bash" in script.stdout
    assert "complete -o default -F _syndicate_completion syndicate" in script.stdout
    assert complete("syndicate pu", 1) == ["publish"]
    assert complete("syndicate publish --on-error o", 3) == ["original"]
    assert complete("syndicate publish --provider de", 3) == ["deepl"]
    assert "--drafts" in complete("syndicate serve --d", 2)


# -- errors ---------------------------------------------------------------------


BAD_CONFIG = """\
[site]
timezone = "Europe/Olso"
titel = "x"

[output]
max_items = -1
"""


def test_a_fatal_error_still_prints_a_json_object(tmp_path: Path) -> None:
    config = tmp_path / "syndicate.toml"
    config.write_text(BAD_CONFIG, encoding="utf-8")
    code, out, err = invoke("publish", "--config", config, "--json")
    assert code == 2
    report = json.loads(out)
    assert report == {
        "outcome": "failed",
        "exit_code": 2,
        "errors": [
            {"file": str(config), "line": 2, "message": "site.timezone: unknown timezone 'Europe/Olso': expected an "
             "IANA name such as 'Europe/Moscow' (did you mean 'Europe/Oslo'?)"},
            {"file": str(config), "line": 3, "message": "[site] unknown key 'titel' (did you mean 'title'?)"},
            {"file": str(config), "line": 6, "message": "output.max_items must be a positive integer, not -1"},
        ],
    }
    lines = err.splitlines()
    assert lines == [f"syndicate: error: {e['file']}:{e['line']}: {e['message']}" for e in report["errors"]]


def test_json_errors_are_objects_with_file_and_line(site_dir: Path) -> None:
    bad = site_dir / "seeds" / "latin1.txt"
    bad.write_bytes("Title\n\nA caf\u00e9 reopens.".encode("latin-1"))
    code, out, err = invoke("publish", "--config", site_dir / "syndicate.toml", "--json")
    assert code == 3
    report = json.loads(out)
    assert report["outcome"] == "input" and report["items"] == {"en": 6}
    assert report["errors"] == [{"file": str(bad), "line": 3, "message": "invalid UTF-8 at byte 12"}]
    assert err == f"syndicate: error: {bad}:3: invalid UTF-8 at byte 12\n"


def test_nothing_readable_under_json_is_a_json_object_too(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: [unclosed\n---\nText\n", encoding="utf-8")
    (tmp_path / "b.json").write_text("{", encoding="utf-8")
    code, out, err = invoke("publish", tmp_path, "--out", tmp_path / "out", "--json", "--strict")
    assert code == 3
    errors = json.loads(out)["errors"]
    assert [e["file"] for e in errors] == [str(tmp_path / "a.md"), str(tmp_path / "b.json"), None]
    assert errors[-1]["message"] == "2 input errors; nothing published"
    assert all(line.startswith("syndicate: error: ") for line in err.splitlines()) and len(err.splitlines()) == 3


def test_one_error_prefix_and_pluralised_summaries(site_dir: Path) -> None:
    for name in os.listdir(site_dir / "seeds"):
        os.remove(site_dir / "seeds" / name)
    (site_dir / "seeds" / "one.md").write_text("---\ntitle: One\ndate: 2025-04-14\n---\nText.\n", encoding="utf-8")
    (site_dir / "seeds" / "bad.md").write_bytes(b"\xff\xfe")
    code, out, err = invoke("publish", "--config", site_dir / "syndicate.toml")
    assert code == 3
    assert out.startswith("published 1 item (en 1) to ") and out.rstrip().endswith("; 1 input error")
    assert err.startswith("syndicate: error: ") and "ERROR" not in err and "input error:" not in err
    code, _, err = invoke("validate", site_dir / "nope")
    assert (code, err) == (2, f"syndicate: error: {site_dir / 'nope'}: not a directory\n")


# -- verbosity and progress -------------------------------------------------------


def test_verbose_logs_each_stage_and_very_verbose_each_file(site_dir: Path) -> None:
    config = site_dir / "syndicate.toml"
    _, _, quiet = invoke("publish", "--config", config, "--out", site_dir / "a")
    assert quiet == ""
    _, _, err = invoke("publish", "--config", config, "--out", site_dir / "b", "-v")
    lines = err.splitlines()
    assert re.fullmatch(r"syndicate: read: 1 file, 6 articles, 0 input errors in \d+\.\d\d s", lines[0])
    assert re.fullmatch(
        r"syndicate: render and write: 28 files rendered, 0 unchanged by their render key; "  # 4 sections: +16
        r"28 written, 0 unchanged, 0 removed in \d+\.\d\d s",
        lines[1],
    )
    assert len(lines) == 2
    _, _, err = invoke("publish", "--config", config, "--out", site_dir / "c", "-vv")
    per_file = r"^syndicate: read .*000_5b913e3cde1239e1\.txt: 6 articles( \(unchanged: from the parse cache\))?$"
    assert re.search(per_file, err, re.M)
    assert "syndicate: render en/rss.xml: " in err and "syndicate: render feeds.opml: " in err


@pytest.mark.slow
def test_a_progress_display_on_a_terminal_only(site_dir: Path) -> None:
    command = [sys.executable, "-m", "syndicate", "publish", "--config", str(site_dir / "syndicate.toml")]
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100", "PYTHONPATH": str(ROOT)}
    main, child = pty.openpty()
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=child, env=env)
        os.close(child)
        out, _ = proc.communicate(timeout=120)
        shown = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main)
    assert proc.returncode == 0 and out.startswith(b"published 6 items")
    assert b"reading" in shown and b"rendering and writing: rendered " in shown
    piped = subprocess.run(command, capture_output=True, env=env, timeout=120)
    assert piped.returncode == 0 and piped.stderr == b""
