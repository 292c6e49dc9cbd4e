"""Owns the target directory: lock, staging, byte-compare, atomic replace, manifest, status.

This is the only module that writes into the target (DESIGN 7).  A run holds
:func:`target_lock` and calls :func:`publish` with every rendered file:

1. decide which files changed: the manifest ``.syndicate/manifest.json``
   (:class:`Manifest`, read once per run) records each published file's
   sha256, size and mtime_ns; when the file on disk still has the recorded
   size and mtime (one ``lstat``) the recorded hash is trusted, otherwise the
   file is read and compared byte for byte.  Into a target that holds nothing
   yet, every file is new: nothing is stat'ed, compared or backed up;
2. write the changed files into ``.syndicate/staging-<random>`` (same
   filesystem, so the replace is atomic) as they arrive, by a pool of writer
   threads that also hash them (:func:`publish_stream`) and flush the first
   few with ``fsync`` as they go; a run that changes more files flushes them
   with one ``syncfs`` at the end;
3. create missing directories, keep a hard link (or a copy) of each file
   about to be replaced in ``.syndicate/backup-<random>``, write the journal
   ``.syndicate/journal.json`` (what is replaced, what existed before), then
   ``os.replace`` each staged file into place: article pages first, feeds
   and index pages last, so a feed never links a page that does not exist yet;
4. record the new manifest (one appended change line, or a new snapshot
   written atomically: see :class:`Manifest`) and its stamps (``.syndicate/stamps``,
   what the no-op check reads instead: :func:`intact_published`), then drop the
   journal and the backups;
5. remove stale files (published last time, not this time; files the tool
   never published are never touched) and the directories it created that
   are now empty.

A failure in phases 1-2 leaves the target byte-identical.  A failure in phase
3 (permission denied on one file, disk full) rolls back the files already
replaced from the backups, so the target is again byte-identical; a run
killed in phase 3 or 4 is rolled back by the next run, from the journal,
before it does anything else (:func:`recover`, called by :func:`target_lock`).
Directories inside the target are opened one component at a time with
``O_NOFOLLOW``: nothing is ever written or removed through a symlink inside
the target.  Unchanged files are never rewritten, so their mtime stays and
web servers keep answering 304.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import mmap
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import weakref
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from syndicate.errors import LockedError, PublishError, TargetChangedError
from syndicate.formats import FILENAMES as FEED_FILENAMES

log = logging.getLogger("syndicate")
STATE_DIR = ".syndicate"  # the tool's own files in the target: the only definition
STATUS_FILE = "status.json"  # read and written by syndicate.status.Status
_LOCK = "lock"
_MANIFEST = "manifest.json"
_STAMPS = "stamps"  # the no-op check's form of the manifest (see _write_stamps)
_STAMPS_FORMAT = "syndicate-stamps-1"
_JOURNAL = "journal.json"
_STAGING_PREFIX = "staging-"
_BACKUP_PREFIX = "backup-"
_TEMP_PREFIX = "tmp-"
_SCRATCH_PREFIX = "scratch-"
_MANIFEST_VERSION = 1
_JOURNAL_VERSION = 1
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
# Files that link other files: installed after the pages they link.
_LINKING_NAMES = frozenset({*FEED_FILENAMES, "index.html", "feeds.opml"})


@dataclass(frozen=True)
class PublishReport:
    """What :func:`publish` did to the target."""

    written: tuple[str, ...]  # relative paths replaced or created, sorted
    unchanged: int
    removed: tuple[str, ...]  # stale files removed, sorted


@dataclass(frozen=True, slots=True)
class _Entry:
    """One published file as recorded in the manifest."""

    sha256: str
    size: int
    mtime_ns: int
    key: str | None = None  # the render key of the content that made the file (incremental builds)


class Manifest:
    """The last publish's record of the target, read once per run (:func:`read_manifest`).

    ``manifest.json`` is one JSON line (the snapshot), followed by one JSON line per
    later change (paths set or dropped, the directory list): a run that writes 20
    files of 40,000 appends a line instead of rewriting the whole record.  When the
    appended lines outgrow the snapshot, or a tail is damaged (a run killed while
    appending), the next write rewrites the file as a single snapshot, atomically.
    """

    def __init__(
        self,
        files: dict[str, _Entry] | None = None,
        dirs: frozenset[str] = frozenset(),
        *,
        target: Path | None = None,
        stored: int = 0,
        appended: int = 0,
        clean: bool = True,
    ) -> None:
        self.files: dict[str, _Entry] = files if files is not None else {}
        self.dirs = dirs  # directories publish created
        self.target = target
        self.stored, self.appended, self.clean = stored, appended, clean
        self._intact: dict[str, bool] = {}

    def intact(self, rel: str) -> bool:
        """Whether ``rel`` is still exactly as published (size and mtime; one ``lstat``, memoized)."""
        known = self._intact.get(rel)
        if known is None:
            entry = self.files.get(rel)
            known = entry is not None and self.target is not None and _still(f"{self.target}/{rel}", entry)
            self._intact[rel] = known
        return known

    def sha256(self, rel: str) -> str | None:
        """The recorded sha256 of ``rel`` (of the bytes :meth:`published` gives while it is intact)."""
        entry = self.files.get(rel)
        return entry.sha256 if entry is not None else None

    def published(self, rel: str) -> bytes | PublishedFile | None:
        """The bytes of ``rel`` as published, when it is still intact; else None.

        A large file (a 10,000-item feed) is not read: it comes as a :class:`PublishedFile`,
        an open descriptor whose ranges are read when they are written (a feed joined from
        its kept items copies them a megabyte at a time; a 20,000-item feed was read whole,
        about 60 MB of the process's memory per document).
        """
        if self.target is None or _unsafe_reason(rel) is not None or not self.intact(rel):
            return None
        path = f"{self.target}/{rel}"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            size = os.fstat(fd).st_size
        except OSError:
            os.close(fd)
            return None
        if size >= _MAPPED_READ:
            return PublishedFile(path, fd, size)  # owns the descriptor from here
        try:
            with os.fdopen(fd, "rb") as fh:
                return fh.read()
        except OSError:
            return None


_MAPPED_READ = 1 << 20  # published files from this size on are read on demand (PublishedFile)


class PublishedFile:
    """A large published file held open and read on demand: its size, its ranges (:meth:`range`),
    and the whole of it in an anonymous map when it must be scanned (:meth:`mapped`).

    The descriptor is the file as it was when found intact: a publish that replaces the
    path later (a rename) leaves it readable.  A file changed in place meanwhile (shorter
    than it was) is a :class:`PublishError`, never a short copy.
    """

    def __init__(self, path: str, fd: int, size: int) -> None:
        self.path, self._fd, self.size = path, fd, size
        self._closer = weakref.finalize(self, os.close, fd)

    def __len__(self) -> int:
        return self.size

    def range(self, start: int, stop: int) -> FileRange:
        return FileRange(self, start, stop)

    def read(self, start: int, stop: int) -> bytes:
        """Bytes ``start`` to ``stop``, all of them (else a PublishError: the file changed)."""
        data = os.pread(self._fd, stop - start, start)
        if len(data) != stop - start:
            raise PublishError(f"{self.path}: changed while publishing; nothing was replaced, run again")
        return data

    def mapped(self) -> mmap.mmap:
        """The whole file read into an anonymous map (never a map of the file itself: a file
        truncated meanwhile would kill the process with SIGBUS); a PublishError if it changed."""
        buffer = mmap.mmap(-1, self.size)
        done = 0
        while done < self.size:
            with memoryview(buffer) as view:
                got = os.preadv(self._fd, [view[done:]], done)
            if got <= 0:
                buffer.close()
                raise PublishError(f"{self.path}: changed while publishing; nothing was replaced, run again")
            done += got
        return buffer

    def close(self) -> None:
        self._closer()


@dataclass(frozen=True, slots=True)
class FileRange:
    """Bytes ``start`` to ``stop`` of a :class:`PublishedFile`: a piece of an output that is read
    only when it is written (:meth:`StagedFile.write` takes it a megabyte at a time)."""

    source: PublishedFile
    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start

    def __bytes__(self) -> bytes:
        return self.source.read(self.start, self.stop)

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        for at in range(self.start, self.stop, size):
            yield self.source.read(at, min(at + size, self.stop))


Piece = bytes | memoryview | FileRange  # a piece of an output written piece by piece


class _IntactKeys(Mapping[str, str]):
    """Render keys of the published files, checked for intactness only when asked for.

    The renderer asks for the paths it produces, so a run checks (one ``lstat``)
    only the files it would otherwise render; a file edited behind the tool's
    back has no key here and is rendered again.
    """

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest

    def __getitem__(self, rel: str) -> str:
        key = self.get(rel)
        if key is None:
            raise KeyError(rel)
        return key

    def get(self, rel: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The render key of ``rel`` when it is intact (the renderer's one question per output: no KeyError)."""
        entry = self.manifest.files.get(rel)
        if entry is None or entry.key is None or not self.manifest.intact(rel):
            return default
        return entry.key

    def __iter__(self) -> Iterator[str]:
        return (rel for rel in list(self.manifest.files) if rel in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, rel: object) -> bool:
        try:
            self[rel]  # type: ignore[index]
        except KeyError:
            return False
        return True


# -- lock ---------------------------------------------------------------------


@contextmanager
def target_lock(target: Path) -> Iterator[None]:
    """Hold the target's lock (``.syndicate/lock``) for one run.

    The lock is an fcntl lock: the kernel releases it when the holder dies,
    so a killed run never blocks the next one.  Raises :class:`LockedError` at
    once when another run holds it, :class:`PublishError` when the lock file
    cannot be created.
    """
    lockpath = _state_dir(target) / _LOCK
    lock = FileLock(str(lockpath), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        message = f"{target}: another syndicate run holds the lock ({lockpath})"
        raise LockedError(message) from None
    except OSError as exc:
        raise PublishError(f"{lockpath}: cannot lock: {_reason(exc)}") from exc
    try:
        recover(target)  # a run killed mid-replace is undone before anything else reads the target
        yield
    finally:
        lock.release()


# -- publish ------------------------------------------------------------------


def publish(
    files: Mapping[str, bytes],
    target: Path,
    *,
    fsync: bool = True,
    keys: Mapping[str, str] | None = None,
    reused: Iterable[str] = (),
) -> PublishReport:
    """Publish ``files`` (relative POSIX path -> bytes) into ``target``.

    Afterwards the files the tool published are exactly ``files`` plus
    ``reused`` (paths left as they are because their render key did not
    change: see :func:`intact_keys`); files it never published are left
    alone.  ``keys`` records each path's render key in the manifest.  Call it
    while holding :func:`target_lock`.  Raises :class:`PublishError`; a
    failure before the replace phase leaves the target byte-identical.
    """
    keys = keys or {}
    _check_paths(files)
    outputs: list[Output] = [(rel, keys.get(rel), data) for rel, data in files.items()]
    outputs += [(rel, keys.get(rel), None) for rel in reused]
    return publish_stream(outputs, target, fsync=fsync)


@dataclass(frozen=True, slots=True)
class StagedFile:
    """An output a renderer already wrote to disk, in a :func:`scratch_directory` of the target.

    A worker process that renders a 10,000-item feed writes it there and sends
    back this record instead of 30 MB of bytes: the document never passes
    through the publishing process's memory, and the publisher moves the file
    into its staging directory (same filesystem: a rename) or drops it when the
    target already holds the same bytes.
    """

    file: str
    sha256: str
    size: int

    @classmethod
    def write(cls, directory: str, data: bytes | Iterable[Piece]) -> StagedFile:
        """Write ``data`` (bytes, or pieces written one by one) as a new file in ``directory``,
        with the mode of any published file (0666 less the umask)."""
        global _scratch_serial
        _scratch_serial += 1
        name = f"{directory}/{os.getpid()}-{_scratch_serial}"
        digest, size = hashlib.sha256(), 0
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        with os.fdopen(fd, "wb") as fh:
            for chunk in (data,) if isinstance(data, bytes) else _chunks(data):
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        return cls(name, digest.hexdigest(), size)


def _chunks(pieces: Iterable[Piece], size: int = 1 << 20) -> Iterator[bytes | memoryview]:
    """``pieces`` joined into chunks of about ``size`` bytes: one write and one hash update per
    megabyte, not per item (a 10,000-item feed is 10,000 pieces); a piece that large on its own
    (a run of kept feed items) is passed on as it is, not copied, or read a chunk at a time (a
    :class:`FileRange` of a published file)."""
    batch: list[bytes | memoryview] = []
    held = 0
    for piece in pieces:
        if len(piece) >= size:
            if batch:
                yield b"".join(batch)
                batch, held = [], 0
            if isinstance(piece, FileRange):
                yield from piece.chunks(size)
            else:
                yield piece
            continue
        if isinstance(piece, FileRange):
            piece = bytes(piece)
        batch.append(piece)
        held += len(piece)
        if held >= size:
            yield b"".join(batch)
            batch, held = [], 0
    if batch:
        yield b"".join(batch)


_scratch_serial = 0  # per process: names in a scratch directory are <pid>-<serial>


@contextmanager
def scratch_directory(target: Path) -> Iterator[Path | None]:
    """A directory inside ``<target>/.syndicate`` where renderers may write outputs as :class:`StagedFile`.

    None when it cannot be made (outputs then travel as bytes).  Removed on exit;
    a killed run's is removed here, by the next run (call it holding :func:`target_lock`).
    """
    try:
        state = _state_dir(target)
        for stale in state.glob(f"{_SCRATCH_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
        path: Path | None = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX, dir=state))
    except (OSError, PublishError):
        path = None
    try:
        yield path
    finally:
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)


