"""Stage 1: find input files and read them into :class:`~syndicate.models.Article` objects.

One reader per format: a module with a ``read(path, text, ctx)`` function
(the :class:`~syndicate.sources.common.Reader` protocol), chosen by suffix
from :data:`READERS`; a new format is one module and one entry.  Only
regular files are listed and read (``safe.py``, DESIGN 3.5): a FIFO, device or
symlink leading outside the source directories is skipped with a warning, and
recorded (:attr:`InputListing.skipped`: the run's summary and status.json name
them).  Directory symlinks inside the source directories are followed, each
directory once (a loop is a warning, never a hang).  A bad file
never stops the others: its :class:`InputError` is collected and reported,
and the exit code says the run was incomplete.  Articles come back in a
deterministic order, duplicates (same id) merged and slugs made unique.
Many files to parse are parsed in forked worker processes
(:class:`_ParsedAhead`); the results, errors and their order do not change.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import importlib
import logging
import os
import pickle
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from syndicate.config import SourceOptions
from syndicate.errors import InputError
from syndicate.models import Article
from syndicate.sources.common import ReadContext, Reader, decode_text
from syndicate.sources.ids import uuid_form
from syndicate.sources.media import IMAGE_TYPES
from syndicate.sources.safe import (
    Skipped,
    UnreadableSource,
    classify,
    inside_roots,
    os_reason,
    read_source,
    resolved_roots,
    shown_name,
)

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from syndicate.incremental import ParseCache

log = logging.getLogger("syndicate")
# suffix -> reader module in this package (imported on first use: start-up stays fast)
READERS: dict[str, str] = {".txt": "pagetext", ".md": "markdown", ".markdown": "markdown", ".json": "jsonfile"}
SUFFIXES = READERS


@dataclass(frozen=True, slots=True)
class InputFile:
    """One listed input file with its stat: the fingerprint and the parse cache key both use it."""

    filename: str  # the path as listed, a plain string (the listing makes no pathlib object per file)
    relative: str  # to its source root (for date_from_path)
    size: int  # -1: it could not be stat'ed (reading it reports why)
    mtime_ns: int
    linked: bool = True  # False: the listing's ``lstat`` found a regular file (reading needs no symlink check)

    @property
    def path(self) -> Path:
        """The path as a :class:`~pathlib.Path`, for the edges (the read loop and the parse cache use ``filename``)."""
        return Path(self.filename)

    @property
    def suffix(self) -> str:
        """The lower-case suffix that chose this file's reader (``.md``): a listed file has one."""
        return _suffix(os.path.basename(self.filename))

    @property
    def shown(self) -> str:
        """The path as messages show it (:func:`~syndicate.sources.safe.shown_name`)."""
        return shown_name(self.filename)


@dataclass(frozen=True)
class RootListing:
    """One source root: its files, or why it cannot be listed, and the entries skipped."""

    root: Path
    files: tuple[InputFile, ...] = ()
    error: InputError | None = None
    skipped: tuple[Skipped, ...] = ()
    media: tuple[tuple[str, int, int], ...] = ()  # (path, size, mtime_ns) of the image files met by the walk


@dataclass(frozen=True)
class InputListing:
    """The input files of a run, listed (and stat'ed) once, root by root."""

    roots: tuple[RootListing, ...]

    @property
    def files(self) -> list[InputFile]:
        return [f for r in self.roots for f in r.files]

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        """Every entry left out, root by root, in the order the warnings name them."""
        return tuple(e for r in self.roots for e in sorted(r.skipped, key=lambda e: os.fsencode(e.path)))


