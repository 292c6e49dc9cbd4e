"""The one exception hierarchy, the process exit codes and how problems are worded.

Every user-facing failure is a :class:`SyndicateError` carrying a one-line
message and the :class:`ExitCode` the CLI should end with.  Foreign errors are
wrapped once, at the boundary where they happen, with ``raise ... from exc`` so
the cause is kept for ``--traceback``.  An error is made of one or more
:class:`Problem` s (a config file with three mistakes is one error with three
problems): each is one line naming its file and line, and an object
``{file, line, message}`` under ``--json``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

ERROR_PREFIX = "syndicate: error: "


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 item"``, ``"2 items"``; ``plural_form`` for irregular nouns."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where it is: the unit of error reporting."""

    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None  # a config key such as "site.timezone", to find its line; not reported

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


class ExitCode(enum.IntEnum):
    """Process exit codes, documented in the README (DESIGN 7)."""

    OK = 0
    PARTIAL = 1  # published, but some translations are missing
    USAGE = 2  # usage or configuration error
    INPUT = 3  # an input file could not be read or parsed
    PUBLISH_FAILED = 4  # nothing was changed in the target
    LOCKED = 5  # another run holds the target's lock


class SyndicateError(Exception):
    """Base class: a message for humans, the problems behind it, and the exit code it maps to."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self._problems = tuple(problems)

    def __str__(self) -> str:
        # The message already says what went wrong in one line; the cause
        # (kept as __cause__) is shown by ``--traceback``.
        return self.message

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What went wrong, one line each (several for a config file with several mistakes)."""
        return self._problems or (Problem(self.message),)

    def adding(self, problem: Problem) -> Self:
        """A copy of this error with one more line (``problem``) after its own."""
        copy = self.__class__.__new__(self.__class__)
        copy.__dict__.update(self.__dict__)
        Exception.__init__(copy, self.message)
        copy._problems = (*self.problems, problem)
        return copy


class ConfigError(SyndicateError):
    """The configuration file or a command-line option is invalid (possibly in several places)."""

    exit_code = ExitCode.USAGE

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> ConfigError:
        """One error for all of ``problems``; its message stays one line."""
        problems = sorted(problems, key=lambda p: (p.file or "", p.line or 0))
        if len(problems) == 1:
            return cls(str(problems[0]), problems)
        files = {p.file for p in problems}
        where = f"{files.pop()}: " if len(files) == 1 and None not in files else ""
        listed = "; ".join(
            (f"line {p.line}: {p.message}" if p.line else p.message) if where else str(p) for p in problems
        )
        return cls(f"{where}{plural(len(problems), 'problem')}: {listed}", problems)


class InputError(SyndicateError):
    """An input file cannot be read or parsed; the message names the file."""

    exit_code = ExitCode.INPUT

    def __init__(self, path: object, message: str, line: int | None = None, problems: Sequence[Problem] = ()) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}", problems or (Problem(message, str(path), line),))
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
