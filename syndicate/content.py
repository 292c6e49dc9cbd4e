"""The content model's HTML side (DESIGN 3.4): what the author wrote, kept.

This module owns the one conversion between HTML and :class:`~syndicate.models.Block`
trees, in both directions, and the plain text derived from them:

* :func:`html_to_blocks` reads an HTML fragment (a JSON ``content_html``, the
  HTML markdown-it renders from Markdown).  It is sanitized with nh3 against an
  allowlist first; then block structure (paragraphs, headings, nested ordered
  and unordered lists, quotes, code blocks, tables, figures, rules) becomes
  blocks, and inline markup (links, emphasis, strong, code spans, line breaks,
  inline images, sub/superscript, deletions) is re-serialized from the tree in
  one canonical form.  Relative ``href``/``src`` values resolve against the
  article's own URL; a link that is not http(s) or mailto, or that cannot be
  resolved, keeps its text and loses the link.
* :func:`linkify` turns a line of plain text into inline HTML with bare URLs
  and e-mail addresses as links (the page-text reader).
* :func:`blocks_html` writes blocks as HTML (every output uses it) and
  :func:`blocks_text` as plain text (JSON ``content_text``).

Sanitizing happens here, when a file is read; renderers write the stored HTML
as it is.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from syndicate.models import TEXT_KINDS, XML_FORBIDDEN, Block

# ------------------------------------------------------------------ vocabulary

_HEADINGS = {"h1": "h2", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h4", "h6": "h4"}
_TRANSPARENT = frozenset(
    "div section article header footer aside main nav dl dt dd details summary caption center "
    "thead tbody tfoot form fieldset address hgroup".split()
)
_BLOCK_TAGS = frozenset(
    {"p", "ul", "ol", "li", "blockquote", "pre", "table", "tr", "th", "td", "figure", "figcaption", "hr"}
    | set(_HEADINGS)
    | _TRANSPARENT
)
_INLINE_RENAME = {
    "em": "em", "i": "em", "cite": "em", "var": "em", "dfn": "em",
    "strong": "strong", "b": "strong",
    "sub": "sub", "sup": "sup", "del": "del", "s": "del", "strike": "del",
}  # fmt: skip
_CODE_TAGS = frozenset({"code", "kbd", "samp", "tt"})
_UNWRAP = frozenset("span small big mark u abbr q time font ins bdi bdo data label ruby rt rp wbr".split())
_ALLOWED_TAGS = _BLOCK_TAGS | set(_INLINE_RENAME) | _CODE_TAGS | _UNWRAP | {"a", "br", "img"}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
}
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"

# Inline elements an engine must never see the inside of (code) or may translate (the rest).
INLINE_TAGS = ("a", "em", "strong", "code", "br", "img", "sub", "sup", "del")

# Things in running text that are never translated: bare URLs, e-mail addresses, host names.
URL_RE = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`]+", re.IGNORECASE)
EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
HOST_RE = re.compile(r"(?<![\w.@/-])(?:[a-z0-9-]+\.)+(?:[a-z]{2,24})(?![\w@-])(?!\.[a-z0-9])")
_TRAILING = ".,;:!?'\"’”»)]}…"


# ------------------------------------------------------------------ reading


def html_to_blocks(fragment: str, base: str | None = None) -> tuple[Block, ...]:
    """Sanitized blocks of an HTML fragment; relative URLs resolve against ``base``."""
    if not fragment.strip():
        return ()
    import lxml.html  # type: ignore[import-untyped, unused-ignore]

    clean = XML_FORBIDDEN.sub("", sanitize(fragment))  # readers reject these first; never let lxml see one
    root = lxml.html.fragment_fromstring(clean, create_parent="div")
    return tuple(_Builder(base).blocks(root))


def prepare() -> None:
    """Import and configure what :func:`html_to_blocks` needs, ahead (before read workers are forked)."""
    import lxml.html  # type: ignore[import-untyped, unused-ignore]  # noqa: F401

    _cleaner()


def sanitize(fragment: str) -> str:
    """``fragment`` with only the allowlisted tags, attributes and URL schemes (nh3)."""
    return _cleaner()(fragment)


@functools.lru_cache(maxsize=1)
def _cleaner() -> Callable[[str], str]:
    """nh3 with this module's allowlist, configured once per process (``nh3.Cleaner`` where there is one)."""
    import nh3

    options: dict[str, Any] = {
        "tags": set(_ALLOWED_TAGS),
        "attributes": {tag: set(attrs) for tag, attrs in _ALLOWED_ATTRIBUTES.items()},
        "url_schemes": {"http", "https", "mailto"},
        "link_rel": None,
        "strip_comments": True,
    }
    reusable = getattr(nh3, "Cleaner", None)  # nh3 >= 0.3: the allowlist is not rebuilt for every fragment
    if reusable is not None:
        clean: Callable[[str], str] = reusable(**options).clean
        return clean
    return functools.partial(nh3.clean, **options)