Data = bytes | StagedFile  # an output's content: bytes, or a file a renderer already wrote
Output = tuple[str, str | None, Data | None]  # (path, render key, content; None: keep the published file)


def publish_stream(
    outputs: Iterable[Output], target: Path, *, fsync: bool = True, manifest: Manifest | None = None
) -> PublishReport:
    """:func:`publish` for outputs produced one at a time, e.g. by a renderer.

    Each changed file is staged as soon as it arrives (by a pool of writer
    threads), so neither the whole site nor the wait for the disk is held up
    by rendering.  An exception from ``outputs`` (or any staging failure)
    removes the staging directory: the target is left byte-identical.
    ``manifest`` is the one :func:`read_manifest` gave this run (read again
    when None).
    """
    state = _state_dir(target)
    if recover(target):  # (also done by target_lock) never stage over an unfinished replace
        manifest = None  # the manifest was rewritten
    _remove_leftovers(state)
    old = manifest if manifest is not None else read_manifest(target)
    staging = _new_staging(state)
    installed: _Journal | None = None
    empty = not old.files and _only_state(target)
    try:
        stager = _Stager(staging, target, old, empty=empty, fsync=fsync)
        try:
            for rel, key, data in outputs:
                stager.add(rel, key, data)
        finally:
            stager.finish()
        _check_conflicts(stager.paths)  # each path's own safety was checked as it came (_Stager.add)
        changed, entries = stager.changed, stager.entries
        if fsync and len(changed) > _FSYNC_EACH:  # the first ones were flushed by their writer
            _sync_filesystem(staging)
        if changed:
            installed = _install(staging, changed, target, state, stager.absent, fsync=fsync)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    created = installed.made if installed else frozenset()
    try:
        stale = sorted(set(old.files) - set(entries))
        dirs = old.dirs | created
        files = {**entries, **_pick(old.files, stale)}
        stored = _write_manifest(state, files, dirs, old, fsync)
    except PublishError as exc:
        if installed is None:
            raise
        raise _rolled_back(installed, target, exc, len(changed)) from exc
    if installed is not None:
        installed.commit()
    removed = _cleanup(target, state, entries, stale, stored, fsync)
    return PublishReport(tuple(sorted(changed)), len(entries) - len(changed), removed)


