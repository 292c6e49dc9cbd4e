"""publish.py on a real filesystem: what ends up in the target, and what does not."""

from __future__ import annotations

import builtins
import errno
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.errors import ExitCode, LockedError, PublishError
from syndicate.publish import PublishReport, publish, target_lock
from syndicate.status import Status
from tests.helpers import replace_destination

REPO = Path(__file__).resolve().parent.parent

FILES: dict[str, bytes] = {
    "index.html": b"<!DOCTYPE html><html lang='en'>top</html>\n",
    "feeds.opml": b"<opml version='2.0'/>\n",
    "en/rss.xml": b"<rss version='2.0'/>\n",
    "en/atom.xml": b"<feed/>\n",
    "en/index.html": b"<html lang='en'>en</html>\n",
    "en/articles/harbour-budget.html": b"<html lang='en'>harbour</html>\n",
    "en/articles/ferry-resumes.html": b"<html lang='en'>ferry</html>\n",
    "es/rss.xml": b"<rss version='2.0'>es</rss>\n",
    "es/articles/harbour-budget.html": b"<html lang='es'>puerto</html>\n",
}


def snapshot(root: Path) -> dict[str, object]:
    """Every path under root with its bytes' hash, inode and mtime (dirs: "dir")."""
    tree: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir():
            tree[rel] = "dir"
        else:
            st = path.stat()
            tree[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), st.st_ino, st.st_mtime_ns)
    return tree


