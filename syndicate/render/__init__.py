"""Render a site's editions into the bytes of the whole target tree (DESIGN 6).

This package owns the published file formats; :func:`render_site` is its one
entry point and returns relative POSIX path -> bytes::

    index.html  feeds.opml
    <lang>/rss.xml  <lang>/atom.xml  <lang>/feed.json  <lang>/index.html
    <lang>/articles/<slug>.html
    <lang>/sections/<slug>/{rss.xml,atom.xml,feed.json,index.html}
    <feed directory>/archive/<n>/{rss.xml,atom.xml,feed.json}
    <source lang>/media/<digest>-<name>     local images the articles publish

Submodules: :mod:`.feeds` (RSS 2.0 and Atom 1.0 via feedgen),
:mod:`.jsonfeed` (JSON Feed 1.1), :mod:`.html` (URL scheme, item content and
pages), :mod:`.opml` (OPML 2.0), :mod:`.sections` (section feeds) and
:mod:`.archive` (RFC 5005 archive pages); the formats themselves are the
table in :mod:`syndicate.formats`.  Every renderer is a pure function: the
same input gives the same bytes, and no output contains "now".

Before rendering, language tags are normalized and validated (they become
directory names), slugs are checked, and characters XML forbids are removed
from all text, so bad input never produces a broken feed.  Feeds render with
feedgen, which calls the process-global ``setlocale``: do not render from
threads.  :func:`iter_render` can hand the rendering to forked worker
processes (``workers``): article pages, feeds and index pages; the calling
process keeps the fragment store and yields the outputs in the same order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import os
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

from syndicate import heap, localize
from syndicate.errors import ConfigError, InputError
from syndicate.formats import BY_NAME, NAMES, feed_path, section_dir
from syndicate.models import FORBIDDEN_IN_REPR, XML_FORBIDDEN, Article, Block, Edition, Media, Site, Translation
from syndicate.publish import Data, StagedFile
from syndicate.render import fragments, html
from syndicate.render.archive import Chain, archive_slices, chains
from syndicate.render.feeds import render_atom, render_rss
from syndicate.render.fragments import FragmentStore
from syndicate.render.jsonfeed import render_json_feed
from syndicate.render.lines import Handover, LineStore, NewLines
from syndicate.render.opml import render_opml
from syndicate.render.sections import Section, SectionChoice, sections_by_language
from syndicate.render.theme import Theme, load_theme
from syndicate.shelf import Shelf, column, shelve

__all__ = [
    "FORMATS",
    "iter_render",
    "render_atom",
    "render_changed",
    "render_json_feed",
    "render_opml",
    "render_rss",
    "render_site",
]

FORMATS: tuple[str, ...] = NAMES  # ("rss", "atom", "json"): the table in syndicate.formats

_SLUG_RULE = "is not made of a-z, 0-9 and '-' (at most 200 characters)"
_SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,198}[a-z0-9])?")


def render_site(
    site: Site,
    editions: Sequence[Edition],
    *,
    formats: Collection[str] = ("rss", "atom", "json"),
    max_items: int = 50,
    theme: Theme | None = None,
) -> dict[str, bytes]:
    """Every file of the target tree, keyed by relative POSIX path (sorted).

    ``editions[0]`` is the source-language edition; each edition's articles
    are newest first.  Feeds hold the ``max_items`` newest articles; every
    article gets a page.  Raises :class:`ConfigError` for unknown formats,
    bad or duplicate language tags, and :class:`InputError` for unsafe or
    duplicate slugs.
    """
    files, _ = render_changed(site, editions, formats=formats, max_items=max_items, theme=theme)
    return files


def render_changed(
    site: Site,
    editions: Sequence[Edition],
    *,
    formats: Collection[str] = ("rss", "atom", "json"),
    max_items: int = 50,
    previous: Mapping[str, str] | None = None,
    archive_page_size: int | None = None,
    theme: Theme | None = None,
    sections: SectionChoice = False,
) -> tuple[dict[str, bytes], dict[str, str]]:
    """Incremental :func:`render_site`: ``(files rendered, render key of every path)``.

    A path whose key equals ``previous[path]`` is not rendered: it is in the
    keys but not in the files, and the caller keeps the published copy.
    """
    files: dict[str, bytes] = {}
    keys: dict[str, str] = {}
    outputs = iter_render(
        site,
        editions,
        formats=formats,
        max_items=max_items,
        previous=previous,
        theme=theme,
        archive_page_size=archive_page_size,
        sections=sections,
    )
    for path, key, data in outputs:
        keys[path] = key
        if data is not None:
            assert isinstance(data, bytes)  # no scratch directory given: every output comes as bytes
            files[path] = data
    return dict(sorted(files.items())), dict(sorted(keys.items()))


def iter_render(
    site: Site,
    editions: Sequence[Edition],
    *,
    formats: Collection[str] = ("rss", "atom", "json"),
    max_items: int = 50,
    previous: Mapping[str, str] | None = None,
    archive_page_size: int | None = None,
    theme: Theme | None = None,
    sections: SectionChoice = False,
    fragments: FragmentStore | None = None,
    workers: int = 1,
    lines: LineStore | None = None,
    scratch: Path | None = None,
) -> Iterator[tuple[str, str, Data | None]]:
    """Every output as ``(path, render key, bytes)``, one at a time (bytes None: unchanged).

    Each output's key is a digest of everything that makes its bytes (the
    renderer's own source code included); an output whose key equals
    ``previous[path]`` is not rendered.  Yielding one file at a time keeps
    memory flat: the publisher stages each file as it comes.  With
    ``archive_page_size``, the articles beyond ``max_items`` go into RFC 5005
    archive pages of that many articles (:mod:`.archive`).  ``sections``
    chooses the section feeds and pages (:mod:`.sections`).  With a
    ``fragments`` store, a feed whose last document is still published is
    joined from its fragments and only the new or changed items are rendered
    (:mod:`.fragments`).  With ``workers`` > 1, the outputs are rendered in
    that many forked processes while this one takes them in order (and the
    publisher stages them); the outputs, and their order, are the same.  With a
    ``lines`` store, the listing pages join their items' kept lines
    (:mod:`.lines`), in this process (the store is this process's).  With a
    ``scratch`` directory (:func:`syndicate.publish.scratch_directory`), a
    worker writes a large output there and sends a
    :class:`~syndicate.publish.StagedFile` instead of its bytes, so a
    10,000-item feed never waits in this process's memory.
    """
    chosen = _check_formats(formats)
    if max_items < 0:
        raise ConfigError(f"max_items must be 0 or more, got {max_items}")
    if archive_page_size is not None and archive_page_size < 1:
        raise ConfigError(f"archive_page_size must be 1 or more, got {archive_page_size}")
    global _SCRATCH
    _SCRATCH = str(scratch) if scratch is not None else None
    try:
        pages = _Pages(theme or load_theme(), chosen, _Window(max_items, archive_page_size), sections, fragments, lines)
        # ``previous`` is a lazy mapping (the publisher's :func:`~syndicate.publish.intact_keys`): never ask for
        # its truth value or length, which would check every published path (it was checked twice a run).
        known: Mapping[str, str] = previous if previous is not None else {}
        prepared = _prepare(editions)
        _key_memo.clear()  # the keys are on the prepared editions' shelves: the articles need not stay
        specs = _render(_prepare_site(site), prepared, pages, known)
        del prepared
        if workers > 1:
            yield from _in_parallel(specs, workers, known)
        else:
            yield from _in_order(specs)
    finally:
        html.clear_content_memo()
        _key_memo.clear()
        _edition_memo.clear()
        _SCRATCH = None


_T = TypeVar("_T")
Spec = tuple[str, str, Callable[[], Data] | None]  # (path, render key, how to render it; None: unchanged)


class _Outputs:
    """Render keys and the skip decision: a path whose key did not change is not rendered."""

    def __init__(self, previous: Mapping[str, str], base: str) -> None:
        self.previous, self.base = previous, base

    def add(self, path: str, parts: tuple[object, ...], render: Callable[[], Data]) -> Spec:
        key = _digest(self.base, path, *parts)
        return path, key, None if self.previous.get(path) == key else render

    def unchanged(self, path: str, key: str) -> bool:
        """Whether ``path`` was published with ``key`` (then it is not rendered, nor its render made)."""
        return self.previous.get(path) == key


_EDITION_DONE: Spec = ("", "", None)  # a marker between editions: their item contents may be freed


def _in_order(specs: Iterator[Spec]) -> Iterator[tuple[str, str, Data | None]]:
    """Render each output as it comes, in this process."""
    for path, key, render in specs:
        if path:
            yield path, key, render() if render is not None else None
        else:
            html.clear_content_memo()  # this edition's item contents are not needed again: free them


_BATCH = 100  # article pages per task sent to a worker
_AHEAD = 8  # tasks in flight per worker at most: outputs rendered ahead while this process publishes
_AHEAD_WEIGHT = 3000  # and at most this much work in flight (:func:`_weight`): the results wait here
_SPECS: list[Spec] = []  # what forked workers render from (inherited, never pickled)
_RELEASE_EVERY = 100  # tasks taken from the workers between two heap.release() calls
_PARALLEL_MIN = 400  # less work than this (in article pages' worth, :func:`_weight`): all in this process


class _Here:
    """A render that stays in this process: reading a file (sending its bytes back costs more), or
    a listing page that joins its lines through the line store (this process's: :mod:`.lines`)."""

    def __init__(self, read: Callable[[], bytes]) -> None:
        self.read = read

    def __call__(self) -> bytes:
        return self.read()


@dataclass(frozen=True, slots=True)
class _Listing:
    """An index page's render and how many items it lists (what it costs: :func:`_weight`)."""

    render: Callable[[], bytes]
    items: int

    def __call__(self) -> bytes:
        return self.render()


@dataclass(frozen=True, slots=True)
class _FeedJob:
    """One feed document to render, and what the fragment store records of it.

    Called here, it is joined from its published fragments where ``store`` has
    them (:mod:`.fragments`) and recorded.  A worker process calls
    :meth:`whole` (the same bytes, without the store: the store's reads and
    writes stay in this process) and this process :meth:`record` s the result.
    """

    store: FragmentStore | None
    base: str
    fmt: str
    path: str
    edition: Edition
    keys: Sequence[str]
    render: Callable[[Edition], bytes]
    pieces: Callable[[Edition], Iterator[bytes]]  # the same bytes as ``render``, in pieces

    def __call__(self) -> Data:
        if self.store is None:
            return self.render(self.edition)
        context = self._context()
        previous = self.store.previous(self.path, self.fmt, context)
        document = fragments.assemble(self.fmt, self.edition, self.keys, self.render, previous)
        bounds = None
        if isinstance(document, bytes):
            data: Data = document
        else:
            bounds = document.bounds  # where its items start: the next run cuts it without a scan
            if _SCRATCH is not None:  # joined piece by piece into a file: never whole in memory
                data = StagedFile.write(_SCRATCH, document.parts())
            else:
                data = document.join(document.items)
        self.store.record(data if isinstance(data, bytes) else data.sha256, self.fmt, context, self.keys, bounds)
        return data

    def whole(self) -> Data | tuple[StagedFile, list[int] | None]:
        """The whole document (in a worker): written piece by piece into the scratch directory when
        it is large, so not even a worker holds a 10,000-item feed whole; then with where its items
        start (:class:`fragments.Measured`), for the store to record."""
        if _SCRATCH is not None and len(self.edition.articles) >= _STAGE_ITEMS:
            measured = fragments.Measured(self.fmt, self.pieces(self.edition))
            return StagedFile.write(_SCRATCH, measured), measured.bounds(len(self.keys))
        return self.render(self.edition)

    def record(self, data: bytes | str, bounds: Sequence[int] | None = None) -> None:
        """Record a document a worker rendered: its bytes, or their sha256 (hex) when it wrote them to a
        file, with its items' ``bounds`` when known."""
        if self.store is not None:
            self.store.record(data, self.fmt, self._context(), self.keys, bounds)

    def _context(self) -> str:
        return _digest(self.base, self.edition.language)


# What a worker sends back: bytes, a file it wrote (a large output), or a listing page (bytes, or a file it
# wrote when large) and its new lines (a file of the scratch directory, else as they are: :class:`_LineJob`).
Rendered = bytes | StagedFile | tuple[Data, NewLines | Handover] | tuple[StagedFile, list[int] | None]
_SCRATCH: str | None = None  # where large outputs are written as files (workers inherit it; see iter_render)
_STAGE_MIN = 1 << 20  # outputs from this size on are written by the worker, not sent back as bytes
_STAGE_ITEMS = 300  # feeds of this many items on (about 1 MB) are written by the worker piece by piece


@dataclass(frozen=True, slots=True)
class _LineJob:
    """A listing page that joins its lines through the line ``store``, rendered by a worker.

    Called here, it is an ordinary render.  A worker calls :meth:`whole`: its copy
    of the store is detached (memory only: the database is this process's) and the
    page comes back with the lines it rendered, which :meth:`record` gives to this
    process's store.  With a scratch directory, neither travels in the worker's
    answer: a large page comes as a :class:`StagedFile` and the lines as a
    :class:`~syndicate.render.lines.Handover` file, read here record by record.
    """

    render: Callable[[], bytes]
    items: int
    store: LineStore

    def __call__(self) -> bytes:
        return self.render()

    def whole(self) -> tuple[Data, NewLines | Handover]:
        self.store.detach()
        page = self.render()
        if _SCRATCH is None:
            return page, self.store.take_new()
        data: Data = StagedFile.write(_SCRATCH, page) if len(page) >= _STAGE_MIN else page
        del page  # a staged page's bytes are freed before its lines are written
        try:
            return data, self.store.hand_over(_SCRATCH)
        except BaseException:
            _discard(data)
            raise

    def record(self, done: tuple[Data, NewLines | Handover]) -> Data:
        """The page a worker rendered, its lines adopted by this process's store; rendered here
        instead (the same bytes) when its lines' file cannot be read."""
        data, lines = done
        if not isinstance(lines, Handover):
            self.store.adopt(*lines)
            return data
        try:
            self.store.adopt_file(lines)
        except (OSError, ValueError):
            _discard(data)
            return self.render()
        return data


def _discard(data: Data) -> None:
    """Delete the file of a staged output that will not be published."""
    if isinstance(data, StagedFile):
        with contextlib.suppress(OSError):
            os.unlink(data.file)


def _in_parallel(
    specs: Iterator[Spec], workers: int, previous: Mapping[str, str]
) -> Iterator[tuple[str, str, Data | None]]:
    """Render in ``workers`` forked processes; same outputs, same order as :func:`_in_order`.

    The renderers are pure, so a worker renders exactly what this process
    would: article pages in batches, each feed document, each index page.
    This process takes the results in order and yields them (the publisher
    stages them meanwhile); it renders only the media and theme files it reads
    and the listing pages of a line store (:class:`_Here`), and the feeds that
    can be joined from their published fragments (a few new items each: the
    fragment store is this process's).
    feedgen sets the process-wide locale: processes, not threads.  A task that
    fails in a worker is rendered again here, so an error is the same error,
    raised where it would have been; a worker that dies leaves the rest to
    this process.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _SPECS
    _SPECS = list(specs)
    # Every edition's and section's keys are made (in _edition_memo, which the specs share): the key
    # memo's entry per article and language would only be inherited by the workers, never asked for again.
    _key_memo.clear()
    # Fragments can be reused only when the render keys' base did not change (then some output is
    # unchanged) and the document is published: such a feed renders a few items, here, with the store.
    reuse = any(render is None for path, _, render in _SPECS if path)
    remote = [_remote(spec, reuse, previous) for spec in _SPECS]
    if sum(_weight(spec) for spec, far in zip(_SPECS, remote, strict=True) if far) < _PARALLEL_MIN:
        yield from _in_order(iter(_SPECS))  # little to render (an incremental run): not worth a process
        _SPECS = []
        return
    plan = _plan(remote)
    futures: dict[int, Future[list[Rendered] | None]] = {}
    weights: dict[int, int] = {}  # of the tasks in flight
    submitted, broken = 0, False
    heap.release()  # freed pages the allocator kept would count in every worker's memory
    gc.freeze()  # the workers inherit every object: a collection there would copy all their pages
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for position, (_edition, run) in enumerate(plan):
                while submitted < len(plan) and not broken:
                    edition, indices = plan[submitted]
                    if remote[indices[0]]:
                        weight = sum(_weight(_SPECS[i]) for i in indices)
                        if not _room(weights, workers, weight):
                            break
                        try:
                            futures[submitted] = pool.submit(_render_batch, edition, indices)
                            weights[submitted] = weight
                        except BrokenProcessPool:
                            broken = True  # a worker died (killed, out of memory): the rest is rendered here
                    submitted += 1
                weights.pop(position, None)
                if position % _RELEASE_EVERY == _RELEASE_EVERY - 1:
                    heap.release()  # what the received results left behind, before it piles up
                done = _result(futures.pop(position)) if position in futures else None
                for offset, index in enumerate(run):
                    path, key, render = _SPECS[index]
                    if not path:
                        html.clear_content_memo()
                        continue
                    if done is None:
                        yield path, key, render() if render is not None else None
                        continue
                    yield path, key, _received(render, done[offset])
    finally:
        gc.unfreeze()
        _SPECS = []


def _received(render: object, result: Rendered) -> Data:
    """A worker's output as published; what it holds for this process's stores is recorded first."""
    if isinstance(render, _LineJob) and isinstance(result, tuple):
        return render.record(cast("tuple[Data, NewLines | Handover]", result))
    if isinstance(render, _FeedJob) and isinstance(result, tuple):
        staged, bounds = cast("tuple[StagedFile, list[int] | None]", result)
        render.record(staged.sha256, bounds)
        return staged
    assert isinstance(result, (bytes, StagedFile))
    if isinstance(render, _FeedJob):
        render.record(result if isinstance(result, bytes) else result.sha256)
    return result


def _room(in_flight: Mapping[int, int], workers: int, weight: int) -> bool:
    """Whether a task of ``weight`` may go out now: one per worker always (both keep busy), more
    while what is rendered ahead (and waits here, in memory) stays under :data:`_AHEAD_WEIGHT`."""
    if len(in_flight) < workers:
        return True
    return len(in_flight) < _AHEAD * workers and sum(in_flight.values()) + weight <= _AHEAD_WEIGHT


def _remote(spec: Spec, reuse: bool, previous: Mapping[str, str]) -> bool:
    """Whether a worker renders ``spec``: everything to render but file reads and fragment joins."""
    path, _key, render = spec
    if render is None or isinstance(render, _Here):
        return False
    if isinstance(render, _FeedJob):
        return render.store is None or not reuse or path not in previous
    return True


def _weight(spec: Spec) -> int:
    """Rough cost of rendering ``spec``, in article pages' worth: a feed or an index page of n items ~ n / 4."""
    render = spec[2]
    if isinstance(render, _FeedJob):
        return 1 + len(render.keys) // 4
    if isinstance(render, (_Listing, _LineJob)):
        return 1 + render.items // 4
    return 1


def _plan(remote: Sequence[bool]) -> list[tuple[int, list[int]]]:
    """Tasks in output order: ``(edition number, spec indices)``.

    A task for a worker is a batch of up to :data:`_BATCH` article pages of one
    edition, or one other output; a task for this process is one spec.
    """
    plan: list[tuple[int, list[int]]] = []
    edition = 0
    for index, (path, _key, _render) in enumerate(_SPECS):
        if not path:
            edition += 1
        page = remote[index] and "/articles/" in path
        last = plan[-1][1] if plan else []
        if page and last and len(last) < _BATCH and "/articles/" in _SPECS[last[-1]][0] and remote[last[-1]]:
            last.append(index)
        else:
            plan.append((edition, [index]))
    return plan


def _result(future: Future[list[Rendered] | None]) -> list[Rendered] | None:
    """A worker's outputs, or None (rendered here instead) when the worker died or its answer was lost."""
    try:
        return future.result()
    except Exception:  # BrokenProcessPool above all: killed, out of memory
        return None


_worker_edition = -1  # in a worker: the edition whose item contents its memo holds


def _render_batch(edition: int, indices: list[int]) -> list[Rendered] | None:
    """In a worker: the outputs of ``indices``; None on any failure (this process renders them again).

    The item contents memo (:func:`html.item_content_html`) is kept while the
    tasks are of one edition (its pages and feeds share them) and freed when
    they move on to the next.
    """
    global _worker_edition
    if edition != _worker_edition:
        html.clear_content_memo()
        heap.release()  # the last edition's contents, pages and lines: freed, but the allocator kept them
        _worker_edition = edition
    try:
        rendered: list[Rendered] = []
        for index in indices:
            render = _SPECS[index][2]
            if render is not None:
                done: Rendered = render.whole() if isinstance(render, (_FeedJob, _LineJob)) else render()
                if _SCRATCH is not None and isinstance(done, bytes) and len(done) >= _STAGE_MIN:
                    done = StagedFile.write(_SCRATCH, done)
                rendered.append(done)
    except Exception:
        html.clear_content_memo()
        _worker_edition = -1
        return None
    return rendered


@dataclass(frozen=True, slots=True)
class _Window:
    """How many articles a subscription feed holds, and the archive page size (None: no archives)."""

    max_items: int
    page_size: int | None


@dataclass(frozen=True)
class _Pages:
    """What every render shares: the theme, the chosen feed formats and the feeds' window."""

    theme: Theme
    formats: tuple[str, ...]
    window: _Window
    sections: SectionChoice = False
    fragments: FragmentStore | None = None
    lines: LineStore | None = None


def _render(site: Site, prepared: list[Edition], pages: _Pages, previous: Mapping[str, str]) -> Iterator[Spec]:
    chosen, theme = pages.formats, pages.theme
    out = _Outputs(previous, _digest(_code_version(), site, chosen, theme.digest))
    everything = tuple((e.language, e.title, e.description, _edition_keys(e)) for e in prepared)
    switcher = tuple((e.language, e.title) for e in prepared)
    sections = sections_by_language(prepared, pages.sections)
    alternates = _article_alternates(prepared) if site.pages else {}
    for edition in prepared:
        if site.pages:
            yield from _article_pages(out, site, edition, prepared, pages, switcher, alternates)
        files = _edition_files(out, site, edition, prepared, pages, switcher, sections)
        yield from _listings(files, edition, sections, pages.lines)
        yield _EDITION_DONE
    for media in _media_files(prepared):
        read = _Here(functools.partial(_read_media, media))
        yield out.add(media.path, (media.file, media.length, media.mtime_ns), read)
    front = functools.partial(html.site_index_page, site, prepared, chosen, theme=theme, lines=pages.lines)
    yield out.add("index.html", everything, front if pages.lines is None else _Here(front))
    for path, source in theme.static_files():
        yield out.add(path, (_file_digest(source),), _Here(source.read_bytes))
    listed = tuple((lang, tuple((s.slug, s.edition.title) for s in found)) for lang, found in sections.items())
    yield out.add("feeds.opml", (everything, listed), lambda: render_opml(site, prepared, chosen, sections))


def _article_pages(
    out: _Outputs,
    site: Site,
    edition: Edition,
    prepared: Sequence[Edition],
    pages: _Pages,
    switcher: tuple[tuple[str, str], ...],
    alternates: Mapping[str, tuple[tuple[tuple[str, str], ...], str]],
) -> Iterator[Spec]:
    """The article pages of ``edition``.

    A page's key is a digest of three strings: what every page of the edition
    shares (code, site, formats, theme, the edition's head and the language
    switcher: digested once per edition), the article's key (once per article)
    and its alternates (once per group of translations, shared by its
    languages).  An unchanged page costs that digest and one look-up; its
    render is made only when it is to be rendered.
    """
    lang = edition.language
    shared = _digest(out.base, "page", (lang, edition.title, edition.description), switcher)
    context = _PageContext(site, edition, pages.formats, prepared, pages.theme)
    none: tuple[tuple[tuple[str, str], ...], str] = ((), "()")
    articles = edition.articles
    heads = zip(column(articles, "slugs"), column(articles, "groups"), _edition_keys(edition), strict=True)
    for index, (slug, group, key) in enumerate(heads):
        slugs, slugs_text = alternates.get(group, none)
        path = html.article_path(lang, slug)
        page_key = _repr_key(f"{shared}|{key}|{slugs_text}", 16)
        yield path, page_key, None if out.unchanged(path, page_key) else _ArticlePage(context, index, slugs)


@dataclass(frozen=True, slots=True)
class _PageContext:
    """What every article page of an edition shares (one object per edition, not per page)."""

    site: Site
    edition: Edition
    formats: tuple[str, ...]
    editions: Sequence[Edition]
    theme: Theme


@dataclass(frozen=True, slots=True)
class _ArticlePage:
    """One article page to render: its edition's context, its position there and its group's
    (language, slug)s (a full build holds one per page until it is rendered: the article itself is
    unpacked from the edition's shelf when the page renders, its alternate URLs made then)."""

    context: _PageContext
    index: int
    slugs: tuple[tuple[str, str], ...]

    def __call__(self) -> bytes:
        c = self.context
        article = c.edition.articles[self.index]
        links = {language: html.article_url(c.site, language, slug) for language, slug in self.slugs}
        return html.article_page(c.site, c.edition, article, c.formats, links, c.editions, c.theme)


def _listings(
    specs: Iterator[Spec], edition: Edition, sections: Mapping[str, Sequence[Section]], lines: LineStore | None
) -> Iterator[Spec]:
    """``specs`` with the edition's and its sections' listing pages marked with how many items they
    list: with a warm line store they join their kept lines here (the store is this process's); with
    none, or a cold one (a full build: every line to render), a worker may render them
    (:class:`_LineJob` hands the new lines back to this process's store)."""
    lang = edition.language
    listed = {html.index_path(lang): len(edition.articles)}
    listed.update((f"{section_dir(lang, s.slug)}/index.html", len(s.edition.articles)) for s in sections.get(lang, ()))
    for path, key, render in specs:
        if render is not None and path in listed:
            page = cast(Callable[[], bytes], render)  # a listing page renders bytes, never a staged file
            if lines is None:
                render = _Listing(page, listed[path])
            else:
                render = _LineJob(page, listed[path], lines) if lines.cold else _Here(page)
        yield path, key, render


def _edition_files(
    out: _Outputs,
    site: Site,
    edition: Edition,
    editions: Sequence[Edition],
    pages: _Pages,
    switcher: tuple[tuple[str, str], ...],
    sections: Mapping[str, Sequence[Section]],
) -> Iterator[Spec]:
    """The feeds (newest ``max_items``), their archive pages and the index page of one edition, then its sections."""
    formats, theme = pages.formats, pages.theme
    lang = edition.language
    siblings = [ed.language for ed in editions if ed.language != lang]
    head = (lang, edition.title, edition.description, switcher)
    keys = _edition_keys(edition)
    own = sections.get(lang, [])
    listed = tuple((s.slug, s.name, s.edition.title) for s in own)
    yield from _feed_set(out, pages.fragments, site, edition, lang, siblings, pages, (head, tuple(siblings)))
    yield out.add(
        html.index_path(lang),
        (head, keys, listed),
        lambda: html.edition_index_page(site, edition, editions, formats, theme, own, pages.lines, keys),
    )
    for section in own:
        yield from _section_files(out, site, edition, section, editions, pages, switcher, sections)


def _section_files(
    out: _Outputs,
    site: Site,
    edition: Edition,
    section: Section,
    editions: Sequence[Edition],
    pages: _Pages,
    switcher: tuple[tuple[str, str], ...],
    sections: Mapping[str, Sequence[Section]],
) -> Iterator[Spec]:
    """One section's feeds (with archives) and page; keyed by the section's own articles only."""
    lang = edition.language
    directory = section_dir(lang, section.slug)
    siblings = [
        ed.language
        for ed in editions
        if ed.language != lang and any(s.slug == section.slug for s in sections.get(ed.language, ()))
    ]
    head = (lang, section.edition.title, section.edition.description)
    yield from _feed_set(
        out, pages.fragments, site, section.edition, directory, siblings, pages, (head, tuple(siblings))
    )
    keys = _edition_keys(section.edition)
    yield out.add(
        f"{directory}/index.html",
        (head, edition.title, switcher, tuple(siblings), keys),
        lambda: html.section_page(
            site, edition, section, editions, siblings, pages.formats, pages.theme, pages.lines, keys
        ),
    )


def _feed_set(
    out: _Outputs,
    store: FragmentStore | None,
    site: Site,
    edition: Edition,
    directory: str,
    siblings: Sequence[str],
    pages: _Pages,
    head: tuple[object, ...],
) -> Iterator[Spec]:
    """The subscription feeds of ``edition`` in ``directory`` and their archive pages, every format.

    A document's render key is its articles' keys, its links and (for the
    subscription feed) ``head``: an archive page is rendered again only when
    one of its own articles or links changed.  A document to render is joined
    from its published fragments where ``store`` has them (:func:`_feed`).
    """
    window = pages.window
    keys = _edition_keys(edition)
    slices = archive_slices(len(keys), window.max_items, window.page_size) if window.page_size else []
    current, archives = chains(directory, len(slices))
    newest = dataclasses.replace(edition, articles=edition.articles[: window.max_items])
    documents = [(current, newest, head, keys[: window.max_items])]
    archive_head = (edition.language, edition.title, edition.description)
    for chain, (start, stop) in zip(archives, slices, strict=True):
        page = dataclasses.replace(edition, articles=edition.articles[start:stop])
        documents.append((chain, page, archive_head, keys[start:stop]))
    for chain, subset, top, window_keys in documents:
        for fmt in pages.formats:
            path = feed_path(chain.directory, fmt)
            renderer = functools.partial(_document, BY_NAME[fmt].renderer, site, siblings, chain)
            writer = functools.partial(_document, BY_NAME[fmt].writer, site, siblings, chain)
            job = _FeedJob(store, out.base, fmt, path, subset, window_keys, renderer, writer)
            yield out.add(path, (fmt, chain, top, window_keys), job)


def _document(
    make: Callable[[Site, Edition, Sequence[str], Chain | None], _T],
    site: Site,
    siblings: Sequence[str],
    chain: Chain,
    edition: Edition,
) -> _T:
    """A format's renderer or writer (formats table) bound to one document's place, applied to ``edition``."""
    return make(site, edition, siblings, chain)


def _media_files(editions: Sequence[Edition]) -> list[Media]:
    """The local media files the articles publish, each once (translations share the original's)."""
    found: dict[str, Media] = {}
    for edition in editions:
        for files in column(edition.articles, "media"):
            for media in files:
                found.setdefault(media.path, media)
    return [found[path] for path in sorted(found)]


def _read_media(media: Media) -> bytes:
    try:
        return Path(media.file).read_bytes()
    except OSError as exc:
        raise InputError(media.file, f"cannot read: {exc.strerror or exc}") from None


_key_memo: dict[int, tuple[Article, str]] = {}  # only ever prepared articles (see _prepare_article)
_edition_memo: dict[int, tuple[Edition, tuple[str, ...]]] = {}  # prepared editions and sections' editions


def _edition_keys(edition: Edition) -> tuple[str, ...]:
    """The keys of a prepared edition's articles, in order: made once per edition and render
    (its pages, feeds, index page and the front page all ask); ``iter_render`` clears the memo."""
    hit = _edition_memo.get(id(edition))
    if hit is not None and hit[0] is edition:
        return hit[1]
    articles = edition.articles
    keys = articles.keys if isinstance(articles, Shelf) and articles.keyed else tuple(map(_article_key, articles))
    _edition_memo[id(edition)] = (edition, keys)
    return keys


def _article_key(article: Article) -> str:
    """A digest of every field of a prepared article (its key text is complete and stable).

    Memoized per article object for the duration of one render (pages, indexes and
    feeds all ask); ``iter_render`` clears the memo.  An article that came in
    already prepared got its key from :func:`prepared_key` (the same repr).
    """
    hit = _key_memo.get(id(article))
    if hit is not None and hit[0] is article:
        return hit[1]
    key = _repr_key(article.key_text())
    _key_memo[id(article)] = (article, key)
    return key


def _repr_key(text: str, size: int = 12) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


@functools.lru_cache(maxsize=1)
def _code_version() -> str:
    """syndicate's own source and the versions of the libraries that shape the bytes."""
    from importlib.metadata import version

    from syndicate.incremental import code_version

    libraries = ",".join(f"{package}={version(package)}" for package in ("babel", "feedgen", "lxml"))
    return f"{code_version()}|{libraries}"


def _check_formats(formats: Collection[str]) -> tuple[str, ...]:
    """The asked formats in canonical order; ConfigError naming an unknown one."""
    if isinstance(formats, str):
        formats = (formats,)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ConfigError(f"unknown feed format {unknown[0]!r}: choose from {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in formats)


# ------------------------------------------------------------------- preparation


def _prepare(editions: Sequence[Edition]) -> list[Edition]:
    """Editions with normalized tags, checked slugs and XML-safe text."""
    seen: set[str] = set()
    prepared = []
    for edition in editions:
        lang = localize.normalize_tag(edition.language)
        if lang in seen:
            raise ConfigError(f"language {lang!r} has two editions")
        seen.add(lang)
        articles = _prepared_shelf(edition.articles)
        _check_unique_slugs(lang, articles)
        prepared.append(
            Edition(
                language=lang,
                title=clean_text(edition.title),
                description=clean_text(edition.description),
                articles=articles,
                direction=localize.text_direction(lang),
            )
        )
    return prepared


def _prepared_shelf(articles: Sequence[Article]) -> Shelf:
    """``articles`` prepared (:func:`_prepare_article`) on a shelf with their render keys: a shelf's
    articles that came with their keys are neither unpacked nor packed again."""
    if isinstance(articles, Shelf):
        return articles.refiled(_prepared_and_key)
    return shelve(map(_prepare_article, articles), key_of=_article_key)


def _prepared_and_key(article: Article) -> tuple[Article, str]:
    prepared = _prepare_article(article)
    return prepared, _article_key(prepared)


def _prepare_site(site: Site) -> Site:
    """The site's own text (from the config, where TOML escapes allow any control character) too."""
    author = clean_text(site.author) if site.author else site.author
    return dataclasses.replace(
        site, title=clean_text(site.title), description=clean_text(site.description), author=author
    )


def prepared_key(article: Article) -> str | None:
    """The render key of an article that render's preparation would leave as it is, else None.

    One key text (:meth:`Article.key_text`) decides both: no character XML forbids in any field, language
    tags already canonical, slugs valid.  A key found is remembered for this
    render, so :func:`_prepare_article` passes the article through without
    cleaning it and :func:`_article_key` does not digest it again.  Callers
    that keep the key (the variant cache) hand it back with :func:`adopt_key`.
    """
    hit = _key_memo.get(id(article))
    if hit is not None and hit[0] is article:
        return hit[1]
    text = article.key_text()
    if FORBIDDEN_IN_REPR.search(text) or not _already_normal(article):
        return None
    key = _repr_key(text)
    _key_memo[id(article)] = (article, key)
    return key


def content_key(article: Article) -> str:
    """A digest of every field of ``article`` as it is (its render key when it is already prepared)."""
    return prepared_key(article) or _repr_key(article.key_text())


def adopt_key(article: Article, key: str) -> None:
    """Remember ``key`` (from :func:`prepared_key` in an earlier run) as ``article``'s render key.

    Only for an article known to be prepared and an unchanged key: the caller
    keys its cache by syndicate's code version, so the same fields give the same key.
    """
    _key_memo[id(article)] = (article, key)


def forget_keys() -> None:
    """Forget every remembered render key (a worker process of the translation stage, between its tasks)."""
    _key_memo.clear()


def _already_normal(article: Article) -> bool:
    if not _SLUG_RE.fullmatch(article.slug):
        return False
    translation = article.translation
    if translation is not None and not _SLUG_RE.fullmatch(translation.original_slug):
        return False
    tags = [article.language]
    if translation is not None:
        tags.append(translation.source_language)
    if article.body_language:
        tags.append(article.body_language)
    try:
        return all(_normal_tag(tag) == tag for tag in tags)
    except ConfigError:
        return False


@functools.lru_cache(maxsize=256)
def _normal_tag(tag: str) -> str:
    return localize.normalize_tag(tag)


def _prepare_article(article: Article) -> Article:
    """The article with checked slugs, canonical tags and XML-safe text (itself when it is already so)."""
    if prepared_key(article) is not None:
        return article
    return _clean_article(article)


def _clean_article(article: Article) -> Article:
    where = article.source or article.id
    if not _SLUG_RE.fullmatch(article.slug):
        raise InputError(where, f"slug {article.slug!r} {_SLUG_RULE}")
    try:
        language = localize.normalize_tag(article.language)
        translation = article.translation
        if translation is not None:
            translation = Translation(
                engine=clean_text(translation.engine),
                source_language=localize.normalize_tag(translation.source_language),
                original_id=translation.original_id,
                original_slug=translation.original_slug,
                human=translation.human,
            )
    except ConfigError as exc:
        raise InputError(where, exc.message) from exc
    if translation is not None and not _SLUG_RE.fullmatch(translation.original_slug):
        raise InputError(where, f"original slug {translation.original_slug!r} {_SLUG_RULE}")
    return article.replace(
        title=clean_text(article.title),
        title_source=clean_text(article.title_source) if article.title_source else None,
        summary=clean_text(article.summary),
        body=tuple(map(_clean_block, article.body)),
        language=language,
        category=clean_text(article.category) if article.category else article.category,
        tags=tuple(clean_text(t) for t in article.tags),
        author=clean_text(article.author) if article.author else article.author,
        translation=translation,
        body_language=localize.normalize_tag(article.body_language) if article.body_language else None,
        original_body=tuple(map(_clean_block, article.original_body)),
        image=dataclasses.replace(article.image, alt=clean_text(article.image.alt)) if article.image else None,
    )


def _clean_block(block: Block) -> Block:
    """A block with characters XML forbids removed from its text and attributes, at every depth."""
    return Block(
        clean_text(block.html),
        block.kind,
        tuple(map(_clean_block, block.children)),
        tuple((key, clean_text(value)) for key, value in block.attrs),
    )


def _check_unique_slugs(language: str, articles: Sequence[Article]) -> None:
    seen: dict[str, int] = {}
    for index, slug in enumerate(column(articles, "slugs")):
        first = seen.setdefault(slug, index)
        if first != index:
            article, other = articles[index], articles[first]
            also = other.source or other.id
            message = f"slug {article.slug!r} is used twice in the {language!r} edition (also by {also})"
            raise InputError(article.source or article.id, message)


def clean_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (they would break every feed)."""
    return XML_FORBIDDEN.sub("", text)


# ---------------------------------------------------------------- article groups


def _group_key(article: Article) -> str:
    """The id shared by an article and all its translations."""
    return article.translation.original_id if article.translation else article.id


def _article_alternates(editions: Sequence[Edition]) -> dict[str, tuple[tuple[tuple[str, str], ...], str]]:
    """group key -> ((language, slug) of its page in each edition where it is really in that
    language, sorted; their repr) (the site is in every key: the slugs decide the alternate URLs,
    which are made only for a page that is rendered; the repr once per group, not per language)."""
    groups: dict[str, dict[str, str]] = {}
    for edition in editions:
        language, articles = edition.language, edition.articles
        heads = zip(column(articles, "groups"), column(articles, "languages"), column(articles, "slugs"), strict=True)
        for group, own, slug in heads:
            if own == language:
                groups.setdefault(group, {}).setdefault(language, slug)
    found = {}
    for group, slugs in groups.items():
        pairs = tuple(sorted(slugs.items()))
        found[group] = (pairs, repr(pairs))
    return found
