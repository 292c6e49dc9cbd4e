"""Reader for scraped page text (``*.txt``), the seed format (DESIGN 3.1).

One paragraph per line.  Top to bottom: an optional ``Key: value`` header
ended by a blank line; the article body (the first paragraph is the lede); an
optional related block after a marker line (``Read next``, ...) holding
briefs of a time line, an optional kicker and text; page furniture, dropped.
Every brief becomes an article of its own, dated by the rule in
:func:`brief_dates`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from syndicate.config import SourceOptions, is_furniture_pattern
from syndicate.content import linkify
from syndicate.errors import InputError
from syndicate.models import Article, Block
from syndicate.sources.common import (
    ReadContext,
    article_id,
    article_slug,
    check_date,
    check_language,
    check_url,
    derive_title,
    normalize_space,
    title_source,
)

HEADER_KEYS = ("title", "date", "updated", "url", "author", "language", "category", "tags")
_HEADER_LINE = re.compile(r"^([A-Za-z]+)\s*:\s*(.*)$")
_TIME_LINE = re.compile(
    r"^(?:(?P<iso>\d{4}-\d{2}-\d{2})[ T,]+|(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}),?\s+)?"
    r"(?P<hh>\d{1,2}):(?P<mm>\d{2})$"
)
KICKER_MAX = 60
_FINAL_PUNCTUATION = tuple(".!?…:;,\"”'’")


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    text: str


@dataclass(frozen=True, slots=True)
class _Brief:
    line: int
    day: date | None  # an explicit date on the time line
    clock: time
    kicker: str | None
    paragraphs: tuple[str, ...]


def read(path: str, text: str, ctx: ReadContext) -> list[Article]:
    """Articles of one page: the main article (if it has a body) then its briefs."""
    return read_pagetext(path, text, ctx.options, ctx.default_date, ctx.language)


def read_pagetext(
    path: str, text: str, options: SourceOptions, default_date: datetime, language: str
) -> list[Article]:
    """:func:`read` with its context spelled out."""
    lines = [_Line(n, line.strip()) for n, line in enumerate(text.split("\n"), start=1)]
    header, rest = _split_header(path, lines)
    rest = [ln for ln in rest if ln.text and not _is_furniture(ln.text, options)]
    body, related = _split_related(rest, options)
    page_date = _header_date(path, header, "date", options.timezone) or default_date
    date_only = "date" in header and _is_date_only(header["date"][1])
    if header.get("language", (0, ""))[1]:
        language = check_language(path, header["language"][1], header["language"][0])
    articles = []
    if body:
        main = _main_article(path, header, body, page_date, language, options)
        articles.append(main.replace(date_only=True) if date_only else main)
    briefs = _parse_briefs(path, related)
    local_date = page_date.astimezone(ZoneInfo(options.timezone))
    try:
        dates = brief_dates(local_date, briefs)
    except OverflowError:  # counting days back from 0001-01-01
        message = "the briefs' dates go back past the earliest date a feed can carry"
        raise InputError(path, message, briefs[0].line) from None
    for brief, when in zip(briefs, dates, strict=True):
        articles.append(_brief_article(path, brief, check_date(path, when, "brief date", brief.line), language))
    if not articles:
        raise InputError(path, "no article text (only a header or page furniture)")
    return articles


def _split_header(path: str, lines: list[_Line]) -> tuple[dict[str, tuple[int, str]], list[_Line]]:
    first = next((ln for ln in lines if ln.text), None)
    if first is None or not _is_header_line(first.text) or first.number != 1:
        return {}, lines
    header: dict[str, tuple[int, str]] = {}
    for index, line in enumerate(lines):
        if not line.text:
            return header, lines[index + 1 :]
        match = _HEADER_LINE.match(line.text)
        if not match or match.group(1).lower() not in HEADER_KEYS:
            raise InputError(
                path,
                f"header line is not 'Key: value' with a known key ({', '.join(HEADER_KEYS)});"
                " end the header with a blank line",
                line.number,
            )
        header[match.group(1).lower()] = (line.number, normalize_space(match.group(2)))
    raise InputError(path, "the header is not followed by a blank line and article text", lines[-1].number)


def _is_header_line(text: str) -> bool:
    match = _HEADER_LINE.match(text)
    return bool(match and match.group(1).lower() in HEADER_KEYS)


def _is_furniture(text: str, options: SourceOptions) -> bool:
    """Whether a line is page furniture: equal to a furniture line, or matching a ``/.../`` pattern whole.

    A marker line (``Read more``, ...) is never furniture: it starts the related block.
    """
    line = normalize_space(text)
    folded = line.casefold()
    if folded.rstrip(":") in {m.casefold() for m in options.markers}:
        return False
    lines, patterns = _furniture_matchers(options.furniture)
    return folded in lines or any(p.fullmatch(line) for p in patterns)


@functools.lru_cache(maxsize=16)
def _furniture_matchers(furniture: tuple[str, ...]) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """Furniture entries as (case-folded lines, compiled case-insensitive patterns)."""
    patterns = tuple(re.compile(e[1:-1], re.IGNORECASE) for e in furniture if is_furniture_pattern(e))
    return frozenset(e.casefold() for e in furniture if not is_furniture_pattern(e)), patterns


def _split_related(lines: list[_Line], options: SourceOptions) -> tuple[list[_Line], list[_Line]]:
    markers = {m.casefold() for m in options.markers}
    for index, line in enumerate(lines):
        if normalize_space(line.text).rstrip(":").casefold() in markers:
            return lines[:index], lines[index + 1 :]
    return lines, []


def _header_date(path: str, header: dict[str, tuple[int, str]], key: str, tz: str) -> datetime | None:
    if key not in header:
        return None
    line, value = header[key]
    parsed = parse_header_date(value, tz)
    if parsed is None:
        raise InputError(path, f"{key.title()}: {value!r} is not a date (use ISO 8601 or RFC 822)", line)
    return check_date(path, parsed, key.title(), line)


def parse_header_date(value: str, tz: str) -> datetime | None:
    """ISO 8601 or RFC 822; a value without offset is in the site timezone."""
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz))
    return parsed


def _main_article(
    path: str,
    header: dict[str, tuple[int, str]],
    body: list[_Line],
    published: datetime,
    language: str,
    options: SourceOptions,
) -> Article:
    lede = normalize_space(body[0].text)
    title = header.get("title", (0, ""))[1] or derive_title(lede)
    derived = "title" not in header or not header["title"][1]
    link = check_url(path, header["url"][1]) if "url" in header else None
    ident = article_id(title, published, link)
    tags = tuple(t.strip() for t in header.get("tags", (0, ""))[1].split(",") if t.strip())
    return Article(
        id=ident,
        slug=article_slug(title, ident),
        title=title,
        summary=lede,
        body=tuple(Block(linkify(normalize_space(ln.text))) for ln in body),
        published=published,
        updated=_header_date(path, header, "updated", options.timezone),
        language=language,
        category=header.get("category", (0, None))[1] or None,
        tags=tags,
        author=header.get("author", (0, None))[1] or None,
        link=link,
        source=path,
        title_source=title_source(lede, title) if derived else None,
    )


def _is_date_only(value: str) -> bool:
    return len(value.strip()) == 10 and value.strip()[4] == "-"


def _parse_briefs(path: str, lines: list[_Line]) -> list[_Brief]:
    groups: list[tuple[_Line, list[_Line]]] = []
    for line in lines:
        if _TIME_LINE.match(line.text):
            groups.append((line, []))
        elif not groups:
            raise InputError(path, "expected a time line (HH:MM) to start a brief after the marker", line.number)
        else:
            groups[-1][1].append(line)
    return [_brief(path, time_line, text) for time_line, text in groups]


def _brief(path: str, time_line: _Line, lines: list[_Line]) -> _Brief:
    match = _TIME_LINE.match(time_line.text)
    assert match is not None
    try:
        clock = time(int(match["hh"]), int(match["mm"]))
        day = _explicit_day(match)
    except ValueError as exc:
        raise InputError(path, f"invalid time {time_line.text!r}: {exc}", time_line.number) from None
    if not lines:
        raise InputError(path, f"the brief at {time_line.text} has no text", time_line.number)
    kicker = None
    if len(lines) > 1 and _is_kicker(lines[0].text):
        kicker, lines = normalize_space(lines[0].text), lines[1:]
    return _Brief(time_line.number, day, clock, kicker, tuple(normalize_space(ln.text) for ln in lines))


def _explicit_day(match: re.Match[str]) -> date | None:
    if match["iso"]:
        return date.fromisoformat(match["iso"])
    if match["y"]:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    return None


def _is_kicker(text: str) -> bool:
    """A short label without final punctuation, e.g. ``Ukraine-Russia War``."""
    text = text.strip()
    return len(text) <= KICKER_MAX and not text.endswith(_FINAL_PUNCTUATION) and len(text.split()) <= 6


def brief_dates(page_date: datetime, briefs: list[_Brief]) -> list[datetime]:
    """Dates of briefs listed newest first (DESIGN 3.1).

    The first brief takes the page's date, or the day before when its time is
    later than the page's time; each later brief whose time is later than the
    previous brief's moves one more day back.  A date on the time line wins.
    """
    tz = page_date.tzinfo
    day, previous = page_date.date(), page_date.timetz().replace(tzinfo=None)
    result = []
    for brief in briefs:
        if brief.day is not None:
            day = brief.day
        elif brief.clock > previous:
            day -= timedelta(days=1)
        result.append(datetime.combine(day, brief.clock, tzinfo=tz))
        previous = brief.clock
    return result


def _brief_article(path: str, brief: _Brief, published: datetime, language: str) -> Article:
    title = derive_title(brief.paragraphs[0])
    ident = article_id(title, published)
    return Article(
        id=ident,
        slug=article_slug(title, ident),
        title=title,
        summary=brief.paragraphs[0],
        body=tuple(Block(linkify(p)) for p in brief.paragraphs),
        published=published,
        language=language,
        category=brief.kicker,
        source=path,
        title_source=title_source(brief.paragraphs[0], title),
    )