def published(root: Path) -> dict[str, bytes]:
    """The files under root, .syndicate/ excluded."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".syndicate" not in p.relative_to(root).parts
    }


def without(tree: dict[str, object], *names: str) -> dict[str, object]:
    return {k: v for k, v in tree.items() if k not in names}


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return tmp_path / "site"


# -- publishing ---------------------------------------------------------------


def test_first_publish_writes_every_file(target: Path) -> None:
    report = publish(FILES, target)

    assert report == PublishReport(written=tuple(sorted(FILES)), unchanged=0, removed=())
    assert published(target) == FILES
    manifest = json.loads((target / ".syndicate" / "manifest.json").read_text())
    assert set(manifest["files"]) == set(FILES)
    assert manifest["files"]["en/rss.xml"]["sha256"] == hashlib.sha256(FILES["en/rss.xml"]).hexdigest()


def test_publishing_the_same_files_again_touches_nothing(target: Path) -> None:
    publish(FILES, target)
    before = snapshot(target)

    report = publish(dict(FILES), target)

    assert report == PublishReport(written=(), unchanged=len(FILES), removed=())
    assert snapshot(target) == before  # same bytes, inodes and st_mtime_ns, manifest included


def test_a_changed_file_is_replaced_and_the_others_are_untouched(target: Path) -> None:
    publish(FILES, target)
    before = snapshot(target)

    report = publish({**FILES, "en/rss.xml": b"<rss version='2.0'>new</rss>\n"}, target)

    assert report.written == ("en/rss.xml",)
    assert report.unchanged == len(FILES) - 1
    assert (target / "en/rss.xml").read_bytes() == b"<rss version='2.0'>new</rss>\n"
    after = snapshot(target)
    unchanged = ("en/rss.xml", ".syndicate/manifest.json", ".syndicate/stamps")
    assert without(after, *unchanged) == without(before, *unchanged)


def test_a_file_edited_behind_our_back_is_rewritten(target: Path) -> None:
    publish(FILES, target)
    edited = target / "en/rss.xml"
    edited.write_bytes(b"<rss version='2.0'/>X")  # same size, new mtime
    os.utime(edited, ns=(1, 1))

    report = publish(FILES, target)

    assert report.written == ("en/rss.xml",)
    assert edited.read_bytes() == FILES["en/rss.xml"]


def test_identical_files_already_on_disk_are_adopted_without_rewriting(target: Path) -> None:
    target.mkdir()
    (target / "index.html").write_bytes(FILES["index.html"])
    inode = (target / "index.html").stat().st_ino

    report = publish({"index.html": FILES["index.html"]}, target)

    assert report.written == () and report.unchanged == 1
    assert (target / "index.html").stat().st_ino == inode


def test_stale_files_are_removed_and_foreign_files_kept(target: Path) -> None:
    publish(FILES, target)
    (target / "robots.txt").write_bytes(b"User-agent: *\n")
    (target / "en/articles/hand-made.html").write_bytes(b"mine")
    smaller = {k: v for k, v in FILES.items() if k != "en/articles/ferry-resumes.html"}

    report = publish(smaller, target)

    assert report.removed == ("en/articles/ferry-resumes.html",)
    assert report.written == ()
    assert not (target / "en/articles/ferry-resumes.html").exists()
    assert (target / "robots.txt").read_bytes() == b"User-agent: *\n"
    assert (target / "en/articles/hand-made.html").read_bytes() == b"mine"
    assert published(target) == {
        **smaller,
        "robots.txt": b"User-agent: *\n",
        "en/articles/hand-made.html": b"mine",
    }


def test_directories_left_empty_are_removed_but_not_others(target: Path) -> None:
    (target / "fr").mkdir(parents=True)  # made by someone else, before us
    publish({**FILES, "fr/rss.xml": b"<rss/>"}, target)

    report = publish({"index.html": FILES["index.html"]}, target)

    assert set(report.removed) == set(FILES) - {"index.html"} | {"fr/rss.xml"}
    assert not (target / "en").exists()
    assert not (target / "es").exists()
    assert (target / "fr").is_dir()  # empty, but not ours
    assert sorted(p.name for p in target.iterdir()) == [".syndicate", "fr", "index.html"]
    publish({}, target)
    assert target.is_dir()


def test_a_language_can_come_back_after_removal(target: Path) -> None:
    publish(FILES, target)
    publish({"index.html": FILES["index.html"]}, target)

    report = publish(FILES, target)

    assert report.written == tuple(sorted(set(FILES) - {"index.html"}))
    assert published(target) == FILES


def test_pages_are_installed_before_the_feeds_that_link_them(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    real_replace = os.replace

    def recording_replace(src: Any, dst: Any, **fds: Any) -> None:
        order.append(replace_destination(dst, fds.get("dst_dir_fd")).relative_to(target).as_posix())
        real_replace(src, dst, **fds)

    monkeypatch.setattr(os, "replace", recording_replace)
    publish(FILES, target)

    installed = [rel for rel in order if not rel.startswith(".syndicate/")]
    assert installed[:3] == [
        "en/articles/ferry-resumes.html",
        "en/articles/harbour-budget.html",
        "es/articles/harbour-budget.html",
    ]
    assert installed[-2:] == ["feeds.opml", "index.html"]
    assert set(installed) == set(FILES)


@pytest.mark.parametrize(
    "key",
    [
        "/etc/passwd",
        "../outside.html",
        "en/../../outside.html",
        "en\\rss.xml",
        "en/rss\0.xml",
        ".syndicate/manifest.json",
        ".syndicate",
        "",
        "en//rss.xml",
        "./index.html",
        "en/",
    ],
)
def test_unsafe_paths_are_rejected_before_anything_is_written(tmp_path: Path, key: str) -> None:
    target = tmp_path / "site"
    publish(FILES, target)
    before = snapshot(tmp_path)

    with pytest.raises(PublishError, match="refusing to publish") as info:
        publish({**FILES, "en/new.html": b"new", key: b"evil"}, target)

    assert info.value.exit_code == ExitCode.PUBLISH_FAILED
    assert snapshot(tmp_path) == before


def test_unsafe_paths_are_rejected_on_an_empty_target(tmp_path: Path) -> None:
    with pytest.raises(PublishError):
        publish({"../escape.txt": b"x"}, tmp_path / "site")
    assert list(tmp_path.iterdir()) == []


def test_a_path_that_is_both_file_and_directory_is_rejected(target: Path) -> None:
    with pytest.raises(PublishError, match="both a file and a directory"):
        publish({"en": b"x", "en/rss.xml": b"y"}, target)
    assert not target.exists()


def test_a_foreign_file_where_a_directory_must_go_fails_cleanly(target: Path) -> None:
    publish(FILES, target)
    (target / "de").write_bytes(b"someone's file")
    before = snapshot(target)

    with pytest.raises(PublishError, match="is not a directory"):
        publish({**FILES, "de/rss.xml": b"<rss/>", "en/rss.xml": b"changed"}, target)

    assert snapshot(target) == before


def test_a_directory_where_a_file_must_go_fails_cleanly(target: Path) -> None:
    publish(FILES, target)
    (target / "en/feed.json").mkdir()
    before = snapshot(target)

    with pytest.raises(PublishError, match=r"en/feed\.json: cannot write"):
        publish({**FILES, "en/feed.json": b"{}", "en/rss.xml": b"changed"}, target)

    assert snapshot(target) == before


def test_manifest_entries_outside_the_target_are_never_removed(tmp_path: Path) -> None:
    target = tmp_path / "site"
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"keep me")
    publish(FILES, target)
    manifest = target / ".syndicate/manifest.json"
    doc = json.loads(manifest.read_text())
    doc["files"]["../precious.txt"] = {"sha256": "0" * 64, "size": 7, "mtime_ns": 1}
    manifest.write_text(json.dumps(doc))

    publish({}, target)

    assert outside.read_bytes() == b"keep me"
    assert published(target) == {}


def test_a_damaged_manifest_is_rebuilt(target: Path) -> None:
    publish(FILES, target)
    (target / ".syndicate/manifest.json").write_bytes(b"{not json")

    report = publish(FILES, target)

    assert report.written == () and report.unchanged == len(FILES)
    assert set(json.loads((target / ".syndicate/manifest.json").read_text())["files"]) == set(FILES)


def test_leftover_staging_from_a_killed_run_is_removed(target: Path) -> None:
    publish(FILES, target)
    leftover = target / ".syndicate/staging-deadbeef"
    leftover.mkdir()
    (leftover / "0001").write_bytes(b"half a feed")
    (target / ".syndicate/tmp-0123-manifest.json").write_bytes(b"{")

    publish(FILES, target)

    assert sorted(p.name for p in (target / ".syndicate").iterdir()) == ["manifest.json", "stamps"]


def test_fsync_can_be_turned_off(target: Path) -> None:
    assert publish(FILES, target, fsync=False).written == tuple(sorted(FILES))
    assert published(target) == FILES


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["index.html", "en/rss.xml", "en/a/x.html", "en/a/y.html", "es/rss.xml"]),
            st.binary(max_size=8),
            max_size=5,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_the_target_always_mirrors_the_last_publish(runs: list[dict[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp)
        (target / "foreign.txt").write_bytes(b"not ours")
        for files in runs:
            publish(files, target, fsync=False)
            assert published(target) == {**files, "foreign.txt": b"not ours"}
        dirs = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_dir()}
        assert dirs <= {".syndicate", *(a for f in runs[-1] for a in _parents(f))}


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


# -- failures leave the target as it was --------------------------------------


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permission bits; simulated below")
def test_read_only_target_fails_cleanly(target: Path) -> None:
    publish(FILES, target)
    before = snapshot(target)
    dirs = [target, *(p for p in target.rglob("*") if p.is_dir())]
    for d in dirs:
        d.chmod(0o555)
    try:
        with pytest.raises(PublishError, match="cannot"):
            publish({**FILES, "en/rss.xml": b"changed", "fr/rss.xml": b"new"}, target)
    finally:
        for d in dirs:
            d.chmod(0o755)
    assert snapshot(target) == before


READ_ONLY_CHILD = """
import json, sys
from pathlib import Path
from syndicate.errors import PublishError
from syndicate.publish import publish, target_lock
messages = []
for attempt in (
    lambda: publish({"en/rss.xml": b"changed", "fr/rss.xml": b"new"}, Path(sys.argv[1])),
    lambda: target_lock(Path(sys.argv[2])).__enter__(),
):
    try:
        attempt()
    except PublishError as exc:
        messages.append([type(exc).__name__, exc.message])
