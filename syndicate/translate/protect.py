"""Protected terms: names and brands that must survive translation unchanged.

This module owns the placeholder scheme.  :meth:`Glossary.protect` replaces
each occurrence of a protected term by an opaque token that engines copy
through, and :meth:`Glossary.restore` puts the terms back, or returns
``None`` when a token did not survive, so a segment with a mangled name is
counted as failed instead of being published.

Placeholder form: five upper-case ASCII letters, e.g. ``ZQBCQ`` (a prefix,
two index letters from 16 consonants, and ``Q``).  Measured with the
installed apertium pairs (see ``tests/test_translate_protect.py``):

* digits inside a token (``ZXQ1Z``) make the en-gl tokenizer split it and
  en-eo change its case;
* runs of more than five capitals are split by en-gl (an acronym rule
  matches at most five letters);
* five capitals without digits pass through every installed pair unchanged
  (sometimes with a grammatical suffix glued on, which restore tolerates).

Web engines leave such unknown all-caps tokens alone as well.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syndicate.config import TranslationOptions

_INDEX_LETTERS = "BCDFGHJKLMNPRSTV"  # 16 consonants, no Q: the closing letter stays unambiguous
_PREFIXES = ("ZQ", "XQ", "QZ", "QX")  # alternatives when a text already contains one
CAPACITY = len(_INDEX_LETTERS) ** 2  # placeholders per text


def placeholder(prefix: str, index: int) -> str:
    """The ``index``-th placeholder with ``prefix``, e.g. ``ZQBBQ``."""
    high, low = divmod(index, len(_INDEX_LETTERS))
    return f"{prefix}{_INDEX_LETTERS[high]}{_INDEX_LETTERS[low]}Q"


def pick_prefix(text: str) -> str | None:
    """A placeholder prefix that does not occur in ``text`` (``None`` if all four do)."""
    folded = text.upper()
    return next((p for p in _PREFIXES if p not in folded), None)


class Glossary:
    """Protected terms for one target language, matched as whole words, longest first.

    * ``terms``: names and brands kept unchanged (``"Donald Trump"``).  The last
      word of a multi-word name is protected too when it stands alone
      (``"Trump"``), unless ``last_word`` is false.
    * ``renderings``: terms with a fixed rendering in the target language
      (``{"billion": "mil millones"}``), put in place of the token.

    Matching is case-aware: a term written with a capital matches only as
    written (a name); a lower-case term also matches with a capital first
    letter (at a sentence start), and its rendering is capitalized to match.
    """

    def __init__(
        self, terms: Sequence[str] = (), renderings: Mapping[str, str] | None = None, *, last_word: bool = True
    ) -> None:
        names = {" ".join(t.split()) for t in terms} - {""}
        if last_word:
            names |= {t.rsplit(" ", 1)[1] for t in names if " " in t and _is_name(t.rsplit(" ", 1)[1])}
        self.renderings: dict[str, str] = {
            " ".join(k.split()): " ".join(v.split()) for k, v in (renderings or {}).items() if k.strip() and v.strip()
        }
        names -= set(self.renderings)
        every = names | set(self.renderings)
        self.terms: tuple[str, ...] = tuple(sorted(every, key=lambda t: (-len(t), t)))

    @cached_property
    def version(self) -> str:
        """Short hash of the terms and renderings; part of every cache key."""
        joined = "\n".join([*sorted(self.terms), *(f"{k}={v}" for k, v in sorted(self.renderings.items()))])
        return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:12]

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.terms:
            return None
        alternatives = "|".join(_term_pattern(t) for t in self.terms)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def protect(self, text: str) -> tuple[str, dict[str, str]]:
        """Replace each term occurrence by its own placeholder; returns (text, placeholder -> replacement)."""
        pattern = self._pattern
        prefix = pick_prefix(text) if pattern is not None else None
        if pattern is None or prefix is None:
            return text, {}
        mapping: dict[str, str] = {}

        def substitute(match: re.Match[str]) -> str:
            if len(mapping) >= CAPACITY:
                return match.group(0)
            token = placeholder(prefix, len(mapping))
            mapping[token] = self._replacement(match.group(0))
            return token

        return pattern.sub(substitute, text), mapping

    def _replacement(self, found: str) -> str:
        """The rendering of a matched term (capitalized like the match), or the term itself."""
        key = " ".join(found.split())
        rendering = self.renderings.get(key) or self.renderings.get(key[:1].lower() + key[1:])
        if rendering is None:
            return found
        capitalized = found[:1].isupper() and key not in self.renderings
        return rendering[:1].upper() + rendering[1:] if capitalized else rendering

    def restore(self, text: str, mapping: dict[str, str]) -> str | None:
        """Put the terms back; ``None`` if any placeholder is missing or mangled."""
        for token, term in mapping.items():
            found = re.compile(re.escape(token), re.IGNORECASE)
            if not found.search(text):
                return None
            text = found.sub(term.replace("\\", "\\\\"), text)
        if mapping and _leftover(text, mapping):
            return None
        return text

    def __len__(self) -> int:
        return len(self.terms)

    def __repr__(self) -> str:
        return f"Glossary({list(self.terms)!r}, {self.renderings!r})"


def glossary_for(options: TranslationOptions, language: str, written: str | None = None) -> Glossary:
    """The glossary of one target language, from ``translation.glossary`` and ``translation.terms``.

    ``language`` is the tag configured in ``translation.languages``, ``written`` the one the
    edition is published with (``sr`` -> ``sr-Latn``): a rendering given for either applies
    (the published tag's first, see :meth:`~syndicate.config.TranslationOptions.tags_for`).
    """
    renderings = {term: options.rendering(per_language, language, written) for term, per_language in options.terms}
    return Glossary(
        options.glossary,
        {term: value for term, value in renderings.items() if value},
        last_word=options.last_word,
    )


def _is_name(word: str) -> bool:
    return len(word) >= 3 and word[:1].isupper() and word.isalpha()


def _term_pattern(term: str) -> str:
    words = [re.escape(w) for w in term.split()]
    first = term[:1]
    if first.islower():  # "billion" also matches "Billion" at a sentence start
        words[0] = f"[{first}{first.upper()}]" + re.escape(term.split()[0][1:])
    return r"\s+".join(words)


TOKEN_RE = re.compile(rf"(?i)(?:ZQ|XQ|QZ|QX)(?:[{_INDEX_LETTERS}]{{2}}|ZZ)Q")


def tokens_kept(sent: str, answer: str) -> bool:
    """Whether ``answer`` holds exactly the placeholder tokens ``sent`` held (in any order)."""
    wanted = sorted(t.upper() for t in TOKEN_RE.findall(sent))
    return sorted(t.upper() for t in TOKEN_RE.findall(answer)) == wanted


def _leftover(text: str, mapping: dict[str, str]) -> bool:
    """Whether something placeholder-like (a mangled token) is still in ``text``."""
    prefixes = {token[:2] for token in mapping}
    shapes = "|".join(prefixes)
    return re.search(rf"(?i)(?:{shapes})[{_INDEX_LETTERS}]{{1,2}}Q?(?![a-z])", text) is not None
