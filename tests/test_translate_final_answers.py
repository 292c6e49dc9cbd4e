"""A deterministic engine's short answer sent back unchanged (a name) is cached like any other.

Real apertium, real SQLite: a full build after the variant cache is gone
(a changed glossary, a new syndicate version) finds every segment in the
segment cache, the names too, and starts no apertium process.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from syndicate.config import Config, load_config
from syndicate.errors import ExitCode
from syndicate.pipeline import Stage, publish_site
from syndicate.translate.cache import SegmentCache
from tests.conftest import ROOT
from tests.test_translation_e2e import Recorder

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")
ARTICLE = (
    "---\ntitle: The talks go on\ndate: 2025-04-16T09:00:00+03:00\ncategories: [Washington]\n---\n"
    "The two delegations met again on Tuesday. Both sides said the talks were useful.\n"
)


def _site(tmp_path: Path) -> Config:
    sources = tmp_path / "articles"
    sources.mkdir()
    (sources / "talks.md").write_text(ARTICLE, encoding="utf-8")
    base = load_config(ROOT / "syndicate.toml").with_overrides(
        sources=[sources], target=tmp_path / "feeds", cache=tmp_path / "cache" / "t.sqlite3"
    )
    return replace(base, translation=replace(base.translation, languages=("es",)))


@needs_apertium
def test_an_unchanged_name_from_apertium_is_cached_and_never_sent_again(tmp_path: Path) -> None:
    config = _site(tmp_path)
    first = Recorder(config)
    assert publish_site(config, stage=Stage(providers=first)).exit_code == ExitCode.OK
    assert first.calls == 1
    assert config.translation.cache is not None
    with SegmentCache(config.translation.cache) as cache:
        assert cache.stats()["entries"] >= 4  # title, summary, paragraph ... and the name

    for path in config.translation.cache.parent.glob("variants.sqlite3*"):
        path.unlink()  # every article is built from its segments again
    (tmp_path / "feeds").joinpath(".syndicate", "status.json").unlink()  # no no-op shortcut
    again = Recorder(config)
    summary = publish_site(config, stage=Stage(providers=again))
    assert summary.exit_code == ExitCode.OK and summary.items == {"en": 1, "es": 1}
    assert again.calls == 0  # "Washington" came back unchanged the first time: apertium's answer for good
    spanish = (tmp_path / "feeds" / "es" / "atom.xml").read_text(encoding="utf-8")
    assert "Washington" in spanish and "delegaciones" in spanish
