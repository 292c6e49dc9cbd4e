"""heap.release: freed memory the allocator kept goes back to the system (glibc), else nothing happens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from syndicate import heap

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from syndicate import heap

def anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) // 1024

kept = []
freed = [bytes(2000) for _ in range(60_000)]  # 120 MB of blocks above pymalloc's size: the C heap
kept = freed[::50]  # a few survivors pin the heap's top: freeing the rest leaves holes, not a shorter heap
del freed
before = anon()
heap.release()
print(before, anon())
"""


@pytest.mark.skipif(heap._trimmer() is None, reason="no malloc_trim here (not glibc): release() is a no-op")
def test_release_gives_freed_heap_pages_back() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    before, after = map(int, done.stdout.split())
    assert before - after > 60, (before, after)  # MiB: most of the freed 120 MB left the process



ARENAS = f"""
import ctypes, sys, threading
sys.path.insert(0, {str(ROOT)!r})
from syndicate import heap

libc = ctypes.CDLL("libc.so.6")
libc.open_memstream.restype = ctypes.c_void_p

def arenas():
    # glibc's own report (malloc_info): one <heap nr=...> element per arena
    text, size = ctypes.c_char_p(), ctypes.c_size_t()
    stream = ctypes.c_void_p(libc.open_memstream(ctypes.byref(text), ctypes.byref(size)))
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    return ctypes.string_at(text, size.value).decode().count("<heap nr=")

def allocate_in_threads():
    barrier, kept = threading.Barrier(8), []
    def work():
        barrier.wait()  # all eight allocate at once: each would get an arena of its own
        kept.append([bytearray(200_000) for _ in range(20)])
        barrier.wait()
    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

if sys.argv[1] == "limited":
    with heap.few_arenas():
        allocate_in_threads()
else:
    if sys.argv[1] == "after":
        with heap.few_arenas():
            pass
    allocate_in_threads()
print(arenas())
"""


@pytest.mark.skipif(heap._mallopt() is None, reason="not glibc: few_arenas() changes nothing")
def test_threads_share_few_arenas_inside_few_arenas() -> None:
    def arenas(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", ARENAS, mode], capture_output=True, text=True, check=True)
        return int(done.stdout)

    assert arenas("limited") <= 2 < arenas("default")
    assert arenas("after") > 2  # glibc's default is back once the run is over


THRESHOLD = f"""
import ctypes, sys
sys.path.insert(0, {str(ROOT)!r})
from syndicate import heap

libc = ctypes.CDLL("libc.so.6")
class Info(ctypes.Structure):
    names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    _fields_ = [(name, ctypes.c_size_t) for name in names.split()]
libc.mallinfo2.restype = Info

def mapped_after_a_large_block_was_freed():
    large = bytearray(8 << 20)  # mapped; freeing it raises glibc's dynamic threshold to 8 MiB
    del large
    before = libc.mallinfo2().hblks
    block = bytearray(1 << 20)  # 1 MiB: its own map, or carved from the heap
    mapped = libc.mallinfo2().hblks - before
    del block
    return mapped

if sys.argv[1] == "fixed":
    with heap.few_arenas():
        print(mapped_after_a_large_block_was_freed())
else:
    print(mapped_after_a_large_block_was_freed())
"""


@pytest.mark.skipif(heap._mallopt() is None, reason="not glibc: few_arenas() changes nothing")
def test_large_blocks_keep_maps_of_their_own_inside_few_arenas() -> None:
    def mapped(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", THRESHOLD, mode], capture_output=True, text=True, check=True)
        return int(done.stdout)

    assert mapped("default") == 0  # glibc's dynamic threshold: the block went into the heap
    assert mapped("fixed") == 1  # fixed at 128 KiB: a map, given back to the system when freed
