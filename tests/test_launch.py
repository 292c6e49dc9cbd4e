"""The entry point's own ``publish`` parser (:mod:`syndicate.launch`) against typer's.

A plain ``syndicate publish`` line runs without typer (the no-op cron run would
spend a third of its time building the Typer app); every other line goes to typer.
What must hold: whenever the launcher takes a line, typer parses it to the very
same request (every option, every form, random lines from a grammar of real and
broken tokens); lines it does not take (help, unknown options, bad values) get
typer's answer; and a real process prints and exits the same either way.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer.main
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.exceptions import TyperException

from syndicate.cli import app
from syndicate.launch import OnError, PublishRequest, parse_publish
from tests.conftest import ROOT, SEEDS
from tests.helpers import run_fresh

GROUP = typer.main.get_command(app)


def typer_request(args: list[str]) -> PublishRequest | None:
    """What typer's parser makes of ``args`` as a publish request (None: a usage error, help, or another command)."""
    try:
        with GROUP.make_context("syndicate", list(args)) as ctx:
            rest = [*ctx._protected_args, *ctx.args]
            name, command, rest = GROUP.resolve_command(ctx, rest)  # type: ignore[attr-defined]
            if name != "publish":
                return None
            with command.make_context(name, rest, parent=ctx) as sub:
                return PublishRequest(**sub.params, traceback=ctx.params["traceback"])
    except (TyperException, typer.Exit, typer.Abort):  # a usage error, --help, --version
        return None


PLAIN = [
    ["publish"],
    ["--traceback", "publish"],
    ["--traceback", "--traceback", "publish", "-q"],
    ["publish", "seeds", "more/articles", "one.md"],
    ["publish", "--out", "feeds", "--config", "site.toml", "--cache", "c/t.sqlite3"],
    ["publish", "-o", "feeds", "-c", "site.toml", "--out", "last/wins"],
    ["publish", "--out=feeds", "--config=a=b.toml", "--base-url=https://example.org/x/", "--timezone=Europe/Madrid"],
    ["publish", "--max-items", "7", "--max-items=12"],
    ["publish", "--lang", "es", "-l", "ca", "--lang=gl", "--only-lang", "pt", "--only-lang=fr"],
    ["publish", "--provider", "apertium", "--on-error", "original"],
    ["publish", "--on-error=skip", "--dry-run", "--strict", "--json", "--quiet"],
    ["publish", "-v", "--verbose", "-vv", "-qv"],
    ["publish", "seeds", "--json", "extra.md", "-q", "more"],
    ["publish", "--base-url", "", "--timezone=", "--lang="],
    ["publish", "--provider", "publish", "publish"],
]

NOT_TAKEN = [
    [],
    ["--help"],
    ["--version"],
    ["validate", "feeds"],
    ["status", "feeds"],
    ["publish", "--help"],
    ["publish", "--", "-file.md"],
    ["publish", "-"],
    ["publish", "--out"],
    ["publish", "-o"],
    ["publish", "--out", "-q"],
    ["publish", "--out="],
    ["publish", "-ofeeds"],
    ["publish", "-o=feeds"],
    ["publish", "--max-items", "0"],
    ["publish", "--max-items", "05"],
    ["publish", "--max-items", "many"],
    ["publish", "--on-error", "SKIP"],
    ["publish", "--quiet=yes"],
    ["publish", "--verbose=2"],
    ["publish", "--no-such-option"],
    ["publish", "-x"],
    ["publish", "--traceback"],
    ["publish", "--max"],
]


@pytest.mark.parametrize("args", PLAIN, ids=" ".join)
def test_every_plain_form_parses_as_typer_parses_it(args: list[str]) -> None:
    ours = parse_publish(args)
    assert ours is not None
    assert ours == typer_request(args)


def test_the_parsed_values_are_typed_as_the_command_takes_them() -> None:
    request = parse_publish(["publish", "a", "--out", "f", "--max-items", "3", "--on-error", "original", "-l", "es"])
    assert request == PublishRequest(
        sources=[Path("a")], out=Path("f"), max_items=3, on_error=OnError.original, lang=["es"]
    )
    assert parse_publish(["publish"]) == PublishRequest()