class _Stager:
    """Phases 1 and 2 for one output at a time: unchanged files are recorded,
    changed ones hashed and written into the staging directory by a pool of threads.

    Paths are plain strings here (no ``pathlib`` per file) and each file costs at
    most one ``lstat``; none at all when the target held nothing at the start
    (``empty``), where every file is new.
    """

    _PENDING = 256  # bound on staged files waiting for a writer (their bytes stay in memory)
    _PENDING_BYTES = 32 << 20  # and on their bytes: a few 10,000-item feeds must not wait all at once

    def __init__(
        self, staging: Path, target: Path, old: Manifest, *, empty: bool = False, fsync: bool = True
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.staging, self.target, self.old, self.empty, self.fsync = str(staging), target, old, empty, fsync
        self.root = str(target)
        self.pool = ThreadPoolExecutor(max_workers=_WRITERS)
        self.pending: deque[tuple[str, str | None, Future[_Entry], int]] = deque()
        self.pending_bytes = 0
        self.paths: list[str] = []
        self.changed: list[str] = []
        self.absent: set[str] = set()  # changed paths that had no file at all when checked
        self.entries: dict[str, _Entry] = {}  # the new manifest's entry of every path
        self.checked: set[str] = set()  # directories whose every component was checked

    def add(self, rel: str, key: str | None, data: Data | None) -> None:
        entry = self.old.files.get(rel) if data is None else None
        if entry is None:  # a path the manifest holds was checked when it was published (and read)
            reason = _unsafe_reason(rel)
            if reason:
                raise PublishError(f"{rel!r}: refusing to publish: {reason}")
        self.paths.append(rel)
        if data is None:
            if entry is None or not self.old.intact(rel):
                raise PublishError(f"{self.target / rel}: changed while publishing; nothing was replaced, run again")
            self.entries[rel] = entry if key is None or key == entry.key else _Entry(*_fields(entry), key)
            return
        if not self.empty:
            path = f"{self.root}/{rel}"
            try:
                self._check_parents(rel)  # never read or write through a symlink inside the target
                st = _lstat(path)
                kept = _unchanged(path, st, data, self.old.files.get(rel), key)
            except OSError as exc:
                raise PublishError(f"{path}: cannot read: {_reason(exc)}") from exc
            if kept is not None:
                self.entries[rel] = kept
                return
            if st is None:
                self.absent.add(rel)
        else:
            self.absent.add(rel)
        self.changed.append(rel)
        held = len(data) if isinstance(data, bytes) else 0  # a staged file holds no memory here
        self._wait(self._PENDING, self._PENDING_BYTES - held)
        name = f"{self.staging}/{_staged_name(rel)}"
        flush = self.fsync and len(self.changed) <= _FSYNC_EACH
        write = _write_staged if isinstance(data, bytes) else _adopt_staged
        written = self.pool.submit(write, name, data, f"{self.root}/{rel}", flush)  # type: ignore[arg-type]
        self.pending.append((rel, key, written, held))
        self.pending_bytes += held

    def _check_parents(self, rel: str) -> None:
        """Each directory is checked once per run, not once per file in it."""
        head = rel.rpartition("/")[0]
        if not head or head in self.checked:
            return
        _check_parents(self.target, rel)
        self.checked.add(head)

    def finish(self) -> None:
        """Wait for every write; re-raise the first failure."""
        try:
            self._wait(0)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _wait(self, keep: int, room: int = 0) -> None:
        """Until at most ``keep`` files and ``room`` bytes (or one file) are still waiting for a writer."""
        while len(self.pending) > keep or (self.pending and self.pending_bytes > max(room, 0)):
            rel, key, future, size = self.pending.popleft()
            self.pending_bytes -= size
            written = future.result()
            self.entries[rel] = written if key is None else _Entry(*_fields(written), key)


def read_manifest(target: Path) -> Manifest:
    """The last publish's manifest of ``target`` (call while holding :func:`target_lock`)."""
    return _read_manifest(target / STATE_DIR, target)


def intact_keys(target: Path, manifest: Manifest | None = None) -> Mapping[str, str]:
    """Render keys of the published files that are still exactly as published.

    A file counts as intact when it still has the size and mtime the manifest
    recorded; the pipeline skips rendering a path whose key is unchanged.  The
    check is made (one ``lstat``) only for the paths looked up.
    """
    return _IntactKeys(manifest if manifest is not None else read_manifest(target))


def intact_count(target: Path, manifest: Manifest | None = None) -> int | None:
    """How many files the last publish left, when every one is still exactly as published; else None."""
    old = manifest if manifest is not None else read_manifest(target)
    if not old.files or not all(map(old.intact, old.files)):
        return None
    return len(old.files)


def intact_published(target: Path) -> tuple[int | None, Manifest | None]:
    """:func:`intact_count` for the no-op check, at the least cost; and the manifest when it was read.

    The stamps file (``.syndicate/stamps``: each published path with its size and
    mtime, written with the manifest and bound to its ``stat``) answers when it
    belongs to the current manifest: one ``lstat`` per file, no JSON.  Otherwise the
    manifest is read (and returned, for the rest of the run: it is read once) and,
    when every file is intact, the stamps are written for the next run.
    """
    state = target / STATE_DIR
    stamps = _read_stamps(state)
    if stamps is not None:
        return _stamps_intact(target, *stamps), None
    manifest = _read_manifest(state, target)
    count = intact_count(target, manifest)
    if count is not None:
        with suppress(OSError):
            _write_stamps(state, manifest.files)
    return count, manifest


def _still(path: str, entry: _Entry) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns) == (entry.size, entry.mtime_ns)


def _fields(entry: _Entry) -> tuple[str, int, int]:
    return entry.sha256, entry.size, entry.mtime_ns


def _only_state(target: Path) -> bool:
    """Whether the target holds nothing but the tool's own directory (a first publish)."""
    try:
        with os.scandir(target) as entries:
            return all(e.name == STATE_DIR for e in entries)
    except OSError:
        return False


