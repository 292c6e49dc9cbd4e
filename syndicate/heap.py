"""Giving freed memory back to the system, where the C library can (glibc's ``malloc_trim``),
and keeping the C heap in few arenas, with large blocks outside it, while a run goes (``mallopt``).

A run frees a lot before it forks its render workers (the translation stage's
temporary objects), but the allocator keeps those pages, and a forked worker
counts every resident page of its parent in its own memory.  Trimming first
measured 25 MiB less in the parent and in each worker at N=10,000.  Elsewhere
(another C library, no ``ctypes``) this is a no-op: it saves memory, it is
never needed for a correct run.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator

_M_ARENA_MAX = -8  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_MMAP_FROM = 128 * 1024  # glibc's initial threshold, kept fixed
_ARENAS = 2  # the main arena and one for every other thread


def release() -> None:
    """Return the allocator's free pages to the system (a no-op where that is not possible)."""
    trim = _trimmer()
    if trim is not None:
        trim(0)


@contextlib.contextmanager
def few_arenas() -> Iterator[None]:
    """Inside: threads share two malloc arenas instead of one each (up to 8 per core by default).

    The publisher's writer threads and the pools' result threads each get an arena
    of their own, whose freed blocks no other thread reuses: measured 10 MiB less
    in each render worker at N=10,000.  Large blocks get maps of their own (a fixed
    mmap threshold, below).  glibc's arena default is restored on exit (a library
    caller's process keeps its behaviour; the threshold has no way back to glibc's
    dynamic one); a ``MALLOC_ARENA_MAX`` or ``MALLOC_MMAP_THRESHOLD_`` set by the
    user is left alone.  Elsewhere, nothing changes.
    """
    set_option = _mallopt()
    if set_option is None or "MALLOC_ARENA_MAX" in os.environ or not set_option(_M_ARENA_MAX, _ARENAS):
        yield  # not glibc, or the user tuned it: theirs stands
        return
    # A fixed mmap threshold: blocks from 128 KiB on (an index page, a batch of article pages
    # pickled for sending, a megabyte of a feed) get maps of their own and go back to the system
    # when freed.  glibc's default raises the threshold to the largest such block freed (up to
    # 32 MiB), after which they are carved from the heap among long-lived objects and leave holes
    # there.  (glibc has no way back to its dynamic threshold: after the run it stays fixed.)
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        set_option(_M_MMAP_THRESHOLD, _MMAP_FROM)
    try:
        yield
    finally:
        set_option(_M_ARENA_MAX, 8 * (os.cpu_count() or 1))  # glibc's default on 64-bit systems


@functools.lru_cache(maxsize=1)
def _trimmer() -> Callable[[int], int] | None:
    function: Callable[[int], int] | None = _libc_function("malloc_trim")
    return function


@functools.lru_cache(maxsize=1)
def _mallopt() -> Callable[[int, int], int] | None:
    function: Callable[[int, int], int] | None = _libc_function("mallopt")
    return function


def _libc_function(name: str) -> Callable[..., int] | None:
    """glibc's function ``name``, or None where there is none (musl, macOS, no ctypes)."""
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        if not hasattr(libc, "gnu_get_libc_version"):  # musl has a mallopt that does nothing useful
            return None
        function: Callable[..., int] = getattr(libc, name)
    except (OSError, AttributeError):
        return None
    return function
