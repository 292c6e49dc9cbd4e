"""Configuration: ``syndicate.toml`` + command-line overrides -> one frozen :class:`Config`.

The file is optional; every key has a default, so ``syndicate publish`` works
from a bare checkout.  Relative paths in the file are resolved against the
file's directory; relative paths given on the command line against the
current directory.  Unknown keys are errors, not silently ignored, so a typo
in a cron job's config is caught on the first run.  Every problem in a file
is reported at once, each with its line, and an unknown key or timezone
with the closest known one ("did you mean ...?").
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from syndicate.errors import ConfigError, Problem
from syndicate.formats import NAMES
from syndicate.models import Site

DEFAULT_CONFIG = Path("syndicate.toml")
FORMATS = NAMES  # the output formats' names, from the one table in syndicate.formats
DEFAULT_MARKERS = ("Read next", "Related", "More on this", "Read more", "See also")
# Page furniture dropped from scraped page text (DESIGN 3.1).  An entry is either a
# line, matched whole and case-insensitively, or a regular expression written
# between slashes, /.../, that must match the whole line (case-insensitive, after
# runs of white space are made one space).  Shipped for English and the languages
# apertium covers here: es, ca, gl, eo and hr/sr/bs (Latin and Cyrillic).
_END = r"\s*[.:!…»›→>]*"  # a trailing full stop, colon, ellipsis or arrow


def _pattern(*alternatives: str, end: str = _END) -> str:
    """One ``/.../`` furniture entry matching any of ``alternatives`` as the whole line."""
    return "/(?:" + "|".join(alternatives) + ")" + end + "/"


DEFAULT_FURNITURE = (
    "What is your opinion on this topic?",
    "Leave the first comment",
    "Follow us on Telegram",
    # share
    _pattern(
        r"share(?: this(?: article| story| post| page)?| on \w+)?",
        r"(?:compartir|comparte|compártelo|comparteix|compartilla)(?: en \w+)?"
        r"(?: (?:este|esta|aquest|aquesta) (?:artículo|noticia|article|notícia|artigo|nova))?",
        r"(?:kunhavigi|kundividi)(?: ĉi tiun artikolon)?",
        r"(?:podijeli|podijelite|podeli|podelite|подели|поделите|подијели|подијелите)"
        r"(?: (?:ovaj|ovu|овај|ову) (?:članak|vijest|vest|чланак|вијест|вест))?",
    ),
    # comment counts and prompts: "Comments (0)", "3 comments", "Leave a comment"
    _pattern(
        r"(?:\d+ )?(?:comments?|comentarios?|comentaris?|komentoj?|komentara|komentari|komentar"
        r"|коментара|коментари|коментар)(?: ?\(\d+\))?",
        r"(?:leave|post|add|write) a comment|no comments(?: yet)?|be the first to comment",
        r"(?:deja|escribe|añade) (?:un|tu) comentario|sin comentarios",
        r"(?:deixa|escriu|afegeix) un comentari|(?:deixa|escribe) un comentario",
        r"(?:lasu|skribu) (?:komenton|vian komenton)",
        r"(?:ostavi|ostavite|napiši|napišite) komentar|(?:остави|оставите|напиши|напишите) коментар",
    ),
    # subscribe and follow
    _pattern(
        r"(?:subscribe|sign up)(?: (?:now|here|today))?(?: (?:to|for) (?:our|the) (?:newsletter|channel|podcast))?",
        r"(?:suscríbete|suscribirse|subscriu-te|subscriure's|subscríbete|subscribirse"
        r"|pretplati se|pretplatite se|претплати се|претплатите се)"
        r"(?: (?:a|al|ao|na|на) (?:nuestro |nuestra |el nostre |noso |naš |наш )?"
        r"(?:boletín|butlletí|newsletter|canal|kanal|bilten|канал|билтен))?",
        r"(?:abonu|aboni)(?: (?:nian|la) (?:bultenon|novaĵleteron|kanalon))?",
        r"(?:follow us on|síguenos en|segueix-nos a|segue-nos en|sekvu nin (?:en|ĉe)"
        r"|pratite nas na|prati nas na|пратите нас на|прати нас на) [\w ]{1,40}",
    ),
    # advertisement
    _pattern(
        r"advertisement|advertising|ad|sponsored(?: content)?",
        r"publicidad|anuncio|contenido patrocinado|publicitat|anunci|contingut patrocinat",
        r"publicidade|contido patrocinado|reklamo|anonco",
        r"oglas|reklama|sponzorirano|sponzorisano|реклама|оглас",
    ),
    # cookie banners: the opening words, then anything up to 300 characters
    _pattern(
        r"we use cookies|this (?:web)?site uses cookies",
        r"(?:utilizamos|usamos) (?:cookies|galletas)|(?:este sitio(?: web)?|esta web) (?:utiliza|usa) cookies",
        r"(?:utilitzem|fem servir) (?:galetes|cookies)"
        r"|aquest (?:lloc(?: web)?|web) (?:utilitza|fa servir) (?:galetes|cookies)",
        r"(?:ĉi tiu retejo|ni) uzas kuketojn",
        r"koristimo kolačiće|(?:ova (?:web )?stranica|ovaj (?:web )?sajt) koristi kolačiće",
        r"користимо колачиће|(?:ова (?:веб )?страница|овај (?:веб )?сајт) користи колачиће",
        end=r"\b.{0,300}",
    ),
    _pattern(
        r"(?:accept|aceptar|acceptar|akcepti|prihvati|prihvatite|прихвати|прихватите)"
        r"(?: (?:all|todas las|totes les|todas as|sve|све))? (?:cookies|galetes|galletas|kuketojn|kolačiće|колачиће)",
        r"cookie (?:settings|policy|preferences)|política de (?:cookies|galetes)",
    ),
    # "read more"
    _pattern(
        r"(?:read|see|show|load) more|continue reading|read the full (?:story|article)",
        r"(?:leer|lee|ver) más|(?:seguir|sigue) leyendo",
        r"(?:llegir|llegeix|veure) més|(?:continua|segueix) llegint",
        r"(?:ler|le|ver) máis|(?:continuar|segue) lendo",
        r"legu (?:pli|plu)|daŭrigu legi|vidu pli",
        r"(?:pročitaj|pročitajte|čitaj|čitajte|saznaj|saznajte) više|opširnije|nastavi(?:te)? čitati",
        r"(?:прочитај|прочитајте|читај|читајте|сазнај|сазнајте) више|опширније",
    ),
)
T = TypeVar("T")
ON_ERROR = ("skip", "original")
MODES = ("full", "title", "bilingual")


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How input files are found and read."""

    paths: tuple[Path, ...] = (Path("seeds"),)
    markers: tuple[str, ...] = DEFAULT_MARKERS
    furniture: tuple[str, ...] = DEFAULT_FURNITURE
    dates: tuple[tuple[str, datetime], ...] = ()  # (glob pattern, date) for files without one
    max_bytes: int = 5 * 1024 * 1024
    timezone: str = "UTC"
    drafts: bool = False  # read articles marked draft too (``serve --drafts``)
    base_url: str = ""  # the site's URL: relative links in articles without a URL resolve against it

    def date_for(self, relative_path: str) -> datetime | None:
        """The configured date for a file, first matching glob pattern wins."""
        from fnmatch import fnmatchcase

        name = relative_path.rsplit("/", 1)[-1]
        for pattern, date in self.dates:
            if fnmatchcase(relative_path, pattern) or fnmatchcase(name, pattern):
                return date
        return None


