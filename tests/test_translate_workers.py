"""The translation stage's worker processes: the same bytes, cache entries, errors and budget as in one process.

The translated articles of a full build are built, gated and keyed in forked
processes (:mod:`syndicate.translate.workers`); the engines, the budget and the
caches stay in the main process.  Real apertium, a real LibreTranslate-speaking
server on 127.0.0.1, real SQLite; the thresholds are lowered so that a small
site is cut into several chunks per language.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest

import syndicate.pipeline as pipeline
import syndicate.translate.variants as variants_module
import syndicate.translate.workers as workers
from syndicate.config import Config, load_config
from syndicate.errors import ExitCode
from syndicate.models import Article
from syndicate.pipeline import RunSummary, Stage, publish_site, read_inputs, translate_editions
from syndicate.render import content_key
from syndicate.shelf import Shelf
from syndicate.translate.variant_cache import Entry, Sources, decode
from tests.conftest import ROOT
from tests.helpers import libre_site, tree_digest
from tests.libre_server import FakeServer
from tests.test_incremental import _article

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")
ARTICLES = 40


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few dozen articles are below the threshold where a worker pays off: use two anyway, 7 articles a task."""
    monkeypatch.setattr(workers, "PARALLEL_MIN", 0)
    monkeypatch.setattr(workers, "CHUNK", 7)


def _site(root: Path, *, languages: tuple[str, ...] = ("es", "ca", "gl")) -> Config:
    sources = root.parent / "articles"
    if not sources.exists():
        sources.mkdir()
        for n in range(ARTICLES):
            (sources / f"a{n:03}.md").write_text(_article(n), encoding="utf-8")
    base = load_config(ROOT / "syndicate.toml").with_overrides(
        sources=[sources], target=root / "feeds", cache=root / "cache" / "t.sqlite3"
    )
    options = replace(base.translation, languages=languages, max_unknown=0.5)  # generated headlines: some unknown
    return replace(base, max_items=100, translation=options)


def _publish(config: Config, count: int, monkeypatch: pytest.MonkeyPatch, stage: Stage | None = None) -> RunSummary:
    monkeypatch.setattr(pipeline, "worker_processes", lambda: count)
    return publish_site(config, stage=stage or Stage())


def _published(config: Config) -> dict[str, str]:
    return {k: v[0] for k, v in tree_digest(config.target).items() if not k.startswith(".syndicate/")}


def _entries(config: Config) -> dict[tuple[str, str], Entry]:
    """Every stored entry, decoded against the site's source articles (as a run reads them)."""
    assert config.translation.cache is not None
    sources = Sources({content_key(a): a for a in read_inputs(config)[0]})
    with sqlite3.connect(config.translation.cache.parent / "variants.sqlite3") as conn:
        rows = conn.execute("SELECT context, source, entry FROM variants").fetchall()
    found = {}
    for context, source, blob in rows:
        refs = sources.references(source)
        assert refs is not None  # every entry is one of a source article the site has
        found[str(context), str(source)] = decode(blob, refs)
    return found