@pytest.mark.parametrize("args", NOT_TAKEN, ids=lambda a: " ".join(a) or "(nothing)")
def test_every_other_line_is_left_to_typer(args: list[str]) -> None:
    assert parse_publish(args) is None


TOKENS = st.sampled_from(
    ["--out", "-o", "--config", "-c", "--base-url", "--timezone", "--max-items", "--lang", "-l", "--only-lang",
     "--provider", "--cache", "--on-error", "--dry-run", "--strict", "--json", "--quiet", "-q", "--verbose", "-v",
     "-vv", "-qv", "-vq", "-qq", "--", "-", "--help", "--traceback", "--out=", "--max-items=3", "--lang=es",
     "--json=1", "-ofeeds", "-x", "publish", "feeds", "seeds", "a.md", "", "0", "1", "12", "05", "skip",
     "original", "Skip", "=", "-1", " 3", "é.md"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=8), st.booleans())
def test_whenever_the_launcher_takes_a_line_typer_reads_the_same(tokens: list[str], traceback: bool) -> None:
    args = ["--traceback"] * traceback + ["publish", *tokens]
    ours = parse_publish(args)
    if ours is not None:
        assert ours == typer_request(args)


# -- real processes -----------------------------------------------------------


def _site(tmp_path: Path) -> Path:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    text = (ROOT / "syndicate.toml").read_text(encoding="utf-8").replace('languages = ["es", "ca"]', "languages = []")
    (tmp_path / "syndicate.toml").write_text(text, encoding="utf-8")
    return tmp_path


def _run(cwd: Path, entry: str, *args: str) -> tuple[int, str, str, list[str]]:
    """``syndicate ARGS`` in a fresh interpreter through ``entry`` (``launch`` or ``cli``): exit code, stdout,
    stderr (without the module list) and the top-level packages it imported."""
    code, out, err, modules = run_fresh(cwd, *args, entry=entry)
    return code, out, err, sorted({m.split(".")[0] for m in modules})


def test_a_plain_publish_runs_without_typer_and_prints_what_typer_prints(tmp_path: Path) -> None:
    site = _site(tmp_path)
    code, out, err, modules = _run(site, "launch", "publish", "--config", "syndicate.toml", "--json")
    assert code == 0 and err == "" and json.loads(out)["written"] == 28
    assert "typer" not in modules and "pydantic" not in modules
    fast = _run(site, "launch", "publish", "--config", "syndicate.toml")  # the no-op run: its summary line
    slow = _run(site, "cli", "publish", "--config", "syndicate.toml")
    assert fast[:3] == slow[:3]
    assert fast[0] == 0 and fast[1].rstrip().endswith("0 written, 28 unchanged, 0 removed")
    assert "typer" in slow[3] and "typer" not in fast[3]
    fast_json, slow_json = (
        json.loads(_run(site, e, "publish", "-c", "syndicate.toml", "--json")[1]) for e in ("launch", "cli")
    )
    assert fast_json == slow_json and fast_json["unchanged"] == 28


def test_an_error_is_the_same_line_and_exit_code_either_way(tmp_path: Path) -> None:
    site = _site(tmp_path)
    (site / "bad.toml").write_text("[site]\ntitle = 3\n", encoding="utf-8")
    for args in (["publish", "--config", "missing.toml"], ["publish", "-c", "bad.toml", "--json"]):
        fast, slow = _run(site, "launch", *args), _run(site, "cli", *args)
        assert fast[:3] == slow[:3]
        assert fast[0] == 2 and fast[2].startswith("syndicate: error: ") and "Traceback" not in fast[2]
        assert "typer" not in fast[3]


def test_lines_it_does_not_take_get_typers_answer(tmp_path: Path) -> None:
    site = _site(tmp_path)
    code, _, err, modules = _run(site, "launch", "publish", "--max-items", "0")
    assert code == 2 and "--max-items" in err and "typer" in modules
    code, out, _, _ = _run(site, "launch", "publish", "--help")
    assert code == 0 and "Usage: syndicate publish" in out and "--only-lang" in out
    assert _run(site, "launch", "--version")[:2] == _run(site, "cli", "--version")[:2]
