"""Scenario (a'): syndicate's own stages writing RSS and Atom files and nothing else.

``syndicate publish`` with ``formats = ["rss", "atom"]`` still writes the
edition index pages and OPML (and, without ``output.pages = false``, every
article page).  This script runs the same stages through the library (read
with syndicate's readers, translate through the warm segment cache, build
the editions, render each edition with ``render_rss`` / ``render_atom``) and
publishes just those files with ``syndicate.publish.publish`` (atomic,
manifest) into ``--out``: the cost of the feeds alone, the closest thing to
the plain-feedgen baseline.

    .venv/bin/python benchmarks/feeds_only.py --config FILE --out DIR
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import editions_from_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from syndicate.config import load_config
    from syndicate.render import html, render_atom, render_rss

    config = load_config(args.config)
    site, editions = editions_from_config(args.config)
    files: dict[str, bytes] = {}
    for edition in editions:
        newest = dataclasses.replace(edition, articles=edition.articles[: config.max_items])
        siblings = [e.language for e in editions if e.language != edition.language]
        files[html.feed_path(edition.language, "rss")] = render_rss(site, newest, siblings)
        files[html.feed_path(edition.language, "atom")] = render_atom(site, newest, siblings)
    getattr(html, "clear_content_memo", lambda: None)()
    _publish(files, args.out)
    print(f"{len(files)} feeds, {sum(len(e.articles) for e in editions)} items")


def _publish(files: dict[str, bytes], target: Path) -> None:
    """syndicate's atomic publish when its signature fits, else plain writes."""
    try:
        from syndicate.publish import publish, target_lock

        with target_lock(target):
            publish(files, target)
    except TypeError:
        for rel, data in files.items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


if __name__ == "__main__":
    main()
