"""Quality gates: is an engine's answer really a translation of what was sent?

This module owns every judgment made on an answer before it is cached or
published (DESIGN 4).  Answers are judged by their *shape*, never by a list
of phrases: an engine's error message can be worded in any way and in any
language, but it cannot keep the numbers, links and placeholders of the text
it replaces, it rarely has a plausible length, and an engine that answers
with a message answers the same message for every input.

Per segment (:func:`answer_problem`), an answer is rejected when it is:

* not text, or empty for a non-empty input;
* the source sent back (``echo``): the languages differ and the input has at
  least :data:`ECHO_MIN_WORDS` words of letters;
* of an implausible length: far shorter or far longer than the input;
* missing or changing a number (digit runs compared without their grouping
  separators, so ``1,000`` and ``1.000`` are the same number), a URL, a
  placeholder token (see :data:`PLACEHOLDER`) or an HTML tag;
* shaped like a transport error: an HTTP status line, an HTML page or a JSON
  error body when the input was none of these;
* in the wrong script (``wrong script``): for a language written in Latin or
  Cyrillic script (Serbian, Bosnian, Uzbek, ...), an answer almost all in
  the other one (an engine asked for ``sr-Latn`` that writes Cyrillic, or
  the reverse), so no edition is published under a tag its text belies.

Per run (:func:`repeated_answers`): one answer given for several different
inputs is an engine message, not a translation.

apertium marks the words it could not translate (``*word`` unknown,
``@word`` untranslated by transfer, ``#word`` not generated):
:func:`strip_unknown_marks` counts and removes them, and the translation
stage turns the counts into an article's unknown-word share.

A reason is a short string whose first words say the kind of failure
(``echo``, ``engine message``, ``lost number (2020)``); :func:`reason_kind`
extracts the kind for summaries.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence

# The placeholders of the protect/markup layer: five capitals, e.g. ``ZQBCQ``
# (see syndicate/translate/protect.py).  Engines may glue a suffix on.
PLACEHOLDER = re.compile(r"(?i)\b(?:ZQ|XQ|QZ|QX)(?:[BCDFGHJKLMNPRSTV]{2}|ZZ)Q")

ECHO_MIN_WORDS = 3  # an input with fewer words of letters may legitimately come back unchanged
MAX_GROWTH, GROWTH_SLACK = 3.0, 30  # an answer may be 3x its input, plus 30 characters
MIN_SHRINK, SHRINK_SLACK = 0.25, 12  # ...and at least a quarter of it, minus 12 characters
DENSE_SCRIPTS_MIN_SHRINK = 0.1  # Chinese, Japanese, Korean targets are much shorter in characters
_DENSE_TARGETS = frozenset({"zh", "ja", "ko", "yue"})
REPEAT_MIN_INPUTS = 3  # one answer for this many different inputs is an engine message...
REPEAT_MIN_WORDS = 3  # ...or for two different inputs of at least this many words each

# Languages written in Latin or Cyrillic script: an answer in the other script is refused.
DIGRAPHIC = frozenset({"sr", "sh", "bs", "cnr", "uz", "az", "kk", "ky", "tk", "tg", "mn"})
SCRIPT_MIN_LETTERS = 10  # letters of the other script before an answer is judged...
SCRIPT_MIN_SHARE = 0.1  # ...and the share of the edition's script below which it is refused
_SCRIPTS = {"LATIN": "Latn", "CYRILLIC": "Cyrl", "GREEK": "Grek", "ARABIC": "Arab", "HEBREW": "Hebr"}

_WORD = re.compile(r"[^\W\d_]{2,}")
_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f\u2009'’]\d+)*")
_SPACED_NUMBER = re.compile(r"\d{1,3}(?: \d{3})+(?!\d)")  # "1 000 000" with plain spaces (fr, ru...)
_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"']+|\bwww\.[^\s<>\"']+", re.IGNORECASE)
_URL_TRAIL = ".,;:!?)]}'\"»”’"
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b([^<>]*)>")
_LINK_ATTRIBUTE = re.compile(r"""\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_HTTP_STATUS_LINE = re.compile(r"^\s*(?:HTTP/\S+\s+)?[1-5]\d\d(?:\s+[A-Za-z][\w' -]*)?\s*$")
_HTML_PAGE = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|title|h1)\b", re.IGNORECASE)
_JSON_ERROR_KEYS = frozenset({"error", "errors", "message", "detail", "code", "status", "responseStatus"})
_UNKNOWN_MARK = re.compile(r"(?<![^\s(\[«\"“'‘¿¡*#@/\-–—])([*#@]+)([^\W\d_]\w*)")
_ANY_WORD = re.compile(r"(?<!\w)[^\W\d_]\w*")  # what apertium can mark: a word starting with a letter
_TRAILING_MARK = re.compile(r"(?<=\w)[#@*]+(?=[\s.,;:!?)\]»\"”'’]|$)")


