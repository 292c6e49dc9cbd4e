"""Owns the target directory: lock, staging, byte-compare, atomic replace, manifest, status.

This is the only module that writes into the target (DESIGN 7).  A run holds
:func:`target_lock` and calls :func:`publish` with every rendered file:

1. decide which files changed: the manifest ``.syndicate/manifest.json``
   records each published file's sha256, size and mtime_ns; when the file on
   disk still has the recorded size and mtime the recorded hash is trusted,
   otherwise the file is read and compared byte for byte;
2. write the changed files into ``.syndicate/staging-<random>`` (same
   filesystem, so the replace is atomic) as they arrive, by a pool of writer
   threads (:func:`publish_stream`), then flush them with one ``syncfs``;
3. create missing directories, then ``os.replace`` each staged file into
   place: article pages first, feeds and index pages last, so a feed never
   links a page that does not exist yet;
4. write the new manifest atomically;
5. remove stale files (published last time, not this time; files the tool
   never published are never touched) and the directories it created that
   are now empty.

A failure in phases 1-2 leaves the target byte-identical.  Unchanged files
are never rewritten, so their mtime stays and web servers keep answering 304.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from syndicate.errors import LockedError, PublishError

STATE_DIR = ".syndicate"
_LOCK = "lock"
_MANIFEST = "manifest.json"
_STATUS = "status.json"
_STAGING_PREFIX = "staging-"
_TEMP_PREFIX = "tmp-"
_MANIFEST_VERSION = 1
# Files that link other files: installed after the pages they link.
_LINKING_NAMES = frozenset({"rss.xml", "atom.xml", "feed.json", "index.html", "feeds.opml"})


@dataclass(frozen=True)
class PublishReport:
    """What :func:`publish` did to the target."""

    written: tuple[str, ...]  # relative paths replaced or created, sorted
    unchanged: int
    removed: tuple[str, ...]  # stale files removed, sorted


@dataclass(frozen=True)
class _Entry:
    """One published file as recorded in the manifest."""

    sha256: str
    size: int
    mtime_ns: int
    key: str | None = None  # the render key of the content that made the file (incremental builds)


@dataclass(frozen=True)
class _Manifest:
    files: Mapping[str, _Entry] = field(default_factory=dict)
    dirs: frozenset[str] = frozenset()  # directories publish created


# -- lock ---------------------------------------------------------------------


@contextmanager
def target_lock(target: Path) -> Iterator[None]:
    """Hold the target's lock (``.syndicate/lock``) for one run.

    The lock is an fcntl lock: the kernel releases it when the holder dies,
    so a killed run never blocks the next one.  Raises :class:`LockedError` at
    once when another run holds it, :class:`PublishError` when the lock file
    cannot be created.
    """
    lockpath = _make_dirs(target / STATE_DIR) / _LOCK
    lock = FileLock(str(lockpath), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        message = f"{target}: another syndicate run holds the lock ({lockpath})"
        raise LockedError(message) from None
    except OSError as exc:
        raise PublishError(f"{lockpath}: cannot lock: {_reason(exc)}") from exc
    try:
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


Output = tuple[str, str | None, bytes | None]  # (path, render key, bytes; None: keep the published file)


def publish_stream(outputs: Iterable[Output], target: Path, *, fsync: bool = True) -> PublishReport:
    """:func:`publish` for outputs produced one at a time, e.g. by a renderer.

    Each changed file is staged as soon as it arrives (by a pool of writer
    threads), so neither the whole site nor the wait for the disk is held up
    by rendering.  An exception from ``outputs`` (or any staging failure)
    removes the staging directory: the target is left byte-identical.
    """
    state = _make_dirs(target / STATE_DIR)
    _remove_leftovers(state)
    old = _read_manifest(state)
    staging = _new_staging(state)
    try:
        stager = _Stager(staging, target, old)
        try:
            for rel, key, data in outputs:
                stager.add(rel, key, data)
        finally:
            stager.finish()
        _check_paths(stager.paths)
        changed, kept = stager.changed, stager.kept
        if changed and fsync:
            _sync_filesystem(staging)
        created = _install(staging, changed, target, state, old, fsync=fsync) if changed else frozenset()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    entries = _with_keys({**kept, **_recorded(changed, stager.digests, target)}, stager.keys)
    stale = sorted(set(old.files) - set(entries))
    dirs = old.dirs | created
    manifest = _Manifest({**entries, **_pick(old.files, stale)}, dirs)
    if manifest != old:
        _write_manifest(state, manifest, fsync)
    removed = _cleanup(target, state, entries, stale, old, dirs, fsync)
    return PublishReport(tuple(sorted(changed)), len(kept), removed)


class _Stager:
    """Phases 1 and 2 for one output at a time: unchanged files are recorded,
    changed ones written into the staging directory by a pool of threads."""

    _PENDING = 256  # bound on staged files waiting for a writer (their bytes stay in memory)

    def __init__(self, staging: Path, target: Path, old: _Manifest) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.staging, self.target, self.old = staging, target, old
        self.pool = ThreadPoolExecutor(max_workers=_WRITERS)
        self.pending: list[Future[None]] = []
        self.paths: list[str] = []
        self.changed: list[str] = []
        self.kept: dict[str, _Entry] = {}
        self.digests: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.checked: set[str] = set()

    def add(self, rel: str, key: str | None, data: bytes | None) -> None:
        reason = _unsafe_reason(rel)
        if reason:
            raise PublishError(f"{rel!r}: refusing to publish: {reason}")
        self.paths.append(rel)
        if key is not None:
            self.keys[rel] = key
        if data is None:
            self.kept.update(_reused_entries([rel], self.target, self.old))
            return
        digest = hashlib.sha256(data).hexdigest()
        path = self.target / rel
        try:
            entry = _unchanged(path, data, digest, self.old.files.get(rel))
            if entry is None:
                self._check_parents(rel)
        except OSError as exc:
            raise PublishError(f"{path}: cannot read: {_reason(exc)}") from exc
        if entry is not None:
            self.kept[rel] = entry
            return
        self.digests[rel] = digest
        self.changed.append(rel)
        self._wait(self._PENDING)
        self.pending.append(self.pool.submit(_write_staged, self.staging / _staged_name(rel), data, path, fsync=False))

    def _check_parents(self, rel: str) -> None:
        """Each parent directory is checked once per run, not once per file in it."""
        parents = _ancestors(rel)
        if parents and parents[-1] in self.checked:
            return
        _check_parents(self.target, rel)
        self.checked.update(parents)

    def finish(self) -> None:
        """Wait for every write; re-raise the first failure."""
        try:
            self._wait(0)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _wait(self, keep: int) -> None:
        while len(self.pending) > keep:
            self.pending.pop(0).result()


def intact_keys(target: Path) -> dict[str, str]:
    """Render keys of the published files that are still exactly as published.

    A file counts as intact when it still has the size and mtime the manifest
    recorded; the pipeline skips rendering a path whose key is unchanged.
    """
    old = _read_manifest(target / STATE_DIR)
    intact = {}
    for rel, entry in old.files.items():
        if entry.key is not None and _still(target / rel, entry):
            intact[rel] = entry.key
    return intact


def intact_count(target: Path) -> int | None:
    """How many files the last publish left, when every one is still exactly as published; else None."""
    old = _read_manifest(target / STATE_DIR)
    if not old.files or not all(_still(target / rel, entry) for rel, entry in old.files.items()):
        return None
    return len(old.files)


def _still(path: Path, entry: _Entry) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns) == (entry.size, entry.mtime_ns)


def _reused_entries(reused: Iterable[str], target: Path, old: _Manifest) -> dict[str, _Entry]:
    """Manifest entries of files kept without rendering; they must still be intact."""
    entries = {}
    for rel in reused:
        entry = old.files.get(rel)
        if entry is None or not _still(target / rel, entry):
            raise PublishError(f"{target / rel}: changed while publishing; nothing was replaced, run again")
        entries[rel] = entry
    return entries


def _with_keys(entries: Mapping[str, _Entry], keys: Mapping[str, str]) -> dict[str, _Entry]:
    return {rel: replace(e, key=keys.get(rel, e.key)) for rel, e in entries.items()}


def _check_paths(paths: Iterable[str]) -> None:
    """The path-traversal guard: every path must stay inside the target, outside .syndicate/."""
    paths = list(paths)
    for rel in paths:
        reason = _unsafe_reason(rel)
        if reason:
            raise PublishError(f"{rel!r}: refusing to publish: {reason}")
    ancestors = {a for rel in paths for a in _ancestors(rel)}
    for rel in paths:
        if rel in ancestors:
            raise PublishError(f"{rel}: refusing to publish: it is both a file and a directory")


def _unsafe_reason(rel: object) -> str | None:
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


def _unchanged(path: Path, data: bytes, digest: str, recorded: _Entry | None) -> _Entry | None:
    """The file's manifest entry when it already holds ``data``, else None."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None  # new (a file in place of a parent directory is caught next)
    if stat.S_ISDIR(st.st_mode):
        raise PublishError(f"{path}: cannot write: a directory is in the way")
    if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
        return None
    if recorded is not None and (recorded.size, recorded.mtime_ns) == (st.st_size, st.st_mtime_ns):
        same = recorded.sha256 == digest
    else:
        same = path.read_bytes() == data
    return _Entry(digest, st.st_size, st.st_mtime_ns) if same else None


