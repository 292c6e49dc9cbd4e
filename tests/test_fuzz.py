"""Property tests: hostile input never crashes a reader and never breaks a feed or a page.

* Readers (page text, Markdown, JSON), fed arbitrary bytes and structured-ish
  text (header lines, markers, time lines, front matter, JSON objects with
  random keys and values): articles that the renderers accept, or an
  :class:`InputError` whose message is one line naming the file; never any
  other exception.
* Renderers, fed random article sets (any unicode, markup, ``]]>``, RTL text,
  emoji, control characters, dates with any offset, categories): every XML
  file parses, feedparser reads the feeds without ``bozo``, the text comes
  back as written, and no ``<script>`` element or ``javascript:`` link is in
  any page or in any feed's HTML content.
* JSON of any structure, nested 200,000 deep, with 6,000-digit numbers or wrong
  types for known keys; file names of any bytes and entries of any kind (FIFO,
  symlinks in and out, loops, devices): one-line errors and warnings only.
* Path traversal (``../x``, ``a/b``, ``..``, empty) is refused by every guard:
  language tags, slugs, the publish path check; oversized files are refused.

Each property runs 1,000 generated inputs.
"""

from __future__ import annotations

import json
import re
import string
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from syndicate.config import SourceOptions
from syndicate.content import html_to_blocks, linkify
from syndicate.errors import ConfigError, InputError, PublishError
from syndicate.localize import normalize_tag
from syndicate.models import Article, Block, Edition, Site, Translation
from syndicate.pipeline import build_editions
from syndicate.publish import publish
from syndicate.render import render_site
from syndicate.sources import merge, read_file
from syndicate.sources.common import check_slug

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

TZ = "Europe/Moscow"
OPTIONS = SourceOptions(paths=(Path("seeds"),), timezone=TZ, max_bytes=20_000)
SITE = Site("World Desk", "https://news.example.org/desk/", "Fuzzed news", TZ, "en", "Desk")
SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,198}[a-z0-9])?")
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

# -- strategies ---------------------------------------------------------------

NASTY = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>",
    '"><img src=x onerror=alert(1)>',
    "<a href='javascript:alert(1)'>x</a>",
    "javascript:alert(1)",
    "&",
    "&amp;",
    "&lt;script&gt;",
    "&#60;script&#62;",
    "&nbsp;",
    "&bogus;",
    "]]>",
    "<![CDATA[ x ]]>",
    "<!-- c -->",
    "<?xml version='1.0'?>",
    "\u202eRTL override",
    "مرحبا بالعالم",
    "שלום עולם",
    "👩\u200d👩\u200d👧 🇺🇦 💥",
    "\x00",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\u2028",
    "\ufffe",
    "\uffff",
    "\ufeff",
    "\r\n",
    "\t",
    "  ",
    "\\",
    "'",
    '"',
    "{0}",
    "%s",
    "null",
]
nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(NASTY),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), max_size=5).map("".join),
)
line_text = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=60),
    st.sampled_from(NASTY),
)
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
zones = st.one_of(
    offsets,
    st.sampled_from(
        [
            UTC,
            ZoneInfo("Europe/Moscow"),
            ZoneInfo("America/St_Johns"),
            ZoneInfo("Asia/Kathmandu"),
            ZoneInfo("Pacific/Kiritimati"),
        ]
    ),
)
any_datetime = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59), timezones=st.none() | zones
)
DATE_SAMPLES = [
    "2025-04-14T10:46:00+03:00",
    "2025-04-14",
    "2025-04-14 10:46",
    "Mon, 14 Apr 2025 10:46:00 +0300",
    "Mon, 14 Apr 2025 10:46:00 GMT",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31",
    "2025-02-30",
    "2025-13-01",
    "Mon, 32 Apr 2025 10:46:00 +0300",
    "Tue, 1 Jan 0001 00:00:00 +2359",
    "Fri, 31 Dec 9999 23:59:59 -2359",
    "yesterday",
    "",
    "14.04.2025",
    "2025-04-14T10:46:00+25:00",
]
date_text = st.one_of(
    any_datetime.map(lambda d: d.isoformat()),
    any_datetime.map(lambda d: d.isoformat(sep=" ", timespec="minutes")),
    st.datetimes(min_value=datetime(1900, 1, 1), timezones=zones).map(format_datetime),
    st.sampled_from(DATE_SAMPLES),
    st.text(max_size=24),
)
LANGUAGE_SAMPLES = [
    "en",
    "es",
    "ar",
    "he",
    "pt_BR",
    "pt-br",
    "zh-Hant-TW",
    "EN",
    "iw",
    "xx",
    "qaa",
    "und",
    "../x",
    "a/b",
    "..",
    ".",
    "",
    "en-",
    "-en",
    "en/../..",
    "en\\x",
    "ar-EG",
    "fa-IR",
    "sr-Latn",
]
language_text = st.one_of(
    st.sampled_from(LANGUAGE_SAMPLES),
    st.text(alphabet=string.ascii_letters + string.digits + "-_./\\ ", max_size=12),
)
URL_SAMPLES = [
    "https://example.org/a",
    "http://example.org/a?b=c&d=e",
    "javascript:alert(1)",
    "JaVaScRiPt:x",
    "data:text/html,<script>",
    "http://",
    "ftp://example.org",
    "https://ex ample.org",
    "//example.org",
    'https://example.org/"><script>',
    " https://example.org/ ",
    "http://[::1",  # issue 12: urlsplit raised ValueError (a traceback)
    "http://[::1]:99999/",
    "http://example.org:port/",
]
url_text = st.one_of(
    st.sampled_from(URL_SAMPLES),
    st.text(max_size=30),
)
time_line = st.one_of(
    st.sampled_from(
        [
            "10:46",
            "00:00",
            "23:59",
            "24:00",
            "25:99",
            "9:05",
            "2025-04-14 10:46",
            "2025-04-14T10:46",
            "14.04.2025, 10:46",
            "31.02.2025 10:00",
            "0001-01-01 00:00",
            "9999-12-31 23:59",
            "1.1.0001 00:00",
        ]
    ),
    st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 30), st.integers(0, 99)),
)
marker_line = st.sampled_from(
    ["Read next", "Read next:", "READ NEXT", "Related", "More on this", "Read more", "See also"]
)
furniture_line = st.sampled_from(["Share this article", "Leave the first comment", "Subscribe", "Advertisement"])
header_key = st.sampled_from(
    [
        "Title",
        "Date",
        "Updated",
        "Url",
        "Author",
        "Language",
        "Category",
        "Tags",
        "title",
        "DATE",
        "Foo",
        "X-Custom",
        "Url",
        "Date",
    ]
)


