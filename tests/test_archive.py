"""Complete history (RFC 5005 section 4): archive pages readers can walk back through, that never change."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from syndicate.config import load_config
from syndicate.errors import ExitCode
from syndicate.pipeline import publish_site
from syndicate.render.archive import archive_slices
from syndicate.validate import validate_target
from tests.helpers import tree_digest

SITE = "https://news.example.org/"
FH = "{http://purl.org/syndication/history/1.0}archive"
START = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)


def _site(root: Path, count: int, *, extra: str = "") -> Path:
    items = [
        {
            "title": f"Dispatch number {n}",
            "date_published": (START + timedelta(hours=n)).isoformat(),
            "content_text": f"What happened in dispatch {n}.",
        }
        for n in range(count)
    ]
    (root / "seeds").mkdir(parents=True, exist_ok=True)
    (root / "seeds/wire.json").write_text(json.dumps(items), encoding="utf-8")
    config = root / "syndicate.toml"
    config.write_text(
        f'[site]\ntitle = "Desk"\nurl = "{SITE}"\nlanguage = "en"\n'
        f'[sources]\npaths = ["seeds"]\n[translation]\nlanguages = []\ncache = "cache.sqlite3"\n'
        f'[output]\ntarget = "feeds"\nmax_items = 50\n{extra}',
        encoding="utf-8",
    )
    return config


def _add_article(root: Path, hours: int) -> None:
    when = (START + timedelta(hours=hours)).isoformat()
    (root / "seeds/late.md").write_text(f"---\ntitle: The late one\ndate: {when}\n---\n\nNews.\n", encoding="utf-8")


def _file(target: Path, url: str) -> Path:
    assert url.startswith(SITE)
    return target / url[len(SITE) :]


def _walk_xml(target: Path, name: str) -> list[str]:
    """A client: read the subscription feed, then follow prev-archive until there is none."""
    ids: list[str] = []
    url: str | None = SITE + f"en/{name}"
    seen = set()
    while url is not None:
        assert url not in seen, f"prev-archive loops back to {url}"
        seen.add(url)
        parsed = feedparser.parse(_file(target, url).read_bytes())
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        ids += [entry.id for entry in parsed.entries]
        url = next((link.href for link in parsed.feed.get("links", []) if link.rel == "prev-archive"), None)
    return ids


def _walk_json(target: Path) -> list[str]:
    ids: list[str] = []
    url: str | None = SITE + "en/feed.json"
    while url is not None:
        doc = json.loads(_file(target, url).read_bytes())
        ids += [item["id"] for item in doc["items"]]
        assert doc.get("next_url") == doc.get("_archive", {}).get("prev-archive")
        url = doc.get("next_url")
    return ids


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    summary = publish_site(load_config(_site(root, 120)))
    assert summary.exit_code == ExitCode.OK, summary.as_dict()
    return root


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_a_client_following_prev_archive_collects_every_article_once(history: Path, name: str) -> None:
    target = history / "feeds"
    ids = _walk_xml(target, name)
    assert len(ids) == 120 and len(set(ids)) == 120
    first_page = feedparser.parse((target / "en" / name).read_bytes())
    assert len(first_page.entries) == 50


def test_json_feed_pages_collect_every_article_once(history: Path) -> None:
    ids = _walk_json(history / "feeds")
    assert len(ids) == 120 and len(set(ids)) == 120
    assert set(ids) == set(_walk_xml(history / "feeds", "atom.xml"))


def test_archive_pages_are_marked_and_linked(history: Path) -> None:
    target = history / "feeds"
    for name in ("rss.xml", "atom.xml"):
        oldest = etree.parse(str(target / "en/archive/1" / name)).getroot()
        newest = etree.parse(str(target / "en/archive/2" / name)).getroot()
        for root, number in ((oldest, 1), (newest, 2)):
            assert root.find(f".//{FH}") is not None
            links = {
                link.get("rel"): link.get("href")
                for link in root.iter("{http://www.w3.org/2005/Atom}link")
                if link.getparent() in (root, root.find("channel"))
            }
            assert links["self"] == SITE + f"en/archive/{number}/{name}"
            assert links["current"] == SITE + f"en/{name}"
            assert "hub" not in links
        assert _links(oldest).get("next-archive") == SITE + f"en/archive/2/{name}"
        assert "prev-archive" not in _links(oldest)
        assert _links(newest).get("prev-archive") == SITE + f"en/archive/1/{name}"
        assert "next-archive" not in _links(newest)
        subscription = etree.parse(str(target / "en" / name)).getroot()
        assert subscription.find(f".//{FH}") is None
    pages = [len(feedparser.parse((target / f"en/archive/{n}/rss.xml").read_bytes()).entries) for n in (1, 2)]
    assert pages == [50, 20]  # the oldest page is full, the newest takes what leaves the window
    doc = json.loads((target / "en/archive/1/feed.json").read_bytes())
    assert doc["_archive"]["archive"] is True and doc["_archive"]["current"] == SITE + "en/feed.json"


def _links(root: etree._Element) -> dict[str, str]:
    parent = root.find("channel") if root.tag == "rss" else root
    return {link.get("rel"): link.get("href") for link in parent.findall("{http://www.w3.org/2005/Atom}link")}


def test_archives_validate(history: Path) -> None:
    assert validate_target(history / "feeds") == []


def test_adding_an_article_changes_only_the_feed_and_the_newest_archive_page(tmp_path: Path) -> None:
    config = load_config(_site(tmp_path, 120))
    publish_site(config)
    target = tmp_path / "feeds"
    before = tree_digest(target)
    _add_article(tmp_path, 500)
    publish_site(config)
    after = tree_digest(target)
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p) and not p.startswith(".")}
    feeds = {p for p in changed if p.endswith(("rss.xml", "atom.xml", "feed.json"))}
    assert feeds == {f"en/{n}" for n in ("rss.xml", "atom.xml", "feed.json")} | {
        f"en/archive/2/{n}" for n in ("rss.xml", "atom.xml", "feed.json")
    }
    pages = {p for p in changed if p.startswith("en/articles/")}
    assert len(pages) == 1  # the new article's page
    assert changed - feeds - pages <= {"en/index.html", "index.html", "feeds.opml"}
    assert len(_walk_xml(target, "rss.xml")) == 121


def test_archive_pages_are_byte_stable(tmp_path: Path) -> None:
    config = load_config(_site(tmp_path, 70))
    publish_site(config)
    (tmp_path / "feeds/.syndicate/status.json").unlink()  # no shortcut
    (tmp_path / "feeds/.syndicate/manifest.json").unlink()  # no render keys: every file rendered again
    summary = publish_site(config)
    assert summary.written == 0


def test_archive_false_publishes_no_archive(tmp_path: Path) -> None:
    publish_site(load_config(_site(tmp_path, 60, extra="archive = false\n")))
    target = tmp_path / "feeds"
    assert not (target / "en/archive").exists()
    assert b"prev-archive" not in (target / "en/atom.xml").read_bytes()
    assert "next_url" not in json.loads((target / "en/feed.json").read_bytes())


def test_page_size_is_configurable(tmp_path: Path) -> None:
    publish_site(load_config(_site(tmp_path, 75, extra="archive_page_size = 10\n")))
    target = tmp_path / "feeds"
    sizes = [
        len(json.loads((target / f"en/archive/{n}/feed.json").read_bytes())["items"]) for n in range(1, 4)
    ]
    assert sizes == [10, 10, 5]
    assert not (target / "en/archive/4").exists()
    assert len(_walk_json(target)) == 75


@given(count=st.integers(0, 400), max_items=st.integers(1, 60), size=st.integers(1, 60))
def test_pages_partition_the_archive_and_never_move_when_one_article_arrives(
    count: int, max_items: int, size: int
) -> None:
    pages = archive_slices(count, max_items, size)
    covered = [i for start, stop in reversed(pages) for i in range(start, stop)]
    assert covered == list(range(max_items, count)) if count > max_items else pages == []
    assert all(stop - start == size for start, stop in pages[:-1])  # only the newest page is not full
    grown = archive_slices(count + 1, max_items, size)
    # In the newest-first list of count + 1 articles, every old index moves by one.
    assert [(a + 1, b + 1) for a, b in pages[:-1]] == grown[: max(len(pages) - 1, 0)]


def test_validate_finds_a_broken_chain(history: Path, tmp_path: Path) -> None:
    import shutil

    target = tmp_path / "feeds"
    shutil.copytree(history / "feeds", target)
    (target / "en/archive/1/rss.xml").unlink()
    atom = target / "en/archive/2/atom.xml"
    atom.write_bytes(atom.read_bytes().replace(b"<fh:archive", b"<fh:archived"))
    found = {str(p) for p in validate_target(target)}
    assert (
        "en/archive/2/rss.xml: prev-archive 'https://news.example.org/en/archive/1/rss.xml'"
        " does not resolve to a file in the target"
    ) in found
    assert "en/archive/2/atom.xml: archive page has no <fh:archive/> marker (RFC 5005)" in found
