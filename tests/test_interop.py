"""What real feed readers extract from the published seed: feedparser and sfeed."""

from __future__ import annotations

import calendar
import html
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import feedparser
import pytest

from syndicate.config import Config
from syndicate.models import Article
from syndicate.pipeline import publish_site
from syndicate.sources import read_articles

FEEDS = ("rss.xml", "atom.xml")  # feedparser 6 has no JSON Feed support: see test_json_feed_items


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Config, tuple[Article, ...]]:
    from syndicate.config import load_config

    config = load_config(Path(__file__).resolve().parent.parent / "syndicate.toml")
    target = tmp_path_factory.mktemp("interop") / "feeds"
    config = config.with_overrides(target=target, cache=target.parent / "translations.sqlite3")
    publish_site(config)
    articles = read_articles(config.sources, "en").articles
    return target, config, articles


def _page_url(config: Config, article: Article) -> str:
    return config.site.url_for("en", "articles", f"{article.slug}.html")


@pytest.mark.parametrize("name", FEEDS)
def test_feedparser_reads_every_item(published: tuple[Path, Config, tuple[Article, ...]], name: str) -> None:
    target, config, articles = published
    parsed = feedparser.parse((target / "en" / name).read_bytes())
    assert parsed.bozo is False, parsed.get("bozo_exception")
    assert parsed.feed.link == config.site.url_for("en", "index.html")
    assert parsed.feed.language == "en"
    assert len(parsed.entries) == 6
    for entry, article in zip(parsed.entries, articles, strict=True):
        assert entry.title == article.title
        assert entry.link == _page_url(config, article)
        assert entry.id == article.id
        assert calendar.timegm(entry.published_parsed) == int(article.published.timestamp())
        if article.category:
            assert [t.term for t in entry.tags] == [article.category]
        assert article.summary in entry.summary


def test_json_feed_items(published: tuple[Path, Config, tuple[Article, ...]]) -> None:
    target, config, articles = published
    feed = json.loads((target / "en" / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == config.site.url_for("en", "feed.json")
    assert feed["home_page_url"] == config.site.url_for("en", "index.html")
    assert feed["language"] == "en"
    assert [item["id"] for item in feed["items"]] == [a.id for a in articles]
    for item, article in zip(feed["items"], articles, strict=True):
        assert item["title"] == article.title
        assert item["url"] == _page_url(config, article)
        assert datetime.fromisoformat(item["date_published"]) == article.published
        assert item["summary"] == article.summary
        assert all(html.escape(block.text) in item["content_html"] for block in article.body)


def test_item_links_resolve_inside_the_target(published: tuple[Path, Config, tuple[Article, ...]]) -> None:
    target, config, articles = published
    for article in articles:
        page = target / _page_url(config, article).removeprefix(config.site.url)
        assert page.is_file()
        assert article.title.rstrip("…") in page.read_text(encoding="utf-8") or "&" in article.title


@pytest.mark.skipif(shutil.which("sfeed") is None, reason="sfeed is not installed (scripts/bootstrap installs it)")
@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_sfeed_extracts_the_same_items(published: tuple[Path, Config, tuple[Article, ...]], name: str) -> None:
    target, config, articles = published
    out = subprocess.run(
        ["sfeed"], input=(target / "en" / name).read_bytes(), capture_output=True, check=True
    ).stdout.decode("utf-8")
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) == 6
    for row, article in zip(rows, articles, strict=True):
        timestamp, title, link = row[0], row[1], row[2]
        assert int(timestamp) == int(article.published.timestamp())
        assert title == article.title
        assert link == _page_url(config, article)
        assert row[5] == article.id
        assert row[8] == (article.category or "")