@st.composite
def header_line(draw: st.DrawFn) -> str:
    key = draw(header_key)
    value = {
        "date": date_text,
        "updated": date_text,
        "url": url_text,
        "language": language_text,
    }.get(key.lower(), line_text)
    return f"{key}:{draw(st.sampled_from([' ', '', '  ']))}{draw(value)}"


@st.composite
def page_text(draw: st.DrawFn) -> str:
    lines: list[str] = []
    if draw(st.booleans()):
        lines += draw(st.lists(header_line(), min_size=1, max_size=6))
        if draw(st.integers(0, 9)):  # usually ended by a blank line, as it must be
            lines.append("")
    lines += draw(st.lists(st.one_of(line_text, furniture_line, st.just("")), max_size=6))
    if draw(st.booleans()):
        lines.append(draw(marker_line))
        for _ in range(draw(st.integers(0, 4))):
            lines.append(draw(time_line))
            lines += draw(st.lists(st.one_of(line_text, st.just("Ukraine-Russia War")), max_size=3))
    lines += draw(st.lists(st.one_of(line_text, furniture_line), max_size=2))
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), nasty_text, date_text, url_text, language_text
)
FIELD_KEYS = [
    "title",
    "date",
    "date_published",
    "pubdate",
    "updated",
    "lastmod",
    "modified",
    "date_modified",
    "summary",
    "description",
    "excerpt",
    "category",
    "categories",
    "section",
    "tags",
    "keywords",
    "author",
    "authors",
    "language",
    "lang",
    "locale",
    "url",
    "link",
    "canonical",
    "external_url",
    "slug",
    "draft",
    "published",
    "content_text",
    "body",
    "content",
    "text",
    "content_html",
    "items",
]
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "date": date_text,
    "date_published": date_text,
    "pubdate": date_text,
    "updated": date_text,
    "lastmod": date_text,
    "modified": date_text,
    "date_modified": date_text,
    "language": language_text,
    "lang": language_text,
    "locale": language_text,
    "url": url_text,
    "link": url_text,
    "canonical": url_text,
    "external_url": url_text,
    "slug": st.one_of(st.sampled_from(["../x", "a/b", "..", "", "ok-slug", "UPPER", "a--b"]), st.text(max_size=12)),
    "content_html": st.lists(
        st.one_of(
            st.sampled_from(
                [
                    *NASTY,
                    "<p>para</p>",
                    "<h1>h</h1>",
                    "<li>i</li>",
                    "<pre> x </pre>",
                    "<blockquote><p>q</p></blockquote>",
                    "<br>",
                ]
            ),
            nasty_text,
        ),
        max_size=6,
    ).map("".join),
}