@dataclass(frozen=True, slots=True)
class TranslationOptions:
    """Which languages to publish besides the source and how to translate."""

    languages: tuple[str, ...] = ()
    provider: str = "apertium"
    providers: tuple[tuple[str, str], ...] = ()  # (language, provider) overrides
    glossary: tuple[str, ...] = ()
    terms: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # term -> ((language, rendering), ...)
    last_word: bool = True  # "Donald Trump" in the glossary also protects "Trump" standing alone
    mode: str = "full"  # "full", "title" (title and summary only) or "bilingual" (original under the translation)
    modes: tuple[tuple[str, str], ...] = ()  # (language, mode) overrides
    on_error: str = "skip"
    timeout: float = 20.0
    retries: int = 3
    concurrency: int = 4
    cache: Path | None = None  # None: the user cache directory
    settings: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # per-provider settings
    max_unknown: float = 0.15  # an article with a larger share of unknown words is not published
    max_unknowns: tuple[tuple[str, float], ...] = ()  # (language, share) overrides of max_unknown
    max_chars_per_run: int | None = None  # characters sent per run at most; the rest waits

    def provider_for(self, language: str) -> str:
        return dict(self.providers).get(language, self.provider)

    def tags_for(self, configured: str, written: str | None = None) -> tuple[str, ...]:
        """The keys that name one edition in per-language tables, the one that wins first.

        An edition has the tag configured in ``languages`` (``sr``) and the tag it is
        published with (``written``: apertium writes ``sr`` as ``sr-Latn``); a user may
        write either.  The published tag wins, then the configured one, then either
        without its script (``sr-Latn`` -> ``sr``) unless that tag is an edition of its own.
        """
        tags = [written or configured, configured]
        for tag in tuple(tags):
            parts = tag.split("-")
            if len(parts) > 1 and len(parts[1]) == 4 and parts[1].isalpha():
                bare = "-".join([parts[0], *parts[2:]])
                if bare not in self.languages:
                    tags.append(bare)
        return tuple(dict.fromkeys(tags))

    def mode_for(self, language: str, written: str | None = None) -> str:
        return _first(self.modes, self.tags_for(language, written), self.mode)

    def max_unknown_for(self, language: str, written: str | None = None) -> float:
        """The unknown-word share over which an article is refused in ``language``."""
        return _first(self.max_unknowns, self.tags_for(language, written), self.max_unknown)

    def max_unknown_key(self, language: str, written: str | None = None) -> str:
        """The setting :meth:`max_unknown_for` took its share from, as a message names it."""
        found = dict(self.max_unknowns)
        tag = next((key for key in self.tags_for(language, written) if key in found), None)
        return f"translation.max_unknown.{tag}" if tag else "translation.max_unknown"

    def rendering(self, renderings: Sequence[tuple[str, str]], language: str, written: str | None = None) -> str | None:
        """A glossary term's rendering for one edition (``[translation.terms]``), or None."""
        return _first(renderings, self.tags_for(language, written), None)

    def settings_for(self, provider: str) -> dict[str, str]:
        return dict(dict(self.settings).get(provider, ()))


