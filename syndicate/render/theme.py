"""Themes: the Jinja2 templates (and static files) HTML pages are made from (DESIGN 8).

This module owns finding templates and rendering them.  A theme is a
directory with ``templates/`` (``base.html``, ``article.html``,
``edition.html``, ``site.html``, ``item.html``, ``style.css``, ...) and optionally
``static/`` (files published as they are under ``static/`` in the target:
a logo, fonts).  ``output.theme`` names a directory whose templates and static
files override the shipped default theme (``syndicate/themes/default``) one
file at a time, like Pelican's ``THEME_TEMPLATES_OVERRIDES``.

Autoescaping is on for every template; content HTML (sanitized when it was
read) and the item fragments built by :mod:`syndicate.render.html` are passed
in as :class:`markupsafe.Markup`.  The template variables are documented in
``syndicate/themes/README.md``.  :attr:`Theme.digest` covers every file of the
theme, so changing a template re-renders the pages that use it (and the kept
item lines of the listing pages, :mod:`syndicate.render.lines`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import io
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup

from syndicate.errors import ConfigError

DEFAULT_THEME = Path(__file__).resolve().parent.parent / "themes" / "default"
TEMPLATES = ("base.html", "article.html", "edition.html", "site.html", "item.html", "style.css")


class Theme:
    """A chain of theme directories, the user's first, the default last."""

    def __init__(self, directory: Path | None = None) -> None:
        if directory is not None and not (directory / "templates").is_dir() and not (directory / "static").is_dir():
            raise ConfigError(f"output.theme: {directory} has no templates/ or static/ directory")
        self.directories: tuple[Path, ...] = (*((directory,) if directory else ()), DEFAULT_THEME)

    @functools.cached_property
    def _environment(self) -> Any:
        import jinja2

        loader = jinja2.FileSystemLoader([str(d / "templates") for d in self.directories])
        return jinja2.Environment(
            loader=loader,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,  # a theme is loaded afresh each run: no stat of every template per page
        )

    def render(self, name: str, context: Mapping[str, Any]) -> bytes:
        """A template rendered with ``context``, as UTF-8; a broken user template is a ConfigError naming it.

        A long value made by :func:`long_html` (a listing page's 10,000 item lines) goes
        in by marker: the page is encoded piece by piece and each part of the value on its
        own into one growing buffer, so it never exists as one text, nor does the page (at
        N=10,000 an edition's index page held its lines joined, the page and its bytes at
        once: 31 MB; then its lines, each line's bytes and the joined bytes).  Should
        the template not print the marker as it is (a filter, a cut), the page is rendered
        again with the value joined: the same bytes either way.
        """
        slots: dict[str, Sequence[str]] = {}
        printed: list[str] = []
        page = io.BytesIO()  # grows in place and hands its buffer over: the page's bytes exist once
        reset = _SLOTS.set(slots)
        try:
            with self._errors(name):
                for chunk in self._environment.get_template(name).generate(context):
                    for piece in _encoded(chunk, slots, printed):
                        page.write(piece)
        finally:
            _SLOTS.reset(reset)
        if sorted(printed) != sorted(slots):  # a marker not printed once as it was (a filter, a cut): joined
            return self.render_each(name, (context,))[0].encode("utf-8")
        return page.getvalue()

    def render_each(self, name: str, contexts: Iterable[Mapping[str, Any]]) -> list[str]:
        """A template rendered once per context, as text (the item lines of a listing page)."""
        with self._errors(name):
            template = self._environment.get_template(name)
            return [template.render(context) for context in contexts]

    @contextlib.contextmanager
    def _errors(self, name: str) -> Iterator[None]:
        import jinja2

        try:
            yield
        except jinja2.TemplateError as exc:
            where = f"{exc.filename}:{exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else name
            raise ConfigError(f"theme template {where}: {exc.message or exc}") from exc

    def shipped(self, names: Iterable[str]) -> bool:
        """True when none of the templates ``names`` is overridden: each is the default theme's own."""
        return not any((d / "templates" / name).exists() for d in self.directories[:-1] for name in names)

    @functools.cached_property
    def digest(self) -> str:
        """A digest of every file of every theme directory: part of each page's render key."""
        digest = hashlib.blake2b(digest_size=16)
        for directory in self.directories:
            for path in sorted(p for p in directory.rglob("*") if p.is_file()):
                digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def static_files(self) -> Iterator[tuple[str, Path]]:
        """``(target path, file)`` of every static file; the first theme that has a path wins."""
        seen: set[str] = set()
        for directory in self.directories:
            static = directory / "static"
            for path in sorted(p for p in static.rglob("*") if p.is_file() and not p.name.startswith(".")):
                target = "static/" + path.relative_to(static).as_posix()
                if target not in seen:
                    seen.add(target)
                    yield target, path

    def __repr__(self) -> str:  # part of render keys: stable across runs
        return f"Theme({self.digest})"


# While Theme.render runs: the long values its page puts in by marker (marker -> parts; emptied
# as each is printed).  The token keeps a marker out of reach of any text a page shows.
_SLOTS: contextvars.ContextVar[dict[str, Sequence[str]] | None] = contextvars.ContextVar("slots", default=None)
_TOKEN = secrets.token_hex(8)
_LONG = 256  # parts from which a value goes in by marker
_MARKER = re.compile(f"(\x00{_TOKEN}:[0-9]+\x00)")


def long_html(parts: Sequence[str]) -> Markup:
    """``parts`` joined, as HTML; inside :meth:`Theme.render`, a marker that the render replaces
    with the parts one by one (a listing page's lines are never joined into one text)."""
    slots = _SLOTS.get()
    if slots is None or len(parts) < _LONG:
        return Markup("".join(parts))
    marker = f"\x00{_TOKEN}:{len(slots)}\x00"
    slots[marker] = parts
    return Markup(marker)


def _encoded(chunk: str, slots: dict[str, Sequence[str]], printed: list[str]) -> Iterator[bytes]:
    """A chunk of a page as UTF-8, each marker in it replaced by its value's parts (noted in ``printed``)."""
    if not slots or "\x00" not in chunk:
        yield chunk.encode("utf-8")
        return
    for piece in _MARKER.split(chunk):  # the markers, and the text around them as it is
        parts = slots.get(piece)
        if parts is None:
            yield piece.encode("utf-8")
        else:
            printed.append(piece)
            yield from (part.encode("utf-8") for part in parts)


def load_theme(directory: Path | None = None) -> Theme:
    """The theme of a run.  A user theme is read afresh when one of its files changed
    (size or mtime), and only then: a run (and ``serve``) asks for it more than once."""
    if directory is None:
        return _default_theme()
    return _user_theme(directory, theme_stamp(directory))


@functools.lru_cache(maxsize=4)
def _user_theme(directory: Path, stamp: tuple[tuple[str, int, int], ...]) -> Theme:
    return Theme(directory)


def theme_stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of every file of a user theme: what a run reads of it (``serve`` watches it)."""
    files = []
    for path in sorted(directory.rglob("*")):
        try:
            info = path.stat()
        except OSError:
            continue
        files.append((path.as_posix(), info.st_size, info.st_mtime_ns))
    return tuple(files)


@functools.lru_cache(maxsize=1)
def _default_theme() -> Theme:
    """The shipped theme, compiled once per process."""
    return Theme(None)
