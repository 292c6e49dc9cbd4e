"""Human translations win, and per-language translation modes (issue 10, DESIGN 4)."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import lxml.html
import pytest

from syndicate.config import Config, config_from_mapping
from syndicate.errors import ExitCode
from syndicate.pipeline import publish_site, translation_cost
from syndicate.translate.providers.apertium import ApertiumTranslator

pytestmark = pytest.mark.skipif(
    not ApertiumTranslator().supports("en", "es"), reason="apertium en-es is not installed (scripts/bootstrap)"
)

ORIGINAL = """---
title: Harbour budget passes after a long night
date: 2025-06-05T09:30:00+02:00
translationKey: harbour
---
The council approved the harbour budget after a long debate.

Ferries will run every thirty minutes.
"""
HUMAN_ES = """---
title: El presupuesto del puerto se aprueba tras una larga noche
date: 2025-06-05T11:00:00+02:00
lang: es
{declaration}
---
El pleno aprobó el presupuesto del puerto tras un largo debate.
"""
OTHER = """---
title: Ferry line seven reopens
date: 2025-06-04T08:00:00+02:00
---
The ferry line seven is back today.

Tickets cost two euros.
"""


def _site(tmp_path: Path, declaration: str, **translation: object) -> Config:
    src = tmp_path / "src"
    src.mkdir()
    (src / "harbour.md").write_text(ORIGINAL, encoding="utf-8")
    (src / "ferry.md").write_text(OTHER, encoding="utf-8")
    (src / "harbour.es.md").write_text(HUMAN_ES.format(declaration=declaration), encoding="utf-8")
    raw = {
        "site": {
            "title": "Harbour News",
            "url": "https://news.example.org/",
            "timezone": "Europe/Madrid",
            "description": "News from the harbour.",
        },
        "sources": {"paths": [str(src)]},
        "output": {"target": str(tmp_path / "feeds")},
        "translation": {"languages": ["es"], "cache": str(tmp_path / "cache.sqlite3"), **translation},
    }
    return config_from_mapping(raw, base=tmp_path)


@pytest.mark.parametrize("declaration", ["translation_of: harbour.md", "translationKey: harbour"])
def test_a_human_translation_replaces_the_machine_one(tmp_path: Path, declaration: str) -> None:
    config = _site(tmp_path, declaration)
    cost = translation_cost(config)
    summary = publish_site(config)
    assert summary.exit_code == ExitCode.OK and summary.items == {"en": 2, "es": 2}
    es = feedparser.parse((tmp_path / "feeds" / "es" / "atom.xml").read_bytes())
    titles = [e.title for e in es.entries]
    assert "El presupuesto del puerto se aprueba tras una larga noche" in titles
    assert len(titles) == 2  # the human translation and the ferry story: no machine twin of the harbour story
    human = next(e for e in es.entries if e.title.startswith("El presupuesto"))
    assert "Traducción automática" not in human.content[0].value  # no machine note
    machine = next(e for e in es.entries if e is not human)
    assert "Traducción automática" in machine.content[0].value
    en = feedparser.parse((tmp_path / "feeds" / "en" / "atom.xml").read_bytes())
    assert human.id not in {e.id for e in en.entries}  # its own id
    # hreflang siblings: the original's page and the human page point at each other.
    pages = tmp_path / "feeds"
    original_page = next((pages / "en" / "articles").glob("harbour-budget*.html"))
    human_page = next((pages / "es" / "articles").glob("el-presupuesto*.html"))
    links = lxml.html.parse(str(original_page)).xpath("//link[@rel='alternate'][@hreflang]")
    assert {link.get("hreflang"): link.get("href") for link in links}["es"].endswith(human_page.name)
    back = lxml.html.parse(str(human_page)).xpath("//link[@rel='alternate'][@hreflang='en']/@href")
    assert back and back[0].endswith(original_page.name)
    # The dry run counted only the other article (and the site description) as sent.
    (line,) = cost
    assert line.segments == 4  # ferry: title, summary (its first paragraph), the second paragraph; the description


def test_a_translation_of_an_unknown_article_is_an_input_error(tmp_path: Path) -> None:
    config = _site(tmp_path, "translation_of: no-such-article")
    summary = publish_site(config)
    assert summary.exit_code == ExitCode.INPUT
    (problem,) = summary.errors
    error = str(problem)
    assert "harbour.es.md" in error and "no-such-article" in error and "\n" not in error
    assert summary.items == {"en": 2, "es": 2}  # the rest is published, machine-translated


def test_title_mode_translates_title_and_summary_and_marks_the_body(tmp_path: Path) -> None:
    config = _site(tmp_path, "translation_of: harbour.md", mode="title")
    cost = translation_cost(config)
    assert cost[0].segments == 3  # ferry: title and summary, not the body; the description
    publish_site(config)
    feed = json.loads((tmp_path / "feeds" / "es" / "feed.json").read_text(encoding="utf-8"))
    ferry = next(i for i in feed["items"] if "siete" in i["title"].lower() or "ferry" in i["title"].lower())
    assert ferry["title"] != "Ferry line seven reopens" and ferry["language"] == "es"
    assert (
        '<div lang="en" dir="ltr">\n<p>The ferry line seven is back today.</p>\n<p>Tickets cost two euros.</p>\n</div>'
        in ferry["content_html"]
    )
    assert "Título y resumen traducidos automáticamente" in ferry["content_html"]


def test_bilingual_mode_shows_the_original_under_the_translation_on_the_page(tmp_path: Path) -> None:
    config = _site(tmp_path, "translation_of: harbour.md", modes={"es": "bilingual"})
    publish_site(config)
    pages = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "feeds" / "es" / "articles").glob("*.html")}
    machine = next(text for text in pages.values() if "Traducción automática" in text)
    assert '<section class="original" lang="en" dir="ltr">' in machine
    assert "<p>The ferry line seven is back today.</p>" in machine
    human = next(text for text in pages.values() if "El pleno aprobó" in text)
    assert 'class="original"' not in human  # a human translation has no machine original to show
    feed = (tmp_path / "feeds" / "es" / "rss.xml").read_text(encoding="utf-8")
    assert "The ferry line seven is back today." not in feed  # the feed carries the translation only