class _Builder:
    """Walks a sanitized lxml tree into blocks and canonical inline HTML."""

    def __init__(self, base: str | None) -> None:
        self.base = base

    # -- block context

    def blocks(self, container: Any) -> list[Block]:
        out: list[Block] = []
        pending: list[Any] = [container.text] if container.text else []
        for child in container:
            tag = _tag(child)
            if tag in _BLOCK_TAGS or (tag == "img" and not _has_text(pending)):
                self._flush(pending, out)
                out.extend(self.block(child, tag))
            elif tag:
                pending.append(child)
            if child.tail:
                pending.append(child.tail)
        self._flush(pending, out)
        return out

    def _flush(self, pending: list[Any], out: list[Block]) -> None:
        if pending:
            out.extend(self._paragraph(self.inline(pending)))
            pending.clear()

    def _paragraph(self, inner: str) -> list[Block]:
        if not inner:
            return []
        alone = re.fullmatch(r"<img [^>]*>", inner)
        if alone:
            return [_figure_from_img(inner, "")]
        return [Block(inner, "p")]

    def block(self, el: Any, tag: str) -> list[Block]:
        if tag == "p":
            return self._paragraph(self.inline_of(el))
        if tag in _HEADINGS:
            inner = self.inline_of(el)
            return [Block(inner, _HEADINGS[tag])] if inner else []  # type: ignore[arg-type]
        if tag in ("ul", "ol"):
            return self._list(el, tag)
        if tag == "li":
            return [Block("", "ul", (self._item(el),))]
        if tag == "blockquote":
            inner_blocks = tuple(self.blocks(el))
            return [Block("", "quote", inner_blocks)] if inner_blocks else []
        if tag == "pre":
            code = el.text_content().strip("\n")
            return [Block(html.escape(code, quote=False), "pre")] if code.strip() else []
        if tag == "table":
            return self._table(el)
        if tag == "figure":
            return self._figure(el)
        if tag == "img":
            img = self.inline([el])
            return [_figure_from_img(img, "")] if img.startswith("<img") else self._paragraph(img)
        if tag == "hr":
            return [Block("", "hr")]
        return self.blocks(el)  # transparent containers, stray cells and captions

    def _list(self, el: Any, tag: str) -> list[Block]:
        items = tuple(self._item(li) for li in el if _tag(li) == "li")
        items = tuple(item for item in items if item.html or item.children)
        if not items:
            return []
        attrs: tuple[tuple[str, str], ...] = ()
        start = (el.get("start") or "").strip()
        if tag == "ol" and start.isdigit() and int(start) != 1 and len(start) < 10:
            attrs = (("start", str(int(start))),)
        return [Block("", tag, items, attrs)]  # type: ignore[arg-type]

    def _item(self, li: Any) -> Block:
        inner = self.blocks(li)
        if inner and inner[0].kind == "p":
            return Block(inner[0].html, "li", tuple(inner[1:]))
        return Block("", "li", tuple(inner))

    def _table(self, el: Any) -> list[Block]:
        rows = []
        for tr in el.iter("tr"):
            cells = []
            for cell in tr:
                tag = _tag(cell)
                if tag in ("th", "td"):
                    attrs = tuple((k, str(cell.get(k)).strip()) for k in ("align", "colspan", "rowspan") if cell.get(k))
                    cells.append(Block(self.inline_of(cell), tag, (), attrs))  # type: ignore[arg-type]
            if cells:
                rows.append(Block("", "tr", tuple(cells)))
        return [Block("", "table", tuple(rows))] if rows else []

    def _figure(self, el: Any) -> list[Block]:
        img = next(iter(el.iter("img")), None)
        caption = next((c for c in el.iter("figcaption")), None)
        img_html = self.inline([img]) if img is not None else ""
        if not img_html.startswith("<img"):
            return self.blocks(el)
        return [_figure_from_img(img_html, self.inline_of(caption) if caption is not None else "")]

    # -- inline context

    def inline_of(self, el: Any) -> str:
        return self.inline(_content(el))

    def inline(self, nodes: Iterable[Any]) -> str:
        parts = [_text(node) if isinstance(node, str) else self._element(node) for node in nodes]
        return _tidy("".join(parts))

    def _element(self, el: Any) -> str:
        tag = _tag(el)
        if not tag:
            return ""
        if tag in _CODE_TAGS:
            code = " ".join(el.text_content().split("\n"))
            return f"<code>{html.escape(code, quote=False)}</code>" if code.strip() else ""
        if tag == "br":
            return "<br>"
        if tag == "img":
            return self._img(el)
        inner = self.inline(_content(el))
        if tag == "a":
            href = self.url(el.get("href"), mailto=True)
            if not href or not inner:
                return inner
            return f'<a href="{_attr(href)}"{_title(el)}>{inner}</a>'
        if tag in _INLINE_RENAME:
            name = _INLINE_RENAME[tag]
            return f"<{name}>{inner}</{name}>" if inner.strip() else inner
        if tag in _BLOCK_TAGS:
            return f" {inner} "
        return inner

    def _img(self, el: Any) -> str:
        alt = " ".join((el.get("alt") or "").split())
        src = self.url(el.get("src"))
        if not src:
            return html.escape(alt, quote=False)
        return f'<img src="{_attr(src)}" alt="{_attr(alt)}"{_title(el)}>'

    def url(self, value: str | None, *, mailto: bool = False) -> str | None:
        """An absolute http(s) (or mailto) URL, or ``None`` for anything else."""
        return resolve_url(value, self.base, mailto=mailto)


