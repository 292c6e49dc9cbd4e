"""The translation stage: segments in, translations out (DESIGN 4).

This package's public face.  :func:`translate_segments` takes every segment
of one language pair (titles, summaries, paragraphs) and:

1. drops duplicates and serves what the :class:`SegmentCache` already has;
2. protects glossary terms (:class:`Glossary`) with placeholders;
3. takes what the run's :class:`Budget` (``translation.max_chars_per_run``)
   still allows; the rest is deferred to the next run, and says so;
4. sends ALL of it in ONE ``translate_batch`` call (the provider batches,
   splits and limits internally);
5. for engines that mark unknown words (apertium), counts and strips the
   marks; then runs the quality gates of :mod:`syndicate.translate.validate`
   on each answer (echo, implausible length, lost number/URL/placeholder/tag,
   transport-error shapes) and on the run (one answer for several inputs),
   restores the terms;
6. caches the successes only (a short text that came back unchanged, such
   as a name, is used but not cached, so a healthy engine gets another
   chance at it; a deterministic engine's is cached: asked again, it gives
   the same answer, and its cache key changes with its version), and
   returns a :class:`SegmentResults`.

:class:`SegmentResults` is a ``dict`` ``text -> translation`` of the
successes (so it can be used wherever a plain mapping was), plus
``details`` (``text -> Translated(text, words, unknown)``: the word and
unknown-word counts behind an article's unknown share, see
:meth:`SegmentResults.unknown_share`) and ``failures`` (``text -> reason``).
A failed segment is never cached, so the next run tries it again.
:func:`plan` is the ``--dry-run`` cost: what would be sent, without sending.

``known`` pairs (input sent, answer) are answers of earlier runs that the
"one answer for several inputs" gate still counts: the segments of articles
whose refusal a deterministic engine's variant cache keeps
(:mod:`syndicate.translate.variant_cache`) are not sent again, but a new
segment that gets their answer is refused as it would have been beside them.
:func:`settled` says whether a failure reason is the engine's final word
(a gate's verdict) or a passing one (no answer, deferred, engine unavailable).

Submodules: ``base`` (the Translator protocol), ``registry`` (provider
names), ``providers.apertium`` / ``providers.web`` / ``providers.openai``
(engines), ``resilient`` (deadlines, retries, circuit breaker), ``split``,
``validate`` (quality gates), ``protect`` and ``cache``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from syndicate.translate.base import MarksUnknown, Translator, cache_key_for, is_deterministic
from syndicate.translate.cache import CacheEntry, SegmentCache, segment_key, text_hash
from syndicate.translate.protect import Glossary, tokens_kept
from syndicate.translate.registry import ProviderInfo, get_provider, list_providers, register, unregister
from syndicate.translate.validate import (
    answer_problem,
    is_repeated,
    reason_kind,
    repeat_group,
    repeated_answers,
    strip_unknown_marks,
    unchanged,
    word_count,
)

__all__ = [
    "Budget",
    "Glossary",
    "ProviderInfo",
    "SegmentCache",
    "SegmentPlan",
    "SegmentResults",
    "Translated",
    "Translator",
    "get_provider",
    "list_providers",
    "plan",
    "register",
    "translate_segments",
    "unregister",
]

log = logging.getLogger("syndicate")

DEFERRED = "deferred (translation.max_chars_per_run reached; sent on a later run)"
ENGINE_FAILURE = "engine failure (no answer)"
UNAVAILABLE = "engine unavailable"
NOT_TRANSLATED = "not translated"
REPEATED = "engine message (the same answer for several different inputs)"
_PASSING = (DEFERRED, ENGINE_FAILURE, UNAVAILABLE, NOT_TRANSLATED)


def settled(reason: str) -> bool:
    """Whether a failure is a verdict on the answer (a quality gate, max_unknown), not a passing fault.

    Only a settled failure of a deterministic engine may be cached.
    """
    return not reason.startswith(_PASSING)


@dataclass(frozen=True, slots=True)
class Translated:
    """One segment's translation and its word counts (``unknown``: words the engine marked unknown)."""

    text: str
    words: int = 0
    unknown: int = 0


