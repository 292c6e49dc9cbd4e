"""Building translated editions: source articles -> one translated Article set per language.

This module owns the failure policy (DESIGN 4): an article is published in a
language only when every one of its segments (title, summary, category,
each body block) was translated; otherwise it is left out of that variant
(``on_error = "skip"``) or published in the source language and tagged with
it (``on_error = "original"``), and listed as missing so the exit code says
the run was partial.  Nothing is cached for a failed segment, so the next
run retries it.  Markup never reaches an engine: only block text does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from syndicate.models import Article, Block, Translation

NAMESPACE = uuid.UUID("0b6f3a4e-9c51-4d7b-a0f2-7e3d5c1b8a94")
UNTRANSLATED_KINDS = frozenset({"pre"})  # code and preformatted text stay as written


@dataclass(frozen=True)
class Variant:
    """One target language's articles, plus what could not be translated."""

    language: str
    provider: str
    articles: tuple[Article, ...]
    missing: tuple[str, ...] = ()  # titles (in the source language) left out or untranslated
    description: str | None = None


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


def segments_of(article: Article) -> list[str]:
    """The texts of an article an engine must translate, in a stable order."""
    texts = [article.title, article.summary]
    if article.category:
        texts.append(article.category)
    texts.extend(b.text for b in article.body if b.kind not in UNTRANSLATED_KINDS)
    return texts


def all_segments(articles: Iterable[Article], extra: Sequence[str] = ()) -> list[str]:
    """Unique segments of all articles, first occurrence order."""
    seen: dict[str, None] = dict.fromkeys(extra)
    for article in articles:
        seen.update(dict.fromkeys(segments_of(article)))
    return [s for s in seen if s.strip()]


def translated_article(article: Article, language: str, done: dict[str, str], engine: str) -> Article | None:
    """The article in ``language``, or None if any of its segments is missing."""
    if any(text.strip() and text not in done for text in segments_of(article)):
        return None
    return article.replace(
        id=variant_id(article.id, language),
        title=done[article.title],
        summary=done[article.summary],
        category=done[article.category] if article.category else None,
        body=tuple(
            block if block.kind in UNTRANSLATED_KINDS or not block.text.strip() else Block(done[block.text], block.kind)
            for block in article.body
        ),
        language=language,
        translation=Translation(
            engine=engine, source_language=article.language, original_id=article.id, original_slug=article.slug
        ),
    )


def build_variant(
    articles: Sequence[Article],
    language: str,
    done: dict[str, str],
    *,
    engine: str,
    provider: str,
    on_error: str,
    description: str | None = None,
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
        translated = None if refused else translated_article(article, language, done, engine)
        if translated is not None:
            result.append(translated)
            continue
        missing.append(article.title)
        if on_error == "original":
            result.append(article.replace(id=variant_id(article.id, language)))
    return Variant(
        language=language,
        provider=provider,
        articles=tuple(result),
        missing=tuple(missing),
        description=done.get(description) if description else None,
    )