JSON_SPECIAL: dict[str, list[Any]] = {
    **dict.fromkeys(
        ("date", "date_published", "pubdate", "updated", "lastmod", "modified", "date_modified"), DATE_SAMPLES
    ),
    **dict.fromkeys(("language", "lang", "locale"), LANGUAGE_SAMPLES),
    **dict.fromkeys(("url", "link", "canonical", "external_url"), URL_SAMPLES),
    "slug": ["../x", "a/b", "..", "", "ok-slug", "UPPER", "a--b", "-x"],
    "content_html": [*NASTY, "<p>para</p><h1>h</h1><li>i</li>", "<pre> x </pre>", "<blockquote><p>q</p></blockquote>"],
    "draft": [True, False, "yes"],
    "published": [True, False],
}


@st.composite
def json_document(draw: st.DrawFn) -> str:
    """JSON articles, lists of them, JSON Feeds, or anything else; keys mostly the ones readers know.

    Assembled from a few drawn values with a seeded Random: drawing every
    value of a nested document separately costs ~15 ms an example."""
    pool = draw(st.lists(json_scalars, min_size=1, max_size=4))
    rnd = draw(st.randoms(use_true_random=False))

    def value(key: str) -> Any:
        roll = rnd.random()
        if roll < 0.45 and key in JSON_SPECIAL:
            return rnd.choice(JSON_SPECIAL[key])
        if roll < 0.8:
            return rnd.choice(pool)
        if roll < 0.9:
            return [rnd.choice(pool) for _ in range(rnd.randint(0, 3))]
        return {rnd.choice(["name", "x", ""]): rnd.choice(pool)}

    def article() -> dict[str, Any]:
        keys = rnd.sample(FIELD_KEYS, rnd.randint(0, 7))
        if rnd.random() < 0.2:
            keys.append(str(rnd.choice(pool))[:6])
        return {key: value(key) for key in keys}

    shape = rnd.random()
    if shape < 0.5:
        doc: Any = article()
    elif shape < 0.75:
        doc = [article() for _ in range(rnd.randint(0, 3))]
    elif shape < 0.9:
        doc = {"version": "https://jsonfeed.org/version/1.1", "items": [article() for _ in range(rnd.randint(0, 3))]}
    else:
        doc = value("")
    return json.dumps(doc, ensure_ascii=False)


TOML_VALUES = st.sampled_from(
    ["1979-05-27T07:32:00Z", "1979-05-27", "true", "[1, 2]", '"x"', "x", "0001-01-01T00:00:00+01:00", '"../x"']
)
yaml_scalar = st.one_of(json_scalars, any_datetime, st.dates())
markdown_line = st.one_of(
    line_text,
    st.sampled_from(
        [
            "# Heading",
            "## Sub",
            "- item",
            "* item",
            "1. one",
            "> quote",
            "```",
            "    code",
            "---",
            "+++",
            "<div onclick='x()'>raw</div>",
            "<script>alert(1)</script>",
            "[link](javascript:alert(1))",
            "![img](x.png)",
            "**bold** _em_ `code`",
            "&amp; &lt; &#0; &#x110000;",
            "<!-- comment -->",
            "",
        ]
    ),
)


@st.composite
def markdown_text(draw: st.DrawFn) -> str:
    lines: list[str] = []
    fence = draw(st.sampled_from(["---", "+++", None, None]))
    if fence == "---":
        meta = {
            k: draw(st.one_of(FIELD_VALUES.get(k, nasty_text), yaml_scalar, st.lists(yaml_scalar, max_size=3)))
            for k in draw(st.lists(st.sampled_from(FIELD_KEYS), max_size=6, unique=True))
        }
        if draw(st.booleans()):
            lines += yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).splitlines()
        else:  # hand-written, often invalid YAML
            lines += [f"{k}: {v}" for k, v in meta.items()]
    elif fence == "+++":
        for key in draw(st.lists(st.sampled_from(FIELD_KEYS), max_size=5, unique=True)):
            lines.append(f"{key} = {draw(st.one_of(TOML_VALUES, line_text))}")
    if fence:
        lines = [fence, *lines]
        if draw(st.integers(0, 9)):
            lines.append(fence)
    lines += draw(st.lists(markdown_line, max_size=8))
    return "\n".join(lines)


