"""Test helpers shared by several test modules (not fixtures)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest


def tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under root (including .syndicate/) -> (sha256, mtime_ns)."""
    result = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            result[path.relative_to(root).as_posix()] = (hashlib.sha256(data).hexdigest(), path.stat().st_mtime_ns)
    return result


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` really read-only: chmod for users, a read-only bind mount for root."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")] if p.is_dir()}
        for p in modes:
            p.chmod(0o555)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    if shutil.which("mount") is None:
        pytest.skip("mount is not available to make a read-only target")
    bind = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip(f"cannot bind-mount a read-only target here: {bind.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=False, capture_output=True)


def replace_destination(dst: Any, dst_dir_fd: int | None = None) -> Path:
    """The absolute path an ``os.replace(src, dst, dst_dir_fd=...)`` call writes (Linux /proc)."""
    if dst_dir_fd is None:
        return Path(dst)
    return Path(os.readlink(f"/proc/self/fd/{dst_dir_fd}")) / dst


def libre_site(tmp_path: Path, url: str, *, languages: Sequence[str] = ("es",), translation: str = "") -> Path:
    """A copy of the seeds and a config translating them through a LibreTranslate server at ``url``
    (no retries, a 10 s timeout, the segment cache in ``tmp_path``); ``translation`` adds lines to the
    ``[translation]`` table.  The config's path."""
    from tests.conftest import SEEDS

    shutil.copytree(SEEDS, tmp_path / "seeds")
    config = tmp_path / "syndicate.toml"
    config.write_text(
        f"""
[site]
title = "World Desk"
url = "https://news.example.org/"
description = "Diplomacy, security and the war in Ukraine, from our world desk."
timezone = "Europe/Moscow"
language = "en"

[sources]
paths = ["seeds"]

[sources.dates]
"000_5b913e3cde1239e1.txt" = "2025-04-14T10:46:00"

[translation]
languages = {json.dumps(list(languages))}
provider = "libre"
retries = 0
timeout = 10
cache = "cache.sqlite3"
{translation}

[translation.settings.libre]
url = "{url}"

[output]
target = "feeds"
""",
        encoding="utf-8",
    )
    return config


ROOT = Path(__file__).resolve().parent.parent


def run_fresh(cwd: Path, *args: str, entry: str = "launch") -> tuple[int, str, str, list[str]]:
    """``syndicate ARGS`` in a fresh interpreter through ``syndicate.<entry>.main`` (``launch``, what
    ``syndicate`` and ``python -m syndicate`` run, or ``cli``, the Typer app): its exit code, stdout,
    stderr (without the module list) and every module it imported."""
    script = (
        "import json, sys\n"
        f"sys.argv = ['syndicate', *{list(args)!r}]\n"
        f"from syndicate.{entry} import main\n"
        "code = 0\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "sys.stderr.write('\\n' + json.dumps({'code': code, 'modules': sorted(sys.modules)}) + '\\n')\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cwd / "xdg-cache"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    err, _, last = done.stderr.rstrip("\n").rpartition("\n")
    result = json.loads(last)
    return result["code"], done.stdout, err, result["modules"]
