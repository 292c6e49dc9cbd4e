"""Issue 12: one test (or a few) per numbered defect, each reproducing it through the real command.

1. a FIFO (and a /dev/zero symlink) in the sources; 2. symlinks leading outside the
sources; 3. the size limit checked before reading; 4. tracebacks instead of one-line
errors; 5. a failed replace phase leaves the target as it was (and the journal undoes a
killed one); 6. unsafe configuration; 7. writes through symlinks inside the target;
8. messages that could be forged or mislead; 11. wall-clock speed assertions in tests;
12. wrong JSON types.  (9 and 10, network deadlines and the preview server, are elsewhere.)
"""

from __future__ import annotations

import ast
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser  # type: ignore[import-untyped, unused-ignore]
import lxml.html  # type: ignore[import-untyped, unused-ignore]
import pytest
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from syndicate import publish as publish_module
from syndicate.config import SourceOptions
from syndicate.errors import ExitCode, PublishError, TargetChangedError
from syndicate.publish import publish, recover
from syndicate.sources import read_articles
from syndicate.sources.safe import UnreadableSource, read_source, shown_name
from syndicate.status import Status, check_status
from syndicate.validate import validate_target
from tests.helpers import replace_destination
from tests.test_ops import child_env, invoke, published, write_config

ROOT = Path(__file__).resolve().parent.parent
HARD_LIMIT = 60  # seconds: a test-level timeout for anything that could hang (a run takes about 1 s)


@pytest.fixture
def site(site_dir: Path) -> Path:
    """seeds/ (the seed page: 6 items) and a source-only syndicate.toml; the target is feeds/."""
    write_config(site_dir)
    return site_dir


def run(site: Path, *args: str | Path) -> tuple[int, str, str]:
    return invoke("publish", "--config", site / "syndicate.toml", *args)