def resolve_url(value: str | None, base: str | None, *, mailto: bool = False) -> str | None:
    """``value`` made absolute against ``base``; ``None`` unless http(s) (or mailto)."""
    value = (value or "").strip()
    if not value or value.startswith("#"):
        return None
    try:
        absolute = urljoin(base, value) if base else value
        parts = urlsplit(absolute)
    except ValueError:  # e.g. "http://[::1"
        return None
    if parts.scheme in ("http", "https") and parts.hostname:
        return quote(absolute, safe=_URL_SAFE)
    if mailto and parts.scheme == "mailto" and "@" in parts.path:
        return quote(absolute, safe=_URL_SAFE)
    return None


def _figure_from_img(img: str, caption: str) -> Block:
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', img))
    pairs = tuple((k, html.unescape(attrs[k])) for k in ("src", "alt", "title") if attrs.get(k))
    return Block(caption, "figure", (), pairs)


def _tag(el: Any) -> str:
    tag = el.tag
    return tag.lower() if isinstance(tag, str) else ""  # comments and processing instructions: ""


def _content(el: Any) -> list[Any]:
    nodes: list[Any] = [el.text] if el.text else []
    for child in el:
        nodes.append(child)
        if child.tail:
            nodes.append(child.tail)
    return nodes


def _has_text(nodes: Sequence[Any]) -> bool:
    return any(not isinstance(n, str) or n.strip() for n in nodes)


def _text(text: str) -> str:
    # Every space character but " " is unprintable: printable text without "  " has nothing to change.
    spaced = text if text.isprintable() and "  " not in text else _SPACES.sub(" ", text)
    return html.escape(spaced, quote=False)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _title(el: Any) -> str:
    title = " ".join((el.get("title") or "").split())
    return f' title="{_attr(title)}"' if title else ""


def _tidy(inner: str) -> str:
    if "<br>" in inner:
        inner = _BR_SPACES.sub("<br>", inner)
        inner = _BR_ENDS.sub("", inner.strip())
        return _DOUBLE_SPACES.sub(" ", inner).strip()
    inner = inner.strip()  # the common case: the same result without the regular expressions when they match nothing
    return _DOUBLE_SPACES.sub(" ", inner).strip() if "  " in inner else inner


_SPACES = re.compile(r"\s{2,}|[^\S ]")  # what `\s+` -> " " changes: runs, and any other space character alone
_BR_SPACES = re.compile(r" *<br> *")
_BR_ENDS = re.compile(r"(?:<br>)+$|^(?:<br>)+")
_DOUBLE_SPACES = re.compile(r" {2,}")


# ------------------------------------------------------------------ plain text in


