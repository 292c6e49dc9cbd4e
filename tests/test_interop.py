"""What independent feed readers take from the published seed: the same thing we mean (DESIGN 6).

Five parsers nobody on this project wrote read every edition (en, es, ca) in
every format they support, the way they are really used:

==============  ===================  =========================================
parser          formats              how
==============  ===================  =========================================
feedparser      RSS, Atom            Python library (the most used one)
fastfeedparser  RSS, Atom, JSON      Python library (lxml based, other rules)
atoma           RSS, Atom, JSON      Python library (strict dataclasses)
sfeed           RSS, Atom            C program, TSV out (the base of sfeed_mbox)
newsboat        RSS, Atom            terminal reader, over HTTP, SQLite cache
==============  ===================  =========================================

For each one: the feed's site link is the edition's HTML page; each entry's
link is its own page in that edition; entry dates are the right instant;
titles, language and author are what we published.  A parser that has no
notion of a field (sfeed has no feed-level fields) is marked so in
:data:`NOT_REPORTED`, and the test checks that it still reports nothing:
a parser starting to report a field gets it checked.
"""

from __future__ import annotations

import calendar
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import atoma
import fastfeedparser
import feedparser
import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import Config, load_config
from syndicate.models import Edition
from syndicate.pipeline import Stage, build_editions, read_inputs, translate_variants
from syndicate.render import html
from syndicate.render.feeds import item_author
from syndicate.serve import make_server

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "es", "ca")
FILES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")


@dataclass(frozen=True)
class Entry:
    """One entry as a parser reports it (None: the parser does not report that field)."""

    id: str | None
    title: str
    link: str
    published: datetime
    author: str | None


@dataclass(frozen=True)
class Seen:
    """One feed as a parser reports it."""

    site: str | None
    language: str | None
    entries: list[Entry]


