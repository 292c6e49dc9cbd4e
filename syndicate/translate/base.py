"""The contract every translation engine fulfils, and BCP 47 helpers.

This module owns the :class:`Translator` protocol (what the translation stage
and the registry rely on), the optional extensions a provider may implement
(:class:`PairCacheKey`, :class:`ListsLanguages`, :class:`MarksUnknown`,
:class:`WritesTag`, :class:`Deterministic`, :class:`ExplainsRefusal`) and the small
language-tag helpers the providers share.
It does no I/O.

Languages are BCP 47 tags (``es``, ``pt-BR``, ``sr-Latn``); each provider maps
them to its engine's own codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable


@runtime_checkable
class Translator(Protocol):
    """A translation engine as the translation stage sees it.

    ``translate_batch`` returns one entry per input text, in order: the
    translation, or ``None`` when that segment failed.  It never raises for an
    engine failure and never returns an engine's error text as a translation.
    ``calls`` counts engine invocations (process starts, HTTP requests), so a
    test can assert that nothing was sent.
    """

    name: str  # registry name, e.g. "apertium"
    display_name: str  # shown to readers, e.g. "Apertium", "Google Translate"
    max_chars: int  # longest text the engine accepts in one piece
    calls: int

    def cache_key(self) -> str:
        """Provider name plus the version/config that changes output; never secrets."""
        ...

    def supports(self, source: str, target: str) -> bool:
        """Whether this provider can translate ``source`` into ``target``."""
        ...

    def available(self) -> tuple[bool, str]:
        """Whether the provider is usable here, and why (or why not)."""
        ...

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str | None]:
        """Translate ``texts``; ``None`` marks a segment that failed."""
        ...


@runtime_checkable
class PairCacheKey(Protocol):
    """Optional: a cache key that depends on the language pair (e.g. apertium's mode)."""

    def pair_cache_key(self, source: str, target: str) -> str: ...


@runtime_checkable
class ListsLanguages(Protocol):
    """Optional: the language pairs a provider can translate (``None`` = any)."""

    def language_pairs(self) -> tuple[tuple[str, str], ...] | None: ...


@runtime_checkable
class MarksUnknown(Protocol):
    """Optional: the engine marks words it could not translate (apertium's ``*word``).

    When ``marks_unknown`` is true, the translation stage counts and strips
    the marks (:func:`~syndicate.translate.validate.strip_unknown_marks`).
    """

    marks_unknown: bool


@runtime_checkable
class WritesTag(Protocol):
    """Optional: the language tag the engine really writes for a requested target.

    apertium's Serbo-Croatian output is Latin script, so ``sr`` becomes
    ``sr-Latn``; an edition is tagged, named and placed with this tag.
    """

    def output_tag(self, target: str) -> str: ...


@runtime_checkable
class Deterministic(Protocol):
    """Optional: the engine gives the same answer to the same input, every time (a local engine).

    apertium is: for one installed version (its cache key), the same segments
    give the same translations, so the same quality-gate refusals; a variant
    cache may keep a refusal like a result.  Network engines are not (a refusal
    there may be a passing fault): without this attribute a provider counts as
    not deterministic, and its refusals are retried on every run.
    """

    deterministic: bool


@runtime_checkable
class ExplainsRefusal(Protocol):
    """Optional: why a pair is not supported (an engine that cannot write the script asked for)."""

    def refusal(self, source: str, target: str) -> str | None: ...


def unsupported(provider: Translator, source: str, target: str) -> str | None:
    """Why ``provider`` cannot translate ``source`` into ``target`` (one line), or None when it can."""
    if provider.supports(source, target):
        return None
    reason = provider.refusal(source, target) if isinstance(provider, ExplainsRefusal) else None
    return f"translation provider {provider.name!r} cannot translate {source} into {target}" + (
        f": {reason}" if reason else ""
    )


def script_of(tag: str) -> str:
    """The script a tag is written in: its own script subtag, else CLDR's likely script ("?" if unknown)."""
    from babel.core import get_global

    parts = parse_tag(tag)
    if parts.script:
        return parts.script
    likely = get_global("likely_subtags")
    for key in (f"{parts.language}_{parts.region}" if parts.region else None, parts.language):
        if key and key in likely:
            found = [p for p in str(likely[key]).split("_") if len(p) == 4 and p.isalpha()]
            if found:
                return str(found[0]).title()
    return "?"


def is_deterministic(provider: Translator) -> bool:
    """Whether ``provider`` declares itself deterministic (False unless it says so)."""
    return isinstance(provider, Deterministic) and provider.deterministic is True


def written_tag(provider: Translator, target: str) -> str:
    """The tag ``provider`` really writes when asked for ``target`` (``target`` itself by default)."""
    return provider.output_tag(target) if isinstance(provider, WritesTag) else target


def cache_key_for(provider: Translator, source: str, target: str) -> str:
    """The provider's cache key for one pair (pair-specific when it offers one)."""
    if isinstance(provider, PairCacheKey):
        return provider.pair_cache_key(source, target)
    return provider.cache_key()


class Tag(NamedTuple):
    """The parts of a BCP 47 tag this package cares about."""

    language: str  # lower case, e.g. "pt"
    script: str | None  # title case, e.g. "Latn"
    region: str | None  # upper case, e.g. "BR" or "419"
    variants: tuple[str, ...]  # lower case, e.g. ("valencia",)


def parse_tag(tag: str) -> Tag:
    """Split ``tag`` (``-`` or ``_`` separated) into language, script, region and variants."""
    parts = [p for p in tag.strip().replace("_", "-").split("-") if p]
    language = parts[0].lower() if parts else ""
    script = region = None
    variants: list[str] = []
    for part in parts[1:]:
        if script is None and region is None and not variants and len(part) == 4 and part.isalpha():
            script = part.title()
        elif (
            region is None
            and not variants
            and ((len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()))
        ):
            region = part.upper()
        else:
            variants.append(part.lower())
    return Tag(language, script, region, tuple(variants))


def primary(tag: str) -> str:
    """The primary language subtag, lower case: ``pt-BR`` -> ``pt``."""
    return parse_tag(tag).language


# ISO 639-1 -> ISO 639-3, for engines that name languages with three letters
# (apertium pairs such as ``eng-spa``).  Only languages with a 639-1 code.
ISO639_3: dict[str, str] = {
    "af": "afr", "am": "amh", "an": "arg", "ar": "ara", "as": "asm", "az": "aze",
    "ba": "bak", "be": "bel", "bg": "bul", "bn": "ben", "br": "bre", "bs": "bos",
    "ca": "cat", "co": "cos", "cs": "ces", "cy": "cym", "da": "dan", "de": "deu",
    "el": "ell", "en": "eng", "eo": "epo", "es": "spa", "et": "est", "eu": "eus",
    "fa": "fas", "fi": "fin", "fo": "fao", "fr": "fra", "fy": "fry", "ga": "gle",
    "gd": "gla", "gl": "glg", "gn": "grn", "gu": "guj", "ha": "hau", "he": "heb",
    "hi": "hin", "hr": "hrv", "ht": "hat", "hu": "hun", "hy": "hye", "id": "ind",
    "is": "isl", "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz",
    "km": "khm", "kn": "kan", "ko": "kor", "ku": "kur", "ky": "kir", "la": "lat",
    "lb": "ltz", "lo": "lao", "lt": "lit", "lv": "lav", "mg": "mlg", "mi": "mri",
    "mk": "mkd", "ml": "mal", "mn": "mon", "mr": "mar", "ms": "msa", "mt": "mlt",
    "my": "mya", "nb": "nob", "ne": "nep", "nl": "nld", "nn": "nno", "no": "nor",
    "oc": "oci", "or": "ori", "pa": "pan", "pl": "pol", "ps": "pus", "pt": "por",
    "qu": "que", "rm": "roh", "ro": "ron", "ru": "rus", "sa": "san", "sc": "srd",
    "sd": "snd", "se": "sme", "si": "sin", "sk": "slk", "sl": "slv", "so": "som",
    "sq": "sqi", "sr": "srp", "sv": "swe", "sw": "swa", "ta": "tam", "te": "tel",
    "tg": "tgk", "th": "tha", "tk": "tuk", "tl": "tgl", "tr": "tur", "tt": "tat",
    "ug": "uig", "uk": "ukr", "ur": "urd", "uz": "uzb", "vi": "vie", "wa": "wln",
    "xh": "xho", "yi": "yid", "yo": "yor", "zh": "zho", "zu": "zul",
}  # fmt: skip
