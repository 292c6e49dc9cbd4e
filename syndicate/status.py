"""Owns the status document of a target: :class:`Status` builds, writes, reads and judges it.

Every run records what it did in ``<target>/.syndicate/status.json``: when it
started, its outcome and exit code, items per language, missing
translations, input errors, files written, and whether a failed run left the
target changed.  The document is built only here (:meth:`Status.of_run`,
:meth:`Status.of_failure`) and parsed only here (:meth:`Status.load`).
:func:`check_status` turns it into one human line, the problems (errors:
what makes the check fail), the warnings (what a run survived: missing
translations, inputs skipped, WebSub pings that failed and when they are
sent again) and the exit code a monitoring check (cron, Nagios, systemd
timer) should act on:

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate.errors import ConfigError, ExitCode, PublishError, SyndicateError, TargetChangedError, plural
from syndicate.publish import STATE_DIR, STATUS_FILE, read_state_file, write_state_file

if TYPE_CHECKING:
    from syndicate.pipeline import RunSummary

SHOWN_MAX = 5  # input errors / missing titles listed before "... and N more"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_RE = re.compile(r"(?:\d+[smhdw])+")
_PART_RE = re.compile(r"(\d+)([smhdw])")


@dataclass(frozen=True)
class Status:
    """The last run of a target, as ``.syndicate/status.json`` records it.

    Reading is forgiving (a damaged field reads as missing, and
    :func:`check_status` says so); ``document`` keeps what was read, for ``--json``.
    """

    time: datetime | None
    outcome: str | None
    exit_code: ExitCode | None  # None: missing or not a known exit code
    target: str = ""
    items: dict[str, int] = field(default_factory=dict)
    written: int | None = None
    unchanged: int | None = None
    removed: int | None = None
    errors: tuple[str, ...] = ()
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reasons: dict[str, dict[str, str]] = field(default_factory=dict)  # language -> missing title -> why
    # only a run that a rerun with the same inputs would repeat: complete, or partial by settled
    # refusals only (a deterministic engine's, cached); a later run with the same one may be skipped
    fingerprint: str | None = None
    target_changed: bool = False  # a failed run could not restore the target (the next run does)
    websub: dict[str, Any] | None = None  # WebSub pings: {"sent": n, "failed": [lines]}; None: no hub
    skipped: tuple[tuple[str, str], ...] = ()  # (path as shown, reason): inputs left unread, never opened
    document: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # -- building -------------------------------------------------------------

    @classmethod
    def of_run(cls, started: datetime, summary: RunSummary, fingerprint: str | None) -> Status:
        """A run that published (completely, partly, or with input errors)."""
        code = summary.exit_code
        return cls(
            time=started,
            outcome=code.name.lower(),
            exit_code=code,
            target=summary.target,
            items=dict(summary.items),
            written=summary.written,
            unchanged=summary.unchanged,
            removed=summary.removed,
            errors=tuple(str(e) for e in summary.errors),
            missing={lang: tuple(titles) for lang, titles in summary.missing.items()},
            reasons={lang: dict(why) for lang, why in summary.reasons.items()},
            fingerprint=fingerprint if _repeatable(summary) else None,
            websub=summary.websub.as_dict() if summary.websub is not None else None,
            skipped=tuple((entry.as_dict()["path"], entry.reason) for entry in summary.skipped),
        )

    @classmethod
    def of_failure(cls, started: datetime, target: Path, exc: SyndicateError) -> Status:
        """A run that published nothing (or, for a TargetChangedError, could not undo what it began)."""
        return cls(
            time=started,
            outcome="failed",
            exit_code=exc.exit_code,
            target=str(target),
            errors=(str(exc),),
            target_changed=isinstance(exc, TargetChangedError),
        )

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "time": self.time.isoformat(timespec="seconds") if self.time else None,
            "outcome": self.outcome,
            "exit_code": int(self.exit_code) if self.exit_code is not None else None,
            "target": self.target,
            "errors": list(self.errors),
        }
        if self.outcome != "failed":
            doc.update(
                items=self.items,
                written=self.written,
                unchanged=self.unchanged,
                removed=self.removed,
                missing={lang: list(titles) for lang, titles in self.missing.items()},
            )
            failures = {  # why each missing title is missing, as `publish --json` says it (when known)
                lang: [{"title": t, "reason": self.reasons[lang][t]} for t in titles if t in self.reasons.get(lang, {})]
                for lang, titles in self.missing.items()
                if any(t in self.reasons.get(lang, {}) for t in titles)
            }
            if failures:
                doc["failures"] = failures
        if self.fingerprint:
            doc["fingerprint"] = self.fingerprint
        if self.target_changed:
            doc["target_changed"] = True
        if self.websub is not None:
            doc["websub"] = self.websub
        if self.skipped:
            doc["skipped"] = [{"path": path, "reason": reason} for path, reason in self.skipped]
        return {key: value for key, value in doc.items() if value is not None}

    # -- writing and reading --------------------------------------------------

    def save(self, target: Path) -> None:
        """Write the status file atomically (sorted keys, indent 2); PublishError if it cannot be."""
        text = json.dumps(self.to_document(), sort_keys=True, indent=2, ensure_ascii=False)
        write_state_file(target, STATUS_FILE, (text + "\n").encode("utf-8"))

    @classmethod
    def load(cls, target: Path) -> Status | None:
        """The last run's status, or None when there is none or it is damaged."""
        status, _ = cls.read(target)
        return status

    @classmethod
    def read(cls, target: Path) -> tuple[Status | None, str]:
        """The last run's status, or None and a one-line reason."""
        path = target / STATE_DIR / STATUS_FILE
        if not target.is_dir():
            return None, f"{target}: no such directory (nothing has been published there)"
        try:
            data = read_state_file(target, STATUS_FILE)
        except PublishError as exc:
            return None, exc.message
        if data is None:
            return None, f"{path}: no status file (has `syndicate publish` run on this target?)"
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else "not JSON"
            return None, f"{path}: damaged status file: {reason}"
        if not isinstance(doc, dict):
            return None, f"{path}: damaged status file: expected a JSON object, got {type(doc).__name__}"
        return cls.from_document(doc), ""

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Status:
        outcome = doc.get("outcome")
        missing = doc.get("missing")
        fingerprint = doc.get("fingerprint")
        return cls(
            time=_time(doc.get("time")),
            outcome=outcome if isinstance(outcome, str) and outcome else None,
            exit_code=_exit_code(doc.get("exit_code")),
            target=str(doc.get("target") or ""),
            items=_items(doc.get("items")),
            written=_count(doc.get("written")),
            unchanged=_count(doc.get("unchanged")),
            removed=_count(doc.get("removed")),
            errors=tuple(_one_line(e) for e in _list(doc.get("errors"))),
            missing={
                str(lang): tuple(_one_line(t) for t in _list(titles))
                for lang, titles in (missing.items() if isinstance(missing, dict) else ())
            },
            reasons=_reasons(doc.get("failures")),
            fingerprint=fingerprint if isinstance(fingerprint, str) else None,
            target_changed=doc.get("target_changed") is True,
            websub=doc["websub"] if isinstance(doc.get("websub"), dict) else None,
            skipped=tuple(
                (_one_line(row["path"]), _one_line(row["reason"]))
                for row in _list(doc.get("skipped"))
                if isinstance(row, dict) and isinstance(row.get("path"), str) and isinstance(row.get("reason"), str)
            ),
            document=dict(doc),
        )