def _check_parents(target: Path, rel: str) -> None:
    """Fail before writing anything when a file sits where a directory must go."""
    for ancestor in _ancestors(rel):
        path = target / ancestor
        if os.path.lexists(path) and not path.is_dir():
            raise PublishError(f"{target / rel}: cannot write: {path} is not a directory")


# Phase 2: staging.


def _new_staging(state: Path) -> Path:
    """A fresh staging directory inside ``.syndicate/`` (same filesystem as the target)."""
    try:
        return Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=state))
    except OSError as exc:
        raise PublishError(f"{state}: cannot write: {_reason(exc)}") from exc


_WRITERS = 4  # disk latency overlaps rendering; more threads measured no faster on 2 cores



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


def _write_staged(path: Path, data: bytes, destination: Path, *, fsync: bool) -> None:
    try:
        _write_file(path, data, fsync=fsync)
    except OSError as exc:
        raise PublishError(f"{destination}: cannot write: {_reason(exc)}") from exc


def _write_file(path: Path, data: bytes, *, fsync: bool) -> None:
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        if fsync:
            os.fsync(fh.fileno())


# Phase 3: replace.


def _install(
    staging: Path, changed: list[str], target: Path, state: Path, old: _Manifest, *, fsync: bool
) -> frozenset[str]:
    """Move the staged files into place; return the directories created for them."""
    order = sorted(changed, key=_install_order)
    missing = frozenset(a for rel in order for a in _ancestors(rel) if not (target / a).is_dir())
    if missing - old.dirs:
        # Owned before they are made: a run killed after mkdir must not leave them unowned
        # (the next run would find them existing and never remove them).  Harmless if the
        # run then fails: the next run drops entries of directories that do not exist.
        _write_manifest(state, _Manifest(old.files, old.dirs | missing), fsync)
    created = _make_parents(target, order)
    for done, rel in enumerate(order):
        try:
            os.replace(staging / _staged_name(rel), target / rel)
        except OSError as exc:
            _remove_empty_dirs(target, created)  # undo, if still empty
            partly = f" ({done} of {len(order)} files were already replaced)" if done else ""
            raise PublishError(f"{target / rel}: cannot write: {_reason(exc)}{partly}") from exc
    if fsync:
        _fsync_dirs({(target / rel).parent for rel in order} | {(target / d).parent for d in created})
    return created


