"""The command-line interface: Typer commands only.

Each command parses its options, calls one function of the pipeline and
prints what happened.  Errors become a one-line message on stderr and an
exit code in exactly one place, :func:`_fail`; ``--traceback`` shows the
whole story instead.  Heavy libraries are imported inside the commands.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer

from syndicate import __version__
from syndicate.errors import ExitCode, SyndicateError

app = typer.Typer(
    name="syndicate",
    help="Publish an article set as multilingual RSS, Atom and JSON feeds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: importing rich costs ~120 ms of start-up
)
_state = {"traceback": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"syndicate {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    traceback: Annotated[bool, typer.Option("--traceback", help="Show the full traceback on errors.")] = False,
) -> None:
    """Publish an article set as multilingual RSS, Atom and JSON feeds."""
    _state["traceback"] = traceback


def _setup_logging(quiet: bool, verbose: bool = False) -> None:
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("syndicate: %(levelname)s: %(message)s"))
    logger = logging.getLogger("syndicate")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def _fail(exc: SyndicateError) -> NoReturn:
    if _state["traceback"]:
        raise exc
    typer.echo(f"syndicate: error: {exc}", err=True)
    raise typer.Exit(int(exc.exit_code))


@app.command()
def publish(
    sources: Annotated[
        Optional[list[Path]], typer.Argument(help="Files or directories to read (default: seeds/).", show_default=False)
    ] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Target directory (default: feeds/).")] = None,
    config: Annotated[
        Optional[Path], typer.Option("--config", "-c", help="Config file (default: ./syndicate.toml if present).")
    ] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="Absolute URL the target is served at.")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone", help="IANA timezone, e.g. Europe/Madrid.")] = None,
    max_items: Annotated[Optional[int], typer.Option("--max-items", help="Items per feed.", min=1)] = None,
    lang: Annotated[
        Optional[list[str]],
        typer.Option(
            "--lang",
            "-l",
            help="Also publish a translation into this language, besides the configured ones (repeatable).",
        ),
    ] = None,
    only_lang: Annotated[
        Optional[list[str]],
        typer.Option(
            "--only-lang",
            help="Publish translations into these languages only, instead of the configured ones (repeatable);"
            " the editions of other languages are removed from the target.",
        ),
    ] = None,
    provider: Annotated[
        Optional[str], typer.Option("--provider", help="Translation engine for every language (see `providers`).")
    ] = None,
    cache: Annotated[Optional[Path], typer.Option("--cache", help="Translation cache file (SQLite).")] = None,
    on_error: Annotated[
        Optional[str], typer.Option("--on-error", help="Untranslatable article: skip (default) or original.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what translation would send (the cost); send and publish nothing.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Publish nothing if any input file is bad.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print more detail on stderr.")] = False,
) -> None:
    """Read SOURCES, translate, render every feed and page, and publish them into the target."""
    from syndicate.config import load_config
    from syndicate.pipeline import Stage, choose_languages, publish_site

    _setup_logging(quiet, verbose)
    try:
        settings = load_config(config).with_overrides(
            sources=sources,
            target=out,
            base_url=base_url,
            timezone=timezone,
            max_items=max_items,
            provider=provider,
            cache=cache,
            on_error=on_error,
        )
        settings = choose_languages(settings, add=lang or (), only=only_lang or ())
        if dry_run:
            _print_cost(settings, as_json)
            return
        summary = publish_site(settings, strict=strict, stage=Stage(progress=not quiet and sys.stderr.isatty()))
    except SyndicateError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2, sort_keys=True))
    elif not quiet:
        typer.echo(summary.line())
    raise typer.Exit(int(summary.exit_code))


def _print_cost(settings: Any, as_json: bool) -> None:
    from syndicate.pipeline import translation_cost

    lines = translation_cost(settings)
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(line) for line in lines], indent=2))
        return
    if not lines:
        typer.echo("dry run: no translation languages configured; nothing would be sent")
    for line in lines:
        tokens = f" (about {line.tokens} tokens)" if line.tokens is not None else ""
        deferred = f"; {line.deferred} more wait for a later run (max_chars_per_run)" if line.deferred else ""
        typer.echo(
            f"dry run: {line.language} via {line.provider}: {line.segments} segments, "
            f"{line.characters} characters{tokens} would be sent{deferred}"
        )


@app.command()
def providers(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Config file.")] = None,
) -> None:
    """List translation engines, their languages (with the script written) and whether each is usable here."""
    from syndicate.config import load_config
    from syndicate.translate.registry import list_providers

    try:
        options = load_config(config).translation
    except SyndicateError as exc:
        _fail(exc)
    for info in list_providers(options):
        state = "usable" if info.usable else "unusable"
        typer.echo(f"{info.name:<12} {state:<9} {info.display_name}: {info.languages_text()} ({info.reason})")


cache_app = typer.Typer(
    help="Inspect, prune or clear the translation cache.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(cache_app, name="cache")
_CONFIG_OPTION = typer.Option("--config", "-c", help="Config file.")
_CACHE_OPTION = typer.Option("--cache", help="Translation cache file.")


def _cache_path(config: Optional[Path], path: Optional[Path]) -> Path:
    from syndicate.config import load_config
    from syndicate.translate.cache import default_path

    try:
        options = load_config(config).with_overrides(cache=path).translation
    except SyndicateError as exc:
        _fail(exc)
    return options.cache if options.cache is not None else default_path()


def _existing_cache(path: Path, *, writable: bool) -> Any:
    """The cache as it is (nothing created, nothing rebuilt), or None when there is none."""
    from syndicate.translate.cache import SegmentCache

    try:
        return SegmentCache.open_existing(path, writable=writable)
    except SyndicateError as exc:
        _fail(exc)


@cache_app.command("stats")
def cache_stats(
    config: Annotated[Optional[Path], _CONFIG_OPTION] = None,
    path: Annotated[Optional[Path], _CACHE_OPTION] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the translation cache's location, size and entries per provider and language."""
    cache_path = _cache_path(config, path)
    cache = _existing_cache(cache_path, writable=False)
    if cache is None:
        stats: dict[str, Any] = {"path": str(cache_path), "entries": 0, "size_bytes": 0, "providers": {},
                                 "languages": {}, "exists": False}  # fmt: skip
    else:
        with cache:
            try:
                stats = {**cache.stats(), "exists": True}
            except SyndicateError as exc:
                _fail(exc)
    if as_json:
        typer.echo(json.dumps(stats, indent=2, sort_keys=True, default=str))
        return
    typer.echo(f"cache: {stats['path']}{'' if stats['exists'] else ' (does not exist yet)'}")
    typer.echo(f"entries: {stats['entries']} ({stats['size_bytes']} bytes)")
    for provider, pairs in stats["providers"].items():
        shown = ", ".join(f"{pair} {count}" for pair, count in pairs.items())
        typer.echo(f"  {provider}: {sum(pairs.values())} ({shown})")
    if stats["languages"]:
        typer.echo("languages: " + ", ".join(f"{lang} {n}" for lang, n in stats["languages"].items()))


