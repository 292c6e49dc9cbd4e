"""Stage 1: find input files and read them into :class:`~syndicate.models.Article` objects.

One reader per format: a module with a ``read(path, text, ctx)`` function
(the :class:`~syndicate.sources.common.Reader` protocol), chosen by suffix
from :data:`READERS`; a new format is one module and one entry.  Only
regular files are listed and read (``safe.py``, DESIGN 3.5): a FIFO, device or
symlink leading outside the source directories is skipped with a warning.  A bad file
never stops the others: its :class:`InputError` is collected and reported,
and the exit code says the run was incomplete.  Articles come back in a
deterministic order, duplicates (same id) merged and slugs made unique.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from syndicate.config import SourceOptions
from syndicate.errors import InputError
from syndicate.models import Article
from syndicate.sources.common import ReadContext, Reader, decode_text
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
    from syndicate.incremental import ParseCache

log = logging.getLogger("syndicate")
# suffix -> reader module in this package (imported on first use: start-up stays fast)
READERS: dict[str, str] = {".txt": "pagetext", ".md": "markdown", ".markdown": "markdown", ".json": "jsonfile"}
SUFFIXES = READERS


@dataclass(frozen=True)
class ReadResult:
    articles: tuple[Article, ...]
    errors: tuple[InputError, ...] = ()
    files: int = 0
    checked: tuple[str, ...] = field(default=(), repr=False)


def find_files(
    paths: Iterable[Path], skipped: list[Skipped] | None = None, *, roots: Iterable[Path] | None = None
) -> Iterator[tuple[Path, str]]:
    """Input files under ``paths`` with their display path, sorted; hidden ones skipped.

    Only regular files are listed, and symlinks only when their target is a
    regular file inside one of the source ``roots`` (default: ``paths``; DESIGN 3.5); every other entry with
    an input suffix (a FIFO, a device, a link leading outside, a symlink loop)
    is appended to ``skipped`` instead, never opened.
    """
    paths = list(paths)
    real_roots = resolved_roots(paths if roots is None else roots)
    for root in paths:
        kind = _root_kind(root)
        if kind == "file":
            if root.suffix.lower() not in SUFFIXES:
                raise InputError(shown_name(root), f"unsupported file type (expected {', '.join(sorted(SUFFIXES))})")
            yield root, shown_name(root)
        elif kind == "dir":
            yield from _walk(root, real_roots, skipped if skipped is not None else [])
        else:
            raise InputError(shown_name(root), kind)


def _root_kind(root: Path) -> str:
    """"file", "dir", or why the root cannot be read."""
    try:
        st = os.stat(root)
    except OSError as exc:
        return "no such file or directory" if exc.errno == errno.ENOENT else os_reason(exc)
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISREG(st.st_mode):
        return "file"
    return "not a regular file or directory; never opened"


def _walk(root: Path, roots: tuple[Path, ...], skipped: list[Skipped]) -> Iterator[tuple[Path, str]]:
    found = []

    def unreadable(exc: OSError) -> None:
        skipped.append(Skipped(Path(exc.filename or root), f"cannot list: {os_reason(exc)}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        visible = sorted(d for d in dirnames if not d.startswith("."))
        dirnames[:] = visible
        for name in visible:  # os.walk never follows a directory symlink: say so for one leading out
            link = Path(dirpath, name)
            if link.is_symlink() and not inside_roots(link, roots):
                skipped.append(Skipped(link, "symlink to a directory outside the source directories"))
        for name in filenames:
            path = Path(dirpath, name)
            if not name.startswith(".") and path.suffix.lower() in SUFFIXES:
                checked = classify(path, roots)
                if isinstance(checked, Skipped):
                    skipped.append(checked)
                else:
                    found.append(path)
    for path in sorted(found, key=lambda p: p.relative_to(root).as_posix()):
        yield path, shown_name(path)


def read_articles(
    options: SourceOptions,
    language: str,
    *,
    reader: Callable[[Path], bytes] | None = None,
    cache: ParseCache | None = None,
    on_file: Callable[[str, str], None] = lambda _shown, _outcome: None,
) -> ReadResult:
    """Read every input file; bad files become errors, the rest articles.

    With a ``cache``, a file whose path, size and mtime are unchanged is not read again.
    ``on_file(shown path, outcome)`` is told about each file, for ``-vv`` and progress.
    """
    from syndicate.sources.fields import INCLUDE_DRAFTS

    token = INCLUDE_DRAFTS.set(options.drafts)
    try:
        return _read_all(options, language, reader, cache, on_file)
    finally:
        INCLUDE_DRAFTS.reset(token)


def _read_all(
    options: SourceOptions,
    language: str,
    reader: Callable[[Path], bytes] | None,
    cache: ParseCache | None,
    on_file: Callable[[str, str], None],
) -> ReadResult:
    articles: list[Article] = []
    errors: list[InputError] = []
    count = 0
    for root in options.paths:
        skipped: list[Skipped] = []
        try:
            files = list(find_files([root], skipped, roots=options.paths))
        except InputError as exc:
            errors.append(exc)
            continue
        for entry in sorted(skipped, key=lambda e: os.fsencode(e.path)):
            log.warning("%s", entry)
        for path, shown in files:
            count += 1
            cached = cache.get(path) if cache is not None else None
            if cached is not None:
                articles.extend(cached)
                on_file(shown, f"{_count(len(cached))} (unchanged: from the parse cache)")
                continue
            try:
                found = read_file(path, shown, _relative(path, root), options, language, reader)
            except InputError as exc:
                errors.append(exc)
                on_file(shown, "error")
                continue
            articles.extend(found)
            on_file(shown, _count(len(found)))
            if cache is not None:
                cache.put(path, found)
    return ReadResult(articles=merge(articles), errors=tuple(errors), files=count)


def _count(articles: int) -> str:
    return f"{articles} article" if articles == 1 else f"{articles} articles"


def _relative(path: Path, root: Path) -> str:
    return path.name if path == root else path.relative_to(root).as_posix()


def read_file(
    path: Path,
    shown: str,
    relative: str,
    options: SourceOptions,
    language: str,
    reader: Callable[[Path], bytes] | None = None,
) -> list[Article]:
    """Articles of one file; raises InputError naming ``shown`` on any problem.

    ``reader`` defaults to :func:`~syndicate.sources.safe.read_source`: a regular
    file only, read up to ``options.max_bytes``.
    """
    try:
        data = reader(path) if reader is not None else read_source(_real(path), options.max_bytes)
    except UnreadableSource as exc:
        raise InputError(shown, exc.reason) from None
    except OSError as exc:
        raise InputError(shown, f"cannot read: {os_reason(exc)}") from None
    text = decode_text(shown, data, options.max_bytes)
    default_date = options.date_for(relative) or _mtime(path, options.timezone)
    return reader_for(path.suffix)(shown, text, ReadContext(options, language, default_date))


def reader_for(suffix: str) -> Reader:
    """The reader of a file suffix (``.md``...), from :data:`READERS`."""
    module = importlib.import_module(f"syndicate.sources.{READERS[suffix.lower()]}")
    read: Reader = module.read
    return read


def _real(path: Path) -> Path:
    """The listed path with its symlinks resolved (the listing checked where they lead)."""
    try:
        return Path(os.path.realpath(path, strict=True))
    except OSError:
        return path  # opening it reports the error


def _mtime(path: Path, timezone: str) -> datetime:
    """The file's modification time, to the second, in the site timezone."""
    try:
        stamp = int(path.stat().st_mtime)
    except OSError:
        stamp = 0
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
            slug = f"{slug}-{article.id.rsplit(':', 1)[-1][:8]}"
        seen.add(slug)
        result.append(article if slug == article.slug else article.replace(slug=slug))
    return tuple(result)
