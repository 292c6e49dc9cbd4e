"""``publish --lang`` adds a language, ``--only-lang`` replaces them; a dropped edition is said on the summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from syndicate.errors import ExitCode
from tests.test_cli import invoke, publish

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")


@pytest.fixture
def spanish_site(site_dir: Path) -> Path:
    """The seed site configured for one translated edition, es."""
    config = site_dir / "syndicate.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("languages = []", 'languages = ["es"]'))
    return site_dir


def _files(feeds: Path, lang: str) -> int:
    return sum(1 for p in (feeds / lang).rglob("*") if p.is_file())


def test_lang_adds_to_the_configured_languages_and_a_normal_run_says_what_it_drops(
    spanish_site: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite3"
    feeds = spanish_site / "feeds"
    code, out, err = publish(spanish_site, "--lang", "ca", "--cache", cache)
    assert code == ExitCode.OK, err
    assert out.startswith("published 18 items (en 6, es 6, ca 6)")
    assert "dropped" not in out
    catalan = _files(feeds, "ca")
    assert catalan > 3

    code, out, err = publish(spanish_site, "--cache", cache)
    assert code == ExitCode.OK, err
    assert out.startswith("published 12 items (en 6, es 6)")
    assert out.rstrip().endswith(f"; editions dropped: ca ({catalan} files removed)")
    assert not (feeds / "ca").exists() and (feeds / "es" / "rss.xml").is_file()
    assert invoke("validate", feeds)[0] == 0


def test_only_lang_replaces_the_configured_languages(spanish_site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    feeds = spanish_site / "feeds"
    assert publish(spanish_site, "--cache", cache)[0] == ExitCode.OK
    spanish = _files(feeds, "es")

    code, out, err = publish(spanish_site, "--only-lang", "ca", "--cache", cache, "--json")
    assert code == ExitCode.OK, err
    summary = json.loads(out)
    assert summary["items"] == {"en": 6, "ca": 6}
    assert summary["dropped"] == {"es": spanish}
    assert not (feeds / "es").exists()


def test_help_says_which_option_adds_and_which_replaces() -> None:
    code, out, _ = invoke("publish", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "Also publish a translation into this language, besides the configured ones" in text
    assert "instead of the configured ones" in text
