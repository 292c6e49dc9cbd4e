"""validate.py holds feeds to what readers pick (DESIGN 6) and item content to safe, absolute HTML.

Each case breaks the hand-made good target one way, as a careless generator
would, and expects exactly that file to be reported with a message that says
what is wrong.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syndicate.validate import validate_target
from tests.test_validate import GOOD, edit

EN_HTML = '<link href="https://news.example.org/en/" rel="alternate" type="text/html" hreflang="en"/>'
EN_SELF = '<link href="https://news.example.org/en/atom.xml" rel="self" type="application/atom+xml"/>'
RSS_HTML = '<atom:link href="https://news.example.org/en/" rel="alternate" type="text/html" hreflang="en"/>'
HARBOUR_LINK = (
    '<link href="https://news.example.org/en/articles/harbour-budget.html" rel="alternate" type="text/html"/>'
)
HARBOUR_CONTENT = "&lt;p&gt;The council approved the harbour budget after a long night session.&lt;/p&gt;"
FERRY_JSON = FERRY_PAGE = "<p>Los ferris volvieron a zarpar el domingo por la tarde.</p>"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    shutil.copytree(GOOD, target)
    return target


BREAKS = [
    # -- the first alternate is the HTML page
    pytest.param(
        "en/atom.xml",
        f"  {EN_HTML}\n",
        "",
        "the first alternate link (rel='alternate' type='application/atom+xml', "
        "'https://news.example.org/es/atom.xml') is not type=\"text/html\"",
        id="atom-sibling-feed-first",
    ),
    pytest.param(
        "en/atom.xml",
        f"  {EN_HTML}\n  {EN_SELF}",
        f"  {EN_SELF}\n  {EN_HTML}",
        "the first link is rel='self' type='application/atom+xml', before the HTML page",
        id="atom-self-before-page",
    ),
    pytest.param(
        "en/rss.xml",
        f"    {RSS_HTML}\n",
        "",
        "the first alternate link (rel='alternate' type='application/rss+xml', "
        "'https://news.example.org/es/rss.xml') is not type=\"text/html\"",
        id="rss-sibling-feed-first",
    ),
    pytest.param(
        "en/rss.xml",
        RSS_HTML,
        RSS_HTML.replace("/en/", "/es/"),
        "the first alternate link 'https://news.example.org/es/' is not the channel <link>",
        id="rss-page-alternate-is-not-the-channel-link",
    ),
    pytest.param(
        "es/atom.xml",
        '  <link href="https://news.example.org/es/" rel="alternate" type="text/html"/>\n',
        "",
        "the last alternate link (rel='alternate' type='text/html', 'https://news.example.org/en/') "
        "is not the HTML page 'https://news.example.org/es/': readers that take the last alternate (newsboat)",
        id="atom-sibling-page-last",
    ),
    pytest.param(
        "en/rss.xml",
        '    <atom:link href="https://news.example.org/en/" rel="alternate" type="text/html"/>\n',
        "",
        "the last alternate link (rel='alternate' type='application/rss+xml', 'https://news.example.org/es/rss.xml')",
        id="rss-sibling-feed-last",
    ),
    # -- exactly one link per entry
    pytest.param(
        "en/atom.xml",
        HARBOUR_LINK,
        HARBOUR_LINK + '<link href="https://news.example.org/es/articles/harbour-budget.html" rel="related"/>',
        "entry 1 has 2 links (alternate, related): exactly one, the entry's own page, is expected",
        id="atom-entry-with-two-links",
    ),
    pytest.param(
        "en/rss.xml",
        "<link>https://news.example.org/en/articles/ferry-resumes.html</link>",
        "<link>https://news.example.org/en/articles/ferry-resumes.html</link>"
        '<atom:link href="https://news.example.org/es/articles/ferry-resumes.html" rel="related"/>',
        "item 2 has 2 links: exactly one, the item's own page, is expected",
        id="rss-item-with-two-links",
    ),
    # -- machine dates in UTC
    pytest.param(
        "en/rss.xml",
        "<pubDate>Sun, 13 Apr 2025 15:20:00 +0000</pubDate>",
        "<pubDate>Sun, 13 Apr 2025 18:20:00 +0300</pubDate>",
        "item 2 pubDate 'Sun, 13 Apr 2025 18:20:00 +0300' is not in UTC: write +0000",
        id="rss-date-with-offset",
    ),
    pytest.param(
        "en/rss.xml",
        "<lastBuildDate>Mon, 14 Apr 2025 07:46:00 +0000</lastBuildDate>",
        "<lastBuildDate>Mon, 14 Apr 2025 10:46:00 +0300</lastBuildDate>",
        "lastBuildDate 'Mon, 14 Apr 2025 10:46:00 +0300' is not in UTC",
        id="rss-build-date-with-offset",
    ),
    pytest.param(
        "es/atom.xml",
        "<published>2025-04-13T15:20:00Z</published>",
        "<published>2025-04-13T18:20:00+03:00</published>",
        "entry 2 published '2025-04-13T18:20:00+03:00' is not in UTC: write Z",
        id="atom-date-with-offset",
    ),
    pytest.param(
        "es/feed.json",
        '"date_published": "2025-04-14T07:46:00Z"',
        '"date_published": "2025-04-14T07:46:00+00:00"',
        "item 1 date_published '2025-04-14T07:46:00+00:00' is not in UTC: write Z",
        id="json-date-with-numeric-zero-offset",
    ),
    # -- item content: parses, no script, no handlers, no javascript:, absolute links
    pytest.param(
        "en/atom.xml",
        HARBOUR_CONTENT,
        HARBOUR_CONTENT + "&lt;script&gt;alert(1)&lt;/script&gt;",
        "entry 1 content: holds a <script> element",
        id="atom-content-script",
    ),
    pytest.param(
        "en/rss.xml",
        "<description>Ferries sailed again on Sunday afternoon.</description>",
        "<description>Ferries sailed again on Sunday afternoon.</description>"
        '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "&lt;p&gt;Ferries &lt;iframe src='https://ads.example.net/'&gt;&lt;/iframe&gt;"
        "&lt;script&gt;track()&lt;/script&gt;&lt;/p&gt;</content:encoded>",
        "item 2 content:encoded: holds a <script> element",
        id="rss-content-script",
    ),
    pytest.param(
        "en/atom.xml",
        HARBOUR_CONTENT,
        "&lt;p onclick='steal()'&gt;Budget passed.&lt;/p&gt;",
        "entry 1 content: <p> has an event handler attribute onclick",
        id="atom-content-event-handler",
    ),
    pytest.param(
        "es/feed.json",
        FERRY_JSON,
        '<p><a href=\\" jav&#x09;ascript:alert(1)\\">ferris</a></p>',
        "item 2 content_html: <a href> is a script URL",
        id="json-content-javascript-url",
    ),
    pytest.param(
        "es/feed.json",
        FERRY_JSON,
        '<p><img src=\\"/img/ferry.jpg\\"> Los ferris.</p>',
        "item 2 content_html: <img src='/img/ferry.jpg'> is not an absolute link",
        id="json-content-relative-image",
    ),
    pytest.param(
        "en/atom.xml",
        HARBOUR_CONTENT,
        "&lt;p&gt;Budget &lt;b&gt;passed&lt;/p&gt;&lt;/b&gt;",
        "entry 1 content: HTML does not parse cleanly",
        id="atom-content-tag-mismatch",
    ),
    pytest.param(
        "en/atom.xml",
        '<content type="html">' + HARBOUR_CONTENT + "</content>",
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><a href="#top">up</a></div></content>',
        "entry 1 content: <a href='#top'> is not an absolute link",
        id="atom-xhtml-content-fragment-link",
    ),
    # -- article pages
    pytest.param(
        "es/articles/ferry-resumes.html",
        FERRY_PAGE,
        FERRY_PAGE + '<script src="https://tracker.example.net/t.js"></script>',
        "holds a <script> element",
        id="page-script",
    ),
    pytest.param(
        "es/articles/ferry-resumes.html",
        FERRY_PAGE,
        '<p><a href="../../en/articles/ferry-resumes.html">Original</a></p>',
        "<a href='../../en/articles/ferry-resumes.html'> is not an absolute link",
        id="page-relative-link",
    ),
    pytest.param(
        "es/articles/ferry-resumes.html",
        FERRY_PAGE,
        '<p><a href="JavaScript:void(0)" onmouseover="x()">ferris</a></p>',
        "<a> has an event handler attribute onmouseover",
        id="page-event-handler",
    ),
]


@pytest.mark.parametrize(("rel", "old", "new", "expected"), BREAKS)
def test_a_reader_trap_is_reported_against_its_file(site: Path, rel: str, old: str, new: str, expected: str) -> None:
    edit(site, rel, old, new)

    problems = validate_target(site)

    assert {p.path for p in problems} == {rel}, problems
    assert any(expected in p.message for p in problems), [str(p) for p in problems]


def test_a_script_url_and_a_handler_on_one_element_are_both_reported(site: Path) -> None:
    edit(site, "es/articles/ferry-resumes.html", FERRY_PAGE, '<p><a href="javascript:x()" onclick="y()">f</a></p>')
    messages = [p.message for p in validate_target(site)]
    assert "<a> has an event handler attribute onclick" in messages
    assert "<a href> is a script URL 'javascript:x()'" in messages


def test_enclosures_do_not_count_as_a_second_entry_link(site: Path) -> None:
    enclosure = '<link href="https://news.example.org/img/harbour.jpg" rel="enclosure" type="image/jpeg" length="1"/>'
    edit(site, "en/atom.xml", HARBOUR_LINK, HARBOUR_LINK + enclosure)
    assert validate_target(site) == []


def test_absolute_non_http_links_are_accepted(site: Path) -> None:
    edit(site, "es/feed.json", FERRY_JSON, '<p><a href=\\"mailto:desk@example.org\\">Escríbanos</a></p>')
    assert validate_target(site) == []
