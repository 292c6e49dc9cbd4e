"""``syndicate validate`` words its findings like every other command: one line each on stderr with
the common prefix ``syndicate: error:``, naming the file (and its line when known), escaped; the
summary on stdout; exit 0 when valid, 3 on any finding, 2 when the target is not a directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.errors import ERROR_PREFIX
from syndicate.validate import validate_target
from tests.test_validate import GOOD, edit

runner = CliRunner()


def validate(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["validate", *(str(a) for a in args)], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def site(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    shutil.copytree(GOOD, target)
    return target


def test_a_valid_target_says_so_on_stdout_and_nothing_on_stderr(site: Path) -> None:
    assert validate(site) == (0, f"{site}: valid\n", "")
    assert validate(site, "--quiet") == (0, "", "")


def test_each_finding_is_one_error_line_naming_its_file_and_line(site: Path) -> None:
    (site / "en" / "atom.xml").write_text("<feed>\n<unclosed></feed>\n", encoding="utf-8")
    edit(site, "es/rss.xml", "<language>es</language>", "<language>fr</language>")
    (site / "feeds.opml").unlink()
    code, out, err = validate(site)
    assert code == 3
    assert out == f"{site}: 3 problems\n"
    assert err.splitlines() == [
        f"{ERROR_PREFIX}{site / 'feeds.opml'}: missing",
        f"{ERROR_PREFIX}{site / 'en' / 'atom.xml'}:2: not well-formed XML: "
        "Opening and ending tag mismatch: unclosed line 2 and feed, line 2, column 18",
        f"{ERROR_PREFIX}{site / 'es' / 'rss.xml'}: language 'fr' does not match the language directory 'es'",
    ]
    # the same findings validate_target returns, in its order: nothing dropped, nothing added
    assert [p.located(site).message for p in validate_target(site)] == [
        "missing",
        "not well-formed XML: Opening and ending tag mismatch: unclosed line 2 and feed, line 2, column 18",
        "language 'fr' does not match the language directory 'es'",
    ]
    code, out, quiet_err = validate(site, "-q")
    assert (code, out, quiet_err) == (3, "", err)  # --quiet: the problems only


def test_a_finding_about_the_target_itself_names_the_target(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = validate(empty)
    assert code == 3 and out == f"{empty}: 3 problems\n"
    assert err.splitlines() == [
        f"{ERROR_PREFIX}{empty / 'index.html'}: missing",
        f"{ERROR_PREFIX}{empty / 'feeds.opml'}: missing",
        f"{ERROR_PREFIX}{empty}: no feed found (expected <lang>/rss.xml, <lang>/atom.xml or <lang>/feed.json)",
    ]  # not "empty/.: ..."


def test_a_file_name_with_a_newline_stays_one_escaped_line(site: Path) -> None:
    page = site / "en" / "articles" / "forged\nsyndicate: valid.html"
    page.write_text("<html><body><p>no lang</p></body></html>", encoding="utf-8")
    code, _, err = validate(site)
    assert code == 3
    assert err.splitlines() == [
        f"{ERROR_PREFIX}{site / 'en' / 'articles'}/forged\\nsyndicate: valid.html: <html> has no lang attribute",
    ]


def test_not_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = validate(tmp_path / "nope")
    assert (code, out, err) == (2, "", f"{ERROR_PREFIX}{tmp_path / 'nope'}: not a directory\n")


def test_a_theme_s_static_directory_is_not_an_edition(site_dir: Path) -> None:
    """A user theme's static files are published under static/: validate took it for a language
    directory ("'static' is not a valid BCP 47 language tag") and failed every themed site."""
    theme = site_dir / "theme" / "static"
    theme.mkdir(parents=True)
    (theme / "extra.css").write_text("body { margin: 0 }\n", encoding="utf-8")
    config = site_dir / "syndicate.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[output]", '[output]\ntheme = "theme"'))
    published = runner.invoke(app, ["publish", "--config", str(config)], catch_exceptions=False)
    assert published.exit_code == 0, published.stderr
    feeds = site_dir / "feeds"
    assert (feeds / "static" / "extra.css").read_text(encoding="utf-8") == "body { margin: 0 }\n"
    assert validate(feeds) == (0, f"{feeds}: valid\n", "")