def _install_order(rel: str) -> tuple[int, str]:
    """Pages first, then each language's feeds and index, then the top-level files."""
    parts = rel.split("/")
    if parts[-1] not in _LINKING_NAMES and not rel.endswith(".opml"):
        return (0, rel)
    return (1 if len(parts) > 1 else 2, rel)


def _make_parents(target: Path, order: list[str]) -> frozenset[str]:
    """Create missing parent directories; on failure remove the ones created."""
    created: list[str] = []
    for ancestor in sorted({a for rel in order for a in _ancestors(rel)}):
        path = target / ancestor
        if path.is_dir():
            continue
        try:
            path.mkdir()
        except OSError as exc:
            _remove_empty_dirs(target, frozenset(created))
            raise PublishError(f"{path}: cannot create directory: {_reason(exc)}") from exc
        created.append(ancestor)
    return frozenset(created)


def _fsync_dirs(dirs: Iterable[Path]) -> None:
    # Durability of the renames; some filesystems refuse fsync on a directory.
    for path in sorted(dirs):
        with suppress(OSError):
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _recorded(changed: list[str], digests: Mapping[str, str], target: Path) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for rel in changed:
        try:
            st = os.stat(target / rel)
        except OSError as exc:
            raise PublishError(f"{target / rel}: cannot read: {_reason(exc)}") from exc
        entries[rel] = _Entry(digests[rel], st.st_size, st.st_mtime_ns)
    return entries


# Phase 5: stale files and empty directories.


