"""Reader for Markdown (``*.md``) with YAML (``---``) or TOML (``+++``) front matter.

Front matter keys follow Hugo/Jekyll/Pelican spellings (see ``fields.py``).
The body is parsed with markdown-it (CommonMark) into plain-text blocks;
inline markup is flattened to text, inline HTML tags are dropped, and raw
HTML blocks are sanitized with nh3 before their text is kept, so nothing
executable can reach a feed.  Drafts are skipped.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from syndicate.errors import InputError
from syndicate.models import Article, Block, BlockKind
from syndicate.sources.fields import build_article, is_draft

_FENCES = {"---": "yaml", "+++": "toml"}


def read_markdown(path: str, text: str, *, default_date: datetime, language: str, tz: str) -> list[Article]:
    meta, body_text, body_line = split_front_matter(path, text)
    if is_draft(meta):
        return []
    body = markdown_blocks(body_text)
    if not body and not meta.get("title"):
        raise InputError(path, "no article text", body_line)
    return [build_article(path, meta, body, default_date=default_date, language=language, tz=tz)]


def split_front_matter(path: str, text: str) -> tuple[Mapping[str, Any], str, int]:
    lines = text.split("\n")
    fence = lines[0].strip() if lines else ""
    if fence not in _FENCES:
        return {}, text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() == fence:
            raw = "\n".join(lines[1:index])
            meta = _parse_meta(path, raw, _FENCES[fence])
            return meta, "\n".join(lines[index + 1 :]), index + 2
    raise InputError(path, f"front matter opened with {fence!r} is never closed", 1)


def _parse_meta(path: str, raw: str, kind: str) -> Mapping[str, Any]:
    try:
        if kind == "toml":
            meta: Any = tomllib.loads(raw)
        else:
            import yaml

            meta = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"invalid TOML front matter: {exc}") from None
    except Exception as exc:  # yaml.YAMLError and its many subclasses
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(path, f"invalid YAML front matter: {problem}", line) from None
    if meta is None:
        return {}
    if not isinstance(meta, Mapping):
        raise InputError(path, "front matter must be a mapping of keys to values", 2)
    return meta


_BLOCK_OPEN = {
    "paragraph_open": "p",
    "heading_open": "h",
    "blockquote_open": "quote",
    "list_item_open": "li",
}


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    """One CommonMark parser per process (building one costs more than parsing an article)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True})


def markdown_blocks(text: str) -> tuple[Block, ...]:
    """Plain-text blocks of a Markdown document."""
    tokens = _parser().parse(text)
    blocks: list[Block] = []
    context: list[str] = []
    for token in tokens:
        if token.type in _BLOCK_OPEN:
            context.append(_heading_kind(token.tag) if token.type == "heading_open" else _BLOCK_OPEN[token.type])
        elif token.type.endswith("_close") and token.type.replace("_close", "_open") in _BLOCK_OPEN:
            context.pop()
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(Block(token.content.rstrip("\n"), "pre"))
        elif token.type == "html_block":
            from syndicate.sources.jsonfile import html_blocks

            blocks.extend(html_blocks(token.content))
        elif token.type == "inline":
            _add_inline(blocks, token, context)
    return tuple(blocks)


def _heading_kind(tag: str) -> str:
    return "h2" if tag in ("h1", "h2") else "h3"


def _add_inline(blocks: list[Block], token: Any, context: list[str]) -> None:
    text = " ".join(_inline_text(token).split())
    if not text:
        return
    kind: BlockKind = "p"
    for name in reversed(context):
        if name in ("li", "quote", "h2", "h3"):
            kind = name  # type: ignore[assignment]
            break
    blocks.append(Block(text, kind))


def _inline_text(token: Any) -> str:
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)