def with_bom(text_strategy: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    return st.tuples(st.sampled_from([b"", b"\xef\xbb\xbf"]), text_strategy).map(
        lambda t: t[0] + t[1].encode("utf-8", "surrogatepass")
    )


# -- readers ------------------------------------------------------------------


def check_reader(name: str, data: bytes, seen: Counter[str]) -> None:
    """Articles the renderers accept, or an InputError: one line naming the file."""
    seen["inputs"] += 1
    try:
        articles = read_file(Path(name), name, name, OPTIONS, "en", reader=lambda _: data)
    except InputError as exc:
        message = str(exc)
        assert message.startswith(name), message
        assert "\n" not in message and "\r" not in message, message
        seen["errors"] += 1
        return
    seen["articles"] += len(articles)
    for article in articles:
        check_article(article)
    if articles:
        seen["rendered"] += 1
        render_checked(articles)


def check_article(article: Article) -> None:
    assert article.title.strip(), article
    assert SLUG_RE.fullmatch(article.slug), article.slug
    assert normalize_tag(article.language), article.language  # raises for a tag that cannot be a directory
    for moment in (article.published, article.updated):
        if moment is not None:
            assert moment.tzinfo is not None and moment.utcoffset() is not None
            moment.astimezone(UTC), moment.astimezone(ZoneInfo(TZ)), moment.timestamp()
    assert article.link is None or re.match(r"https?://", article.link), article.link
    for text in (article.title, article.summary, *(b.text for b in article.body)):
        assert not XML_FORBIDDEN.search(text), text


def render_checked(articles: list[Article]) -> None:
    """The reader's articles go through the pipeline's editions and every renderer."""
    editions = build_editions(SITE, merge(articles))  # as read_articles does: one per id, unique slugs
    files = render_site(SITE, editions, max_items=5)
    for rel, data in files.items():
        if rel.endswith((".xml", ".opml")):
            etree.fromstring(data, XML_PARSER)


@pytest.mark.parametrize(
    ("name", "strategy"),
    [
        ("page.txt", st.binary(max_size=600)),
        ("page.txt", with_bom(page_text())),
        ("post.md", st.binary(max_size=600)),
        ("post.md", with_bom(markdown_text())),
        ("item.json", st.binary(max_size=600)),
        ("item.json", with_bom(json_document())),
    ],
    ids=[
        "pagetext-bytes",
        "pagetext-structured",
        "markdown-bytes",
        "markdown-structured",
        "json-bytes",
        "json-structured",
    ],
)
def test_readers_give_articles_or_one_line_input_errors(name: str, strategy: st.SearchStrategy[bytes]) -> None:
    seen: Counter[str] = Counter()

    @FUZZ
    @given(strategy)
    def run(data: bytes) -> None:
        check_reader(name, data, seen)

    run()
    print(
        f"fuzz {name}: {seen['inputs']} inputs, {seen['errors']} input errors, "
        f"{seen['articles']} articles from {seen['rendered']} inputs (rendered)"
    )
    assert seen["inputs"] >= 1000


def test_files_over_max_bytes_are_refused(tmp_path: Path) -> None:
    options = SourceOptions(paths=(tmp_path,), timezone=TZ, max_bytes=100)
    for name in ("a.txt", "b.md", "c.json"):
        with pytest.raises(InputError) as info:
            read_file(Path(name), name, name, options, "en", reader=lambda _: b"x" * 101)
        assert str(info.value) == f"{name}: file too large (101 bytes; the limit is 100)"
    assert read_file(Path("ok.txt"), "ok.txt", "ok.txt", options, "en", reader=lambda _: b"x" * 99 + b".")
    big = tmp_path / "big.md"
    big.write_bytes(b"# t\n\n" + b"y" * 200)
    from syndicate.sources import read_articles

    result = read_articles(options, "en")
    assert [str(e) for e in result.errors] == [f"{big}: file too large (205 bytes; the limit is 100)"]


# -- JSON structure (issue 12) -------------------------------------------------

JSON_KEYS = ["title", "content_text", "body", "content_html", "summary", "url", "tags", "authors", "date", "items"]
json_tree = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(JSON_KEYS) | st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def hostile_json(draw: st.DrawFn) -> bytes:
    """Any JSON structure, and the shapes that used to crash: deep nesting, huge integers,
    wrong types for the keys the reader knows (a number as a title, an object as content_text)."""
    kind = draw(st.sampled_from(["tree", "deep", "number", "typed"]))
    if kind == "tree":
        return json.dumps(draw(json_tree)).encode()
    if kind == "deep":
        depth = draw(st.integers(1, 200_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('{"items":[', "]}")]))
        return (opener * depth + "1" + closer * depth).encode()
    if kind == "number":
        digits = draw(st.integers(1, 6000))
        return ('{"title": "T", "content_text": "x", "n": ' + "9" * digits + "}").encode()
    doc = {key: draw(json_tree) for key in draw(st.lists(st.sampled_from(JSON_KEYS), min_size=1, max_size=5))}
    return json.dumps(doc).encode()


