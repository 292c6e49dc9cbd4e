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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from syndicate.errors import InputError
from syndicate.models import Article, Translation


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
