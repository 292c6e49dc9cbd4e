"""Inline markup through translation engines (DESIGN 4).

This module owns turning a block's inline HTML (or a plain-text field) into
:class:`Unit` objects an engine can translate, and rebuilding the translated
HTML from them.  An engine only ever sees plain text with opaque tokens:

* each inline element (a link, emphasis, strong, sub/superscript, deletion)
  becomes ONE token in its block's text, and its own text is a unit of its
  own, translated separately and put back inside the element at the token's
  place.  Measured with apertium ``-f html``: balanced tags are not enough,
  words move across tag boundaries (``said <strong>Donald Trump</strong>`` ->
  ``Donald <strong>dicho Triunfo</strong>``); with opaque tokens each element
  always wraps the translation of its own text, whatever the engine does
  with word order.  The same scheme serves every engine, so one check covers
  them all;
* code spans, line breaks, bare URLs, e-mail addresses and host names become
  tokens restored byte for byte: they are never sent;
* an inline image's ``alt`` text is a unit; its ``src`` is never sent.

Tokens are the five-capital placeholders of :mod:`syndicate.translate.protect`
(they survive every installed apertium pair).  :func:`rebuild` returns
``None`` when a token is missing or repeated in a translation, so a segment
whose markup did not survive fails instead of being published half-broken.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

from syndicate.content import EMAIL_RE, HOST_RE, URL_RE, trim_url
from syndicate.translate.protect import CAPACITY, pick_prefix, placeholder

_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True, slots=True)
class Keep:
    """Restored exactly as it was: a code span, a URL, an e-mail address, ``<br>``."""

    raw: str


@dataclass(frozen=True, slots=True)
class Wrap:
    """An inline element whose text is translated on its own."""

    open: str
    close: str
    inner: Unit


@dataclass(frozen=True, slots=True)
class Image:
    """An inline image: the ``alt`` text is translated, ``src`` and ``title`` kept."""

    src: str
    title: str
    alt: Unit


Part = Keep | Wrap | Image


@dataclass(frozen=True, slots=True)
class Unit:
    """One text an engine translates, with the parts its tokens stand for.

    ``is_html``: the rebuilt text is HTML (text escaped) rather than plain text.
    """

    text: str
    parts: tuple[tuple[str, Part], ...] = ()
    is_html: bool = False
    glued: tuple[tuple[str, bool, bool], ...] = ()  # (token, space added before, space added after)

    @property
    def translatable(self) -> bool:
        """Whether an engine has anything to do: letters outside the tokens."""
        bare = self.text
        for token, _ in self.parts:
            bare = bare.replace(token, " ")
        return _LETTER.search(bare) is not None

    def texts(self) -> Iterator[str]:
        """Every text of this unit and its nested units that an engine must translate."""
        if self.translatable:
            yield self.text
        for _, part in self.parts:
            if isinstance(part, Wrap):
                yield from part.inner.texts()
            elif isinstance(part, Image):
                yield from part.alt.texts()


# ------------------------------------------------------------------ building


@functools.lru_cache(maxsize=16384)
def unit_from_text(text: str) -> Unit:
    """A plain-text field (title, summary, tag, alt text) with URLs and addresses protected."""
    return _build([text], is_html=False)


@functools.lru_cache(maxsize=16384)
def unit_from_html(fragment: str) -> Unit:
    """A block's canonical inline HTML (see :mod:`syndicate.content`)."""
    parser = _TreeParser()
    parser.feed(fragment)
    parser.close()
    return _build(parser.root, is_html=True)


_Node = str | tuple[str, tuple[tuple[str, str | None], ...], list["_Node"]]


