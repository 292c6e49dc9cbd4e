"""What every reader shares: safe decoding, derived titles, stable identity.

Identity: an article's id is a UUID-5 URN computed from its canonical link
when the source gives one, else from its publication instant and title; the
slug is the title in ASCII plus the first 8 hex digits of that id.  Neither
depends on the file path or on the time of the run.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from syndicate.config import SourceOptions
from syndicate.errors import ConfigError, InputError
from syndicate.models import XML_FORBIDDEN, Article


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What every reader is given besides a file's path and text."""

    options: SourceOptions
    language: str  # the site's source language: the default for articles that name none
    default_date: datetime  # for articles without a date: configured, else the file's mtime


class Reader(Protocol):
    """One input format: ``read(shown_path, text, ctx)`` -> the file's articles.

    A reader is a module of ``syndicate.sources`` with a ``read`` function of
    this shape, listed by suffix in :data:`syndicate.sources.READERS`; it
    raises :class:`InputError` naming ``path`` (and a line) for a bad file.
    """

    def __call__(self, path: str, text: str, ctx: ReadContext) -> list[Article]: ...


NAMESPACE = uuid.UUID("6f1d8c1e-5b7a-4c0e-9f3a-2d4b8e7c9a10")
TITLE_LIMIT = 120
MIN_CLAUSE = 50  # a clause cut shorter than this reads as a fragment: cut at a word instead
SLUG_WORDS_LIMIT = 60

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st jr sr gen gov sen rep col lt sgt capt no vs etc inc ltd co corp dept est
    jan feb mar apr jun jul aug sep sept oct nov dec fig approx""".split()
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)")
_CLAUSE_BREAK = re.compile(r"\s*[,;:]\s|\s+[—–]\s+|\s+-\s+")


def decode_text(path: Path | str, data: bytes, max_bytes: int) -> str:
    """UTF-8 text of an input file, or an InputError that names the problem."""
    if len(data) > max_bytes:  # a backstop: the safe reader checks the size before reading
        raise InputError(path, f"file too large ({len(data)} bytes; the limit is {max_bytes})")
    if not data.strip():
        raise InputError(path, "empty file")
    if b"\x00" in data[:8192]:
        raise InputError(path, "binary file (contains NUL bytes); not an article")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, f"invalid UTF-8 at byte {exc.start}", line) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    check_xml_chars(path, text)
    return text


def check_xml_chars(path: Path | str, text: str, line_offset: int = 0) -> None:
    """Reject characters that XML forbids, naming the line and code point."""
    match = XML_FORBIDDEN.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1 + line_offset
        raise InputError(path, f"{forbidden_name(match.group())} is not allowed in XML", line)


def forbidden_name(char: str) -> str:
    """What an XML-forbidden character is, by its kind: ``control character U+0007``,
    ``surrogate U+D800`` (half of a UTF-16 pair, never a character on its own),
    ``noncharacter U+FFFE``."""
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        kind = "surrogate"
    elif code in (0xFFFE, 0xFFFF) or 0xFDD0 <= code <= 0xFDEF:
        kind = "noncharacter"
    else:
        kind = "control character"
    return f"{kind} U+{code:04X}"


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def first_sentence(text: str) -> str:
    """The first sentence of ``text``, keeping abbreviations like "U.S." intact."""
    for match in _SENTENCE_END.finditer(text):
        before = text[: match.start()].rsplit(None, 1)[-1] if text[: match.start()].strip() else ""
        if match.group().startswith(".") and _is_abbreviation(before):
            continue
        return text[: match.end()].strip()
    return text.strip()


def _is_abbreviation(word: str) -> bool:
    word = word.lstrip("\"'“‘(")
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]?", word):  # U.S, e.g, U.S.A
        return True
    if len(word) == 1 and word.isupper():  # middle initial: "John F. Kennedy"
        return True
    return word.lower() in _ABBREVIATIONS


def derive_title(text: str, limit: int = TITLE_LIMIT) -> str:
    """A headline from a lede: its first sentence, cut to at most ``limit`` characters.

    The cut falls at the last clause boundary (comma, semicolon, colon, dash)
    that keeps at least MIN_CLAUSE characters, else at the last word boundary,
    marked with an ellipsis; never mid-word.  A final full stop is dropped.
    """
    sentence = normalize_space(first_sentence(text))
    if len(sentence) <= limit:
        return _drop_full_stop(sentence)
    head = sentence[: limit + 1]
    clauses = [m.start() for m in _CLAUSE_BREAK.finditer(head) if m.start() >= MIN_CLAUSE]
    if clauses:
        return sentence[: clauses[-1]].rstrip()
    cut = head[:limit].rsplit(" ", 1)[0] if " " in head[:limit] else head[:limit]
    return cut.rstrip(" ,;:—–-") + "…"


def title_source(lede: str, title: str) -> str | None:
    """The whole first sentence of ``lede`` when ``title`` was cut from it, else ``None``.

    A translation translates the whole sentence and cuts it in its own language.
    """
    sentence = normalize_space(first_sentence(lede))
    return sentence if len(sentence) > len(title) + 1 else None


def _drop_full_stop(sentence: str) -> str:
    if sentence.endswith(".") and not sentence.endswith("...") and sentence[:-1].strip():  # "." stays
        last = sentence[:-1].rsplit(None, 1)[-1] if " " in sentence else sentence[:-1]
        if not _is_abbreviation(last + "."):
            return sentence[:-1]
    return sentence


def article_id(title: str, published: datetime, link: str | None = None) -> str:
    """A stable id: from the canonical link if any, else from instant and title."""
    if link:
        basis = f"link|{link}"
    else:
        instant = published.astimezone(UTC).isoformat()
        basis = f"item|{instant}|{normalize_space(title).casefold()}"
    return uuid.uuid5(NAMESPACE, basis).urn


def slugify(text: str, limit: int = SLUG_WORDS_LIMIT) -> str:
    """ASCII words joined by hyphens, cut at a word boundary.

    Accented Latin letters lose their accents (as always: ASCII titles and their
    published slugs never change); letters with no ASCII decomposition are
    transliterated (ß -> ss, ø -> o, Arabic, Cyrillic, Greek, CJK ...), so a
    title with letters never gives an empty slug.
    """
    from anyascii import anyascii

    def ascii_of(char: str) -> str:
        plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        if plain or unicodedata.category(char)[0] not in "LMN":
            return plain
        return anyascii(char)

    plain = text if text.isascii() else "".join(map(ascii_of, text))
    words = re.findall(r"[a-z0-9]+", plain.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or (words[0][:limit] if words else "")


def article_slug(title: str, article_id_: str) -> str:
    digest = article_id_.rsplit(":", 1)[-1].replace("-", "")[:8]
    words = slugify(title)
    return f"{words}-{digest}" if words else digest


def check_slug(path: Path | str, slug: str) -> str:
    """An explicit slug from front matter: lower-case ASCII words and hyphens only."""
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug) or len(slug) > 120:
        raise InputError(path, f"invalid slug {slug!r} (use lower-case letters, digits and hyphens)")
    return slug


def check_language(path: Path | str, tag: str, line: int | None = None) -> str:
    """A language tag from the source, normalized: it becomes a directory name and a ``lang``."""
    from syndicate.localize import normalize_tag

    try:
        return normalize_tag(tag)
    except ConfigError as exc:
        raise InputError(path, exc.message, line) from None


# Every instant must convert to UTC and to any timezone (0001-01-01 +01:00 cannot).
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)
OUT_OF_RANGE = "cannot be represented in UTC and every timezone (use a date from 0001-01-02 to 9999-12-30)"


def check_date(path: Path | str, moment: datetime, what: str, line: int | None = None) -> datetime:
    """``moment`` (timezone-aware) if every stage can use it, else an InputError naming ``what``."""
    try:
        usable = _EARLIEST <= moment.astimezone(UTC) <= _LATEST
    except OverflowError:
        usable = False
    if not usable:
        raise InputError(path, f"{what}: {moment.isoformat()} {OUT_OF_RANGE}", line)
    return moment


def check_url(path: Path | str, url: str) -> str:
    """A link from the source: absolute http(s) only (no javascript:, data:, ...)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError as exc:
        raise InputError(path, f"invalid link {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in " \n\t<>\"'"):
        raise InputError(path, f"invalid link {url!r} (only absolute http and https URLs)")
    return url
