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
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path


class Spill:
    """An append-only file of packed bodies; thread-safe appends, reads from any forked process."""

    def __init__(self, directory: Path | None = None) -> None:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._file = tempfile.TemporaryFile(dir=directory, prefix="syndicate-bodies-")  # noqa: SIM115 (lives as long as its bodies)
        self._fd = self._file.fileno()
        self._end = 0
        self._lock = threading.Lock()
        self._owner = os.getpid()
        self.failed = False  # a write failed: later bodies stay in memory

    def put(self, data: bytes) -> int | None:
        """Append ``data``; its offset, or None when it must stay in memory (a worker, a failed write)."""
        if self.failed or os.getpid() != self._owner:
            return None
        with self._lock:
            at = self._end
            self._end += len(data)
        try:
            view, offset = memoryview(data), at
            while view:  # a regular file writes all at once unless the disk is full
                written = os.pwrite(self._fd, view, offset)
                view, offset = view[written:], offset + written
        except OSError:
            self.failed = True
            return None
        return at

    def get(self, at: int, size: int) -> bytes:
        data = os.pread(self._fd, size, at)
        if len(data) != size:  # the file is ours and unlinked: only a failing disk gets here
            raise OSError(f"body spill file: short read at {at}")
        return data

    @property
    def size(self) -> int:
        return self._end

    def close(self) -> None:
        self._file.close()


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
