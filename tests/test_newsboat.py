"""A real feed reader end to end: publish, serve over HTTP, let newsboat (and sfeed) read it.

newsboat's cache is SQLite (``rss_item``: guid, title, url, pubDate as unix
time, feedurl), so what it stored can be compared item by item with the
articles the readers parsed from the seed.  Two newsboat quirks shape the test:

* its cache keys items by guid across all feeds, so the RSS and the Atom
  feed of one edition (same ids, by design) are read into separate caches;
* it only sends ``If-None-Match``/``If-Modified-Since`` from its third
  reload on (the first stores the feed, the second the validators), so the
  reload runs three times and the last must be answered 304 throughout.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import Config, load_config
from syndicate.localize import edition_title, normalize_tag
from syndicate.models import Article
from syndicate.serve import PreviewHandler, make_server
from syndicate.sources import read_articles
from tests.test_ops import write_config

pytestmark = pytest.mark.skipif(shutil.which("newsboat") is None, reason="newsboat is not installed")

EXTRA = {
    # A second, right-to-left edition and titles that need escaping in XML and HTML.
    "arabic.md": "---\ntitle: محادثات في إسطنبول\nlanguage: ar\ndate: 2025-04-13T09:30:00+03:00\n"
    "category: سياسة\n---\n\nالتقى الوفدان لمدة ست ساعات.\n",
    "escapes.json": json.dumps(
        {
            "title": 'Tom & Jerry say "hi" — 5 < 6 💥',
            "date_published": "2025-04-12T23:59:00-04:00",
            "content_text": "Fish & chips.\n\nSecond paragraph.",
            "tags": ["Food & Drink"],
        },
        ensure_ascii=False,
    ),
}


@dataclass
class Site:
    root: Path
    base: str  # http://127.0.0.1:<port>/
    config: Config
    articles: tuple[Article, ...]
    statuses: list[tuple[str, int]]  # (path, HTTP status) of every request served

    def feeds(self, filename: str) -> list[tuple[str, str]]:
        """(language, URL) of every language directory's feed called ``filename``."""
        return [
            (d.name, f"{self.base}{d.name}/{filename}")
            for d in sorted(self.root.iterdir())
            if d.is_dir() and not d.name.startswith(".") and (d / filename).is_file()
        ]

    def expected(self, language: str) -> dict[str, tuple[str, str, int]]:
        """guid -> (title, link, unix time) of every article of one edition."""
        return {
            a.id: (
                a.title,
                self.config.site.url_for(language, "articles", f"{a.slug}.html"),
                int(a.published.timestamp()),
            )
            for a in self.articles
            if normalize_tag(a.language) == language
        }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, monkeymodule: pytest.MonkeyPatch) -> Iterator[Site]:
    base_dir = tmp_path_factory.mktemp("newsboat")
    root = base_dir / "feeds"
    root.mkdir()
    statuses: list[tuple[str, int]] = []
    original = PreviewHandler.log_request

    def record(self: PreviewHandler, code: int | str = "-", size: int | str = "-") -> None:
        statuses.append((self.path, int(code)))
        original(self, code, size)

    monkeymodule.setattr(PreviewHandler, "log_request", record)
    # Bind first (port 0: no race for a "free" port), then publish for that port.
    server = make_server(root, port=0)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    seeds = base_dir / "seeds"
    shutil.copytree(Path(__file__).resolve().parent.parent / "seeds", seeds)
    for name, text in EXTRA.items():
        (seeds / name).write_text(text, encoding="utf-8")
    config_path = write_config(base_dir)  # the source language's articles only, no translation engine
    result = CliRunner().invoke(
        app, ["publish", "--config", str(config_path), "--out", str(root), "--base-url", base], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    config = load_config(config_path).with_overrides(base_url=base)
    articles = read_articles(config.sources, config.site.language).articles
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(root, base, config, articles, statuses)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def monkeymodule() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _newsboat(home: Path, urls: list[str], cache: Path) -> None:
    (home / "urls").write_text("".join(f"{u}\n" for u in urls), encoding="utf-8")
    (home / "config").write_text("", encoding="utf-8")
    # No TERM, no terminal: `-x reload` runs headless.
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    proc = subprocess.run(
        ["newsboat", "-x", "reload", "-u", str(home / "urls"), "-c", str(cache), "-C", str(home / "config")],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)


@pytest.mark.parametrize("filename", ["rss.xml", "atom.xml"])
def test_newsboat_stores_every_item(site: Site, filename: str, tmp_path: Path) -> None:
    feeds = site.feeds(filename)
    assert [lang for lang, _ in feeds] == ["ar", "en"]
    cache = tmp_path / "cache.db"
    before = len(site.statuses)
    for _ in range(3):
        _newsboat(tmp_path, [url for _, url in feeds], cache)
    served = site.statuses[before:]
    assert len(served) == 3 * len(feeds)
    assert [code for _, code in served[: len(feeds)]] == [200] * len(feeds)
    assert [code for _, code in served[-len(feeds) :]] == [304] * len(feeds), served

    with sqlite3.connect(cache) as db:
        items = db.execute("SELECT feedurl, guid, title, url, pubDate FROM rss_item WHERE deleted = 0").fetchall()
        titles = dict(db.execute("SELECT rssurl, title FROM rss_feed").fetchall())
    checked = 0
    for lang, url in feeds:
        stored = {guid: (title, link, date) for feed, guid, title, link, date in items if feed == url}
        expected = site.expected(lang)
        assert stored == expected, lang
        assert titles[url] == edition_title(site.config.site.title, lang)
        checked += len(stored)
    assert checked == len(items) == len(site.articles)
    print(f"newsboat {filename}: {checked} items in {len(feeds)} feeds, 3 reloads, last one all 304")


@pytest.mark.skipif(shutil.which("sfeed") is None, reason="sfeed is not installed")
@pytest.mark.parametrize("filename", ["rss.xml", "atom.xml"])
def test_sfeed_extracts_the_same_items(site: Site, filename: str) -> None:
    checked = 0
    for lang, url in site.feeds(filename):
        with urllib.request.urlopen(url, timeout=10) as response:
            data = response.read()
        out = subprocess.run(["sfeed"], input=data, capture_output=True, check=True, timeout=30).stdout
        rows = [line.split("\t") for line in out.decode("utf-8").splitlines()]
        stored = {row[5]: (row[1], row[2], int(row[0])) for row in rows}
        assert len(rows) == len(stored)
        assert stored == site.expected(lang), lang
        checked += len(rows)
    assert checked == len(site.articles)
    print(f"sfeed {filename}: {checked} items")