def test_any_json_structure_gives_articles_or_one_line_input_errors() -> None:
    seen: Counter[str] = Counter()

    @settings(FUZZ, max_examples=600)
    @given(hostile_json())
    def run(data: bytes) -> None:
        check_reader("item.json", data, seen)

    run()
    print(f"fuzz hostile JSON: {seen['inputs']} inputs, {seen['errors']} input errors, {seen['articles']} articles")
    assert seen["inputs"] >= 600 and seen["errors"] > 0


# -- file names and kinds (issue 12) -----------------------------------------------

file_names = (
    st.binary(min_size=1, max_size=24)
    .map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_"))
    .filter(lambda b: b not in (b".", b"..") and not b.startswith(b"."))
)


def test_any_file_name_or_kind_gives_one_line_messages(tmp_path: Path) -> None:
    """Names of any bytes (not UTF-8, newlines, escapes, bidi controls) and entries of any kind
    (FIFO, symlink in or out, loop, device): every error and warning is one valid line."""
    import logging
    import os

    from syndicate.sources import read_articles

    outside = tmp_path / "outside.md"
    outside.write_text("---\ntitle: Outside\n---\n\nSecret.\n")
    count = Counter[str]()

    class Lines(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(record.getMessage())

    @settings(FUZZ, max_examples=300)
    @given(
        st.lists(
            st.tuples(file_names, st.sampled_from([".md", ".txt", ".json"]), st.sampled_from(KINDS)),
            min_size=1,
            max_size=4,
            unique_by=lambda t: t[0] + t[1].encode(),
        )
    )
    def run(entries: list[tuple[bytes, str, str]]) -> None:
        root = Path(os.fsdecode(os.fsencode(tmp_path / f"r{count['runs']}")))
        count["runs"] += 1
        root.mkdir()
        for raw, suffix, kind in entries:
            path = Path(os.fsdecode(os.fsencode(root) + b"/" + raw + suffix.encode()))
            make_entry(path, kind, outside)
        handler = Lines()
        logger = logging.getLogger("syndicate")
        logger.addHandler(handler)
        try:
            result = read_articles(SourceOptions(paths=(root,), timezone=TZ, max_bytes=2000), "en")
        finally:
            logger.removeHandler(handler)
        for line in [*map(str, result.errors), *handler.lines]:
            count["lines"] += 1
            assert line.startswith(str(root)), line
            assert line.isprintable(), repr(line)  # no newline, no control or bidi character
            line.encode("utf-8")  # no lone surrogate from a name that is not UTF-8
        assert all("Secret" not in b.text for a in result.articles for b in a.body)

    run()
    print(f"fuzz file names: {count['runs']} directories, {count['lines']} messages checked")


KINDS = ["article", "empty", "fifo", "link-in", "link-out", "loop", "dev-zero"]


def make_entry(path: Path, kind: str, outside: Path) -> None:
    import os

    if kind == "article":
        path.write_text("Title: A story\nDate: 2025-04-14T10:00:00Z\n\nText of the story.\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link-in":
        sibling = path.with_name("sibling-target" + path.suffix)
        if not sibling.exists():
            sibling.write_text("Title: Sibling\nDate: 2025-04-14T10:00:00Z\n\nText.\n")
        path.symlink_to(sibling)
    elif kind == "link-out":
        path.symlink_to(outside)
    elif kind == "loop":
        path.symlink_to(path.name)
    else:
        path.symlink_to("/dev/zero")


# -- renderers ----------------------------------------------------------------

LANGUAGES = ["en", "es", "ar", "he", "fa", "zh-Hant-TW", "pt-BR", "de", "ru"]
SITE_ZONES = [TZ, "UTC", "Asia/Kathmandu", "America/St_Johns", "Pacific/Kiritimati"]
ZONES = [UTC, ZoneInfo("Europe/Moscow"), ZoneInfo("America/St_Johns"), ZoneInfo("Asia/Kathmandu")]
YEARS = [1, 2, 99, 999, 1000, 1582, 1900, 1969, 1970, 2025, 2038, 9998, 9999]
# What the readers let through (syndicate.sources.common.check_date): any instant that converts to any zone.
EARLIEST, LATEST = datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)


class Maker:
    """Builds the fields of one article set from a few drawn texts and a seeded Random.

    Drawing every field separately costs ~30 ms an example in Hypothesis; this
    keeps an example at a few ms, and the texts still shrink."""

    def __init__(self, pool: list[str], rnd: Any) -> None:
        self.pool, self.rnd = pool, rnd

    def text(self) -> str:
        pick = self.rnd.choice(self.pool)
        return pick if self.rnd.random() < 0.7 else pick + self.rnd.choice(NASTY) + self.rnd.choice(self.pool)

    def title(self) -> str:
        text = self.text()
        return text if clean(text).strip() else f"T{text}"  # readers and config never give an empty one

    def maybe(self, make: Callable[[], Any]) -> Any:
        return make() if self.rnd.random() < 0.5 else None

    def moment(self) -> datetime:
        while True:
            zone = self.rnd.choice([*ZONES, timezone(timedelta(minutes=self.rnd.randint(-1439, 1439)))])
            year = self.rnd.choice(YEARS) if self.rnd.random() < 0.3 else self.rnd.randint(1, 9999)
            try:
                moment = datetime(
                    year,
                    self.rnd.randint(1, 12),
                    self.rnd.randint(1, 28),
                    self.rnd.randint(0, 23),
                    self.rnd.randint(0, 59),
                    self.rnd.randint(0, 59),
                    tzinfo=zone,
                )
                if EARLIEST <= moment.astimezone(UTC) <= LATEST:
                    return moment
            except OverflowError:
                pass

    def slug(self, index: int) -> str:
        word = "".join(self.rnd.choice("abcxyz0189-") for _ in range(self.rnd.randint(0, 12))).strip("-")
        return f"{word}-{index}" if word else str(index)


@st.composite
def article_set(draw: st.DrawFn) -> tuple[Site, list[Edition], int]:
    make = Maker(draw(st.lists(nasty_text, min_size=1, max_size=4)), draw(st.randoms(use_true_random=False)))
    rnd = make.rnd
    # The config guarantees non-empty site text, but any characters (TOML escapes allow controls).
    site = Site(make.title(), SITE.url, make.title(), rnd.choice(SITE_ZONES), "en", make.maybe(make.title))
    languages = ["en", *rnd.sample(LANGUAGES[1:], rnd.randint(0, 1))]
    editions = []
    originals: list[Article] = []
    for lang in languages:
        articles = []
        for index in range(rnd.randint(0, 3)):
            translation = None
            if lang != "en" and originals and rnd.random() < 0.5:
                original = rnd.choice(originals)
                translation = Translation(make.text(), "en", original.id, original.slug)
            article = Article(
                id=uuid.UUID(int=rnd.getrandbits(128)).urn,
                slug=make.slug(index),
                title=make.title(),
                summary=make.text(),
                # Bodies come from the readers: any text through the sanitizer, or linkified plain text.
                body=html_to_blocks(" ".join(make.text() for _ in range(rnd.randint(0, 4))), SITE.url)
                + tuple(Block(linkify(make.text())) for _ in range(rnd.randint(0, 2))),
                published=make.moment(),
                language=lang if rnd.random() < 0.8 else rnd.choice(LANGUAGES),
                updated=make.maybe(make.moment),
                category=make.maybe(make.text),
                tags=tuple(make.text() for _ in range(rnd.randint(0, 3))),
                author=make.maybe(make.text),
                translation=translation,
            )
            articles.append(article)
            if lang == "en":
                originals.append(article)
        articles.sort(key=lambda a: -a.published.timestamp())
        editions.append(Edition(lang, make.title(), make.text(), tuple(articles)))
    return site, editions, rnd.randint(1, 4)


def clean(text: str) -> str:
    return XML_FORBIDDEN.sub("", text)


def html_fragment_is_safe(fragment: str | None, where: str) -> None:
    """Parse an HTML fragment as a browser or reader would: no script, no javascript: link."""
    if not fragment or not fragment.strip():
        return
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    assert not root.xpath("//script"), (where, fragment)
    for element in root.iter():
        if isinstance(element.tag, str):
            for name, value in element.attrib.items():
                assert not name.lower().startswith("on"), (where, fragment)
                assert not value.strip().lower().startswith("javascript:"), (where, fragment)


def check_page(rel: str, data: bytes) -> None:
    assert b"<script" not in data.lower(), rel
    doc = lxml_html.document_fromstring(data)
    assert not doc.xpath("//script"), rel
    for element in doc.iter():
        if isinstance(element.tag, str):
            for name, value in element.attrib.items():
                assert not name.lower().startswith("on"), (rel, name)
                if name in ("href", "src"):
                    assert re.match(r"https?://", value), (rel, value)


def check_rss(rel: str, data: bytes, edition: Edition, max_items: int) -> None:
    root = etree.fromstring(data, XML_PARSER)
    items = root.findall("channel/item")
    assert len(items) == min(len(edition.articles), max_items), rel
    for item, article in zip(items, edition.articles, strict=False):
        assert item.findtext("title") == clean(article.title), rel
        html_fragment_is_safe(item.findtext("description"), rel)
        html_fragment_is_safe(item.findtext(CONTENT), rel)
        for category, expected in zip(item.findall("category"), _terms(article), strict=True):
            assert category.text == expected
    parsed = feedparser.parse(data)
    assert not parsed.bozo, (rel, parsed.get("bozo_exception"))
    assert len(parsed.entries) == len(items)


def check_atom(rel: str, data: bytes, edition: Edition, max_items: int) -> None:
    root = etree.fromstring(data, XML_PARSER)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == min(len(edition.articles), max_items), rel
    for entry, article in zip(entries, edition.articles, strict=False):
        assert entry.findtext(f"{ATOM}title") == clean(article.title), rel
        html_fragment_is_safe(entry.findtext(f"{ATOM}content"), rel)
        for link in entry.findall(f"{ATOM}link"):
            assert link.get("href", "").startswith(SITE.url), rel
    parsed = feedparser.parse(data)
    assert not parsed.bozo, (rel, parsed.get("bozo_exception"))
    assert len(parsed.entries) == len(entries)


def check_json(rel: str, data: bytes, edition: Edition, max_items: int) -> None:
    feed = json.loads(data)
    assert len(feed["items"]) == min(len(edition.articles), max_items)
    for item, article in zip(feed["items"], edition.articles, strict=False):
        assert item["title"] == clean(article.title)
        assert item["url"].startswith(SITE.url)
        html_fragment_is_safe(item["content_html"], rel)
        datetime.fromisoformat(item["date_published"])


def _terms(article: Article) -> list[str]:
    terms = [clean(t) for t in ([article.category] if article.category else []) + list(article.tags)]
    return list(dict.fromkeys(t for t in terms if t and t.strip()))


CHECKS: dict[str, Callable[[str, bytes, Edition, int], None]] = {
    "rss.xml": check_rss,
    "atom.xml": check_atom,
    "feed.json": check_json,
}


def test_renderers_never_break_a_feed_or_let_markup_through() -> None:
    seen: Counter[str] = Counter()

    @FUZZ
    @given(article_set())
    def run(case: tuple[Site, list[Edition], int]) -> None:
        site, editions, max_items = case
        seen["inputs"] += 1
        seen["articles"] += sum(len(e.articles) for e in editions)
        files = render_site(site, editions, max_items=max_items)
        by_language = {e.language: e for e in editions}
        for rel, data in files.items():
            name = rel.rsplit("/", 1)[-1]
            if name in CHECKS:
                CHECKS[name](rel, data, by_language[rel.split("/")[0]], max_items)
                seen["feeds"] += 1
            elif rel.endswith(".html"):
                check_page(rel, data)
                seen["pages"] += 1
            else:
                etree.fromstring(data, XML_PARSER)  # feeds.opml

    run()
    print(
        f"fuzz renderers: {seen['inputs']} article sets, {seen['articles']} articles, "
        f"{seen['feeds']} feeds and {seen['pages']} pages checked"
    )
    assert seen["inputs"] >= 1000


# -- path traversal -----------------------------------------------------------

TRAVERSAL = ["../x", "a/b", "..", ".", "", "/etc", "en/../../x", "..\\x", "en\x00", "~", " ", "en/", "%2e%2e"]


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_language_tags_refuse_traversal(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        normalize_tag(bad)
    assert repr(bad) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_slugs_refuse_traversal(bad: str) -> None:
    with pytest.raises(InputError) as info:
        check_slug("post.md", bad)
    assert str(info.value).startswith("post.md: invalid slug ") and repr(bad) in str(info.value)


@pytest.mark.parametrize(
    "bad",
    [
        "../x",
        "..",
        ".",
        "",
        "/etc/passwd",
        "en/../../x",
        "..\\x",
        "en\x00",
        "en/",
        ".syndicate/status.json",
        "en//x.html",
        "en/./x.html",
        "a/../../b",
    ],
)
def test_publish_refuses_traversal(tmp_path: Path, bad: str) -> None:
    target = tmp_path / "site"
    with pytest.raises(PublishError) as info:
        publish({"index.html": b"ok", bad: b"evil"}, target)
    assert "refusing to publish" in str(info.value) and "\n" not in str(info.value)
    assert not target.exists() or [p.name for p in target.iterdir()] == [".syndicate"]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("bad", ["../x", "a/b", "..", "", "A", "-x", "x-"])
def test_render_refuses_unsafe_slugs_and_tags(bad: str) -> None:
    article = Article("urn:uuid:1", bad, "T", "S", (), datetime(2025, 1, 1, tzinfo=UTC), "en", source="seeds/x.md")
    with pytest.raises(InputError, match=r"^seeds/x\.md: slug "):
        render_site(SITE, [Edition("en", "t", "d", (article,))])
    with pytest.raises(ConfigError, match="language tag"):
        render_site(SITE, [Edition(bad or "..", "t", "d", ())])


@pytest.mark.parametrize("bad", ["../x", "a/b", "..", "xx"])
def test_readers_refuse_unsafe_languages_and_slugs_naming_the_file(bad: str) -> None:
    cases = {
        "page.txt": f"Language: {bad}\n\nSome text.\n",
        "post.md": f"---\nlanguage: '{bad}'\n---\nSome text.\n",
        "item.json": json.dumps({"title": "T", "language": bad}),
    }
    for name, text in cases.items():
        with pytest.raises(InputError) as info:
            read_file(Path(name), name, name, OPTIONS, "en", reader=lambda _, t=text: t.encode())
        assert str(info.value).startswith(name) and repr(bad) in str(info.value), str(info.value)
    if bad == "xx":  # a fine slug, just not a language
        return
    for name, text in {
        "post.md": f"---\nslug: '{bad}'\n---\nText.\n",
        "item.json": json.dumps({"title": "T", "slug": bad}),
    }.items():
        with pytest.raises(InputError, match=f"^{re.escape(name)}: invalid slug"):
            read_file(Path(name), name, name, OPTIONS, "en", reader=lambda _, t=text: t.encode())


@FUZZ
@given(st.text(max_size=24))
def test_any_text_is_a_safe_tag_or_refused(raw: str) -> None:
    try:
        tag = normalize_tag(raw)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert re.fullmatch(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*", tag) and tag not in (".", "..")


@FUZZ
@given(st.text(max_size=24))
def test_any_text_is_a_safe_slug_or_refused(raw: str) -> None:
    try:
        slug = check_slug("f.md", raw)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("f.md: ")
        return
    assert SLUG_RE.fullmatch(slug)


@settings(FUZZ, max_examples=500)
@given(
    st.one_of(st.sampled_from(URL_SAMPLES), st.text(max_size=40), st.text(max_size=20).map("https://ex.org/".__add__))
)
def test_any_site_url_is_normalised_or_refused(raw: str) -> None:
    """site.url (issue 12): an absolute http(s) URL safe in any attribute, normalised and
    stable under normalising again; anything else a one-line ConfigError, never another exception."""
    from syndicate.config import normalize_url

    try:
        url = normalize_url(raw)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert re.match(r"https?://[^/]+/", url) and url.endswith("/"), url
    assert not re.search(r"[\s\"'<>`\\{}|^]", url), url
    assert normalize_url(url) == url
