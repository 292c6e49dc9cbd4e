"""Page frames: a template rendered once per shape, then filled page by page.

This module owns rendering many pages (or item lines) of one template that
differ only in a few values, without running the template for each.  The
pages of one template and shared context (an edition's article pages, the
lines of a listing page) differ in the title, the URLs, the content...  The
template is rendered once per *shape* with a marker in place of each such
value (the frame); each page is then the frame's text with its own values,
escaped as Jinja2 escapes them (text escaped, :class:`~markupsafe.Markup`
as it is), in the slots.

The shape is what a template branches or loops on: which values are empty
(and how), how long each list is, and the values that are the same for every
page of a shared context (:data:`FIXED`: a language's code and name).  That
is true of the shipped templates, which the tests compare page by page with
Jinja2's own rendering; it is not known of a user's template, so a theme that
overrides one of the templates a page is made from is rendered by Jinja2,
page by page.  As a check, each frame is rendered twice with two different
markers: a template that changes or measures a value (a filter, ``|length``)
or uses one of :data:`UNSEEN` gets no frame, and Jinja2 renders those pages.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from syndicate.errors import ConfigError
from syndicate.render.theme import Theme

FIXED = frozenset({"hreflang", "code", "name", "current"})  # the same for every page of a shared context
UNSEEN = frozenset({"published", "tags"})  # not used by the shipped templates (the probe fails if they are)
_SUFFIXES = ("", "b")  # the two probes' markers: \x00slot<n>\x00 and \x00slot<n>b\x00
_MARKERS = {suffix: re.compile(rf"\x00slot(\d+){suffix}\x00") for suffix in _SUFFIXES}
_SPECIAL = re.compile("[&<>'\"]").search  # what markupsafe.escape replaces


@dataclasses.dataclass(frozen=True, slots=True)
class Frame:
    """A page of one shape: its text around the slots, and which value fills each slot."""

    texts: tuple[str, ...]  # one more than slots
    slots: tuple[int, ...]

    @classmethod
    def parse(cls, rendered: str, suffix: str = "") -> Frame | None:
        """The frame of a page rendered with markers ending in ``suffix``; None when a marker was cut
        or changed (or a NUL is left over: a marker-like text of the other probe's, never a slot)."""
        pieces = _MARKERS[suffix].split(rendered)
        texts, slots = tuple(pieces[0::2]), tuple(int(n) for n in pieces[1::2])
        return None if any("\x00" in text for text in texts) else cls(texts, slots)

    def fill(self, values: Sequence[Any]) -> str:
        """The page: each slot filled with its value, escaped unless it is already HTML (Markup)."""
        texts = self.texts
        out = [texts[0]]
        for slot, text in zip(self.slots, texts[1:], strict=True):
            value = values[slot]
            if isinstance(value, Markup) or (type(value) is str and not _SPECIAL(value)):
                out.append(value)  # HTML already, or text with nothing to escape (most titles and URLs)
            else:
                out.append(escape(value))
            out.append(text)
        return "".join(out)


_NONE = Frame((), ())  # no frame made for a shape yet


class Frames:
    """The pages of template ``name`` with the variables ``shared``: by frame where the templates
    ``made_from`` are all the shipped theme's, else each through Jinja2."""

    def __init__(self, theme: Theme, name: str, shared: Mapping[str, Any], made_from: Iterable[str]) -> None:
        self.theme, self.name, self.shared = theme, name, shared
        self.frames: dict[object, Frame | None] | None = {} if theme.shipped(made_from) else None

    def render(self, page: Mapping[str, Any]) -> str:
        """One page with its own variables ``page`` (values, records, lists of records)."""
        if self.frames is not None:
            values: list[Any] = []
            found = shape(page, values)
            frame = self.frames.get(found, _NONE)
            if frame is _NONE:
                frame = self.frames[found] = self._frame(page)
            if frame is not None:
                return frame.fill(values)
        return self.theme.render_each(self.name, ({**self.shared, **page},))[0]

    def render_all(self, pages: Iterable[Mapping[str, Any]]) -> list[str]:
        """Each of ``pages`` (as :meth:`render`)."""
        if self.frames is None:
            return self.theme.render_each(self.name, ({**self.shared, **page} for page in pages))
        return [self.render(page) for page in pages]

    def _frame(self, page: Mapping[str, Any]) -> Frame | None:
        """The frame of ``page``'s shape, or None (render such pages through Jinja2)."""
        probes = [{**self.shared, **marked(page, suffix)} for suffix in _SUFFIXES]
        try:
            rendered = self.theme.render_each(self.name, probes)
            first, second = (Frame.parse(text, suffix) for text, suffix in zip(rendered, _SUFFIXES, strict=True))
        except ConfigError:
            return None  # the template error is raised again, with its message, by the Jinja2 render
        return first if first is not None and first == second else None


def shape(page: Mapping[str, Any], values: list[Any]) -> tuple[object, ...]:
    """``page``'s shape (what the templates may branch on); its other values appended to ``values``.

    ``page`` holds values, lists of records and records (dicts); the shape lists each list's
    length, then, value by value, the value itself where it is fixed or empty, else True.
    """
    found: list[object] = []
    for key, value in page.items():
        if isinstance(value, list):
            found.append(len(value))
            for record in value:
                _leaves(record.items(), found, values)
        else:
            _leaves(value.items() if isinstance(value, dict) else ((key, value),), found, values)
    return tuple(found)


def _leaves(items: Iterable[tuple[str, Any]], found: list[object], values: list[Any]) -> None:
    for key, value in items:
        if key in UNSEEN:
            continue
        if key in FIXED or not value:
            found.append(value)
        else:
            found.append(True)
            values.append(value)


def marked(page: Mapping[str, Any], suffix: str) -> dict[str, Any]:
    """``page`` with a marker in place of each value :func:`shape` appends (in the same order)."""
    import jinja2

    count = 0

    def mark(key: str, value: Any) -> Any:
        nonlocal count
        if key in UNSEEN:
            return jinja2.StrictUndefined(name=key)  # any use is an error: the probe fails, Jinja2 renders
        if key in FIXED or not value:
            return value
        count += 1
        return f"\x00slot{count - 1}{suffix}\x00"

    def record(value: dict[str, Any]) -> dict[str, Any]:
        return type(value)((k, mark(k, v)) for k, v in value.items())

    return {
        key: [record(r) for r in value] if isinstance(value, list)
        else record(value) if isinstance(value, dict)
        else mark(key, value)
        for key, value in page.items()
    }  # fmt: skip