def _check_paths(paths: Iterable[str]) -> None:
    """The path-traversal guard: every path must stay inside the target, outside .syndicate/."""
    paths = list(paths)
    for rel in paths:
        reason = _unsafe_reason(rel)
        if reason:
            raise PublishError(f"{rel!r}: refusing to publish: {reason}")
    _check_conflicts(paths)


def _check_conflicts(paths: Collection[str]) -> None:
    """No path may also be a directory of another: the ancestors of the few distinct parent
    directories, not of every path (40,000 paths have a dozen parents)."""
    ancestors: set[str] = set()
    for parent in {rel.rpartition("/")[0] for rel in paths}:
        while parent and parent not in ancestors:
            ancestors.add(parent)
            parent = parent.rpartition("/")[0]
    clash = ancestors.intersection(paths)
    if clash:
        raise PublishError(f"{min(clash)}: refusing to publish: it is both a file and a directory")


# The common case, checked at once: components of letters, digits, "_", "-" and "." that
# do not start with "." (so never "", ".", ".." or .syndicate), no backslash, no NUL.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


def _unsafe_reason(rel: object) -> str | None:
    if isinstance(rel, str) and _PLAIN_PATH.fullmatch(rel):
        return None
    if not isinstance(rel, str) or not rel:
        return "not a non-empty string"
    if "\\" in rel or "\0" in rel:
        return "backslash or NUL in path"
    if rel.startswith("/"):
        return "absolute path"
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "empty, '.' or '..' path component"
    if parts[0] == STATE_DIR:
        return f"{STATE_DIR}/ belongs to the tool"
    return None


def _ancestors(rel: str) -> list[str]:
    """``"en/articles/a.html"`` -> ``["en", "en/articles"]``."""
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


# Phase 1: what changed.


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None  # new (a file in place of a parent directory is caught by the parent check)


def _unchanged(
    path: str, st: os.stat_result | None, data: Data, recorded: _Entry | None, key: str | None
) -> _Entry | None:
    """The file's new manifest entry when it already holds ``data``, else None."""
    if st is None:
        return None
    if stat.S_ISDIR(st.st_mode):
        raise PublishError(f"{path}: cannot write: a directory is in the way")
    size = len(data) if isinstance(data, bytes) else data.size
    if not stat.S_ISREG(st.st_mode) or st.st_size != size:
        return None
    digest = hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else data.sha256
    if recorded is not None and (recorded.size, recorded.mtime_ns) == (st.st_size, st.st_mtime_ns):
        same = recorded.sha256 == digest
    elif isinstance(data, bytes):
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fh:
            same = fh.read() == data
    else:
        same = _same_bytes(path, data.file)
    return _Entry(digest, st.st_size, st.st_mtime_ns, key) if same else None


def _same_bytes(path: str, staged: str) -> bool:
    """Whether the published file at ``path`` holds the staged file's bytes (read in blocks)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as mine, open(staged, "rb") as theirs:
        while True:
            a, b = mine.read(1 << 20), theirs.read(1 << 20)
            if a != b:
                return False
            if not a:
                return True


def _check_parents(target: Path, rel: str) -> None:
    """Fail before writing anything when a file or a symlink sits where a directory must go."""
    for ancestor in _ancestors(rel):
        path = target / ancestor
        try:
            mode = os.lstat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return  # created in phase 3
        except OSError as exc:
            raise PublishError(f"{path}: cannot read: {_reason(exc)}") from exc
        if stat.S_ISLNK(mode):
            raise PublishError(f"{target / rel}: cannot write: {path} is a symlink (never written through)")
        if not stat.S_ISDIR(mode):
            raise PublishError(f"{target / rel}: cannot write: {path} is not a directory")


# Phase 2: staging.


def _new_staging(state: Path) -> Path:
    """A fresh staging directory inside ``.syndicate/`` (same filesystem as the target)."""
    try:
        return Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=state))
    except OSError as exc:
        raise PublishError(f"{state}: cannot write: {_reason(exc)}") from exc


_WRITERS = 4  # disk latency overlaps rendering; more threads measured no faster on 2 cores


# The first changed files are flushed by their writer thread, while the rest is still rendered; a run
# that changes more is flushed with one syncfs at the end. syncfs also waits for every other dirty
# file of the filesystem (other programs' too), so it pays only when there are many files of our own.
_FSYNC_EACH = 64


def _sync_filesystem(path: Path) -> None:
    """Flush every staged file to disk with one ``syncfs`` (one ``fsync`` per file
    measured about 1.3 ms each: 10 s for a build of 8,000 pages)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _syncfs(fd: int) -> int:
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.syncfs(fd))
    except (OSError, AttributeError):
        return -1


def _staged_name(rel: str) -> str:
    return hashlib.sha256(rel.encode()).hexdigest()


def _write_staged(path: str, data: bytes, destination: str, fsync: bool = False) -> _Entry:
    """Hash and stage one file (in a writer thread: sha256 and the write release the GIL),
    flushed to disk with ``fsync`` when asked; its manifest entry, whose size and mtime ``os.replace`` keeps."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        with open(path, "xb") as fh:
            fh.write(data)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
            st = os.fstat(fh.fileno())
    except OSError as exc:
        raise PublishError(f"{destination}: cannot write: {_reason(exc)}") from exc
    return _Entry(digest, st.st_size, st.st_mtime_ns)


def _adopt_staged(path: str, staged: StagedFile, destination: str, fsync: bool = False) -> _Entry:
    """Stage a file a renderer wrote (:class:`StagedFile`): renamed into the staging directory."""
    try:
        os.replace(staged.file, path)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if fsync:
                os.fsync(fd)
            st = os.fstat(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise PublishError(f"{destination}: cannot write: {_reason(exc)}") from exc
    if st.st_size != staged.size:  # the scratch directory is ours: only a failing disk gets here
        raise PublishError(f"{destination}: cannot write: the rendered file changed size while staged")
    return _Entry(staged.sha256, st.st_size, st.st_mtime_ns)


def _write_file(path: Path, data: bytes | Iterable[bytes | memoryview], *, fsync: bool) -> int:
    size = 0
    with open(path, "xb") as fh:
        for piece in (data,) if isinstance(data, bytes) else data:
            size += fh.write(piece)
        fh.flush()
        if fsync:
            os.fsync(fh.fileno())
    return size


# Phase 3: replace.


def _install(
    staging: Path, changed: list[str], target: Path, state: Path, absent: Collection[str], *, fsync: bool
) -> _Journal:
    """Move the staged files into place, journaled; on any failure roll back and raise.

    The journal is written before the first directory is made or file replaced, and
    lists the directories to make: a run killed after any of it is undone by the next.
    Returns the journal, still open: the caller commits it once the manifest is written.
    """
    order = sorted(changed, key=_install_order)
    heads = {rel.rpartition("/")[0] for rel in order}
    ancestors = sorted({a for head in heads if head for a in (*_ancestors(head), head)})
    missing = frozenset(a for a in ancestors if not _is_real_dir(target / a))  # one lstat per directory
    with _Tree(target) as tree:
        journal = _Journal.begin(state, tree, order, missing, fsync=fsync, absent=absent)
        done = 0
        try:
            journal.made = _make_parents(tree, ancestors)
            staged = os.open(staging, _DIR_FLAGS)
            try:
                for rel in order:
                    parent, name = tree.parent(rel)
                    os.replace(_staged_name(rel), name, src_dir_fd=staged, dst_dir_fd=parent)
                    done += 1
            finally:
                os.close(staged)
        except (OSError, PublishError) as exc:
            rel = order[min(done, len(order) - 1)]
            if not isinstance(exc, PublishError):
                exc = PublishError(f"{target / rel}: cannot write: {_reason(exc)}")
            raise _rolled_back(journal, target, exc, done) from exc
    if fsync:
        heads |= {d.rpartition("/")[0] for d in journal.made}
        _fsync_dirs({target / head if head else target for head in heads})
    return journal


def _rolled_back(journal: _Journal, target: Path, error: PublishError, done: int) -> PublishError:
    """Undo the replace phase after ``error``; the error to raise says whether the target is as it was."""
    left = journal.roll_back(target)
    if not left:
        undone = f"; the {done} files already replaced were restored" if done else ""
        return PublishError(f"{error.message}{undone}: the target is as it was")
    shown = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
    return TargetChangedError(
        f"{error.message}; rolling back failed for {shown}: the target is changed until the next run "
        f"restores it from {journal.path}"
    )


def _install_order(rel: str) -> tuple[int, str]:
    """Pages first, then each language's feeds and index, then the top-level files."""
    parts = rel.split("/")
    if parts[-1] not in _LINKING_NAMES and not rel.endswith(".opml"):
        return (0, rel)
    return (1 if len(parts) > 1 else 2, rel)