def answer_problem(
    source: str, answer: object, *, source_language: str | None = None, target_language: str | None = None
) -> str | None:
    """Why ``answer`` is not an acceptable translation of ``source``, or ``None`` if it is.

    ``source`` is the text exactly as sent (placeholders included).  Without
    both languages the echo gate is skipped (nothing says they differ).
    """
    basic = basic_problem(source, answer)
    if basic is not None or not isinstance(answer, str) or not source.strip():
        return basic
    for check in (_transport_error, _echo, _length, _lost_items, _wrong_script):
        problem = check(source, answer, source_language, target_language)
        if problem is not None:
            return problem
    return None


def basic_problem(source: str, answer: object) -> str | None:
    """The checks that need no context: the answer is text, and not empty for a real input."""
    if not isinstance(answer, str):
        return f"engine message (answer is {type(answer).__name__}, not text)"
    if not answer.strip() and source.strip():
        return "empty answer"
    return None


def repeated_answers(pairs: Iterable[tuple[str, str]]) -> set[str]:
    """Answers given for several different inputs in one run (engine messages).

    ``pairs`` are (input, answer).  An answer counts as a message when it was
    given for at least :data:`REPEAT_MIN_INPUTS` different inputs, or for two
    different inputs of at least :data:`REPEAT_MIN_WORDS` words each.  An
    answer equal to one of its inputs (a name, a number) is left alone.
    """
    inputs: dict[str, set[str]] = {}
    for text, answer in pairs:
        key = _normal(answer)
        if key:
            inputs.setdefault(key, set()).add(_normal(text))
    repeated: set[str] = set()
    for key, texts in inputs.items():
        if key in texts:
            continue
        distinct = _distinct_inputs(sorted(texts))  # "The ferry reopens" and "Ferry reopens" may share a translation
        long_inputs = [t for t in distinct if len(_WORD.findall(t)) >= REPEAT_MIN_WORDS]
        if len(distinct) >= REPEAT_MIN_INPUTS or len(long_inputs) >= 2:
            repeated.add(key)
    return repeated


REPEAT_NEAR = 0.6  # inputs sharing this share of their words are near-duplicates, not "different"


def _distinct_inputs(texts: list[str]) -> list[str]:
    """One representative per group of near-identical inputs (word sets overlapping by REPEAT_NEAR)."""
    kept: list[tuple[str, set[str]]] = []
    for text in texts:
        words = {w.casefold() for w in _WORD.findall(text)}
        if not any(_overlap(words, other) >= REPEAT_NEAR for _, other in kept):
            kept.append((text, words))
    return [text for text, _ in kept]


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def unchanged(source: str, answer: str) -> bool:
    """Whether ``answer`` is ``source`` sent back (spacing, case and punctuation aside)."""
    return _normal(answer) == _normal(source)


def is_repeated(answer: str, repeated: set[str]) -> bool:
    return _normal(answer) in repeated


def repeat_group(answer: str) -> str:
    """What :func:`repeated_answers` groups answers by (one group: one engine message)."""
    return _normal(answer)


