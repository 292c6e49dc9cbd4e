"""Slugs (issue 14): transliterated to ASCII, readable for every script, stable for ASCII titles."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from syndicate.sources.common import article_id, article_slug, slugify


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Straße in København", "strasse-in-kobenhavn"),
        ("Café Ørsted in Łódź", "cafe-orsted-in-lodz"),
        ("Привет, мир", "privet-mir"),
        ("Ελληνικά νέα", "ellinika-nea"),
        ("مرحبا بالعالم", "mrhb-bl-lm"),
        ("שלום עולם", "slvm-vlm"),
        ("한국어 뉴스", "hangugeo-nyuseu"),
        ("北京欢迎你", "beijinghuanyingni"),
    ],
)
def test_letters_of_any_script_become_ascii_words(title: str, slug: str) -> None:
    assert slugify(title) == slug


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("Don’t stop: the U.S. and Russia say 2025", "dont-stop-the-u-s-and-russia-say-2025"),
        ("Crème brûlée à la française", "creme-brulee-a-la-francaise"),
    ],
)
def test_ascii_and_accented_latin_titles_keep_their_slugs(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_a_non_latin_title_never_gives_a_bare_hash() -> None:
    title = "الحكومة توافق على خطة الطاقة"
    slug = article_slug(title, article_id(title, datetime(2025, 4, 14, tzinfo=UTC)))
    words, digest = slug.rsplit("-", 1)
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug)
    assert len(digest) == 8 and len(words) > 10


def test_a_title_without_letters_still_gets_the_hash_alone() -> None:
    assert slugify("😀 🎉 — …") == ""
    slug = article_slug("😀", article_id("😀", datetime(2025, 4, 14, tzinfo=UTC)))
    assert re.fullmatch(r"[0-9a-f]{8}", slug)


def test_cut_at_a_word_boundary() -> None:
    slug = slugify("Москва " * 30)
    assert len(slug) <= 60 and slug.endswith("moskva") and not slug.endswith("-")