def _make_parents(tree: _Tree, ancestors: list[str]) -> frozenset[str]:
    """Create the missing ones of ``ancestors`` (sorted: parents first); on failure remove the ones created."""
    created: list[str] = []
    for ancestor in ancestors:
        try:
            if tree.make_dir(ancestor):
                created.append(ancestor)
        except (OSError, PublishError) as exc:
            _remove_empty_dirs(tree.root, frozenset(created))
            if isinstance(exc, PublishError):
                raise
            raise PublishError(f"{tree.root / ancestor}: cannot create directory: {_reason(exc)}") from exc
    return frozenset(created)


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


class _Tree:
    """Directories of the target opened one component at a time with ``O_NOFOLLOW``
    from the target itself: a symlink inside the target is never followed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fds: dict[str, int] = {}

    def __enter__(self) -> _Tree:
        try:
            self.fds[""] = os.open(self.root, _DIR_FLAGS)
        except OSError as exc:
            raise PublishError(f"{self.root}: cannot open: {_reason(exc)}") from exc
        return self

    def __exit__(self, *_: object) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()

    def dir(self, rel_dir: str) -> int:
        """An fd of the directory ``rel_dir`` ("" is the target)."""
        if rel_dir in self.fds:
            return self.fds[rel_dir]
        head, _, name = rel_dir.rpartition("/")
        parent = self.dir(head)
        try:
            fd = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, parent):
                raise PublishError(f"{self.root / rel_dir}: is a symlink: never written through") from exc
            raise
        self.fds[rel_dir] = fd
        return fd

    def parent(self, rel: str) -> tuple[int, str]:
        head, _, name = rel.rpartition("/")
        return self.dir(head), name

    def make_dir(self, rel_dir: str) -> bool:
        """Create ``rel_dir`` unless it is there; True when it was created."""
        parent, name = self.parent(rel_dir)
        try:
            os.mkdir(name, dir_fd=parent)
        except FileExistsError:
            self.dir(rel_dir)  # a directory (else this raises: a symlink or a file is in the way)
            return False
        return True


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


class _Journal:
    """The replace phase's record in ``.syndicate/journal.json`` (DESIGN 7).

    Before the first ``os.replace`` each file about to be replaced is hard-linked
    (or copied, where a link is refused) into ``.syndicate/backup-<random>/``, and
    the journal lists every path with whether it existed and the sha256 of its
    new bytes.  :meth:`roll_back` puts every path back as it was; it is
    idempotent, so a run killed while rolling back is finished by the next one.
    """

    def __init__(self, state: Path, backup: Path, files: list[tuple[str, bool]], created: frozenset[str]) -> None:
        self.path = state / _JOURNAL
        self.state, self.backup, self.files, self.created = state, backup, files, created
        self.made: frozenset[str] = frozenset()  # the directories this run made (for the manifest)

    @classmethod
    def begin(
        cls,
        state: Path,
        tree: _Tree,
        order: list[str],
        created: frozenset[str],
        *,
        fsync: bool,
        absent: Collection[str] = (),
    ) -> _Journal:
        """Keep every file about to be replaced; ``absent`` paths had no file when staged
        (one ``link`` attempt each), files in a directory still to be made need nothing."""
        backup = Path(tempfile.mkdtemp(prefix=_BACKUP_PREFIX, dir=state))
        files = []
        try:
            for rel in order:
                if rel.rpartition("/")[0] in created:
                    files.append((rel, False))
                    continue
                files.append((rel, _back_up(tree, rel, backup / _staged_name(rel), rel in absent)))
        except (OSError, PublishError) as exc:
            shutil.rmtree(backup, ignore_errors=True)
            if isinstance(exc, PublishError):
                raise
            raise PublishError(f"{tree.root / rel}: cannot keep a copy before replacing it: {_reason(exc)}") from exc
        journal = cls(state, backup, files, created)
        if fsync:
            _fsync_dirs([backup])
        try:
            journal._write(fsync)
        except PublishError:
            shutil.rmtree(backup, ignore_errors=True)
            raise
        return journal

    def _write(self, fsync: bool) -> None:
        _write_atomic(self.path, journal_pieces(self.backup.name, self.files, self.created), fsync=fsync)

    @classmethod
    def load(cls, state: Path) -> _Journal | None:
        """The journal a killed run left, or None; a damaged one is a PublishError (never guessed at)."""
        path = state / _JOURNAL
        try:
            doc = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as exc:
            reason = _reason(exc) if isinstance(exc, OSError) else "not JSON"
            raise PublishError(f"{path}: cannot read the journal of an interrupted publish: {reason}") from exc
        parsed = _parse_journal(doc)
        if parsed is None:
            raise PublishError(f"{path}: damaged journal of an interrupted publish; restore the target by hand")
        backup, files, created = parsed
        return cls(state, state / backup, files, created)

    def roll_back(self, target: Path) -> list[str]:
        """Put every journaled path back as it was; return the paths that could not be."""
        left = []
        with _Tree(target) as tree:
            for rel, had_old in reversed(self.files):
                try:
                    _restore(tree, rel, self.backup / _staged_name(rel), had_old)
                except (OSError, PublishError):
                    left.append(rel)
        if left:
            return left
        _remove_empty_dirs(target, self.created)
        self.commit()
        return []

    def commit(self) -> None:
        """The replace phase is over (done or undone): drop the journal, then the backups."""
        with suppress(OSError):
            self.path.unlink()
            _fsync_dirs([self.state])
        shutil.rmtree(self.backup, ignore_errors=True)


def journal_pieces(backup: str, files: Sequence[tuple[str, bool]], created: Iterable[str]) -> Iterator[bytes]:
    """The journal's JSON, the bytes ``json.dumps(doc, sort_keys=True, indent=2)`` would give, in pieces.

    A full build replaces every file: built as one document, its 40,000 entries
    were 40,000 dicts and about ten strings each at once (a 45 MiB jump of the
    main process at the end of a 20,000-article build), all for a file only a
    killed run ever reads.
    """
    out = [f'{{\n  "backup": {_json_text(backup)},\n  "created": ']
    names = sorted(created)
    out.append("[\n" + ",\n".join(f"    {_json_text(name)}" for name in names) + "\n  ]" if names else "[]")
    out.append(',\n  "files": ')
    if not files:
        out.append("[]")
    else:
        out.append("[")
        for start in range(0, len(files), _JOURNAL_BATCH):
            yield "".join(out).encode("utf-8")
            out = [",".join(_journal_entry(rel, had_old) for rel, had_old in files[start : start + _JOURNAL_BATCH])]
            if start + _JOURNAL_BATCH < len(files):
                out.append(",")
        out.append("\n  ]")
    out.append(f',\n  "version": {_JOURNAL_VERSION}\n}}\n')
    yield "".join(out).encode("utf-8")


_JOURNAL_BATCH = 512  # journal entries per piece


def _journal_entry(rel: str, had_old: bool) -> str:
    existed = "true" if had_old else "false"
    return f'\n    {{\n      "existed": {existed},\n      "path": {_json_text(rel)}\n    }}'


def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _parse_journal(doc: object) -> tuple[str, list[tuple[str, bool]], frozenset[str]] | None:
    if not isinstance(doc, dict) or doc.get("version") != _JOURNAL_VERSION:
        return None
    backup, files, created = doc.get("backup"), doc.get("files"), doc.get("created")
    if not isinstance(backup, str) or not backup.startswith(_BACKUP_PREFIX) or "/" in backup:
        return None
    if not isinstance(files, list) or not isinstance(created, list):
        return None
    parsed = []
    for item in files:
        if not isinstance(item, dict):
            return None
        rel, existed = item.get("path"), item.get("existed")
        if _unsafe_reason(rel) is not None or not isinstance(existed, bool):
            return None
        parsed.append((str(rel), existed))
    if any(_unsafe_reason(d) is not None for d in created):
        return None
    return backup, parsed, frozenset(str(d) for d in created)


def _back_up(tree: _Tree, rel: str, copy: Path, absent: bool = False) -> bool:
    """Keep the file at ``rel`` as ``copy`` (a hard link, else a copy); False when there is none."""
    try:
        parent, name = tree.parent(rel)
        if absent:  # none when it was staged: try the link at once (it fails unless a file appeared)
            os.link(name, copy, src_dir_fd=parent, follow_symlinks=False)
            if stat.S_ISREG(os.lstat(copy).st_mode):
                return True
            os.unlink(copy)
            return False
        st = os.lstat(name, dir_fd=parent)
    except FileNotFoundError:
        return False  # new, maybe in a directory still to be made
    if not stat.S_ISREG(st.st_mode):
        return False  # a symlink or other entry there is replaced, not kept (it was never ours)
    try:
        os.link(name, copy, src_dir_fd=parent, follow_symlinks=False)
    except OSError:  # e.g. an immutable file (EPERM), a filesystem without hard links
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        with os.fdopen(fd, "rb") as src, open(copy, "xb") as dst:
            shutil.copyfileobj(src, dst)
        os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
    return True


def _restore(tree: _Tree, rel: str, copy: Path, had_old: bool) -> None:
    """Undo one replace (idempotent: a path never replaced, or already restored, is left alone)."""
    try:
        parent, name = tree.parent(rel)
    except FileNotFoundError:
        return  # its directory is gone, so the new file is too
    if had_old:
        try:
            kept = os.lstat(copy)
        except FileNotFoundError:
            return  # restored already
        if _same_file(name, parent, copy, kept):
            os.unlink(copy)  # never replaced
            return
        os.replace(copy, name, dst_dir_fd=parent)
        return
    with suppress(FileNotFoundError):
        if stat.S_ISREG(os.lstat(name, dir_fd=parent).st_mode):
            os.unlink(name, dir_fd=parent)


def _same_file(name: str, parent: int, copy: Path, kept: os.stat_result) -> bool:
    """Whether the target file is still the one kept (the same inode, or the same bytes for a copy)."""
    try:
        st = os.lstat(name, dir_fd=parent)
    except FileNotFoundError:
        return False
    if (st.st_dev, st.st_ino) == (kept.st_dev, kept.st_ino):
        return True
    if not stat.S_ISREG(st.st_mode) or st.st_size != kept.st_size or st.st_mtime_ns != kept.st_mtime_ns:
        return False
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    with os.fdopen(fd, "rb") as current:
        return current.read() == copy.read_bytes()


def recover(target: Path) -> bool:
    """Undo the replace phase of a run that was killed in it (call while holding the lock).

    Returns True when there was something to undo.  Rolling back rather than
    forward needs nothing but the backups, and leaves the last complete publish;
    the run that follows publishes the new one.
    """
    state = target / STATE_DIR
    journal = _Journal.load(state)
    if journal is None:
        return False
    left = journal.roll_back(target)
    if left:
        shown = ", ".join(left[:3])
        raise PublishError(f"{journal.path}: cannot undo an interrupted publish: {shown} cannot be restored")
    _distrust(state, [rel for rel, _ in journal.files])
    return True


def _distrust(state: Path, paths: list[str]) -> None:
    """Make the manifest byte-compare ``paths`` next time (it may describe the undone publish)."""
    old = _read_manifest(state, state.parent)
    undone = set(paths)
    if any(rel in old.files for rel in undone):
        files = {rel: _Entry(e.sha256, e.size, -1) if rel in undone else e for rel, e in old.files.items()}
        _write_snapshot(state, files, old.dirs, fsync=True)


def _fsync_dirs(dirs: Iterable[Path]) -> None:
    # Durability of the renames; some filesystems refuse fsync on a directory.
    for path in sorted(dirs):
        with suppress(OSError):
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


# Phase 5: stale files and empty directories.


def _cleanup(
    target: Path,
    state: Path,
    entries: Mapping[str, _Entry],
    stale: list[str],
    stored: Manifest,
    fsync: bool,
) -> tuple[str, ...]:
    """Remove stale files and emptied directories; record what could not be removed."""
    removed = tuple(rel for rel in stale if _remove_file(target, rel))
    dirs = stored.dirs
    heads = {rel.rpartition("/")[0] for rel in entries}
    needed = {a for head in heads if head for a in (*_ancestors(head), head)}
    left_dirs = _remove_empty_dirs(target, dirs - needed) | (dirs & needed)
    if stale or left_dirs != dirs:
        failed = [rel for rel in stale if rel not in removed and (target / rel).is_file()]
        try:
            _write_manifest(state, {**entries, **_pick(stored.files, failed)}, left_dirs, stored, fsync)
        except PublishError as exc:  # published already: an entry of a removed file is dropped next run
            log.warning("published, but the manifest could not be updated after removing stale files: %s", exc)
    return removed


def _remove_file(target: Path, rel: str) -> bool:
    """Unlink a regular file (never a directory, a link someone put there, or through one)."""
    try:
        with _Tree(target) as tree:
            parent, name = tree.parent(rel)
            if not stat.S_ISREG(os.lstat(name, dir_fd=parent).st_mode):
                return False
            os.unlink(name, dir_fd=parent)
    except (OSError, PublishError):
        return False  # kept in the manifest, retried next run
    return True


def _remove_empty_dirs(target: Path, candidates: frozenset[str]) -> frozenset[str]:
    """rmdir the candidates that are empty, deepest first (never through a symlink); return those left."""
    left = set(candidates)
    try:
        tree = _Tree(target).__enter__()
    except PublishError:
        return frozenset(left)
    try:
        for rel in sorted(candidates, key=lambda d: (-d.count("/"), d)):
            try:
                parent, name = tree.parent(rel)
                os.rmdir(name, dir_fd=parent)
            except FileNotFoundError:
                pass
            except (OSError, PublishError):
                continue
            left.discard(rel)
    finally:
        tree.__exit__()
    return frozenset(left)


def _pick(entries: Mapping[str, _Entry], keys: Iterable[str]) -> dict[str, _Entry]:
    return {key: entries[key] for key in keys}


def _remove_leftovers(state: Path) -> None:
    """Remove staging and backup directories and temp files left by a killed run (after :func:`recover`)."""
    try:
        prefixes = (_STAGING_PREFIX, _TEMP_PREFIX, _BACKUP_PREFIX)
        names = [p for p in state.iterdir() if p.name.startswith(prefixes)]
    except OSError as exc:
        raise PublishError(f"{state}: cannot read: {_reason(exc)}") from exc
    for path in names:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with suppress(OSError):
                path.unlink()


# -- manifest -----------------------------------------------------------------


def _read_manifest(state: Path, target: Path) -> Manifest:
    """The last run's manifest: its snapshot line and the change lines after it.

    A damaged snapshot (or none) counts as an empty manifest; a damaged change
    line (a run killed while appending it) ends the record there, and the next
    write rewrites the whole file.
    """
    path = state / _MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Manifest(target=target)
    except OSError as exc:
        raise PublishError(f"{path}: cannot read: {_reason(exc)}") from exc
    head, _, rest = data.partition(b"\n")
    doc, clean = _json_doc(head), True
    if doc is None:  # an indented manifest of an older syndicate is one document: read it, rewrite it next time
        doc, rest, clean = _json_doc(data), b"", False
    if not isinstance(doc, dict) or doc.get("version") != _MANIFEST_VERSION:
        return Manifest(target=target, clean=False)
    files, dirs = _parse_entries(doc.get("files")), _parse_dirs(doc.get("dirs"))
    appended = 0
    lines = rest.split(b"\n") if rest else [b""]
    for line in lines[:-1]:
        change = _json_doc(line)
        if not isinstance(change, dict) or not isinstance(change.get("files"), dict):
            clean = False
            break
        changed = change["files"]
        for rel in changed:
            files.pop(rel, None)
        files.update(_parse_entries({rel: item for rel, item in changed.items() if item is not None}))
        dirs = _parse_dirs(change.get("dirs"))
        appended += len(line) + 1
    else:
        clean = clean and not lines[-1]  # a last line without its newline was cut short
    return Manifest(files, dirs, target=target, stored=len(head) + 1, appended=appended, clean=clean)


def _json_doc(raw: bytes) -> object:
    """The JSON value of ``raw``, None when it is damaged (not JSON, nested too deeply, a number too long)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _parse_entries(raw: object) -> dict[str, _Entry]:
    if not isinstance(raw, dict):
        return {}
    entries: dict[str, _Entry] = {}
    for rel, item in raw.items():
        if _unsafe_reason(rel) is None and isinstance(item, dict):
            sha, size, mtime = item.get("sha256"), item.get("size"), item.get("mtime_ns")
            key = item.get("key")
            if isinstance(sha, str) and isinstance(size, int) and isinstance(mtime, int):
                entries[rel] = _Entry(sha, size, mtime, key if isinstance(key, str) else None)
    return entries


