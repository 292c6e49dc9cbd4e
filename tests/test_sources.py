"""Markdown and JSON readers, discovery, merging, and every kind of bad input file."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syndicate.config import SourceOptions
from syndicate.errors import InputError
from syndicate.models import Block
from syndicate.sources import read_articles

UTC = ZoneInfo("UTC")
MADRID = ZoneInfo("Europe/Madrid")


def _options(tmp_path: Path, **kw: object) -> SourceOptions:
    return SourceOptions(paths=(tmp_path,), timezone="Europe/Madrid", **kw)  # type: ignore[arg-type]


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_markdown_with_yaml_front_matter(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "post.md",
        "---\ntitle: Talks in Istanbul\ndate: 2025-04-10 18:30\nlastmod: 2025-04-11\n"
        "categories: [Diplomacy, Europe]\ntags: [US, Russia]\nauthor: Jane Roe\n"
        "summary: The two delegations met for six hours.\nslug: talks-in-istanbul\n---\n"
        "# Background\n\nThe talks **began** in [February](https://example.org).\n\n"
        "- staffing\n- property\n\n> A quote.\n\n<script>alert(1)</script>\n\n"
        '<p onclick="steal()">Raw <em>HTML</em> block.</p>\n\n```\ncode block\n```\n',
    )
    (article,) = read_articles(_options(tmp_path), "en").articles
    assert "alert" not in repr(article) and "steal" not in repr(article)
    assert article.title == "Talks in Istanbul"
    assert article.published == datetime(2025, 4, 10, 18, 30, tzinfo=MADRID)
    assert article.updated == datetime(2025, 4, 11, tzinfo=MADRID)
    assert article.category == "Diplomacy"
    assert article.tags == ("Europe", "US", "Russia")
    assert article.author == "Jane Roe"
    assert article.summary == "The two delegations met for six hours."
    assert article.slug == "talks-in-istanbul"
    assert article.body == (
        Block("Background", "h2"),
        Block('The talks <strong>began</strong> in <a href="https://example.org">February</a>.', "p"),
        Block("", "ul", (Block("staffing", "li"), Block("property", "li"))),
        Block("", "quote", (Block("A quote.", "p"),)),
        Block("Raw <em>HTML</em> block.", "p"),
        Block("code block", "pre"),
    )


def test_markdown_with_toml_front_matter_and_derived_fields(tmp_path: Path) -> None:
    _write(tmp_path, "a.md", '+++\ndate = 2025-01-02T03:04:05Z\n+++\nFirst sentence here. Second.\n')
    (article,) = read_articles(_options(tmp_path), "en").articles
    assert article.title == "First sentence here"
    assert article.summary == "First sentence here. Second."
    assert article.published == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_markdown_drafts_are_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "a.md", "---\ntitle: Draft\ndraft: true\n---\nText.\n")
    _write(tmp_path, "b.md", "---\ntitle: Live\ndate: 2025-01-01\n---\nText.\n")
    assert [a.title for a in read_articles(_options(tmp_path), "en").articles] == ["Live"]


def test_json_object_and_list(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "one.json",
        json.dumps(
            {
                "title": "One",
                "date_published": "2025-04-14T10:00:00+02:00",
                "content_html": '<p onclick="x()">Hello <a href="javascript:evil()">there</a></p>'
                "<script>alert(1)</script><ul><li>item</li></ul>",
                "tags": ["a"],
                "url": "https://example.org/one",
            }
        ),
    )
    _write(
        tmp_path,
        "many.json",
        json.dumps(
            [
                {"title": "Two", "date": "2025-04-13", "content_text": "Para one.\n\nPara two."},
                {"title": "Three", "date": "2025-04-12", "body": ["A.", "B."], "authors": [{"name": "X"}]},
            ]
        ),
    )
    articles = read_articles(_options(tmp_path), "en").articles
    assert [a.title for a in articles] == ["One", "Two", "Three"]
    one, two, three = articles
    assert one.body == (Block("Hello there"), Block("", "ul", (Block("item", "li"),)))
    assert "alert" not in repr(one) and "javascript" not in repr(one.body)
    assert one.link == "https://example.org/one"
    assert one.tags == ("a",)
    assert two.body == (Block("Para one."), Block("Para two."))
    assert three.body == (Block("A."), Block("B."))
    assert three.author == "X"


def test_identity_ignores_path_and_run_time(tmp_path: Path) -> None:
    _write(tmp_path, "a/x.md", "---\ntitle: Same\ndate: 2025-01-01\n---\nText.\n")
    first = read_articles(_options(tmp_path), "en").articles[0]
    (tmp_path / "a" / "x.md").rename(tmp_path / "moved.md")
    os.utime(tmp_path / "moved.md", (0, 0))
    second = read_articles(_options(tmp_path), "en").articles[0]
    assert (first.id, first.slug) == (second.id, second.slug)


def test_duplicates_are_merged_latest_revision_wins(tmp_path: Path) -> None:
    base = "---\ntitle: Same\ndate: 2025-01-01\n{extra}---\nText {n}.\n"
    _write(tmp_path, "a.md", base.format(extra="", n=1))
    _write(tmp_path, "b.md", base.format(extra="updated: 2025-01-05\n", n=2))
    (article,) = read_articles(_options(tmp_path), "en").articles
    assert article.body == (Block("Text 2."),)


def test_undated_file_uses_config_date_then_mtime(tmp_path: Path) -> None:
    _write(tmp_path, "a.txt", "Configured date.")
    path = _write(tmp_path, "b.txt", "Modification time.")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    options = _options(tmp_path, dates=(("a.txt", datetime(2025, 5, 1, 9, 0, tzinfo=MADRID)),))
    articles = {a.title: a for a in read_articles(options, "en").articles}
    assert articles["Configured date"].published == datetime(2025, 5, 1, 9, 0, tzinfo=MADRID)
    assert articles["Modification time"].published == datetime.fromtimestamp(1_700_000_000, MADRID)


BAD_INPUTS = [
    ("empty.txt", b"", "empty.txt: empty file"),
    ("blank.md", b"\n \n", "blank.md: empty file"),
    ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary.txt: binary file"),
    ("latin1.txt", "Caf\u00e9 ok.\nna\u00efve".encode("latin-1"), "latin1.txt:1: invalid UTF-8 at byte 3"),
    ("bell.txt", b"Fine line.\nBad \x07 line.\n", "bell.txt:2: control character U+0007 is not allowed in XML"),
    ("bad.json", b'{"title": "x",', "bad.json:1: invalid JSON"),
    ("list.json", b"[1, 2]", "list.json[0]: expected an article object, got int"),
    ("open.md", b"---\ntitle: x\nno end\n", "open.md:1: front matter opened with '---' is never closed"),
    ("yaml.md", b"---\ntitle: [unclosed\n---\nText\n", "yaml.md:"),
    ("slug.md", b"---\ntitle: x\nslug: ../../etc\n---\nText\n", "slug.md: invalid slug '../../etc'"),
    ("date.json", b'{"title": "x", "date": "soon"}', "date.json: date: 'soon' is not a date"),
    ("link.json", b'{"title": "x", "url": "javascript:alert(1)"}', "link.json: invalid link"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gets_one_line_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    _write(tmp_path, "good.txt", "A good article.")
    _write(tmp_path, name, content)
    result = read_articles(_options(tmp_path), "en")
    assert [a.title for a in result.articles] == ["A good article"]
    (error,) = result.errors
    assert isinstance(error, InputError)
    text = str(error)
    assert text.startswith(str(tmp_path / message.split(":")[0].split("[")[0])) or message in text
    assert message in text.replace(str(tmp_path) + "/", "")
    assert "\n" not in text and "Traceback" not in text


def test_oversized_file_is_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "big.txt", "word " * 1000)
    result = read_articles(_options(tmp_path, max_bytes=100), "en")
    assert "big.txt: file too large (5000 bytes; the limit is 100)" in str(result.errors[0])


def test_unreadable_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "secret.txt", "Text.")

    def deny(p: Path) -> bytes:
        if p == path:
            raise PermissionError(13, "Permission denied", str(p))
        return p.read_bytes()

    result = read_articles(_options(tmp_path), "en", reader=deny)
    assert str(result.errors[0]) == f"{path}: cannot read: Permission denied"


def test_missing_source_and_unsupported_file(tmp_path: Path) -> None:
    _write(tmp_path, "notes.docx", b"x")
    options = SourceOptions(paths=(tmp_path / "nope", tmp_path / "notes.docx"), timezone="UTC")
    errors = [str(e) for e in read_articles(options, "en").errors]
    assert errors == [
        f"{tmp_path / 'nope'}: no such file or directory",
        f"{tmp_path / 'notes.docx'}: unsupported file type (expected .json, .markdown, .md, .txt)",
    ]


def test_hidden_files_and_other_suffixes_are_ignored_in_directories(tmp_path: Path) -> None:
    _write(tmp_path, ".hidden.txt", "Hidden.")
    _write(tmp_path, ".git/x.txt", "In git.")
    _write(tmp_path, "image.png", b"\x89PNG")
    _write(tmp_path, "real.txt", "Real.")
    result = read_articles(_options(tmp_path), "en")
    assert [a.title for a in result.articles] == ["Real"]
    assert result.files == 1
