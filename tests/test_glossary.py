"""Glossary terms (issue 10): names kept, renderings per language, last words of names, with real apertium."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from syndicate.config import TranslationOptions, config_from_mapping
from syndicate.errors import ConfigError
from syndicate.translate import SegmentCache, translate_segments
from syndicate.translate.protect import Glossary, glossary_for
from syndicate.translate.providers.apertium import ApertiumTranslator

OPTIONS = TranslationOptions(
    glossary=("Donald Trump", "Sergei Lavrov"),
    terms=(("billion", (("ca", "mil milions"), ("es", "mil millones"))),),
)


def test_renderings_and_last_words_are_protected_as_whole_words() -> None:
    glossary = glossary_for(OPTIONS, "es")
    text, mapping = glossary.protect("Trump spoke of a billion; Billion-dollar talks. Trumpets and billions stay.")
    assert sorted(mapping.values()) == ["Mil millones", "Trump", "mil millones"]
    assert "Trumpets" in text and "billions" in text  # whole words only
    assert glossary.restore(text, mapping) == (
        "Trump spoke of a mil millones; Mil millones-dollar talks. Trumpets and billions stay."
    )


def test_names_match_case_sensitively_and_last_word_can_be_turned_off() -> None:
    glossary = glossary_for(OPTIONS, "ca")
    assert glossary.protect("the trump card")[1] == {}  # a lower-case word is not the name
    off = glossary_for(replace(OPTIONS, last_word=False), "ca")
    assert off.protect("Trump spoke.")[1] == {}
    assert off.version != glossary.version  # the cache never mixes the two
    assert glossary_for(OPTIONS, "fr").renderings == {}  # no rendering for fr: the term is translated


def test_terms_config_is_validated() -> None:
    config = config_from_mapping(
        {"translation": {"terms": {"billion": {"es": "mil millones"}}, "last_word": False}}, base=Path(".")
    )
    assert config.translation.terms == (("billion", (("es", "mil millones"),)),)
    assert config.translation.last_word is False
    with pytest.raises(ConfigError, match=r"translation\.terms\.billion"):
        config_from_mapping({"translation": {"terms": {"billion": "mil millones"}}}, base=Path("."))


@pytest.mark.parametrize(("lang", "rendering"), [("es", "mil millones"), ("ca", "mil milions")])
def test_renderings_and_last_word_with_real_apertium(lang: str, rendering: str) -> None:
    translator = ApertiumTranslator()
    if not translator.supports("en", lang):
        pytest.skip(f"apertium en-{lang} is not installed (scripts/bootstrap installs it)")
    text = "The harbour will cost one billion euros, Trump said, and Donald Trump agreed."
    cache = SegmentCache(None)
    try:
        bare = translate_segments([text], "en", lang, translator, cache, Glossary())
        done = translate_segments([text], "en", lang, translator, cache, glossary_for(OPTIONS, lang))
    finally:
        cache.close()
    assert "Trump" not in bare[text]  # unprotected, apertium translates the name ("el triunfo", "Supera")
    result = done[text]
    assert result.count("Trump") == 2 and "Donald Trump" in result
    assert rendering in result and "billion" not in result
