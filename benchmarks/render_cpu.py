"""Rendering CPU: syndicate's RSS + Atom rendering against feedgen alone, on the same entries.

Both sides start from the same prepared editions (read and translated through
the warm caches, untimed) and make the RSS and Atom documents of every
edition in memory, nothing written.  syndicate's side is ``render_rss`` and
``render_atom`` (which build each item's content HTML: dateline, body,
translation note; the memo is cleared before each repeat); feedgen's side is
plain feedgen (``add_entry(order="append")`` with id, title, link, summary,
content, dates and category, then ``rss_str``/``atom_str`` with
``pretty=True``) on the item fields syndicate's feeds carry, content HTML
included, built beforehand.  Each side is timed with ``time.process_time``
(CPU seconds of this process), ``--repeat`` times, interleaved; the medians
are printed as JSON.

``--document N`` measures memory instead: the peak resident memory added by
rendering one RSS and one Atom (``--formats``: or JSON Feed) document of N items (the prepared articles
repeated under new slugs and ids until there are N; their content HTML built
beforehand, as the formats share it), from the kernel's high-water mark
(``VmHWM``, reset through ``/proc/self/clear_refs`` before each document), in
MiB, with the document's own size.  Memory freed by the first document is
reused by the second: measure one format per process (``--formats rss``)
for the honest figure of each.

    .venv/bin/python benchmarks/render_cpu.py --config FILE [--repeat 5]
    .venv/bin/python benchmarks/render_cpu.py --config FILE --document 10000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import editions_from_config


def ours(site: Any, editions: list[Any], max_items: int) -> int:
    from syndicate.render import html, render_atom, render_rss

    size = 0
    for edition in editions:
        newest = dataclasses.replace(edition, articles=edition.articles[:max_items])
        siblings = [e.language for e in editions if e.language != edition.language]
        size += len(render_rss(site, newest, siblings)) + len(render_atom(site, newest, siblings))
        html.clear_content_memo()
    return size


def entries(site: Any, editions: list[Any], max_items: int) -> list[dict[str, Any]]:
    from syndicate.render import html

    feeds = []
    for edition in editions:
        lang = edition.language
        items = [
            {
                "id": a.id,
                "title": a.title,
                "link": html.article_url(site, lang, a.slug),
                "summary": a.summary,
                "content": html.item_content_html(site, a),
                "published": a.published,
                "updated": a.modified,
                "category": a.category,
            }
            for a in edition.articles[:max_items]
        ]
        feeds.append(
            {
                "language": lang,
                "title": edition.title,
                "description": edition.description or edition.title,
                "link": html.index_url(site, lang),
                "atom": html.feed_url(site, lang, "atom"),
                "items": items,
            }
        )
        html.clear_content_memo()
    return feeds


def feedgen_alone(feeds: list[dict[str, Any]]) -> int:
    from baseline_feedgen import generator

    size = 0
    for feed in feeds:
        fg = generator(feed)
        size += len(fg.rss_str(pretty=True)) + len(fg.atom_str(pretty=True))
    return size


def _status(field: str) -> int:
    """A ``/proc/self/status`` memory field, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"render_cpu: no {field} in /proc/self/status (Linux only)")


def document_memory(site: Any, editions: list[Any], count: int, formats: list[str]) -> dict[str, Any]:
    import gc

    from syndicate.render import html, render_atom, render_rss
    from syndicate.render.jsonfeed import render_json_feed

    pool = [a for e in editions for a in e.articles]
    articles = tuple(
        pool[i % len(pool)].replace(slug=f"{pool[i % len(pool)].slug}-{i}", id=f"{pool[i % len(pool)].id}-{i}")
        for i in range(count)
    )
    edition = dataclasses.replace(editions[0], articles=articles)
    for article in articles:
        html.item_content_html(site, article)
    found: dict[str, Any] = {"items": count}
    for name in formats:
        render = {"rss": render_rss, "atom": render_atom, "json": render_json_feed}[name]
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size
        before = _status("VmRSS")
        size = len(render(site, edition))
        added = (_status("VmHWM") - before) / 1024
        found[name] = {"peak_added_mib": round(added, 1), "document_mib": round(size / 2**20, 1)}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--document", type=int, metavar="N", help="peak memory of one N-item RSS and Atom document")
    parser.add_argument("--formats", nargs="+", choices=["rss", "atom", "json"], default=["rss", "atom"])
    args = parser.parse_args()

    from syndicate.config import load_config
    from syndicate.render import _prepare, _prepare_site

    config = load_config(args.config)
    site, editions = editions_from_config(args.config)
    site, prepared = _prepare_site(site), _prepare(editions)
    if args.document:
        print(json.dumps(document_memory(site, prepared, args.document, args.formats)))
        return
    feeds = entries(site, prepared, config.max_items)
    times: dict[str, list[float]] = {"ours": [], "feedgen": []}
    sizes: dict[str, int] = {}
    for _ in range(args.repeat):
        for name, run in (
            ("ours", lambda: ours(site, prepared, config.max_items)),
            ("feedgen", lambda: feedgen_alone(feeds)),
        ):
            started = time.process_time()
            sizes[name] = run()
            times[name].append(time.process_time() - started)
    items = sum(len(f["items"]) for f in feeds)
    print(
        json.dumps(
            {
                "items": items,
                "ours": statistics.median(times["ours"]),
                "feedgen": statistics.median(times["feedgen"]),
                "all": times,
                "bytes": sizes,
            }
        )
    )


if __name__ == "__main__":
    main()
