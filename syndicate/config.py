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
from syndicate.models import Site

DEFAULT_CONFIG = Path("syndicate.toml")
FORMATS = ("rss", "atom", "json")
DEFAULT_MARKERS = ("Read next", "Related", "More on this", "Read more", "See also")
DEFAULT_FURNITURE = (
    "What is your opinion on this topic?",
    "Leave the first comment",
    "Leave a comment",
    "Share this article",
    "Share",
    "Subscribe",
    "Subscribe to our newsletter",
    "Follow us on Telegram",
    "Advertisement",
)
ON_ERROR = ("skip", "original")


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
    on_error: str = "skip"
    timeout: float = 20.0
    retries: int = 3
    concurrency: int = 4
    cache: Path | None = None  # None: the user cache directory
    settings: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # per-provider settings

    def provider_for(self, language: str) -> str:
        return dict(self.providers).get(language, self.provider)

    def settings_for(self, provider: str) -> dict[str, str]:
        return dict(dict(self.settings).get(provider, ()))


@dataclass(frozen=True, slots=True)
class Config:
    site: Site
    sources: SourceOptions = field(default_factory=SourceOptions)
    target: Path = Path("feeds")
    formats: tuple[str, ...] = FORMATS
    max_items: int = 50
    translation: TranslationOptions = field(default_factory=TranslationOptions)

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
    _check_keys("", raw, {"site", "sources", "output", "translation"})
    site = _site(_table(raw, "site"))
    sources = _sources(_table(raw, "sources"), base, site.timezone)
    output = _table(raw, "output")
    _check_keys("output", output, {"target", "formats", "max_items", "pages"})
    pages = output.get("pages", True)
    if not isinstance(pages, bool):
        raise ConfigError("output.pages must be true or false")
    return Config(
        site=replace(site, pages=pages),
        sources=sources,
        target=_path(output.get("target", "feeds"), base, "output.target"),
        formats=_formats(output.get("formats", list(FORMATS))),
        max_items=_positive_int(output.get("max_items", 50), "output.max_items"),
        translation=_translation(_table(raw, "translation"), base),
    )


def _site(table: Mapping[str, Any]) -> Site:
    _check_keys("site", table, {"title", "url", "description", "timezone", "language", "author"})
    from syndicate.localize import normalize_tag

    return Site(
        title=_str(table.get("title", "Syndicate"), "site.title"),
        url=normalize_url(_str(table.get("url", "http://localhost:8000/"), "site.url")),
        description=_text(table.get("description", ""), "site.description"),  # no default: nothing we did not write
        timezone=check_timezone(_str(table.get("timezone", "UTC"), "site.timezone")),
        language=normalize_tag(_str(table.get("language", "en"), "site.language")),
        author=_str(table["author"], "site.author") if "author" in table else None,
    )


def _sources(table: Mapping[str, Any], base: Path, timezone: str) -> SourceOptions:
    _check_keys("sources", table, {"paths", "markers", "furniture", "dates", "max_bytes"})
    paths = table.get("paths", ["seeds"])
    dates = table.get("dates", {})
    if not isinstance(dates, Mapping):
        raise ConfigError("sources.dates must be a table of glob = date")
    return SourceOptions(
        paths=tuple(_path(p, base, "sources.paths") for p in _str_list(paths, "sources.paths")),
        markers=tuple(_str_list(table.get("markers", list(DEFAULT_MARKERS)), "sources.markers")),
        furniture=tuple(
            _str_list(table.get("furniture", list(DEFAULT_FURNITURE)), "sources.furniture")
        ),
        dates=tuple((str(k), parse_date(v, timezone, f"sources.dates.{k}")) for k, v in dates.items()),
        max_bytes=_positive_int(table.get("max_bytes", 5 * 1024 * 1024), "sources.max_bytes"),
        timezone=timezone,
    )


def _translation(table: Mapping[str, Any], base: Path) -> TranslationOptions:
    allowed = {"languages", "provider", "providers", "glossary", "on_error", "timeout",
               "retries", "concurrency", "cache", "settings"}
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
    return TranslationOptions(
        languages=tuple(normalize_tag(t) for t in _str_list(table.get("languages", []), "translation.languages")),
        provider=_str(table.get("provider", "apertium"), "translation.provider"),
        providers=tuple((normalize_tag(k), _str(v, f"translation.providers.{k}")) for k, v in providers.items()),
        glossary=tuple(_str_list(table.get("glossary", []), "translation.glossary")),
        on_error=on_error,
        timeout=_positive_float(table.get("timeout", 20.0), "translation.timeout"),
        retries=_non_negative_int(table.get("retries", 3), "translation.retries"),
        concurrency=_positive_int(table.get("concurrency", 4), "translation.concurrency"),
        cache=_path(cache, base, "translation.cache") if cache is not None else None,
        settings=tuple(
            (str(name), tuple(sorted((str(k), str(v)) for k, v in _table(settings, name).items())))
            for name in sorted(settings)
        ),
    )


def _apply_overrides(config: Config, overrides: Mapping[str, Any]) -> Config:
    site, translation, sources = config.site, config.translation, config.sources
    if "base_url" in overrides:
        site = replace(site, url=normalize_url(overrides["base_url"]))
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
    """An absolute http(s) site URL ending with a slash."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"site URL must be an absolute http(s) URL without query, not {url!r}")
    return url.strip().rstrip("/") + "/"


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


def _positive_float(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key} must be a positive number, not {value!r}")
    return float(value)