def strip_unknown_marks(sent: str, answer: str) -> tuple[str, int]:
    """apertium's output without its ``*``/``@``/``#`` marks, and how many words were marked.

    apertium puts ONE mark right before a word (``*Trump``, ``#reći``); a
    source's own ``#hashtag`` comes back as ``#*hashtag``.  So the mark next
    to the word is the engine's unless the sent text has that very run and
    word (``#hashtag`` left as it was); marks before it are the source's.
    Marked placeholders are stripped but not counted (protected on purpose).
    """
    unknown = 0

    def unmark(match: re.Match[str]) -> str:
        nonlocal unknown
        run, word = match.group(1), match.group(2)
        if run + word in sent:
            return match.group(0)
        if not PLACEHOLDER.match(word):
            unknown += 1
        return run[:-1] + word

    text = _UNKNOWN_MARK.sub(unmark, answer)
    trailing = {m for m in "*#@" if re.search(rf"\w{re.escape(m)}", sent)}
    text = _TRAILING_MARK.sub(lambda m: m.group(0) if set(m.group(0)) & trailing else "", text)
    return text, unknown


def word_count(text: str) -> int:
    """Words (starting with a letter) in ``text``, placeholders excluded: the unknown share's denominator."""
    return len(_ANY_WORD.findall(PLACEHOLDER.sub(" ", text)))


def reason_kind(reason: str) -> str:
    """The kind of a reason, for summaries: ``lost number (2020)`` -> ``lost number``."""
    return reason.split(" (", 1)[0]


# --------------------------------------------------------------------------- gates


def _transport_error(source: str, answer: str, _src: str | None, _tgt: str | None) -> str | None:
    if _HTTP_STATUS_LINE.match(answer) and not _HTTP_STATUS_LINE.match(source):
        return "engine message (an HTTP status line)"
    if _HTML_PAGE.search(answer) and not _HTML_PAGE.search(source):
        return "engine message (an HTML page)"
    if _is_json_error(answer) and not _is_json_error(source):
        return "engine message (a JSON error body)"
    return None


def _wrong_script(source: str, answer: str, _src: str | None, target_language: str | None) -> str | None:
    """An answer almost all in the other script of a Latin/Cyrillic language (names in it may differ)."""
    if target_language is None or _primary(target_language) not in DIGRAPHIC:
        return None
    from syndicate.translate.base import script_of

    expected = script_of(target_language)
    if expected not in ("Latn", "Cyrl"):
        return None
    other = "Cyrl" if expected == "Latn" else "Latn"
    letters = letter_scripts(_URL.sub(" ", PLACEHOLDER.sub(" ", answer)))
    theirs, ours = letters[other], letters[expected]
    if theirs >= SCRIPT_MIN_LETTERS and ours < SCRIPT_MIN_SHARE * (ours + theirs):
        return f"wrong script ({other}, but {target_language} is written in {expected})"
    return None


def letter_scripts(text: str) -> Counter[str]:
    """How many letters of ``text`` are in each script this module tells apart (Latn, Cyrl, Grek, Arab, Hebr)."""
    import unicodedata

    found = (_SCRIPTS.get(unicodedata.name(c, "").split(" ", 1)[0]) for c in text if c.isalpha())
    return Counter(script for script in found if script is not None)


def _echo(source: str, answer: str, source_language: str | None, target_language: str | None) -> str | None:
    if source_language is None or target_language is None or _primary(source_language) == _primary(target_language):
        return None
    if len(_WORD.findall(PLACEHOLDER.sub(" ", source))) < ECHO_MIN_WORDS:
        return None
    return "echo" if _normal(answer) == _normal(source) else None


def _length(source: str, answer: str, _src: str | None, target_language: str | None) -> str | None:
    sent, got = len(source.strip()), len(answer.strip())
    if got > MAX_GROWTH * sent + GROWTH_SLACK:
        return f"implausible length ({got} characters for {sent})"
    shrink = MIN_SHRINK
    if target_language is not None and _primary(target_language) in _DENSE_TARGETS:
        shrink = DENSE_SCRIPTS_MIN_SHRINK
    if got < shrink * sent - SHRINK_SLACK:
        return f"implausible length ({got} characters for {sent})"
    return None