class SegmentResults(dict[str, str]):
    """``text -> translation`` for the segments that succeeded, plus why the others failed.

    ``details[text]`` is the :class:`Translated` behind each success;
    ``failures[text]`` the reason a segment failed (``echo``, ``lost number
    (2020)``, ``engine message``, ...).
    """

    def __init__(self) -> None:
        super().__init__()
        self.details: dict[str, Translated] = {}
        self.failures: dict[str, str] = {}
        self.provisional: set[str] = set()  # used but not cached (a short text a network engine sent back unchanged)
        self.repeats: dict[str, tuple[str, str]] = {}  # refused as one answer of several: text -> (sent, answer)

    def add(self, source: str, translated: Translated) -> None:
        self[source] = translated.text
        self.details[source] = translated
        self.failures.pop(source, None)

    def fail(self, source: str, reason: str) -> None:
        self.failures[source] = reason

    def unknown_share(self, texts: Iterable[str]) -> float:
        """Unknown words over all words of ``texts`` (the translated ones); 0 without words."""
        found = [self.details[t] for t in dict.fromkeys(texts) if t in self.details]
        words = sum(d.words for d in found)
        return sum(d.unknown for d in found) / words if words else 0.0

    def failure(self, texts: Iterable[str]) -> str | None:
        """The reason the first failed one of ``texts`` failed, or None."""
        return next((self.failures[t] for t in texts if t in self.failures), None)

    def groups(self, texts: Iterable[str]) -> set[str]:
        """The answer groups of the "one answer for several inputs" refusals among ``texts``."""
        return {repeat_group(self.repeats[t][1]) for t in texts if t in self.repeats}


