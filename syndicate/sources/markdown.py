"""Reader for Markdown (``*.md``) with YAML (``---``) or TOML (``+++``) front matter.

Front matter keys follow Hugo/Jekyll/Pelican spellings (see ``fields.py``).
The body is parsed with markdown-it (CommonMark plus tables, strikethrough and
footnotes) and rendered to HTML, which :func:`syndicate.content.html_to_blocks`
sanitizes and turns into blocks: structure and inline markup are kept, raw
HTML is cleaned by the same allowlist, and relative link and image URLs
resolve against the article's own URL (else the site's).  Drafts are skipped.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from syndicate.content import html_to_blocks
from syndicate.errors import InputError
from syndicate.models import Article, Block
from syndicate.sources.fields import base_url, build_article, is_draft

if TYPE_CHECKING:
    from syndicate.sources.common import ReadContext

_FENCES = {"---": "yaml", "+++": "toml"}


def read(path: str, text: str, ctx: ReadContext) -> list[Article]:
    """The article of one Markdown file (none for a draft)."""
    meta, body_text, body_line = split_front_matter(path, text)
    if is_draft(meta):
        return []
    body = markdown_blocks(body_text, base_url(path, meta, ctx))
    if not body and not meta.get("title"):
        raise InputError(path, "no article text", body_line)
    return [build_article(path, meta, body, ctx)]


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


def prepare() -> None:
    """Import and build what reading a Markdown file needs, once: read workers forked
    afterwards inherit it instead of each importing it again."""
    import yaml  # noqa: F401

    import syndicate.sources.media  # noqa: F401
    from syndicate.content import prepare as prepare_content

    prepare_content()
    _parser()


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    """One parser per process (building one costs more than parsing an article)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.footnote import footnote_plugin

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).use(footnote_plugin)


_ALIGN = re.compile(r'style="text-align:\s*(left|right|center)"')
_BACKREF = re.compile(r'<a href="#fnref[^"]*" class="footnote-backref">[^<]*</a>')


def markdown_blocks(text: str, base: str | None = None) -> tuple[Block, ...]:
    """The blocks of a Markdown document; relative URLs resolve against ``base``."""
    rendered = _parser().render(text)
    rendered = _BACKREF.sub("", _ALIGN.sub(r'align="\1"', rendered))
    return html_to_blocks(rendered, base)