def _parse_dirs(raw: object) -> frozenset[str]:
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(d for d in raw if _unsafe_reason(d) is None)


def _write_manifest(
    state: Path, files: dict[str, _Entry], dirs: frozenset[str], old: Manifest, fsync: bool
) -> Manifest:
    """Record ``files`` and ``dirs``: one appended change line, or (when the change lines
    would outgrow the snapshot, or the file is damaged) a new snapshot.  Returns the record."""
    before = old.files.get
    changed = [rel for rel, entry in files.items() if (kept := before(rel)) is not entry and kept != entry]
    gone = [rel for rel in old.files if rel not in files]
    if not changed and not gone and dirs == old.dirs and old.clean and (old.stored or not files):
        return old
    line = b""
    # A change line is only worth making when it can be appended (a first publish never can:
    # building it for 40,000 files only to write a snapshot cost a third of the run's peak memory).
    if old.clean and old.stored and len(changed) + len(gone) <= len(old.files):
        changes: dict[str, dict[str, object] | None] = {rel: _entry_doc(files[rel]) for rel in changed}
        changes.update((rel, None) for rel in gone)
        line = _json_line({"files": changes, "dirs": sorted(dirs)})
    if line and old.appended + len(line) <= old.stored:
        _append(state / _MANIFEST, line, fsync=fsync)
        record = Manifest(files, dirs, target=old.target, stored=old.stored, appended=old.appended + len(line))
    else:
        record = Manifest(files, dirs, target=old.target, stored=_write_snapshot(state, files, dirs, fsync=fsync))
    with suppress(OSError):  # an optimisation only: stamps that are missing or stale make the check read the manifest
        _write_stamps(state, files)
    return record