@pytest.fixture
def pids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Record the process that builds each translated article (the worker processes inherit the patch)."""
    record, real = tmp_path / "pids", variants_module.outcome

    def outcome(article: Article, language: str, *args: object, **kwargs: object) -> object:
        with record.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(article, language, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(variants_module, "outcome", outcome)
    yield record


@needs_apertium
def test_one_and_two_workers_publish_the_same_bytes_and_cache_the_same_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pids: Path
) -> None:
    one, two = _site(tmp_path / "one"), _site(tmp_path / "two")
    first = _publish(one, 1, monkeypatch)
    assert pids.read_text().split() == [str(os.getpid())] * ARTICLES * 3  # all in this process
    pids.unlink()
    second = _publish(two, 2, monkeypatch)

    built_by = pids.read_text().split()
    assert len(built_by) == ARTICLES * 3 and str(os.getpid()) not in built_by  # every one in a worker
    assert first.exit_code == second.exit_code == ExitCode.OK
    assert first.items == second.items == {"en": ARTICLES, "es": ARTICLES, "ca": ARTICLES, "gl": ARTICLES}
    assert _published(one) == _published(two)
    assert len(_published(two)) > 4 * ARTICLES  # every article page in every language, and the feeds
    assert _entries(one) == _entries(two) and len(_entries(two)) == 3 * ARTICLES
    spanish = feedparser.parse((two.target / "es" / "atom.xml").read_bytes())
    assert len(spanish.entries) == ARTICLES and all(e.title_detail.language == "es" for e in spanish.entries)

    for config in (one, two):  # the worker-built articles and their keys in the cache serve the next run whole
        assert _publish(config, 2, monkeypatch).exit_code == ExitCode.OK
    assert _published(one) == _published(two)


@needs_apertium
def test_the_translated_articles_are_the_same_objects_as_built_here(tmp_path: Path) -> None:
    config = _site(tmp_path / "site", languages=("es", "ca"))
    articles, _ = read_inputs(config)
    here, reasons_here, settled_here = translate_editions(config, articles, Stage(), workers=1)
    for path in (tmp_path / "site" / "cache").glob("variants.sqlite3*"):
        path.unlink()  # the variant cache made cold again: everything is built anew
    there, reasons_there, settled_there = translate_editions(config, articles, Stage(), workers=2)
    assert [v.articles for v in here] == [v.articles for v in there]
    assert [(v.language, v.missing, v.description, v.tags) for v in here] == [
        (v.language, v.missing, v.description, v.tags) for v in there
    ]
    assert (reasons_here, settled_here) == (reasons_there, settled_there)
    # what a worker sent back is filed as it comes, as a build here is: no language is held as objects
    sources = {a.id: a for a in articles}
    for variant in [*here, *there]:
        assert isinstance(variant.articles, Shelf) and len(variant.articles) == len(articles)
        for article in variant.articles:
            assert article.translation is not None
            original = sources[article.translation.original_id]
            assert article.slug == original.slug and article.published == original.published


@needs_apertium
def test_a_worker_that_dies_leaves_its_articles_to_the_main_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _site(tmp_path / "expected")
    _publish(expected, 1, monkeypatch)
    parent, real = os.getpid(), variants_module.outcome

    def outcome(article: Article, language: str, *args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            os._exit(9)  # killed (out of memory, a signal) in the middle of a chunk
        return real(article, language, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(variants_module, "outcome", outcome)
    config = _site(tmp_path / "killed")
    summary = _publish(config, 2, monkeypatch)
    assert summary.exit_code == ExitCode.OK and summary.items["gl"] == ARTICLES
    assert _published(config) == _published(expected)
    assert _entries(config) == _entries(expected)


@needs_apertium
def test_an_error_while_building_is_the_same_error_with_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = variants_module.outcome

    def outcome(article: Article, language: str, *args: object, **kwargs: object) -> object:
        if language == "ca" and article.title.endswith("number 17"):
            raise ValueError(f"cannot build {article.title!r} in {language}")
        return real(article, language, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(variants_module, "outcome", outcome)
    messages = []
    for count in (1, 2):
        with pytest.raises(ValueError, match="number 17") as info:
            _publish(_site(tmp_path / f"w{count}"), count, monkeypatch)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def _libre_site(tmp_path: Path, server: FakeServer, extra: str) -> Path:
    return libre_site(tmp_path, server.url, languages=("es", "fr"), translation=extra)


def test_the_budget_is_exact_across_languages_with_workers(
    tmp_path: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """max_chars_per_run is counted in the main process, where every segment is sent: two workers change nothing."""
    config = load_config(_libre_site(tmp_path, server, "max_chars_per_run = 3000"))
    summary = _publish(config, 2, monkeypatch)
    sent = sum(len(r.params["q"]) for r in server.requests if "q" in r.params)
    assert 0 < sent <= 3000
    assert summary.exit_code == ExitCode.PARTIAL
    reasons = {reason for why in summary.reasons.values() for reason in why.values()}
    assert reasons and all(r.startswith("deferred") for r in reasons)
    for _ in range(10):  # each run sends at most the cap; the set completes within a few runs
        before = len(server.requests)
        summary = _publish(config, 2, monkeypatch)
        assert sum(len(r.params["q"]) for r in server.requests[before:] if "q" in r.params) <= 3000
        if summary.exit_code == ExitCode.OK:
            break
    assert summary.exit_code == ExitCode.OK and summary.items == {"en": 6, "es": 6, "fr": 6}


def test_one_provider_for_every_language_with_workers(
    tmp_path: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A circuit opened by one language stays open for the others: one provider object per run, in this process."""
    from syndicate.translate.registry import get_provider

    config = load_config(_libre_site(tmp_path, server, ""))
    made: list[object] = []

    def providers(name: str) -> object:
        made.append(provider := get_provider(name, config.translation))
        return provider

    summary = _publish(config, 2, monkeypatch, Stage(providers=providers))  # type: ignore[arg-type]
    assert summary.exit_code == ExitCode.OK and summary.items == {"en": 6, "es": 6, "fr": 6}
    assert len(made) == 1
