"""The process entry point (``syndicate``, ``python -m syndicate``) and the body of ``publish``.

A cron job runs ``syndicate publish`` every few minutes and most runs find nothing
changed (the no-op path, :mod:`syndicate.incremental`).  Building the Typer app would
then be a third of the run: typer imports pydantic and builds a validator for every
option of the command.  So :func:`main` reads a ``publish`` command line written in
the plain forms itself (:func:`parse_publish`) and runs it (:func:`run_publish`)
without importing typer.  Every other command line (another command, ``--help``,
``--version``, shell completion, an unknown option, a form or a value this parser
does not take) goes to the Typer app, :mod:`syndicate.cli`, unchanged: help, usage
errors and completion stay typer's.  Both parsers make one :class:`PublishRequest`
and :func:`run_publish` is the command's one body (``tests/test_launch.py`` holds
the two parsers equal on every form this one accepts).

Also here, because both paths need them without typer: the log set-up
(:func:`setup_logging`) and the one place an error becomes output
(:func:`report_failure`).
"""

from __future__ import annotations

import enum
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from syndicate.errors import ERROR_PREFIX, SyndicateError

WARNING_PREFIX = "syndicate: warning: "  # as the log handler words a warning (_Formatter)


class OnError(enum.StrEnum):
    """What to publish for an article that could not be translated."""

    skip = "skip"
    original = "original"


@dataclass(frozen=True)
class PublishRequest:
    """One ``syndicate publish`` command line, parsed (by typer or by :func:`parse_publish`)."""

    sources: Sequence[Path] | None = ()  # as typer gives them: () when none are given, else a list
    out: Path | None = None
    config: Path | None = None
    base_url: str | None = None
    timezone: str | None = None
    max_items: int | None = None
    lang: Sequence[str] | None = ()
    only_lang: Sequence[str] | None = ()
    provider: str | None = None
    cache: Path | None = None
    on_error: OnError | None = None
    dry_run: bool = False
    strict: bool = False
    as_json: bool = False
    quiet: bool = False
    verbose: int = 0
    traceback: bool = False  # the group's --traceback


# -- the command line ------------------------------------------------------------

# ``publish``'s options in the forms parse_publish takes: long name (and short) -> field.
_VALUES = {"--out": "out", "-o": "out", "--config": "config", "-c": "config", "--base-url": "base_url",
           "--timezone": "timezone", "--max-items": "max_items", "--provider": "provider", "--cache": "cache",
           "--on-error": "on_error", "--lang": "lang", "-l": "lang", "--only-lang": "only_lang"}  # fmt: skip
_FLAGS = {"--dry-run": "dry_run", "--strict": "strict", "--json": "as_json", "--quiet": "quiet"}
_PATHS = frozenset({"out", "config", "cache"})
_LISTS = frozenset({"lang", "only_lang"})
_COUNT = re.compile(r"[1-9][0-9]{0,17}")  # what --max-items takes here (min=1); anything else: typer says why


def parse_publish(args: list[str]) -> PublishRequest | None:
    """The request of a ``publish`` command line in the plain forms, or None: typer's to parse.

    Taken: ``[--traceback] publish``, then in any order ``SOURCES``, ``--option VALUE``,
    ``--option=VALUE``, ``-o VALUE`` (``-c``, ``-l``), the flags, and ``-v``/``-q`` alone
    or grouped (``-vv``, ``-qv``).  Anything else (``--help``, ``--``, an unknown option,
    a value starting with ``-``, an empty path, a --max-items that is no positive
    integer, an --on-error that is no choice, ``-oDIR``) is None.
    """
    position = 0
    traceback = False
    while position < len(args) and args[position] == "--traceback":
        traceback, position = True, position + 1
    if position >= len(args) or args[position] != "publish":
        return None
    fields: dict[str, Any] = {"traceback": traceback}
    sources: list[Path] = []
    rest = iter(args[position + 1 :])
    for arg in rest:
        if not arg.startswith("-"):
            sources.append(Path(arg))
            continue
        name, equals, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _FLAGS and not equals:
            fields[_FLAGS[name]] = True
        elif name == "--verbose" and not equals:
            fields["verbose"] = fields.get("verbose", 0) + 1
        elif name in _VALUES:
            if not equals:
                value = next(rest, "-")  # a missing value: typer's to say so
            if not _option_value(fields, _VALUES[name], value):
                return None
        elif not _short_flags(fields, arg):
            return None
    if sources:
        fields["sources"] = sources
    return PublishRequest(**fields)


def _option_value(fields: dict[str, Any], field: str, value: str) -> bool:
    """Put an option's value into ``fields`` as typer would convert it; False when it is not plain."""
    if value.startswith("-") or (field in _PATHS and not value):
        return False
    if field == "max_items":
        if not _COUNT.fullmatch(value):
            return False
        fields[field] = int(value)
    elif field == "on_error":
        if value not in OnError.__members__:
            return False
        fields[field] = OnError(value)
    elif field in _LISTS:
        fields.setdefault(field, []).append(value)
    else:
        fields[field] = Path(value) if field in _PATHS else value
    return True


