"""Deciding whether an engine's answer is a translation or an error in disguise.

This module owns :func:`answer_problem`.  Several engines answer failures
with HTTP 200 and an error message as the "translation" (MyMemory's quota
and length warnings, proxies' HTML error pages, JSON error bodies); such a
text must never be published.  A check only rejects what the source text
did not itself contain, so an article that quotes an error message still
translates.
"""

from __future__ import annotations

import json
import re

# Texts engines return in place of a translation, matched anywhere in the
# answer (upper-cased): distinctive enough never to occur in news text.
KNOWN_ERROR_TEXTS: tuple[str, ...] = (
    "MYMEMORY WARNING",
    "QUERY LENGTH LIMIT EXCEEDED",
    "QUERY LENGTH LIMIT EXCEDEED",  # MyMemory's own spelling
    "YOU USED ALL AVAILABLE FREE TRANSLATIONS",
    "INVALID LANGUAGE PAIR SPECIFIED",
    "PLEASE SELECT TWO DISTINCT LANGUAGES",
    "IS AN INVALID TARGET LANGUAGE",
    "IS AN INVALID SOURCE LANGUAGE",
    "NO QUERY SPECIFIED",
    "TRACEBACK (MOST RECENT CALL LAST)",
)
# Generic error phrases: rejected only when they are the whole answer, since
# an English translation may legitimately contain "too many requests".  Single
# words ("Error", "Forbidden") are not listed: they are plausible headings.
GENERIC_ERROR_ANSWERS: frozenset[str] = frozenset({
    "TOO MANY REQUESTS", "RATE LIMIT EXCEEDED", "QUOTA EXCEEDED", "INTERNAL SERVER ERROR",
    "SERVICE UNAVAILABLE", "SERVICE TEMPORARILY UNAVAILABLE", "BAD GATEWAY", "GATEWAY TIMEOUT",
    "REQUEST TIMEOUT", "REQUEST ENTITY TOO LARGE", "PAYLOAD TOO LARGE",
})  # fmt: skip
_HTTP_STATUS_LINE = re.compile(r"^\s*(?:HTTP/\S+\s+)?[1-5]\d\d(?:\s+[A-Za-z][\w' -]*)?\s*$")
_HTML = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|title|h1)\b", re.IGNORECASE)
_JSON_ERROR_KEYS = frozenset({"error", "errors", "message", "detail", "code", "status", "responseStatus"})

MAX_GROWTH = 4.0  # an answer may be this many times longer than its input...
MAX_GROWTH_SLACK = 40  # ...plus this many characters (short inputs, expansions)


def answer_problem(source: str, answer: object) -> str | None:
    """Why ``answer`` is not an acceptable translation of ``source``, or ``None`` if it is."""
    if not isinstance(answer, str):
        return f"answer is not text ({type(answer).__name__})"
    if not answer.strip():
        return "empty answer" if source.strip() else None
    if len(answer) > MAX_GROWTH * len(source) + MAX_GROWTH_SLACK:
        return f"answer is {len(answer)} characters for {len(source)}"
    return _error_text(source, answer)


def _error_text(source: str, answer: str) -> str | None:
    upper_answer, upper_source = answer.upper(), source.upper()
    for marker in KNOWN_ERROR_TEXTS:
        if marker in upper_answer and marker not in upper_source:
            return f"engine error text ({marker.lower()})"
    bare = _bare(upper_answer)
    if bare in GENERIC_ERROR_ANSWERS and bare != _bare(upper_source):
        return f"engine error text ({bare.lower()})"
    if _HTTP_STATUS_LINE.match(answer) and not _HTTP_STATUS_LINE.match(source):
        return "answer is an HTTP status line"
    if _HTML.search(answer) and not _HTML.search(source):
        return "answer is an HTML page"
    if _is_json_error(answer) and not _is_json_error(source):
        return "answer is a JSON error body"
    return None


def _bare(text: str) -> str:
    """Upper-cased text without an ``Error:``/status-code prefix and outer punctuation."""
    text = re.sub(r"^\s*(?:ERROR\s*[:\-]\s*)?(?:\d{3}\s*[:\-]?\s*)?", "", text)
    return " ".join(text.strip(" \t\r\n.!:;-\"'").split())


def _is_json_error(text: str) -> bool:
    stripped = text.strip()
    if not stripped.startswith("{"):
        return False
    try:
        parsed = json.loads(stripped)
    except ValueError:
        return False
    return isinstance(parsed, dict) and bool(_JSON_ERROR_KEYS & set(parsed))
