"""Where a full build's time and memory go, stage by stage, without a profiler's overhead.

Runs the stages of ``syndicate publish`` in this process (read, translate
through the segment cache, build editions, render, publish into an empty
``--out``) and prints, per stage, the wall time and the process's peak RSS
after it (``ru_maxrss``: it only grows, so the step shows what the stage
added).  Where syndicate streams rendered files into the publisher, the
render runs twice: alone (bytes dropped), then streamed into ``publish``
as the CLI does; the difference is the cost of publishing.  Point it at a
config whose translation cache is warm (e.g. a ``benchmarks/run.py
--workdir`` directory) to see a warm full build:

    .venv/bin/python benchmarks/stages.py --config WORKDIR/syndicate.toml --out /tmp/stages-out
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ensure_importable

ensure_importable()


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    rows: list[tuple[str, float, float]] = []
    started = time.perf_counter()

    def step(name: str, since: float) -> float:
        now = time.perf_counter()
        rows.append((name, now - since, _peak_mib()))
        return now

    t = time.perf_counter()
    from syndicate import publish as publishing
    from syndicate import render
    from syndicate.config import load_config
    from syndicate.pipeline import Stage, build_editions, read_inputs, translate_variants

    t = step("imports", t)
    config = load_config(args.config).with_overrides(target=args.out)
    articles, _ = read_inputs(config)
    t = step(f"read {len(articles)} articles", t)
    variants = translate_variants(config, articles, Stage())
    t = step(f"translate {len(variants)} languages (segment cache)", t)
    editions = build_editions(config.site, articles, variants)
    t = step("build editions", t)
    options: dict[str, Any] = {"formats": config.formats, "max_items": config.max_items}
    if hasattr(render, "iter_render") and hasattr(publishing, "publish_stream"):
        # The CLI's path: files are rendered one at a time and staged as they come.  Render
        # alone first (bytes dropped), then render + publish: the difference is publishing.
        count = size = 0
        for _path, _key, data in render.iter_render(config.site, editions, **options):
            count, size = count + 1, size + len(data or b"")
        t = step(f"render only: {count} files, {size / 2**20:.0f} MiB (streamed, dropped)", t)
        with publishing.target_lock(config.target):
            publishing.publish_stream(render.iter_render(config.site, editions, **options), config.target)
        step("render + publish, streamed (as `syndicate publish`)", t)
    else:
        files = render.render_site(config.site, editions, **options)
        held = sum(len(data) for data in files.values()) / 2**20
        t = step(f"render {len(files)} files ({held:.0f} MiB of bytes held)", t)
        with publishing.target_lock(config.target):
            publishing.publish(files, config.target)
        step("publish (stage, replace, manifest)", t)

    print("| stage | seconds | peak RSS after (MiB) |\n| --- | --- | --- |")
    for name, seconds, peak in rows:
        print(f"| {name} | {seconds:.2f} | {peak:.0f} |")
    print(f"| total | {time.perf_counter() - started:.2f} | {_peak_mib():.0f} |")


if __name__ == "__main__":
    main()