def linkify(text: str) -> str:
    """A line of plain text as inline HTML, with bare URLs and e-mail addresses linked."""
    out: list[str] = []
    position = 0
    for start, end, href in _links(text):
        out.append(html.escape(text[position:start], quote=False))
        shown = html.escape(text[start:end], quote=False)
        out.append(f'<a href="{_attr(href)}">{shown}</a>')
        position = end
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def _links(text: str) -> Iterator[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for match in URL_RE.finditer(text):
        end = match.start() + len(trim_url(match.group()))
        href = resolve_url(text[match.start() : end], None)
        if href:
            found.append((match.start(), end, href))
    for match in EMAIL_RE.finditer(text):
        if not any(s <= match.start() < e for s, e, _ in found):
            address = match.group().rstrip(".")
            found.append((match.start(), match.start() + len(address), f"mailto:{quote(address, safe='@.+')}"))
    return iter(sorted(found))


def trim_url(url: str) -> str:
    """A URL found in running text without the punctuation that ends its sentence."""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


# ------------------------------------------------------------------ writing


def blocks_html(blocks: Iterable[Block]) -> str:
    """Blocks as HTML, one top-level block a line."""
    return "\n".join(block_html(b) for b in blocks)


def block_html(block: Block) -> str:
    kind = block.kind
    if kind in ("p", "h2", "h3", "h4"):
        return f"<{kind}>{block.html}</{kind}>"
    if kind in ("ul", "ol"):
        start = block.attr("start")
        opening = f'<ol start="{_attr(start)}">' if kind == "ol" and start else f"<{kind}>"
        return "\n".join([opening, *(block_html(item) for item in block.children), f"</{kind}>"])
    if kind == "li":
        nested = "".join("\n" + block_html(child) for child in block.children)
        return f"<li>{block.html}{nested}</li>"
    if kind == "quote":
        return f"<blockquote>\n{blocks_html(block.children)}\n</blockquote>"
    if kind == "pre":
        return f"<pre><code>{block.html}</code></pre>"
    if kind == "table":
        return _table_html(block)
    if kind == "figure":
        return _figure_html(block)
    if kind == "hr":
        return "<hr>"
    return block.html  # tr, th, td outside a table: not produced by the readers


def _table_html(table: Block) -> str:
    rows = list(table.children)
    head = 0
    while head < len(rows) and all(c.kind == "th" for c in rows[head].children):
        head += 1
    head = head if head < len(rows) else 0  # a table of only header cells has no body
    parts = ["<table>"]
    if head:
        parts += ["<thead>", *map(_row_html, rows[:head]), "</thead>"]
    parts += ["<tbody>", *map(_row_html, rows[head:]), "</tbody>", "</table>"]
    return "\n".join(parts)


def _row_html(row: Block) -> str:
    cells = "".join(
        f"<{c.kind}{''.join(f' {k}={chr(34)}{_attr(v)}{chr(34)}' for k, v in c.attrs)}>{c.html}</{c.kind}>"
        for c in row.children
    )
    return f"<tr>{cells}</tr>"


def _figure_html(figure: Block) -> str:
    title = figure.attr("title")
    title_attr = f' title="{_attr(title)}"' if title else ""
    img = f'<img src="{_attr(figure.attr("src"))}" alt="{_attr(figure.attr("alt"))}"{title_attr}>'
    caption = f"<figcaption>{figure.html}</figcaption>" if figure.html else ""
    return f"<figure>{img}{caption}</figure>"


# ------------------------------------------------------------------ plain text out

_TAG = re.compile(r"<[^>]*>")
_IMG_ALT = re.compile(r'<img [^>]*?alt="([^"]*)"[^>]*>')


@functools.lru_cache(maxsize=4096)
def html_to_text(fragment: str, *, keep_space: bool = False) -> str:
    """The text of canonical inline HTML: tags dropped, images as their alt text."""
    if "<" not in fragment and "&" not in fragment:
        return fragment if keep_space else " ".join(fragment.split())
    text = _IMG_ALT.sub(lambda m: m.group(1), fragment.replace("<br>", "\n" if keep_space else " "))
    text = html.unescape(_TAG.sub("", text))
    return text if keep_space else " ".join(text.split())


def blocks_text(blocks: Iterable[Block]) -> str:
    """Blocks as readable plain text: paragraphs apart, list items marked, rows as cells."""
    return "\n\n".join(_block_text(b, "") for b in blocks).strip()


def _block_text(block: Block, indent: str) -> str:
    kind = block.kind
    if kind in ("ul", "ol"):
        start = int(block.attr("start") or 1)
        lines = []
        for number, item in enumerate(block.children, start=start):
            mark = f"{number}. " if kind == "ol" else "- "
            lines.append(_item_text(item, indent, mark))
        return "\n".join(lines)
    if kind == "quote":
        inner = "\n\n".join(_block_text(b, "") for b in block.children)
        return "\n".join(f"{indent}> {line}" if line else f"{indent}>" for line in inner.split("\n"))
    if kind == "table":
        return "\n".join(indent + " | ".join(c.text for c in row.children) for row in block.children)
    if kind == "hr":
        return f"{indent}* * *"
    if kind == "pre":
        return "\n".join(indent + line for line in block.text.split("\n"))
    return indent + block.text


def _item_text(item: Block, indent: str, mark: str) -> str:
    lines = [f"{indent}{mark}{item.text}"]
    lines += [_block_text(child, indent + " " * len(mark)) for child in item.children]
    return "\n".join(lines)


def text_blocks(blocks: Iterable[Block]) -> Iterator[Block]:
    """Every block whose own ``html`` is text a reader sees, in document order."""
    for block in blocks:
        for node in block.walk():
            if node.kind in TEXT_KINDS and (node.html or node.kind == "figure"):
                yield node