class Budget:
    """How many characters a run may still send (``translation.max_chars_per_run``); thread-safe."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.used = 0
        self.deferred = 0  # segments refused
        self._closed = False
        self._lock = threading.Lock()

    def take(self, characters: int) -> bool:
        """Reserve ``characters``; False (and stay closed) once the limit would be passed."""
        with self._lock:
            if self.limit is None:
                self.used += characters
                return True
            if self._closed or self.used + characters > self.limit:
                self._closed = True
                self.deferred += 1
                return False
            self.used += characters
            return True


@dataclass(frozen=True)
class SegmentPlan:
    """What one language pair would cost: uncached segments and characters to send."""

    provider: str
    source: str
    target: str
    segments: int
    characters: int
    tokens: int | None = None  # estimated, for engines billed by tokens
    deferred: int = 0  # segments over translation.max_chars_per_run


def plan(
    segments: Sequence[str],
    source: str,
    target: str,
    provider: Translator,
    cache: SegmentCache,
    glossary: Glossary,
    budget: Budget | None = None,
) -> SegmentPlan:
    """The dry-run cost of :func:`translate_segments` (sends nothing)."""
    todo = _uncached(_unique(segments), source, target, provider, cache, glossary)
    sent = [glossary.protect(text)[0] for text in todo]
    if budget is not None:
        allowed = [text for text in sent if budget.take(len(text))]
        deferred, sent = len(sent) - len(allowed), allowed
    else:
        deferred = 0
    estimate = getattr(provider, "estimate_tokens", None)
    tokens = estimate(sent) if callable(estimate) else None
    return SegmentPlan(provider.name, source, target, len(sent), sum(map(len, sent)), tokens, deferred)


def translate_segments(
    segments: Sequence[str],
    source: str,
    target: str,
    provider: Translator,
    cache: SegmentCache,
    glossary: Glossary,
    budget: Budget | None = None,
    known: Sequence[tuple[str, str]] = (),
) -> SegmentResults:
    """Translate ``segments``; the successes (and why the others failed) as :class:`SegmentResults`.

    ``known``: (sent, answer) pairs of earlier refusals the repeat gate still counts (module docstring).
    """
    unique = _unique(segments)
    result = SegmentResults()
    for text in unique:
        if not text.strip():
            result.add(text, Translated(text))  # nothing to translate
    keys = _keys([t for t in unique if t.strip()], source, target, provider, glossary)
    cached = cache.get_entries(keys.values())
    for text, key in keys.items():
        if key in cached:
            hit = cached[key]
            result.add(text, Translated(hit.translation, hit.words, hit.unknown))
    todo = [text for text, key in keys.items() if key not in cached]
    if todo:
        fresh = _translate_fresh(todo, source, target, provider, glossary, budget or Budget(), result, known)
        cache.put_many(
            CacheEntry(keys[text], provider.name, source, target, done.text, done.words, done.unknown, text_hash(text))
            for text, done in fresh.items()
        )
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
    texts: Sequence[str],
    source: str,
    target: str,
    provider: Translator,
    glossary: Glossary,
    budget: Budget,
    result: SegmentResults,
    known: Sequence[tuple[str, str]] = (),
) -> dict[str, Translated]:
    """One ``translate_batch`` call for what the budget allows; checked successes only."""
    refusal = _refusal(provider, source, target)
    if refusal is not None:
        log.warning(
            "%s cannot translate %s->%s (%s): %d segments left untranslated",
            provider.name, source, target, refusal, len(texts),
        )  # fmt: skip
        for text in texts:
            result.fail(text, f"{UNAVAILABLE} ({refusal})")
        return {}
    protected: list[tuple[str, str, dict[str, str]]] = []
    for text in texts:
        sent, mapping = glossary.protect(text)
        if budget.take(len(sent)):
            protected.append((text, sent, mapping))
        else:
            result.fail(text, DEFERRED)
    answers = _call(provider, [p[1] for p in protected], source, target) if protected else []
    marks = isinstance(provider, MarksUnknown) and provider.marks_unknown
    unmarked = [
        strip_unknown_marks(sent, a) if marks and isinstance(a, str) else (a, 0)
        for (_, sent, _), a in zip(protected, answers, strict=True)
    ]
    pairs = [(sent, answer) for (_, sent, _), (answer, _) in zip(protected, unmarked, strict=True)]
    repeated = repeated_answers([*((s, a) for s, a in pairs if isinstance(a, str)), *known])
    final = is_deterministic(provider)  # an unchanged short answer is its answer for good (a name)
    done: dict[str, Translated] = {}
    for (text, sent, mapping), (answer, unknown) in zip(protected, unmarked, strict=True):
        translation, problem = _accept(glossary, sent, mapping, answer, source, target, repeated)
        if translation is None:
            result.fail(text, problem)
            if problem == REPEATED and isinstance(answer, str):
                result.repeats[text] = (sent, answer)
            continue
        translated = Translated(translation, max(word_count(answer or ""), unknown), unknown)
        result.add(text, translated)
        if final or not (isinstance(answer, str) and unchanged(sent, answer) and _primary(source) != _primary(target)):
            done[text] = translated
        else:  # a short text sent back unchanged is used, not cached: retried next run
            result.provisional.add(text)
    _log_failures(provider, source, target, len(texts), result.failures)
    return done


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0].lower()


def _log_failures(provider: Translator, source: str, target: str, total: int, failures: dict[str, str]) -> None:
    if not failures:
        return
    kinds = Counter(reason_kind(reason) for reason in failures.values())
    reasons = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
    log.warning(
        "%s %s->%s: %d of %d segments not translated (%s)",
        provider.name, source, target, len(failures), total, reasons,
    )  # fmt: skip


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


def _accept(
    glossary: Glossary,
    sent: str,
    mapping: dict[str, str],
    answer: object,
    source: str,
    target: str,
    repeated: set[str],
) -> tuple[str | None, str]:
    """The final translation, or ``None`` and why not."""
    if answer is None:
        return None, ENGINE_FAILURE
    if isinstance(answer, str) and is_repeated(answer, repeated):
        return None, REPEATED
    problem = answer_problem(sent, answer, source_language=source, target_language=target)
    if problem is not None or not isinstance(answer, str):
        return None, problem or "engine message"
    restored = glossary.restore(answer, mapping)
    if restored is None:
        return None, "lost placeholder (a protected term)"
    if not tokens_kept(glossary.restore(sent, mapping) or sent, restored):
        return None, "lost placeholder (markup or protected text)"
    return restored, ""