def list_inputs(options: SourceOptions) -> InputListing:
    """Every source root's input files with their size and mtime.

    One system call per regular file (the ``lstat`` of its ``os.scandir`` entry); a
    symlink is judged (:func:`~syndicate.sources.safe.classify`) and then ``stat``'ed
    through.  Paths stay plain strings (a cron run with nothing to do lists every file).
    """
    listed = []
    for root in options.paths:
        skipped: list[Skipped] = []
        images: list[str] = []
        try:
            found = find_files([root], skipped, roots=options.paths, media=images)
        except InputError as exc:
            listed.append(RootListing(root, error=exc))
            continue
        files = []
        base = str(root)
        prefix = _prefix(base)
        cut = len(prefix)
        for name, st in found:
            relative = name[cut:] if name.startswith(prefix) and name != base else _relative_name(name, base, root)
            linked = st is None  # a symlink (or a root given as a file): stat'ed through, resolved when read
            if st is None:
                try:
                    st = os.stat(name)
                except OSError:
                    files.append(InputFile(name, relative, -1, -1))
                    continue
            files.append(InputFile(name, relative, st.st_size, st.st_mtime_ns, linked))
        listed.append(RootListing(root, tuple(files), skipped=tuple(skipped), media=_media_stats(images)))
    return InputListing(tuple(listed))


@dataclass(frozen=True)
class ReadResult:
    articles: tuple[Article, ...]
    errors: tuple[InputError, ...] = ()
    files: int = 0
    checked: tuple[str, ...] = field(default=(), repr=False)


