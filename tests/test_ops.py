"""Operations: concurrent runs, killed runs, a full disk (DESIGN 7).

* two publishes on one target: exactly one publishes, the other exits 5 at once;
* a lock left by a SIGKILLed run never blocks the next run;
* publishes SIGKILLed at random moments never leave a half-written or
  unparsable file, and the next run repairs the target completely;
* a really full filesystem (a tiny tmpfs) and ENOSPC at every single write
  leave the target as it was (exit 4, one line naming the file), and the next
  run with space completes.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from typer.testing import CliRunner

from syndicate import publish as publish_module
from syndicate.cli import app
from syndicate.errors import ExitCode
from tests.helpers import replace_destination

ROOT = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """The environment for child processes, read when they start: conftest's private cache dir included."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write_config(directory: Path) -> Path:
    """The repository's syndicate.toml without its [translation] table: these tests publish the
    source edition only (offline, fast, and no translation cache written outside tmp)."""
    text = re.sub(r"(?ms)^\[translation\].*?(?=^\[|\Z)", "", (ROOT / "syndicate.toml").read_text(encoding="utf-8"))
    assert "translation" not in tomllib.loads(text)
    path = directory / "syndicate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def published(root: Path) -> dict[str, bytes]:
    """Every file under root but the tool's own .syndicate/."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != ".syndicate"
    }


def directories(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_dir() and p.relative_to(root).parts[0] != ".syndicate"
    }


def hashes(root: Path, *excluded: str) -> dict[str, tuple[str, int]]:
    """Every file under root (state included) -> (sha256, mtime_ns)."""
    return {
        rel: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and (rel := p.relative_to(root).as_posix()) not in excluded
    }


def check_parses(tree: dict[str, bytes]) -> None:
    """Every published file is whole: XML parses, JSON parses, HTML is complete."""
    for rel, data in tree.items():
        if rel.endswith((".xml", ".opml")):
            etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        elif rel.endswith(".json"):
            json.loads(data)
        elif rel.endswith(".html"):
            assert data.strip().startswith(b"<!DOCTYPE html>") and data.rstrip().endswith(b"</html>"), rel


# -- article sets -------------------------------------------------------------


def write_article_set(root: Path, variant: str, count: int) -> Path:
    """The seed plus ``count`` generated articles; set B edits half, drops some, adds a German edition."""
    shutil.copytree(ROOT / "seeds", root)
    extra = root / "extra"
    extra.mkdir()
    for i in range(count):
        if variant == "B" and i % 10 == 3:
            continue
        text = f"Paragraph {i}: {'revised' if variant == 'B' and i % 2 == 0 else 'original'} report from harbour {i}."
        day = 1 + i % 28
        if i % 2:
            (extra / f"p{i:03d}.txt").write_text(
                f"Title: Story {i}\nDate: 2025-03-{day:02d}T{i % 24:02d}:{i % 60:02d}:00\nCategory: Desk {i % 7}\n\n"
                f"{text}\nSecond paragraph of story {i}.\n",
                encoding="utf-8",
            )
        else:
            (extra / f"m{i:03d}.md").write_text(
                f"---\ntitle: Markdown story {i} & <friends>\ndate: 2025-02-{day:02d}T08:{i % 60:02d}:00+01:00\n"
                f"tags: [harbour, t{i % 5}]\n---\n\n{text}\n\n## Details {i}\n\n- one\n- two\n",
                encoding="utf-8",
            )
    if variant == "B":
        for i in range(8):
            (extra / f"de{i}.md").write_text(
                f"---\ntitle: Hafenbericht {i}\nlanguage: de\ndate: 2025-04-0{1 + i}T09:00:00Z\n---\n\nText {i}.\n",
                encoding="utf-8",
            )
    return root


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A copy of syndicate.toml and the seed (its date pattern matches the seed page in any set)."""
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    return write_config(tmp_path)


# -- concurrent runs ----------------------------------------------------------

SLOW_PUBLISH = r"""
import sys, time
from pathlib import Path
import syndicate.publish as P

inside, go = Path(sys.argv[1]), Path(sys.argv[2])
real = P.publish_stream

def slow(outputs, target, **kw):
    inside.write_text("holding the lock")  # about to render and write, lock held
    deadline = time.monotonic() + 30
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    return real(outputs, target, **kw)

P.publish_stream = slow
from syndicate.cli import main
sys.argv = ["syndicate", *sys.argv[3:]]
main()
"""