def _first(table: Sequence[tuple[str, T]], keys: Sequence[str], default: T) -> T:
    """The value of the first of ``keys`` that ``table`` holds, else ``default``."""
    found = dict(table)
    return next((found[key] for key in keys if key in found), default)


@dataclass(frozen=True, slots=True)
class WebSubOptions:
    """``[websub]``: the hubs told about every changed feed (DESIGN 9)."""

    hubs: tuple[str, ...] = ()
    timeout: float = 10.0  # seconds one ping may take in all
    retries: int = 2  # extra attempts for a ping that failed transiently


@dataclass(frozen=True, slots=True)
class Config:
    site: Site
    sources: SourceOptions = field(default_factory=SourceOptions)
    target: Path = Path("feeds")
    formats: tuple[str, ...] = FORMATS
    max_items: int = 50
    translation: TranslationOptions = field(default_factory=TranslationOptions)
    theme: Path | None = None  # a theme directory overriding the default templates and static files
    websub: WebSubOptions = field(default_factory=WebSubOptions)
    archive: bool = True  # RFC 5005 archive pages for the articles beyond max_items
    archive_page_size: int = 50
    sections: bool | tuple[str, ...] = True  # section feeds: all categories, none, or these (names or slugs)
    cache_dir: Path | None = None  # [cache] directory: where the caches live (None: see build_cache_dir)

    @property
    def build_cache_dir(self) -> Path:
        """Where the build caches live (parsed articles, feed fragments, listing lines, the body spill):
        ``[cache] directory``, else beside ``translation.cache``, else the user cache directory."""
        if self.cache_dir is not None:
            return self.cache_dir
        from syndicate.cachefile import cache_directory

        return cache_directory(self.translation.cache)

    @property
    def archive_pages(self) -> int | None:
        """Articles per archive page, or None when archives are off."""
        return self.archive_page_size if self.archive else None

    def with_overrides(self, **overrides: Any) -> Config:
        """Apply command-line overrides; ``None`` means "not given"."""
        return _apply_overrides(self, {k: v for k, v in overrides.items() if v is not None})


def load_config(path: Path | None = None, *, required: bool = False) -> Config:
    """Read ``path`` (default ``./syndicate.toml`` when it exists) into a Config.

    Raises one :class:`ConfigError` carrying every problem in the file, each
    with the line of its key when it can be found.
    """
    if path is None:
        path = DEFAULT_CONFIG
        if not path.exists():
            return config_from_mapping({}, base=Path.cwd())
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config") from exc
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        problem = Problem(f"invalid TOML: {exc}", str(path), int(line.group(1)) if line else None)
        raise ConfigError.of([problem]) from exc
    try:
        return config_from_mapping(raw, base=path.resolve().parent)
    except ConfigError as exc:
        located = [replace(p, file=str(path), line=_key_line(text, p.key)) for p in exc.problems]
        raise ConfigError.of(located) from None


