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
from collections.abc import Sequence
from functools import cached_property

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
    """A set of protected terms (matched case-sensitively, as whole words, longest first)."""

    def __init__(self, terms: Sequence[str] = ()) -> None:
        cleaned = {" ".join(t.split()) for t in terms}
        self.terms: tuple[str, ...] = tuple(sorted((t for t in cleaned if t), key=lambda t: (-len(t), t)))

    @cached_property
    def version(self) -> str:
        """Short hash of the sorted terms; part of every cache key."""
        joined = "\n".join(sorted(self.terms))
        return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:12]

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.terms:
            return None
        alternatives = "|".join(r"\s+".join(re.escape(w) for w in t.split()) for t in self.terms)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def protect(self, text: str) -> tuple[str, dict[str, str]]:
        """Replace each term occurrence by its own placeholder; returns (text, placeholder -> term)."""
        pattern = self._pattern
        prefix = pick_prefix(text) if pattern is not None else None
        if pattern is None or prefix is None:
            return text, {}
        mapping: dict[str, str] = {}

        def substitute(match: re.Match[str]) -> str:
            if len(mapping) >= CAPACITY:
                return match.group(0)
            token = placeholder(prefix, len(mapping))
            mapping[token] = match.group(0)
            return token

        return pattern.sub(substitute, text), mapping

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
        return f"Glossary({list(self.terms)!r})"


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