@dataclass(frozen=True)
class StatusReport:
    """What ``syndicate status`` prints and the exit code it ends with."""

    status: dict[str, Any]  # the status document as read ({} when there is none)
    line: str  # one human line about the last run
    problems: list[str] = field(default_factory=list)  # errors, one line each, for stderr
    exit_code: ExitCode = ExitCode.OK
    warnings: list[str] = field(default_factory=list)  # what the run survived, one line each, for stderr


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
    status, error = Status.read(target)
    if status is None:
        return StatusReport({}, f"{target}: no run recorded", [error], ExitCode.PARTIAL, _websub_warnings(None, target))
    problems: list[str] = []
    if status.time is None:
        problems.append(f"{path}: no valid 'time' (ISO 8601) in the status file")
    code = _run_code(status, path, problems)
    outcome = status.outcome or ("failed" if code >= ExitCode.USAGE else code.name.lower())
    problems += _run_problems(status, outcome, code)
    warnings = _missing_warnings(status) + _skipped_warnings(status) + _websub_warnings(status.websub, target)
    when = status.time.isoformat() if status.time else "at an unknown time"
    line = f"last run {when}: {_summary(status, outcome, code)}"
    if status.time is not None:
        age = now - status.time
        line += f", {_ago(age)}"
        if max_age is not None and age > max_age:
            problems.append(f"last run {when} is older than {_duration_text(max_age)} ({_ago(age)})")
            code = max(code, ExitCode.PARTIAL)
    elif code == ExitCode.OK:
        code = ExitCode.PARTIAL
    return StatusReport(status.document, line, problems, code, warnings)


# -- reading ------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def _run_code(status: Status, path: Path, problems: list[str]) -> ExitCode:
    """The last run's exit code; a failed outcome is never 0."""
    failed = status.outcome == "failed"
    if status.exit_code is None:
        problems.append(f"{path}: no valid 'exit_code' in the status file")
        return ExitCode.PUBLISH_FAILED if failed else ExitCode.PARTIAL
    if failed and status.exit_code == ExitCode.OK:
        return ExitCode.PUBLISH_FAILED
    return status.exit_code


