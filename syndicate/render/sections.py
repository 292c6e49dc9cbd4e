"""Section feeds (DESIGN 9): one feed set and page per category of an edition.

A section is the set of an edition's articles whose category is the same
*source-language* category: a translated article belongs to the section of
its original's category, so "Economy" and its Spanish "Economía" are one
section whose slug, taken from the source-language name, is the same in
every language and from run to run.  Its localized name is the category as
the edition shows it (translated like every category).  Each section is
published under :func:`syndicate.formats.section_dir` as feeds in every
chosen format (with their RFC 5005 archives) and an ``index.html``.

``output.sections`` chooses them: ``true`` (every category), ``false``
(none), or a list of source-language category names or slugs.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from syndicate.models import Article, Edition
from syndicate.shelf import column, take
from syndicate.sources.common import slugify

SectionChoice = bool | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """One section of one edition: its stable slug, localized name and articles (as an Edition)."""

    slug: str
    name: str  # in the edition's language
    source_name: str  # the source-language category the slug comes from
    edition: Edition  # title "<name> | <edition title>", the section's articles newest first


def section_slug(name: str) -> str:
    """A stable slug of a source-language category name (``a-z0-9-``; a digest when it has no ASCII letters)."""
    words = slugify(name)
    return words or "section-" + hashlib.blake2b(name.strip().lower().encode(), digest_size=4).hexdigest()


def sections_by_language(editions: Sequence[Edition], choice: SectionChoice = True) -> dict[str, list[Section]]:
    """language -> its sections, sorted by slug; ``editions[0]`` is the source-language edition."""
    if choice is False or not editions:
        return {}
    original = _source_categories(editions[0])
    wanted = None if choice is True else {c.strip().lower() for c in choice} | {section_slug(c) for c in choice}
    result: dict[str, list[Section]] = {}
    slugs: dict[str, str] = {}  # source-language category -> its slug, computed once per name
    for edition in editions:
        groups: dict[str, list[int]] = {}  # slug -> the positions of its articles
        names: dict[str, tuple[str, str]] = {}
        articles = edition.articles
        heads = zip(column(articles, "categories"), column(articles, "groups"), strict=True)
        for index, (category, group) in enumerate(heads):
            if not category:
                continue
            source_name = original.get(group, category)
            slug = slugs.get(source_name) or slugs.setdefault(source_name, section_slug(source_name))
            if wanted is not None and slug not in wanted and source_name.strip().lower() not in wanted:
                continue
            groups.setdefault(slug, []).append(index)
            names.setdefault(slug, (category, source_name))  # the newest article's wording
        result[edition.language] = [
            Section(
                slug,
                names[slug][0],
                names[slug][1],
                dataclasses.replace(
                    edition, title=f"{names[slug][0]} | {edition.title}", articles=take(articles, groups[slug])
                ),
            )
            for slug in sorted(groups)
        ]
    return result


def _group_key(article: Article) -> str:
    return article.translation.original_id if article.translation else article.id


def _source_categories(source: Edition) -> dict[str, str]:
    """Source article id -> its category (what translations' sections are named after)."""
    articles = source.articles
    heads = zip(column(articles, "ids"), column(articles, "categories"), strict=True)
    return {id_: category for id_, category in heads if category}
