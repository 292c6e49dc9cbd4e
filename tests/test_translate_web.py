"""Web providers through their real HTTP clients, against a local server on 127.0.0.1.

deep-translator's ``LibreTranslator`` (custom_url) and DeepL's official client
talk to a ``ThreadingHTTPServer`` that speaks enough of the LibreTranslate and
DeepL APIs and can be told to rate-limit, fail, hang or answer garbage.
"""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import TranslationOptions
from syndicate.translate import Glossary, SegmentCache, plan, translate_segments
from syndicate.translate.providers.web import web_engine, web_provider
from syndicate.translate.resilient import ResilientTranslator
from tests.libre_server import FakeServer, Reply, Request, Sleeps, libre_translation

ROOT = Path(__file__).resolve().parent.parent


def libre(
    server: FakeServer,
    *,
    sleeps: Sleeps | None = None,
    environ: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
    **options: Any,
) -> ResilientTranslator:
    """A libre provider pointed at ``server``, with tiny backoff."""
    values = {"url": server.url, **(settings or {})}
    config = TranslationOptions(
        settings=(("libre", tuple(sorted(values.items()))),),
        **{"timeout": 5.0, "retries": 3, "concurrency": 1, **options},
    )
    return web_provider(
        "libre", config, environ=environ or {}, sleep=Sleeps() if sleeps is None else sleeps, jitter=lambda: 0.0
    )


# --------------------------------------------------------------------------- basics


def test_libre_translates_through_deep_translator(server: FakeServer) -> None:
    provider = libre(server)
    assert provider.translate_batch(["Hello there.", "  Two sides.  ", ""], "en", "es") == [
        "ES:Hello there.",
        "  ES:Two sides.  ",
        "",
    ]
    assert provider.calls == server.hits == 2  # blank texts are never sent
    first = server.requests[0]
    assert first.path == "/translate" and first.params["source"] == "en" and first.params["target"] == "es"
    assert "api_key" not in first.params  # keyless self-hosted server


def test_libre_key_comes_from_the_environment(server: FakeServer) -> None:
    provider = libre(server, environ={"LIBRE_API_KEY": "sekrit"})
    assert provider.translate_batch(["Hi."], "en", "es") == ["ES:Hi."]
    assert server.requests[0].params["api_key"] == "sekrit"
    assert "sekrit" not in provider.cache_key()


def test_languages_beyond_deep_translators_table(server: FakeServer) -> None:
    provider = libre(server)
    assert provider.supports("en", "ca")  # deep-translator's own table lacks Catalan
    assert provider.translate_batch(["Hi."], "en", "ca") == ["ES:Hi."]
    assert server.requests[0].params["target"] == "ca"
    assert not provider.supports("en", "xx")


# --------------------------------------------------------------------------- retries


def test_429_then_success_is_retried_honouring_retry_after(server: FakeServer) -> None:
    sleeps = Sleeps()
    server.replies = [Reply(429, {"error": "slow down"}, {"Retry-After": "2"})]
    provider = libre(server, sleeps=sleeps)
    assert provider.translate_batch(["Hello."], "en", "es") == ["ES:Hello."]
    assert server.hits == 2 and provider.calls == 2
    assert sleeps == [2.0]


def test_retry_after_is_capped_and_backoff_grows(server: FakeServer) -> None:
    sleeps = Sleeps()
    server.replies = [
        Reply(429, {"error": "x"}, {"Retry-After": "3600"}),
        Reply(503, {"error": "x"}),
        Reply(502, "<html><body>Bad Gateway</body></html>"),
    ]
    provider = libre(server, sleeps=sleeps)
    assert provider.translate_batch(["Hello."], "en", "es") == ["ES:Hello."]
    assert server.hits == 4
    assert sleeps == [30.0, 0.5, 1.0]  # Retry-After capped at 30 s; then 0.5 * 2^n (no jitter)


def test_client_errors_are_not_retried(server: FakeServer) -> None:
    sleeps = Sleeps()
    server.replies = [Reply(400, {"error": "bad request"})]
    provider = libre(server, sleeps=sleeps)
    assert provider.translate_batch(["Hello."], "en", "es") == [None]
    assert server.hits == 1 and sleeps == []


def test_authorization_failure_cuts_the_provider_off_at_once(server: FakeServer) -> None:
    server.default = lambda request: Reply(403, {"error": "Invalid API key"})
    provider = libre(server, environ={"LIBRE_API_KEY": "wrong"})
    assert provider.translate_batch(["One.", "Two.", "Three."], "en", "es") == [None, None, None]
    assert server.hits == 1
    assert provider.breaker.is_open


# --------------------------------------------------------------------------- deadlines


def test_hung_server_fails_the_segment_within_the_deadline(server: FakeServer) -> None:
    server.default = lambda request: Reply(body={"translatedText": "late"}, delay=30)
    provider = libre(server, timeout=0.5, retries=0)
    started = time.monotonic()
    assert provider.translate_batch(["Hello."], "en", "es") == [None]
    assert time.monotonic() - started < 0.5 * 10  # the deadline with 10x slack; the hang is 30 s