def _media_stats(images: Iterable[str]) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of image files, sorted by path: articles publish them, so they are part
    of the run fingerprint (a replaced photo is a change)."""
    stats = []
    for path in images:
        try:
            st = os.stat(path)
        except OSError:
            continue
        stats.append((path, st.st_size, st.st_mtime_ns))
    return tuple(sorted(stats))


def find_files(
    paths: Iterable[Path],
    skipped: list[Skipped] | None = None,
    *,
    roots: Iterable[Path] | None = None,
    media: list[str] | None = None,
) -> list[tuple[str, os.stat_result | None]]:
    """Input files under ``paths``, sorted, with their ``lstat`` when the walk made it (a regular
    file; None: ``stat`` it); hidden ones skipped.

    Only regular files are listed, and symlinks only when their target is a
    regular file (or, for a directory symlink, a directory) inside one of the source
    ``roots`` (default: ``paths``; DESIGN 3.5); every other entry with an input suffix
    (a FIFO, a device, a link leading outside, a symlink loop), and every directory
    symlink leading outside or back to a directory already listed, is appended to
    ``skipped`` instead, never opened.  The image files met on the way (any
    hidden-or-not rule as for inputs) are appended to ``media``.
    """
    paths = list(paths)
    real_roots = resolved_roots(paths if roots is None else roots)
    found: list[tuple[str, os.stat_result | None]] = []
    for root in paths:
        kind = _root_kind(root)
        if kind == "file":
            if root.suffix.lower() not in SUFFIXES:
                raise InputError(shown_name(root), f"unsupported file type (expected {', '.join(sorted(SUFFIXES))})")
            found.append((str(root), None))
        elif kind == "dir":
            found += _walk(root, real_roots, skipped if skipped is not None else [], media)
        else:
            raise InputError(shown_name(root), kind)
    return found


def _root_kind(root: Path) -> str:
    """ "file", "dir", or why the root cannot be read."""
    try:
        st = os.stat(root)
    except OSError as exc:
        return "no such file or directory" if exc.errno == errno.ENOENT else os_reason(exc)
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISREG(st.st_mode):
        return "file"
    return "not a regular file or directory; never opened"


def _walk(
    root: Path, roots: tuple[Path, ...], skipped: list[Skipped], media: list[str] | None = None
) -> list[tuple[str, os.stat_result | None]]:
    """The input files under the directory ``root``, sorted by their path below it.

    A directory symlink is followed when its target is a directory inside one of
    ``roots``, after every real directory (so a real path wins over a linked one);
    a directory already listed (a loop back to an ancestor, or a second link to
    the same place) is skipped by its ``(st_dev, st_ino)``, with a warning: no hang.
    """
    found: list[tuple[str, os.stat_result | None]] = []
    visited: set[tuple[int, int]] = set()
    links: list[str] = []
    images = media if media is not None else []
    base = str(root)
    _walk_tree(base, roots, skipped, found, visited, links, images)
    while links:
        link = links.pop(0)
        target = _linked_directory(Path(link), roots, visited, skipped)
        if target is not None:
            visited.add(target)
            _walk_tree(link, roots, skipped, found, visited, links, images)
    cut = len(_prefix(base))
    found.sort(key=lambda item: item[0][cut:])
    return found


def _prefix(directory: str) -> str:
    """What ``str(Path(directory, name))`` puts before ``name`` (``directory`` as ``str`` of a Path)."""
    if directory == ".":
        return ""
    return directory if directory.endswith("/") else directory + "/"


def _relative_name(name: str, base: str, root: Path) -> str:
    """``name`` relative to its source root (``base`` is ``str(root)``), POSIX style."""
    if name == base:
        return root.name
    prefix = _prefix(base)
    if name.startswith(prefix):  # the walk builds every path from the root's own string
        return name[len(prefix) :]
    return Path(name).relative_to(root).as_posix()


def _walk_tree(
    top: str,
    roots: tuple[Path, ...],
    skipped: list[Skipped],
    found: list[tuple[str, os.stat_result | None]],
    visited: set[tuple[int, int]],
    links: list[str],
    images: list[str],
) -> None:
    """The files under ``top`` into ``found``, its image files into ``images``; directory symlinks met
    on the way into ``links``.

    Directories are listed with ``os.scandir``, depth first in name order (as ``os.walk``
    would, top-down): an entry's type comes from the directory listing, so a regular
    file costs one ``lstat`` (its size and mtime), a directory none.
    """
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(Path(exc.filename or directory), f"cannot list: {os_reason(exc)}"))
            continue
        with contextlib.suppress(OSError):
            st = os.stat(directory)
            visited.add((st.st_dev, st.st_ino))
        prefix = _prefix(directory)
        subdirs = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if entry.is_symlink():
                    links.append(prefix + name)  # not followed here: _walk decides later
                else:
                    subdirs.append(prefix + name)
                continue
            suffix = _suffix(name)
            if suffix in SUFFIXES:
                _add_input(entry, prefix + name, roots, skipped, found)
            elif suffix in IMAGE_TYPES:
                images.append(prefix + name)
        pending.extend(reversed(subdirs))


def _suffix(name: str) -> str:
    """``os.path.splitext(name)[1].lower()`` for a file name that is not hidden, without a call per part."""
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _add_input(
    entry: os.DirEntry[str],
    path: str,
    roots: tuple[Path, ...],
    skipped: list[Skipped],
    found: list[tuple[str, os.stat_result | None]],
) -> None:
    """A listed entry with an input suffix: found with its ``lstat`` (a regular file), found to be
    ``stat``'ed through (a symlink to a regular file inside the roots), or skipped."""
    try:
        if entry.is_file(follow_symlinks=False):
            found.append((path, entry.stat(follow_symlinks=False)))
            return
    except OSError:
        pass  # gone or unreadable since the listing: classify says why
    checked = classify(Path(path), roots)
    if isinstance(checked, Skipped):
        skipped.append(checked)
    else:
        found.append((path, None))


def _linked_directory(
    link: Path, roots: tuple[Path, ...], visited: set[tuple[int, int]], skipped: list[Skipped]
) -> tuple[int, int] | None:
    """The ``(st_dev, st_ino)`` of a directory symlink's target when it is to be walked, else None (skipped)."""
    try:
        real = Path(os.path.realpath(link, strict=True))
        st = os.stat(real)
    except OSError as exc:
        skipped.append(Skipped(link, f"symlink: {os_reason(exc)}"))
        return None
    if not inside_roots(real, roots):
        skipped.append(Skipped(link, f"symlink to a directory outside the source directories ({shown_name(real)})"))
        return None
    key = (st.st_dev, st.st_ino)
    if key in visited:
        parent = Path(os.path.realpath(link.parent))
        if real == parent or real in parent.parents:
            skipped.append(Skipped(link, f"symlink loop: leads back to {shown_name(real)}, already listed"))
        else:
            skipped.append(Skipped(link, f"symlink to {shown_name(real)}, a directory already listed"))
        return None
    return key


