"""Feed-level links, authors and machine dates as written (DESIGN 6), pinned on the bytes.

The feedgen canaries fail when feedgen changes the behaviour that
:func:`syndicate.render.feeds._place_feed_links` exists to overrule.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.models import Article, Block, Edition, Site
from syndicate.render import render_site
from syndicate.render.feeds import feed_links, render_atom, render_rss

ATOM = "{http://www.w3.org/2005/Atom}"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
SITE = Site(
    title="Harbour Post", url="https://post.example.org/", description="d", timezone="America/New_York", language="en"
)
EDT = timezone(timedelta(hours=-4))


def _article(slug: str, published: datetime, author: str | None = None) -> Article:
    return Article(
        id=f"urn:uuid:{slug}",
        slug=slug,
        title=slug.title(),
        summary="Summary.",
        body=(Block("Text."),),
        published=published,
        language="en",
        author=author,
    )


EDITION = Edition(
    "en",
    "Harbour Post",
    "d",
    (
        _article("late-night", datetime(2025, 4, 12, 23, 59, tzinfo=EDT), author="Ana Reporter"),
        _article("evening", datetime(2025, 4, 12, 18, 0, tzinfo=EDT)),
    ),
)


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _links(parent: etree._Element) -> list[dict[str, str]]:
    return [dict(el.attrib) for el in parent.findall(f"{ATOM}link")]


@pytest.mark.parametrize("siblings", [(), ("es",), ("es", "ca")])
def test_every_feed_level_link_comes_from_feed_links_in_its_order(siblings: tuple[str, ...]) -> None:
    for fmt, render in (("rss", render_rss), ("atom", render_atom)):
        root = _xml(render(SITE, EDITION, siblings))
        parent = root.find("channel") if fmt == "rss" else root
        assert parent is not None
        expected = feed_links(SITE, EDITION, fmt, siblings)
        assert _links(parent) == expected
        assert expected[0] == {
            "href": "https://post.example.org/en/index.html",
            "rel": "alternate",
            "type": "text/html",
            "hreflang": "en",
        }
        assert expected[1]["rel"] == "self"
        # with siblings, the page closes the list too (readers that take the last alternate); without, once only
        pages = [link for link in expected if link["type"] == "text/html"]
        assert len(pages) == (2 if siblings else 1)
        alternates = [link for link in expected if link["rel"] == "alternate"]
        assert alternates[-1]["href"] == alternates[0]["href"] == "https://post.example.org/en/index.html"


def test_feedgen_still_writes_links_in_call_order_and_uses_the_last_for_rss() -> None:
    """Canary: the traps _place_feed_links overrules; fails once feedgen changes them."""
    fg = FeedGenerator()
    fg.id("urn:x")
    fg.title("t")
    fg.description("d")
    fg.link(href="https://example.org/self.xml", rel="self")
    fg.link(href="https://example.org/page.html", rel="alternate")
    fg.link(href="https://example.org/es.xml", rel="alternate")
    channel = _xml(fg.rss_str()).find("channel")
    assert channel is not None and channel.findtext("link") == "https://example.org/es.xml"
    hrefs = [el.get("href") for el in _xml(fg.atom_str()).findall(f"{ATOM}link")]
    assert hrefs == ["https://example.org/self.xml", "https://example.org/page.html", "https://example.org/es.xml"]


def test_every_item_names_its_author_in_every_format() -> None:
    files = render_site(SITE, [EDITION], formats=("rss", "atom", "json"))
    channel = _xml(files["en/rss.xml"]).find("channel")
    assert channel is not None
    assert channel.findtext(DC_CREATOR) == "Harbour Post"  # no site.author: the site's title
    assert channel.find("managingEditor") is None  # RSS wants an e-mail there; none is configured
    assert [item.findtext(DC_CREATOR) for item in channel.iter("item")] == ["Ana Reporter", "Harbour Post"]
    assert [item.find("author") for item in channel.iter("item")] == [None, None]
    atom = _xml(files["en/atom.xml"])
    assert atom.findtext(f"{ATOM}author/{ATOM}name") == "Harbour Post"
    assert [e.findtext(f"{ATOM}author/{ATOM}name") for e in atom.iter(f"{ATOM}entry")] == [
        "Ana Reporter",
        "Harbour Post",
    ]
    feed = json.loads(files["en/feed.json"])
    assert feed["authors"] == [{"name": "Harbour Post"}] and feed["author"] == {"name": "Harbour Post"}
    assert [(i["authors"], i["author"]) for i in feed["items"]] == [
        ([{"name": "Ana Reporter"}], {"name": "Ana Reporter"}),
        ([{"name": "Harbour Post"}], {"name": "Harbour Post"}),
    ]


def test_machine_dates_are_utc_and_the_dateline_stays_local() -> None:
    files = render_site(SITE, [EDITION], formats=("rss", "atom", "json"))
    channel = _xml(files["en/rss.xml"]).find("channel")
    assert channel is not None
    # 23:59 EDT on the 12th is 03:59 UTC on the 13th: the day, the weekday and the offset all change
    assert channel.findtext("item/pubDate") == "Sun, 13 Apr 2025 03:59:00 +0000"
    assert channel.findtext("lastBuildDate") == "Sun, 13 Apr 2025 03:59:00 +0000"
    atom = _xml(files["en/atom.xml"])
    assert atom.findtext(f"{ATOM}updated") == "2025-04-13T03:59:00Z"
    assert atom.findtext(f"{ATOM}entry/{ATOM}published") == "2025-04-13T03:59:00Z"
    item = json.loads(files["en/feed.json"])["items"][0]
    assert (item["date_published"], item["date_modified"]) == ("2025-04-13T03:59:00Z", "2025-04-13T03:59:00Z")
    # what a person reads stays in the newsroom's time
    assert "April 12, 2025, 11:59" in item["content_html"]
    assert b"<dateModified>Sun, 13 Apr 2025 03:59:00 +0000</dateModified>" in files["feeds.opml"]


def test_opml_json_feed_outlines_are_not_called_rss() -> None:
    opml = _xml(render_site(SITE, [EDITION], formats=("rss", "atom", "json"))["feeds.opml"])
    types = {o.get("xmlUrl", "").rsplit("/", 1)[-1]: o.get("type") for o in opml.iter("outline") if o.get("xmlUrl")}
    assert types == {"rss.xml": "rss", "atom.xml": "rss", "feed.json": "json"}


def test_a_configured_email_is_the_rss_managing_editor(tmp_path: Path) -> None:
    """RSS 2.0 ``managingEditor`` is an e-mail address: written only when site.email is configured."""
    from syndicate.config import config_from_mapping
    from syndicate.errors import ConfigError
    from syndicate.pipeline import publish_site

    source = tmp_path / "src"
    source.mkdir()
    (source / "a.md").write_text("---\ntitle: One\ndate: 2025-01-01T10:00:00Z\n---\nText.\n", encoding="utf-8")
    site = {"title": "Desk", "url": "https://news.example.org/", "author": "World Desk", "email": "desk@example.org"}
    raw = {"site": site, "sources": {"paths": [str(source)]}, "output": {"target": str(tmp_path / "feeds")}}
    publish_site(config_from_mapping(raw, base=tmp_path))
    parsed = feedparser.parse((tmp_path / "feeds" / "en" / "rss.xml").read_bytes())
    assert parsed.feed.author_detail.email == "desk@example.org"
    assert b"<managingEditor>desk@example.org (World Desk)</managingEditor>" in (
        tmp_path / "feeds" / "en" / "rss.xml"
    ).read_bytes()
    with pytest.raises(ConfigError, match=r"site\.email"):
        config_from_mapping({"site": {"email": "not an address"}}, base=tmp_path)
