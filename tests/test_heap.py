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

