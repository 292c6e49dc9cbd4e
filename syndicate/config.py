"""Configuration: ``syndicate.toml`` + command-line overrides -> one frozen :class:`Config`.

The file is optional; every key has a default, so ``syndicate publish`` works
from a bare checkout.  Relative paths in the file are resolved against the
file's directory; relative paths given on the command line against the
current directory.  Unknown keys are errors, not silently ignored, so a typo
in a cron job's config is caught on the first run.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from syndicate.errors import ConfigError
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
    max_chars_per_run: int | None = None  # characters sent per run at most; the rest waits

    def provider_for(self, language: str) -> str:
        return dict(self.providers).get(language, self.provider)

    def mode_for(self, language: str) -> str:
        return dict(self.modes).get(language, self.mode)

    def settings_for(self, provider: str) -> dict[str, str]:
        return dict(dict(self.settings).get(provider, ()))


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

    @property
    def archive_pages(self) -> int | None:
        """Articles per archive page, or None when archives are off."""
        return self.archive_page_size if self.archive else None

    def with_overrides(self, **overrides: Any) -> Config:
        """Apply command-line overrides; ``None`` means "not given"."""
        return _apply_overrides(self, {k: v for k, v in overrides.items() if v is not None})


def load_config(path: Path | None = None, *, required: bool = False) -> Config:
    """Read ``path`` (default ``./syndicate.toml`` when it exists) into a Config."""
    if path is None:
        path = DEFAULT_CONFIG
        if not path.exists():
            return config_from_mapping({}, base=Path.cwd())
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    try:
        return config_from_mapping(raw, base=path.resolve().parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}") from None


def config_from_mapping(raw: Mapping[str, Any], *, base: Path) -> Config:
    """Build a Config from parsed TOML; ``base`` resolves relative paths."""
    _check_keys("", raw, {"site", "sources", "output", "translation", "websub"})
    websub = _websub(_table(raw, "websub"))
    site = replace(_site(_table(raw, "site")), hubs=websub.hubs)
    sources = _sources(_table(raw, "sources"), base, site.timezone)
    output = _table(raw, "output")
    keys = {"target", "formats", "max_items", "pages", "theme", "archive", "archive_page_size", "sections"}
    _check_keys("output", output, keys)
    pages = output.get("pages", True)
    if not isinstance(pages, bool):
        raise ConfigError("output.pages must be true or false")
    return Config(
        site=replace(site, pages=pages),
        sources=replace(sources, base_url=site.url),
        target=_path(output.get("target", "feeds"), base, "output.target"),
        formats=_formats(output.get("formats", list(FORMATS))),
        max_items=_positive_int(output.get("max_items", 50), "output.max_items"),
        translation=_translation(_table(raw, "translation"), base),
        theme=_path(output["theme"], base, "output.theme") if "theme" in output else None,
        websub=websub,
        archive=_bool(output.get("archive", True), "output.archive"),
        archive_page_size=_positive_int(output.get("archive_page_size", 50), "output.archive_page_size"),
        sections=_sections(output.get("sections", True)),
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
    _check_keys("websub", table, {"hub", "timeout", "retries"})
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


def _site(table: Mapping[str, Any]) -> Site:
    _check_keys("site", table, {"title", "url", "description", "timezone", "language", "author", "logo"})
    from syndicate.localize import normalize_tag

    return Site(
        title=_str(table.get("title", "Syndicate"), "site.title"),
        url=normalize_url(_str(table.get("url", "http://localhost:8000/"), "site.url")),
        description=_str(table.get("description", "Latest articles"), "site.description"),
        timezone=check_timezone(_str(table.get("timezone", "UTC"), "site.timezone")),
        language=normalize_tag(_str(table.get("language", "en"), "site.language")),
        author=_str(table["author"], "site.author") if "author" in table else None,
        logo=_logo(table),
    )


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


def _sources(table: Mapping[str, Any], base: Path, timezone: str) -> SourceOptions:
    _check_keys("sources", table, {"paths", "markers", "furniture", "furniture_defaults", "dates", "max_bytes"})
    paths = table.get("paths", ["seeds"])
    dates = table.get("dates", {})
    if not isinstance(dates, Mapping):
        raise ConfigError("sources.dates must be a table of glob = date")
    return SourceOptions(
        paths=tuple(_path(p, base, "sources.paths") for p in _str_list(paths, "sources.paths")),
        markers=tuple(_str_list(table.get("markers", list(DEFAULT_MARKERS)), "sources.markers")),
        furniture=_furniture(table),
        dates=tuple((str(k), parse_date(v, timezone, f"sources.dates.{k}")) for k, v in dates.items()),
        max_bytes=_positive_int(table.get("max_bytes", 5 * 1024 * 1024), "sources.max_bytes"),
        timezone=timezone,
    )


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


def _translation(table: Mapping[str, Any], base: Path) -> TranslationOptions:
    allowed = {"languages", "provider", "providers", "glossary", "terms", "last_word", "mode", "modes",
               "on_error", "timeout", "retries", "concurrency", "cache", "settings", "max_unknown",
               "max_chars_per_run"}
    _check_keys("translation", table, allowed)
    from syndicate.localize import normalize_tag

    on_error = _str(table.get("on_error", "skip"), "translation.on_error")
    if on_error not in ON_ERROR:
        raise ConfigError(f"translation.on_error must be one of {', '.join(ON_ERROR)}, not {on_error!r}")
    providers = table.get("providers", {})
    settings = table.get("settings", {})
    if not isinstance(providers, Mapping) or not isinstance(settings, Mapping):
        raise ConfigError("translation.providers and translation.settings must be tables")
    cache = table.get("cache")
    max_chars = table.get("max_chars_per_run")
    return TranslationOptions(
        languages=tuple(normalize_tag(t) for t in _str_list(table.get("languages", []), "translation.languages")),
        provider=_str(table.get("provider", "apertium"), "translation.provider"),
        providers=tuple((normalize_tag(k), _str(v, f"translation.providers.{k}")) for k, v in providers.items()),
        glossary=tuple(_str_list(table.get("glossary", []), "translation.glossary")),
        terms=_terms(table.get("terms", {})),
        mode=_mode(table.get("mode", "full"), "translation.mode"),
        modes=tuple(
            (normalize_tag(k), _mode(v, f"translation.modes.{k}")) for k, v in _table(table, "modes").items()
        ),
        last_word=_bool(table.get("last_word", True), "translation.last_word"),
        on_error=on_error,
        timeout=_positive_float(table.get("timeout", 20.0), "translation.timeout"),
        retries=_non_negative_int(table.get("retries", 3), "translation.retries"),
        concurrency=_positive_int(table.get("concurrency", 4), "translation.concurrency"),
        cache=_path(cache, base, "translation.cache") if cache is not None else None,
        settings=tuple(
            (str(name), tuple(sorted((str(k), str(v)) for k, v in _table(settings, name).items())))
            for name in sorted(settings)
        ),
        max_unknown=_share(table.get("max_unknown", 0.15), "translation.max_unknown"),
        max_chars_per_run=_positive_int(max_chars, "translation.max_chars_per_run") if max_chars is not None else None,
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


def check_timezone(name: str) -> str:
    """``name`` if it is a known IANA timezone (see :func:`syndicate.localize.zone`)."""
    from syndicate.localize import zone

    zone(name)
    return name


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


def _check_keys(section: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        where = f"[{section}] " if section else ""
        raise ConfigError(f"{where}unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _str(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} must be a non-empty string")
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