def _key_line(text: str, key: str | None) -> int | None:
    """The line where ``key`` ("site.timezone", "output", "sources.dates.x") is set, if it can be found."""
    if not key:
        return None
    parts = key.split(".")
    for cut in range(len(parts) - 1, -1, -1):  # "sources.dates.a.txt": the last name may hold dots
        found = _find_key(text, parts[:cut], ".".join(parts[cut:]))
        if found is not None:
            return found
    return None


def _find_key(text: str, tables: list[str], name: str) -> int | None:
    current: list[str] = []
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        header = re.fullmatch(r"\[+\s*([^\]]+?)\s*\]+\s*(?:#.*)?", stripped)
        if header:
            current = [part.strip().strip("\"'") for part in header.group(1).split(".")]
            if current == [*tables, name]:
                return number
            continue
        assigned = re.match(r"""(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""", stripped)
        if assigned and current == tables and next(g for g in assigned.groups() if g is not None) == name:
            return number
    return None


class _Problems:
    """Collects every problem of a config instead of stopping at the first."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def take(self, key: str, parse: Callable[[], T], fallback: T) -> T:
        """``parse()``, or ``fallback`` after recording its ConfigError under ``key``."""
        try:
            return parse()
        except ConfigError as exc:
            self.found += [replace(p, key=p.key or key) for p in exc.problems]
            return fallback

    def keys(self, section: str, table: Mapping[str, Any], allowed: set[str]) -> None:
        for name in sorted(set(table) - allowed):
            where = f"[{section}] " if section else ""
            import difflib  # only when a key is unknown: not on every run's start-up

            close = difflib.get_close_matches(name, sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(sorted(allowed))})"
            key = f"{section}.{name}" if section else name
            self.found.append(Problem(f"{where}unknown key {name!r}{hint}", key=key))

    def table(self, raw: Mapping[str, Any], key: str, where: str | None = None) -> Mapping[str, Any]:
        return self.take(where or key, lambda: _table(raw, key), {})

    def check(self) -> None:
        if self.found:
            raise ConfigError.of(self.found)


def config_from_mapping(raw: Mapping[str, Any], *, base: Path) -> Config:
    """Build a Config from parsed TOML; ``base`` resolves relative paths.

    Raises one ConfigError with every problem found (each keyed, for its line).
    """
    problems = _Problems()
    problems.keys("", raw, {"site", "sources", "output", "translation", "websub", "cache"})
    websub = problems.take("websub", lambda: _websub(_table(raw, "websub")), WebSubOptions())
    site = replace(_site(problems.table(raw, "site"), problems), hubs=websub.hubs)
    sources = _sources(problems.table(raw, "sources"), base, site.timezone, problems)
    output = problems.table(raw, "output")
    keys = {"target", "formats", "max_items", "pages", "theme", "archive", "archive_page_size", "sections"}
    problems.keys("output", output, keys)
    pages = output.get("pages", True)
    if not isinstance(pages, bool):
        problems.found.append(Problem("output.pages must be true or false", key="output.pages"))
        pages = True
    target = problems.take("output.target", lambda: _path(output.get("target", "feeds"), base, "output.target"),
                           base / "feeds")
    all_formats: tuple[str, ...] = FORMATS
    formats = problems.take("output.formats", lambda: _formats(output.get("formats", list(FORMATS))), all_formats)
    max_items = problems.take(
        "output.max_items", lambda: _positive_int(output.get("max_items", 50), "output.max_items"), 50
    )
    translation = _translation(problems.table(raw, "translation"), base, problems)
    cache = problems.table(raw, "cache")
    problems.keys("cache", cache, {"directory"})
    cache_dir = (
        problems.take("cache.directory", lambda: _path(cache["directory"], base, "cache.directory"), None)
        if "directory" in cache
        else None
    )
    if cache_dir is not None and translation.cache is None:  # the segment cache too, unless it is placed itself
        translation = replace(translation, cache=cache_dir / "translations.sqlite3")
    theme = (
        problems.take("output.theme", lambda: _path(output["theme"], base, "output.theme"), None)
        if "theme" in output
        else None
    )
    archive = problems.take("output.archive", lambda: _bool(output.get("archive", True), "output.archive"), True)
    page_size = problems.take(
        "output.archive_page_size",
        lambda: _positive_int(output.get("archive_page_size", 50), "output.archive_page_size"),
        50,
    )
    every: bool | tuple[str, ...] = True
    sections = problems.take("output.sections", lambda: _sections(output.get("sections", True)), every)
    problems.check()
    return Config(
        site=replace(site, pages=pages),
        sources=replace(sources, base_url=site.url),
        target=target,
        formats=formats,
        max_items=max_items,
        translation=translation,
        theme=theme,
        websub=websub,
        archive=archive,
        archive_page_size=page_size,
        sections=sections,
        cache_dir=cache_dir,
    )


def _sections(value: object) -> bool | tuple[str, ...]:
    """``output.sections``: true (every category), false (none) or a list of category names or slugs."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError("output.sections must be true, false or a list of category names")
    return tuple(_str(v, "output.sections") for v in value)