def run_process(site: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``syndicate publish`` in its own process, killed after HARD_LIMIT seconds (a hang fails the test)."""
    command = [sys.executable, "-m", "syndicate", "publish", "--config", str(site / "syndicate.toml"), *map(str, args)]
    return subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=HARD_LIMIT, cwd=site)


def snapshot(root: Path) -> dict[str, object]:
    """Every path under root (the tool's state included) -> bytes' hash, inode, mtime; dirs and links marked."""
    tree: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            tree[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            tree[rel] = "dir"
        else:
            st = path.stat()
            tree[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), st.st_ino, st.st_mtime_ns)
    return tree


def feed_text(site: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted((site / "feeds").rglob("*.xml")))


def one_line(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    for line in stderr.splitlines():
        assert line.startswith("syndicate: "), f"not a syndicate line (forged or a traceback?): {line!r}"


# -- 1. a FIFO or a device in the sources -------------------------------------


def test_1_a_fifo_in_the_sources_is_skipped_with_a_warning_never_opened(site: Path) -> None:
    os.mkfifo(site / "seeds" / "p.md")
    done = run_process(site)  # before the fix: blocked in open() forever, holding the lock
    assert done.returncode == ExitCode.OK, done.stderr
    assert "seeds/p.md: skipped: not a regular file (a FIFO); never opened" in done.stderr
    one_line(done.stderr)
    assert done.stdout.startswith("published 6 items (en 6)")
    again = run_process(site)  # the lock was released: the next cron run is not exit 5
    assert again.returncode == ExitCode.OK, again.stderr


def test_1_a_symlink_to_dev_zero_is_skipped_not_read_without_bound(site: Path) -> None:
    (site / "seeds" / "z.md").symlink_to("/dev/zero")
    done = run_process(site)
    assert done.returncode == ExitCode.OK, done.stderr
    assert "seeds/z.md: skipped: symlink to /dev/zero, outside the source directories" in done.stderr


def test_1_reading_a_fifo_directly_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "p.md"
    os.mkfifo(fifo)
    signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(HARD_LIMIT)  # the test-level timeout: open() of a FIFO without O_NONBLOCK never returns
    try:
        with pytest.raises(UnreadableSource, match=r"not a regular file \(a FIFO\)"):
            read_source(fifo, 1000)
    finally:
        signal.alarm(0)


def _timeout(signum: int, frame: object) -> None:
    raise TimeoutError("hung: the FIFO was opened blocking")


# -- 2. symlinks leading outside the sources ----------------------------------


def test_2_a_symlink_to_a_secret_outside_the_sources_is_never_published(site: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "shadow.md"
    secret.parent.mkdir()
    secret.write_text("---\ntitle: root:$6$SECRETHASH\n---\n\nroot:$6$SECRETHASH:19000:0:99999:7:::\n")
    (site / "seeds" / "x.md").symlink_to(secret)
    (site / "seeds" / "s.txt").symlink_to("/proc/self/status")
    code, out, err = run(site)
    assert code == ExitCode.OK, err
    assert f"seeds/x.md: skipped: symlink to {secret}, outside the source directories" in err
    assert "seeds/s.txt: skipped: symlink to /proc/" in err
    assert "SECRETHASH" not in feed_text(site) and "VmRSS" not in feed_text(site)
    assert out.startswith("published 6 items (en 6)")


def test_2_a_symlink_inside_the_sources_is_followed(site: Path) -> None:
    extra = site / "seeds" / "drafts"
    extra.mkdir()
    (extra / "real.md").write_text("---\ntitle: Linked story\ndate: 2025-04-15T09:00:00Z\n---\n\nText.\n")
    (site / "seeds" / "link.md").symlink_to(extra / "real.md")
    code, _, err = run(site)
    assert code == ExitCode.OK and err == ""
    assert "Linked story" in feed_text(site)


def test_2_a_symlink_into_another_source_root_is_followed(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (second / "b.md").write_text("---\ntitle: From the second root\ndate: 2025-04-15T09:00:00Z\n---\n\nText.\n")
    (first / "a.md").symlink_to(second / "b.md")
    result = read_articles(SourceOptions(paths=(first,)), "en")
    assert result.articles == () and result.files == 0  # outside the only root: skipped
    result = read_articles(SourceOptions(paths=(first, second)), "en")
    assert result.errors == () and [a.title for a in result.articles] == ["From the second root"]


def test_2_a_directory_symlink_leading_out_is_named(site: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "a.md").write_text("---\ntitle: Not ours\n---\n\nText.\n")
    (site / "seeds" / "more").symlink_to(tmp_path / "elsewhere")
    code, _, err = run(site)
    assert code == ExitCode.OK
    assert "seeds/more: skipped: symlink to a directory outside the source directories" in err
    assert "Not ours" not in feed_text(site)


# -- 3. the size limit is checked before reading ------------------------------


LIMITED_READ = """
import resource, sys
from pathlib import Path
from syndicate.config import SourceOptions
from syndicate.sources import read_articles
resource.setrlimit(resource.RLIMIT_AS, (400 * 2**20, 400 * 2**20))  # reading 1 GB would fail here
result = read_articles(SourceOptions(paths=(Path(sys.argv[1]),), max_bytes=5_000_000), "en")
print([str(e) for e in result.errors])
"""


def test_3_a_1_gb_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "in" / "big.txt"
    big.parent.mkdir()
    with open(big, "wb") as fh:
        fh.truncate(2**30)  # sparse: 1 GiB of size, no disk used
    done = subprocess.run(
        [sys.executable, "-c", LIMITED_READ, str(big.parent)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=HARD_LIMIT,
    )
    assert done.returncode == 0, done.stderr  # before the fix: MemoryError under a 400 MB address space
    assert f"{big}: file too large (1073741824 bytes; the limit is 5000000)" in done.stdout


def test_3_reads_are_bounded_even_when_the_size_lies(tmp_path: Path) -> None:
    # /proc files say size 0 and hold more: the read stops at the limit plus one byte.
    with pytest.raises(UnreadableSource, match=r"file too large \(more than 100 bytes"):
        read_source(Path("/proc/self/maps"), 100)
    ok = tmp_path / "ok.txt"
    ok.write_bytes(b"x" * 100)
    assert read_source(ok, 100) == b"x" * 100


# -- 4. tracebacks instead of one-line errors ---------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (b"\xff.md", b"", r"seeds/\xff.md: empty file"),
        (b"u.md", b'---\ntitle: T\nurl: "http://[::1"\n---\n\nText.\n', "seeds/u.md: invalid link 'http://[::1'"),
        (b"deep.json", b"[" * 100_000 + b"]" * 100_000, "seeds/deep.json: invalid JSON: nested too deeply"),
        (
            b"big.json",
            b'{"title": "T", "n": ' + b"7" * 5000 + b"}",
            "seeds/big.json: invalid JSON: a number is too long",
        ),
    ],
)
def test_4_bad_input_is_exit_3_with_one_line_and_the_rest_published(
    site: Path, name: bytes, content: bytes, message: str
) -> None:
    Path(os.fsdecode(os.fsencode(site / "seeds") + b"/" + name)).write_bytes(content)
    code, out, err = run(site)
    assert code == ExitCode.INPUT, err  # before the fix: exit 1 and a traceback
    one_line(err)
    assert message in err
    assert out.startswith("published 6 items (en 6)")


def test_4_a_good_article_with_a_non_utf8_name_is_published(site: Path) -> None:
    path = Path(os.fsdecode(os.fsencode(site / "seeds") + b"/caf\xe9.md"))
    path.write_text("---\ntitle: Latin-1 named\ndate: 2025-04-15T09:00:00Z\n---\n\nText.\n")
    code, _, err = run(site)
    assert (code, err) == (ExitCode.OK, ""), err
    assert "Latin-1 named" in feed_text(site)
    assert run(site)[0] == ExitCode.OK  # the parse cache and the fingerprint take the name too


def test_4_site_url_that_is_not_a_url_is_exit_2(site: Path) -> None:
    code, _, err = run(site, "--base-url", "http://[::1")
    assert code == ExitCode.USAGE
    assert err == "syndicate: error: site URL is not a valid URL (Invalid IPv6 URL): 'http://[::1'\n"
    config = site / "syndicate.toml"
    config.write_text(config.read_text().replace('url = "https://news.example.org/"', 'url = "http://[::1"'))
    code, _, err = run(site)
    assert code == ExitCode.USAGE and len(err.splitlines()) == 1 and "Invalid IPv6 URL" in err


# -- 5. a failure in the replace phase leaves the target as it was -------------


def _publish_then_change(site: Path) -> Path:
    assert run(site)[0] == ExitCode.OK
    page = next((site / "seeds").glob("*.txt"))
    page.write_text(page.read_text().replace("Lavrov", "Lavrov (updated)", 1))
    return site / "feeds"


def test_5_an_immutable_feed_gives_exit_4_and_a_byte_identical_target(site: Path) -> None:
    target = _publish_then_change(site)
    victim = target / "en" / "rss.xml"
    if subprocess.run(["chattr", "+i", str(victim)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        before = snapshot(target)
        before.pop(".syndicate/status.json")
        code, out, err = run(site)
        after = snapshot(target)
        after.pop(".syndicate/status.json")
    finally:
        subprocess.run(["chattr", "-i", str(victim)], check=True)
    assert code == ExitCode.PUBLISH_FAILED, (out, err)
    one_line(err)
    assert "en/rss.xml: cannot write: Operation not permitted" in err
    assert "files already replaced were restored: the target is as it was" in err
    assert after == before  # bytes, inodes and mtimes: the pages replaced before rss.xml are back
    report = check_status(target, max_age=None)
    assert report.exit_code == ExitCode.PUBLISH_FAILED
    assert report.problems[0].startswith("last run failed (exit 4), nothing was published: ")  # now true
    code, out, err = run(site)
    assert code == ExitCode.OK and "Lavrov (updated)" in feed_text(site)


@pytest.fixture
def failing_replace(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """os.replace into the target fails with EACCES at the Nth call (state files are spared)."""
    real = os.replace
    plan: dict[str, Any] = {"at": 0, "calls": 0, "always_after": False}

    def replace(src: Any, dst: Any, **fds: Any) -> None:
        if ".syndicate" not in str(replace_destination(dst, fds.get("dst_dir_fd"))):
            plan["calls"] += 1
            if plan["calls"] == plan["at"] or (plan["always_after"] and plan["calls"] > plan["at"]):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dst))
        real(src, dst, **fds)

    monkeypatch.setattr(os, "replace", replace)
    yield plan


def test_5_eacces_at_every_replace_leaves_the_target_as_it_was(site: Path, failing_replace: dict[str, Any]) -> None:
    target = _publish_then_change(site)
    n = 0
    while True:
        n += 1
        failing_replace.update(at=n, calls=0)
        before = snapshot(target)
        before.pop(".syndicate/status.json", None)
        code, _, err = run(site)
        if failing_replace["calls"] < n:  # fewer replaces than n: every one has failed once
            assert code == ExitCode.OK, err
            break
        assert code == ExitCode.PUBLISH_FAILED, (n, err)
        assert "Permission denied" in err and err.rstrip().endswith("the target is as it was"), err
        after = snapshot(target)
        after.pop(".syndicate/status.json")
        assert after == before, n
    assert n > 3
    assert "Lavrov (updated)" in feed_text(site)


def test_5_when_rolling_back_fails_too_status_says_the_target_changed_and_the_next_run_restores_it(
    site: Path, failing_replace: dict[str, Any]
) -> None:
    target = _publish_then_change(site)
    old = published(target)
    failing_replace.update(at=3, calls=0, always_after=True)  # the 3rd replace fails, and every restore
    code, _, err = run(site)
    assert code == ExitCode.PUBLISH_FAILED
    assert "rolling back failed for" in err and "the next run restores it" in err
    status = Status.load(target)
    assert status is not None and status.target_changed and status.outcome == "failed"
    problem = check_status(target, max_age=None).problems[0]
    assert problem.startswith("last run failed (exit 4) and left the target changed")
    assert "nothing was published" not in problem
    failing_replace.update(at=0, always_after=False)
    recover(target)  # what the next run does first, under the lock
    assert published(target) == old
    state = sorted(p.name for p in (target / ".syndicate").iterdir())
    assert state == ["lock", "manifest.json", "stamps", "status.json"]
    assert run(site)[0] == ExitCode.OK and "Lavrov (updated)" in feed_text(site)


KILL_AT_REPLACE = """
import os, signal, sys
from syndicate.cli import main
n, real, count = int(sys.argv[1]), os.replace, [0]
def replace(src, dst, **fds):
    real(src, dst, **fds)
    where = os.readlink(f"/proc/self/fd/{fds['dst_dir_fd']}") if "dst_dir_fd" in fds else str(dst)
    if ".syndicate" not in where:
        count[0] += 1
        if count[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)  # killed right after the nth file was replaced
os.replace = replace
sys.argv = ["syndicate", *sys.argv[2:]]
main()
"""


def test_5_a_run_killed_mid_replace_is_rolled_back_by_the_next_run(site: Path) -> None:
    target = _publish_then_change(site)
    old = published(target)
    (site / "seeds" / "new.md").write_text("---\ntitle: Added story\ndate: 2025-04-16T09:00:00Z\n---\n\nText.\n")
    args = ["publish", "--config", str(site / "syndicate.toml"), "--quiet"]
    for n in (1, 4, 8):
        killed = subprocess.run(
            [sys.executable, "-c", KILL_AT_REPLACE, str(n), *args],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=HARD_LIMIT,
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert (target / ".syndicate" / "journal.json").is_file()
        assert published(target) != old  # half replaced: what the journal is for
        with publish_module.target_lock(target):  # the next run's first step, alone
            pass
        assert published(target) == old, n  # rolled back: the old complete publish
        assert not (target / ".syndicate" / "journal.json").exists()
    code, _, err = run(site)
    assert code == ExitCode.OK, err
    assert "Added story" in feed_text(site) and "Lavrov (updated)" in feed_text(site)
    assert validate_target(target) == []


# -- 6. unsafe configuration ---------------------------------------------------


def test_6_an_unsafe_site_url_is_a_config_error(site: Path) -> None:
    code, _, err = run(site, "--base-url", 'https://ex.org/a b"<x>')
    assert code == ExitCode.USAGE
    assert err.startswith("syndicate: error: site URL must not contain spaces, quotes or angle brackets")


def test_6_site_url_is_normalised(site: Path) -> None:
    assert run(site, "--base-url", "HTTPS://News.Example.ORG:443/world")[0] == ExitCode.OK
    rss = (site / "feeds" / "en" / "rss.xml").read_text()
    assert "<link>https://news.example.org/world/en/index.html</link>" in rss


def test_6_site_description_markup_reaches_readers_as_text(site: Path) -> None:
    payload = '<img src=x onerror="alert(1)">Desk'
    config = site / "syndicate.toml"
    text = config.read_text()
    text = re.sub(r"(?m)^description = .*$", lambda _: f"description = '{payload}'", text)
    config.write_text(text)
    assert run(site)[0] == ExitCode.OK
    target = site / "feeds"
    rss = etree.parse(str(target / "en" / "rss.xml")).getroot()
    html_text = rss.findtext("channel/description")  # readers take it as HTML
    fragment = lxml.html.fragment_fromstring(html_text, create_parent="div")
    assert fragment.findall(".//img") == [] and fragment.text_content() == payload
    atom = feedparser.parse((target / "en" / "atom.xml").read_bytes())
    assert atom.feed.subtitle_detail.type == "text/plain" and atom.feed.subtitle == payload
    parsed_rss = feedparser.parse((target / "en" / "rss.xml").read_bytes())
    assert "<img" not in parsed_rss.feed.subtitle  # feedparser keeps the escaped text, not an element
    assert validate_target(target) == []


def test_6_validate_flags_unsafe_urls_and_markup_in_channel_fields(site: Path) -> None:
    assert run(site)[0] == ExitCode.OK
    target = site / "feeds"
    rss = target / "en" / "rss.xml"
    text = rss.read_text()
    text = re.sub(
        r"<description>[^<]*</description>",
        "<description>&lt;img src=x onerror=alert(1)&gt;</description>",
        text,
        count=1,
    )
    rss.write_text(
        text.replace("https://news.example.org/en/index.html</link>", 'https://news.example.org/a b"/</link>', 1)
    )
    problems = [str(p) for p in validate_target(target)]
    assert any("en/rss.xml: channel <description> holds markup ('<img src=x onerror" in p for p in problems), problems
    assert any("channel <link>" in p and "holds ' '" in p for p in problems), problems


# -- 7. writes through symlinks inside the target ------------------------------


def test_7_a_symlinked_directory_inside_the_target_is_never_written_through(site: Path, tmp_path: Path) -> None:
    target = _publish_then_change(site)
    outside = tmp_path / "outside"
    shutil.copytree(target / "en" / "articles", outside)
    shutil.rmtree(target / "en" / "articles")
    (target / "en" / "articles").symlink_to(outside)
    before_outside, before = snapshot(outside), snapshot(target)
    before.pop(".syndicate/status.json")
    code, _, err = run(site)
    assert code == ExitCode.PUBLISH_FAILED
    assert f"{target}/en/articles is a symlink (never written through)" in err
    assert snapshot(outside) == before_outside
    after = snapshot(target)
    after.pop(".syndicate/status.json")
    assert after == before


def test_7_a_directory_swapped_for_a_symlink_during_the_run_is_not_followed(tmp_path: Path) -> None:
    target, outside = tmp_path / "site", tmp_path / "outside"
    outside.mkdir()
    publish({"index.html": b"top", "en/articles/a.html": b"a"}, target)

    def outputs() -> Iterator[tuple[str, None, bytes]]:
        yield "en/articles/a.html", None, b"a, changed"  # the parents are checked here ...
        (target / "en" / "articles").rename(tmp_path / "moved")
        (target / "en" / "articles").symlink_to(outside)  # ... and swapped before the replace phase
        yield "index.html", None, b"top, changed"

    with pytest.raises(PublishError, match=r"en/articles: is a symlink: never written through"):
        publish_module.publish_stream(outputs(), target)
    assert list(outside.iterdir()) == []
    assert (target / "index.html").read_bytes() == b"top"  # rolled back (pages go first)


def test_7_stale_files_are_never_removed_through_a_symlink(tmp_path: Path) -> None:
    target, outside = tmp_path / "site", tmp_path / "outside"
    publish({"index.html": b"top", "de/articles/a.html": b"a"}, target)
    outside.mkdir()
    (outside / "a.html").write_bytes(b"someone else's")
    shutil.rmtree(target / "de" / "articles")
    (target / "de" / "articles").symlink_to(outside)
    publish({"index.html": b"top"}, target)  # de/articles/a.html is stale now
    assert (outside / "a.html").read_bytes() == b"someone else's"


# -- 8. messages that could be forged or mislead ------------------------------


def test_4_damaged_state_and_feeds_nested_deeply_are_one_line_problems(site: Path) -> None:
    assert run(site)[0] == ExitCode.OK
    target = site / "feeds"
    deep = b"[" * 100_000 + b"]" * 100_000
    (target / "en" / "feed.json").write_bytes(deep)
    problems = [str(p) for p in validate_target(target)]
    assert "en/feed.json: not valid JSON: maximum recursion depth exceeded while decoding a JSON array" in problems[0]
    (target / ".syndicate" / "manifest.json").write_bytes(deep)  # counts as no manifest: every file compared
    (target / ".syndicate" / "status.json").write_bytes(b'{"exit_code": ' + b"1" * 5000 + b"}")
    code, out, err = run(site)
    assert (code, err) == (ExitCode.OK, ""), err
    assert "1 written" in out  # only the damaged feed.json
    (target / ".syndicate" / "journal.json").write_bytes(deep)
    code, _, err = run(site)
    assert code == ExitCode.PUBLISH_FAILED
    journal = target / ".syndicate" / "journal.json"
    assert err == f"syndicate: error: {journal}: cannot read the journal of an interrupted publish: not JSON\n"


def test_8_a_newline_in_a_file_name_cannot_forge_a_log_line(site: Path) -> None:
    (site / "seeds" / "a\nsyndicate: error: forged.md").write_bytes(b"")
    code, _, err = run(site)
    assert code == ExitCode.INPUT
    assert err == "syndicate: error: " + str(site / "seeds") + "/a\\nsyndicate: error: forged.md: empty file\n"


@pytest.mark.parametrize(
    ("char", "name"),
    [("\ud800", "surrogate U+D800"), ("\ufffe", "noncharacter U+FFFE"), ("\x07", "control character U+0007")],
)
def test_8_forbidden_characters_are_named_by_their_kind(tmp_path: Path, char: str, name: str) -> None:
    escaped = json.dumps({"title": f"Bad {char} title"})  # \ud800 travels as a JSON escape
    (tmp_path / "a.json").write_text(escaped)
    result = read_articles(SourceOptions(paths=(tmp_path,)), "en")
    assert [str(e) for e in result.errors] == [f"{tmp_path}/a.json:1: {name} is not allowed in XML"]


def test_8_a_symlink_loop_is_called_one(site: Path) -> None:
    (site / "seeds" / "l1.md").symlink_to("l2.md")
    (site / "seeds" / "l2.md").symlink_to("l1.md")
    code, _, err = run(site)
    assert code == ExitCode.OK
    assert "seeds/l1.md: skipped: symlink: symlink loop (too many levels of symbolic links)" in err
    code, _, err = run(site, site / "seeds" / "l1.md")
    assert code == ExitCode.INPUT
    assert err.endswith("seeds/l1.md: symlink loop (too many levels of symbolic links)\n")
    assert "No such file" not in err


def test_8_an_instant_out_of_range_does_not_blame_a_year_inside_the_range(site: Path) -> None:
    (site / "seeds" / "old.md").write_text("---\ntitle: Old\ndate: 0001-01-01T00:00:00+01:00\n---\n\nText.\n")
    code, _, err = run(site)
    assert code == ExitCode.INPUT
    assert "0001-01-01T00:00:00+01:00 cannot be represented in UTC and every timezone" in err
    assert "years 1 to 9999" not in err


def test_8_file_names_are_escaped_unambiguously() -> None:
    assert shown_name(b"a/\xff\\x.md") == "a/\\xff\\\\x.md"
    assert shown_name("tab\tbell\x07rlo\u202e.md") == "tab\\tbell\\x07rlo\\u202e.md"
    assert shown_name("café 😀.md") == "café 😀.md"


# -- 11. no wall-clock speed assertions ----------------------------------------

TIMING = re.compile(r"monotonic\(\)|perf_counter\(\)|elapsed|_seconds\b")


def test_11_no_test_asserts_wall_clock_speed() -> None:
    """Speed belongs in benchmarks/: a time bound in a test is only a deadline that cuts
    a hang, with at least 5x slack, and says so ("slack", any case) on its line."""
    offenders = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare):
                text = ast.get_source_segment(source, node) or ""
                line = source.splitlines()[node.lineno - 1]
                bound = any(isinstance(op, ast.Lt | ast.LtE) for op in node.test.ops)
                if TIMING.search(text) and bound and "slack" not in line.lower():
                    offenders.append(f"{path.name}:{node.lineno}: {line.strip()}")
    assert offenders == []


# -- 12. wrong types in JSON ----------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"title": 5, "content_text": "Text."}, "title must be text (a string), not a number"),
        ({"title": "T", "content_text": {"a": 1}}, "content_text must be a string or a list of strings, not dict"),
        ({"title": "T", "content_text": ["a", 2]}, "content_text must be a string or a list of strings, not list"),
        ({"title": "T", "content_html": 7}, "content_html must be a string, not int"),
        ({"title": ["T"], "content_text": "x"}, "title must be text (a string), not a list"),
        ({"title": "T", "url": True, "content_text": "x"}, "url must be text (a string), not true/false"),
    ],
)
def test_12_wrong_json_types_are_errors_never_dropped(tmp_path: Path, doc: dict[str, Any], message: str) -> None:
    (tmp_path / "a.json").write_text(json.dumps(doc))
    result = read_articles(SourceOptions(paths=(tmp_path,)), "en")
    assert [str(e) for e in result.errors] == [f"{tmp_path}/a.json: {message}"]
    assert result.articles == ()


def test_12_a_year_as_a_tag_is_still_a_tag(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: T\ndate: 2025-01-01\ntags: [2024, harbour]\n---\n\nText.\n")
    (article,) = read_articles(SourceOptions(paths=(tmp_path,)), "en").articles
    assert article.tags == ("2024", "harbour")


def test_target_changed_error_is_a_publish_error() -> None:
    assert issubclass(TargetChangedError, PublishError)
    assert TargetChangedError("x").exit_code == ExitCode.PUBLISH_FAILED
