"""The command-line interface: Typer commands only.

Each command parses its options, calls one function of the pipeline and
prints what happened.  Errors become a one-line message on stderr and an
exit code in exactly one place, :func:`_fail`; ``--traceback`` shows the
whole story instead.  Heavy libraries are imported inside the commands.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer

from syndicate import __version__
from syndicate.errors import ExitCode, SyndicateError

app = typer.Typer(
    name="syndicate",
    help="Publish an article set as multilingual RSS, Atom and JSON feeds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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
    strict: Annotated[bool, typer.Option("--strict", help="Publish nothing if any input file is bad.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print more detail on stderr.")] = False,
) -> None:
    """Read SOURCES, render every feed and page, and publish them into the target."""
    from syndicate.config import load_config
    from syndicate.pipeline import publish_site

    _setup_logging(quiet, verbose)
    try:
        settings = load_config(config).with_overrides(
            sources=sources, target=out, base_url=base_url, timezone=timezone, max_items=max_items
        )
        summary = publish_site(settings, strict=strict)
    except SyndicateError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2, sort_keys=True))
    elif not quiet:
        typer.echo(summary.line())
    raise typer.Exit(int(summary.exit_code))


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


def main() -> None:
    app(prog_name="syndicate")