@cache_app.command("forget")
def cache_forget(
    provider: Annotated[Optional[str], typer.Option("--provider", help="Only this provider's entries.")] = None,
    language: Annotated[
        Optional[str], typer.Option("--lang", "-l", help="Only entries into (or from) this language.")
    ] = None,
    article: Annotated[
        Optional[list[str]],
        typer.Option("--article", help="Only the segments of this article (id, slug or source file; repeatable)."),
    ] = None,
    older_than: Annotated[
        Optional[str], typer.Option("--older-than", help="Only entries created before this date (ISO 8601).")
    ] = None,
    config: Annotated[Optional[Path], _CONFIG_OPTION] = None,
    path: Annotated[Optional[Path], _CACHE_OPTION] = None,
) -> None:
    """Delete the cached translations matching ALL the given filters (at least one is required)."""
    from syndicate.translate.cache import text_hash

    if not any((provider, language, article, older_than)):
        typer.echo("syndicate: error: cache forget needs --provider, --lang, --article or --older-than", err=True)
        raise typer.Exit(int(ExitCode.USAGE))
    try:
        before = _cutoff(older_than) if older_than else None
        tag = _language(language) if language else None
        hashes = [text_hash(t) for t in _article_segments(config, article)] if article else None
    except SyndicateError as exc:
        _fail(exc)
    cache = _existing_cache(_cache_path(config, path), writable=True)
    if cache is None:
        typer.echo("forgot 0 cached translations (there is no cache yet)")
        return
    with cache:
        try:
            removed = cache.forget(provider=provider, language=tag, before=before, text_hashes=hashes)
        except SyndicateError as exc:
            _fail(exc)
    typer.echo(f"forgot {removed} cached translations")


def _cutoff(value: str) -> float:
    from syndicate.config import parse_date

    return parse_date(value, "UTC", "--older-than").timestamp()


def _language(value: str) -> str:
    from syndicate.localize import normalize_tag

    return normalize_tag(value)


def _article_segments(config: Optional[Path], wanted: list[str]) -> list[str]:
    """The current segments of the named articles (read from the configured sources)."""
    from syndicate.config import load_config
    from syndicate.errors import ConfigError
    from syndicate.pipeline import read_inputs
    from syndicate.translate.variants import segments_of

    settings = load_config(config)
    articles, _ = read_inputs(settings)
    segments: list[str] = []
    for name in wanted:
        found = [a for a in articles if name in (a.id, a.slug) or _same_file(a, name)]
        if not found:
            raise ConfigError(f"--article {name!r}: no article with that id, slug or source file")
        for article in found:
            segments.extend(segments_of(article))
    if settings.site.description:
        segments = [s for s in segments if s != settings.site.description]
    return segments


def _same_file(article: Any, name: str) -> bool:
    source = getattr(article, "source", None) or getattr(article, "path", None)
    if not source:
        return False
    return str(source) == name or Path(str(source)).name == name or Path(str(source)).resolve() == Path(name).resolve()


