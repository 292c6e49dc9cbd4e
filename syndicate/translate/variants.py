"""Building translated editions: source articles -> one translated Article set per language.

This module owns what of an article is translated and the failure policy
(DESIGN 4).  Segments are the title (for a title cut from the lede: the
whole first sentence, cut again in the target language), the summary, the
category, each tag, and the text of every text-bearing body block (inline
markup travels as tokens, see :mod:`syndicate.translate.markup`); code
blocks, URLs and addresses are never sent.  The body is rebuilt with the
source's block structure around the translated text.

An article is published in a language only when every one of its segments
was translated and its markup survived; otherwise it is left out of that
variant (``on_error = "skip"``) or published in the source language and
tagged with it (``on_error = "original"``), and listed as missing so the exit
code says the run was partial.  Nothing is cached for a failed segment, so
the next run retries it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from syndicate.models import Article, Block, Translation
from syndicate.sources.common import derive_title
from syndicate.translate.markup import Unit, markup_signature, rebuild, unit_from_html, unit_from_text

NAMESPACE = uuid.UUID("0b6f3a4e-9c51-4d7b-a0f2-7e3d5c1b8a94")


@dataclass(frozen=True)
class Variant:
    """One target language's articles, plus what could not be translated."""

    language: str
    provider: str
    articles: Sequence[Article]  # a tuple, or a shelf (:mod:`syndicate.shelf`) in a run
    missing: tuple[str, ...] = ()  # titles (in the source language) left out or untranslated
    description: str | None = None
    tags: tuple[str, ...] = ()  # the tags naming this edition, ``language`` first (``sr-Latn``, ``sr``)


@dataclass(frozen=True)
class CostLine:
    """A ``--dry-run`` line: what would be sent to one provider for one language."""

    language: str
    provider: str
    segments: int
    characters: int
    tokens: int | None = None  # estimated, for engines billed by tokens
    deferred: int = 0  # segments over translation.max_chars_per_run


def variant_id(article_id: str, language: str) -> str:
    """A per-language id: readers must never merge a translation with its original."""
    return uuid.uuid5(NAMESPACE, f"{article_id}|{language}").urn


def _title_unit(article: Article) -> Unit:
    return unit_from_text(article.title_source or article.title)


def _block_units(block: Block) -> Iterator[Unit]:
    for node in block.walk():
        if node.kind == "pre":
            continue
        if node.html:
            yield unit_from_html(node.html)
        if node.kind == "figure" and node.attr("alt"):
            yield unit_from_text(node.attr("alt"))


def units_of(article: Article, mode: str = "full") -> list[Unit]:
    """Every unit of an article an engine must see, in document order (``title`` mode: no body)."""
    units = [_title_unit(article), unit_from_text(article.summary)]
    if article.category:
        units.append(unit_from_text(article.category))
    units.extend(unit_from_text(tag) for tag in article.tags)
    if mode != "title":
        for block in article.body:
            units.extend(_block_units(block))
    if article.image is not None and article.image.alt:
        units.append(unit_from_text(article.image.alt))
    return units


def segments_of(article: Article, mode: str = "full") -> list[str]:
    """The texts of an article an engine must translate, in a stable order."""
    return [text for unit in units_of(article, mode) for text in unit.texts()]


def all_segments(articles: Iterable[Article], extra: Sequence[str] = (), mode: str = "full") -> list[str]:
    """Unique segments of all articles (and of the ``extra`` plain texts), first occurrence order."""
    seen: dict[str, None] = {}
    for text in extra:
        seen.update(dict.fromkeys(unit_from_text(text).texts()))
    for article in articles:
        seen.update(dict.fromkeys(segments_of(article, mode)))
    return [s for s in seen if s.strip()]


def translate_text(text: str, done: Mapping[str, str]) -> str | None:
    """A plain-text field in translation, or ``None``."""
    return rebuild(unit_from_text(text), done)