def _write_snapshot(state: Path, files: Mapping[str, _Entry], dirs: frozenset[str], *, fsync: bool) -> int:
    """Replace the manifest by one snapshot line, atomically; its length.

    The line is :func:`_json_line` of ``{"version", "files", "dirs"}`` (a test holds the bytes
    to it), written entry by entry in megabyte chunks: 40,000 entries are never one string.
    """
    pieces = _snapshot_pieces(files, dirs)
    return _write_atomic(state / _MANIFEST, _chunks(pieces), fsync=fsync)


def _snapshot_pieces(files: Mapping[str, _Entry], dirs: frozenset[str]) -> Iterator[bytes]:
    """The snapshot line in pieces: keys in sorted order ("dirs", "files", "version"), as
    ``json.dumps(sort_keys=True)`` writes them."""

    def dump(value: object) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    yield b'{"dirs":' + dump(sorted(dirs)) + b',"files":{'
    for index, rel in enumerate(sorted(files)):
        yield (b"," if index else b"") + dump(rel) + b":" + dump(_entry_doc(files[rel]))
    yield b'},"version":' + dump(_MANIFEST_VERSION) + b"}\n"


def _append(path: Path, line: bytes, *, fsync: bool) -> None:
    """Append ``line`` to the manifest; on any failure cut it back to what it was."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise PublishError(f"{path}: cannot write: {_reason(exc)}") from exc
    try:
        size = os.fstat(fd).st_size
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        except OSError as exc:
            with suppress(OSError):
                os.ftruncate(fd, size)
            raise PublishError(f"{path}: cannot write: {_reason(exc)}") from exc
    finally:
        os.close(fd)


def _json_line(doc: Mapping[str, object]) -> bytes:
    """One line of compact JSON (sorted keys: the same record gives the same bytes)."""
    return (json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def _entry_doc(entry: _Entry) -> dict[str, object]:
    doc: dict[str, object] = {"sha256": entry.sha256, "size": entry.size, "mtime_ns": entry.mtime_ns}
    if entry.key is not None:
        doc["key"] = entry.key
    return doc


# -- stamps: the no-op check's form of the manifest ----------------------------
#
# ``.syndicate/stamps`` holds what the no-op check needs of the manifest and nothing more:
# every published path with the size and mtime it was published with.  Layout: one ASCII
# header line (format, byte order, the manifest's stat when the stamps were written, the
# number of paths, the length of the path block), the paths (UTF-8, NUL-separated: NUL is
# never in a published path), then two native int64 per path (size, mtime_ns) in hex (the
# file stays text).  Stamps whose recorded manifest stat is not the manifest's own are
# ignored: any write of the manifest (this version's, an older one's, a rollback's) makes
# them stale.


def _manifest_stamp(state: Path) -> str | None:
    """The manifest's identity as the stamps record it (inode, size, mtime and ctime); None: no manifest."""
    try:
        st = os.stat(state / _MANIFEST)
    except OSError:
        return None
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _write_stamps(state: Path, files: Mapping[str, _Entry]) -> None:
    """Record ``files``' stamps for the manifest as it is now (after writing it).  Raises OSError."""
    import array
    import binascii

    stamp = _manifest_stamp(state)
    if stamp is None or not files:
        with suppress(FileNotFoundError):
            os.unlink(state / _STAMPS)
        return
    paths = "\0".join(files).encode("utf-8", "surrogatepass")
    numbers = array.array("q")
    for entry in files.values():
        numbers.append(entry.size)
        numbers.append(entry.mtime_ns)
    header = f"{_STAMPS_FORMAT} {sys.byteorder} {stamp} {len(files)} {len(paths)}\n".encode("ascii")
    temp = state / f"{_TEMP_PREFIX}{secrets.token_hex(8)}-{_STAMPS}"
    try:  # lost in a crash: the manifest is read
        _write_file(temp, (header, paths, b"\n", binascii.hexlify(memoryview(numbers)), b"\n"), fsync=False)
        os.replace(temp, state / _STAMPS)
    except OSError:
        with suppress(OSError):
            temp.unlink()
        raise


