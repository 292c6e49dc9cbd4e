"""The failure policy end to end: a network engine (LibreTranslate API on 127.0.0.1,
through deep-translator's real HTTP client) that rate-limits, hangs, fails or
answers garbage, and what gets published, summarized and retried."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest

from syndicate.config import Config
from syndicate.errors import ExitCode
from syndicate.pipeline import RunSummary, Stage, publish_site
from syndicate.translate.base import Translator
from syndicate.translate.providers.web import web_provider
from tests.libre_server import FakeServer, Reply, Request, Sleeps, libre_translation

SUMY = ("Sumy",)  # two briefs of the seed mention Sumy: the tests make those fail


def _config(source_only_config: Config, server: FakeServer, tmp_path: Path, **options: object) -> Config:
    translation = replace(
        source_only_config.translation,
        languages=("es",),
        provider="libre",
        settings=(("libre", (("url", server.url),)),),
        timeout=1.0,
        retries=1,
        concurrency=2,
        cache=tmp_path / "cache.sqlite3",
        glossary=(),
        **options,  # type: ignore[arg-type]
    )
    return replace(source_only_config, target=tmp_path / "feeds", translation=translation)


def _run(config: Config) -> tuple[RunSummary, list[Translator]]:
    made: list[Translator] = []

    def factory(name: str) -> Translator:
        provider = web_provider(name, config.translation, environ={}, sleep=Sleeps(), jitter=lambda: 0.0)
        made.append(provider)
        return provider

    return publish_site(config, stage=Stage(providers=factory)), made


def _es(config: Config) -> feedparser.FeedParserDict:
    parsed = feedparser.parse((config.target / "es" / "atom.xml").read_bytes())
    assert parsed.bozo is False
    return parsed


def _failing_on(words: tuple[str, ...], reply: Reply):  # type: ignore[no-untyped-def]
    def answer(request: Request) -> Reply:
        if any(w in request.params.get("q", "") for w in words):
            return reply
        return libre_translation(request)

    return answer


def test_translated_variant_is_published(source_only_config: Config, server: FakeServer, tmp_path: Path) -> None:
    config = _config(source_only_config, server, tmp_path)
    summary, _ = _run(config)
    assert summary.exit_code == ExitCode.OK and summary.items == {"en": 6, "es": 6}
    feed = _es(config)
    assert all(e.title.startswith("ES:") for e in feed.entries)
    assert all(e.title_detail.language == "es" for e in feed.entries)


def test_429_then_success_is_retried_and_published(
    source_only_config: Config, server: FakeServer, tmp_path: Path
) -> None:
    server.replies = [Reply(status=429, body={"error": "slow down"})]
    config = _config(source_only_config, server, tmp_path)
    summary, _ = _run(config)
    assert summary.exit_code == ExitCode.OK
    assert len(_es(config).entries) == 6
    assert "slow down" not in (config.target / "es" / "rss.xml").read_text()


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body={"translatedText": ""}),
        Reply(body={"translatedText": "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY"}),
        Reply(body="<html><body><h1>502 Bad Gateway</h1></body></html>"),
        Reply(body={"error": "Invalid request"}),
    ],
    ids=["empty", "error-text", "html-page", "json-error"],
)
def test_garbage_answers_are_never_published_and_the_article_is_retried(
    source_only_config: Config, server: FakeServer, tmp_path: Path, reply: Reply
) -> None:
    server.default = _failing_on(SUMY, reply)
    config = _config(source_only_config, server, tmp_path)
    summary, _ = _run(config)
    assert summary.exit_code == ExitCode.PARTIAL
    assert summary.items["es"] == 4
    assert len(summary.missing["es"]) == 2 and all("Ukrain" in t for t in summary.missing["es"])
    assert "translations missing: es 2" in summary.line()
    published = (config.target / "es" / "rss.xml").read_text()
    for bad in ("MYMEMORY", "Bad Gateway", "Invalid request"):
        assert bad not in published
    server.default = libre_translation  # the engine recovers: the next run retries and completes
    summary, _ = _run(config)
    assert summary.exit_code == ExitCode.OK and summary.items["es"] == 6


def test_on_error_original_publishes_the_source_text_tagged_with_its_language(
    source_only_config: Config, server: FakeServer, tmp_path: Path
) -> None:
    server.default = _failing_on(SUMY, Reply(body={"translatedText": ""}))
    config = _config(source_only_config, server, tmp_path, on_error="original")
    summary, _ = _run(config)
    assert summary.exit_code == ExitCode.PARTIAL and summary.items["es"] == 6
    entries = _es(config).entries
    originals = [e for e in entries if not e.title.startswith("ES:")]
    assert len(originals) == 2
    assert all(e.title_detail.language == "en" for e in originals)
    english_ids = {e.id for e in feedparser.parse((config.target / "en" / "atom.xml").read_bytes()).entries}
    assert not english_ids & {e.id for e in entries}


def test_repeated_500s_open_the_circuit(source_only_config: Config, server: FakeServer, tmp_path: Path) -> None:
    server.default = lambda request: Reply(status=500, body={"error": "boom"})
    config = _config(source_only_config, server, tmp_path)
    summary, made = _run(config)
    assert summary.exit_code == ExitCode.PARTIAL
    assert summary.items == {"en": 6, "es": 0}
    assert len(summary.missing["es"]) == 6
    segments = 27
    assert server.hits < segments  # the breaker stopped sending long before every segment was tried
    assert sum(p.calls for p in made) == server.hits
    assert (config.target / "en" / "rss.xml").is_file()


def test_a_hanging_engine_is_cut_off_by_the_deadline(
    source_only_config: Config, server: FakeServer, tmp_path: Path
) -> None:
    server.default = _failing_on(("Sumy",), Reply(body={"translatedText": "LATE-ANSWER"}, delay=30.0))
    config = _config(source_only_config, server, tmp_path)
    started = time.monotonic()
    summary, _ = _run(config)
    elapsed = time.monotonic() - started
    assert elapsed < 25, f"run took {elapsed:.1f}s"  # 2 attempts x 1 s timeout, >5x slack; one hang is 30 s
    assert summary.exit_code == ExitCode.PARTIAL and summary.items["es"] == 4
    assert "LATE-ANSWER" not in (config.target / "es" / "rss.xml").read_text()
