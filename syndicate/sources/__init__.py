"""Stage 1: find input files and read them into :class:`~syndicate.models.Article` objects.

One reader per format: a module with a ``read(path, text, ctx)`` function
(the :class:`~syndicate.sources.common.Reader` protocol), chosen by suffix
from :data:`READERS`; a new format is one module and one entry.  A bad file
never stops the others: its :class:`InputError` is collected and reported,
and the exit code says the run was incomplete.  Articles come back in a
deterministic order, duplicates (same id) merged and slugs made unique.
"""

from __future__ import annotations

import importlib
import os
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

if TYPE_CHECKING:
    from syndicate.incremental import ParseCache

# suffix -> reader module in this package (imported on first use: start-up stays fast)
READERS: dict[str, str] = {".txt": "pagetext", ".md": "markdown", ".markdown": "markdown", ".json": "jsonfile"}
SUFFIXES = READERS


@dataclass(frozen=True)
class ReadResult:
    articles: tuple[Article, ...]
    errors: tuple[InputError, ...] = ()
    files: int = 0
    checked: tuple[str, ...] = field(default=(), repr=False)


def find_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Input files under ``paths`` with their display path, sorted; hidden ones skipped."""
    for root in paths:
        if root.is_file():
            if root.suffix.lower() not in SUFFIXES:
                raise InputError(root, f"unsupported file type (expected {', '.join(sorted(SUFFIXES))})")
            yield root, str(root)
        elif root.is_dir():
            yield from _walk(root)
        else:
            raise InputError(root, "no such file or directory")


def _walk(root: Path) -> Iterator[tuple[Path, str]]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            path = Path(dirpath, name)
            if not name.startswith(".") and path.suffix.lower() in SUFFIXES:
                found.append(path)
    for path in sorted(found, key=lambda p: p.relative_to(root).as_posix()):
        yield path, str(path)


def read_articles(
    options: SourceOptions,
    language: str,
    *,
    reader: Callable[[Path], bytes] = Path.read_bytes,
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
    reader: Callable[[Path], bytes],
    cache: ParseCache | None,
    on_file: Callable[[str, str], None],
) -> ReadResult:
    articles: list[Article] = []
    errors: list[InputError] = []
    count = 0
    for root in options.paths:
        try:
            files = list(find_files([root]))
        except InputError as exc:
            errors.append(exc)
            continue
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
    reader: Callable[[Path], bytes] = Path.read_bytes,
) -> list[Article]:
    """Articles of one file; raises InputError naming ``shown`` on any problem."""
    try:
        data = reader(path)
    except OSError as exc:
        raise InputError(shown, f"cannot read: {exc.strerror or exc}") from None
    text = decode_text(shown, data, options.max_bytes)
    default_date = options.date_for(relative) or _mtime(path, options.timezone)
    return reader_for(path.suffix)(shown, text, ReadContext(options, language, default_date))


def reader_for(suffix: str) -> Reader:
    """The reader of a file suffix (``.md``...), from :data:`READERS`."""
    module = importlib.import_module(f"syndicate.sources.{READERS[suffix.lower()]}")
    read: Reader = module.read
    return read


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
