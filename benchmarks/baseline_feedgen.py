"""Baseline for scenario (a): plain feedgen writing RSS and Atom for the same items.

``prepare`` (untimed) reads the article set through syndicate's own readers
and translation stage (with the already warm segment cache, so no engine
runs) and stores, per language, every item as it appears in syndicate's
feeds: id, title, page link, summary, full content HTML (dateline, body,
translation note) and dates.  ``write`` then loads those lists (untimed)
and times only the most straightforward feedgen usage: one
``FeedGenerator`` per language, ``add_entry(order="append")`` for every
item, ``rss_file`` and ``atom_file``.  It prints the timed seconds as JSON;
the caller measures the process's peak memory.

    .venv/bin/python benchmarks/baseline_feedgen.py prepare --config FILE --items items.json
    .venv/bin/python benchmarks/baseline_feedgen.py write --items items.json --out DIR
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import editions_from_config, write_json


def items_from_editions(site: Any, editions: list[Any]) -> list[dict[str, Any]]:
    """Per language: feed metadata and every item, newest first, as plain data."""
    from syndicate.render import html

    feeds = []
    for edition in editions:
        lang = edition.language
        items = [
            {
                "id": article.id,
                "title": article.title,
                "link": html.article_url(site, lang, article.slug),
                "summary": article.summary,
                "content": html.item_content_html(site, article),
                "published": article.published.isoformat(),
                "updated": article.modified.isoformat(),
                "category": article.category,
            }
            for article in edition.articles
        ]
        feeds.append(
            {
                "language": lang,
                "title": edition.title,
                "description": edition.description or edition.title,
                "link": html.index_url(site, lang),
                "rss": html.feed_url(site, lang, "rss"),
                "atom": html.feed_url(site, lang, "atom"),
                "items": items,
            }
        )
    return feeds


def generator(feed: dict[str, Any]) -> Any:
    """The plain feedgen FeedGenerator a user would build for one feed (no fixes, no extras)."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(feed["link"])
    fg.title(feed["title"])
    fg.description(feed["description"])
    fg.language(feed["language"])
    fg.link(href=feed["atom"], rel="self")
    fg.link(href=feed["link"], rel="alternate")
    for item in feed["items"]:
        fe = fg.add_entry(order="append")
        fe.id(item["id"])
        fe.title(item["title"])
        fe.link(href=item["link"])
        fe.summary(item["summary"])
        fe.content(item["content"], type="html")
        fe.published(item["published"])
        fe.updated(item["updated"])
        if item["category"]:
            fe.category(term=item["category"])
    if feed["items"]:
        fg.updated(feed["items"][0]["updated"])
    return fg


def write_feeds(feeds: list[dict[str, Any]], out: Path) -> None:
    """The timed part: plain feedgen, RSS and Atom for every language and item."""
    for feed in feeds:
        directory = out / feed["language"]
        directory.mkdir(parents=True, exist_ok=True)
        fg = generator(feed)
        fg.rss_file(str(directory / "rss.xml"))
        fg.atom_file(str(directory / "atom.xml"))


def _load(path: Path) -> list[dict[str, Any]]:
    feeds: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    for feed in feeds:  # datetimes, so that parsing is not part of the timed writing
        for item in feed["items"]:
            item["published"] = datetime.fromisoformat(item["published"])
            item["updated"] = datetime.fromisoformat(item["updated"])
    return feeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="build the item lists (untimed)")
    prep.add_argument("--config", type=Path, required=True)
    prep.add_argument("--items", type=Path, required=True)
    prep.add_argument("--hugo-site", type=Path, help="also write the Hugo site of the same items here")
    write = sub.add_parser("write", help="time plain feedgen writing RSS and Atom")
    write.add_argument("--items", type=Path, required=True)
    write.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    if args.command == "prepare":
        site, editions = editions_from_config(args.config)
        feeds = items_from_editions(site, editions)
        write_json(args.items, feeds)
        if args.hugo_site:
            from hugo_site import write_site

            write_site(args.hugo_site, site, editions)
        print(json.dumps({"languages": len(feeds), "items": sum(len(f["items"]) for f in feeds)}))
        return
    feeds = _load(args.items)
    import feedgen.feed  # noqa: F401  (the import is not part of the timed writing)

    started = time.perf_counter()
    write_feeds(feeds, args.out)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "items": sum(len(f["items"]) for f in feeds)}))


if __name__ == "__main__":
    main()
