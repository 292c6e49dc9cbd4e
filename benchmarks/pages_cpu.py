"""Page rendering CPU: every article page of every edition, in one process.

Starts from the prepared editions exactly as ``syndicate publish`` builds them
(read and translated through the warm caches, untimed), then renders every
article page (``html.article_page``) of every edition in memory, nothing
written, the way a render worker does: the item contents memo is kept within
an edition and cleared between editions (the feeds would share it), and the
memoized datelines are forgotten before each repeat.  Each repeat is timed
with ``time.process_time`` (CPU seconds of this process); the edition index
and section pages are timed separately (``listings``, rendered without a kept
line store: every item line through ``item.html``; the items' render keys are
memoized by the first repeat, as ``publish`` has them).  Prints JSON with the medians,
the per-page milliseconds and a digest of every page's bytes (equal digests
before and after a change: the same pages).  ``--profile FILE`` also writes
one repeat's cProfile of the article pages.

    PYTHONPATH=. .venv/bin/python benchmarks/pages_cpu.py --config WORKDIR/syndicate.toml [--repeat 3]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import editions_from_config


def article_pages(site: Any, editions: list[Any], formats: tuple[str, ...], theme: Any, digest: Any) -> int:
    """Render every article page of every edition; the number of pages."""
    from syndicate.render import _article_alternates, _group_key, html

    alternates = _article_alternates(site, editions)
    count = 0
    for edition in editions:
        for article in edition.articles:
            links = alternates.get(_group_key(article), {})
            page = html.article_page(site, edition, article, formats, links, editions, theme)
            if digest is not None:
                digest.update(page)
            count += 1
        html.clear_content_memo()
    return count


def listing_pages(
    site: Any, editions: list[Any], formats: tuple[str, ...], theme: Any, digest: Any, choice: Any = True
) -> int:
    """Render every edition index and section page, and the site index; the number of pages.

    The items' render keys are memoized after the first repeat (``publish`` has them from the
    article pages' render keys).
    """
    from syndicate.render import _article_key, html
    from syndicate.render.sections import sections_by_language

    sections = sections_by_language(editions, choice)
    count = 0
    for edition in editions:
        lang = edition.language
        own = sections.get(lang, [])
        keys = tuple(map(_article_key, edition.articles))
        pages = [html.edition_index_page(site, edition, editions, formats, theme, own, None, keys)]
        for section in own:
            siblings = [
                ed.language
                for ed in editions
                if ed.language != lang and any(s.slug == section.slug for s in sections.get(ed.language, ()))
            ]
            found = tuple(map(_article_key, section.edition.articles))
            pages.append(html.section_page(site, edition, section, editions, siblings, formats, theme, None, found))
        for page in pages:
            if digest is not None:
                digest.update(page)
        count += len(pages)
        html.clear_content_memo()
    page = html.site_index_page(site, editions, formats, theme=theme)
    if digest is not None:
        digest.update(page)
    return count + 1


def cold() -> None:
    """Forget what a fresh process has not computed yet: the memoized datelines."""
    from syndicate import localize
    from syndicate.render import html

    for module, name in ((localize, "format_dateline"), (localize, "_long_date"), (localize, "_short_time"),
                         (html, "_dateline")):  # fmt: skip
        cached = getattr(module, name, None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="write a cProfile of one repeat of the article pages here")
    args = parser.parse_args()

    from syndicate.config import load_config
    from syndicate.render import _prepare, _prepare_site, html
    from syndicate.render.theme import load_theme

    config = load_config(args.config)
    site, editions = editions_from_config(args.config)
    site, prepared = _prepare_site(site), _prepare(editions)
    formats = tuple(config.formats)
    theme = load_theme(config.theme)
    digests = {"articles": hashlib.sha256(), "listings": hashlib.sha256()}
    counts: dict[str, int] = {}
    times: dict[str, list[float]] = {"articles": [], "listings": []}
    for repeat in range(args.repeat):
        for name in ("articles", "listings"):
            digest = digests[name] if repeat == 0 else None
            html.clear_content_memo()
            cold()
            started = time.process_time()
            if name == "articles":
                counts[name] = article_pages(site, prepared, formats, theme, digest)
            else:
                counts[name] = listing_pages(site, prepared, formats, theme, digest, config.sections)
            times[name].append(time.process_time() - started)
    if args.profile:
        profile = cProfile.Profile()
        html.clear_content_memo()
        cold()
        profile.enable()
        article_pages(site, prepared, formats, theme, None)
        profile.disable()
        profile.dump_stats(str(args.profile))
    articles = statistics.median(times["articles"])
    print(
        json.dumps(
            {
                "article_pages": counts["articles"],
                "articles_cpu_s": round(articles, 3),
                "ms_per_article_page": round(1000 * articles / counts["articles"], 4),
                "listing_pages": counts["listings"],
                "listings_cpu_s": round(statistics.median(times["listings"]), 3),
                "all": {name: [round(t, 3) for t in found] for name, found in times.items()},
                "sha256": {name: d.hexdigest() for name, d in digests.items()},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
