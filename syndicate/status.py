"""Owns reading the target's status for monitoring (``syndicate status``).

Every run records what it did in ``<target>/.syndicate/status.json``
(:func:`syndicate.publish.write_status`): when it started, its outcome and
exit code, items per language, missing translations, input errors, files
written.  :func:`check_status` turns that file into one human line, a list of
problems and the exit code a monitoring check (cron, Nagios, systemd timer)
should act on:

* 0: the last run published everything and is recent enough;
* the last run's own exit code when it was not 0: 1 partial (translations
  missing), 3 input errors (with or without a publish), 4 publish failed,
  2 configuration error (DESIGN 7);
* 1 when there is no usable status (no file, unreadable, damaged) or the
  last run is older than ``max_age``.

The clock is injectable (``now``), so the age check is testable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syndicate.errors import ConfigError, ExitCode

STATE_DIR = ".syndicate"  # syndicate.publish.STATE_DIR
STATUS_FILE = "status.json"  # the name syndicate.publish.write_status writes
SHOWN_MAX = 5  # input errors / missing titles listed before "... and N more"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_RE = re.compile(r"(?:\d+[smhdw])+")
_PART_RE = re.compile(r"(\d+)([smhdw])")


@dataclass(frozen=True)
class StatusReport:
    """What ``syndicate status`` prints and the exit code it ends with."""

    status: dict[str, Any]  # the parsed status.json ({} when there is none)
    line: str  # one human line about the last run
    problems: list[str] = field(default_factory=list)  # one line each, for stderr
    exit_code: ExitCode = ExitCode.OK


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"``, ``"1h30m"`` -> timedelta; else ConfigError."""
    compact = "".join(str(text).split()).lower()
    if not _DURATION_RE.fullmatch(compact):
        raise ConfigError(
            f"invalid duration {text!r}: use a number and a unit (s, m, h, d, w), e.g. 90s, 15m, 2h, 1d, 1h30m"
        )
    seconds = sum(int(number) * _UNITS[unit] for number, unit in _PART_RE.findall(compact))
    if seconds <= 0:
        raise ConfigError(f"invalid duration {text!r}: must be longer than zero")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ConfigError(f"invalid duration {text!r}: too long") from None


def check_status(target: Path, max_age: timedelta | None, now: datetime | None = None) -> StatusReport:
    """Read ``target``'s status file and judge the last run (see the module docstring)."""
    now = _aware(now or datetime.now(UTC))
    path = target / STATE_DIR / STATUS_FILE
    status, error = _load(target, path)
    if status is None:
        return StatusReport({}, f"{target}: no run recorded", [error], ExitCode.PARTIAL)
    problems: list[str] = []
    started = _time(status.get("time"))
    if started is None:
        problems.append(f"{path}: no valid 'time' (ISO 8601) in the status file")
    code = _run_code(status, path, problems)
    outcome = str(status.get("outcome") or ("failed" if code >= ExitCode.USAGE else code.name.lower()))
    problems += _run_problems(status, outcome, code)
    when = started.isoformat() if started else "at an unknown time"
    line = f"last run {when}: {_summary(status, outcome, code)}"
    if started is not None:
        age = now - started
        line += f", {_ago(age)}"
        if max_age is not None and age > max_age:
            problems.append(f"last run {when} is older than {_duration_text(max_age)} ({_ago(age)})")
            code = max(code, ExitCode.PARTIAL)
    elif code == ExitCode.OK:
        code = ExitCode.PARTIAL
    return StatusReport(status, line, problems, code)


# -- reading ------------------------------------------------------------------


def _load(target: Path, path: Path) -> tuple[dict[str, Any] | None, str]:
    """The status document, or None and a one-line reason."""
    if not target.is_dir():
        return None, f"{target}: no such directory (nothing has been published there)"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, f"{path}: no status file (has `syndicate publish` run on this target?)"
    except OSError as exc:
        return None, f"{path}: cannot read: {exc.strerror or exc}"
    try:
        doc = json.loads(data)
    except ValueError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "not JSON"
        return None, f"{path}: damaged status file: {reason}"
    if not isinstance(doc, dict):
        return None, f"{path}: damaged status file: expected a JSON object, got {type(doc).__name__}"
    return doc, ""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def _run_code(status: dict[str, Any], path: Path, problems: list[str]) -> ExitCode:
    """The last run's exit code; a failed outcome is never 0."""
    raw = status.get("exit_code")
    failed = status.get("outcome") == "failed"
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in {int(c) for c in ExitCode}:
        problems.append(f"{path}: no valid 'exit_code' in the status file")
        return ExitCode.PUBLISH_FAILED if failed else ExitCode.PARTIAL
    code = ExitCode(raw)
    if failed and code == ExitCode.OK:
        return ExitCode.PUBLISH_FAILED
    return code


def _run_problems(status: dict[str, Any], outcome: str, code: ExitCode) -> list[str]:
    problems = []
    errors = [_one_line(e) for e in _list(status.get("errors"))]
    if outcome == "failed" or (code >= ExitCode.USAGE and not _items(status)):
        first = f": {errors[0]}" if errors else ""
        problems.append(f"last run failed (exit {int(code)}), nothing was published{first}")
        errors = errors[1:]
    problems += _capped([f"input error: {e}" for e in errors], "input errors")
    missing = status.get("missing")
    if isinstance(missing, dict):
        for lang, titles in missing.items():
            names = [_one_line(t) for t in _list(titles)]
            if names:
                more = len(names) - SHOWN_MAX
                shown = "; ".join(names[:SHOWN_MAX]) + (f"; ... and {more} more" if more > 0 else "")
                problems.append(f"{lang}: {len(names)} articles without translation: {shown}")
    return problems


def _capped(lines: list[str], what: str) -> list[str]:
    if len(lines) <= SHOWN_MAX:
        return lines
    return [*lines[:SHOWN_MAX], f"... and {len(lines) - SHOWN_MAX} more {what}"]


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _items(status: dict[str, Any]) -> dict[str, int]:
    items = status.get("items")
    if not isinstance(items, dict):
        return {}
    return {str(k): v for k, v in items.items() if isinstance(v, int) and not isinstance(v, bool)}


# -- the line -----------------------------------------------------------------


def _summary(status: dict[str, Any], outcome: str, code: ExitCode) -> str:
    parts = [outcome if code == ExitCode.OK else f"{outcome} (exit {int(code)})"]
    items = _items(status)
    if items:
        langs = ", ".join(f"{lang} {n}" for lang, n in items.items())
        parts.append(f"{sum(items.values())} items ({langs})")
    written = status.get("written")
    if isinstance(written, int) and not isinstance(written, bool):
        parts.append(f"{written} written")
    missing = status.get("missing")
    if isinstance(missing, dict):
        counts = {lang: len(_list(t)) for lang, t in missing.items() if _list(t)}
        if counts:
            parts.append("translations missing: " + " ".join(f"{lang} {n}" for lang, n in counts.items()))
    errors = _list(status.get("errors"))
    if errors:
        parts.append(f"{len(errors)} errors")
    return ", ".join(parts)


def _ago(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 0:
        return f"{_amount(-seconds)} in the future (clock skew?)"
    if seconds < 1:
        return "just now"
    return f"{_amount(seconds)} ago"


def _amount(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _duration_text(duration: timedelta) -> str:
    """A timedelta in the units parse_duration reads: 900 s -> ``15m``, 5400 s -> ``1h30m``."""
    seconds = int(duration.total_seconds())
    parts = []
    for unit in ("d", "h", "m", "s"):
        n, seconds = divmod(seconds, _UNITS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts) or "0s"