def _cleanup(
    target: Path,
    state: Path,
    entries: Mapping[str, _Entry],
    stale: list[str],
    old: _Manifest,
    dirs: frozenset[str],
    fsync: bool,
) -> tuple[str, ...]:
    """Remove stale files and emptied directories; record what could not be removed."""
    removed = tuple(rel for rel in stale if _remove_file(target / rel))
    needed = {a for rel in entries for a in _ancestors(rel)}
    left_dirs = _remove_empty_dirs(target, dirs - needed) | (dirs & needed)
    if stale or left_dirs != dirs:
        failed = [rel for rel in stale if rel not in removed and (target / rel).is_file()]
        _write_manifest(state, _Manifest({**entries, **_pick(old.files, failed)}, left_dirs), fsync)
    return removed


def _remove_file(path: Path) -> bool:
    """Unlink a regular file (never a directory or a link someone put there)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        path.unlink()
    except OSError:
        return False  # kept in the manifest, retried next run
    return True


def _remove_empty_dirs(target: Path, candidates: frozenset[str]) -> frozenset[str]:
    """rmdir the candidates that are empty, deepest first; return those left."""
    left = set(candidates)
    for rel in sorted(candidates, key=lambda d: (-d.count("/"), d)):
        try:
            (target / rel).rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            continue
        left.discard(rel)
    return frozenset(left)


def _pick(entries: Mapping[str, _Entry], keys: Iterable[str]) -> dict[str, _Entry]:
    return {key: entries[key] for key in keys}


def _remove_leftovers(state: Path) -> None:
    """Remove staging directories and temp files left by a killed run."""
    try:
        names = [p for p in state.iterdir() if p.name.startswith((_STAGING_PREFIX, _TEMP_PREFIX))]
    except OSError as exc:
        raise PublishError(f"{state}: cannot read: {_reason(exc)}") from exc
    for path in names:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with suppress(OSError):
                path.unlink()


# -- manifest -----------------------------------------------------------------


def _read_manifest(state: Path) -> _Manifest:
    """The last run's manifest; an unreadable or damaged one counts as empty."""
    path = state / _MANIFEST
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        return _Manifest()
    except OSError as exc:
        raise PublishError(f"{path}: cannot read: {_reason(exc)}") from exc
    except ValueError:
        return _Manifest()
    if not isinstance(doc, dict) or doc.get("version") != _MANIFEST_VERSION:
        return _Manifest()
    return _Manifest(_parse_entries(doc.get("files")), _parse_dirs(doc.get("dirs")))


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


def _write_manifest(state: Path, manifest: _Manifest, fsync: bool) -> None:
    files = {rel: _entry_doc(e) for rel, e in sorted(manifest.files.items())}
    doc = {"version": _MANIFEST_VERSION, "files": files, "dirs": sorted(manifest.dirs)}
    _write_atomic(state / _MANIFEST, _json_bytes(doc), fsync=fsync)


def _entry_doc(entry: _Entry) -> dict[str, object]:
    doc: dict[str, object] = {"sha256": entry.sha256, "size": entry.size, "mtime_ns": entry.mtime_ns}
    if entry.key is not None:
        doc["key"] = entry.key
    return doc


# -- status -------------------------------------------------------------------


def write_status(target: Path, status: Mapping[str, object]) -> None:
    """Write ``.syndicate/status.json`` atomically (sorted keys, indent 2)."""
    state = _make_dirs(target / STATE_DIR)
    _write_atomic(state / _STATUS, _json_bytes(status), fsync=True)


def read_status(target: Path) -> dict[str, object] | None:
    """The last run's status, or None when there is none (or it is damaged)."""
    path = target / STATE_DIR / _STATUS
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PublishError(f"{path}: cannot read: {_reason(exc)}") from exc
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


# -- helpers ------------------------------------------------------------------


def _json_bytes(doc: Mapping[str, object]) -> bytes:
    text = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, default=_json_default)
    return (text + "\n").encode("utf-8")


def _json_default(value: object) -> object:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"status value of type {type(value).__name__} is not JSON serializable")


def _write_atomic(path: Path, data: bytes, *, fsync: bool) -> None:
    """Write through a temp file in the same directory and os.replace it into place."""
    temp = path.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(8)}-{path.name}")
    try:
        _write_file(temp, data, fsync=fsync)
        os.replace(temp, path)
    except OSError as exc:
        with suppress(OSError):
            temp.unlink()
        raise PublishError(f"{path}: cannot write: {_reason(exc)}") from exc
    if fsync:
        _fsync_dirs([path.parent])


def _make_dirs(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"{path}: cannot create directory: {_reason(exc)}") from exc
    return path


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