@cache_app.command("clear")
def cache_clear(
    config: Annotated[Optional[Path], _CONFIG_OPTION] = None,
    path: Annotated[Optional[Path], _CACHE_OPTION] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every cached translation (the next publish translates everything again)."""
    cache_path = _cache_path(config, path)
    cache = _existing_cache(cache_path, writable=True)
    if cache is None:
        typer.echo("removed 0 cached translations (there is no cache yet)")
        return
    with cache:
        if not yes and sys.stdin.isatty():
            entries = cache.stats()["entries"]
            if not typer.confirm(f"delete all {entries} cached translations in {cache_path}?", default=False):
                typer.echo("nothing removed")
                raise typer.Exit(int(ExitCode.USAGE))
        try:
            removed = cache.clear()
        except SyndicateError as exc:
            _fail(exc)
    typer.echo(f"removed {removed} cached translations")


@app.command()
def validate(
    target: Annotated[Path, typer.Argument(help="A published directory, e.g. feeds/.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print problems only.")] = False,
) -> None:
    """Check a published directory: XML, required elements, links, dates, languages."""
    from syndicate.validate import validate_target

    if not target.is_dir():
        typer.echo(f"syndicate: error: {target}: not a directory", err=True)
        raise typer.Exit(int(ExitCode.USAGE))
    problems = validate_target(target)
    for problem in problems:
        typer.echo(f"{target}/{problem}", err=True)
    if problems:
        typer.echo(f"{target}: {len(problems)} problems", err=True)
        raise typer.Exit(int(ExitCode.INPUT))
    if not quiet:
        typer.echo(f"{target}: valid")


@app.command()
def status(
    target: Annotated[Path, typer.Argument(help="A published directory, e.g. feeds/.")],
    max_age: Annotated[
        Optional[str],
        typer.Option("--max-age", help="Fail when the last run is older than this, e.g. 15m, 2h, 1d."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status file as JSON.")] = False,
) -> None:
    """Print the last run's status; exit non-zero if it failed or is older than --max-age."""
    from syndicate.status import check_status, parse_duration

    try:
        report = check_status(target, max_age=parse_duration(max_age) if max_age else None)
    except SyndicateError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(report.status, indent=2, sort_keys=True))
    else:
        typer.echo(report.line)
    for problem in report.problems:
        typer.echo(f"syndicate: {problem}", err=True)
    raise typer.Exit(int(report.exit_code))


@app.command()
def serve(
    directory: Annotated[Path, typer.Argument(help="The directory to serve (default: feeds/).")] = Path("feeds"),
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port on 127.0.0.1.", min=0, max=65535)] = 8000,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every request on stderr.")] = False,
) -> None:
    """Preview a published directory on http://127.0.0.1:PORT/ with the right media types."""
    from syndicate.serve import serve_forever

    try:
        serve_forever(directory, port=port, verbose=verbose)
    except SyndicateError as exc:
        _fail(exc)


_CONFIG_TEMPLATE = """\
# syndicate.toml: see the README for every key. Command-line options override these.

[site]
title = "{title}"
url = "{url}"
description = "Latest articles"
timezone = "{timezone}"
language = "{language}"

[sources]
paths = ["seeds"]

[translation]
languages = []                  # e.g. ["es", "ca"]; `syndicate providers` lists the engines
provider = "apertium"

[output]
target = "feeds"
formats = ["rss", "atom", "json"]
max_items = 50
"""


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create syndicate.toml and seeds/.")] = Path("."),
    title: Annotated[str, typer.Option("--title", help="The site's title.")] = "My newsroom",
    url: Annotated[str, typer.Option("--url", help="Absolute URL the feeds will be served at.")] = (
        "http://localhost:8000/"
    ),
    timezone: Annotated[str, typer.Option("--timezone", help="IANA timezone for datelines.")] = "UTC",
    language: Annotated[str, typer.Option("--language", help="The articles' language (BCP 47).")] = "en",
) -> None:
    """Scaffold a config file and a seeds/ directory, and print a crontab line."""
    from syndicate.config import check_timezone, normalize_url
    from syndicate.localize import normalize_tag

    try:
        values = {
            "title": title.replace("\\", "\\\\").replace('"', '\\"'),
            "url": normalize_url(url),
            "timezone": check_timezone(timezone),
            "language": normalize_tag(language),
        }
    except SyndicateError as exc:
        _fail(exc)
    config = directory / "syndicate.toml"
    if config.exists():
        typer.echo(f"syndicate: error: {config}: already exists; not overwriting it", err=True)
        raise typer.Exit(int(ExitCode.USAGE))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "seeds").mkdir(exist_ok=True)
    config.write_text(_CONFIG_TEMPLATE.format(**values), encoding="utf-8")
    root = directory.resolve()
    typer.echo(f"wrote {config}; put articles in {directory / 'seeds'} and run: syndicate publish")
    typer.echo("crontab line (every five minutes, errors only):")
    typer.echo(f"*/5 * * * * cd {root} && {Path(sys.argv[0]).resolve()} publish --quiet")


def main() -> None:
    app(prog_name="syndicate")
