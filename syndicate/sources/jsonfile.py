"""Reader for JSON (``*.json``): one article object or a list of them.

Keys follow JSON Feed spellings and the front-matter aliases in
``fields.py``.  The body comes from ``content_text``/``body`` (a string with
blank-line paragraphs, or a list of paragraphs) or from ``content_html``,
which is sanitized with nh3 and flattened into plain-text blocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import Any, ClassVar

from syndicate.errors import InputError
from syndicate.models import Article, Block, BlockKind
from syndicate.sources.common import check_xml_chars
from syndicate.sources.fields import build_article, check_types, is_draft
from syndicate.sources.safe import load_json

TEXT_KEYS = ("content_text", "body", "content", "text")


def read_json(path: str, text: str, *, default_date: datetime, language: str, tz: str) -> list[Article]:
    data = load_json(path, text)  # deep nesting, huge integers: one-line errors (safe.py)
    if isinstance(data, Mapping) and isinstance(data.get("items"), list):  # a JSON Feed
        data = data["items"]
    items = data if isinstance(data, list) else [data]
    articles = []
    for index, item in enumerate(items):
        where = f"{path}[{index}]" if isinstance(data, list) else path
        if not isinstance(item, Mapping):
            raise InputError(where, f"expected an article object, got {type(item).__name__}")
        if is_draft(item):
            continue
        check_types(where, item, TEXT_KEYS)
        body = json_body(where, item)
        articles.append(build_article(where, item, body, default_date=default_date, language=language, tz=tz))
    if not articles and not items:
        raise InputError(path, "no articles (an empty list)")
    return articles


def json_body(path: str, item: Mapping[str, Any]) -> tuple[Block, ...]:
    for key in TEXT_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            check_xml_chars(path, value)
            return tuple(Block(" ".join(p.split())) for p in value.split("\n\n") if p.strip())
        if isinstance(value, list) and value:
            if not all(isinstance(p, str) for p in value):
                raise InputError(path, f"{key} must be a string or a list of strings")
            check_xml_chars(path, "\n".join(value))
            return tuple(Block(" ".join(p.split())) for p in value if p.strip())
    html = item.get("content_html")
    if isinstance(html, str) and html.strip():
        check_xml_chars(path, html)
        return html_blocks(html)
    return ()


def html_blocks(html: str) -> tuple[Block, ...]:
    """Plain-text blocks of an HTML fragment, after sanitizing it with nh3."""
    import nh3

    parser = _BlockParser()
    parser.feed(nh3.clean(html))
    parser.close()
    return tuple(parser.blocks)


class _BlockParser(HTMLParser):
    _KINDS: ClassVar[dict[str, BlockKind]] = {
        "p": "p", "div": "p", "h1": "h2", "h2": "h2", "h3": "h3", "h4": "h3", "h5": "h3",
        "h6": "h3", "li": "li", "blockquote": "quote", "pre": "pre",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._kind: list[BlockKind] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._KINDS:
            self._flush()
            self._kind.append(self._KINDS[tag])
        elif tag == "br":
            self._text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._KINDS:
            self._flush()
            if self._kind:
                self._kind.pop()

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        kind = self._kind[-1] if self._kind else "p"
        raw = "".join(self._text)
        text = raw.strip("\n") if kind == "pre" else " ".join(raw.split())
        if text.strip():
            self.blocks.append(Block(text, "quote" if kind == "p" and "quote" in self._kind else kind))
        self._text = []
