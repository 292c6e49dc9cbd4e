"""The one exception hierarchy and the process exit codes.

Every user-facing failure is a :class:`SyndicateError` carrying a one-line
message and the :class:`ExitCode` the CLI should end with.  Foreign errors are
wrapped once, at the boundary where they happen, with ``raise ... from exc`` so
the cause is kept for ``--traceback``.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes, documented in the README (DESIGN 7)."""

    OK = 0
    PARTIAL = 1  # published, but some translations are missing
    USAGE = 2  # usage or configuration error
    INPUT = 3  # an input file could not be read or parsed
    PUBLISH_FAILED = 4  # nothing was changed in the target
    LOCKED = 5  # another run holds the target's lock


class SyndicateError(Exception):
    """Base class: a message for humans and the exit code it maps to."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        # The message already says what went wrong in one line; the cause
        # (kept as __cause__) is shown by ``--traceback``.
        return self.message


class ConfigError(SyndicateError):
    """The configuration file or a command-line option is invalid."""

    exit_code = ExitCode.USAGE


class InputError(SyndicateError):
    """An input file cannot be read or parsed; the message names the file."""

    exit_code = ExitCode.INPUT

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


class TranslationError(SyndicateError):
    """A translation engine failed for a segment or a whole batch."""

    exit_code = ExitCode.PARTIAL


class PublishError(SyndicateError):
    """Writing the target failed; the target was left as it was."""

    exit_code = ExitCode.PUBLISH_FAILED


class TargetChangedError(PublishError):
    """Publishing failed and rolling back failed too: the target is changed until the
    next run restores it from the journal (status must not say "nothing was published")."""


class LockedError(SyndicateError):
    """Another run holds the target's lock."""

    exit_code = ExitCode.LOCKED