@dataclass
class Published:
    root: Path
    base: str
    config: Config
    editions: dict[str, Edition]

    def url(self, lang: str, fmt: str) -> str:
        return f"{self.base}{lang}/{FILES[fmt]}"

    def data(self, lang: str, fmt: str) -> bytes:
        return (self.root / lang / FILES[fmt]).read_bytes()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """The seed published with the example config (en, es, ca), served on 127.0.0.1 for newsboat."""
    base_dir = tmp_path_factory.mktemp("interop")
    root = base_dir / "feeds"
    root.mkdir()
    server = make_server(root, port=0)  # bind first, then publish for that address
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    cache = base_dir / "translations.sqlite3"
    args = ["publish", "--config", str(ROOT / "syndicate.toml"), "--out", str(root), "--base-url", base]
    result = CliRunner().invoke(app, [*args, "--cache", str(cache)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    config = load_config(ROOT / "syndicate.toml").with_overrides(base_url=base, target=root, cache=cache)
    articles, _ = read_inputs(config)
    editions = build_editions(config.site, articles, translate_variants(config, articles, Stage()))  # cached
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Published(root, base, config, {e.language: e for e in editions})
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# ------------------------------------------------------------------ the parsers


def _feedparser(pub: Published, lang: str, fmt: str) -> Seen:
    parsed = feedparser.parse(pub.data(lang, fmt))
    assert parsed.bozo is False, parsed.get("bozo_exception")
    entries = [
        Entry(e.id, e.title, e.link, datetime.fromtimestamp(calendar.timegm(e.published_parsed), UTC), e.author)
        for e in parsed.entries
    ]
    return Seen(parsed.feed.link, parsed.feed.language, entries)


def _fastfeedparser(pub: Published, lang: str, fmt: str) -> Seen:
    parsed = fastfeedparser.parse(pub.data(lang, fmt))
    feed = parsed["feed"]
    entries = [
        Entry(e["id"], e["title"], e["link"], datetime.fromisoformat(e["published"]), e.get("author") or feed["author"])
        for e in parsed["entries"]
    ]
    return Seen(feed["link"], feed.get("language"), entries)


def _atoma(pub: Published, lang: str, fmt: str) -> Seen:
    data = pub.data(lang, fmt)
    if fmt == "rss":
        rss = atoma.parse_rss_bytes(data)
        entries = [Entry(i.guid, i.title, i.link, i.pub_date, i.author) for i in rss.items]
        return Seen(rss.link, rss.language, entries)
    if fmt == "atom":
        atom = atoma.parse_atom_bytes(data)
        site = next(link.href for link in atom.links if link.rel in (None, "alternate"))  # its first alternate
        entries = [
            Entry(
                e.id_,
                e.title.value,
                next(link.href for link in e.links if link.rel in (None, "alternate")),
                e.published,
                ", ".join(a.name for a in e.authors) or None,
            )
            for e in atom.entries
        ]
        return Seen(site, None, entries)
    feed = atoma.parse_json_feed_bytes(data)
    entries = [
        Entry(i.id_, i.title, i.url, i.date_published, (i.author or feed.author).name) for i in feed.items
    ]
    return Seen(feed.home_page_url, None, entries)


def _sfeed(pub: Published, lang: str, fmt: str) -> Seen:
    out = subprocess.run(["sfeed"], input=pub.data(lang, fmt), capture_output=True, check=True, timeout=30).stdout
    rows = [line.split("\t") for line in out.decode("utf-8").splitlines()]
    entries = [Entry(r[5], r[1], r[2], datetime.fromtimestamp(int(r[0]), UTC), r[6] or None) for r in rows]
    return Seen(None, None, entries)


_newsboat_runs: dict[tuple[str, str], dict[str, Seen]] = {}


def _newsboat(pub: Published, lang: str, fmt: str) -> Seen:
    """newsboat reloads every edition's feed of one format over HTTP into one SQLite cache.

    One cache per format: newsboat keys items by guid across feeds, and the RSS
    and Atom feeds of an edition share their ids by design.
    """
    key = (pub.base, fmt)
    if key not in _newsboat_runs:
        _newsboat_runs[key] = _newsboat_reload(pub, fmt)
    return _newsboat_runs[key][pub.url(lang, fmt)]


def _newsboat_reload(pub: Published, fmt: str) -> dict[str, Seen]:
    home = pub.root.parent / f"newsboat-{fmt}"
    home.mkdir()
    urls = [pub.url(lang, fmt) for lang in LANGS]
    (home / "urls").write_text("".join(f"{u}\n" for u in urls), encoding="utf-8")
    (home / "config").write_text("", encoding="utf-8")
    cache = home / "cache.db"
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    command = ["newsboat", "-x", "reload", "-u", str(home / "urls"), "-c", str(cache), "-C", str(home / "config")]
    proc = subprocess.run(
        command, env=env, cwd=home, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    with sqlite3.connect(cache) as db:
        sites = dict(db.execute("SELECT rssurl, url FROM rss_feed").fetchall())
        rows = db.execute("SELECT feedurl, guid, title, url, pubDate, author FROM rss_item ORDER BY id").fetchall()
    seen = {}
    for url in urls:
        entries = [
            Entry(guid, title, link, datetime.fromtimestamp(date, UTC), author or None)
            for feed, guid, title, link, date, author in rows
            if feed == url
        ]
        # newsboat keeps its own order (by date, then arrival): compare in the feed's order
        seen[url] = Seen(sites[url], None, entries)
    return seen


Parser = Callable[[Published, str, str], Seen]
PARSERS: dict[str, tuple[Parser, tuple[str, ...]]] = {
    "feedparser": (_feedparser, ("rss", "atom")),  # feedparser 6 has no JSON Feed support
    "fastfeedparser": (_fastfeedparser, ("rss", "atom", "json")),
    "atoma": (_atoma, ("rss", "atom", "json")),
    "sfeed": (_sfeed, ("rss", "atom")),
    "newsboat": (_newsboat, ("rss", "atom")),  # newsboat 2.21 reads no JSON Feed
}
# Fields a parser has no notion of, by (parser, format): checked to stay None.
NOT_REPORTED: dict[tuple[str, str], set[str]] = {
    ("fastfeedparser", "rss"): {"language"},  # it ignores the RSS <language>
    ("atoma", "atom"): {"language"},  # no xml:lang support
    ("atoma", "json"): {"language"},  # JSON Feed 1.0 model: no language
    ("atoma", "rss"): {"author"},  # reads RSS <author> (an e-mail) only, not dc:creator
    ("sfeed", "rss"): {"site", "language"},  # items only
    ("sfeed", "atom"): {"site", "language"},
    ("newsboat", "rss"): {"language"},  # not in its cache
    ("newsboat", "atom"): {"language"},
}
CASES = [
    pytest.param(name, lang, fmt, id=f"{name}-{lang}-{fmt}")
    for name, (_, formats) in PARSERS.items()
    for fmt in formats
    for lang in LANGS
    if name != "sfeed" or shutil.which("sfeed")
    if name != "newsboat" or shutil.which("newsboat")
]


@pytest.mark.parametrize(("parser", "lang", "fmt"), CASES)
def test_a_reader_sees_what_we_mean(published: Published, parser: str, lang: str, fmt: str) -> None:
    seen = PARSERS[parser][0](published, lang, fmt)
    site, edition = published.config.site, published.editions[lang]
    missing = NOT_REPORTED.get((parser, fmt), set())

    # the feed's site link is the edition's page, never a sibling feed or the feed itself
    assert seen.site == (None if "site" in missing else html.index_url(site, lang))
    assert seen.language == (None if "language" in missing else lang)

    assert len(seen.entries) == len(edition.articles) == 6
    by_id = {entry.id: entry for entry in seen.entries}
    assert sorted(by_id) == sorted(a.id for a in edition.articles)
    for article in edition.articles:
        entry = by_id[article.id]
        assert entry.title == article.title
        # each entry's link is its own page in this edition (never the English original)
        assert entry.link == html.article_url(site, lang, article.slug)
        assert entry.published == article.published  # the same instant
        assert entry.author == (None if "author" in missing else item_author(site, article))


def test_every_parser_reads_every_edition_in_two_formats_at_least() -> None:
    assert len(PARSERS) >= 5
    assert all(len(formats) >= 2 for _, formats in PARSERS.values())
    assert {fmt for _, formats in PARSERS.values() for fmt in formats} == set(FILES)


def test_item_links_resolve_inside_the_target(published: Published) -> None:
    for lang, edition in published.editions.items():
        for article in edition.articles:
            page = published.root / html.article_url(published.config.site, lang, article.slug).removeprefix(
                published.base
            )
            assert page.is_file()
