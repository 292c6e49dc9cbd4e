"""The OpenAI-compatible engine against a real HTTP server on 127.0.0.1 that speaks
the chat-completions API (tests/libre_server.py's scriptable server): batching,
429 then success, a context-length error then a split, malformed replies, the
per-run character cap, the dry-run token estimate, and a publish through the CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import TranslationOptions
from syndicate.errors import ConfigError, ExitCode
from syndicate.translate import Glossary, SegmentCache, translate_segments
from syndicate.translate.providers.openai import DEFAULT_PROMPT, OpenAIEngine, openai_provider
from syndicate.translate.resilient import ResilientTranslator
from tests.conftest import SEEDS
from tests.libre_server import FakeServer, Reply, Request, Sleeps

runner = CliRunner()
SEGMENTS = [f"Talks number {n} lasted six hours in Riyadh." for n in range(45)]


def _sent(request: Request) -> list[str]:
    body = request.body if isinstance(request.body, dict) else json.loads(request.body)
    texts = json.loads(body["messages"][1]["content"])
    assert isinstance(texts, list)
    return texts


def chat(content: str) -> Reply:
    return Reply(
        body={
            "id": "x",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        }
    )


def translating(request: Request) -> Reply:
    """A well-behaved model: one "ES:" translation per string, as a JSON array."""
    return chat(json.dumps([f"ES:{t}" for t in _sent(request)], ensure_ascii=False))


def _provider(server: FakeServer, environ: dict[str, str] | None = None, **settings: str) -> ResilientTranslator:
    options = replace(
        TranslationOptions(),
        timeout=10.0,
        retries=2,
        settings=(
            ("openai", tuple(sorted({"base_url": server.url + "v1", "model": "test-model", **settings}.items()))),
        ),
    )
    return openai_provider(options, environ=environ or {}, sleep=Sleeps(), jitter=lambda: 0.0)


def test_batches_as_json_arrays_at_temperature_zero(server: FakeServer) -> None:
    server.default = translating
    provider = _provider(server, environ={"OPENAI_API_KEY": "sk-test"}, batch_size="20")
    results = provider.translate_batch(SEGMENTS, "en", "es")
    assert results == [f"ES:{t}" for t in SEGMENTS]
    assert sorted(len(_sent(r)) for r in server.requests) == [5, 20, 20]
    first = next(r for r in server.requests if len(_sent(r)) == 20)
    assert first.path == "/v1/chat/completions" and first.method == "POST"
    body = first.body if isinstance(first.body, dict) else json.loads(first.body)
    assert body["model"] == "test-model" and body["temperature"] == 0
    system = body["messages"][0]
    assert system["role"] == "system" and "English (en)" in system["content"] and "Spanish (es)" in system["content"]
    assert first.headers.get("Authorization") == "Bearer sk-test"


def test_429_with_retry_after_then_success(server: FakeServer) -> None:
    server.default = translating
    server.replies = [
        Reply(status=429, body={"error": {"message": "Rate limit reached"}}, headers={"Retry-After": "3"})
    ]
    provider = _provider(server)
    sleeps = provider._sleep
    assert provider.translate_batch(SEGMENTS[:3], "en", "es") == [f"ES:{t}" for t in SEGMENTS[:3]]
    assert server.hits == 2
    assert list(sleeps) == [3.0]  # type: ignore[call-overload]


def _context_limited(limit: int) -> Callable[[Request], Reply]:
    def answer(request: Request) -> Reply:
        if len(_sent(request)) > limit:
            error = {
                "message": "This model's maximum context length is 128 tokens.",
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
            }
            return Reply(status=400, body={"error": error})
        return translating(request)

    return answer


def test_a_context_length_error_splits_the_batch(server: FakeServer) -> None:
    server.default = _context_limited(4)
    provider = _provider(server, batch_size="16")
    results = provider.translate_batch(SEGMENTS[:16], "en", "es")
    assert results == [f"ES:{t}" for t in SEGMENTS[:16]]
    sizes = [len(_sent(r)) for r in server.requests]
    assert sizes[0] == 16 and max(s for s in sizes if s <= 4) <= 4
    assert sum(s for s in sizes if s <= 4) == 16  # every text answered exactly once, by a small enough request
    assert not provider.breaker.is_open


@pytest.mark.parametrize(
    "bad",
    [
        chat("Sure! Here are your translations: ES:one, ES:two"),
        chat('["only one translation"]'),  # count mismatch
        chat('{"translations": 5}'),
        Reply(body={"choices": []}),
    ],
    ids=["prose", "count-mismatch", "not-an-array", "no-choices"],
)
def test_a_malformed_reply_is_split_and_retried(server: FakeServer, bad: Reply) -> None:
    server.default = translating
    server.replies = [bad]
    provider = _provider(server)
    texts = SEGMENTS[:4]
    assert provider.translate_batch(texts, "en", "es") == [f"ES:{t}" for t in texts]
    assert [len(_sent(r)) for r in server.requests] == [4, 2, 2]


def test_a_fenced_reply_is_accepted(server: FakeServer) -> None:
    server.default = lambda request: chat("```json\n" + json.dumps([f"ES:{t}" for t in _sent(request)]) + "\n```")
    assert _provider(server).translate_batch(SEGMENTS[:2], "en", "es") == [f"ES:{t}" for t in SEGMENTS[:2]]


def test_a_model_that_always_misbehaves_fails_each_text_without_publishing_it(
    server: FakeServer, tmp_path: Path
) -> None:
    server.default = lambda request: chat(json.dumps(_sent(request)))  # echoes its input
    provider = _provider(server)
    with SegmentCache(tmp_path / "cache.sqlite3") as cache:
        result = translate_segments(SEGMENTS[:5], "en", "es", provider, cache, Glossary())
        assert result == {} and set(result.failures.values()) == {"echo"}
        assert cache.stats()["entries"] == 0


def test_placeholders_pass_through_and_are_checked(server: FakeServer, tmp_path: Path) -> None:
    server.default = translating
    glossary = Glossary(["Sergei Lavrov"])
    with SegmentCache(tmp_path / "cache.sqlite3") as cache:
        result = translate_segments(["Sergei Lavrov met them twice."], "en", "es", _provider(server), cache, glossary)
    assert result == {"Sergei Lavrov met them twice.": "ES:Sergei Lavrov met them twice."}
    assert all("Lavrov" not in t for r in server.requests for t in _sent(r))


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="unknown key 'modle'"):
        OpenAIEngine({"modle": "x"}, {})
    with pytest.raises(ConfigError, match=r"\{source\} and \{target\}"):
        OpenAIEngine({"model": "x", "prompt": "Translate."}, {})
    official = OpenAIEngine({"model": "gpt-4o-mini"}, {})
    assert official.available() == (False, "no API key in OPENAI_API_KEY")
    local = OpenAIEngine({"model": "llama3", "base_url": "http://127.0.0.1:11434/v1"}, {})
    assert local.available()[0] is True
    assert "{source}" in DEFAULT_PROMPT and "{target}" in DEFAULT_PROMPT
    assert OpenAIEngine({"model": "a"}, {}).cache_key() != OpenAIEngine({"model": "b"}, {}).cache_key()
    keyed = OpenAIEngine({"model": "a"}, {"OPENAI_API_KEY": "sk-secret"})
    assert "sk-secret" not in keyed.cache_key() and "sk-secret" not in keyed.available()[1]


# --------------------------------------------------------------------------- through the CLI


def _site(tmp_path: Path, server: FakeServer, extra: str = "") -> Path:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    config = tmp_path / "syndicate.toml"
    config.write_text(
        f"""