def _run_problems(status: Status, outcome: str, code: ExitCode) -> list[str]:
    problems = []
    errors = list(status.errors)
    if outcome == "failed" or (code >= ExitCode.USAGE and not status.items):
        first = f": {errors[0]}" if errors else ""
        if status.target_changed:
            problems.append(
                f"last run failed (exit {int(code)}) and left the target changed; the next run restores it{first}"
            )
        else:
            problems.append(f"last run failed (exit {int(code)}), nothing was published{first}")
        errors = errors[1:]
    return problems + _capped(errors, "input errors")


def _missing_warnings(status: Status) -> list[str]:
    """The articles left untranslated, per language (the run published the rest: exit 1, not a failure)."""
    warnings = []
    for lang, names in status.missing.items():
        if names:
            more = len(names) - SHOWN_MAX
            shown = "; ".join(names[:SHOWN_MAX]) + (f"; ... and {more} more" if more > 0 else "")
            warnings.append(f"{lang}: {len(names)} articles without translation: {shown}")
    return warnings


def _skipped_warnings(status: Status) -> list[str]:
    """The inputs the run left unread, as the run's own warnings named them."""
    return _capped([f"{path}: skipped: {reason}" for path, reason in status.skipped], "inputs skipped")


def _websub_warnings(websub: Mapping[str, Any] | None, target: Path) -> list[str]:
    """The failed WebSub pings (hub, feed URL, why) and whether the next publish sends each again.

    The last run's ``websub.failed`` says why; ``.syndicate/websub.json`` says
    which pings wait for the next run (:func:`syndicate.websub.pending_pings`),
    including those of an earlier run when the last one failed before pinging.
    """
    from syndicate.websub import pending_pings

    pending = pending_pings(target)
    failed: dict[tuple[str, str], str] = {}
    for line in _list(websub.get("failed") if websub is not None else None):
        hub, url, reason = _ping_failure(_one_line(line))
        failed.setdefault((hub, url), reason)
    lines = []
    for (hub, url), reason in failed.items():
        when = "sent again on the next publish" if (hub, url) in pending else "no longer pending: not sent again"
        lines.append(f"WebSub ping to {hub} for {url} failed: {reason}; {when}")
    lines += [
        f"WebSub ping to {hub} for {url} failed in an earlier run; sent again on the next publish"
        for hub, url in pending
        if (hub, url) not in failed
    ]
    return _capped(lines, "failed WebSub pings")


def _ping_failure(line: str) -> tuple[str, str, str]:
    """``"hub: feed URL: reason"`` (as :class:`syndicate.websub.PingReport` words it) -> its three parts.

    URLs hold no spaces, so ``": "`` only ever separates the parts.
    """
    parts = line.split(": ", 2)
    if len(parts) < 3:
        return "a hub", "a feed", line
    hub, url, reason = parts
    return hub, url, reason


def _repeatable(summary: RunSummary) -> bool:
    """Whether a rerun with the same fingerprint would do the same: exit 0, or 1 by settled refusals only."""
    code = summary.exit_code
    return code == ExitCode.OK or (code == ExitCode.PARTIAL and summary.settled)


def _reasons(failures: object) -> dict[str, dict[str, str]]:
    """``failures`` of the status file (language -> [{title, reason}]) as language -> title -> reason."""
    reasons: dict[str, dict[str, str]] = {}
    for lang, rows in failures.items() if isinstance(failures, dict) else ():
        for row in _list(rows):
            if isinstance(row, dict) and isinstance(row.get("title"), str) and isinstance(row.get("reason"), str):
                reasons.setdefault(str(lang), {}).setdefault(_one_line(row["title"]), row["reason"])
    return reasons


def _capped(lines: list[str], what: str) -> list[str]:
    if len(lines) <= SHOWN_MAX:
        return lines
    return [*lines[:SHOWN_MAX], f"... and {len(lines) - SHOWN_MAX} more {what}"]


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _exit_code(value: object) -> ExitCode | None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in {int(c) for c in ExitCode}:
        return None
    return ExitCode(value)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _items(items: object) -> dict[str, int]:
    if not isinstance(items, dict):
        return {}
    return {str(k): v for k, v in items.items() if isinstance(v, int) and not isinstance(v, bool)}


# -- the line -----------------------------------------------------------------


def _summary(status: Status, outcome: str, code: ExitCode) -> str:
    parts = [outcome if code == ExitCode.OK else f"{outcome} (exit {int(code)})"]
    if status.items:
        langs = ", ".join(f"{lang} {n}" for lang, n in status.items.items())
        parts.append(f"{plural(sum(status.items.values()), 'item')} ({langs})")
    if status.written is not None:
        parts.append(f"{status.written} written")
    counts = {lang: len(titles) for lang, titles in status.missing.items() if titles}
    if counts:
        parts.append("translations missing: " + " ".join(f"{lang} {n}" for lang, n in counts.items()))
    if status.errors:
        parts.append(plural(len(status.errors), "error"))
    if status.skipped:
        parts.append(f"{plural(len(status.skipped), 'input')} skipped")
    failed = _list(status.websub.get("failed")) if status.websub is not None else []
    if failed:
        parts.append(f"WebSub: {plural(len(failed), 'ping')} failed")
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
