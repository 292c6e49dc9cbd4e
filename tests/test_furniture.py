"""Page furniture by line and by pattern, read from page-text fixtures in every shipped language.

Each fixture under tests/data/furniture mixes article text with share, comment
count, subscribe, advertisement, cookie and "read more" lines; only the article
text (and look-alike sentences that are real text) may come out.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syndicate.config import DEFAULT_FURNITURE, SourceOptions, config_from_mapping
from syndicate.errors import ConfigError
from syndicate.models import Article
from syndicate.sources.pagetext import read_pagetext

DATA = Path(__file__).parent / "data" / "furniture"
MSK = ZoneInfo("Europe/Moscow")

KEPT = {
    "en": [
        "The city council approved the harbour budget after a session that ran past midnight.",
        "Share prices of the port operator rose 3% on the news.",
        'Comments from the mayor were brief: "We kept our promise."',
        "Ferries sailed again on Sunday afternoon after the storm.",
    ],
    "es": [
        "El concejo aprobó el presupuesto del puerto tras una sesión que se alargó hasta la madrugada.",
        "Los comentarios del alcalde fueron breves.",
    ],
    "ca": ["El consell va aprovar el pressupost del port després d'una sessió llarga."],
    "gl": ["O concello aprobou o orzamento do porto despois dunha longa sesión."],
    "eo": ["La urba konsilio aprobis la havenan buĝeton post longa nokta kunsido."],
    "hr": ["Gradsko vijeće usvojilo je proračun luke nakon duge noćne sjednice."],
    "sr": ["Градско веће усвојило је буџет луке после дуге ноћне седнице."],
}

STRUCTURE = ("Read next", "09:15", "Port")  # the related block's marker, time line and kicker in en.txt


def _read(text: str, options: SourceOptions | None = None) -> list[Article]:
    opts = options or SourceOptions(timezone="Europe/Moscow")
    return read_pagetext("page.txt", text, opts, datetime(2025, 4, 14, 12, 0, tzinfo=MSK), "en")


def _texts(articles: list[Article]) -> list[str]:
    return [block.text for article in articles for block in article.body]


@pytest.mark.parametrize("lang", sorted(KEPT))
def test_default_furniture_is_dropped_in_every_shipped_language(lang: str) -> None:
    text = (DATA / f"{lang}.txt").read_text(encoding="utf-8")
    articles = _read(text)
    assert _texts(articles) == KEPT[lang]
    assert all(article.language == lang for article in articles)
    furniture = [line for line in text.splitlines()[3:] if line and line not in [*KEPT[lang], *STRUCTURE]]
    assert len(furniture) >= 7  # several kinds in each fixture
    everything = repr(articles)
    assert [line for line in furniture if line in everything] == []


def test_the_brief_after_the_marker_keeps_its_kicker_and_loses_its_furniture() -> None:
    articles = _read((DATA / "en.txt").read_text(encoding="utf-8"))
    brief = articles[-1]
    assert brief.category == "Port"
    assert brief.summary == "Ferries sailed again on Sunday afternoon after the storm."
    assert len(brief.body) == 1


def test_a_marker_line_is_never_furniture() -> None:
    # "Read more" is both a default marker and "read more" furniture: as a whole line it starts the related block
    articles = _read("Lede.\nRead more\n10:00\nA brief.\n")
    assert [a.summary for a in articles] == ["Lede.", "A brief."]


@pytest.mark.parametrize(
    "line",
    [
        "Comments (0)",
        "comments (12)",
        "3 Comments",
        "Comentarios (0)",
        "SHARE",
        "Share on WhatsApp:",
        "Read more…",
        "Ver más »",
        "Advertisement",
        "Subscribe now!",
        "This website uses cookies to give you the best experience.",
    ],
)
def test_default_patterns_match_whole_lines(line: str) -> None:
    (article,) = _read(f"The lede stays.\n{line}\nThe last paragraph stays.\n")
    assert _texts([article]) == ["The lede stays.", "The last paragraph stays."]


@pytest.mark.parametrize(
    "line",
    [
        "Share prices fell.",
        "Comments (0) were left under the minister's post, officials said.",
        "Advertisements for the new ferry line appeared on Monday.",
        "Read more about the budget in the council's report, which runs to 300 pages.",
        "Subscribers to the port's newsletter were told first.",
    ],
)
def test_patterns_do_not_eat_real_sentences(line: str) -> None:
    (article,) = _read(f"The lede stays.\n{line}\n")
    assert _texts([article]) == ["The lede stays.", line]


def _options(**sources: object) -> SourceOptions:
    return config_from_mapping({"site": {"timezone": "Europe/Moscow"}, "sources": sources}, base=Path(".")).sources


def test_configured_lines_and_patterns_add_to_the_defaults() -> None:
    options = _options(furniture=["Printed from the archive", r"/Photo: .{1,60}/"])
    assert options.furniture[: len(DEFAULT_FURNITURE)] == DEFAULT_FURNITURE
    (article,) = _read(
        "The lede stays.\nprinted from the archive\nPhoto: Reuters / A. Person\nComments (0)\nEnd.\n", options
    )
    assert _texts([article]) == ["The lede stays.", "End."]


def test_the_defaults_can_be_switched_off() -> None:
    options = _options(furniture=["/Photo: .+/"], furniture_defaults=False)
    assert options.furniture == ("/Photo: .+/",)
    (article,) = _read("The lede stays.\nPhoto: Reuters\nComments (0)\n", options)
    assert _texts([article]) == ["The lede stays.", "Comments (0)"]


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ({"furniture": ["/Comments (/"]}, "sources.furniture: '/Comments (/' is not a valid regular expression"),
        ({"furniture_defaults": "yes"}, "sources.furniture_defaults must be true or false"),
        ({"furniture": "Share"}, "sources.furniture must be a list of strings"),
    ],
)
def test_bad_furniture_config_is_one_clear_error(sources: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _options(**sources)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