def _wait_for(path: Path, proc: subprocess.Popen[Any], what: str) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"{what} exited early: {proc.communicate()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not get there in time")
        time.sleep(0.005)


def test_two_concurrent_publishes_one_wins_the_other_exits_5_at_once(tmp_path: Path, config: Path) -> None:
    target, inside, go = tmp_path / "feeds", tmp_path / "inside", tmp_path / "go"
    args = ["publish", "--config", str(config), "--out", str(target)]
    first = subprocess.Popen(
        [sys.executable, "-c", SLOW_PUBLISH, str(inside), str(go), *args],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(inside, first, "the first publish")
        # The second run does not wait for the lock (timeout=30 only stops a hung test; no speed is asserted).
        second = subprocess.run(
            [sys.executable, "-m", "syndicate", *args], env=child_env(), capture_output=True, text=True, timeout=30
        )
        assert second.returncode == ExitCode.LOCKED, second.stderr
        assert not published(target), "the second run wrote while the first held the lock"
        go.write_text("go")
        out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert second.returncode == ExitCode.LOCKED
    lock = target / ".syndicate" / "lock"
    assert second.stderr == f"syndicate: error: {target}: another syndicate run holds the lock ({lock})\n"
    assert second.stdout == ""
    assert first.returncode == 0, err
    assert out.startswith("published 6 items (en 6)") and "28 written" in out
    status = json.loads((target / ".syndicate" / "status.json").read_text())
    assert status["outcome"] == "ok" and status["written"] == 28  # the first run's, the only one recorded


HOLD_LOCK = r"""
import sys, time
from pathlib import Path
from syndicate.publish import target_lock
with target_lock(Path(sys.argv[1])):
    Path(sys.argv[2]).write_text("locked")
    time.sleep(60)
"""


def test_a_lock_left_by_a_sigkilled_run_does_not_block_the_next(tmp_path: Path, config: Path) -> None:
    target, ready = tmp_path / "feeds", tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(target), str(ready)], env=child_env())
    try:
        _wait_for(ready, holder, "the lock holder")
        assert invoke("publish", "--config", config, "--out", target)[0] == ExitCode.LOCKED
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert (target / ".syndicate" / "lock").exists()  # the file stays; the kernel dropped the lock
    code, out, err = invoke("publish", "--config", config, "--out", target)
    assert code == 0, err
    assert "28 written" in out


# -- killed runs --------------------------------------------------------------

# A fork server with everything imported: for each "go ARGS..." line it forks a
# child that runs the real CLI (``syndicate.cli.main``) and reports its pid;
# the child is reaped only on "reap", so its pid cannot be reused before the
# test has killed it.  The kill delays are thus spread over the run's real
# work, not over interpreter start-up, and no time goes to start-up at all.
FORK_SERVER = r"""
import gc, os, sys
import syndicate.cli, syndicate.pipeline, syndicate.publish, syndicate.render, syndicate.sources
import syndicate.sources.pagetext, syndicate.sources.markdown, syndicate.sources.jsonfile
import syndicate.localize, syndicate.render.feeds, syndicate.render.html
import markdown_it, yaml, nh3, feedgen.feed, lxml.etree, babel.dates
print("ready", flush=True)
for line in sys.stdin:
    command, *args = line.rstrip("\n").split("\0")
    if command == "warm":  # one run in the server itself, so every child starts with warm caches
        sys.argv = ["syndicate", *args]
        try:
            syndicate.cli.main()
        except SystemExit as exc:
            print(f"status {exc.code}", flush=True)
    elif command == "go":
        gc.freeze()  # no copy-on-write of the whole heap when the child's collector runs
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            sys.argv = ["syndicate", *args]
            try:
                syndicate.cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            os._exit(code)
        print(f"pid {pid}", flush=True)
    elif command == "reap":
        _, status = os.waitpid(int(args[0]), 0)
        print(f"status {os.waitstatus_to_exitcode(status)}", flush=True)
"""

