"""validate.py against a hand-made valid target, then the same target broken one way at a time."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.validate import Problem, validate_target

GOOD = Path(__file__).parent / "data" / "validate" / "good"
SITE = "https://news.example.org/"
FEEDS = [f"{lang}/{name}" for lang in ("en", "es") for name in ("rss.xml", "atom.xml", "feed.json")]
HARBOUR = "https://news.example.org/en/articles/harbour-budget.html"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    shutil.copytree(GOOD, target)
    return target


def edit(target: Path, rel: str, old: str, new: str) -> None:
    path = target / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def tree_hash(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_good_target_has_no_problems() -> None:
    before = tree_hash(GOOD)
    assert validate_target(GOOD) == []
    assert tree_hash(GOOD) == before  # read-only


@pytest.mark.parametrize("rel", [f for f in FEEDS if f.endswith(".xml")])  # feedparser 6.0 lacks JSON Feed
def test_a_real_reader_parses_the_good_feeds_cleanly(rel: str) -> None:
    parsed = feedparser.parse((GOOD / rel).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.link for e in parsed.entries] == [
        f"{SITE}{rel.split('/')[0]}/articles/harbour-budget.html",
        f"{SITE}{rel.split('/')[0]}/articles/ferry-resumes.html",
    ]


BREAKS = [
    pytest.param(
        "en/rss.xml",
        f"<link>{HARBOUR}</link>",
        "<link>articles/harbour-budget.html</link>",
        "item 1 link 'articles/harbour-budget.html' is not an absolute http(s) URL",
        id="relative-link",
    ),
    pytest.param(
        "en/rss.xml",
        '<guid isPermaLink="false">urn:uuid:5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6</guid>',
        "",
        "item 2 has no <guid>",
        id="missing-guid",
    ),
    pytest.param(
        "en/rss.xml",
        "<pubDate>Mon, 14 Apr 2025 07:46:00 +0000</pubDate>",
        "<pubDate>Lun, 14 abr 2025 07:46:00 +0000</pubDate>",
        "item 1 pubDate 'Lun, 14 abr 2025 07:46:00 +0000': day name 'Lun' is not English",
        id="non-english-pubdate",
    ),
    pytest.param(
        "es/rss.xml",
        "<pubDate>Sun, 13 Apr 2025",
        "<pubDate>Sun, 13 abr 2025",
        "month name 'abr' is not English",
        id="non-english-month",
    ),
    pytest.param(
        "en/rss.xml",
        "<pubDate>Mon, 14 Apr 2025",
        "<pubDate>Tue, 14 Apr 2025",
        "day name 'Tue' is wrong: that date is a Mon",
        id="wrong-day-of-week",
    ),
    pytest.param(
        "en/rss.xml",
        '<atom:link href="https://news.example.org/en/rss.xml" rel="self"',
        '<atom:link href="https://news.example.org/en/feed.xml" rel="self"',
        "self link 'https://news.example.org/en/feed.xml' does not match the feed's location en/rss.xml",
        id="wrong-self-link",
    ),
    pytest.param(
        "es/atom.xml",
        '<link href="https://news.example.org/es/atom.xml" rel="self"',
        '<link href="https://mirror.example.net/es/atom.xml" rel="self"',
        "is not under the site URL https://news.example.org/",
        id="self-link-on-another-site",
    ),
    pytest.param(
        "en/rss.xml",
        f"<link>{HARBOUR}</link>",
        "<link>https://news.example.org/en/articles/harbour-budgett.html</link>",
        "item 1 link 'https://news.example.org/en/articles/harbour-budgett.html' does not resolve",
        id="dangling-item-link",
    ),
    pytest.param(
        "es/atom.xml",
        "</entry>",
        "",
        "not well-formed XML",
        id="malformed-xml",
    ),
    pytest.param(
        "es/atom.xml",
        ' xml:lang="es"',
        "",
        "feed has no xml:lang attribute",
        id="missing-xml-lang",
    ),
    pytest.param(
        "en/feed.json",
        '"version": "https://jsonfeed.org/version/1.1",',
        "",
        "no version (expected 'https://jsonfeed.org/version/1.1')",
        id="json-feed-missing-version",
    ),
    pytest.param(
        "en/rss.xml",
        "<pubDate>Mon, 14 Apr 2025 07:46:00 +0000</pubDate>",
        "<pubDate>Sat, 12 Apr 2025 07:46:00 +0000</pubDate>",
        "items are not newest first: item 2 (2025-04-13T15:20:00+00:00) is newer than item 1",
        id="items-out-of-order",
    ),
    pytest.param(
        "en/rss.xml",
        "<lastBuildDate>Mon, 14 Apr 2025",
        "<lastBuildDate>Sun, 13 Apr 2025",
        "lastBuildDate (2025-04-13T07:46:00+00:00) is older than the newest item",
        id="stale-last-build-date",
    ),
    pytest.param(
        "en/rss.xml",
        "<language>en</language>",
        "<language>en_GB</language>",
        "language: 'en_GB' is not a valid BCP 47 language tag (did you mean 'en-GB'?)",
        id="rss-bad-language-tag",
    ),
    pytest.param(
        "es/rss.xml",
        "<language>es</language>",
        "<language>en</language>",
        "language 'en' does not match the language directory 'es'",
        id="rss-wrong-language",
    ),
    pytest.param(
        "en/rss.xml",
        '<guid isPermaLink="false">urn:uuid:0b7c',
        "<guid>urn:uuid:0b7c",
        "item 1 guid 'urn:uuid:0b7c5a52-6f1e-4c3e-9d51-1d2c3e4f5a61' is not a URL: add isPermaLink=\"false\"",
        id="guid-not-a-permalink",
    ),
    pytest.param(
        "en/atom.xml",
        "<updated>2025-04-14T07:46:00Z</updated>",
        "<updated>2025-04-14 10:46</updated>",
        "feed updated '2025-04-14 10:46': not an RFC 3339 date-time",
        id="atom-bad-date",
    ),
    pytest.param(
        "en/atom.xml",
        '<link href="https://news.example.org/es/" rel="alternate" type="text/html" hreflang="es"/>',
        '<link href="https://news.example.org/es/" rel="alternate" type="text/html" hreflang="en"/>',
        "feed has 2 alternate links with type='text/html' and hreflang='en'",
        id="atom-duplicate-alternates",
    ),
    pytest.param(
        "en/atom.xml",
        "<author>\n    <name>World Desk</name>\n  </author>",
        "",
        "entry 1 has no author and the feed has none",
        id="atom-no-author",
    ),
    pytest.param(
        "es/atom.xml",
        '<link href="https://news.example.org/es/articles/ferry-resumes.html" rel="alternate"',
        '<link href="/es/articles/ferry-resumes.html" rel="alternate"',
        "entry 2 link '/es/articles/ferry-resumes.html' is not an absolute http(s) URL",
        id="atom-relative-link",
    ),
    pytest.param(
        "en/atom.xml",
        "<published>2025-04-13T15:20:00Z</published>",
        "<published>2025-04-15T15:20:00Z</published>",
        "entries are not newest first",
        id="atom-out-of-order",
    ),
    pytest.param(
        "es/feed.json",
        '"url": "https://news.example.org/es/articles/ferry-resumes.html"',
        '"url": "https://news.example.org/es/articles/missing.html"',
        "item 2 url 'https://news.example.org/es/articles/missing.html' does not resolve",
        id="json-dangling-url",
    ),
    pytest.param(
        "es/feed.json",
        '"date_published": "2025-04-13T15:20:00Z"',
        '"date_published": "2025-04-13T18:20:00"',
        "item 2 date_published '2025-04-13T18:20:00': not an RFC 3339 date-time with offset",
        id="json-date-without-offset",
    ),
    pytest.param(
        "en/feed.json",
        '"feed_url": "https://news.example.org/en/feed.json",',
        '"feed_url": "https://news.example.org/en/rss.xml",',
        "does not match the feed's location en/feed.json",
        id="json-wrong-feed-url",
    ),
    pytest.param(
        "en/feed.json",
        "\n  ]\n}",
        ",\n  ]\n}",
        "not valid JSON",
        id="json-syntax-error",
    ),
    pytest.param(
        "es/index.html",
        '<html lang="es">',
        '<html lang="en">',
        "<html lang> 'en' does not match the language directory 'es'",
        id="html-wrong-lang",
    ),
    pytest.param(
        "es/index.html",
        '<html lang="es">',
        '<html lang="es" dir="rtl">',
        "<html dir='rtl'> should be 'ltr' for language 'es'",
        id="html-wrong-dir",
    ),
    pytest.param(
        "en/atom.xml",
        '<entry xml:lang="en">',
        "<entry>",
        "entry 1 has no xml:lang attribute",
        id="atom-entry-without-xml-lang",
    ),
    pytest.param(
        "en/atom.xml",
        '<link href="https://news.example.org/es/atom.xml" rel="alternate" type="application/atom+xml" hreflang="es"/>',
        "",
        'no alternate link type="application/atom+xml" hreflang="es" to the sibling feed es/atom.xml',
        id="atom-missing-sibling",
    ),
    pytest.param(
        "en/rss.xml",
        'hreflang="es" type="application/rss+xml"',
        'hreflang="es_ES" type="application/rss+xml"',
        "alternate link hreflang: 'es_ES' is not a valid BCP 47 language tag",
        id="rss-bad-hreflang",
    ),
    pytest.param(
        "feeds.opml",
        'xmlUrl="https://news.example.org/en/rss.xml" language="en"',
        'xmlUrl="https://news.example.org/en/rss.xml" language="es"',
        "language 'es' does not match its feed",
        id="opml-wrong-language",
    ),
    pytest.param(
        "index.html",
        '<html lang="en">',
        "<html>",
        "<html> has no lang attribute",
        id="html-no-lang",
    ),
    pytest.param(
        "feeds.opml",
        'xmlUrl="https://news.example.org/es/feed.json"',
        'xmlUrl="https://news.example.org/es/feeds.json"',
        "outline 6 xmlUrl 'https://news.example.org/es/feeds.json' does not resolve",
        id="opml-dangling-feed",
    ),
    pytest.param(
        "feeds.opml",
        '<opml version="2.0">',
        '<outline version="2.0">',
        "not well-formed XML",
        id="opml-malformed",
    ),
]


@pytest.mark.parametrize(("rel", "old", "new", "expected"), BREAKS)
def test_one_break_is_reported_against_its_file(site: Path, rel: str, old: str, new: str, expected: str) -> None:
    edit(site, rel, old, new)

    problems = validate_target(site)

    assert problems, "the break went unnoticed"
    assert {p.path for p in problems} == {rel}, problems
    assert any(expected in p.message for p in problems), [str(p) for p in problems]


def test_malformed_xml_names_the_line(site: Path) -> None:
    edit(site, "es/rss.xml", "del puerto</title>", "del puerto & más</title>")
    [problem] = validate_target(site)
    assert problem.path == "es/rss.xml"
    assert problem.message.startswith("line 14: not well-formed XML: ")


def test_a_badly_named_language_directory_is_reported(site: Path) -> None:
    (site / "en_US").mkdir()
    shutil.copy(site / "en/index.html", site / "en_US/index.html")

    problems = validate_target(site)

    assert str(problems[0]) == (
        "en_US: language directory name: 'en_US' is not a valid BCP 47 language tag (did you mean 'en-US'?)"
    )
    assert {p.path.split("/")[0] for p in problems} == {"en_US"}


def test_hidden_directories_are_ignored(site: Path) -> None:
    (site / ".syndicate").mkdir()
    (site / ".syndicate/status.json").write_text("{not json")
    (site / ".syndicate/page.html").write_text("<p>no lang</p>")
    assert validate_target(site) == []


def test_missing_layout_files_are_reported(site: Path) -> None:
    (site / "feeds.opml").unlink()
    (site / "es/index.html").unlink()
    problems = [str(p) for p in validate_target(site)]
    assert problems[:2] == ["feeds.opml: missing", "es/index.html: missing"]
    assert all("es/index.html" in p or "es/'" in p for p in problems[2:])  # links to the missing page


def test_a_target_without_feeds_is_reported(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    problems = validate_target(tmp_path)
    assert Problem(".", "no feed found (expected <lang>/rss.xml, <lang>/atom.xml or <lang>/feed.json)") in problems


def test_a_missing_target_is_one_problem(tmp_path: Path) -> None:
    assert validate_target(tmp_path / "nowhere") == [Problem(".", "not a directory")]


def test_problem_str_names_the_file() -> None:
    assert str(Problem("en/rss.xml", "no <channel>")) == "en/rss.xml: no <channel>"


def test_entities_are_not_expanded_from_files_or_the_network(site: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    edit(
        site,
        "en/rss.xml",
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>',
    )
    edit(site, "en/rss.xml", f"<link>{HARBOUR}</link>", "<link>&x;</link>")
    problems = validate_target(site)
    assert all("TOP-SECRET" not in str(p) for p in problems)
    assert Problem("en/rss.xml", "item 1 has no <link>") in problems


@pytest.mark.parametrize("rel", [*FEEDS, "feeds.opml", "index.html", "en/articles/harbour-budget.html"])
def test_a_directory_in_place_of_a_file_is_a_problem_not_a_crash(site: Path, rel: str) -> None:
    (site / rel).unlink()
    (site / rel).mkdir()
    problems = validate_target(site)
    assert problems
    if rel.endswith((".xml", ".json", ".opml")):
        assert Problem(rel, "cannot read: Is a directory") in problems


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rel=st.sampled_from([*FEEDS, "feeds.opml", "index.html", "es/articles/ferry-resumes.html"]),
    data=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.sampled_from([b"", b"\xff\xfe", b"<rss", b"{}", b"[]", b"null", b'{"items": 3}', b"<feed/>"]),
    ),
)
def test_any_bytes_in_any_file_give_problems_never_exceptions(rel: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "site"
        shutil.copytree(GOOD, target)
        (target / rel).write_bytes(data)
        problems = validate_target(target)
    assert all(isinstance(p, Problem) for p in problems)
    assert any(p.path == rel for p in problems)