def read_articles(
    options: SourceOptions,
    language: str,
    *,
    reader: Callable[[Path], bytes] | None = None,
    cache: ParseCache | None = None,
    listing: InputListing | None = None,
    on_file: Callable[[str, str], None] = lambda _shown, _outcome: None,
    workers: int = 1,
) -> ReadResult:
    """Read every input file; bad files become errors, the rest articles.

    ``listing`` is this run's :func:`list_inputs` (made here when None).  With a
    ``cache``, a file whose path, size and mtime are unchanged is not read again;
    the cache is asked once for every listed file.  ``on_file(shown path,
    outcome)`` is told about each file, for ``-vv`` and progress.  With
    ``workers`` > 1 and at least :data:`PARALLEL_READ_MIN` files to parse, they
    are parsed in that many forked processes (:class:`_ParsedAhead`); the
    articles, the errors and their order are those of a read in one process.
    """
    from syndicate.sources.fields import INCLUDE_DRAFTS

    listing = listing if listing is not None else list_inputs(options)
    token = INCLUDE_DRAFTS.set(options.drafts)
    try:
        return _read_all(options, language, reader, cache, on_file, listing, workers)
    finally:
        INCLUDE_DRAFTS.reset(token)


def _read_all(
    options: SourceOptions,
    language: str,
    reader: Callable[[Path], bytes] | None,
    cache: ParseCache | None,
    on_file: Callable[[str, str], None],
    listing: InputListing,
    workers: int = 1,
) -> ReadResult:
    articles: list[Article] = []
    errors: list[InputError] = []
    known = cache.get_many(listing.files) if cache is not None else {}
    misses = [f for r in listing.roots if r.error is None for f in r.files if f.filename not in known]
    ahead = _ParsedAhead(misses, options, language, reader, workers)
    try:
        _read_each(options, language, reader, cache, on_file, listing, known, ahead, articles, errors)
    finally:
        ahead.close()
    count = sum(len(r.files) for r in listing.roots if r.error is None)
    return ReadResult(articles=merge(articles), errors=tuple(errors), files=count)


def _read_each(
    options: SourceOptions,
    language: str,
    reader: Callable[[Path], bytes] | None,
    cache: ParseCache | None,
    on_file: Callable[[str, str], None],
    listing: InputListing,
    known: dict[str, tuple[Article, ...]],
    ahead: _ParsedAhead,
    articles: list[Article],
    errors: list[InputError],
) -> None:
    """The listed files in order: from the cache (``known``, by file name), parsed ahead by a worker, or read here.

    Paths stay the listing's strings: a run in which one file changed makes no
    pathlib object for the thousands that did not.
    """
    for listed in listing.roots:
        if listed.error is not None:
            errors.append(listed.error)
            continue
        for entry in sorted(listed.skipped, key=lambda e: os.fsencode(e.path)):
            log.warning("%s", entry)
        for file in listed.files:
            cached = known.get(file.filename)
            shown = file.shown
            if cached is not None:
                articles.extend(cached)
                on_file(shown, f"{_count(len(cached))} (unchanged: from the parse cache)")
                continue
            parsed = ahead.get(file)  # with its pickle: the parse cache stores it as it came
            found, blob = parsed if parsed is not None else (None, None)
            if found is None:  # not parsed ahead, or it failed there: read here (the same error, in order)
                try:
                    found = _read_listed(file, shown, options, language, reader)
                except InputError as exc:
                    errors.append(exc)
                    on_file(shown, "error")
                    continue
            articles.extend(found)
            on_file(shown, _count(len(found)))
            if cache is not None:
                cache.put(file, found, blob)


