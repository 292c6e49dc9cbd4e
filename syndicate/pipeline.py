"""Wires the stages: sources -> (translate) -> localize -> render -> publish.

Everything with side effects is injected: the clock (only used for the
status file, never for feed content), the file reader and, later, the
translator.  ``publish_site`` is what ``syndicate publish`` runs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from syndicate.config import Config
from syndicate.errors import ExitCode, InputError, SyndicateError
from syndicate.models import Article, Edition, Site

Clock = Callable[[], datetime]
log = logging.getLogger("syndicate")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunSummary:
    """What a run did, for the one-line summary, ``--json`` and status.json."""

    target: str
    items: dict[str, int]  # language -> items published
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: tuple[str, ...] = ()  # one line each, naming the file
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> article titles

    @property
    def exit_code(self) -> ExitCode:
        if self.errors:
            return ExitCode.INPUT
        if any(self.missing.values()):
            return ExitCode.PARTIAL
        return ExitCode.OK

    def line(self) -> str:
        langs = ", ".join(f"{lang} {count}" for lang, count in self.items.items())
        text = (
            f"published {sum(self.items.values())} items ({langs}) to {self.target}: "
            f"{self.written} written, {self.unchanged} unchanged, {self.removed} removed"
        )
        missing = sum(len(v) for v in self.missing.values())
        if missing:
            text += f"; {missing} translations missing"
        if self.errors:
            text += f"; {len(self.errors)} input errors"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.exit_code.name.lower(),
            "exit_code": int(self.exit_code),
            "target": self.target,
            "items": self.items,
            "written": self.written,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "errors": list(self.errors),
            "missing": {lang: list(titles) for lang, titles in self.missing.items()},
        }


def publish_site(config: Config, *, clock: Clock = utc_now, strict: bool = False) -> RunSummary:
    """Read, render and publish ``config``'s article set into its target."""
    from syndicate.publish import publish, target_lock, write_status

    with target_lock(config.target):
        started = clock()
        try:
            summary = _build_and_publish(config, strict=strict, publish=publish)
        except SyndicateError as exc:
            _record_failure(config, started, exc, write_status)
            raise
        write_status(config.target, {"time": started.isoformat(timespec="seconds"), **summary.as_dict()})
    return summary


def _build_and_publish(config: Config, *, strict: bool, publish: Callable[..., Any]) -> RunSummary:
    from syndicate.render import render_site
    from syndicate.sources import read_articles

    result = read_articles(config.sources, config.site.language)
    if result.errors and (strict or not result.articles):
        raise _input_failure(result.errors)
    for error in result.errors:
        log.error("%s", error)
    if not result.articles:
        shown = ", ".join(str(p) for p in config.sources.paths)
        raise InputError(shown, "no articles found (nothing published, target left as it was)")
    editions = build_editions(config.site, result.articles)
    files = render_site(config.site, editions, formats=config.formats, max_items=config.max_items)
    report = publish(files, config.target)
    return RunSummary(
        target=str(config.target),
        items={e.language: min(len(e.articles), config.max_items) for e in editions},
        written=len(report.written),
        unchanged=report.unchanged,
        removed=len(report.removed),
        errors=tuple(str(e) for e in result.errors),
    )


def _input_failure(errors: Sequence[InputError]) -> InputError:
    """One error for a run that cannot publish; with several, each is logged first."""
    if len(errors) == 1:
        return errors[0]
    for error in errors:
        log.error("%s", error)
    return InputError(errors[0].path, f"{len(errors)} input errors; nothing published")


def _record_failure(
    config: Config, started: datetime, exc: SyndicateError, write_status: Callable[..., Any]
) -> None:
    """Best effort: a failed run is recorded for monitoring, if the target is writable."""
    with contextlib.suppress(SyndicateError):
        write_status(
            config.target,
            {
                "time": started.isoformat(timespec="seconds"),
                "outcome": "failed",
                "exit_code": int(exc.exit_code),
                "target": str(config.target),
                "errors": [str(exc)],
            },
        )


def build_editions(site: Site, articles: Sequence[Article]) -> list[Edition]:
    """One edition per language, the source language first, articles newest first."""
    from syndicate.localize import edition_title, normalize_tag, text_direction

    by_language: dict[str, list[Article]] = {site.language: []}
    for article in articles:
        language = normalize_tag(article.language)
        by_language.setdefault(language, []).append(article.replace(language=language))
    return [
        Edition(
            language=language,
            title=edition_title(site.title, language),
            description=site.description,
            articles=tuple(items),
            direction=text_direction(language),
        )
        for language, items in by_language.items()
        if items or language == site.language
    ]