KILLS = 50
GENERATED = 300  # articles per set: a run takes ~0.3-0.5 s of work on 2 cores


class ForkServer:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER],
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._read() == "ready"

    def _read(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the fork server died"
        return line.rstrip("\n")

    def _send(self, *words: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\0".join(words) + "\n")
        self.proc.stdin.flush()

    def warm(self, *args: str | Path) -> None:
        """Run a publish inside the server (not forked): babel data, caches and so on are loaded once."""
        self._send("warm", *(str(a) for a in args))
        assert self._read() == "status 0"

    def start(self, *args: str | Path) -> int:
        """Start a publish; return the child's pid."""
        self._send("go", *(str(a) for a in args))
        reply = self._read()
        assert reply.startswith("pid "), reply
        return int(reply.split()[1])

    def reap(self, pid: int) -> int:
        """Wait for the child; its exit code, or -signal when killed."""
        self._send("reap", str(pid))
        reply = self._read()
        assert reply.startswith("status "), reply
        return int(reply.split()[1])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


@dataclass
class KillStats:
    killed: int = 0
    finished: int = 0
    states: dict[str, int] = field(default_factory=lambda: {"old": 0, "new": 0, "mixed": 0})
    delays: list[float] = field(default_factory=list)
    spent: dict[str, float] = field(default_factory=lambda: {"run": 0.0, "check": 0.0, "repair": 0.0})


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A directory on tmpfs when there is one: a SIGKILL does not care about fsync, and on a
    busy shared disk fsync makes run times vary too much to spread kills over them."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="syndicate-kill-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_publishes_killed_at_random_moments_never_leave_a_broken_target(
    tmp_path: Path, config: Path, scratch: Path
) -> None:
    seed = int(os.environ.get("SYNDICATE_KILL_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    sets = {v: write_article_set(tmp_path / f"set-{v}", v, GENERATED) for v in "AB"}
    expected: dict[str, dict[str, bytes]] = {}
    expected_dirs: dict[str, set[str]] = {}
    for v, sources in sets.items():
        where = scratch / f"expected-{v}"
        code, _, err = invoke("publish", "--config", config, "--out", where, "--quiet", sources)
        assert code == 0, err
        expected[v], expected_dirs[v] = published(where), directories(where)
    assert expected["A"].keys() != expected["B"].keys()
    every = expected["A"].keys() | expected["B"].keys()
    versions = {rel: {expected[v][rel] for v in "AB" if rel in expected[v]} for rel in every}
    target = scratch / "feeds"
    assert invoke("publish", "--config", config, "--out", target, "--quiet", sets["A"])[0] == 0

    def args(variant: str) -> list[str | Path]:
        return ["publish", "--config", config, "--out", target, "--quiet", sets[variant]]

    server = ForkServer()
    try:
        server.warm("publish", "--config", config, "--out", scratch / "warm-up", "--quiet", sets["B"])
        # Measure the run first (B then A, to completion).  The estimate then follows the machine's
        # load: every repair run below and every run that finishes before its kill is a new sample.
        durations = []
        for v in "BABA":
            start = time.monotonic()
            assert server.reap(server.start(*args(v))) == 0
            durations.append(time.monotonic() - start)
            assert published(target) == expected[v]
        stats = KillStats()
        current, variant = "A", "B"
        attempts = 0
        while stats.killed < KILLS:
            attempts += 1
            assert attempts < 3 * KILLS, f"too few runs could be killed (seed {seed})"
            recent = sorted(durations[-7:])
            duration = recent[len(recent) // 2]
            # Spread over the whole run; every other kill over its end, where the files change.
            delay = rng.uniform(0, duration) if attempts % 2 else rng.uniform(duration * 0.6, duration * 1.1)
            start = time.monotonic()
            pid = server.start(*args(variant))
            time.sleep(max(0.0, delay - (time.monotonic() - start)))
            os.kill(pid, signal.SIGKILL)  # a zombie at worst: it is reaped only below
            code = server.reap(pid)
            stats.spent["run"] += time.monotonic() - start
            if code == -signal.SIGKILL:
                stats.killed += 1
                stats.delays.append(delay)
            else:
                assert code == 0, (seed, code)
                stats.finished += 1
                durations.append(time.monotonic() - start)

            # Every file is whole and is either the old or the new version.
            t0 = time.monotonic()
            tree = published(target)
            for rel, data in tree.items():
                assert rel in versions, f"unexpected file {rel} after a kill at {delay:.3f} s (seed {seed})"
                assert data in versions[rel], f"{rel} is neither version after a kill at {delay:.3f} s (seed {seed})"
            check_parses(tree)
            state = "old" if tree == expected[current] else "new" if tree == expected[variant] else "mixed"
            stats.states[state] += 1

            # The next normal run completes and leaves exactly the expected tree.
            t1 = time.monotonic()
            stats.spent["check"] += t1 - t0
            code, out, err = invoke(*args(variant))
            durations.append(time.monotonic() - t1)
            assert (code, out, err) == (0, "", ""), seed
            assert published(target) == expected[variant], f"not repaired after a kill at {delay:.3f} s (seed {seed})"
            dirs = directories(target)
            assert dirs == expected_dirs[variant], f"directories after a kill at {delay:.3f} s (seed {seed})"
            left = sorted(p.name for p in (target / ".syndicate").iterdir())
            assert left == ["lock", "manifest.json", "stamps", "status.json"], seed
            stats.spent["repair"] += time.monotonic() - t1
            current, variant = variant, current
    finally:
        server.close()

    spread = sorted(stats.delays)
    print(
        f"kill tests: {stats.killed} publishes killed, {stats.finished} finished first (seed {seed}); "
        f"run {sorted(durations)[len(durations) // 2]:.3f} s (median of {len(durations)} complete runs), "
        f"kill delays {spread[0]:.3f}..{spread[-1]:.3f} s; target after the kill: {stats.states['old']} old, "
        f"{stats.states['mixed']} mixed, {stats.states['new']} new; "
        "time spent: " + ", ".join(f"{k} {v:.1f} s" for k, v in stats.spent.items())
    )


# -- full disk ----------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs (the seed with its section feeds fits twice), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    if shutil.which("mount") is None:
        pytest.skip("mount is not available")
    disk = tmp_path / "disk"
    disk.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False, capture_output=True)


def fill(path: Path) -> int:
    """Write ``path`` until the filesystem is full to the last byte; return its size."""
    with open(path, "wb", buffering=0) as fh:
        for chunk in (65536, 4096, 512, 1):
            while True:
                try:
                    fh.write(b"\0" * chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    return path.stat().st_size


def test_a_full_disk_leaves_the_target_byte_identical(tmp_path: Path, config: Path, tiny_disk: Path) -> None:
    target = tiny_disk / "feeds"
    seeds = tmp_path / "seeds"
    code, _, err = invoke("publish", "--config", config, "--out", target, seeds)
    assert code == 0, err
    (seeds / "late.md").write_text(
        "---\ntitle: Late news\ndate: 2025-04-15T08:00:00Z\n---\n\nA late story arrives.\n", encoding="utf-8"
    )
    filled = fill(tiny_disk / "filler")
    before = hashes(tiny_disk, "filler")

    code, out, err = invoke("publish", "--config", config, "--out", target, seeds)

    assert code == ExitCode.PUBLISH_FAILED, (out, err)
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"syndicate: error: {target}/")
    assert err.rstrip().endswith(": cannot write: No space left on device")
    assert hashes(tiny_disk, "filler") == before
    check_parses(published(target))
    print(f"full disk: {filled} bytes of filler; {err.strip()}")

    (tiny_disk / "filler").unlink()
    code, out, err = invoke("publish", "--config", config, "--out", target, seeds)
    assert code == 0, err
    assert "published 7 items" in out
    assert any("late-news" in rel for rel in published(target))


def test_enospc_at_every_single_write(tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated: the k-th file write of a run fails with ENOSPC, for every k.

    Before the replace phase (staging, and the manifest that records the new
    directories) the target's files are exactly as they were: exit 4.  After it
    (the manifest) the new files are in place, whole; the run still fails with a
    one-line message.  A status file that cannot be written is logged, and the run
    keeps its exit code.  Either way the next run with space completes.
    """
    seeds = tmp_path / "seeds"
    template = tmp_path / "template"
    assert invoke("publish", "--config", config, "--out", template, seeds)[0] == 0
    old = published(template)
    (seeds / "late.md").write_text(
        "---\ntitle: Late news\ndate: 2025-04-15T08:00:00Z\n---\n\nA late story arrives.\n", encoding="utf-8"
    )
    (seeds / "german.md").write_text(  # a new edition: new directories
        "---\ntitle: Spät\nlanguage: de\ndate: 2025-04-15T09:00:00Z\n---\n\nEine Nachricht.\n", encoding="utf-8"
    )
    fresh = tmp_path / "fresh"
    assert invoke("publish", "--config", config, "--out", fresh, seeds)[0] == 0
    new = published(fresh)
    assert old != new

    real_write = publish_module._write_file
    calls: list[Path] = []
    fail_at = [0]

    def write(path: Path, data: bytes, *, fsync: bool) -> None:
        calls.append(path)
        if len(calls) == fail_at[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_write(path, data, fsync=fsync)

    outcomes: dict[str, int] = {}
    k = 0
    while True:
        k += 1
        target = tmp_path / f"run-{k}"
        shutil.copytree(template, target)
        before = hashes(target, ".syndicate/status.json")
        calls.clear()
        fail_at[0] = k
        with monkeypatch.context() as patch:
            patch.setattr(publish_module, "_write_file", write)
            code, out, err = invoke("publish", "--config", config, "--out", target, seeds)
        if len(calls) < k:  # the run made fewer than k writes: every write point was tried
            assert code == 0
            break
        where = calls[k - 1]
        if where.name.endswith("status.json"):  # everything is published; only the record of it failed
            assert code == ExitCode.OK, (k, where, out, err)
            assert "published, but the status file could not be written" in err
            assert published(target) == new
            outcomes["status"] = outcomes.get("status", 0) + 1
            continue
        if where.name.endswith("-stamps"):  # the no-op check's shortcut only: the next check reads the manifest
            assert code == ExitCode.OK and published(target) == new, (k, where, out, err)
            outcomes["stamps"] = outcomes.get("stamps", 0) + 1
            continue
        assert code == ExitCode.PUBLISH_FAILED, (k, where, out, err)
        assert len(err.splitlines()) == 1 and ": cannot write: No space left on device" in err, err
        assert err.rstrip().endswith(("No space left on device", "restored: the target is as it was")), err
        tree = published(target)
        check_parses(tree)
        assert tree == old, (k, where)  # exit 4: the target is as it was, also after the replace phase
        assert hashes(target, ".syndicate/status.json") == before, (k, where)
        assert json.loads((target / ".syndicate" / "status.json").read_text())["outcome"] == "failed"
        if ".syndicate/staging-" in where.as_posix():
            kind = "staging"
        else:
            kind = f"{where.name.split('-')[-1]}{' (rolled back)' if 'restored' in err else ''}"
        outcomes[kind] = outcomes.get(kind, 0) + 1
        assert invoke("publish", "--config", config, "--out", target, seeds)[0] == 0
        assert published(target) == new and directories(target) == directories(fresh)
    print(f"ENOSPC tests: {k - 1} write points failed: {outcomes}")


class _Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs (no except OSError, no cleanup that matters)."""


def test_directories_made_by_a_killed_run_are_still_removed_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the kill test: a run killed between mkdir and the manifest left them unowned forever."""
    target = tmp_path / "site"
    base = {"index.html": b"top", "en/rss.xml": b"en"}
    with_de = {**base, "de/rss.xml": b"de", "de/articles/a.html": b"a"}
    publish_module.publish(base, target)
    real_replace = os.replace

    def killed(src: Any, dst: Any, **fds: Any) -> None:
        if ".syndicate" not in str(replace_destination(dst, fds.get("dst_dir_fd"))):
            raise _Killed
        real_replace(src, dst, **fds)

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(_Killed):
        publish_module.publish(with_de, target)
    monkeypatch.undo()
    assert (target / "de" / "articles").is_dir()  # made, then the run died

    publish_module.publish(with_de, target)  # the repair run finds them already there
    publish_module.publish(base, target)
    assert sorted(p.name for p in target.iterdir()) == [".syndicate", "en", "index.html"]
