"""Language tags, text direction and babel display strings (DESIGN 5).

This module owns everything a reader sees that depends on a language:

* BCP 47 tags: :func:`normalize_tag` validates a tag (shape, and that babel
  has data for it) before it becomes a directory name or a ``lang`` attribute.
* Text direction: :func:`text_direction`.
* Display strings: language names, edition titles, newspaper datelines,
  the machine-translation note and a few page labels.

No global locale state is read or changed: every babel call gets its locale
explicitly and every time is converted to an explicit IANA timezone, so the
output never depends on the process locale or ``TZ``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Container
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

from syndicate.errors import ConfigError

Direction = Literal["ltr", "rtl"]

# language[-script][-region][-variant...]; "_" is accepted as a separator on input.
_TAG_RE = re.compile(
    r"""(?P<language>[A-Za-z]{2,3})
        (?:[-_](?P<script>[A-Za-z]{4}))?
        (?:[-_](?P<region>[A-Za-z]{2}|[0-9]{3}))?
        (?P<variants>(?:[-_](?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)""",
    re.VERBOSE,
)
_DEPRECATED_LANGUAGES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
_EXAMPLE_TAGS = "such as 'en', 'pt-BR' or 'zh-Hant-TW'"


# --------------------------------------------------------------------------- tags


@functools.lru_cache(maxsize=256)
def normalize_tag(tag: str) -> str:
    """Return the canonical BCP 47 form of ``tag`` (``pt_BR`` -> ``pt-BR``).

    Raises :class:`ConfigError` for anything that is not a plain
    language[-script][-region][-variant] tag or that babel has no data for.
    The result only contains ASCII letters, digits and ``-``: it is safe as
    a directory name.
    """
    match = _TAG_RE.fullmatch(tag.strip()) if isinstance(tag, str) else None
    if match is None:
        raise ConfigError(f"invalid language tag {tag!r}: expected a BCP 47 tag {_EXAMPLE_TAGS}")
    language = match["language"].lower()
    language = _DEPRECATED_LANGUAGES.get(language, language)
    parts = [language]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    parts += [v.lower() for v in re.split(r"[-_]", match["variants"]) if v]
    normalized = "-".join(parts)
    if language == "und":
        raise ConfigError(f"invalid language tag {tag!r}: 'und' (undetermined) cannot be an edition")
    _babel_locale(normalized, original=tag)
    return normalized


@functools.lru_cache(maxsize=256)
def _babel_locale(normalized: str, original: str | None = None) -> Locale:
    try:
        return Locale.parse(normalized, sep="-")
    except (UnknownLocaleError, ValueError) as exc:
        shown = original if original is not None else normalized
        raise ConfigError(f"unknown language tag {shown!r}: babel has no locale data for it") from exc


def babel_locale(tag: str) -> Locale:
    """The babel :class:`Locale` for a (not necessarily normalized) tag."""
    return _babel_locale(normalize_tag(tag))


def text_direction(tag: str) -> Direction:
    """``"rtl"`` for right-to-left languages and scripts (CLDR, via babel), else ``"ltr"``."""
    try:
        direction = babel_locale(tag).text_direction
    except ConfigError:
        return "ltr"
    return "rtl" if direction == "rtl" else "ltr"


# ------------------------------------------------------------------ display names


def language_name(tag: str, in_language: str) -> str:
    """The name of ``tag``'s language written in ``in_language`` (babel CLDR data)."""
    name = babel_locale(tag).get_display_name(babel_locale(in_language))
    return name or normalize_tag(tag)


def native_name(tag: str) -> str:
    """The language's name in itself, e.g. ``español``: for language switchers."""
    return language_name(tag, tag)


def edition_title(site_title: str, tag: str) -> str:
    """The title of one language edition, e.g. ``World Desk (español)``."""
    return f"{site_title} ({native_name(tag)})"


# ---------------------------------------------------------------------- datelines


@functools.lru_cache(maxsize=65536)
def format_dateline(dt: datetime, tag: str, timezone: str) -> str:
    """A newspaper dateline: long date, short time and zone in ``timezone``.

    ``format_dateline(dt, "es", "Europe/Moscow")`` gives
    ``14 de abril de 2025, 10:46 MSK``.  The parts are joined with the
    locale's own long date-time pattern; ``dt`` must be timezone-aware.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"format_dateline needs a timezone-aware datetime, got {dt!r}")
    local = dt.astimezone(zone(timezone))
    date_part = _long_date(local.date(), tag)
    time_part = f"{_short_time(local.hour, local.minute, tag)} {zone_abbreviation(local)}"
    return _datetime_pattern(tag).replace("{1}", date_part).replace("{0}", time_part)


def format_date_only(day: date, tag: str) -> str:
    """A dateline for a source that gave a day without a time: the long date alone."""
    return _long_date(day, tag)


# babel formats slowly (~150 us a call); a newsroom's articles share few days and minutes.
@functools.lru_cache(maxsize=8192)
def _long_date(day: date, tag: str) -> str:
    return format_date(day, "long", locale=babel_locale(tag))


@functools.lru_cache(maxsize=8192)
def _short_time(hour: int, minute: int, tag: str) -> str:
    return format_time(time(hour, minute), "short", locale=babel_locale(tag))


@functools.lru_cache(maxsize=256)
def _datetime_pattern(tag: str) -> str:
    """The locale's long date-time pattern, e.g. ``{1}, {0}``, without CLDR quotes."""
    return str(babel_locale(tag).datetime_formats["long"]).replace("'", "")


def zone(timezone: str) -> ZoneInfo:
    """The :class:`ZoneInfo` for an IANA name; :class:`ConfigError` if unknown."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        message = f"unknown timezone {timezone!r}: expected an IANA name such as 'Europe/Moscow'"
        raise ConfigError(message) from exc


def zone_abbreviation(local: datetime) -> str:
    """``MSK``/``CEST`` when the zone has a letter abbreviation, else ``UTC+3`` style."""
    name = local.tzname() or ""
    if name.isascii() and name.isalpha():
        return name
    return _utc_offset_label(local.utcoffset() or timedelta(0))


def _utc_offset_label(offset: timedelta) -> str:
    minutes = round(offset.total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


# ------------------------------------------------------- translation note, labels

_NOTES: dict[str, str] = {
    "en": "Machine translation from {source} by {engine}.",
    "es": "Traducción automática del {source} por {engine}.",
    "ca": "Traducció automàtica {of_the}{source} per {engine}.",
    "gl": "Tradución automática do {source} por {engine}.",
    "eo": "Aŭtomata traduko el la {source} per {engine}.",
    "fr": "Traduction automatique {of_the}{source} par {engine}.",
    "de": "Maschinelle Übersetzung mit {engine}; Originalsprache: {source}.",
    "it": "Traduzione automatica con {engine}; lingua originale: {source}.",
    "pt": "Tradução automática do {source} por {engine}.",
    "hr": "Strojni prijevod ({engine}); izvorni jezik: {source}.",
    "sr": "Машински превод ({engine}); изворни језик: {source}.",
    "sr-Latn": "Mašinski prevod ({engine}); izvorni jezik: {source}.",
    "bs": "Mašinski prijevod ({engine}); izvorni jezik: {source}.",
    "ar": "ترجمة آلية من {source} بواسطة {engine}.",
}

_TITLE_NOTES: dict[str, str] = {
    "en": "Title and summary machine-translated from {source} by {engine}; the article is in {source}.",
    "es": "Título y resumen traducidos automáticamente del {source} por {engine}; el artículo está en {source}.",
    "ca": "Títol i resum traduïts automàticament {of_the}{source} per {engine}; l'article és en {source}.",
    "gl": "Título e resumo traducidos automaticamente do {source} por {engine}; o artigo está en {source}.",
    "fr": "Titre et résumé traduits automatiquement {of_the}{source} par {engine} ; l'article est en {source}.",
    "de": "Titel und Zusammenfassung maschinell übersetzt mit {engine}; der Artikel ist auf {source}.",
    "pt": "Título e resumo traduzidos automaticamente do {source} por {engine}; o artigo está em {source}.",
}


@functools.lru_cache(maxsize=1024)  # asked once per item; a handful of distinct answers
def title_only_note(tag: str, engine: str, source_tag: str) -> str:
    """The note of a title-only translation: what the engine translated and which language the body is in."""
    key = _template_key(tag, _TITLE_NOTES)
    source = language_name(source_tag, tag if key != "en" else "en")
    return _TITLE_NOTES[key].format(source=source, engine=engine, of_the=_of_the(key, source))


LabelKey = Literal["original", "index", "languages", "feeds", "latest", "sections"]

# One row per language: original article, all articles, languages, feeds, latest, sections.
_LABEL_ROWS: dict[str, tuple[str, str, str, str, str, str]] = {
    "en": ("Original article", "All articles", "Languages", "Feeds", "Latest articles", "Sections"),
    "es": ("Artículo original", "Todos los artículos", "Idiomas", "Canales", "Últimos artículos", "Secciones"),
    "ca": ("Article original", "Tots els articles", "Llengües", "Canals", "Darrers articles", "Seccions"),
    "gl": ("Artigo orixinal", "Todos os artigos", "Linguas", "Canles", "Últimos artigos", "Seccións"),
    "eo": ("Originala artikolo", "Ĉiuj artikoloj", "Lingvoj", "Fluoj", "Lastaj artikoloj", "Rubrikoj"),
    "fr": ("Article original", "Tous les articles", "Langues", "Flux", "Derniers articles", "Rubriques"),
    "de": ("Originalartikel", "Alle Artikel", "Sprachen", "Feeds", "Neueste Artikel", "Ressorts"),
    "it": ("Articolo originale", "Tutti gli articoli", "Lingue", "Feed", "Ultimi articoli", "Sezioni"),
    "pt": ("Artigo original", "Todos os artigos", "Idiomas", "Feeds", "Últimos artigos", "Secções"),
    "hr": ("Izvorni članak", "Svi članci", "Jezici", "Kanali vijesti", "Najnoviji članci", "Rubrike"),
    "sr": ("Оригинални чланак", "Сви чланци", "Језици", "Канали вести", "Најновији чланци", "Рубрике"),
    "sr-Latn": ("Originalni članak", "Svi članci", "Jezici", "Kanali vesti", "Najnoviji članci", "Rubrike"),
    "bs": ("Originalni članak", "Svi članci", "Jezici", "Kanali vijesti", "Najnoviji članci", "Rubrike"),
    "ar": ("المقال الأصلي", "كل المقالات", "اللغات", "الخلاصات", "أحدث المقالات", "الأقسام"),
}
_LABEL_KEYS: tuple[LabelKey, ...] = ("original", "index", "languages", "feeds", "latest", "sections")


def _template_key(tag: str, table: Container[str]) -> str:
    """The most specific key of ``table`` for ``tag`` (tag, language-script, language, en)."""
    parts = normalize_tag(tag).split("-")
    script = next((p for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
    for key in (normalize_tag(tag), f"{parts[0]}-{script}" if script else "", parts[0]):
        if key in table:
            return key
    return "en"


@functools.lru_cache(maxsize=1024)  # asked once per item; a handful of distinct answers
def translation_note(tag: str, engine: str, source_tag: str) -> str:
    """The visible machine-translation note, written in ``tag``'s language.

    ``translation_note("es", "Apertium", "en")`` gives
    ``Traducción automática del inglés por Apertium.``  Languages without a
    hand-written template get the English note (with an English language name).
    """
    key = _template_key(tag, _NOTES)
    source = language_name(source_tag, tag if key != "en" else "en")
    return _NOTES[key].format(source=source, engine=engine, of_the=_of_the(key, source))


def _of_the(language: str, name: str) -> str:
    """Catalan and French "of the" before a language name: elided before a vowel."""
    vowel = name[:1].lower() in "aàáâeèéêiìíîoòóôuùúûh"
    if language == "ca":
        return "de l'" if vowel else "del "
    if language == "fr":  # "h aspiré": du hongrois, du hindi
        aspirated = name.lower().startswith(("hongr", "hind", "haou"))
        return "de l'" if vowel and not aspirated else "du "
    return ""


@functools.lru_cache(maxsize=1024)  # asked once per item; a handful of distinct answers
def label(key: LabelKey, tag: str) -> str:
    """A short page label (``"original"`` -> ``Artículo original`` in ``es``)."""
    row = _LABEL_ROWS[_template_key(tag, _LABEL_ROWS)]
    return row[_LABEL_KEYS.index(key)]


def original_article_label(tag: str) -> str:
    """The link text pointing at the original-language article."""
    return label("original", tag)