def _websub(table: Mapping[str, Any]) -> WebSubOptions:
    """``hub = "https://..."`` or a list of hubs; ``timeout`` and ``retries`` per ping."""
    unknown = sorted(set(table) - {"hub", "timeout", "retries"})
    if unknown:
        raise ConfigError(f"[websub] unknown key {unknown[0]!r} (allowed: hub, retries, timeout)")
    hub = table.get("hub", [])
    hubs = [hub] if isinstance(hub, str) else _str_list(hub, "websub.hub")
    checked = []
    for url in hubs:
        try:
            checked.append(normalize_hub(_str(url, "websub.hub")))
        except ConfigError:
            raise ConfigError(f"websub.hub must be an absolute http(s) URL, not {url!r}") from None
    return WebSubOptions(
        hubs=tuple(dict.fromkeys(checked)),
        timeout=_positive_float(table.get("timeout", 10.0), "websub.timeout"),
        retries=_non_negative_int(table.get("retries", 2), "websub.retries"),
    )


def normalize_hub(url: str) -> str:
    """A hub URL: absolute http(s), with a host, no fragment (a query is allowed)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or " " in url.strip():
        raise ConfigError(f"not an absolute http(s) URL: {url!r}")
    return url.strip()


def _site(table: Mapping[str, Any], problems: _Problems) -> Site:
    problems.keys("site", table, {"title", "url", "description", "timezone", "language", "author", "logo", "email"})
    from syndicate.localize import normalize_tag

    def text(key: str, default: str, check: Callable[[str], str] = lambda v: v) -> str:
        return problems.take(f"site.{key}", lambda: check(_str(table.get(key, default), f"site.{key}")), default)

    return Site(
        title=text("title", "Syndicate"),
        url=text("url", "http://localhost:8000/", normalize_url),
        description=problems.take("site.description", lambda: _text(table.get("description", ""), "site.description"),
                                  ""),  # no default description: nothing we did not write gets published
        timezone=text("timezone", "UTC", lambda v: check_timezone(v, "site.timezone")),
        language=text("language", "en", normalize_tag),
        author=problems.take("site.author", lambda: _str(table["author"], "site.author"), None)
        if "author" in table
        else None,
        logo=problems.take("site.logo", lambda: _logo(table), None),
        email=problems.take("site.email", lambda: _email(table), None),
    )


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _email(table: Mapping[str, Any]) -> str | None:
    """``site.email``: one plain address (it becomes the RSS ``managingEditor``)."""
    if "email" not in table:
        return None
    email = _str(table["email"], "site.email").strip()
    if not _EMAIL.fullmatch(email):
        raise ConfigError(f"site.email must be an e-mail address like desk@example.org, not {email!r}")
    return email


def _logo(table: Mapping[str, Any]) -> str | None:
    """``site.logo``: an absolute http(s) URL, or a path resolved against ``site.url``."""
    if "logo" not in table:
        return None
    from syndicate.content import resolve_url

    base = normalize_url(_str(table.get("url", "http://localhost:8000/"), "site.url"))
    logo = resolve_url(_str(table["logo"], "site.logo"), base)
    if logo is None:
        raise ConfigError("site.logo must be an http(s) URL or a path on the site")
    return logo


def _sources(table: Mapping[str, Any], base: Path, timezone: str, problems: _Problems) -> SourceOptions:
    problems.keys("sources", table, {"paths", "markers", "furniture", "furniture_defaults", "dates", "max_bytes"})
    paths: list[str] = problems.take(
        "sources.paths", lambda: _str_list(table.get("paths", ["seeds"]), "sources.paths"), ["seeds"]
    )
    dates = problems.table(table, "dates", "sources.dates")
    return SourceOptions(
        paths=tuple(_path(p, base, "sources.paths") for p in paths),
        markers=tuple(problems.take(
            "sources.markers",
            lambda: _str_list(table.get("markers", list(DEFAULT_MARKERS)), "sources.markers"),
            list(DEFAULT_MARKERS),
        )),
        furniture=problems.take("sources.furniture", lambda: _furniture(table), DEFAULT_FURNITURE),
        dates=_dates(dates, timezone, problems),
        max_bytes=problems.take(
            "sources.max_bytes",
            lambda: _positive_int(table.get("max_bytes", 5 * 1024 * 1024), "sources.max_bytes"),
            5 * 1024 * 1024,
        ),
        timezone=timezone,
    )


def _dates(table: Mapping[str, Any], timezone: str, problems: _Problems) -> tuple[tuple[str, datetime], ...]:
    found = []
    for pattern, value in table.items():
        key = f"sources.dates.{pattern}"
        date = problems.take(key, functools.partial(parse_date, value, timezone, key), None)
        if date is not None:
            found.append((str(pattern), date))
    return tuple(found)


def _furniture(table: Mapping[str, Any]) -> tuple[str, ...]:
    """The shipped furniture (unless ``furniture_defaults = false``) then the configured entries."""
    defaults = table.get("furniture_defaults", True)
    if not isinstance(defaults, bool):
        raise ConfigError("sources.furniture_defaults must be true or false")
    configured = _str_list(table.get("furniture", []), "sources.furniture")
    for entry in configured:
        if problem := furniture_pattern_problem(entry):
            raise ConfigError(f"sources.furniture: {entry!r} is not a valid regular expression: {problem}")
    return tuple(dict.fromkeys([*(DEFAULT_FURNITURE if defaults else ()), *configured]))


def is_furniture_pattern(entry: str) -> bool:
    """Whether a furniture entry is a regular expression (written ``/.../``) rather than a line."""
    return len(entry) > 2 and entry.startswith("/") and entry.endswith("/")


def furniture_pattern_problem(entry: str) -> str | None:
    """Why a ``/.../`` furniture entry does not compile, or None (also for plain lines)."""
    if not is_furniture_pattern(entry):
        return None
    import re

    try:
        re.compile(entry[1:-1])
    except re.error as exc:
        return str(exc)
    return None


def _translation(table: Mapping[str, Any], base: Path, problems: _Problems) -> TranslationOptions:
    allowed = {"languages", "provider", "providers", "glossary", "terms", "last_word", "mode", "modes",
               "on_error", "timeout", "retries", "concurrency", "cache", "settings", "max_unknown",
               "max_chars_per_run"}
    problems.keys("translation", table, allowed)
    from syndicate.localize import normalize_tag

    def on_error() -> str:
        value = _str(table.get("on_error", "skip"), "translation.on_error")
        if value not in ON_ERROR:
            raise ConfigError(f"translation.on_error must be one of {', '.join(ON_ERROR)}, not {value!r}")
        return value

    def tags() -> tuple[str, ...]:
        return tuple(normalize_tag(t) for t in _str_list(table.get("languages", []), "translation.languages"))

    providers = problems.table(table, "providers", "translation.providers")
    settings = problems.table(table, "settings", "translation.settings")
    cache = table.get("cache")
    max_chars = table.get("max_chars_per_run")
    default = TranslationOptions()
    fallback: tuple[float, tuple[tuple[str, float], ...]] = (0.15, ())
    max_unknown = problems.take("translation.max_unknown", lambda: _max_unknown(table), fallback)
    return TranslationOptions(
        languages=problems.take("translation.languages", tags, ()),
        provider=problems.take(
            "translation.provider", lambda: _str(table.get("provider", "apertium"), "translation.provider"), "apertium"
        ),
        providers=problems.take(
            "translation.providers",
            lambda: tuple((normalize_tag(k), _str(v, f"translation.providers.{k}")) for k, v in providers.items()),
            (),
        ),
        glossary=tuple(problems.take(
            "translation.glossary", lambda: _str_list(table.get("glossary", []), "translation.glossary"), []
        )),
        terms=problems.take("translation.terms", lambda: _terms(table.get("terms", {})), ()),
        mode=problems.take("translation.mode", lambda: _mode(table.get("mode", "full"), "translation.mode"), "full"),
        modes=problems.take(
            "translation.modes",
            lambda: tuple(
                (normalize_tag(k), _mode(v, f"translation.modes.{k}")) for k, v in _table(table, "modes").items()
            ),
            (),
        ),
        last_word=problems.take(
            "translation.last_word", lambda: _bool(table.get("last_word", True), "translation.last_word"), True
        ),
        on_error=problems.take("translation.on_error", on_error, "skip"),
        timeout=problems.take(
            "translation.timeout", lambda: _positive_float(table.get("timeout", 20.0), "translation.timeout"), 20.0
        ),
        retries=problems.take(
            "translation.retries", lambda: _non_negative_int(table.get("retries", 3), "translation.retries"), 3
        ),
        concurrency=problems.take(
            "translation.concurrency",
            lambda: _positive_int(table.get("concurrency", 4), "translation.concurrency"),
            4,
        ),
        cache=problems.take("translation.cache", lambda: _path(cache, base, "translation.cache"), None)
        if cache is not None
        else default.cache,
        settings=problems.take(
            "translation.settings",
            lambda: tuple(
                (str(name), tuple(sorted((str(k), str(v)) for k, v in _table(settings, name).items())))
                for name in sorted(settings)
            ),
            (),
        ),
        max_unknown=max_unknown[0],
        max_unknowns=max_unknown[1],
        max_chars_per_run=problems.take(
            "translation.max_chars_per_run",
            lambda: _positive_int(max_chars, "translation.max_chars_per_run"),
            None,
        )
        if max_chars is not None
        else None,
    )


def _terms(value: object) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """``[translation.terms] billion = { es = "mil millones" }`` as sorted tuples."""
    if not isinstance(value, Mapping):
        raise ConfigError("translation.terms must be a table of term = { language = rendering }")
    from syndicate.localize import normalize_tag

    result = []
    for term, renderings in sorted(value.items()):
        if not isinstance(renderings, Mapping) or not all(isinstance(v, str) for v in renderings.values()):
            raise ConfigError(f"translation.terms.{term} must be a table of language = rendering (text)")
        result.append((str(term), tuple(sorted((normalize_tag(k), v) for k, v in renderings.items()))))
    return tuple(result)


def _max_unknown(table: Mapping[str, Any]) -> tuple[float, tuple[tuple[str, float], ...]]:
    """``max_unknown = 0.15``, or a table ``{ default = 0.15, hr = 0.5 }``: the default and the per-language shares."""
    value = table.get("max_unknown", 0.15)
    if not isinstance(value, Mapping):
        return _share(value, "translation.max_unknown"), ()
    from syndicate.localize import normalize_tag

    problems = _Problems()
    default = 0.15
    per_language: dict[str, float] = {}
    for name, share in value.items():
        key = f"translation.max_unknown.{name}"
        if name == "default":
            default = problems.take(key, functools.partial(_share, share, key), default)
            continue
        import difflib

        close = difflib.get_close_matches(str(name), ["default"], n=1, cutoff=0.75)
        try:
            tag = None if close else normalize_tag(str(name))
        except ConfigError:
            tag = None
        if tag is None:
            hint = " (did you mean 'default'?)" if close else ""
            problems.found.append(Problem(f"{key}: not a language tag or 'default'{hint}", key=key))
            continue
        if tag in per_language:
            problems.found.append(Problem(f"{key}: {tag} is given twice", key=key))
            continue
        per_language[tag] = problems.take(key, functools.partial(_share, share, key), default)
    problems.check()
    return default, tuple(sorted(per_language.items()))


def _mode(value: object, key: str) -> str:
    mode = _str(value, key)
    if mode not in MODES:
        raise ConfigError(f"{key} must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false")
    return value


def _apply_overrides(config: Config, overrides: Mapping[str, Any]) -> Config:
    site, translation, sources = config.site, config.translation, config.sources
    if "base_url" in overrides:
        site = replace(site, url=normalize_url(overrides["base_url"]))
        sources = replace(sources, base_url=site.url)
    if "timezone" in overrides:
        site = replace(site, timezone=check_timezone(overrides["timezone"]))
        sources = replace(sources, timezone=site.timezone)
    if overrides.get("sources"):
        sources = replace(sources, paths=tuple(Path(p) for p in overrides["sources"]))
    if overrides.get("languages"):
        from syndicate.localize import normalize_tag

        translation = replace(translation, languages=tuple(normalize_tag(t) for t in overrides["languages"]))
    if "provider" in overrides:
        translation = replace(translation, provider=overrides["provider"], providers=())
    if "cache" in overrides:
        translation = replace(translation, cache=Path(overrides["cache"]))
    if "on_error" in overrides:
        if overrides["on_error"] not in ON_ERROR:
            raise ConfigError(f"--on-error must be one of {', '.join(ON_ERROR)}")
        translation = replace(translation, on_error=overrides["on_error"])
    result = replace(config, site=site, sources=sources, translation=translation)
    if "target" in overrides:
        result = replace(result, target=Path(overrides["target"]))
    if "max_items" in overrides:
        result = replace(result, max_items=_positive_int(overrides["max_items"], "--max-items"))
    if overrides.get("formats"):
        result = replace(result, formats=_formats(list(overrides["formats"])))
    return result


def normalize_url(url: str) -> str:
    """An absolute http(s) site URL, normalised: lower-case scheme and host, no default
    port, ending with a slash.  Spaces, quotes, angle brackets and other characters that
    would need escaping in XML or HTML attributes are refused, not encoded."""
    from urllib.parse import urlsplit, urlunsplit

    text = url.strip()
    bad = next((c for c in text if c in _URL_UNSAFE or c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise ConfigError(f"site URL must not contain spaces, quotes or angle brackets ({bad!r} in {url!r})")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"site URL is not a valid URL ({exc}): {url!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"site URL must be an absolute http(s) URL without query, not {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"site URL must not hold a user name or password, not {url!r}")
    host = parts.hostname.lower()
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/") + "/", "", ""))


_URL_UNSAFE = frozenset(" \"'<>`\\{}|^")


def check_timezone(name: str, key: str | None = None) -> str:
    """``name`` if it is a known IANA timezone (see :func:`syndicate.localize.zone`), else
    a ConfigError suggesting the closest known name."""
    from syndicate.localize import zone

    try:
        zone(name)
    except ConfigError as exc:
        close = _closest_timezone(name)
        hint = f" (did you mean {close!r}?)" if close else ""
        raise ConfigError(f"{key + ': ' if key else ''}{exc.message}{hint}") from exc
    return name


def _closest_timezone(name: str) -> str | None:
    from zoneinfo import available_timezones

    known = {zone.casefold(): zone for zone in available_timezones()}
    if name.casefold() in known:
        return known[name.casefold()]
    import difflib

    close = difflib.get_close_matches(name.casefold(), sorted(known), n=1, cutoff=0.7)
    return known[close[0]] if close else None


def parse_date(value: object, timezone: str, where: str) -> datetime:
    """A datetime from TOML/ISO text; naive values are in the site timezone."""
    from datetime import date

    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ConfigError(f"{where}: not an ISO 8601 date: {value!r}") from exc
    else:
        raise ConfigError(f"{where}: expected a date, got {type(value).__name__}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    try:
        parsed.astimezone(ZoneInfo("UTC"))
    except (OverflowError, ValueError) as exc:
        raise ConfigError(f"{where}: date out of range: {value!r}") from exc
    return parsed


def _table(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{key}] must be a table")
    return value


def _str(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} must be a non-empty string")
    return value.strip()


def _text(value: object, key: str) -> str:
    """A string that may be empty."""
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string")
    return value.strip()


def _str_list(value: object, key: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(f"{key} must be a list of strings")
    return [_str(v, key) for v in value]


def _path(value: object, base: Path, key: str) -> Path:
    path = Path(_str(value, key))
    return path if path.is_absolute() else base / path


def _formats(value: object) -> tuple[str, ...]:
    formats = _str_list(value, "output.formats")
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ConfigError(f"formats must be some of {', '.join(FORMATS)}, not {bad or formats}")
    return tuple(f for f in FORMATS if f in formats)


def _positive_int(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key} must be a positive integer, not {value!r}")
    return value


def _non_negative_int(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{key} must be a non-negative integer, not {value!r}")
    return value


def _share(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{key} must be a number from 0 to 1 (a share, e.g. 0.15), not {value!r}")
    return float(value)


def _positive_float(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key} must be a positive number, not {value!r}")
    return float(value)
