"""Baseline for row (a): the script a user would write instead of syndicate, as a whole process.

It reads every Markdown file under ``--articles`` with a front-matter library
(python-frontmatter), renders each body with markdown-it-py, and writes one
RSS and one Atom feed of every article, newest first, with feedgen: the
tutorial-style script.  syndicate's counterpart is ``syndicate publish`` on
the same files with no translation, ``output.pages = false`` and
``formats = ["rss", "atom"]`` (it also writes the edition index page and
OPML).  The caller times the whole process (start-up and imports included,
as for syndicate) and measures its peak memory.

    .venv/bin/python benchmarks/user_script.py --articles DIR --out DIR [--url URL]
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--url", default="https://news.example.org/")
    parser.add_argument("--title", default="World Desk")
    args = parser.parse_args()

    import frontmatter
    from feedgen.feed import FeedGenerator
    from markdown_it import MarkdownIt

    md = MarkdownIt()
    posts = []
    for path in sorted(args.articles.rglob("*.md")):
        post = frontmatter.load(str(path))
        when = post["date"]
        if not isinstance(when, datetime):
            when = datetime.fromisoformat(str(when))
        body = md.render(post.content)
        summary = post.content.strip().split("\n\n", 1)[0]
        categories = post.get("categories") or []
        posts.append((when, str(post["title"]), body, summary, path.stem, categories))
    posts.sort(key=lambda p: p[0], reverse=True)

    fg = FeedGenerator()
    fg.id(args.url)
    fg.title(args.title)
    fg.description(args.title)
    fg.language("en")
    fg.link(href=args.url, rel="alternate")
    fg.link(href=args.url + "atom.xml", rel="self")
    for when, title, body, summary, slug, categories in posts:
        fe = fg.add_entry(order="append")
        link = f"{args.url}{slug}.html"
        fe.id(link)
        fe.title(title)
        fe.link(href=link)
        fe.summary(summary)
        fe.content(body, type="html")
        fe.published(when)
        fe.updated(when)
        for category in categories:
            fe.category(term=str(category))
    if posts:
        fg.updated(posts[0][0])
    args.out.mkdir(parents=True, exist_ok=True)
    fg.rss_file(str(args.out / "rss.xml"), pretty=True)
    fg.atom_file(str(args.out / "atom.xml"), pretty=True)
    print(json.dumps({"items": len(posts)}))


if __name__ == "__main__":
    main()