PARALLEL_READ_MIN = 200  # fewer files to parse than this: all in this process
_READ_BATCH = 40  # files per task sent to a worker
PICKLE_PROTOCOL = 5  # of parsed articles, sent by a worker and kept by the parse cache
_PENDING: list[tuple[InputFile, SourceOptions, str, Callable[[Path], bytes] | None]] = []  # inherited by workers


class _ParsedAhead:
    """The files the parse cache does not hold, parsed in forked worker processes ahead of the read loop.

    The loop asks for each file in its order (:meth:`get`) and waits only for
    the batch that holds it, so this process stores what came back (the parse
    cache is written here only) while the workers parse the next batches.  A
    file that fails in a worker (a bad file, or a worker that died) is None:
    the loop reads it itself, so its error is the one a serial read gives.
    """

    def __init__(
        self,
        files: list[InputFile],
        options: SourceOptions,
        language: str,
        reader: Callable[[Path], bytes] | None,
        workers: int,
    ) -> None:
        self._where: dict[InputFile, tuple[int, int]] = {}
        self._futures: list[Future[list[bytes | None]]] = []
        self._pool: ProcessPoolExecutor | None = None
        if workers < 2 or len(files) < PARALLEL_READ_MIN:
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        global _PENDING
        _PENDING = [(file, options, language, reader) for file in files]
        _prepare_readers(files)
        gc.freeze()  # the workers inherit every object: a collection there would copy all their pages
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        for batch, start in enumerate(range(0, len(files), _READ_BATCH)):
            try:
                future = self._pool.submit(_parse_batch, start, min(start + _READ_BATCH, len(files)))
            except BrokenProcessPool:  # a worker died while batches were still going out: the loop reads the rest
                break
            self._futures.append(future)
            for offset, file in enumerate(files[start : start + _READ_BATCH]):
                self._where.setdefault(file, (batch, offset))

    def get(self, file: InputFile) -> tuple[list[Article], bytes] | None:
        """The file's articles and their pickle (what the worker sent), or None: the loop reads it itself."""
        where = self._where.get(file)
        if where is None:
            return None
        batch, offset = where
        try:
            blob = self._futures[batch].result()[offset]
        except Exception:  # a worker died (killed, out of memory): the loop reads this file itself
            return None
        return None if blob is None else (list(pickle.loads(blob)), blob)

    def close(self) -> None:
        global _PENDING
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            gc.unfreeze()
        _PENDING = []


def _prepare_readers(files: Iterable[InputFile]) -> None:
    """The readers of ``files`` imported, and their optional ``prepare()`` run, here: once, not in every worker."""
    for suffix in sorted({file.suffix for file in files}):
        prepare = getattr(_reader_module(READERS[suffix]), "prepare", None)
        if prepare is not None:
            prepare()


def _parse_batch(start: int, stop: int) -> list[bytes | None]:
    """In a worker: the pickled articles of the pending files ``start:stop`` (as the parse cache
    stores them: this process does not pickle them again); None for a file that fails."""
    from syndicate.sources.fields import INCLUDE_DRAFTS

    parsed: list[bytes | None] = []
    for file, options, language, reader in _PENDING[start:stop]:
        token = INCLUDE_DRAFTS.set(options.drafts)
        try:
            articles = _read_listed(file, file.shown, options, language, reader)
            parsed.append(pickle.dumps(tuple(articles), protocol=PICKLE_PROTOCOL))
        except Exception:
            parsed.append(None)
        finally:
            INCLUDE_DRAFTS.reset(token)
    return parsed


def _count(articles: int) -> str:
    return f"{articles} article" if articles == 1 else f"{articles} articles"


def _read_listed(
    file: InputFile, shown: str, options: SourceOptions, language: str, reader: Callable[[Path], bytes] | None
) -> list[Article]:
    """:func:`read_file` of a listed file, with what the listing already knows (symlink or not, mtime)."""
    mtime_ns = file.mtime_ns if file.size >= 0 else None
    return read_file(file.filename, shown, file.relative, options, language, reader, file.linked, mtime_ns)


