"""Where article bodies wait during a run: a run-scoped spill file (see :class:`syndicate.models.Body`).

A run holds every article of every language from reading to publishing.  Their
bodies are most of that memory, and each is needed only when one of its
outputs is rendered.  Inside :func:`spilling`, every body made or unpickled in
this process is written once into an unlinked temporary file in the cache
directory, and the body keeps only its offset: memory holds the articles'
metadata, the file (the page cache) their text.  Forked workers read the same
file through the inherited descriptor (``pread`` does not move a shared offset);
only the process that opened the file writes to it.

The file has no name and is freed when its last body is: nothing to clean up,
even after a kill.  A body that cannot be written (disk full) stays in memory.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import tempfile
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path


class Spill:
    """An append-only file of packed bodies; thread-safe, readable from any forked process.

    Neither a write nor a read makes a system call per body: a system call
    releases the interpreter lock, and with the translation threads or the
    publisher's writer threads running, taking it back costs more than the
    call (measured: 30-140 us per 1 KB read).  Bodies are appended to a buffer
    written out a megabyte at a time, and read through a memory map of the
    file (its pages are given back every few megabytes read, so they do not
    count in this process's memory).
    """

    _FLUSH = 1 << 20  # bytes buffered before one write
    _RELEASE = 4 << 20  # bytes read through the map before its pages are given back

    def __init__(self, directory: Path | None = None) -> None:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._file = tempfile.TemporaryFile(dir=directory, prefix="syndicate-bodies-")  # noqa: SIM115 (lives as long as its bodies)
        self._fd = self._file.fileno()
        self._buffer = bytearray()  # bytes from ``_flushed`` on, not yet in the file
        self._flushed = 0  # bytes in the file
        self._map: mmap.mmap | None = None  # covers the file as it was when last mapped
        self._read = 0  # bytes read through the map since its pages were last given back
        self._lock = threading.Lock()
        self._owner = os.getpid()
        self.failed = False  # a write failed: later bodies stay in memory
        _spills.add(self)

    def put(self, data: bytes) -> int | None:
        """Append ``data``; its offset, or None when it must stay in memory (a worker, a failed write)."""
        if self.failed or os.getpid() != self._owner:
            return None
        with self._lock:
            at = self._flushed + len(self._buffer)
            self._buffer += data
            if len(self._buffer) >= self._FLUSH:
                self._flush()
        return at

    def _flush(self) -> None:
        """Write the buffer out (holding the lock); on failure keep it, and every later body in memory."""
        try:
            view, offset = memoryview(self._buffer), self._flushed
            while view:  # a regular file writes all at once unless the disk is full
                written = os.pwrite(self._fd, view, offset)
                view, offset = view[written:], offset + written
        except OSError:
            self.failed = True  # the buffer stays: bodies in it are read from here
            return
        finally:
            del view
        self._flushed += len(self._buffer)
        self._buffer = bytearray()

    def get(self, at: int, size: int) -> bytes:
        view = self._map  # a map is never closed while in use: a larger one replaces it, and it goes with its last user
        if view is None or at + size > len(view):
            with self._lock:
                if at >= self._flushed:  # still in the buffer (also a forked worker's inherited copy)
                    start = at - self._flushed
                    return bytes(self._buffer[start : start + size])
                view = self._remap()
        self._read += size
        if self._read > self._RELEASE:
            self._read = 0
            if _DONTNEED is not None:  # the page cache keeps the bytes; this process drops the pages
                view.madvise(_DONTNEED)
        return view[at : at + size]

    def _remap(self) -> mmap.mmap:
        """The map of the whole written file (holding the lock): bodies written since become readable."""
        if self._map is None or self._flushed > len(self._map):
            self._map = mmap.mmap(self._fd, self._flushed, access=mmap.ACCESS_READ)
        return self._map

    @property
    def size(self) -> int:
        return self._flushed + len(self._buffer)

    def close(self) -> None:
        self._map = None
        self._file.close()


_DONTNEED: int | None = getattr(mmap, "MADV_DONTNEED", None)  # Linux; elsewhere the pages simply stay
_spills: weakref.WeakSet[Spill] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A worker forked while another thread held a spill's lock must not wait for it forever."""
    for spill in list(_spills):
        spill._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
_current: Spill | None = None


def current() -> Spill | None:
    """The spill file new bodies go to (None: bodies stay in memory)."""
    return _current


@contextlib.contextmanager
def spilling(directory: Path | None) -> Iterator[Spill | None]:
    """Spill the bodies made in this process meanwhile into a new file in ``directory``.

    Bodies made before stay where they are; bodies made inside keep working after
    (the file lives as long as they do).  When the file cannot be made, bodies stay
    in memory: the spill saves memory, it is never needed for a correct run.
    """
    global _current
    try:
        spill: Spill | None = Spill(directory)
    except OSError:
        spill = None
    previous, _current = _current, spill
    try:
        yield spill
    finally:
        _current = previous
