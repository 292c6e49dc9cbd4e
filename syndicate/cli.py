"""The command-line interface: Typer commands only.

Each command parses its options, calls one function of the pipeline and
prints what happened.  Errors become one line per problem on stderr, all
with the one prefix ``syndicate: error:`` (under ``--json`` also a JSON
object on stdout), and an exit code, in exactly one place, :func:`_fail`;
``--traceback`` shows the whole story instead.  ``-v`` logs each stage with
counts and timings, ``-vv`` each file.  Heavy libraries are imported inside
the commands.  Shell completion: ``syndicate --install-completion``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer
from typer.core import TyperCommand

from syndicate import __version__
from syndicate.errors import ERROR_PREFIX, ExitCode, SyndicateError, plural
from syndicate.launch import WARNING_PREFIX, OnError, PublishRequest, report_failure, run_publish, setup_logging

if TYPE_CHECKING:
    from syndicate.config import Config

app = typer.Typer(
    name="syndicate",
    help="Publish an article set as multilingual RSS, Atom and JSON feeds.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: importing rich costs ~120 ms of start-up
)
_state = {"traceback": False}

# The built-in engines (syndicate.translate.registry.PROVIDERS, kept equal by a test): importing
# the registry here would cost every command the translation package's start-up.
PROVIDER_CHOICES = (
    "apertium", "baidu", "deepl", "google", "libre", "microsoft", "mymemory", "openai", "papago", "qcri", "yandex"
)


class _Command(TyperCommand):
    """Plain argument names in help and usage (``TARGET``), not typer's ``{TARGET}`` and ``TARGET <path>``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [re.sub(r"^\{(.*)\}(\.\.\.)?$", r"\1\2", piece) for piece in super().collect_usage_pieces(ctx)]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((re.sub(r" <[^>]*>$", "", record[0]), record[1]))
            else:
                options.append(record)
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


def _complete_provider(incomplete: str) -> list[str]:
    from syndicate.translate.registry import PROVIDERS

    return [name for name in sorted(PROVIDERS) if name.startswith(incomplete)]


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


def _fail(exc: SyndicateError, *, as_json: bool = False) -> NoReturn:
    """The error's lines (and JSON object) and exit code (:func:`syndicate.launch.report_failure`)."""
    raise typer.Exit(report_failure(exc, as_json=as_json, traceback=_state["traceback"]))


@app.command(cls=_Command)
def publish(
    sources: Annotated[
        Optional[list[Path]],
        typer.Argument(
            help="Files or directories to read (default: seeds/).", show_default=False, metavar="SOURCES"
        ),
    ] = None,
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="Target directory (default: feeds/).", metavar="DIR")
    ] = None,
    config: Annotated[
        Optional[Path],
        typer.Option("--config", "-c", help="Config file (default: ./syndicate.toml if present).", metavar="FILE"),
    ] = None,
    base_url: Annotated[
        Optional[str], typer.Option("--base-url", help="Absolute URL the target is served at.", metavar="URL")
    ] = None,
    timezone: Annotated[
        Optional[str], typer.Option("--timezone", help="IANA timezone, e.g. Europe/Madrid.", metavar="ZONE")
    ] = None,
    max_items: Annotated[Optional[int], typer.Option("--max-items", help="Items per feed.", min=1, metavar="N")] = None,
    lang: Annotated[
        Optional[list[str]],
        typer.Option(
            "--lang",
            "-l",
            help="Also publish a translation into this language, besides the configured ones (repeatable).",
            metavar="LANG",
        ),
    ] = None,
    only_lang: Annotated[
        Optional[list[str]],
        typer.Option(
            "--only-lang",
            help="Publish translations into these languages only, instead of the configured ones (repeatable);"
            " the editions of other languages are removed from the target.",
            metavar="LANG",
        ),
    ] = None,
    provider: Annotated[
        Optional[str],
        typer.Option(
            "--provider",
            help=f"Translation engine for every language: {', '.join(PROVIDER_CHOICES)} (see `providers`).",
            metavar="ENGINE",
            autocompletion=_complete_provider,
        ),
    ] = None,
    cache: Annotated[
        Optional[Path], typer.Option("--cache", help="Translation cache file (SQLite).", metavar="FILE")
    ] = None,
    on_error: Annotated[
        Optional[OnError],
        typer.Option(
            "--on-error",
            help="An article that cannot be translated: skip it (default) or publish it untranslated (original).",
            show_default=False,
            metavar="[skip|original]",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what translation would send (the cost); send and publish nothing.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Publish nothing if any input file is bad.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout (a JSON error object on failure).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Log each stage with counts and timings; -vv each file.")
    ] = 0,
) -> None:
    """Read SOURCES, translate, render every feed and page, and publish them into the target."""
    request = PublishRequest(
        sources=sources,
        out=out,
        config=config,
        base_url=base_url,
        timezone=timezone,
        max_items=max_items,
        lang=lang,
        only_lang=only_lang,
        provider=provider,
        cache=cache,
        on_error=on_error,
        dry_run=dry_run,
        strict=strict,
        as_json=as_json,
        quiet=quiet,
        verbose=verbose,
        traceback=_state["traceback"],
    )
    raise typer.Exit(run_publish(request))