def _read_stamps(state: Path) -> tuple[list[str], bytes] | None:
    """The paths and packed (size, mtime_ns) pairs of the stamps, None when missing, damaged or stale."""
    try:
        with open(state / _STAMPS, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    header, _, body = data.partition(b"\n")
    fields = header.decode("ascii", "replace").split(" ")
    if len(fields) != 5 or fields[0] != _STAMPS_FORMAT or fields[1] != sys.byteorder:
        return None
    if fields[2] != _manifest_stamp(state) or not fields[3].isdigit() or not fields[4].isdigit():
        return None
    count, length = int(fields[3]), int(fields[4])
    if count == 0 or len(body) != length + 32 * count + 2 or body[length : length + 1] != b"\n":
        return None
    try:
        paths = body[:length].decode("utf-8", "surrogatepass").split("\0")
        numbers = bytes.fromhex(body[length + 1 : -1].decode("ascii"))
    except ValueError:  # UnicodeDecodeError too
        return None
    if len(paths) != count:
        return None
    return paths, numbers


def _stamps_intact(target: Path, paths: list[str], numbers: bytes) -> int | None:
    """len(paths) when every path is a regular file with its recorded size and mtime (one ``lstat``
    each, relative to the target), else None.

    A large target is checked on two cores: a forked child checks the second half of the
    paths while this process checks the first (the ``lstat`` calls are most of a no-op
    run).  A child that cannot be made means checking them all here; a child that fails
    counts as "not intact" (a full run, which finds out itself).
    """
    try:
        fd = os.open(target, _DIR_FLAGS)
    except OSError:
        return None
    try:
        half = len(paths) // 2 if len(paths) >= _SPLIT_CHECK_AT else len(paths)
        child = _forked(fd, paths[half:], numbers[half * _STAMP_SIZE :]) if half < len(paths) else None
        if child is None:
            half = len(paths)
        child_intact = True
        try:
            intact = _same_stamps(fd, paths[:half], numbers[: half * _STAMP_SIZE])
        finally:  # the child is reaped whatever happens here
            if child is not None:
                child_intact = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 0
        intact = intact and child_intact
    finally:
        os.close(fd)
    return len(paths) if intact else None


_SPLIT_CHECK_AT = 4096  # paths: below this the fork costs more than half the check
_STAMP_SIZE = 16  # bytes per path in the stamps: size and mtime_ns, two native int64


def _same_stamps(fd: int, paths: list[str], numbers: bytes) -> bool:
    """Whether every path (relative to the directory ``fd``) is a regular file with its size and mtime in
    ``numbers``."""
    import array
    import functools
    import itertools
    import operator

    try:
        stats = list(map(functools.partial(os.lstat, dir_fd=fd), paths))
    except OSError:  # gone (or a parent directory is): not intact
        return False
    if not all(map(stat.S_ISREG, map(operator.attrgetter("st_mode"), stats))):
        return False
    found = array.array("q", itertools.chain.from_iterable(map(operator.attrgetter("st_size", "st_mtime_ns"), stats)))
    return found.tobytes() == numbers


def _forked(fd: int, paths: list[str], numbers: bytes) -> int | None:
    """The pid of a child process exiting 0 when :func:`_same_stamps` holds for ``paths``, 1 when not;
    None (no child) with one core, another thread running (a fork would copy it mid-step), or no fork."""
    import threading

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not hasattr(os, "fork") or threading.active_count() > 1 or cores < 2:
        return None
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: the check, and out at once (no exit handler, no buffer flushed twice)
        code = 1
        try:
            code = 0 if _same_stamps(fd, paths, numbers) else 1
        finally:
            os._exit(code)
    return pid


# -- state files (the status document is syndicate.status.Status) -------------


def write_state_file(target: Path, name: str, data: bytes) -> None:
    """Write ``.syndicate/<name>`` atomically; PublishError if it cannot be."""
    _write_atomic(_state_dir(target) / name, data, fsync=True)


def read_state_file(target: Path, name: str) -> bytes | None:
    """The bytes of ``.syndicate/<name>``, None when it does not exist; PublishError if unreadable."""
    path = target / STATE_DIR / name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PublishError(f"{path}: cannot read: {_reason(exc)}") from exc


# -- helpers ------------------------------------------------------------------


def _json_bytes(doc: Mapping[str, object]) -> bytes:
    text = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def _write_atomic(path: Path, data: bytes | Iterable[bytes | memoryview], *, fsync: bool) -> int:
    """Write ``data`` (bytes, or pieces) through a temp file in the same directory and os.replace
    it into place; the bytes written."""
    temp = path.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(8)}-{path.name}")
    try:
        size = _write_file(temp, data, fsync=fsync)
        os.replace(temp, path)
    except OSError as exc:
        with suppress(OSError):
            temp.unlink()
        raise PublishError(f"{path}: cannot write: {_reason(exc)}") from exc
    if fsync:
        _fsync_dirs([path.parent])
    return size


def _state_dir(target: Path) -> Path:
    """``<target>/.syndicate``, created if missing; never a symlink."""
    state = _make_dirs(target / STATE_DIR)
    if os.path.islink(state):
        raise PublishError(f"{state}: is a symlink: the tool's state is never written through one")
    return state


def _make_dirs(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"{path}: cannot create directory: {_reason(exc)}") from exc
    return path


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
