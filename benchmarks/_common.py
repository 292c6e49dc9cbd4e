"""Shared by the benchmark scripts: paths, measuring a command, loading the editions.

Every timed run is a separate process.  Its wall time is taken here with
``time.perf_counter`` around the process; its peak memory is the maximum
resident set size of the process (and of any children it waited for), from
GNU ``/usr/bin/time -f %M`` when it exists, else from
``resource.getrusage(RUSAGE_CHILDREN)`` in a small wrapper process.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
PYTHON = Path(sys.executable)
GNU_TIME = "/usr/bin/time"

_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'{u.ru_maxrss} {u.ru_utime} {u.ru_stime}')\n"
    "sys.exit(rc)\n"
)


def syndicate_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m syndicate``."""
    script = PYTHON.parent / "syndicate"
    return [str(script)] if script.exists() else [str(PYTHON), "-m", "syndicate"]


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_kib: int
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system CPU of the process and its children

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024


def _gnu_time_works() -> bool:
    if not os.access(GNU_TIME, os.X_OK):
        return False
    try:
        done = subprocess.run([GNU_TIME, "-f", "%M", "true"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and done.stderr.strip().splitlines()[-1].isdigit()  # (-f %M: one number)


_USE_GNU_TIME: bool | None = None


def measure(
    command: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, check: bool = True
) -> Measured:
    """Run ``command``; its wall time (s) and peak RSS (KiB)."""
    global _USE_GNU_TIME
    if _USE_GNU_TIME is None:
        _USE_GNU_TIME = _gnu_time_works()
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        if _USE_GNU_TIME:
            wrapped = [GNU_TIME, "-q", "-f", "%M %U %S", "-o", report.name, *command]
        else:
            wrapped = [str(PYTHON), "-c", _WRAPPER, report.name, *command]
        started = time.perf_counter()
        done = subprocess.run(wrapped, cwd=cwd, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        text = Path(report.name).read_text().strip().splitlines()
    fields = text[-1].split() if text else []
    peak = int(fields[0]) if fields and fields[0].isdigit() else 0
    cpu = sum(float(f) for f in fields[1:3]) if len(fields) >= 3 else 0.0
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, command))} exited {done.returncode}:\n{done.stderr[-3000:]}{done.stdout[-2000:]}"
        )
    return Measured(seconds, peak, done.returncode, done.stdout, done.stderr, cpu)


def editions_from_config(config_path: Path) -> tuple[Any, list[Any]]:
    """(site, editions) exactly as ``syndicate publish`` builds them (warm cache: no engine runs): with
    the bodies (and, since issue 13's sixth round, the articles) in a spill file of the cache directory."""
    ensure_importable()
    from syndicate.bodies import spilling
    from syndicate.config import load_config
    from syndicate.pipeline import Stage, build_editions, read_inputs, translate_variants

    config = load_config(config_path)
    with spilling(config.build_cache_dir):  # the file lives as long as what is in it
        articles, _errors = read_inputs(config)
        variants = translate_variants(config, articles, Stage())
        return config.site, build_editions(config.site, articles, variants)


def ensure_importable() -> None:
    """Make ``syndicate`` importable: the installed one (or a snapshot on PYTHONPATH) wins."""
    if importlib.util.find_spec("syndicate") is None:
        sys.path.append(str(ROOT))


def machine() -> dict[str, str]:
    """What the results were measured on."""
    info = {"nproc": str(os.cpu_count() or "?"), "python": sys.version.split()[0]}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        total = next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
        info["memory"] = f"{int(total.split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    with contextlib.suppress(OSError):
        info["load"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if shutil.which("dpkg-query"):
        done = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "apertium"], capture_output=True, text=True)
        if done.returncode == 0:
            info["apertium"] = done.stdout.strip()
    return info


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
