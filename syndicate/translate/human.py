"""Human translations win (DESIGN 4): pairing declared translations with their originals.

An input file in another language than the site's may declare which article
it translates: ``translation_of: <id, slug or source file>`` in its front
matter or JSON, or Hugo's ``translationKey`` (the same key on the original and
its translations).  Such an article replaces the machine translation of its
original in its language: it keeps its own id, carries no machine note, costs
nothing to translate, and shares the original's hreflang siblings.

:func:`pair_translations` resolves the declarations once per run; a
declaration that names no known article is an :class:`InputError` naming the
file, and that file is left out.

The configured tag and the published tag: apertium publishes a configured
``sr`` as ``sr-Latn``.  A human translation tagged with either (or ``sr``
when ``sr-Latn`` is configured) is the translation of that edition
(:func:`serves`) and is published under the edition's tag, unless its text is
in another script than the edition's (a Cyrillic ``sr`` file is not
published as ``sr-Latn``: it keeps its own edition, and the machine
translation is still made).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from syndicate.errors import InputError
from syndicate.models import Article, Translation

if TYPE_CHECKING:
    from syndicate.translate.variants import Variant


@dataclass(frozen=True)
class Pairing:
    """The article set with human translations linked to their originals."""

    articles: tuple[Article, ...]
    errors: tuple[InputError, ...] = ()
    covered: dict[str, frozenset[str]] = field(default_factory=dict)  # language -> ids of originals done by hand

    def needs_machine(self, language: str, article: Article) -> bool:
        """Whether ``article`` still needs a machine translation into ``language``."""
        return article.id not in self.covered.get(language, frozenset())


def pair_translations(articles: Sequence[Article], site_language: str) -> Pairing:
    """Link every declared human translation to its original (see the module docstring)."""
    originals = [a for a in articles if a.language == site_language]
    index = _index(originals)
    result: list[Article] = []
    errors: list[InputError] = []
    covered: dict[str, set[str]] = {}
    for article in articles:
        if article.language == site_language or not article.translation_of:
            result.append(article)
            continue
        original = index.get(article.translation_of)
        if original is None:
            errors.append(InputError(article.source or article.id, _unknown(article.translation_of)))
            continue
        if original.id in covered.get(article.language, set()):
            errors.append(
                InputError(article.source or article.id, f"a second {article.language} translation of {original.slug}")
            )
            continue
        covered.setdefault(article.language, set()).add(original.id)
        result.append(article.replace(translation=_human(original)))
    return Pairing(tuple(result), tuple(errors), {lang: frozenset(ids) for lang, ids in covered.items()})


def _index(originals: Sequence[Article]) -> dict[str, Article]:
    """Every name an original can be declared by: id, slug, source file, its own translation key."""
    index: dict[str, Article] = {}
    for article in originals:
        names = [article.id, article.slug, article.translation_of or ""]
        if article.source:
            source = article.source.split("[", 1)[0]  # "items.json[2]" names the file
            names += [source, source.rsplit("/", 1)[-1], source.rsplit("/", 1)[-1].rsplit(".", 1)[0]]
        for name in names:
            if name:
                index.setdefault(name, article)
    return index


def _human(original: Article) -> Translation:
    return Translation(
        engine="",
        source_language=original.language,
        original_id=original.id,
        original_slug=original.slug,
        human=True,
    )


def _unknown(reference: str) -> str:
    return f"translation_of {reference!r} names no article in the source language (use its id, slug or file name)"


def is_human(article: Article) -> bool:
    """Whether ``article`` is a person's translation of another article."""
    return article.translation is not None and article.translation.human


def serves(article: Article, tags: Sequence[str]) -> bool:
    """Whether the human translation ``article`` is the one of the edition named by ``tags``.

    ``tags``: the edition's published tag first, then the other tags naming it
    (:meth:`~syndicate.config.TranslationOptions.tags_for`).  A file whose tag
    names no script must be written in the published tag's script.
    """
    if not is_human(article) or article.language not in tags:
        return False
    from syndicate.translate.base import parse_tag, script_of

    if parse_tag(article.language).script or article.language == tags[0]:
        return True  # the author named the script, or the tag is the edition's own
    found = written_script(" ".join([article.title, article.summary]))
    return found is None or found == script_of(tags[0])


def written_script(text: str) -> str | None:
    """The script most letters of ``text`` are written in (Latn, Cyrl, Grek, Arab, Hebr), or None."""
    from syndicate.translate.validate import letter_scripts

    counts = letter_scripts(text)
    return counts.most_common(1)[0][0] if counts else None


def placed(articles: Sequence[Article], variants: Sequence[Variant]) -> list[Article]:
    """``articles`` with each human translation tagged as the edition it serves (``sr`` -> ``sr-Latn``).

    Two human translations of one original serving one edition (an ``sr`` and an
    ``sr-Latn`` file): the one tagged with the edition's own tag wins, the other is
    left out with a warning.
    """
    chosen: dict[tuple[str, str], Article] = {}
    result: list[Article | tuple[str, str]] = []
    for article in articles:
        variant = next((v for v in variants if v.tags and serves(article, v.tags)), None)
        if variant is None or article.translation is None:
            result.append(article)
            continue
        slot = (variant.language, article.translation.original_id)
        rival = chosen.get(slot)
        if rival is None:
            result.append(slot)
        if rival is None or (article.language == variant.language and rival.language != variant.language):
            if rival is not None:
                _dropped(rival, article)
            chosen[slot] = article
        else:
            _dropped(article, rival)
    return [item if isinstance(item, Article) else _tagged(chosen[item], item[0]) for item in result]


def _tagged(article: Article, language: str) -> Article:
    return article if article.language == language else article.replace(language=language)


def _dropped(article: Article, kept: Article) -> None:
    import logging

    logging.getLogger("syndicate").warning(
        "%s: left out: %s is the %s translation of %s already", article.source or article.id,
        kept.source or kept.id, kept.language, kept.translation.original_slug if kept.translation else "?",
    )  # fmt: skip
