"""The output formats, in one table: what every other module asks about a feed format.

:data:`FORMATS` lists each format once: its name (``output.formats``), its
file name, media type and label, the function that renders it, and whether
it is listed in the OPML and in the pages' discovery links.  ``config``
(valid names), ``render`` (renderers and paths), ``serve`` (media types),
``publish`` (install order), ``validate``, ``websub`` and the OPML all read
it; a new format is one entry here and one renderer.

Every feed document lives in a *feed directory* and is named by its format's
file name there (:func:`feed_path`).  The directories:

* ``<lang>``: an edition;
* ``<lang>/sections/<slug>``: one section (category) of an edition
  (:func:`section_dir`);
* ``<feed directory>/archive/<n>``: RFC 5005 archive page ``n`` (1 = oldest)
  of an edition's or a section's feed (:func:`archive_dir`).

Each feed directory but an archive page also has an ``index.html``: the page
its feeds belong to.  This module imports nothing heavy: the renderers are
imported when first called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syndicate.models import Edition, Site
    from syndicate.render.archive import Chain

Renderer = Callable[["Site", "Edition", Sequence[str], "Chain | None"], bytes]
Writer = Callable[["Site", "Edition", Sequence[str], "Chain | None"], Iterator[bytes]]


def _rss(site: Site, edition: Edition, siblings: Sequence[str], chain: Chain | None) -> bytes:
    from syndicate.render.feeds import render_rss

    return render_rss(site, edition, siblings, chain)


def _atom(site: Site, edition: Edition, siblings: Sequence[str], chain: Chain | None) -> bytes:
    from syndicate.render.feeds import render_atom

    return render_atom(site, edition, siblings, chain)


def _json(site: Site, edition: Edition, siblings: Sequence[str], chain: Chain | None) -> bytes:
    from syndicate.render.jsonfeed import render_json_feed

    return render_json_feed(site, edition, chain, siblings)


def _rss_pieces(site: Site, edition: Edition, siblings: Sequence[str], chain: Chain | None) -> Iterator[bytes]:
    from syndicate.render.feeds import rss_pieces

    return rss_pieces(site, edition, siblings, chain)


def _atom_pieces(site: Site, edition: Edition, siblings: Sequence[str], chain: Chain | None) -> Iterator[bytes]:
    from syndicate.render.feeds import atom_pieces

    return atom_pieces(site, edition, siblings, chain)


def _json_pieces(site: Site, edition: Edition, siblings: Sequence[str], chain: Chain | None) -> Iterator[bytes]:
    from syndicate.render.jsonfeed import json_feed_pieces

    return json_feed_pieces(site, edition, chain, siblings)


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """One feed format.

    ``renderer(site, edition, siblings, chain)`` gives the document's bytes:
    ``siblings`` are the languages whose same feed directory exists, ``chain``
    places the document among its archives.  ``writer`` (same arguments) gives
    the same bytes in pieces, to write a large document without holding it.  ``opml_type`` is the OPML
    outline type (None: not listed); ``discovery`` says whether pages name the
    feed in a ``<link rel="alternate">``.
    """

    name: str
    filename: str
    media_type: str
    label: str
    renderer: Renderer
    writer: Writer
    opml_type: str | None = None
    opml_version: str | None = None
    discovery: bool = True


FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat(
        "rss", "rss.xml", "application/rss+xml", "RSS", _rss, _rss_pieces, opml_type="rss", opml_version="RSS2"
    ),
    OutputFormat("atom", "atom.xml", "application/atom+xml", "Atom", _atom, _atom_pieces, opml_type="rss"),
    OutputFormat("json", "feed.json", "application/feed+json", "JSON Feed", _json, _json_pieces, opml_type="json"),
)
BY_NAME: dict[str, OutputFormat] = {f.name: f for f in FORMATS}
NAMES: tuple[str, ...] = tuple(BY_NAME)  # canonical order: ("rss", "atom", "json")
FILENAMES: frozenset[str] = frozenset(f.filename for f in FORMATS)
BY_FILENAME: dict[str, OutputFormat] = {f.filename: f for f in FORMATS}
PAGE = "index.html"  # the page of a feed directory


def feed_path(directory: str, fmt: str) -> str:
    """The target-relative path of the ``fmt`` feed of a feed directory."""
    return f"{directory}/{BY_NAME[fmt].filename}"


def section_dir(language: str, slug: str) -> str:
    """The feed directory of one section of an edition."""
    return f"{language}/sections/{slug}"


def archive_dir(feed_dir: str, number: int) -> str:
    """The directory of archive page ``number`` (1 = oldest) of the feed in ``feed_dir``."""
    return f"{feed_dir}/archive/{number}"


def is_archive_path(path: str) -> bool:
    """Whether a target-relative file path lies in an archive page's directory."""
    parts = path.split("/")
    return len(parts) >= 3 and parts[-3] == "archive" and parts[-2].isdigit()


def is_subscription_feed(path: str) -> bool:
    """Whether a target-relative path is a feed readers subscribe to (an edition's or a section's)."""
    return path.rsplit("/", 1)[-1] in FILENAMES and not is_archive_path(path)