def _short_flags(fields: dict[str, Any], arg: str) -> bool:
    """``-q``, ``-v``, ``-vv``, ``-qv``... into ``fields``; False for anything else."""
    letters = arg[1:]
    if arg.startswith("--") or not letters or set(letters) - {"q", "v"}:
        return False
    if "q" in letters:
        fields["quiet"] = True
    if "v" in letters:
        fields["verbose"] = fields.get("verbose", 0) + letters.count("v")
    return True


def _completing() -> bool:
    """Whether the shell asks for completions (typer answers them)."""
    return any(name.startswith(("_SYNDICATE_COMPLETE", "_TYPER_COMPLETE")) for name in os.environ)


def main() -> None:
    """``syndicate``: a plain ``publish`` line runs here; every other goes to the Typer app."""
    request = None if _completing() else parse_publish(sys.argv[1:])
    if request is None:
        from syndicate.cli import main as typer_main

        typer_main()
        return
    try:
        code = run_publish(request)
    except EOFError:  # as typer ends a run it cannot go on with
        echo("", err=True)
        echo("Aborted!", err=True)
        code = 1
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        sys.stdout = sys.stderr = _Quiet()
        code = 1
    sys.exit(code)


class _Quiet:
    """A stream that drops everything (stdout once its reader has gone: no second error at exit)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


# -- output ------------------------------------------------------------------------

_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # as click strips them


def echo(text: str, *, err: bool = False) -> None:
    """One line on stdout (or stderr), flushed; terminal escapes dropped when it is no terminal (as click's)."""
    stream: TextIO | None = sys.stderr if err else sys.stdout
    if stream is None:
        return
    if not (hasattr(stream, "isatty") and stream.isatty()):
        text = _ANSI.sub("", text)
    stream.write(text + "\n")
    stream.flush()


class _Formatter(logging.Formatter):
    """``syndicate: error: ...``, ``syndicate: warning: ...``; progress lines (info, debug) bare."""

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"syndicate: {record.levelname.lower()}: {message}"
        return f"syndicate: {message}"


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted (not the stream of set-up time)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def setup_logging(quiet: bool, verbosity: int = 0) -> None:
    """Errors only with ``quiet``; warnings by default; stages with ``-v``; every file with ``-vv``."""
    level = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = _Stderr()
    handler.setFormatter(_Formatter("%(message)s"))
    logger = logging.getLogger("syndicate")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def report_failure(exc: SyndicateError, *, as_json: bool = False, traceback: bool = False) -> int:
    """The one place an error becomes output: a line per problem, a JSON object with ``--json``;
    the exit code.  With ``traceback`` the error is raised again instead (``--traceback``)."""
    if traceback:
        raise exc
    for problem in exc.problems:
        echo(f"{ERROR_PREFIX}{problem}", err=True)
    if as_json:
        report = {
            "outcome": "failed",
            "exit_code": int(exc.exit_code),
            "errors": [problem.as_dict() for problem in exc.problems],
        }
        echo(json.dumps(report, indent=2, sort_keys=True))
    return int(exc.exit_code)


# -- publish -----------------------------------------------------------------------


def run_publish(request: PublishRequest) -> int:
    """``syndicate publish``: read, translate, render and publish (or, ``--dry-run``, print the cost); the exit code."""
    from syndicate.config import load_config
    from syndicate.pipeline import Stage, choose_languages, publish_site

    setup_logging(request.quiet, request.verbose)
    try:
        settings = load_config(request.config).with_overrides(
            sources=request.sources,
            target=request.out,
            base_url=request.base_url,
            timezone=request.timezone,
            max_items=request.max_items,
            provider=request.provider,
            cache=request.cache,
            on_error=request.on_error.value if request.on_error is not None else None,
        )
        settings = choose_languages(settings, add=request.lang or (), only=request.only_lang or ())
        if request.dry_run:
            _print_cost(settings, request.as_json)
            return 0
        progress = not request.quiet and sys.stderr.isatty()
        summary = publish_site(settings, strict=request.strict, stage=Stage(progress=progress))
    except SyndicateError as exc:
        return report_failure(exc, as_json=request.as_json, traceback=request.traceback)
    if request.as_json:
        echo(json.dumps(summary.report(), indent=2, sort_keys=True))
    elif not request.quiet:
        echo(summary.line())
    return int(summary.exit_code)


def _print_cost(settings: Any, as_json: bool) -> None:
    import dataclasses

    from syndicate.pipeline import translation_cost

    lines = translation_cost(settings)
    if as_json:
        echo(json.dumps([dataclasses.asdict(line) for line in lines], indent=2))
        return
    if not lines:
        echo("dry run: no translation languages configured; nothing would be sent")
    for line in lines:
        tokens = f" (about {line.tokens} tokens)" if line.tokens is not None else ""
        deferred = f"; {line.deferred} more wait for a later run (max_chars_per_run)" if line.deferred else ""
        echo(
            f"dry run: {line.language} via {line.provider}: {line.segments} segments, "
            f"{line.characters} characters{tokens} would be sent{deferred}"
        )
