"""The page-text reader on the seed page: every field of the 6 articles pinned."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syndicate.config import Config, SourceOptions
from syndicate.errors import InputError
from syndicate.models import Article, Block
from syndicate.sources import read_articles
from syndicate.sources.pagetext import read_pagetext

MSK = ZoneInfo("Europe/Moscow")
SEED_TEXT_LINES = (Path(__file__).resolve().parent.parent / "seeds" / "000_5b913e3cde1239e1.txt").read_text(
    encoding="utf-8"
).split("\n")


@pytest.fixture
def seed_articles(seed_config: Config) -> tuple[Article, ...]:
    result = read_articles(seed_config.sources, seed_config.site.language)
    assert result.errors == ()
    assert result.files == 1
    return result.articles


def test_seed_page_gives_six_articles_in_order(seed_articles: tuple[Article, ...]) -> None:
    assert [a.category for a in seed_articles] == [
        None,
        "Diplomatic Standoff",
        None,
        "Ukraine-Russia War",
        "Ukraine",
        "Russia - USA",
    ]


def test_main_article_fields(seed_articles: tuple[Article, ...]) -> None:
    main = seed_articles[0]
    assert main.title == (
        "For the first time in years, the United States and Russia say they are making headway"
        " toward restoring the basic…"
    )
    assert main.summary == SEED_TEXT_LINES[0]
    assert main.body == tuple(Block(line) for line in SEED_TEXT_LINES[:10])
    assert main.body[-1].text == (
        "Both sides now appear to agree on one thing — diplomacy cannot function if embassies do not."
    )
    assert main.published == datetime(2025, 4, 14, 10, 46, tzinfo=MSK)
    assert main.updated is None
    assert main.language == "en"
    assert main.slug == "for-the-first-time-in-years-the-united-states-and-russia-say-2020c135"
    assert main.id == "urn:uuid:2020c135-dc21-5fb0-8f1d-ea171271eae8"
    assert main.source.endswith("seeds/000_5b913e3cde1239e1.txt")


BRIEFS = [
    (
        "Russian Foreign Minister Sergei Lavrov said reaching a peace agreement with the United States over"
        " the war in Ukraine…",
        "Diplomatic Standoff",
        datetime(2025, 4, 14, 10, 46, tzinfo=MSK),
        14,
        "russian-foreign-minister-sergei-lavrov-said-reaching-a-peace-68e9587c",
        "urn:uuid:68e9587c-c80f-5dc4-9563-3c6a174d3f34",
    ),
    (
        "The Russian government has approved the country’s energy strategy through 2050",
        None,
        datetime(2025, 4, 13, 15, 53, tzinfo=MSK),
        16,
        "the-russian-government-has-approved-the-countrys-energy-1fae84dc",
        "urn:uuid:1fae84dc-63f4-5711-bdc2-3c7872eb4c1b",
    ),
    (
        "A series of overnight Russian strikes across southeastern Ukraine ignited fires, injured civilians,"
        " and damaged homes",
        "Ukraine-Russia War",
        datetime(2025, 4, 13, 10, 55, tzinfo=MSK),
        19,
        "a-series-of-overnight-russian-strikes-across-southeastern-4eddb85d",
        "urn:uuid:4eddb85d-09e0-5f97-8459-871c6e592cd7",
    ),
    (
        "A number of Ukrainian cities have declared April 14 a day of mourning for the victims of the Russian"
        " missile strikes on…",
        "Ukraine",
        datetime(2025, 4, 13, 7, 14, tzinfo=MSK),
        22,
        "a-number-of-ukrainian-cities-have-declared-april-14-a-day-of-3ff46c1c",
        "urn:uuid:3ff46c1c-2e23-5f27-9075-7e39a4698550",
    ),
    (
        "Russian Foreign Minister says Trump understands root causes of the conflict better than other"
        " Western leaders",
        "Russia - USA",
        datetime(2025, 4, 12, 17, 20, tzinfo=MSK),
        25,
        "russian-foreign-minister-says-trump-understands-root-causes-25f5ba70",
        "urn:uuid:25f5ba70-73c8-5fde-8bbe-31adf5e9ed63",
    ),
]


@pytest.mark.parametrize(("index", "expected"), list(enumerate(BRIEFS, start=1)))
def test_brief_fields(seed_articles: tuple[Article, ...], index: int, expected: tuple) -> None:  # type: ignore[type-arg]
    title, category, published, text_line, slug, ident = expected
    brief = seed_articles[index]
    text = SEED_TEXT_LINES[text_line - 1]
    assert brief.title == title
    assert len(brief.title) <= 120
    assert brief.category == category
    assert brief.published == published
    assert brief.summary == text
    assert brief.body == (Block(text),)
    assert brief.slug == slug
    assert brief.id == ident
    assert brief.language == "en"


def test_furniture_is_dropped(seed_articles: tuple[Article, ...]) -> None:
    everything = repr(seed_articles)
    assert "What is your opinion on this topic?" not in everything
    assert "Leave the first comment" not in everything
    assert "Read next" not in everything


def _read(text: str, **options: object) -> list[Article]:
    opts = SourceOptions(timezone="Europe/Moscow", **options)  # type: ignore[arg-type]
    return read_pagetext("page.txt", text, opts, datetime(2025, 4, 14, 12, 0, tzinfo=MSK), "en")


def test_header_block_sets_fields() -> None:
    (article,) = _read(
        "Title: Embassy talks resume\nDate: 2025-04-10 18:30\nUpdated: 2025-04-11T09:00:00+03:00\n"
        "URL: https://example.org/a/1\nAuthor: A. Writer\nLanguage: en\nCategory: Diplomacy\n"
        "Tags: US, Russia\n\nFirst paragraph.\nSecond paragraph.\n"
    )
    assert article.title == "Embassy talks resume"
    assert article.published == datetime(2025, 4, 10, 18, 30, tzinfo=MSK)
    assert article.updated == datetime(2025, 4, 11, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert article.link == "https://example.org/a/1"
    assert article.author == "A. Writer"
    assert article.category == "Diplomacy"
    assert article.tags == ("US", "Russia")
    assert [b.text for b in article.body] == ["First paragraph.", "Second paragraph."]


def test_first_brief_later_than_page_time_goes_to_previous_day() -> None:
    articles = _read("Lede.\nRead next\n13:00\nLater brief.\n11:00\nEarlier brief.\n")
    assert [a.published for a in articles[1:]] == [
        datetime(2025, 4, 13, 13, 0, tzinfo=MSK),
        datetime(2025, 4, 13, 11, 0, tzinfo=MSK),
    ]


def test_time_line_with_date_is_honoured() -> None:
    articles = _read("Lede.\nRelated\n2025-03-01 09:00\nOld brief.\n10:00\nOlder brief.\n")
    assert articles[1].published == datetime(2025, 3, 1, 9, 0, tzinfo=MSK)
    assert articles[2].published == datetime(2025, 2, 28, 10, 0, tzinfo=MSK)


def test_configurable_markers_and_furniture() -> None:
    articles = _read("Lede.\nMore on this\n10:00\nBrief.\nSubscribe now\n", furniture=("Subscribe now",))
    assert len(articles) == 2
    assert "Subscribe now" not in repr(articles)


def test_title_is_cut_at_a_clause_boundary_never_mid_word() -> None:
    lede = (
        "The ministers met for six hours in the old consulate building on the Bosphorus to discuss staffing,"
        " property, banking and flights, and agreed to meet again next month."
    )
    (article,) = _read(lede)
    assert article.title == (
        "The ministers met for six hours in the old consulate building on the Bosphorus to discuss staffing,"
        " property"
    )
    assert len(article.title) <= 120
    assert lede.startswith(article.title.rstrip("…"))


def test_unbroken_text_is_cut_hard_with_an_ellipsis() -> None:
    (article,) = _read("A" * 130)
    assert article.title == "A" * 120 + "…"


def test_abbreviations_do_not_end_the_first_sentence() -> None:
    (article,) = _read("The U.S. side said talks went well. Nobody else spoke.")
    assert article.title == "The U.S. side said talks went well"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Title: x\nNot a header line\n\nBody.", "page.txt:2: header line is not 'Key: value'"),
        ("Date: tomorrow\n\nBody.", "page.txt:1: Date: 'tomorrow' is not a date"),
        ("Lede.\nRead next\nNo time here.\n", "page.txt:3: expected a time line (HH:MM)"),
        ("Lede.\nRead next\n25:99\nText.\n", "page.txt:3: invalid time '25:99'"),
        ("Lede.\nRead next\n10:00\n", "page.txt:3: the brief at 10:00 has no text"),
        ("URL: javascript:alert(1)\n\nBody.", "page.txt: invalid link 'javascript:alert(1)'"),
        ("What is your opinion on this topic?\n", "page.txt: no article text"),
    ],
)
def test_malformed_pages_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        _read(text)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
