"""Splitting text that is longer than an engine accepts, and joining it back.

This module owns :func:`split_text`: a text over the limit is cut at
sentence boundaries, a sentence still over the limit at word boundaries, and
a word still over the limit (rare: URLs, runs without spaces) at the limit.
Each piece keeps the whitespace that followed it, so
``join_pieces([p.text for p in pieces], pieces)`` rebuilds the spacing of
the original around the translated pieces.  Pieces are packed greedily, so a
text is only cut where it must be.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_CLOSERS = "\"'”’»)]"
_TERMINALS = (".", "!", "?", "…", "。", "！", "？")
# Candidate boundaries: a whitespace run, or the point right after a CJK full
# stop (those languages put no space between sentences).
_GAPS = re.compile(r"\s+|(?<=[。！？])(?=\S)")
_WORD_GAP = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece of a split text and the whitespace that followed it."""

    text: str
    gap: str = ""


def limit_measure(max_chars: int, max_bytes: int | None = None) -> Callable[[str], bool]:
    """A predicate: does a text fit in ``max_chars`` characters (and ``max_bytes`` UTF-8 bytes)?"""

    def fits(text: str) -> bool:
        if len(text) > max_chars:
            return False
        return max_bytes is None or len(text.encode("utf-8")) <= max_bytes

    return fits


def split_text(text: str, fits: Callable[[str], bool]) -> list[Piece]:
    """Cut ``text`` into pieces that each ``fits``; one piece when it already fits.

    Whole sentences are packed together; an over-long sentence is cut at
    words (packed among themselves, never joined with the next sentence).
    """
    if fits(text):
        return [Piece(text)]
    pieces: list[Piece] = []
    sentences: list[Piece] = []
    for sentence in _sentences(text):
        if fits(sentence.text):
            sentences.append(sentence)
            continue
        pieces.extend(_pack(sentences, fits))
        sentences = []
        pieces.extend(_pack(_split_sentence(sentence, fits), fits))
    pieces.extend(_pack(sentences, fits))
    return pieces


def join_pieces(translations: Sequence[str], pieces: Sequence[Piece]) -> str:
    """Rebuild a text from its translated pieces and the original gaps."""
    return "".join(t + p.gap for t, p in zip(translations, pieces, strict=True))


def _sentences(text: str) -> list[Piece]:
    """Split after sentence-final punctuation (closing quotes and brackets stay with the sentence)."""
    result: list[Piece] = []
    start = 0
    for match in _GAPS.finditer(text):
        before = text[start : match.start()].rstrip(_CLOSERS)
        if match.start() == start or (match.group(0) and not before.endswith(_TERMINALS)):
            continue
        result.append(Piece(text[start : match.start()], match.group(0)))
        start = match.end()
    result.append(Piece(text[start:]))
    return [p for p in result if p.text or p.gap]


def _words(text: str) -> list[Piece]:
    """Split at whitespace runs, each run kept as the gap of the word before it."""
    result: list[Piece] = []
    start = 0
    for match in _WORD_GAP.finditer(text):
        if match.start() == start:
            continue
        result.append(Piece(text[start : match.start()], match.group(0)))
        start = match.end()
    result.append(Piece(text[start:]))
    return [p for p in result if p.text or p.gap]


def _split_sentence(sentence: Piece, fits: Callable[[str], bool]) -> list[Piece]:
    words = _words(sentence.text)
    if words:
        words[-1] = Piece(words[-1].text, words[-1].gap + sentence.gap)
    result: list[Piece] = []
    for word in words:
        result.extend([word] if fits(word.text) else _hard_split(word, fits))
    return result


def _hard_split(word: Piece, fits: Callable[[str], bool]) -> list[Piece]:
    """Cut a single over-long word at the largest prefix that fits."""
    result: list[Piece] = []
    rest = word.text
    while rest:
        size = _largest_prefix(rest, fits)
        result.append(Piece(rest[:size]))
        rest = rest[size:]
    if result:
        result[-1] = Piece(result[-1].text, word.gap)
    return result


def _largest_prefix(text: str, fits: Callable[[str], bool]) -> int:
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return low


def _pack(pieces: Sequence[Piece], fits: Callable[[str], bool]) -> list[Piece]:
    """Greedily merge consecutive pieces while the merged text still fits."""
    packed: list[Piece] = []
    for piece in pieces:
        if packed and fits(packed[-1].text + packed[-1].gap + piece.text):
            last = packed[-1]
            packed[-1] = Piece(last.text + last.gap + piece.text, piece.gap)
        else:
            packed.append(piece)
    return packed
