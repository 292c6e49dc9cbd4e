"""Language tags, direction, display names, datelines and translation notes."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate import localize
from syndicate.errors import ConfigError, ExitCode

# 2025-04-14 10:46 in Moscow (MSK, UTC+3, no DST).
MOSCOW_MORNING = datetime(2025, 4, 14, 7, 46, tzinfo=UTC)

# --------------------------------------------------------------------- tags


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("pt_BR", "pt-BR"),
        ("pt-br", "pt-BR"),
        ("zh_hant_tw", "zh-Hant-TW"),
        ("sr-latn", "sr-Latn"),
        ("es-419", "es-419"),
        ("ca-ES-VALENCIA", "ca-ES-valencia"),
        (" es ", "es"),
        ("iw", "he"),  # deprecated code, canonical replacement
    ],
)
def test_normalize_tag(raw: str, expected: str) -> None:
    assert localize.normalize_tag(raw) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        " ",
        "../x",
        "en/..",
        "en-",
        "-en",
        "e",
        "english",
        "en US",
        "en\nfr",
        "xx",
        "tlh",
        "und",
        "en-US-x-private",
    ],
)
def test_normalize_tag_rejects_with_a_message_naming_the_tag(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        localize.normalize_tag(bad)
    assert repr(bad) in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == ExitCode.USAGE


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./ \\", max_size=16))
def test_normalized_tags_are_safe_directory_names_and_stable(raw: str) -> None:
    try:
        tag = localize.normalize_tag(raw)
    except ConfigError:
        return
    assert re.fullmatch(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*", tag)
    assert tag not in {".", ".."}
    assert localize.normalize_tag(tag) == tag


# ---------------------------------------------------------------- direction


@pytest.mark.parametrize("tag", ["ar", "he", "fa", "ur", "ps", "ckb", "ar-EG", "az-Arab", "yi", "dv", "ff-Adlm"])
def test_rtl_languages(tag: str) -> None:
    assert localize.text_direction(tag) == "rtl"


@pytest.mark.parametrize("tag", ["en", "es", "ca", "zh-Hant-TW", "sr-Latn", "az"])
def test_ltr_languages(tag: str) -> None:
    assert localize.text_direction(tag) == "ltr"


# ------------------------------------------------------------ display names


def test_language_names_come_from_babel() -> None:
    assert localize.language_name("es", "es") == "español"
    assert localize.language_name("en", "es") == "inglés"
    assert localize.language_name("pt_BR", "en") == "Portuguese (Brazil)"
    assert localize.native_name("ar") == "العربية"


def test_edition_title() -> None:
    assert localize.edition_title("World Desk", "es") == "World Desk (español)"
    assert localize.edition_title("World Desk", "en") == "World Desk (English)"


# ---------------------------------------------------------------- datelines


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("es", "14 de abril de 2025, 10:46 MSK"),
        ("en", "April 14, 2025, 10:46\u202fAM MSK"),
        ("ca", "14 d\u2019abril del 2025, 10:46 MSK"),
        ("ar", "14 أبريل 2025\u060c 10:46 ص MSK"),
        ("de", "14. April 2025, 10:46 MSK"),
    ],
)
def test_dateline_exact_strings(tag: str, expected: str) -> None:
    assert localize.format_dateline(MOSCOW_MORNING, tag, "Europe/Moscow") == expected


def test_dateline_converts_from_any_offset() -> None:
    same_instant = MOSCOW_MORNING.astimezone(timezone(timedelta(hours=-5)))
    assert localize.format_dateline(same_instant, "es", "Europe/Moscow") == "14 de abril de 2025, 10:46 MSK"


def test_dateline_follows_dst_change() -> None:
    # Spain moved from CET (UTC+1) to CEST (UTC+2) on 2025-03-30.
    before = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
    after = datetime(2025, 3, 31, 12, 0, tzinfo=UTC)
    assert localize.format_dateline(before, "es", "Europe/Madrid") == "29 de marzo de 2025, 13:00 CET"
    assert localize.format_dateline(after, "es", "Europe/Madrid") == "31 de marzo de 2025, 14:00 CEST"
    assert localize.format_dateline(after, "en", "Europe/Madrid") == "March 31, 2025, 2:00\u202fPM CEST"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Asia/Dubai", "14 de abril de 2025, 11:46 UTC+4"),  # tzname() is "+04"
        ("America/Sao_Paulo", "14 de abril de 2025, 4:46 UTC-3"),  # "-03"
        ("Asia/Kathmandu", "14 de abril de 2025, 13:31 UTC+5:45"),  # "+0545"
        ("UTC", "14 de abril de 2025, 7:46 UTC"),
        ("America/New_York", "14 de abril de 2025, 3:46 EDT"),
    ],
)
def test_dateline_zone_abbreviations(zone: str, expected: str) -> None:
    assert localize.format_dateline(MOSCOW_MORNING, "es", zone) == expected


@pytest.fixture
def foreign_process_tz() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Auckland"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.mark.usefixtures("foreign_process_tz")
def test_dateline_ignores_process_timezone() -> None:
    assert localize.format_dateline(MOSCOW_MORNING, "es", "Europe/Moscow") == "14 de abril de 2025, 10:46 MSK"


def test_dateline_rejects_naive_datetimes_and_unknown_zones() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        localize.format_dateline(datetime(2025, 4, 14, 10, 46), "es", "Europe/Moscow")
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        localize.format_dateline(MOSCOW_MORNING, "es", "Mars/Olympus")


# ------------------------------------------------------- translation notes


@pytest.mark.parametrize(
    ("tag", "source", "expected"),
    [
        ("es", "en", "Traducción automática del inglés por Apertium."),
        ("ca", "en", "Traducció automàtica de l'anglès per Apertium."),
        ("ca", "es", "Traducció automàtica de l'espanyol per Apertium."),
        ("ca", "ru", "Traducció automàtica del rus per Apertium."),
        ("fr", "en", "Traduction automatique de l'anglais par Apertium."),
        ("fr", "ru", "Traduction automatique du russe par Apertium."),
        ("gl", "en", "Tradución automática do inglés por Apertium."),
        ("eo", "en", "Aŭtomata traduko el la angla per Apertium."),
        ("pt-BR", "en", "Tradução automática do inglês por Apertium."),
        ("de", "en", "Maschinelle Übersetzung mit Apertium; Originalsprache: Englisch."),
        ("it", "en", "Traduzione automatica con Apertium; lingua originale: inglese."),
        ("hr", "en", "Strojni prijevod (Apertium); izvorni jezik: engleski."),
        ("sr", "en", "Машински превод (Apertium); изворни језик: енглески."),
        ("sr-Latn", "en", "Mašinski prevod (Apertium); izvorni jezik: engleski."),
        ("bs", "en", "Mašinski prijevod (Apertium); izvorni jezik: engleski."),
        ("ar", "en", "ترجمة آلية من الإنجليزية بواسطة Apertium."),
        ("en", "es", "Machine translation from Spanish by Apertium."),
        ("ja", "en", "Machine translation from English by Apertium."),  # no template: English
    ],
)
def test_translation_note(tag: str, source: str, expected: str) -> None:
    assert localize.translation_note(tag, "Apertium", source) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "Original article"),
        ("es", "Artículo original"),
        ("ar", "المقال الأصلي"),
        ("ja", "Original article"),
    ],
)
def test_original_article_label(tag: str, expected: str) -> None:
    assert localize.original_article_label(tag) == expected
