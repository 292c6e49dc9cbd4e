"""Owns scaffolding: ``syndicate init`` (a new site) and ``syndicate new`` (a new article file).

Everything written here is either what the user typed or structure (keys,
paths): no prose of ours ends up in a published feed.  The site description
is whatever the user gave (in the site's language), or nothing; the sample
article is English text, so it is a draft on a site in another language.
The config is written with ``tomli-w`` (any title round-trips) and front
matter with PyYAML; the clock is injected.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from syndicate.errors import ConfigError

Clock = Callable[[], datetime]
CONFIG_HEADER = (
    "# syndicate.toml: every key is described in the README; command-line options override these.\n"
    '# Translated editions: add languages to [translation], e.g. languages = ["es", "ca"];\n'
    "# `syndicate providers` lists the engines usable here.\n\n"
)
SAMPLE_NAME = "welcome.md"
SAMPLE_BODY = """\
This is a sample article: edit it or delete it. Each article is a file in
this directory, in Markdown with front matter (as here), page text (`.txt`)
or JSON.

`syndicate new "A title"` starts a new one. `syndicate serve` previews the
site as you write, and `syndicate publish` writes the feeds and pages.
"""


@dataclass(frozen=True)
class Scaffold:
    """What ``init`` wrote, for the CLI to report."""

    config: Path
    sources: Path
    sample: Path
    sample_is_draft: bool
    gitignore: Path | None  # None: an existing .gitignore already covered the target
    crontab: str


def site_document(
    *, title: str, url: str, timezone: str, language: str, description: str | None = None
) -> dict[str, Any]:
    """The config ``init`` writes, as a TOML document (validated values in, nothing invented)."""
    site: dict[str, Any] = {"title": title, "url": url, "timezone": timezone, "language": language}
    if description:
        site["description"] = description
    return {
        "site": site,
        "sources": {"paths": ["seeds"]},
        "translation": {"languages": [], "provider": "apertium"},
        "output": {"target": "feeds", "formats": ["rss", "atom", "json"], "max_items": 50},
    }


def config_text(document: dict[str, Any]) -> str:
    import tomli_w

    return CONFIG_HEADER + tomli_w.dumps(document)


def init_site(
    directory: Path,
    *,
    title: str,
    url: str,
    timezone: str,
    language: str,
    description: str | None,
    clock: Clock,
    launcher: str,
) -> Scaffold:
    """Write ``syndicate.toml``, ``seeds/`` with a sample article and a ``.gitignore``.

    Values are validated first; nothing is written when one is bad or when a
    config already exists there.
    """
    from syndicate.config import check_timezone, load_config, normalize_url
    from syndicate.localize import normalize_tag

    if not title.strip():
        raise ConfigError("--title must not be empty")
    document = site_document(
        title=title.strip(),
        url=normalize_url(url),
        timezone=check_timezone(timezone),
        language=normalize_tag(language),
        description=description.strip() if description else None,
    )
    config = directory / "syndicate.toml"
    if config.exists():
        raise ConfigError(f"{config}: already exists; not overwriting it")
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with open(config, "x", encoding="utf-8") as fh:
            fh.write(config_text(document))
    except OSError as exc:
        raise ConfigError(f"{config}: cannot write: {exc.strerror or exc}") from exc
    settings = load_config(config)  # what publish will read: the written file must load
    sources = directory / "seeds"
    sources.mkdir(exist_ok=True)
    draft = not settings.site.language.startswith("en")
    sample = write_article(
        sources / SAMPLE_NAME,
        {
            "title": f"Welcome to {settings.site.title}" if not draft else "Sample article",
            "date": _now(clock, settings.site.timezone),
            "language": "en",
            **({"draft": True} if draft else {}),
        },
        SAMPLE_BODY,
    )
    root = directory.resolve()
    return Scaffold(
        config=config,
        sources=sources,
        sample=sample,
        sample_is_draft=draft,
        gitignore=_ignore_target(directory, "feeds"),
        crontab=crontab_line(root, launcher),
    )


def _ignore_target(directory: Path, target: str) -> Path | None:
    """Add the publish target to ``.gitignore`` (created if missing); None if already listed."""
    path = directory / ".gitignore"
    entry = f"/{target}/"
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if any(line.strip() in (entry, f"{target}/", target, f"/{target}") for line in existing.splitlines()):
        return None
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{prefix}# published by `syndicate publish`\n{entry}\n")
    return path


def launcher_command(argv0: str, executable: str = sys.executable) -> str:
    """The command that starts this same syndicate again, for a crontab.

    ``python -m syndicate`` has ``__main__.py`` as ``argv[0]``: cron must run
    the interpreter with ``-m`` then, not that file.  A console script is
    run by its absolute path (cron's PATH is minimal).
    """
    script = Path(argv0)
    if script.name == "__main__.py" or script.suffix == ".py" or not argv0:
        return f"{shlex.quote(executable)} -m syndicate"
    if script.parent == Path() and not argv0.startswith("."):
        import shutil

        found = shutil.which(argv0)
        script = Path(found) if found else script
    return shlex.quote(str(script.resolve()))


def crontab_line(root: Path, launcher: str) -> str:
    """Every five minutes, errors only (cron mails whatever is printed)."""
    return f"*/5 * * * * cd {shlex.quote(str(root))} && {launcher} publish --quiet"


def new_article(
    directory: Path,
    title: str,
    *,
    timezone: str,
    clock: Clock,
    language: str | None = None,
    section: str | None = None,
    draft: bool = False,
) -> Path:
    """Write ``<directory>/<slug>.md`` with front matter and return its path (never overwrites)."""
    from syndicate.localize import normalize_tag
    from syndicate.sources.common import slugify

    if not title.strip():
        raise ConfigError("the title must not be empty")
    meta: dict[str, Any] = {"title": " ".join(title.split()), "date": _now(clock, timezone)}
    slug = slugify(title)
    if slug:
        meta["slug"] = slug
    if language is not None:
        meta["language"] = normalize_tag(language)
    if section is not None:
        if not section.strip():
            raise ConfigError("--section must not be empty")
        meta["category"] = section.strip()
    if draft:
        meta["draft"] = True
    directory.mkdir(parents=True, exist_ok=True)
    return write_article(directory / f"{slug or 'article'}.md", meta, "")


def write_article(path: Path, meta: dict[str, Any], body: str) -> Path:
    """A Markdown file with YAML front matter at ``path``, or ``-2``, ``-3`` ... if taken (never overwritten).

    In ``-2`` and later the slug follows the file name, and an explicit ``id``
    is written (:func:`collision_id`): the article id is derived from title and
    date, so two "Budget" articles written in the same second would otherwise be
    merged as one.
    """
    import yaml

    for candidate in _candidates(path):
        if candidate != path:
            if "slug" in meta:  # the slug follows the file name, so two "Budget" articles stay two pages
                meta = {**meta, "slug": candidate.stem}
            meta = {**meta, "id": collision_id(meta, candidate)}
        text = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1_000_000) + "---\n"
        text += f"\n{body}" if body else "\n"
        try:
            with open(candidate, "x", encoding="utf-8") as fh:
                fh.write(text)
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            raise ConfigError(f"{candidate}: cannot write: {exc.strerror or exc}") from exc
    raise ConfigError(f"{path}: too many articles with this name")  # pragma: no cover - 1000 collisions


def collision_id(meta: dict[str, Any], path: Path) -> str:
    """A stable ``urn:uuid:`` for an article written to ``path`` because its first name was taken.

    UUID-5 of the date and the file name: the same ``new`` on the same second gives the
    same id, and a ``-2`` never shares it with its namesake.
    """
    import uuid

    from syndicate.sources.common import NAMESPACE

    return uuid.uuid5(NAMESPACE, f"new|{meta.get('date', '')}|{path.name}").urn


def _candidates(path: Path) -> Sequence[Path]:
    return [path, *(path.with_name(f"{path.stem}-{n}{path.suffix}") for n in range(2, 1000))]


def _now(clock: Clock, timezone: str) -> str:
    """The clock's time in the site timezone, to the second, ISO 8601 with its offset."""
    from syndicate.localize import zone

    return clock().astimezone(zone(timezone)).replace(microsecond=0).isoformat()