[site]
title = "World Desk"
url = "https://news.example.org/"
language = "en"

[sources]
paths = ["seeds"]

[translation]
languages = ["es"]
provider = "openai"
cache = "cache.sqlite3"
retries = 0
{extra}

[translation.settings.openai]
base_url = "{server.url}v1"
model = "test-model"
name = "Test LLM"
batch_size = "8"

[output]
target = "feeds"
""",
        encoding="utf-8",
    )
    return config


def test_publish_dry_run_estimates_tokens_and_the_cap_defers_the_rest(server: FakeServer, tmp_path: Path) -> None:
    server.default = translating
    config = _site(tmp_path, server, extra="max_chars_per_run = 2000")
    dry = runner.invoke(app, ["publish", "--config", str(config), "--dry-run", "--json"], catch_exceptions=False)
    [line] = json.loads(dry.stdout)
    assert line["provider"] == "openai" and line["tokens"] > line["characters"] // 4 > 0
    assert line["characters"] <= 2000 and line["deferred"] > 0
    assert server.hits == 0
    text = runner.invoke(app, ["publish", "--config", str(config), "--dry-run"], catch_exceptions=False).stdout
    assert "tokens)" in text and "wait for a later run" in text

    result = runner.invoke(app, ["publish", "--config", str(config), "--json"], catch_exceptions=False)
    summary = json.loads(result.stdout)
    assert result.exit_code == ExitCode.PARTIAL
    assert sum(len(t) for r in server.requests for t in _sent(r)) <= 2000
    assert all(f["reason"].startswith("deferred") for f in summary["failures"]["es"])
    assert "max_chars_per_run" in result.stderr
    for _ in range(10):
        result = runner.invoke(app, ["publish", "--config", str(config), "--json"], catch_exceptions=False)
        if result.exit_code == ExitCode.OK:
            break
    assert result.exit_code == ExitCode.OK
    feed = feedparser.parse((tmp_path / "feeds" / "es" / "atom.xml").read_bytes())
    assert len(feed.entries) == 6 and all(e.title.startswith("ES:") for e in feed.entries)
    assert "Test LLM" in (tmp_path / "feeds" / "es" / "atom.xml").read_text()  # the machine note names it