@app.command(cls=_Command)
def providers(
    config: Annotated[
        Optional[Path],
        typer.Option("--config", "-c", help="Config file (default: ./syndicate.toml if present).", metavar="FILE"),
    ] = None,
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
    help="Inspect, prune or clear the translation cache (segments, and the translated articles beside it).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(cache_app, name="cache")
_CONFIG_OPTION = typer.Option(
    "--config", "-c", help="Config file (default: ./syndicate.toml if present).", metavar="FILE"
)
_CACHE_OPTION = typer.Option(
    "--cache",
    help="Translation cache file (default: translation.cache, else the user cache directory).",
    metavar="FILE",
)


def _cache_path(config: Optional[Path], path: Optional[Path]) -> Path:
    from syndicate.translate.cache import default_path

    options = _cache_config(config, path).translation
    return options.cache if options.cache is not None else default_path()


def _cache_config(config: Optional[Path], path: Optional[Path]) -> Config:
    """The config of a ``cache`` command, its ``--cache`` applied (a bad config: its one-line error)."""
    from syndicate.config import load_config

    try:
        return load_config(config).with_overrides(cache=path)
    except SyndicateError as exc:
        _fail(exc)


def _existing_cache(path: Path, *, writable: bool) -> Any:
    """The cache as it is (nothing created, nothing rebuilt), or None when there is none."""
    from syndicate.translate.cache import SegmentCache

    try:
        return SegmentCache.open_existing(path, writable=writable)
    except SyndicateError as exc:
        _fail(exc)


def _existing_variants(segments_path: Path, *, writable: bool) -> Any:
    """The variant cache beside the segment cache, as it is (nothing created), or None."""
    from syndicate.translate.variant_cache import VariantCache, cache_path

    try:
        return VariantCache.open_existing(cache_path(segments_path.parent), writable=writable)
    except SyndicateError as exc:
        _fail(exc)


def _variants_do(segments_path: Path, action: Callable[[Any], int]) -> int:
    """Run ``action`` on the variant cache beside ``segments_path`` (0 when there is none)."""
    variants = _existing_variants(segments_path, writable=True)
    if variants is None:
        return 0
    with variants:
        try:
            return int(action(variants))
        except SyndicateError as exc:
            _fail(exc)


@cache_app.command("stats", cls=_Command)
def cache_stats(
    config: Annotated[Optional[Path], _CONFIG_OPTION] = None,
    path: Annotated[Optional[Path], _CACHE_OPTION] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON.")] = False,
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
    variants = _existing_variants(cache_path, writable=False)
    if variants is None:
        stats["variants"] = {"entries": 0, "refused": 0, "exists": False}
    else:
        with variants:
            try:
                stats["variants"] = {**variants.stats(), "exists": True}
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
    kept = stats["variants"]
    if kept["exists"]:
        typer.echo(f"translated articles: {kept['entries']} ({kept['refused']} refused) in {kept['path']}")


@cache_app.command("forget", cls=_Command)
def cache_forget(
    provider: Annotated[
        Optional[str],
        typer.Option(
            "--provider", help="Only this engine's entries.", metavar="ENGINE", autocompletion=_complete_provider
        ),
    ] = None,
    language: Annotated[
        Optional[str],
        typer.Option("--lang", "-l", help="Only entries into (or from) this language.", metavar="LANG"),
    ] = None,
    article: Annotated[
        Optional[list[str]],
        typer.Option(
            "--article",
            help="Only the segments of this article (id, slug or source file; repeatable).",
            metavar="ARTICLE",
        ),
    ] = None,
    older_than: Annotated[
        Optional[str],
        typer.Option("--older-than", help="Only entries created before this date (ISO 8601).", metavar="DATE"),
    ] = None,
    config: Annotated[Optional[Path], _CONFIG_OPTION] = None,
    path: Annotated[Optional[Path], _CACHE_OPTION] = None,
) -> None:
    """Delete the cached translations matching ALL the given filters (at least one is required).

    The translated articles built from them (the variant cache) go too, so the next publish rebuilds them.
    """
    from syndicate.translate.cache import text_hash

    if not any((provider, language, article, older_than)):
        typer.echo("syndicate: error: cache forget needs --provider, --lang, --article or --older-than", err=True)
        raise typer.Exit(int(ExitCode.USAGE))
    try:
        before = _cutoff(older_than) if older_than else None
        tag = _language(language) if language else None
        segments, sources = _article_segments(config, article) if article else ([], [])
        hashes = [text_hash(t) for t in segments] if article else None
    except SyndicateError as exc:
        _fail(exc)
    segments_path = _cache_path(config, path)

    def forget_variants(variants: Any) -> int:
        if article:
            return int(variants.forget_sources(sources))
        return int(variants.forget(provider=provider, language=tag, before=before))

    articles = _variants_do(segments_path, forget_variants)
    also = f" and {articles} translated articles" if articles else ""
    cache = _existing_cache(segments_path, writable=True)
    if cache is None:
        typer.echo(f"forgot 0 cached translations{also} (there is no cache yet)")
        return
    with cache:
        try:
            removed = cache.forget(provider=provider, language=tag, before=before, text_hashes=hashes)
        except SyndicateError as exc:
            _fail(exc)
    typer.echo(f"forgot {removed} cached translations{also}")


def _cutoff(value: str) -> float:
    from syndicate.config import parse_date

    return parse_date(value, "UTC", "--older-than").timestamp()


def _language(value: str) -> str:
    from syndicate.localize import normalize_tag

    return normalize_tag(value)


def _article_segments(config: Optional[Path], wanted: list[str]) -> tuple[list[str], list[str]]:
    """The current segments of the named articles (read from the configured sources), and their content keys."""
    from syndicate.config import load_config
    from syndicate.errors import ConfigError
    from syndicate.pipeline import read_inputs
    from syndicate.render import content_key
    from syndicate.translate.variants import segments_of

    settings = load_config(config)
    articles, _ = read_inputs(settings)
    segments: list[str] = []
    keys: list[str] = []
    for name in wanted:
        found = [a for a in articles if name in (a.id, a.slug) or _same_file(a, name)]
        if not found:
            raise ConfigError(f"--article {name!r}: no article with that id, slug or source file")
        for article in found:
            segments.extend(segments_of(article))
            keys.append(content_key(article))
    if settings.site.description:
        segments = [s for s in segments if s != settings.site.description]
    return segments, keys


def _same_file(article: Any, name: str) -> bool:
    source = getattr(article, "source", None) or getattr(article, "path", None)
    if not source:
        return False
    return str(source) == name or Path(str(source)).name == name or Path(str(source)).resolve() == Path(name).resolve()


@cache_app.command("clear", cls=_Command)
def cache_clear(
    config: Annotated[Optional[Path], _CONFIG_OPTION] = None,
    path: Annotated[Optional[Path], _CACHE_OPTION] = None,
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also delete the build caches (parsed.sqlite3, fragments.sqlite3, lines.sqlite3 in [cache] directory,"
            " else beside the translation cache):"
            " the next publish reads and renders everything again.",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every cached translation and translated article (the next publish translates everything again).

    The build caches (in ``[cache] directory``, else beside the translation cache) hold no
    translation and are kept (their names are printed); --all deletes them too.
    """
    from syndicate.cachefile import build_caches

    cache_path = _cache_path(config, path)
    build = build_caches(_cache_config(config, path).build_cache_dir)
    cache = _existing_cache(cache_path, writable=True)
    try:
        if not yes and sys.stdin.isatty() and (cache is not None or (everything and build)):
            entries = cache.stats()["entries"] if cache is not None else 0
            also = f" and the build caches ({_names(build)})" if everything and build else ""
            if not typer.confirm(f"delete all {entries} cached translations in {cache_path}{also}?", default=False):
                typer.echo("nothing removed")
                raise typer.Exit(int(ExitCode.USAGE))
        removed = cache.clear() if cache is not None else 0
    except SyndicateError as exc:
        _fail(exc)
    finally:
        if cache is not None:
            cache.close()
    articles = _variants_do(cache_path, lambda variants: int(variants.clear()))
    line = f"removed {removed} cached translations" + (f" and {articles} translated articles" if articles else "")
    if cache is None:
        line += " (there is no cache yet)"
    if build and everything:
        line += _clear_build_caches(build)
    elif build:
        line += f"; kept the build caches ({_names(build)}; --all removes them)"
    typer.echo(line)


def _names(paths: list[Path]) -> str:
    return ", ".join(p.name for p in paths)


def _clear_build_caches(paths: list[Path]) -> str:
    """Delete the build caches; what the summary line says about them."""
    from syndicate.cachefile import remove_cache
    from syndicate.errors import ConfigError

    for cache_file in paths:
        try:
            remove_cache(cache_file)
        except OSError as exc:
            _fail(ConfigError(f"{cache_file}: cannot delete: {exc.strerror or exc}"))
    return f"; removed the build caches ({_names(paths)}) in {paths[0].parent}"


@app.command(cls=_Command)
def validate(
    target: Annotated[Path, typer.Argument(help="A published directory, e.g. feeds/.", metavar="TARGET")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print problems only.")] = False,
) -> None:
    """Check a published directory: XML, required elements, links, dates, languages.

    Each problem is one line on stderr, ``syndicate: error: FILE[:LINE]: message``;
    the summary (``TARGET: valid`` or ``TARGET: N problems``) goes to stdout.
    Exit 0 when valid, 3 on any problem, 2 when TARGET is not a directory.
    """
    from syndicate.errors import ConfigError
    from syndicate.validate import validate_target

    if not target.is_dir():
        _fail(ConfigError(f"{target}: not a directory"))
    problems = validate_target(target)
    for problem in problems:
        typer.echo(f"{ERROR_PREFIX}{problem.located(target)}", err=True)
    if not quiet:
        typer.echo(f"{target}: {plural(len(problems), 'problem')}" if problems else f"{target}: valid")
    if problems:
        raise typer.Exit(int(ExitCode.INPUT))


@app.command(cls=_Command)
def status(
    target: Annotated[Path, typer.Argument(help="A published directory, e.g. feeds/.", metavar="TARGET")],
    max_age: Annotated[
        Optional[str],
        typer.Option("--max-age", help="Fail when the last run is older than this, e.g. 15m, 2h, 1d.", metavar="AGE"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status file as JSON.")] = False,
) -> None:
    """Print the last run's status; exit non-zero if it failed or is older than --max-age.

    Problems go to stderr, one line each: errors (why the check fails) with the
    prefix ``syndicate: error:``, and warnings (translations missing, inputs
    skipped, WebSub pings that failed and when they are sent again) with
    ``syndicate: warning:``.
    """
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
        typer.echo(f"{ERROR_PREFIX}{problem}", err=True)
    for warning in report.warnings:
        typer.echo(f"{WARNING_PREFIX}{warning}", err=True)
    raise typer.Exit(int(report.exit_code))


@app.command(cls=_Command)
def serve(
    sources: Annotated[
        Optional[list[Path]],
        typer.Argument(
            help="Files or directories to read (default: from the config).", show_default=False, metavar="SOURCES"
        ),
    ] = None,
    config: Annotated[
        Optional[Path],
        typer.Option("--config", "-c", help="Config file (default: ./syndicate.toml if present).", metavar="FILE"),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", "-p", help="TCP port (0: any free port).", min=0, max=65535, metavar="PORT")
    ] = 8000,
    bind: Annotated[
        str,
        typer.Option(
            "--bind", help="IP address to listen on; anything but loopback shows the preview to others.", metavar="IP"
        ),
    ] = "127.0.0.1",
    drafts: Annotated[bool, typer.Option("--drafts", help="Include articles marked as drafts.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every request on stderr.")] = False,
) -> None:
    """Preview the site on http://127.0.0.1:PORT/: rebuilt on every change, open pages reload.

    The preview is built into a private temporary directory with every link
    pointing at the local server; the published target is never touched.
    """
    from syndicate.config import DEFAULT_CONFIG, load_config
    from syndicate.serve import Preview, serve_preview

    setup_logging(False)

    def load() -> Any:
        return load_config(config).with_overrides(sources=sources)

    try:
        load()  # a broken config is a usage error now, not a preview that never builds
        watched = config if config is not None else DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None
        preview = Preview(
            load,
            config_path=watched,
            drafts=drafts,
            host=bind,
            port=port,
            verbose=verbose,
            report=lambda line: typer.echo(line, err=True),
        )
    except SyndicateError as exc:
        _fail(exc)
    serve_preview(preview)


@app.command(cls=_Command)
def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to create syndicate.toml and seeds/.", metavar="DIRECTORY")
    ] = Path("."),
    title: Annotated[str, typer.Option("--title", help="The site's title.", metavar="TEXT")] = "My newsroom",
    url: Annotated[str, typer.Option("--url", help="Absolute URL the feeds will be served at.", metavar="URL")] = (
        "http://localhost:8000/"
    ),
    timezone: Annotated[str, typer.Option("--timezone", help="IANA timezone for datelines.", metavar="ZONE")] = "UTC",
    language: Annotated[
        str, typer.Option("--language", help="The articles' language (BCP 47).", metavar="LANG")
    ] = "en",
    description: Annotated[
        Optional[str],
        typer.Option(
            "--description",
            help="The site's description, in its language (asked for on a terminal; else none).",
            show_default=False,
            metavar="TEXT",
        ),
    ] = None,
) -> None:
    """Scaffold a config, a seeds/ directory with a sample article and a .gitignore; print a crontab line."""
    from syndicate.localize import language_name, normalize_tag
    from syndicate.pipeline import utc_now
    from syndicate.scaffold import init_site, launcher_command

    try:
        if description is None and sys.stdin.isatty():
            shown = language_name(normalize_tag(language), "en")
            description = typer.prompt(f"Site description, in {shown} (empty for none)", default="", show_default=False)
        done = init_site(
            directory,
            title=title,
            url=url,
            timezone=timezone,
            language=language,
            description=description,
            clock=utc_now,
            launcher=launcher_command(sys.argv[0]),
        )
    except SyndicateError as exc:
        _fail(exc)
    typer.echo(f"wrote {done.config}")
    draft = " (a draft: `syndicate serve --drafts` shows it)" if done.sample_is_draft else ""
    typer.echo(f"wrote {done.sample}{draft}; put articles in {done.sources}")
    if done.gitignore is not None:
        typer.echo(f"wrote {done.gitignore} (the published feeds/ stay out of git)")
    typer.echo('next: syndicate new "A title", syndicate serve, syndicate publish')
    typer.echo("crontab line (every five minutes, errors only):")
    typer.echo(done.crontab)


@app.command(cls=_Command)
def new(
    title: Annotated[str, typer.Argument(help="The article's title.", metavar="TITLE")],
    lang: Annotated[
        Optional[str], typer.Option("--lang", "-l", help="Its language, if not the site's (BCP 47).", metavar="LANG")
    ] = None,
    section: Annotated[
        Optional[str], typer.Option("--section", "-s", help="Its section (category).", metavar="NAME")
    ] = None,
    draft: Annotated[bool, typer.Option("--draft", help="Mark it a draft (only `serve --drafts` shows it).")] = False,
    config: Annotated[
        Optional[Path],
        typer.Option("--config", "-c", help="Config file (default: ./syndicate.toml if present).", metavar="FILE"),
    ] = None,
    directory: Annotated[
        Optional[Path],
        typer.Option(
            "--dir", help="Where to write it (default: the first sources path).", show_default=False, metavar="DIR"
        ),
    ] = None,
) -> None:
    """Write a new Markdown article (front matter: title, date now, slug) and print its path."""
    from syndicate.config import load_config
    from syndicate.pipeline import utc_now
    from syndicate.scaffold import new_article

    try:
        settings = load_config(config)
        if directory is None:
            first = settings.sources.paths[0]
            directory = first.parent if first.is_file() else first
        zone = settings.site.timezone
        path = new_article(directory, title, timezone=zone, clock=utc_now, language=lang, section=section, draft=draft)
    except SyndicateError as exc:
        _fail(exc)
    typer.echo(str(path))


def main() -> None:
    """The Typer app on ``sys.argv`` (:func:`syndicate.launch.main` hands it every line it does not run itself)."""
    app(prog_name="syndicate")