def read_file(
    path: Path | str,
    shown: str,
    relative: str,
    options: SourceOptions,
    language: str,
    reader: Callable[[Path], bytes] | None = None,
    linked: bool = True,
    mtime_ns: int | None = None,
) -> list[Article]:
    """Articles of one file; raises InputError naming ``shown`` on any problem.

    ``reader`` defaults to :func:`~syndicate.sources.safe.read_source`: a regular
    file only, read up to ``options.max_bytes``.  ``path`` may be the listing's
    plain string (the read loop passes it so); ``reader`` is given a Path.
    ``linked=False``: the listing's ``lstat`` found a regular file, so it is opened
    as it is, without asking again whether it is a symlink (``O_NOFOLLOW`` still
    refuses one put there since).  ``mtime_ns``: the file's mtime as listed (the default
    date of an article without one), else it is ``stat``'ed here.
    """
    name = os.fspath(path)
    try:
        data = (
            reader(Path(path))
            if reader is not None
            else read_source(_real(name) if linked else name, options.max_bytes)
        )
    except UnreadableSource as exc:
        raise InputError(shown, exc.reason) from None
    except OSError as exc:
        raise InputError(shown, f"cannot read: {os_reason(exc)}") from None
    text = decode_text(shown, data, options.max_bytes)
    default_date = options.date_for(relative) or _mtime(name, options.timezone, mtime_ns)
    return reader_for(os.path.splitext(name)[1])(shown, text, ReadContext(options, language, default_date))


def reader_for(suffix: str) -> Reader:
    """The reader of a file suffix (``.md``...), from :data:`READERS` (its module looked up once)."""
    read: Reader = _reader_module(READERS[suffix.lower()]).read
    return read


@functools.cache
def _reader_module(name: str) -> ModuleType:
    return importlib.import_module(f"syndicate.sources.{name}")


def _real(path: str) -> str:
    """The listed path with its symlinks resolved (the listing checked where they lead).

    A path that is not a symlink is opened as it is (one ``lstat``, not one per
    component): the same file ``realpath`` names, and ``O_NOFOLLOW`` still refuses a symlink put there since.
    """
    if not os.path.islink(path):
        return path
    try:
        return os.path.realpath(path, strict=True)
    except OSError:
        return path  # opening it reports the error


def _mtime(path: str, timezone: str, mtime_ns: int | None = None) -> datetime:
    """The file's modification time, to the second, in the site timezone (``mtime_ns``: as listed,
    else ``stat``'ed); the second is ``int(st_mtime)``'s, as ``os.stat`` computes ``st_mtime``."""
    if mtime_ns is None:
        try:
            mtime_ns = os.stat(path).st_mtime_ns
        except OSError:
            mtime_ns = 0
    seconds, nanoseconds = divmod(mtime_ns, 1_000_000_000)
    stamp = int(seconds + nanoseconds * 1e-9)
    return datetime.fromtimestamp(stamp, ZoneInfo(timezone))


def merge(articles: list[Article]) -> tuple[Article, ...]:
    """Newest first; one article per id (the latest revision wins); unique slugs."""
    by_id: dict[str, tuple[int, Article]] = {}
    for index, article in enumerate(articles):
        kept = by_id.get(article.id)
        if kept is None or article.modified > kept[1].modified:
            by_id[article.id] = (kept[0] if kept else index, article)
    ordered = sorted(by_id.values(), key=lambda pair: (-pair[1].published.timestamp(), pair[0]))
    seen: set[str] = set()
    result = []
    for _, article in ordered:
        slug = article.slug
        if slug in seen:
            slug = f"{slug}-{uuid_form(article.id).rsplit(':', 1)[-1][:8]}"  # an IRI id: hex digits still
        seen.add(slug)
        result.append(article if slug == article.slug else article.replace(slug=slug))
    return tuple(result)
