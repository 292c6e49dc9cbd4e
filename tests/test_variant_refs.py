"""The variant cache's stored form (issue 13, deliverable 2): an entry refers to its source article.

A stored translation keeps, by reference, the values it shares with its
source article (slug, dates, input file, the original's id), so a hit costs
only what the translation changed (the hits are then filed on the run's shelves).
A run unpickles only the rows of its own source articles: a row it does not
need, even a damaged one, costs it nothing.  Real apertium, real SQLite.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from syndicate.config import Config
from syndicate.errors import ExitCode
from syndicate.pipeline import Stage, read_inputs, translate_editions
from tests.conftest import SEEDS
from tests.test_variant_cache import Looked, _config, _publish, _published

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")


@pytest.fixture
def seeds(tmp_path: Path) -> Config:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    config = _config(tmp_path, tmp_path / "seeds")
    return replace(config, translation=replace(config.translation, languages=("es", "ca")))


def _rows(config: Config) -> list[tuple[str, str, bytes]]:
    assert config.translation.cache is not None
    with sqlite3.connect(config.translation.cache.parent / "variants.sqlite3") as conn:
        return [(str(c), str(s), bytes(e)) for c, s, e in conn.execute("SELECT context, source, entry FROM variants")]


@needs_apertium
def test_a_cached_translation_is_the_one_built_and_shares_its_source_articles_values(
    seeds: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, _ = read_inputs(seeds)
    built, reasons, settled = translate_editions(seeds, articles, Stage(), workers=1)  # a cold cache: built
    looked = Looked(monkeypatch)
    cached, reasons_cached, settled_cached = translate_editions(seeds, articles, Stage(), workers=1)
    assert not looked.segmented  # every article came from the variant cache
    assert [v.articles for v in cached] == [v.articles for v in built]
    assert [(v.missing, v.description) for v in cached] == [(v.missing, v.description) for v in built]
    assert (reasons_cached, settled_cached) == (reasons, settled)
    by_id = {a.id: a for a in articles}
    translated = [a for v in cached for a in v.articles if a.translation is not None]
    assert len(translated) == 2 * len(articles)
    for article in translated:  # filed on the variants' shelves: the values the entry took from its source
        assert article.translation is not None
        source = by_id[article.translation.original_id]
        assert article.translation.original_id == source.id
        assert article.slug == source.slug and article.published == source.published
        assert article.source == source.source and article.updated == source.updated


@needs_apertium
def test_a_damaged_row_of_an_article_the_run_does_not_have_costs_it_nothing(
    seeds: Config, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = _publish(seeds)
    assert first.exit_code == ExitCode.OK
    before = _published(seeds)
    rows = _rows(seeds)
    context, source, entry = rows[0]
    assert seeds.translation.cache is not None
    with sqlite3.connect(seeds.translation.cache.parent / "variants.sqlite3") as conn:
        conn.execute(  # a row of this site and language, of an article the site no longer has
            "INSERT INTO variants (context, source, site, provider, target, created, refused, entry)"
            " SELECT context, ?, site, provider, target, created, refused, ? FROM variants"
            " WHERE context = ? AND source = ?",
            ("0" * 24, b"not a pickle" + entry[:40], context, source),
        )
    caplog.set_level("WARNING")
    looked = Looked(monkeypatch)
    summary, recorder = _publish(replace(seeds, max_items=seeds.max_items - 1))  # not the no-op path
    assert summary.exit_code == ExitCode.OK
    assert not looked.segmented and recorder.calls == 0  # every hit served: the cache was not given up
    assert not [r for r in caplog.records if "variant cache" in r.getMessage()]
    assert sorted(_rows(seeds)) == sorted(rows)  # the stray row pruned, the others kept as they were
    assert _published(seeds) == before