def test_overall_deadline_bounds_retries_of_a_hung_server(server: FakeServer) -> None:
    server.default = lambda request: Reply(body={"translatedText": "late"}, delay=30)
    provider = libre(server, timeout=0.4, retries=10, settings={"deadline": "1.0"})
    started = time.monotonic()
    assert provider.translate_batch(["Hello.", "World."], "en", "es") == [None, None]
    assert time.monotonic() - started < 1.0 * 10  # the deadline with 10x slack; the hang is 30 s


def test_hung_request_does_not_block_interpreter_exit(server: FakeServer) -> None:
    server.default = lambda request: Reply(body={"translatedText": "late"}, delay=30)
    script = textwrap.dedent(
        f"""
        from syndicate.config import TranslationOptions
        from syndicate.translate.providers.web import web_provider
        options = TranslationOptions(timeout=20, retries=0,
                                     settings=(("libre", (("deadline", "0.5"), ("url", "{server.url}"))),))
        provider = web_provider("libre", options, environ={{}})
        print(provider.translate_batch(["Hello."], "en", "es"))
        """
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - started
    assert done.stdout.strip() == "[None]", done.stderr
    assert elapsed < 15  # 0.5 s deadline + start-up, >5x slack; below the 20 s socket timeout it would wait for


# --------------------------------------------------------------------------- circuit breaker


def test_repeated_500s_open_the_circuit(server: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    server.default = lambda request: Reply(500, {"error": "boom"})
    provider = libre(server, retries=3)
    with caplog.at_level(logging.WARNING, logger="syndicate"):
        results = provider.translate_batch([f"Sentence {n}." for n in range(10)], "en", "es")
    assert results == [None] * 10
    assert server.hits == 5  # 4 attempts for the first segment, 1 for the second: then cut off
    assert provider.breaker.is_open
    assert any("cut off for the rest of the run" in r.getMessage() for r in caplog.records)
    # later calls fail fast, without a request
    assert provider.translate_batch(["More."], "en", "es") == [None]
    assert server.hits == 5 and provider.calls == 5


def test_circuit_with_concurrent_workers_stops_new_requests(server: FakeServer) -> None:
    server.default = lambda request: Reply(500, {"error": "boom"}, delay=0.05)
    provider = libre(server, retries=0, concurrency=4)
    assert provider.translate_batch([f"Sentence {n}." for n in range(40)], "en", "es") == [None] * 40
    assert 5 <= server.hits <= 5 + 3  # at most the requests already in flight when it opened


def test_success_resets_the_failure_count(server: FakeServer) -> None:
    count = itertools.count(1)  # two failures, then a success, for each segment: never five in a row
    server.default = lambda request: Reply(500, {"error": "x"}) if next(count) % 3 else libre_translation(request)
    provider = libre(server, retries=2)
    assert provider.translate_batch(["A.", "B.", "C."], "en", "es") == ["ES:A.", "ES:B.", "ES:C."]
    assert not provider.breaker.is_open and server.hits == 9


# --------------------------------------------------------------------------- answers


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body={"translatedText": ""}),
        Reply(body={"translatedText": "   "}),
        Reply(body={"translatedText": "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY."}),
        Reply(body={"translatedText": "QUERY LENGTH LIMIT EXCEEDED. MAX ALLOWED QUERY : 500 CHARS"}),
        Reply(body={"translatedText": "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"}),
        Reply(body={"translatedText": '{"error": "Too many requests"}'}),
        Reply(body={"translatedText": 42}),
        Reply(body={"translatedText": "x" * 500}),
        Reply(body={"error": "Slowdown: too many requests"}),
        Reply(body="<html><head><title>Error</title></head><body>Service Unavailable</body></html>"),
        Reply(body=None),
    ],
    ids=[
        "empty", "blank", "mymemory-quota", "length-limit", "html-text", "json-text", "number", "absurdly-long",
        "json-error-body", "html-page-200", "null",
    ],
)  # fmt: skip
def test_garbage_answers_are_never_returned(server: FakeServer, reply: Reply, tmp_path: Path) -> None:
    server.default = lambda request: reply
    provider = libre(server, retries=0)
    with SegmentCache(tmp_path / "cache.sqlite3") as cache:
        segments = ["Hello there.", "The embassy reopened on Monday.", "Ministers met in Geneva."]
        result = translate_segments(segments, "en", "es", provider, cache, Glossary())
        assert result == {}
        assert set(result.failures) == set(segments)  # each with its reason
        assert cache.stats()["entries"] == 0


# --------------------------------------------------------------------------- splitting and concurrency


def test_long_segment_is_split_at_sentence_boundaries(server: FakeServer) -> None:
    sentences = [f"Sentence number {n} talks about the embassies and staff." for n in range(8)]
    text = " ".join(sentences)
    provider = libre(server, settings={"max_chars": "130"})
    [result] = provider.translate_batch([text], "en", "es")
    sent = [r.params["q"] for r in server.requests]
    assert len(sent) > 1 and all(len(q) <= 130 for q in sent)
    assert all(q.endswith(".") for q in sent)  # cut after sentences, never inside one
    assert " ".join(sent) == text
    assert result == " ".join(f"ES:{q}" for q in sent)


