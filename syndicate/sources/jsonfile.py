"""Reader for JSON (``*.json``): one article object, a list of them, or a JSON Feed.

Keys follow JSON Feed spellings and the front-matter aliases in
``fields.py``.  The body comes from ``content_html`` (sanitized and turned
into blocks by :func:`syndicate.content.html_to_blocks`, structure and inline
markup kept, relative URLs resolved against the item's ``url``) or, when
there is none, from ``content_text``/``body`` (a string with blank-line
paragraphs, or a list of paragraphs; bare URLs and e-mail addresses become
links).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from syndicate.content import html_to_blocks, linkify
from syndicate.errors import InputError
from syndicate.models import Article, Block
from syndicate.sources.common import check_xml_chars
from syndicate.sources.fields import base_url, build_article, is_draft
from syndicate.sources.safe import load_json

if TYPE_CHECKING:
    from syndicate.sources.common import ReadContext

TEXT_KEYS = ("content_text", "body", "content", "text")


def prepare() -> None:
    """Import what reading a JSON file needs, once (before read workers are forked)."""
    import syndicate.sources.media  # noqa: F401
    from syndicate.content import prepare as prepare_content

    prepare_content()


def read(path: str, text: str, ctx: ReadContext) -> list[Article]:
    """The articles of one JSON file."""
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
        body = json_body(where, item, base_url(where, item, ctx))
        articles.append(build_article(where, item, body, ctx, file=path, own_id=False))  # JSON `id`: not ours
    if not articles and not items:
        raise InputError(path, "no articles (an empty list)")
    return articles


def json_body(path: str, item: Mapping[str, Any], base: str | None = None) -> tuple[Block, ...]:
    """Blocks from ``content_html`` when present, else from the first text key."""
    html = item.get("content_html")
    if html is not None and not isinstance(html, str):
        raise InputError(path, f"content_html must be a string, not {type(html).__name__}")
    if html and html.strip():
        check_xml_chars(path, html)
        return html_to_blocks(html, base)
    for key in TEXT_KEYS:
        value = item.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            check_xml_chars(path, value)
            return _paragraphs(value.split("\n\n"))
        if isinstance(value, list) and all(isinstance(p, str) for p in value):
            check_xml_chars(path, "\n".join(value))
            return _paragraphs(value)
        raise InputError(path, f"{key} must be a string or a list of strings, not {type(value).__name__}")
    return ()


def _paragraphs(texts: list[str]) -> tuple[Block, ...]:
    return tuple(Block(linkify(" ".join(p.split())), "p") for p in texts if p.strip())
