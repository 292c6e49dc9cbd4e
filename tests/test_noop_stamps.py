"""The no-op check of a large target on two cores (:func:`syndicate.publish._stamps_intact`).

From 4,096 published files on, a forked child checks the second half of the stamps
while the run checks the first.  What must hold: a deleted, resized, touched or
replaced file is seen in either half; the child really checks its half (its exit
status is its answer); and with another thread running (no fork), the run alone gives
the same answers.  Real files, real processes.
"""

from __future__ import annotations

import array
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.publish import _SPLIT_CHECK_AT, _stamps_intact
from tests.conftest import ROOT

COUNT = _SPLIT_CHECK_AT + 904  # 5,000 files in two directories: the check is split


def _target(tmp_path: Path) -> tuple[Path, list[str], bytes]:
    """A target of COUNT small files, their paths and their packed (size, mtime_ns) stamps."""
    target = tmp_path / "feeds"
    paths = [f"{'en' if i % 2 else 'es'}/articles/a{i:05d}.html" for i in range(COUNT)]
    for name in ("en", "es"):
        (target / name / "articles").mkdir(parents=True)
    for i, rel in enumerate(paths):
        (target / rel).write_bytes(b"x" * (i % 50))
    numbers = array.array("q")
    for rel in paths:
        st = os.lstat(target / rel)
        numbers.extend((st.st_size, st.st_mtime_ns))
    return target, paths, numbers.tobytes()


@pytest.fixture
def big(tmp_path: Path) -> tuple[Path, list[str], bytes]:
    return _target(tmp_path)


def _spoilers(target: Path, rel: str) -> Iterator[str]:
    """Each way a published file stops being what the stamps say, one after the other (restored in between)."""
    path = target / rel
    original, st = path.read_bytes(), path.stat()

    def restore() -> None:
        path.write_bytes(original)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    path.unlink()
    yield "deleted"
    restore()
    path.write_bytes(original + b"!")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    yield "resized, same mtime"
    restore()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000))
    yield "same size, touched"
    restore()
    path.unlink()
    path.mkdir()
    yield "a directory now"
    path.rmdir()
    restore()


@pytest.mark.parametrize("where", [3, COUNT // 2 + 7, COUNT - 1], ids=["first half", "second half", "last"])
def test_a_changed_file_in_either_half_is_seen(big: tuple[Path, list[str], bytes], where: int) -> None:
    target, paths, numbers = big
    assert _stamps_intact(target, paths, numbers) == COUNT
    for how in _spoilers(target, paths[where]):
        assert _stamps_intact(target, paths, numbers) is None, how
    assert _stamps_intact(target, paths, numbers) == COUNT  # restored: intact again


def test_with_another_thread_running_the_run_checks_alone_and_answers_the_same(
    big: tuple[Path, list[str], bytes],
) -> None:
    target, paths, numbers = big
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert _stamps_intact(target, paths, numbers) == COUNT
        (target / paths[-1]).unlink()
        assert _stamps_intact(target, paths, numbers) is None
    finally:
        stop.set()
        other.join()


CHILD = """
import json, os, sys
from syndicate.publish import _forked, _DIR_FLAGS, _STAMP_SIZE
target, paths, numbers = sys.argv[1], json.loads(sys.argv[2]), bytes.fromhex(sys.argv[3])
fd = os.open(target, _DIR_FLAGS)
answers = []
for cut in (0, 1):  # all the stamps; then the stamps shifted by one path: every one wrong
    pid = _forked(fd, paths[cut:], numbers[: len(numbers) - cut * _STAMP_SIZE])
    answers.append(None if pid is None else os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print(json.dumps(answers))
"""


def test_the_forked_child_checks_its_half_and_answers_by_its_exit_status(tmp_path: Path) -> None:
    target, paths, numbers = _target(tmp_path)
    few, stamps = paths[:200], numbers[: 200 * 16]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(target), json.dumps(few), stamps.hex()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers = json.loads(done.stdout)
    if len(os.sched_getaffinity(0)) < 2:
        assert answers == [None, None]  # one core: never a child
    else:
        assert answers == [0, 1]