def test_concurrency_is_bounded(server: FakeServer) -> None:
    server.default = lambda request: Reply(body={"translatedText": "ES:" + request.params["q"]}, delay=0.1)
    provider = libre(server, concurrency=3)
    results = provider.translate_batch([f"Line {n}." for n in range(12)], "en", "es")
    assert results == [f"ES:Line {n}." for n in range(12)]
    assert 2 <= server.max_in_flight <= 3  # not serial, and never more than asked (no speed asserted)


# --------------------------------------------------------------------------- the stage, end to end


def test_stage_protects_names_caches_and_never_resends(server: FakeServer, tmp_path: Path) -> None:
    provider = libre(server)
    glossary = Glossary(["Sonata Coulter", "Sergei Lavrov"])
    segments = ["Sonata Coulter led the side.", "Sergei Lavrov spoke.", "Sonata Coulter led the side."]
    with SegmentCache(tmp_path / "cache.sqlite3") as cache:
        assert plan(segments, "en", "es", provider, cache, glossary).segments == 2
        result = translate_segments(segments, "en", "es", provider, cache, glossary)
        assert result == {
            "Sonata Coulter led the side.": "ES:Sonata Coulter led the side.",
            "Sergei Lavrov spoke.": "ES:Sergei Lavrov spoke.",
        }
        assert all("Coulter" not in r.params["q"] and "Lavrov" not in r.params["q"] for r in server.requests)
        assert server.hits == 2
        assert translate_segments(segments, "en", "es", provider, cache, glossary) == result
        assert server.hits == 2  # everything from the cache
        assert plan(segments, "en", "es", provider, cache, glossary).segments == 0


def test_lost_placeholder_fails_the_segment(server: FakeServer, tmp_path: Path) -> None:
    server.default = lambda request: Reply(body={"translatedText": "ES: the minister spoke."})
    provider = libre(server)
    with SegmentCache(tmp_path / "cache.sqlite3") as cache:
        result = translate_segments(["Sergei Lavrov spoke."], "en", "es", provider, cache, Glossary(["Sergei Lavrov"]))
    assert result == {}


def test_provider_without_key_sends_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    provider = web_provider("deepl", TranslationOptions(), environ={})
    assert provider.available() == (False, "no API key in DEEPL_AUTH_KEY")
    with SegmentCache(tmp_path / "c.sqlite3") as cache, caplog.at_level(logging.WARNING, logger="syndicate"):
        assert translate_segments(["Hello."], "en", "de", provider, cache, Glossary()) == {}
    assert provider.calls == 0
    assert [r.getMessage() for r in caplog.records] == [
        "deepl cannot translate en->de (no API key in DEEPL_AUTH_KEY): 1 segments left untranslated"
    ]


# --------------------------------------------------------------------------- DeepL (official client)


def deepl_translation(request: Request) -> Reply:
    texts = request.body["text"]
    translations = [{"detected_source_language": "EN", "text": f"DE:{t}", "billed_characters": len(t)} for t in texts]
    return Reply(body={"translations": translations})


def deepl(server: FakeServer, **options: Any) -> ResilientTranslator:
    config = TranslationOptions(
        settings=(("deepl", (("url", server.url),)),), **{"timeout": 5.0, "retries": 2, **options}
    )
    return web_provider("deepl", config, environ={"DEEPL_AUTH_KEY": "k3y:fx"}, sleep=Sleeps(), jitter=lambda: 0.0)


def test_deepl_batches_and_sends_the_key_in_a_header(server: FakeServer) -> None:
    server.default = deepl_translation
    provider = deepl(server)
    assert provider.translate_batch(["One.", "Two.", "Three."], "en", "de") == ["DE:One.", "DE:Two.", "DE:Three."]
    [request] = server.requests
    assert request.path == "/v2/translate"
    assert request.headers["Authorization"] == "DeepL-Auth-Key k3y:fx"
    assert "k3y" not in json.dumps(request.params) and "auth_key" not in json.dumps(request.body)
    assert request.body["target_lang"] == "DE" and request.body["source_lang"] == "EN"


def test_deepl_target_variants() -> None:
    engine = web_engine("deepl", {}, {})
    assert engine.code("en", target=True) == "EN-US" and engine.code("en-GB", target=True) == "EN-GB"
    assert engine.code("pt-BR", target=True) == "PT-BR" and engine.code("pt", target=True) == "PT-PT"
    assert engine.code("zh-Hant", target=True) == "ZH-HANT" and engine.code("zh", target=False) == "ZH"
    assert engine.code("xx", target=True) is None


def test_deepl_retries_5xx_and_stops_on_quota(server: FakeServer) -> None:
    server.default = deepl_translation
    server.replies = [Reply(503, {"message": "busy"})]
    provider = deepl(server)
    assert provider.translate_batch(["One."], "en", "de") == ["DE:One."]
    assert server.hits == 2
    server.default = lambda request: Reply(456, {"message": "Quota exceeded"})
    assert provider.translate_batch(["Two.", "Three."], "en", "de") == [None, None]
    assert server.hits == 3 and provider.breaker.is_open