class _TreeParser(HTMLParser):
    _VOID = frozenset({"br", "img"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list[_Node] = []
        self._stack: list[list[_Node]] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        children: list[_Node] = []
        self._stack[-1].append((tag, tuple(attrs), children))
        if tag not in self._VOID:
            self._stack.append(children)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self._VOID and len(self._stack) > 1:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        self._stack[-1].append(data)


def _build(nodes: list[_Node], *, is_html: bool) -> Unit:
    plain = "".join(_flat(nodes))
    prefix = pick_prefix(plain) or "ZQ"
    text: list[str] = []
    parts: list[tuple[str, Part]] = []

    def add(part: Part) -> None:
        if len(parts) >= CAPACITY:  # absurdly many elements: keep the rest as one opaque token
            raise _TooMany
        token = placeholder(prefix, len(parts))
        parts.append((token, part))
        text.append(token)

    try:
        for node in nodes:
            if isinstance(node, str):
                _protect_text(node, text, add, is_html)
            else:
                add(_part(node, is_html))
    except _TooMany:
        return Unit(_TOO_MANY, ((_TOO_MANY, Keep(_serialize(nodes, is_html))),), is_html)
    joined, glued = _spaced(text, {token for token, _ in parts})
    return Unit(joined, tuple(parts), is_html, glued)


def _spaced(pieces: list[str], tokens: set[str]) -> tuple[str, tuple[tuple[str, bool, bool], ...]]:
    """Join ``pieces`` with a space on each side of a token that touches text.

    Engines read ``quay.ZQBCQSecond`` as one unknown word; ``quay. ZQBCQ Second``
    keeps the words apart.  The added spaces are recorded (token, before, after)
    and removed again by :func:`rebuild`.
    """
    out: list[str] = []
    glued: list[tuple[str, bool, bool]] = []
    pieces = [p for p in pieces if p]
    for index, piece in enumerate(pieces):
        if piece not in tokens:
            out.append(piece)
            continue
        before = bool(out) and bool(out[-1]) and not out[-1][-1].isspace()
        following = pieces[index + 1] if index + 1 < len(pieces) else ""
        after = bool(following) and not following[0].isspace()
        out.append((" " if before else "") + piece + (" " if after else ""))
        if before or after:
            glued.append((piece, before, after))
    return "".join(out), tuple(glued)


class _TooMany(Exception):
    pass


_TOO_MANY = "ZQZZQ"  # a whole segment kept untranslated (never produced by placeholder())


def _protect_text(text: str, out: list[str], add: object, is_html: bool) -> None:
    position = 0
    for start, end in _protected_spans(text):
        out.append(text[position:start])
        raw = text[start:end]
        add(Keep(html.escape(raw, quote=False) if is_html else raw))  # type: ignore[operator]
        position = end
    out.append(text[position:])


def _protected_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for pattern in (URL_RE, EMAIL_RE, HOST_RE):
        for match in pattern.finditer(text):
            end = match.start() + len(trim_url(match.group()) if pattern is URL_RE else match.group().rstrip("."))
            if end > match.start() and not any(s < end and match.start() < e for s, e in spans):
                spans.append((match.start(), end))
    return sorted(spans)


def _part(node: tuple[str, tuple[tuple[str, str | None], ...], list[_Node]], is_html: bool) -> Part:
    tag, attrs, children = node
    if tag == "code" or tag == "br":
        return Keep(_serialize([node], True))
    if tag == "img":
        values = dict(attrs)
        return Image(values.get("src") or "", values.get("title") or "", unit_from_text(values.get("alt") or ""))
    opening = "<" + tag + "".join(f' {k}="{html.escape(v or "", quote=True)}"' for k, v in attrs) + ">"
    return Wrap(opening, f"</{tag}>", _build(children, is_html=is_html))


def _flat(nodes: list[_Node]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, str):
            yield node
        else:
            yield from _flat(node[2])


def _serialize(nodes: list[_Node], is_html: bool) -> str:
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(html.escape(node, quote=False) if is_html else node)
            continue
        tag, attrs, children = node
        attributes = "".join(f' {k}="{html.escape(v or "", quote=True)}"' for k, v in attrs)
        out.append(f"<{tag}{attributes}>")
        if tag not in ("br", "img"):
            out.append(_serialize(children, is_html) + f"</{tag}>")
    return "".join(out)


# ------------------------------------------------------------------ rebuilding


def rebuild(unit: Unit, done: Mapping[str, str]) -> str | None:
    """The translated text of ``unit`` (HTML for an HTML unit), or ``None`` if any part failed."""
    if unit.translatable:
        translated = done.get(unit.text)
        if translated is None:
            return None
        translated = _match_initial_case(unit.text, translated)
    else:
        translated = unit.text
    if not unit.parts:
        return _escape(translated, unit.is_html)
    pieces = _split_tokens(translated, [token for token, _ in unit.parts])
    if pieces is None:
        return None
    by_token = dict(unit.parts)
    _unglue(pieces, unit.glued)
    out: list[str] = []
    for piece, is_token in pieces:
        if not is_token:
            out.append(_escape(piece, unit.is_html))
            continue
        rendered = _render(by_token[piece], done, unit.is_html)
        if rendered is None:
            return None
        out.append(rendered)
    return "".join(out)


def _unglue(pieces: list[tuple[str, bool]], glued: tuple[tuple[str, bool, bool], ...]) -> None:
    """Remove the spaces :func:`_spaced` put around tokens that touched text in the source."""
    where = {token: (before, after) for token, before, after in glued}
    for index, (piece, is_token) in enumerate(pieces):
        if not is_token or piece not in where:
            continue
        before, after = where[piece]
        if before and index > 0 and pieces[index - 1][0].endswith(" "):
            pieces[index - 1] = (pieces[index - 1][0][:-1], False)
        if after and index + 1 < len(pieces) and pieces[index + 1][0].startswith(" "):
            pieces[index + 1] = (pieces[index + 1][0][1:], False)


def _match_initial_case(source: str, translated: str) -> str:
    """Engines capitalize what they take for a sentence: ``for repairs`` -> ``Para reparaciones``.

    A unit whose source starts with a lower-case letter (link text, an item
    continuing a sentence) keeps a lower-case start.
    """
    first = next((c for c in source if c.isalpha()), "")
    index = next((i for i, c in enumerate(translated) if c.isalpha()), None)
    if not first.islower() or index is None or not translated[index].isupper():
        return translated
    following = translated[index + 1 : index + 2]
    if following and following.isupper():  # an acronym or an all-capitals word: leave it
        return translated
    return translated[:index] + translated[index].lower() + translated[index + 1 :]


def _split_tokens(text: str, tokens: list[str]) -> list[tuple[str, bool]] | None:
    """``text`` cut into (text, False) and (token, True) pieces; None unless each token is there once."""
    pattern = re.compile("|".join(map(re.escape, tokens)), re.IGNORECASE)
    pieces: list[tuple[str, bool]] = []
    seen: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        pieces.append((text[position : match.start()], False))
        token = match.group().upper()
        pieces.append((token, True))
        seen.append(token)
        position = match.end()
    pieces.append((text[position:], False))
    if sorted(seen) != sorted(tokens):
        return None
    return pieces


def _render(part: Part, done: Mapping[str, str], is_html: bool) -> str | None:
    if isinstance(part, Keep):
        return part.raw
    if isinstance(part, Wrap):
        inner = rebuild(part.inner, done)
        return None if inner is None else part.open + inner + part.close
    alt = rebuild(part.alt, done)
    if alt is None:
        return None
    if not is_html:
        return alt
    title = f' title="{html.escape(part.title, quote=True)}"' if part.title else ""
    return f'<img src="{html.escape(part.src, quote=True)}" alt="{html.escape(alt, quote=True)}"{title}>'


def _escape(text: str, is_html: bool) -> str:
    return html.escape(text, quote=False) if is_html else text


# ------------------------------------------------------------------ checking


_TAGS = re.compile(r"<(/?)([a-z0-9]+)([^>]*)>")
_URL_ATTR = re.compile(r'\b(?:href|src)="([^"]*)"')


def markup_signature(fragment: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tags and URLs of a fragment, sorted (engines may reorder them): a translation keeps both."""
    tags = sorted(m.group(1) + m.group(2) for m in _TAGS.finditer(fragment))
    return tuple(tags), tuple(sorted(_URL_ATTR.findall(fragment)))