print(json.dumps(messages))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the test above covers ordinary users")
def test_read_only_target_fails_cleanly_for_an_ordinary_user(tmp_path: Path) -> None:
    """Root ignores permission bits: run the publish as uid 1000 in a user namespace."""
    target, fresh = tmp_path / "site", tmp_path / "fresh"
    publish(FILES, target)
    fresh.mkdir()
    before = snapshot(tmp_path)
    dirs = [tmp_path, *(p for p in tmp_path.rglob("*") if p.is_dir())]
    for d in dirs:
        d.chmod(0o555)
    try:
        proc = _run_as_ordinary_user([sys.executable, "-c", READ_ONLY_CHILD, str(target), str(fresh)])
    finally:
        for d in dirs:
            d.chmod(0o755)
    assert snapshot(tmp_path) == before
    assert json.loads(proc.stdout) == [
        ["PublishError", f"{target / '.syndicate'}: cannot write: Permission denied"],
        ["PublishError", f"{fresh / '.syndicate'}: cannot create directory: Permission denied"],
    ]


def _run_as_ordinary_user(args: list[str]) -> subprocess.CompletedProcess[str]:
    command = ["unshare", "--user", "--map-user=1000", "--map-group=1000", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("unshare is not installed")
    if proc.returncode != 0 and "unshare" in proc.stderr:
        pytest.skip(f"user namespaces are not available: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    return proc


def test_no_space_while_staging_leaves_the_target_byte_identical(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(FILES, target)
    before = snapshot(target)
    real_open = builtins.open
    staged: list[str] = []

    def full_disk(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "staging-" in str(file):
            staged.append(str(file))
            if len(staged) == 2:  # the first staged file was written
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", full_disk)
    changed = {**FILES, "en/rss.xml": b"changed", "es/rss.xml": b"changed too", "fr/rss.xml": b"new"}
    with pytest.raises(PublishError, match="No space left on device") as info:
        publish(changed, target)

    monkeypatch.undo()
    assert len(staged) >= 2  # writers run in parallel: others may have started
    assert str(target) in info.value.message and "rss.xml: cannot write" in info.value.message
    assert snapshot(target) == before


def test_read_only_filesystem_at_replace_leaves_the_target_byte_identical(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(FILES, target)
    before = snapshot(target)

    def read_only(src: Any, dst: Any, **fds: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dst))

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(PublishError, match="Read-only file system"):
        publish({**FILES, "fr/articles/new.html": b"new", "en/rss.xml": b"changed"}, target)

    monkeypatch.undo()
    assert snapshot(target) == before  # no staging dir, no new fr/ directories


def test_a_real_write_error_from_the_kernel_leaves_the_target_byte_identical(target: Path) -> None:
    publish(FILES, target)
    before = snapshot(target)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))  # writes past 4 KiB fail with EFBIG
    try:
        with pytest.raises(PublishError, match=r"en/articles/big\.html: cannot write"):
            publish({**FILES, "en/articles/big.html": b"x" * 100_000}, target)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert snapshot(target) == before


def test_a_target_that_cannot_be_created_is_a_publish_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(PublishError, match="cannot create directory"):
        publish(FILES, tmp_path / "file" / "site")


# -- lock ---------------------------------------------------------------------

CHILD = """
import sys, time
from pathlib import Path
from syndicate.publish import target_lock
with target_lock(Path(sys.argv[1])):
    Path(sys.argv[2]).write_text("locked")
    time.sleep(60)
"""


@pytest.fixture
def child_holding_lock(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    target, ready = tmp_path / "site", tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target), str(ready)], cwd=REPO, env=env, stderr=subprocess.PIPE
    )
    try:
        _wait_for(ready, proc)
        yield target, proc
    finally:
        proc.kill()
        proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()


