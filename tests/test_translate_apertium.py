"""The apertium provider against the real, installed engine (skipped only if apertium is absent)."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from syndicate.config import TranslationOptions
from syndicate.translate import Glossary, SegmentCache, get_provider, translate_segments
from syndicate.translate.providers.apertium import ApertiumTranslator, candidate_modes
from syndicate.translate.validate import strip_unknown_marks

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_5b913e3cde1239e1.txt"
SENTENCE = "The two sides sat down for six hours, but stayed far from the thornier issues like Ukraine."
NAMES = ("Sonata Coulter", "Alexander Darchiev", "Sergei Lavrov")

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")


def _needs(translator: ApertiumTranslator, source: str, target: str) -> None:
    if not translator.supports(source, target):
        pytest.skip(f"apertium pair {source}->{target} is not installed")


def seed_segments(count: int = 50) -> list[str]:
    """``count`` distinct segments from the seed: its lines, then its sentences, then clauses."""
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = [s for line in lines for s in re.split(r"(?<=[.!?])\s+", line) if s]
    clauses = [c for s in sentences for c in re.split(r",\s+|\s+—\s+", s) if len(c) > 20]
    segments = list(dict.fromkeys(lines + sentences + clauses))
    assert len(segments) >= count
    return segments[:count]


@pytest.fixture
def apertium() -> ApertiumTranslator:
    return ApertiumTranslator(timeout=30)


@pytest.mark.parametrize(
    ("target", "expected"),
    [("es", {"horas", "lados", "dos"}), ("ca", {"hores", "dos", "sis"})],
)
def test_translates_seed_sentence_into_real_words(
    apertium: ApertiumTranslator, target: str, expected: set[str]
) -> None:
    _needs(apertium, "en", target)
    [raw] = apertium.translate_batch([SENTENCE], "en", target)
    assert raw is not None
    translation, _ = strip_unknown_marks(SENTENCE, raw)
    words = set(re.findall(r"\w+", translation.lower()))
    assert expected <= words, translation
    assert not re.search(r"[*#@]", translation), translation
    assert "Ucra" in translation  # Ucrania / Ucraïna


@pytest.mark.parametrize("target", ["es", "ca"])
def test_fifty_segments_one_process_aligned(apertium: ApertiumTranslator, target: str) -> None:
    _needs(apertium, "en", target)
    segments = seed_segments(50)
    results = apertium.translate_batch(segments, "en", target)
    assert apertium.calls == 1  # one process for the whole batch
    assert len(results) == len(segments)
    assert all(r is not None and r.strip() for r in results)
    # alignment: numbers and names keep to their own segment
    for source, raw in zip(segments, results, strict=True):
        assert raw is not None
        result, _ = strip_unknown_marks(source, raw)
        assert re.findall(r"\d+", source) == re.findall(r"\d+", result), (source, result)
        assert not re.search(r"(?<!\S)[*#@]\w", result), result


def test_a_batch_is_one_process_and_translates_like_one_process_per_segment(apertium: ApertiumTranslator) -> None:
    """What makes a batch cheap is one engine process for all segments (speed: benchmarks/)."""
    _needs(apertium, "en", "es")
    segments = seed_segments(50)[:12]
    batched = apertium.translate_batch(segments, "en", "es")
    assert apertium.calls == 1
    single = [apertium.translate_batch([s], "en", "es")[0] for s in segments]
    assert apertium.calls == 1 + len(segments)
    assert batched == single  # separators never change a translation


def test_newlines_and_blank_lines_inside_a_segment_survive(apertium: ApertiumTranslator) -> None:
    _needs(apertium, "en", "es")
    text = "Six hours.\n\n  Two sides.\nRussia"
    [result] = apertium.translate_batch([text, "   "], "en", "es")[:1]
    assert result is not None
    lines = result.split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[2].startswith("  ")
    assert "horas" in lines[0] and "Rusia" in lines[3]
    assert apertium.translate_batch(["   "], "en", "es") == ["   "]


def test_unknown_words_come_back_marked_and_source_marks_are_kept(apertium: ApertiumTranslator) -> None:
    _needs(apertium, "en", "hr")
    texts = ["The delegations agreed to continue with Zyxwvut.", "Use #hashtag and *stars* @home."]
    agreed, marked = apertium.translate_batch(texts, "en", "hr")  # no -u: the engine marks what it does not know
    assert agreed is not None and marked is not None
    assert "*Zyxwvut" in agreed
    cleaned, unknown = strip_unknown_marks(texts[0], agreed)
    assert "Zyxwvut" in cleaned and not re.search(r"[*#@]", cleaned)
    assert unknown >= 1
    kept, _ = strip_unknown_marks(texts[1], marked)
    assert "#hashtag" in kept and "*" in kept and "@" in kept


def test_glossary_names_survive_protect_translate_restore(apertium: ApertiumTranslator, tmp_path: Path) -> None:
    glossary = Glossary(NAMES)
    segments = [line for line in seed_segments(50) if any(n in line for n in NAMES)]
    assert len(segments) >= 3
    for target in ("es", "ca"):
        _needs(apertium, "en", target)
        with SegmentCache(tmp_path / f"{target}.sqlite3") as cache:
            result = translate_segments(segments, "en", target, apertium, cache, glossary)
        assert set(result) == set(segments)
        for source, translation in result.items():
            for name in NAMES:
                assert (name in source) == (name in translation), (target, translation)


def test_placeholders_pass_through_es_and_ca_unchanged(apertium: ApertiumTranslator) -> None:
    glossary = Glossary(NAMES)
    text = "Sonata Coulter met Alexander Darchiev, and Sergei Lavrov's aide met Sonata Coulter."
    protected, mapping = glossary.protect(text)
    assert len(mapping) == 4 and not any(n in protected for n in NAMES)
    for target in ("es", "ca"):
        _needs(apertium, "en", target)
        [raw] = apertium.translate_batch([protected], "en", target)
        assert raw is not None
        for token in mapping:
            assert token in raw, (target, raw)  # exact case, untouched
        restored = glossary.restore(raw, mapping)
        assert restored is not None and restored.count("Sonata Coulter") == 2


def test_unsupported_pair_and_cyrillic_serbian(apertium: ApertiumTranslator) -> None:
    assert not apertium.supports("en", "ja")
    assert apertium.translate_batch(["Hello"], "en", "ja") == [None]
    assert apertium.calls == 0
    assert "eng-hbs_SR" not in candidate_modes("en", "sr-Cyrl")  # apertium writes Latin script


def test_mode_mapping() -> None:
    assert candidate_modes("en", "es")[0] == "eng-spa"
    assert candidate_modes("en", "hr")[0] == "eng-hbs_HR"
    assert candidate_modes("es", "en-US")[:2] == ["spa-eng_US", "spa-eng"]
    assert candidate_modes("en", "ca-ES-valencia")[0] == "eng-cat_valencia"
    assert "fra-por" in candidate_modes("fr", "pt")  # generic 639-3 fallback
    assert "fr-pt" in candidate_modes("fr", "pt")  # and 639-1


def test_cache_key_names_the_mode_and_package_version(apertium: ApertiumTranslator) -> None:
    _needs(apertium, "en", "es")
    key_es = apertium.pair_cache_key("en", "es")
    assert key_es.startswith("apertium:eng-spa:")
    assert key_es != apertium.pair_cache_key("en", "ca")
    assert apertium.pair_cache_key("en", "es-ES") == key_es  # same mode, same key
    assert apertium.cache_key().startswith("apertium:")


def test_registry_builds_apertium_with_the_configured_timeout() -> None:
    provider = get_provider("apertium", TranslationOptions(timeout=7.5))
    assert isinstance(provider, ApertiumTranslator) and provider.timeout == 7.5


def test_hung_engine_is_killed_at_the_deadline(tmp_path: Path) -> None:
    fake = tmp_path / "apertium"
    fake.write_text('#!/bin/sh\nif [ "$1" = "-l" ]; then echo "  eng-spa"; exit 0; fi\nsleep 30\n')
    fake.chmod(0o755)
    translator = ApertiumTranslator(timeout=0.5, executable=str(fake))
    started = time.monotonic()
    assert translator.translate_batch(["Hello"], "en", "es") == [None]
    assert time.monotonic() - started < 5  # the 0.5 s deadline with 10x slack; the hang is 30 s


def test_misaligned_output_fails_the_whole_batch(tmp_path: Path) -> None:
    fake = tmp_path / "apertium"  # merges every unit into one: count mismatch
    fake.write_text('#!/bin/sh\nif [ "$1" = "-l" ]; then echo "  eng-spa"; exit 0; fi\ntr -s "\\n" " "; echo\n')
    fake.chmod(0o755)
    translator = ApertiumTranslator(executable=str(fake))
    assert translator.translate_batch(["One.", "Two.", "Three."], "en", "es") == [None, None, None]
