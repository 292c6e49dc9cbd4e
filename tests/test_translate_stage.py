"""The stage's public face: translate_segments and plan, with a scriptable fake engine."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from syndicate.translate import Glossary, SegmentCache, SegmentPlan, plan, translate_segments


class Fake:
    """Records every batch; ``answer`` decides each segment's reply."""

    name = "fake"
    display_name = "Fake Engine"
    max_chars = 1000

    def __init__(self, answer: Callable[[str], str | None] = lambda t: f"ES:{t}", key: str = "fake:1") -> None:
        self.answer = answer
        self.key = key
        self.calls = 0
        self.batches: list[list[str]] = []
        self.usable = True

    def cache_key(self) -> str:
        return self.key

    def supports(self, source: str, target: str) -> bool:
        return target != "ja"

    def available(self) -> tuple[bool, str]:
        return self.usable, "ok" if self.usable else "no key"

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str | None]:
        self.calls += 1
        self.batches.append(list(texts))
        return [self.answer(t) for t in texts]


@pytest.fixture
def cache(tmp_path: Path) -> SegmentCache:
    return SegmentCache(tmp_path / "cache.sqlite3")


def test_one_batch_dedupes_and_caches(cache: SegmentCache) -> None:
    fake = Fake()
    segments = ["Title", "Para one.", "Title", "", "Para two."]
    result = translate_segments(segments, "en", "es", fake, cache, Glossary())
    assert result == {"Title": "ES:Title", "Para one.": "ES:Para one.", "": "", "Para two.": "ES:Para two."}
    assert fake.batches == [["Title", "Para one.", "Para two."]]  # one call, no duplicates, no blanks
    assert translate_segments([*segments, "New."], "en", "es", fake, cache, Glossary()) == {**result, "New.": "ES:New."}
    assert fake.batches[1] == ["New."]  # only the uncached one is sent


def test_cached_segments_send_nothing(cache: SegmentCache) -> None:
    fake = Fake()
    translate_segments(["A.", "B."], "en", "es", fake, cache, Glossary())
    again = Fake()
    assert translate_segments(["A.", "B."], "en", "es", again, cache, Glossary()) == {"A.": "ES:A.", "B.": "ES:B."}
    assert again.calls == 0


@pytest.mark.parametrize(
    "change",
    [
        lambda: (Fake(key="fake:2"), "es", Glossary()),  # provider version/config
        lambda: (Fake(), "ca", Glossary()),  # language
        lambda: (Fake(), "es", Glossary(["Istanbul"])),  # glossary version
    ],
)
def test_cache_misses_when_what_shapes_the_translation_changes(
    cache: SegmentCache, change: Callable[[], tuple[Fake, str, Glossary]]
) -> None:
    translate_segments(["A."], "en", "es", Fake(), cache, Glossary())
    fake, target, glossary = change()
    translate_segments(["A."], "en", target, fake, cache, glossary)
    assert fake.calls == 1


def test_failures_are_missing_logged_once_and_not_cached(cache: SegmentCache, caplog: pytest.LogCaptureFixture) -> None:
    replies = {"Good.": "Bueno.", "Lost.": None, "Error.": "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS"}
    fake = Fake(lambda t: replies[t])
    with caplog.at_level(logging.WARNING, logger="syndicate"):
        result = translate_segments(list(replies), "en", "es", fake, cache, Glossary())
    assert result == {"Good.": "Bueno."}
    assert [r.getMessage() for r in caplog.records] == [
        "fake en->es: 2 of 3 segments not translated (1 engine failure, 1 implausible length)"
    ]
    assert result.failures == {
        "Lost.": "engine failure (no answer)",
        "Error.": "implausible length (58 characters for 6)",
    }
    retry = Fake()
    translate_segments(list(replies), "en", "es", retry, cache, Glossary())
    assert retry.batches == [["Lost.", "Error."]]  # retried next run


def test_glossary_placeholders_are_sent_and_restored(cache: SegmentCache) -> None:
    fake = Fake()
    glossary = Glossary(["Sonata Coulter", "Alexander Darchiev", "Sergei Lavrov"])
    text = "Sonata Coulter met Alexander Darchiev; Sergei Lavrov did not."
    assert translate_segments([text], "en", "es", fake, cache, glossary) == {text: f"ES:{text}"}
    [[sent]] = fake.batches
    assert "Coulter" not in sent and "Darchiev" not in sent and "Lavrov" not in sent


def test_a_mangled_name_fails_the_segment(cache: SegmentCache, caplog: pytest.LogCaptureFixture) -> None:
    fake = Fake(lambda t: t[:-8] + ".")  # drops the trailing placeholder
    with caplog.at_level(logging.WARNING, logger="syndicate"):
        assert translate_segments(["He met Sergei Lavrov"], "en", "es", fake, cache, Glossary(["Sergei Lavrov"])) == {}
    assert "lost placeholder" in caplog.text


def test_unusable_or_unsupported_provider_sends_nothing(cache: SegmentCache, caplog: pytest.LogCaptureFixture) -> None:
    fake = Fake()
    with caplog.at_level(logging.WARNING, logger="syndicate"):
        assert translate_segments(["A."], "en", "ja", fake, cache, Glossary()) == {}
        fake.usable = False
        assert translate_segments(["A."], "en", "es", fake, cache, Glossary()) == {}
    assert fake.calls == 0
    assert "fake cannot translate en->ja (language pair not supported)" in caplog.text
    assert "fake cannot translate en->es (no key)" in caplog.text


def test_a_provider_that_raises_or_miscounts_fails_its_segments(cache: SegmentCache) -> None:
    def boom(text: str) -> str:
        raise RuntimeError("engine bug")

    assert translate_segments(["A."], "en", "es", Fake(boom), cache, Glossary()) == {}

    class Short(Fake):
        def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str | None]:
            return ["only one"]

    assert translate_segments(["A.", "B."], "en", "es", Short(), cache, Glossary()) == {}


def test_plan_counts_uncached_segments_and_characters_without_sending(cache: SegmentCache) -> None:
    fake = Fake()
    segments = ["Title", "Para one.", "Title", "  "]
    assert plan(segments, "en", "es", fake, cache, Glossary()) == SegmentPlan("fake", "en", "es", 2, 14)
    assert fake.calls == 0
    translate_segments(["Title"], "en", "es", fake, cache, Glossary())
    assert plan(segments, "en", "es", fake, cache, Glossary()).segments == 1