def _wait_for(ready: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while not ready.exists():
        if proc.poll() is not None:
            assert proc.stderr is not None
            pytest.fail(f"lock holder died: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            pytest.fail("lock holder did not start")
        time.sleep(0.01)


def test_a_second_run_fails_at_once_while_another_holds_the_lock(
    child_holding_lock: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    target, _ = child_holding_lock
    with pytest.raises(LockedError) as info, target_lock(target):  # timeout=0: never waits (no speed asserted)
        pytest.fail("the lock was taken twice")
    assert info.value.exit_code == ExitCode.LOCKED
    lockpath = target / ".syndicate" / "lock"
    assert str(info.value) == f"{target}: another syndicate run holds the lock ({lockpath})"


def test_a_lock_left_by_a_killed_run_does_not_block(
    child_holding_lock: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    target, proc = child_holding_lock
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (target / ".syndicate" / "lock").exists()

    with target_lock(target):
        assert publish(FILES, target).written == tuple(sorted(FILES))


def test_the_lock_is_exclusive_within_one_process_and_released_after_use(target: Path) -> None:
    with target_lock(target), pytest.raises(LockedError), target_lock(target):
        pass
    with target_lock(target):
        pass


def test_the_lock_creates_the_target(target: Path) -> None:
    with target_lock(target):
        assert (target / ".syndicate").is_dir()


def test_a_lock_that_cannot_be_created_is_a_publish_error_not_locked(target: Path) -> None:
    target.mkdir()
    (target / ".syndicate").write_bytes(b"in the way")
    with (
        pytest.raises(PublishError, match=r"\.syndicate: cannot create directory") as info,
        target_lock(target),
    ):
        pass
    assert not isinstance(info.value, LockedError)


def test_a_lock_path_that_is_a_directory_is_a_publish_error(target: Path) -> None:
    (target / ".syndicate" / "lock").mkdir(parents=True)
    with pytest.raises(PublishError, match=r"lock: cannot lock") as info, target_lock(target):
        pass
    assert not isinstance(info.value, LockedError)


# -- status -------------------------------------------------------------------


def _failed(target: Path, message: str) -> Status:
    return Status.of_failure(datetime(2025, 4, 14, 10, 46, tzinfo=UTC), target, PublishError(message))


def test_status_round_trip(target: Path) -> None:
    status = Status(
        time=datetime(2025, 4, 14, 10, 46, tzinfo=UTC),
        outcome="input",
        exit_code=ExitCode.INPUT,
        target=str(target),
        items={"en": 2, "es": 2},
        written=3,
        unchanged=1,
        removed=0,
        errors=("seeds/bad.txt:3: no title",),
        missing={"es": ("Mesa Internacional (español)",)},
    )
    status.save(target)

    text = (target / ".syndicate/status.json").read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text.splitlines()[1] == '  "errors": ['  # sorted keys, indent 2
    assert json.loads(text)["time"] == "2025-04-14T10:46:00+00:00"
    assert "Mesa Internacional (español)" in text
    assert Status.load(target) == status
    assert sorted(p.name for p in (target / ".syndicate").iterdir()) == ["status.json"]


def test_status_is_replaced_atomically(target: Path) -> None:
    _failed(target, "first").save(target)
    inode = (target / ".syndicate/status.json").stat().st_ino
    _failed(target, "second").save(target)
    assert (target / ".syndicate/status.json").stat().st_ino != inode
    loaded = Status.load(target)
    assert loaded is not None and loaded.errors == ("second",) and loaded.outcome == "failed"


def test_missing_or_damaged_status_reads_as_none(target: Path) -> None:
    assert Status.load(target) is None
    (target / ".syndicate").mkdir(parents=True)
    (target / ".syndicate/status.json").write_bytes(b"[1, 2")
    assert Status.load(target) is None
    (target / ".syndicate/status.json").write_bytes(b"[1, 2]")
    assert Status.load(target) is None


def test_status_on_an_unwritable_target_is_a_publish_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(PublishError):
        _failed(tmp_path / "file", "x").save(tmp_path / "file")


# -- cost: the manifest is appended to, one lstat per file -------------------------------------

MANY: dict[str, bytes] = {
    f"{lang}/articles/a{n:03}.html": f"<p>{lang} {n}</p>\n".encode() for lang in ("en", "es") for n in range(60)
}


def test_a_small_change_appends_one_line_to_the_manifest(target: Path) -> None:
    publish(MANY, target)
    manifest = target / ".syndicate/manifest.json"
    first = manifest.read_bytes()
    assert first.count(b"\n") == 1  # one snapshot line

    report = publish({**MANY, "en/articles/a007.html": b"<p>changed</p>\n"}, target)

    assert report.written == ("en/articles/a007.html",)
    after = manifest.read_bytes()
    assert after.startswith(first) and after.count(b"\n") == 2  # the snapshot untouched, one change line
    change = json.loads(after[len(first) :])
    assert list(change["files"]) == ["en/articles/a007.html"]
    # the record read back is the new state: nothing is written or compared again
    again = publish({**MANY, "en/articles/a007.html": b"<p>changed</p>\n"}, target)
    assert again.written == () and again.unchanged == len(MANY)
    assert manifest.read_bytes() == after


def test_removals_are_recorded_and_a_long_tail_is_folded_into_a_new_snapshot(target: Path) -> None:
    publish(MANY, target)
    manifest = target / ".syndicate/manifest.json"
    report = publish({k: v for k, v in MANY.items() if k != "es/articles/a001.html"}, target)
    assert report.removed == ("es/articles/a001.html",)
    assert json.loads(manifest.read_bytes().splitlines()[1])["files"] == {"es/articles/a001.html": None}
    snapshot_size = len(manifest.read_bytes().splitlines()[0])
    lines, sizes = [], []
    for n in range(60):  # every run changes two files: the change lines outgrow the snapshot
        publish({**MANY, f"en/articles/a{n:03}.html": f"<p>v{n}</p>\n".encode()}, target)
        lines.append(len(manifest.read_bytes().splitlines()))
        sizes.append(manifest.stat().st_size)
    assert max(sizes) <= 2 * snapshot_size + 1000  # never more change lines than the snapshot itself
    assert lines[0] == 3 and 1 in lines  # appended at first, folded into one snapshot later
    final = {**MANY, "en/articles/a059.html": b"<p>v59</p>\n"}
    assert published(target) == final
    assert publish(final, target).written == ()


def test_a_cut_short_change_line_counts_as_not_written(target: Path) -> None:
    """A run killed while appending leaves half a line: the record stops before it, and is rewritten next."""
    publish(MANY, target)
    manifest = target / ".syndicate/manifest.json"
    first = manifest.read_bytes()
    manifest.write_bytes(first + b'{"files":{"en/articles/a000.html":{"sha2')

    report = publish(MANY, target)

    assert report.written == () and report.unchanged == len(MANY)  # compared byte for byte: all the same
    doc = json.loads(manifest.read_bytes())  # one snapshot again
    assert set(doc["files"]) == set(MANY)


def test_each_published_file_costs_at_most_one_lstat(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(MANY, target)
    seen: list[str] = []
    real = os.lstat

    def counting(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        seen.append(os.fsdecode(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", counting)
    changed = {**MANY, "en/articles/a003.html": b"<p>new</p>\n", "es/articles/a100.html": b"<p>new</p>\n"}
    publish(changed, target)
    per_file = {rel: sum(1 for p in seen if p.endswith("/" + rel)) for rel in changed}
    assert max(per_file.values()) == 1, {k: v for k, v in per_file.items() if v > 1}


def test_a_first_publish_into_an_empty_target_stats_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "site"
    seen: list[str] = []
    real = os.lstat

    def counting(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        seen.append(os.fsdecode(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", counting)
    report = publish(MANY, target)
    assert len(report.written) == len(MANY)
    assert published(target) == MANY
    assert not [p for p in seen if p.endswith(".html")]  # nothing to compare, nothing to keep a copy of


def test_the_snapshot_is_written_in_pieces_as_one_json_line() -> None:
    """The manifest snapshot, written entry by entry, is byte for byte the one-line JSON it always was."""
    from syndicate.publish import _MANIFEST_VERSION, _Entry, _entry_doc, _json_line, _snapshot_pieces

    files = {
        "en/rss.xml": _Entry("a" * 64, 10, 1_700_000_000_000_000_000, "key1"),
        "es/artículos/ñandú \"x\".html": _Entry("b" * 64, 0, 5, None),
        "ar/مقال.html": _Entry("c" * 64, 7, 6, "k"),
    }
    dirs = frozenset({"es", "en", "ar", "es/artículos"})
    expected = _json_line(
        {"version": _MANIFEST_VERSION, "files": {r: _entry_doc(e) for r, e in files.items()}, "dirs": sorted(dirs)}
    )
    assert b"".join(_snapshot_pieces(files, dirs)) == expected
    empty = _json_line({"version": _MANIFEST_VERSION, "files": {}, "dirs": []})
    assert b"".join(_snapshot_pieces({}, frozenset())) == empty
