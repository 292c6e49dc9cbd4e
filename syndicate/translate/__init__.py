"""The translation stage: segments in, translations out (DESIGN 4).

This package's public face.  :func:`translate_segments` takes every segment
of one language pair (titles, summaries, paragraphs: plain text, never
markup), and:

1. drops duplicates and serves what the :class:`SegmentCache` already has;
2. protects glossary terms (:class:`Glossary`) with placeholders;
3. sends ALL uncached segments in ONE ``translate_batch`` call (the
   provider batches, splits and limits internally);
4. restores the terms and rejects anything that does not look like a
   translation (:func:`~syndicate.translate.validate.answer_problem`);
5. caches the successes and returns ``text -> translation`` for them.

A segment missing from the result failed; the caller leaves its article out
of that language (or publishes the original, per ``on_error``), and the next
run tries again.  Failures are logged as one warning line per provider and
language pair.  :func:`plan` is the ``--dry-run`` cost: what would be sent,
without sending anything.

Submodules: ``base`` (the Translator protocol), ``registry`` (provider
names), ``providers.apertium`` / ``providers.web`` (engines), ``resilient``
(deadlines, retries, circuit breaker), ``split``, ``validate``, ``protect``
and ``cache``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from syndicate.translate.base import Translator, cache_key_for
from syndicate.translate.cache import CacheEntry, SegmentCache, segment_key
from syndicate.translate.protect import Glossary, tokens_kept
from syndicate.translate.registry import ProviderInfo, get_provider, list_providers, register, unregister
from syndicate.translate.validate import answer_problem

__all__ = [
    "Glossary",
    "ProviderInfo",
    "SegmentCache",
    "SegmentPlan",
    "Translator",
    "get_provider",
    "list_providers",
    "plan",
    "register",
    "translate_segments",
    "unregister",
]

log = logging.getLogger("syndicate")


@dataclass(frozen=True)
class SegmentPlan:
    """What one language pair would cost: uncached segments and characters to send."""

    provider: str
    source: str
    target: str
    segments: int
    characters: int


def plan(
    segments: Sequence[str],
    source: str,
    target: str,
    provider: Translator,
    cache: SegmentCache,
    glossary: Glossary,
) -> SegmentPlan:
    """The dry-run cost of :func:`translate_segments` (sends nothing)."""
    todo = _uncached(_unique(segments), source, target, provider, cache, glossary)
    characters = sum(len(glossary.protect(text)[0]) for text in todo)
    return SegmentPlan(provider.name, source, target, len(todo), characters)


def translate_segments(
    segments: Sequence[str],
    source: str,
    target: str,
    provider: Translator,
    cache: SegmentCache,
    glossary: Glossary,
) -> dict[str, str]:
    """Translate ``segments``; returns ``text -> translation`` for those that succeeded."""
    unique = _unique(segments)
    result = {text: text for text in unique if not text.strip()}  # nothing to translate
    keys = _keys([t for t in unique if t.strip()], source, target, provider, glossary)
    cached = cache.get_many(keys.values())
    result.update((text, cached[key]) for text, key in keys.items() if key in cached)
    todo = [text for text, key in keys.items() if key not in cached]
    if todo:
        fresh = _translate_fresh(todo, source, target, provider, glossary)
        cache.put_many(
            CacheEntry(keys[text], provider.name, source, target, translation) for text, translation in fresh.items()
        )
        result.update(fresh)
    return result


# --------------------------------------------------------------------------- steps


def _unique(segments: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(segments))


def _keys(texts: Sequence[str], source: str, target: str, provider: Translator, glossary: Glossary) -> dict[str, str]:
    provider_key = cache_key_for(provider, source, target)
    return {text: segment_key(provider_key, source, target, glossary.version, text) for text in texts}


def _uncached(
    texts: Sequence[str],
    source: str,
    target: str,
    provider: Translator,
    cache: SegmentCache,
    glossary: Glossary,
) -> list[str]:
    keys = _keys([t for t in texts if t.strip()], source, target, provider, glossary)
    cached = cache.get_many(keys.values())
    return [text for text, key in keys.items() if key not in cached]


def _translate_fresh(
    texts: Sequence[str], source: str, target: str, provider: Translator, glossary: Glossary
) -> dict[str, str]:
    """One ``translate_batch`` call for every text; restored, checked successes only."""
    refusal = _refusal(provider, source, target)
    if refusal is not None:
        log.warning(
            "%s cannot translate %s->%s (%s): %d segments left untranslated",
            provider.name, source, target, refusal, len(texts),
        )  # fmt: skip
        return {}
    protected = [glossary.protect(text) for text in texts]
    answers = _call(provider, [p[0] for p in protected], source, target)
    done: dict[str, str] = {}
    problems: Counter[str] = Counter()
    for text, (sent, mapping), answer in zip(texts, protected, answers, strict=True):
        translation, problem = _accept(glossary, sent, mapping, answer)
        if translation is not None:
            done[text] = translation
        else:
            problems[problem] += 1
    if problems:
        reasons = ", ".join(f"{count} {reason}" for reason, count in problems.most_common())
        log.warning(
            "%s %s->%s: %d of %d segments not translated (%s)",
            provider.name, source, target, sum(problems.values()), len(texts), reasons,
        )  # fmt: skip
    return done


def _refusal(provider: Translator, source: str, target: str) -> str | None:
    usable, reason = provider.available()
    if not usable:
        return reason
    if not provider.supports(source, target):
        return "language pair not supported"
    return None


def _call(provider: Translator, texts: list[str], source: str, target: str) -> list[str | None]:
    """``translate_batch``, held to its contract: one answer per text, never an exception."""
    try:
        answers = provider.translate_batch(texts, source, target)
    except Exception as exc:  # a provider bug must not end the run; the segments just fail
        log.warning("%s %s->%s failed: %s", provider.name, source, target, exc, exc_info=log.isEnabledFor(10))
        return [None] * len(texts)
    if len(answers) != len(texts):
        log.warning("%s returned %d answers for %d segments", provider.name, len(answers), len(texts))
        return [None] * len(texts)
    return list(answers)


def _accept(glossary: Glossary, sent: str, mapping: dict[str, str], answer: object) -> tuple[str | None, str]:
    """The final translation, or ``None`` and why not."""
    if answer is None:
        return None, "engine failure"
    problem = answer_problem(sent, answer)
    if problem is not None or not isinstance(answer, str):
        return None, "rejected answer"
    restored = glossary.restore(answer, mapping)
    if restored is None:
        return None, "glossary term lost"
    if not tokens_kept(glossary.restore(sent, mapping) or sent, restored):
        return None, "markup or protected text lost"
    return restored, ""