def _lost_items(source: str, answer: str, _src: str | None, _tgt: str | None) -> str | None:
    lost_url = _lost(_urls(source), _urls(answer))
    if lost_url:
        return f"lost URL ({lost_url})"
    source, answer = _URL.sub(" ", source), _URL.sub(" ", answer)  # a URL's digits are checked with it
    lost_number = _lost(_numbers(source), _numbers(answer), _numbers(answer, spaced=True))
    if lost_number:
        return f"lost number ({lost_number})"
    lost_token = _token_difference(source, answer)
    if lost_token:
        return f"lost placeholder ({lost_token})"
    lost_tag = _lost_tag(source, answer)
    if lost_tag:
        return f"lost tag ({lost_tag})"
    return None


def _lost(wanted: Counter[str], *candidates: Counter[str]) -> str | None:
    """The first item of ``wanted`` that no candidate multiset holds as often, or None."""
    best: str | None = None
    for got in candidates:
        missing = wanted - got
        if not missing:
            return None
        best = best or next(iter(sorted(missing)))
    return best


def _numbers(text: str, *, spaced: bool = False) -> Counter[str]:
    """Digit runs with their grouping/decimal separators removed and leading zeros dropped."""
    text = PLACEHOLDER.sub(" ", text)
    if spaced:
        text = _SPACED_NUMBER.sub(lambda m: m.group(0).replace(" ", ""), text)
    found: Counter[str] = Counter()
    for match in _NUMBER.finditer(text):
        digits = re.sub(r"\D", "", match.group(0)).lstrip("0") or "0"
        found[digits] += 1
    return found


def _urls(text: str) -> Counter[str]:
    return Counter(m.group(0).rstrip(_URL_TRAIL) for m in _URL.finditer(text))


def _token_difference(source: str, answer: str) -> str | None:
    sent = Counter(m.group(0).upper() for m in PLACEHOLDER.finditer(source))
    got = Counter(m.group(0).upper() for m in PLACEHOLDER.finditer(answer))
    if sent == got:
        return None
    missing, extra = sent - got, got - sent
    if missing:
        return f"{next(iter(sorted(missing)))} missing"
    return f"{next(iter(sorted(extra)))} added"


def _lost_tag(source: str, answer: str) -> str | None:
    sent, got = _tags(source), _tags(answer)
    if sent == got:
        return None
    missing = sent - got
    return next(iter(sorted(missing or (got - sent))))


def _tags(text: str) -> Counter[str]:
    """Tags as ``<name>``/``</name>``, plus every link target, as a multiset."""
    found: Counter[str] = Counter()
    for match in _TAG.finditer(text):
        found[f"<{match.group(1)}{match.group(2).lower()}>"] += 1
        for link in _LINK_ATTRIBUTE.finditer(match.group(3)):
            found[next(g for g in link.groups() if g is not None)] += 1
    return found


# --------------------------------------------------------------------------- helpers


def _normal(text: str) -> str:
    """Case-folded words and numbers only: what is left when spacing and punctuation differ."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def _primary(tag: str) -> str:
    return tag.replace("_", "-").split("-", 1)[0].lower()


def _is_json_error(text: str) -> bool:
    stripped = text.strip()
    if not stripped.startswith("{"):
        return False
    try:
        parsed = json.loads(stripped)
    except ValueError:
        return False
    return isinstance(parsed, dict) and bool(_JSON_ERROR_KEYS & set(parsed))


def unknown_share(counts: Sequence[tuple[int, int]]) -> float:
    """Unknown words over all words, from (words, unknown) pairs; 0 when there are no words."""
    words = sum(w for w, _ in counts)
    unknown = sum(u for _, u in counts)
    return unknown / words if words else 0.0