def translate_block(block: Block, done: Mapping[str, str]) -> Block | None:
    """``block`` with its text translated and its structure, URLs and code kept; ``None`` if anything failed."""
    if block.kind == "pre":
        return block
    html = block.html
    if html:
        translated = rebuild(unit_from_html(html), done)
        if translated is None or markup_signature(translated) != markup_signature(html):
            return None
        html = translated
    attrs = block.attrs
    if block.kind == "figure" and block.attr("alt"):
        alt = translate_text(block.attr("alt"), done)
        if alt is None:
            return None
        attrs = tuple((key, alt if key == "alt" else value) for key, value in attrs)
    children = []
    for child in block.children:
        done_child = translate_block(child, done)
        if done_child is None:
            return None
        children.append(done_child)
    return Block(html, block.kind, tuple(children), attrs)


def translated_article(
    article: Article, language: str, done: Mapping[str, str], engine: str, mode: str = "full"
) -> Article | None:
    """The article in ``language``, or None if any of its segments or its markup is missing.

    ``mode``: ``full``; ``title`` (title, summary, category and tags translated,
    the body kept in the source language and marked so); ``bilingual`` (full,
    with the original body kept for the article page).
    """
    title = translate_text(article.title_source or article.title, done)
    summary = translate_text(article.summary, done)
    category = translate_text(article.category, done) if article.category else None
    tags = [translate_text(tag, done) for tag in article.tags]
    body = list(article.body) if mode == "title" else [translate_block(block, done) for block in article.body]
    if title is None or summary is None or (article.category and category is None):
        return None
    if any(t is None for t in tags) or any(b is None for b in body):
        return None
    image = article.image
    if image is not None and image.alt:  # the lead image's alt text (DESIGN 9)
        alt = translate_text(image.alt, done)
        if alt is None:
            return None
        image = dataclasses.replace(image, alt=alt)
    return article.replace(
        id=variant_id(article.id, language),
        title=derive_title(title) if article.title_source else title,
        title_source=title if article.title_source else None,  # the whole translated sentence, for the page
        summary=summary,
        category=category,
        tags=tuple(t for t in tags if t is not None),
        body=tuple(b for b in body if b is not None),
        language=language,
        body_language=article.language if mode == "title" else None,
        original_body=article.body if mode == "bilingual" else (),
        image=image,
        translation=Translation(
            engine=engine, source_language=article.language, original_id=article.id, original_slug=article.slug
        ),
    )


def outcome(
    article: Article,
    language: str,
    done: Mapping[str, str],
    *,
    engine: str,
    on_error: str,
    mode: str = "full",
    refused: bool = False,
) -> tuple[Article | None, bool]:
    """One article's part of a variant: (what is published in ``language`` or None, whether it is missing)."""
    translated = None if refused else translated_article(article, language, done, engine, mode)
    if translated is not None:
        return translated, False
    return fallback(article, language, on_error), True


def fallback(article: Article, language: str, on_error: str) -> Article | None:
    """What a missing article publishes in ``language``: the original (``on_error = "original"``) or nothing."""
    return article.replace(id=variant_id(article.id, language)) if on_error == "original" else None


def build_variant(
    articles: Sequence[Article],
    language: str,
    done: dict[str, str],
    *,
    engine: str,
    provider: str,
    on_error: str,
    description: str | None = None,
    mode: str = "full",
    refuse: Callable[[Article], bool] | None = None,
) -> Variant:
    """Assemble one language's articles from the translations that succeeded.

    ``refuse``: articles the translation stage failed as a whole (e.g. over
    ``translation.max_unknown``) although every segment came back.
    """
    result: list[Article] = []
    missing: list[str] = []
    for article in articles:
        refused = refuse is not None and refuse(article)
        published, failed = outcome(
            article, language, done, engine=engine, on_error=on_error, mode=mode, refused=refused
        )
        if failed:
            missing.append(article.title)
        if published is not None:
            result.append(published)
    return Variant(
        language=language,
        provider=provider,
        articles=tuple(result),
        missing=tuple(missing),
        description=translate_text(description, done) if description else None,
    )
