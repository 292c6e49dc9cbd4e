"""Wires the stages: sources -> translate -> localize -> render -> publish.

Everything with side effects is injected: the clock (only used for the
status file, never for feed content), the translation providers and the
segment cache.  ``publish_site`` is what ``syndicate publish`` runs;
``translation_cost`` is ``publish --dry-run``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from syndicate.config import Config
from syndicate.errors import ConfigError, ExitCode, InputError, Problem, SyndicateError, plural
from syndicate.models import Article, Edition, Site

if TYPE_CHECKING:
    from syndicate.publish import Data, Manifest, PublishReport
    from syndicate.render.fragments import FragmentStore
    from syndicate.render.lines import LineStore
    from syndicate.shelf import Filer
    from syndicate.sources import InputListing
    from syndicate.sources.safe import Skipped
    from syndicate.translate import Budget, Glossary, SegmentCache, SegmentResults
    from syndicate.translate.base import Translator
    from syndicate.translate.variant_cache import Entry as VariantEntry
    from syndicate.translate.variant_cache import VariantCache
    from syndicate.translate.variants import CostLine, Variant
    from syndicate.translate.workers import Job
    from syndicate.websub import PingReport

Clock = Callable[[], datetime]
ProviderFactory = Callable[[str], "Translator"]
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
    errors: tuple[Problem, ...] = ()  # the input files that could not be read
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> article titles
    reasons: dict[str, dict[str, str]] = field(default_factory=dict)  # language -> title -> why it is missing
    dropped: dict[str, int] = field(default_factory=dict)  # edition no longer published -> files removed
    changed_feeds: tuple[str, ...] = ()  # URLs of the subscription feeds this run wrote (for WebSub)
    websub: PingReport | None = None  # None: no hub configured
    settled: bool = False  # every missing translation is a deterministic refusal the variant cache keeps
    skipped: tuple[Skipped, ...] = ()  # inputs left unread (a FIFO, a link leading out): warned, recorded

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
            f"published {plural(sum(self.items.values()), 'item')} ({langs}) to {self.target}: "
            f"{self.written} written, {self.unchanged} unchanged, {self.removed} removed"
        )
        if self.dropped:
            text += "; editions dropped: " + ", ".join(
                f"{lang} ({plural(count, 'file')} removed)" for lang, count in self.dropped.items()
            )
        missing = {lang: titles for lang, titles in self.missing.items() if titles}
        if missing:
            text += "; translations missing: " + ", ".join(
                f"{lang} {len(titles)}{self._why(lang, titles)}" for lang, titles in missing.items()
            )
        if self.errors:
            text += f"; {plural(len(self.errors), 'input error')}"
        if self.skipped:
            text += f"; {plural(len(self.skipped), 'input')} skipped"
        if self.websub is not None and self.websub.failed:
            text += f"; WebSub: {plural(len(self.websub.failed), 'ping')} failed (sent again next run)"
        return text

    def _why(self, language: str, titles: Sequence[str]) -> str:
        """`` (echo 2, lost number 1)``: the kinds of failure behind a language's missing articles."""
        from collections import Counter

        from syndicate.translate.validate import reason_kind

        reasons = self.reasons.get(language, {})
        kinds = Counter(reason_kind(reasons[t]) for t in titles if t in reasons)
        if not kinds:
            return ""
        return " (" + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()) + ")"

    def as_dict(self) -> dict[str, Any]:
        """The status file's record of the run (errors as one line each)."""
        return {
            "outcome": self.exit_code.name.lower(),
            "exit_code": int(self.exit_code),
            "target": self.target,
            "items": self.items,
            "written": self.written,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "errors": [str(e) for e in self.errors],
            "missing": {lang: list(titles) for lang, titles in self.missing.items()},
            "failures": {
                lang: [{"title": t, "reason": self.reasons.get(lang, {}).get(t, "not translated")} for t in titles]
                for lang, titles in self.missing.items()
                if titles
            },
            "dropped": dict(self.dropped),
            "skipped": [entry.as_dict() for entry in self.skipped],
            **({"websub": self.websub.as_dict()} if self.websub is not None else {}),
        }

    def report(self) -> dict[str, Any]:
        """``publish --json``: as the status file, with each error an object ``{file, line, message}``."""
        return {**self.as_dict(), "errors": [e.as_dict() for e in self.errors]}


@dataclass
class Stage:
    """Injected collaborators of a run; the defaults are the real ones."""

    clock: Clock = utc_now
    providers: ProviderFactory | None = None  # name -> Translator; None: the registry
    progress: bool = False  # show a progress bar (only ever true on a TTY)


def publish_site(config: Config, *, strict: bool = False, stage: Stage | None = None) -> RunSummary:
    """Read, translate, render and publish ``config``'s article set into its target."""
    from syndicate.publish import read_manifest, target_lock
    from syndicate.status import Status

    stage = stage or Stage()
    # One provider object per engine for the whole run: the fingerprint and the translation share it.
    stage = dataclasses.replace(stage, providers=_provider_factory(config, stage))
    with target_lock(config.target):
        started = stage.clock()
        try:
            listing = _list_inputs(config)
            fingerprint = _fingerprint(config, stage, listing)
            unchanged, manifest = _unchanged_run(config, fingerprint)
            if unchanged is not None:
                for entry in listing.skipped:  # else the read loop warns
                    log.warning("%s", entry)
                summary = unchanged
            else:  # the manifest is read once per run: by the no-op check, or here for render keys and publish
                manifest = manifest if manifest is not None else read_manifest(config.target)
                summary = _build_and_publish(config, strict=strict, stage=stage, manifest=manifest, listing=listing)
            summary = dataclasses.replace(summary, skipped=listing.skipped)
        except SyndicateError as exc:
            with contextlib.suppress(SyndicateError):  # best effort: recorded for monitoring if writable
                Status.of_failure(started, config.target, exc).save(config.target)
            raise
        summary = _ping_hubs(config, summary)
        try:
            Status.of_run(started, summary, fingerprint).save(config.target)
        except SyndicateError as exc:  # the feeds are published: say so, but do not call it a failed publish
            log.error("published, but the status file could not be written: %s", exc)
    return summary


def _ping_hubs(config: Config, summary: RunSummary) -> RunSummary:
    """Tell the WebSub hubs about the feeds this run changed (and retry earlier failures)."""
    from syndicate.websub import notify

    report = notify(config.websub, config.target, summary.changed_feeds)
    return dataclasses.replace(summary, websub=report)


def _list_inputs(config: Config) -> InputListing:
    """The input files of this run, listed once (the fingerprint and the reading share them)."""
    from syndicate.sources import list_inputs

    return list_inputs(config.sources)


def _fingerprint(config: Config, stage: Stage, listing: InputListing | None = None) -> str:
    """The run fingerprint: code, config, engines' versions, theme and every input's stat.

    Made on every run, before anything else is known: it imports no renderer
    (the theme's digest is :func:`syndicate.incremental.theme_digest`).
    """
    from syndicate.incremental import input_stats, run_fingerprint, theme_digest

    engines = []
    if target_languages(config):
        from syndicate.translate.base import cache_key_for

        factory = _provider_factory(config, stage)
        for lang in target_languages(config):
            provider = factory(config.translation.provider_for(lang))
            engines.append(f"{lang}={cache_key_for(provider, config.site.language, lang)}")
    engines.append(f"theme={theme_digest(config.theme)}")  # a changed template is a change
    listing = listing if listing is not None else _list_inputs(config)
    return run_fingerprint(config, input_stats(listing), engines)


def _unchanged_run(config: Config, fingerprint: str) -> tuple[RunSummary | None, Manifest | None]:
    """The last run's summary when nothing it depends on changed and its output is intact;
    and the manifest, when the check had to read it (else None: the caller reads it).

    The last run must have exited 0, or 1 with only settled refusals (a deterministic
    engine's, kept in the variant cache: a full run would refuse the same articles for
    the same reasons).  Then this run reports the same: the exit code, the missing
    titles and their reasons (kept in the status file).  The cheap tests come first:
    the status file and the fingerprint, then one ``lstat`` per published file
    (:func:`syndicate.publish.intact_published`, from the manifest's stamps).
    """
    from syndicate.publish import intact_published
    from syndicate.status import Status

    last = Status.load(config.target)
    if last is None or last.fingerprint != fingerprint or last.exit_code not in (ExitCode.OK, ExitCode.PARTIAL):
        return None, None
    items = last.items
    if not items:
        return None, None
    published, manifest = intact_published(config.target)
    if published is None:
        return None, manifest
    log.info("nothing changed since the last run: nothing read, translated or written")
    order = [config.site.language, *target_languages(config)]  # the editions' order, as a full run prints it
    ordered = {lang: items[lang] for lang in order if lang in items}
    ordered.update((lang, items[lang]) for lang in sorted(items) if lang not in ordered)
    missing = {lang: last.missing[lang] for lang in ordered if last.missing.get(lang)}
    missing.update((lang, titles) for lang, titles in sorted(last.missing.items()) if titles and lang not in missing)
    reasons = {lang: dict(last.reasons[lang]) for lang in missing if last.reasons.get(lang)}
    summary = RunSummary(
        target=str(config.target), items=ordered, unchanged=published, missing=missing, reasons=reasons, settled=True
    )
    return summary, manifest


def _build_and_publish(
    config: Config,
    *,
    strict: bool,
    stage: Stage,
    manifest: Manifest | None = None,
    listing: InputListing | None = None,
) -> RunSummary:
    from syndicate.bodies import spilling
    from syndicate.heap import few_arenas
    from syndicate.publish import read_manifest, scratch_directory
    from syndicate.websub import changed_feed_urls

    # The articles wait in a spill file in the cache directory, not in memory: their bodies from
    # when they are read, every article once its edition is made (:mod:`syndicate.shelf`).
    with few_arenas(), spilling(config.build_cache_dir):
        editions, errors, translated = _shelved_editions(config, strict=strict, stage=stage, listing=listing)
        manifest = manifest if manifest is not None else read_manifest(config.target)
        store = _fragment_store(config, manifest)
        lines = _line_store(config)
        with scratch_directory(config.target) as scratch:  # where workers write large outputs
            report, counts, seconds = _render_and_publish(config, editions, manifest, store, lines, stage, scratch)
    log.info(
        "render and write: %s rendered, %d unchanged by their render key; %d written, %d unchanged, %d removed "
        "in %.2f s",
        plural(counts["rendered"], "file"),
        counts["skipped"],
        len(report.written),
        report.unchanged,
        len(report.removed),
        seconds,
    )
    return RunSummary(
        target=str(config.target),
        items={e.language: min(len(e.articles), config.max_items) for e in editions},
        written=len(report.written),
        unchanged=report.unchanged,
        removed=len(report.removed),
        errors=tuple(problem for error in errors for problem in error.problems),
        missing=translated.missing,
        reasons=translated.reasons,
        settled=translated.settled,
        dropped=dropped_editions(report.removed, [e.language for e in editions]),
        changed_feeds=tuple(changed_feed_urls(config.site, report.written)),
    )


@dataclass(frozen=True)
class _Translated:
    """What the summary tells of the translation stage once its articles are shelved."""

    missing: dict[str, tuple[str, ...]]  # language -> titles of its missing articles
    reasons: Reasons
    settled: bool


def _shelved_editions(
    config: Config, *, strict: bool, stage: Stage, listing: InputListing | None
) -> tuple[list[Edition], tuple[InputError, ...], _Translated]:
    """Read, translate and make the editions, their articles on shelves (:mod:`syndicate.shelf`).

    The articles and variants read and built here are objects only until their edition is
    shelved: from rendering on, the run holds about 0.2 KiB per article and language (its heads
    and render key), and so does every render worker it forks.  Each record keeps the
    article's render key when it is known (already prepared:
    :func:`syndicate.render.prepared_key`), so rendering neither unpacks nor digests it again
    to key its outputs.
    """
    from syndicate.render import forget_keys

    articles, errors = read_inputs(config, strict=strict, progress=stage.progress, listing=listing)
    variants, reasons, settled = translate_editions(config, articles, stage)
    translated = _Translated({v.language: v.missing for v in variants if v.missing}, reasons, settled)
    editions = build_editions(config.site, articles, variants)
    forget_keys()  # the keys are on the shelves: the memo would keep every article alive
    return editions, errors, translated


def _render_and_publish(
    config: Config,
    editions: Sequence[Edition],
    manifest: Manifest,
    store: FragmentStore,
    lines: LineStore,
    stage: Stage,
    scratch: Path | None,
) -> tuple[PublishReport, dict[str, int], float]:
    """Render the editions and publish each output as it comes: the report, the render counts, the time taken."""
    from syndicate.publish import intact_keys, publish_stream
    from syndicate.render import iter_render
    from syndicate.render.theme import load_theme

    outputs = iter_render(
        config.site,
        editions,
        formats=config.formats,
        max_items=config.max_items,
        previous=intact_keys(config.target, manifest),
        theme=load_theme(config.theme),
        archive_page_size=config.archive_pages,
        sections=config.sections,
        fragments=store,
        workers=worker_processes(),  # iter_render keeps a render with little to do in this process
        lines=lines,
        scratch=scratch,  # workers write large outputs there: they never wait in this process's memory
    )
    started = time.monotonic()
    counts = {"rendered": 0, "skipped": 0}
    with _progress(stage.progress, "rendering and writing", None) as advance:
        staged = _observed(outputs, counts, advance)  # each file is staged as soon as it is rendered
        try:
            report = publish_stream(staged, config.target, manifest=manifest)
        finally:
            store.close()
            lines.close()
    return report, counts, time.monotonic() - started


MAX_WORKERS = 4  # worker processes at most: each may hold a large feed's tree while it renders it


def worker_processes() -> int:
    """Worker processes for the parallel stages (parsing, rendering): one per core this process
    may run on, at most :data:`MAX_WORKERS`; 1 on a single core (then everything runs in this process).

    Whether a stage has enough work to be worth a fork is the stage's own call, on
    what it really has to do (files to parse, outputs to render): see
    :data:`syndicate.sources.PARALLEL_READ_MIN` and ``syndicate.render._PARALLEL_MIN``.
    """
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def _fragment_store(config: Config, manifest: Manifest) -> FragmentStore:
    """Where feeds find the fragments of their published documents (``fragments.sqlite3`` in the cache dir)."""
    from syndicate.render.fragments import FragmentStore

    return FragmentStore(
        config.build_cache_dir / "fragments.sqlite3", manifest.published, manifest.sha256
    )


def _line_store(config: Config) -> LineStore:
    """Where listing pages keep their items' lines (``lines.sqlite3`` in the cache dir)."""
    from syndicate.render.lines import LineStore

    return LineStore(config.build_cache_dir / "lines.sqlite3")


def dropped_editions(removed: Sequence[str], published: Sequence[str]) -> dict[str, int]:
    """Language directories whose files a run removed because it no longer publishes them.

    Removing a stale article of a published edition is routine; removing a whole
    edition (a language taken out of the config, or left out by ``--only-lang``)
    is said on the summary line: which one, and how many files went.
    """
    counts: dict[str, int] = {}
    for rel in removed:
        top, sep, _ = rel.partition("/")
        if sep and top not in published:
            counts[top] = counts.get(top, 0) + 1
    return dict(sorted(counts.items()))


def choose_languages(config: Config, *, add: Sequence[str] = (), only: Sequence[str] = ()) -> Config:
    """The translation languages of one run: ``only`` replaces the configured ones, ``add`` adds to them.

    ``publish --lang xx`` is ``add`` (a one-off run keeps every configured
    edition); ``publish --only-lang xx`` is ``only`` (every other edition is
    dropped from the target, as the summary line then says).
    """
    if not add and not only:
        return config
    from syndicate.localize import normalize_tag

    base = [normalize_tag(t) for t in only] if only else list(config.translation.languages)
    languages = tuple(dict.fromkeys([*base, *(normalize_tag(t) for t in add)]))
    return dataclasses.replace(config, translation=dataclasses.replace(config.translation, languages=languages))


def read_inputs(
    config: Config, *, strict: bool = False, progress: bool = False, listing: InputListing | None = None
) -> tuple[tuple[Article, ...], tuple[InputError, ...]]:
    """The article set; raises when nothing (or, with ``strict``, not everything) could be read."""
    from syndicate.incremental import ParseCache, parse_cache_path
    from syndicate.sources import read_articles

    started = time.monotonic()
    cache = ParseCache(parse_cache_path(config), config.sources, config.site.language)
    try:
        with _progress(progress, "reading", None) as advance:

            def on_file(shown: str, outcome: str) -> None:
                log.debug("read %s: %s", shown, outcome)
                advance(f"read {shown}")

            result = read_articles(
                config.sources,
                config.site.language,
                cache=cache,
                on_file=on_file,
                listing=listing,
                workers=worker_processes(),
            )
    finally:
        cache.close()
    from syndicate.translate.human import pair_translations

    pairing = pair_translations(result.articles, config.site.language)
    errors = result.errors + pairing.errors
    log.info(
        "read: %s, %s, %s in %.2f s",
        plural(result.files, "file"),
        plural(len(pairing.articles), "article"),
        plural(len(errors), "input error"),
        time.monotonic() - started,
    )
    if errors and (strict or not pairing.articles):
        raise _input_failure(errors, refused=bool(pairing.articles))
    for error in errors:
        log.error("%s", error)
    if not pairing.articles:
        from syndicate.sources.safe import shown_name

        shown = ", ".join(shown_name(p) for p in config.sources.paths)
        raise InputError(shown, "no articles found (nothing published, target left as it was)")
    return pairing.articles, errors


def _observed(
    outputs: Iterable[tuple[str, str, Data | None]], counts: dict[str, int], advance: Callable[[str], None]
) -> Iterator[tuple[str, str, Data | None]]:
    """``outputs`` unchanged, each logged (``-vv``), counted and shown on the progress display."""
    for path, key, data in outputs:
        if data is None:
            counts["skipped"] += 1
            log.debug("render %s: unchanged (same render key)", path)
        else:
            counts["rendered"] += 1
            log.debug("render %s: %s", path, plural(len(data) if isinstance(data, bytes) else data.size, "byte"))
        advance(f"rendered {path}")
        yield path, key, data


def _input_failure(errors: Sequence[InputError], *, refused: bool) -> InputError:
    """One error for a run that cannot publish, carrying every file's problem.

    Several errors, or one that made ``--strict`` refuse readable articles (``refused``),
    end with a line saying that nothing was published: one bad file among good ones must
    not read like a partial run.
    """
    if len(errors) == 1:
        error = errors[0]
        verdict = Problem(f"{plural(1, 'input error')}; nothing published (--strict)")
        return error.adding(verdict) if refused else error
    problems = [problem for error in errors for problem in error.problems]
    summary = Problem(f"{plural(len(errors), 'input error')}; nothing published")
    return InputError(errors[0].path, summary.message, problems=[*problems, summary])


if TYPE_CHECKING:  # the translation stage's own (kept here so the section merges as one piece)
    from syndicate.translate.variant_cache import Packed
    from syndicate.translate.variant_cache import Sources as VariantSources


def target_languages(config: Config) -> list[str]:
    return [lang for lang in dict.fromkeys(config.translation.languages) if lang != config.site.language]


def _provider_factory(config: Config, stage: Stage) -> ProviderFactory:
    """One provider object per name for the whole run, so a circuit opened for one
    language stays open for the others."""
    if stage.providers is not None:
        make: ProviderFactory = stage.providers
    else:

        def make(name: str) -> Translator:
            from syndicate.translate.registry import get_provider  # when asked: a run without translation never is

            return get_provider(name, config.translation)

    made: dict[str, Translator] = {}

    def factory(name: str) -> Translator:
        if name not in made:
            made[name] = make(name)
        return made[name]

    return factory


def _checked_provider(config: Config, factory: ProviderFactory, language: str) -> Translator:
    from syndicate.translate.base import unsupported

    provider = factory(config.translation.provider_for(language))
    problem = unsupported(provider, config.site.language, language)
    if problem is not None:
        raise ConfigError(problem)
    return provider


def edition_languages(config: Config, factory: ProviderFactory) -> list[tuple[str, str, Translator]]:
    """(configured tag, tag the engine really writes, provider) per translated language.

    A configured ``sr`` translated by apertium is written in Latin script and
    published as ``sr-Latn``; the change is logged once per run.
    """
    from syndicate.translate.base import written_tag

    result = []
    for configured in target_languages(config):
        provider = _checked_provider(config, factory, configured)
        written = written_tag(provider, configured)
        if written != configured:
            log.warning(
                "translation.languages: %s writes %r as %s; the edition is tagged and placed as %s "
                "(configure %r to silence this)",
                provider.name, configured, written, written, written,
            )  # fmt: skip
        result.append((configured, written, provider))
    return result


Reasons = dict[str, dict[str, str]]  # language -> article title -> why it was not translated


def translate_variants(config: Config, articles: Sequence[Article], stage: Stage) -> list[Variant]:
    """One translated Variant per configured language (DESIGN 4)."""
    return translate_editions(config, articles, stage)[0]


def translate_editions(
    config: Config, articles: Sequence[Article], stage: Stage, *, workers: int | None = None
) -> tuple[list[Variant], Reasons, bool]:
    """One translated Variant per configured language, why each missing article is missing, and whether
    every missing one is settled (a deterministic engine's refusal, kept in the variant cache: the next
    run with the same inputs gives the same result without asking the engine).

    Each language first takes what the variant cache (:mod:`syndicate.translate.variant_cache`) has
    for its source articles; only the others are segmented (once per article, whatever the number of
    languages), looked up in the segment cache and sent (the languages side by side, in threads: each
    mostly waits on an engine).  Then the translated articles are built, gated and keyed, in ``workers``
    forked processes when there are enough (:mod:`syndicate.translate.workers`; default
    :func:`worker_processes`), and each language's new entries are stored in the variant cache.
    """
    if not target_languages(config):
        return [], {}, True
    from syndicate.cachefile import cache_directory
    from syndicate.render import content_key
    from syndicate.translate import Budget, SegmentCache
    from syndicate.translate import workers as forked
    from syndicate.translate.variant_cache import Sources, cache_path

    started = time.monotonic()
    options = config.translation
    factory = _provider_factory(config, stage)
    editions = edition_languages(config, factory)
    keys = {id(a): content_key(a) for a in articles if a.language == config.site.language}
    budget = Budget(options.max_chars_per_run)
    SegmentCache(options.cache).close()  # create (or repair) the file once, before the threads share it
    variants_file = cache_path(cache_directory(options.cache))
    sources = Sources({key: a for a in articles if (key := keys.get(id(a))) is not None})
    workers = worker_processes() if workers is None else workers
    with _open_variant_cache(variants_file) as cache:  # one connection for the stage, unless workers fork
        languages = _plan_languages(config, editions, articles, keys, sources, cache)
        _look_up_all(config, languages, budget)
        built_from = time.monotonic()
        variants, reasons, settled = _build_and_store(config, stage, languages, keys, cache, workers)
    built = sum(len(language.misses) for language in languages)
    log.info(
        "translate: %s built in %.2f s (%s); the stage took %.2f s",
        plural(built, "translated article"), time.monotonic() - built_from,
        "this process" if workers < 2 or built < forked.PARALLEL_MIN else f"{workers} worker processes",
        time.monotonic() - started,
    )  # fmt: skip
    if budget.deferred:
        log.warning(
            "translation.max_chars_per_run (%d) reached: %d segments wait for the next run",
            options.max_chars_per_run or 0, budget.deferred,
        )  # fmt: skip
    return variants, reasons, settled


def _look_up_all(config: Config, languages: Sequence[_LanguagePlan], budget: Budget) -> None:
    """Every language's segments from the segment cache or the engine, the languages side by side.

    In threads: each is mostly waiting on an engine (an apertium process, or the network);
    the budget is shared (thread-safe).
    """
    from concurrent.futures import ThreadPoolExecutor

    def look_up(language: _LanguagePlan) -> None:
        begun = time.monotonic()
        _look_up(config, language, budget)
        log.info(
            "translate %s: %d of %s from the variant cache, %s looked up or sent via %s in %.2f s",
            language.lang, len(language.hits), plural(len(language.source), "article"),
            plural(len(language.segments), "segment"), language.provider.name, time.monotonic() - begun,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(look_up, languages))


def _build_and_store(
    config: Config,
    stage: Stage,
    languages: Sequence[_LanguagePlan],
    keys: dict[int, str],
    cache: VariantCache,
    workers: int,
) -> tuple[list[Variant], Reasons, bool]:
    """Each language's Variant from its hits and its built misses (:mod:`syndicate.translate.workers`).

    Each chunk's new variant-cache entries are added as it comes back (a language's pickles are never
    all in memory); then the language's rows this run did not use are pruned.
    """
    from syndicate.translate import workers as forked

    variants: list[Variant] = []
    reasons: Reasons = {}
    settled = True
    sink = _EntrySink(cache, str(config.target))
    try:
        with _progress(stage.progress, "translating", len(languages)) as advance:
            jobs = [_build_job(config, language, sink) for language in languages]
            if forked.forks(jobs, workers):
                sink.before_fork()
            for language, chunks in zip(languages, forked.run(jobs, workers), strict=True):
                done = _assemble(config, language, chunks)
                sink.prune(language, keep=(keys[id(a)] for a in language.source))
                advance(f"translated {len(language.segments)} segments into {language.lang}")
                variants.append(done.variant)
                settled = settled and done.settled
                if done.why:
                    reasons[language.lang] = done.why
    finally:
        sink.close()
    return variants, reasons, settled


class _EntrySink:
    """Where the translation stage writes the variant cache: the stage's connection, or, when worker
    processes fork, one opened after they have (no SQLite connection is open across a fork)."""

    def __init__(self, cache: VariantCache, site: str) -> None:
        self._stage, self._site = cache, site
        self._cache: VariantCache | None = cache

    def before_fork(self) -> None:
        self._stage.close()
        self._cache = None

    def add(self, language: _LanguagePlan, new: dict[str, Packed]) -> None:
        if new:
            self._open().add(language.context, self._site, language.lang, language.provider.name, new)

    def prune(self, language: _LanguagePlan, keep: Iterable[str]) -> None:
        self._open().prune(language.context, self._site, language.lang, keep)

    def close(self) -> None:
        if self._cache is not None and self._cache is not self._stage:
            self._cache.close()

    def _open(self) -> VariantCache:
        if self._cache is None:
            self._cache = _open_variant_cache(self._stage.path)
        return self._cache


@dataclass
class _Language:
    """One language's outcome of the translation stage."""

    variant: Variant
    why: dict[str, str]  # title -> why it is missing
    settled: bool  # every missing article is a cached deterministic refusal


@dataclass
class _LanguagePlan:
    """One language's part of the translation stage, from the variant cache's hits to the engine's results."""

    configured: str
    lang: str  # the tag the engine writes (the edition's)
    provider: Translator
    mode: str
    glossary: Glossary
    context: str  # the variant cache's context (:func:`_variant_context`)
    source: list[Article]  # the source articles to publish in this language
    keys: dict[int, str]  # id(source article) -> its content key
    hits: dict[str, VariantEntry]  # content key -> what the variant cache has (and still holds)
    misses: list[Article]  # the source articles to build, in source order
    texts: dict[str, list[str]]  # content key -> the article's segments in this language's mode
    filer: Filer  # where this language's articles are filed (:mod:`syndicate.shelf`)
    filed: dict[str, int]  # content key -> the row of its cached translation (its hit is _filed())
    segments: list[str] = field(default_factory=list)  # every segment to look up (unique, in order)
    results: SegmentResults | None = None


@dataclass(slots=True)
class _Built:
    """One built article of a language: what is published, its render key, why it is missing."""

    article: Article | None  # what is published in the language (None: nothing)
    key: str | None  # its render key when it is already prepared for rendering
    reason: str | None = None  # why it is missing (None: translated)
    unsettled: bool = False  # missing, and not for a reason the variant cache keeps


def _open_variant_cache(path: Path) -> VariantCache:
    from syndicate.translate.variant_cache import VariantCache

    return VariantCache(path)


def _plan_languages(
    config: Config,
    editions: Sequence[tuple[str, str, Translator]],
    articles: Sequence[Article],
    keys: dict[int, str],
    sources: VariantSources,
    cache: VariantCache,
) -> list[_LanguagePlan]:
    """Each language's hits in the variant cache (one query each), and the segments of its misses.

    An article is segmented once per translation mode, whatever the number of languages that need it.
    """
    from syndicate.translate.protect import glossary_for
    from syndicate.translate.variants import all_segments, segments_of

    options = config.translation
    texts: dict[str, dict[str, list[str]]] = {}  # mode -> content key -> segments
    plans = []
    for edition in editions:
        configured, lang, provider = edition
        glossary = glossary_for(options, configured, lang)
        context = _variant_context(config, edition, glossary)
        source = _source_articles(config, articles, configured, lang)
        hits = _usable_hits(cache.load(context, sources), [keys[id(a)] for a in source])
        filer, filed = _file_hits(hits)  # one language's cached articles are objects only until here
        misses = [a for a in source if keys[id(a)] not in hits]
        mode = options.mode_for(configured, lang)
        known = texts.setdefault(mode, {})
        for article in misses:
            key = keys[id(article)]
            if key not in known:
                known[key] = segments_of(article, mode)
        unique = dict.fromkeys(all_segments((), extra=[config.site.description], mode=mode))
        for article in misses:
            unique.update(dict.fromkeys(known[keys[id(article)]]))
        plan = _LanguagePlan(
            configured, lang, provider, mode, glossary, context, source, keys, hits, misses, known, filer, filed
        )
        plan.segments = [text for text in unique if text.strip()]  # as all_segments(misses, extra=...)
        plans.append(plan)
    return plans


def _look_up(config: Config, language: _LanguagePlan, budget: Budget) -> None:
    """The language's segments from the segment cache, the others from the engine (in a thread of its own)."""
    from syndicate.translate import SegmentCache

    known = [pair for entry in language.hits.values() for pair in entry.pairs]
    cache = SegmentCache(config.translation.cache)  # one SQLite connection per thread
    try:
        language.results = _translate(
            language.segments, config.site.language, language.lang, language.provider, cache, language.glossary,
            budget, known,
        )  # fmt: skip
    finally:
        cache.close()


def _variant_context(config: Config, edition: tuple[str, str, Translator], glossary: Glossary) -> str:
    """The variant cache's context of one language: everything but the article that makes its variants."""
    from syndicate.translate.base import cache_key_for
    from syndicate.translate.variant_cache import context_key

    configured, lang, provider = edition
    options = config.translation
    return context_key(
        config.site.language, lang, cache_key_for(provider, config.site.language, lang), provider.name,
        provider.display_name, options.mode_for(configured, lang), glossary.version,
        options.max_unknown_for(configured, lang), options.on_error,
    )  # fmt: skip


def _file_hits(hits: dict[str, VariantEntry]) -> tuple[Filer, dict[str, int]]:
    """File the translated articles of ``hits`` on the run's shelf records: a filer, and the row of
    each one by source key; in ``hits`` each such entry becomes :func:`_filed`'s (its article is on
    the shelf: the entries that stay objects are the refusals, which the later steps read)."""
    from syndicate.shelf import Filer

    filer, filed = Filer(), {}
    for key, entry in hits.items():
        if entry.article is not None:
            filed[key] = filer.file(entry.article, entry.key)
            hits[key] = _filed()
    return filer, filed


@functools.cache
def _filed() -> VariantEntry:
    """What stands in ``hits`` for a translated article filed on the shelf: a translation (never
    published as it is; its article is a placeholder), with no refusal partners or pairs."""
    from datetime import UTC, datetime

    from syndicate.translate.variant_cache import Entry

    return Entry(Article("urn:filed", "filed", "", "", (), datetime(1970, 1, 1, tzinfo=UTC), "und"))


def _usable_hits(stored: dict[str, VariantEntry], wanted: Sequence[str]) -> dict[str, VariantEntry]:
    """The cached entries of this run's source articles that still hold.

    A refusal by the "one answer for several inputs" gate holds only while every
    partner is a cached refusal too; otherwise the whole group is translated again,
    together, as the first time (dropping one can drop others: repeated to a fixpoint).
    """
    hits = {key: stored[key] for key in wanted if key in stored}
    dropped = True
    while dropped:
        dropped = False
        for key, entry in list(hits.items()):
            if entry.partners and not all(p in hits and hits[p].article is None for p in entry.partners):
                del hits[key]
                dropped = True
    return hits


Chunk = tuple[list[_Built], dict[str, "Packed"]]  # one chunk of a language's misses, and their cache entries


def _build_job(config: Config, language: _LanguagePlan, sink: _EntrySink) -> Job[Chunk]:
    """How a language's misses are built, in this process or a worker (:mod:`syndicate.translate.workers`);
    each chunk's cache entries go to ``sink`` as it comes back here."""
    from syndicate.render import forget_keys
    from syndicate.translate.base import is_deterministic
    from syndicate.translate.workers import Job

    results = language.results
    assert results is not None
    texts = {key: language.texts[key] for key in (language.keys[id(a)] for a in language.misses)}
    members = _repeat_members(texts, language.hits, results) if results.repeats else {}
    deterministic = is_deterministic(language.provider)
    limit = (
        config.translation.max_unknown_for(language.configured, language.lang),
        config.translation.max_unknown_key(language.configured, language.lang),
    )

    def build(start: int, stop: int) -> Chunk:
        return _build_articles(config, language, language.misses[start:stop], members, deterministic, limit)

    def take(chunk: Chunk) -> Chunk:
        built, new = chunk
        sink.add(language, new)
        return built, {}

    return Job(
        size=len(language.misses), build=build, shared=list(results.values()), owners=language.misses,
        forget=forget_keys, take=take,
    )  # fmt: skip


def _build_articles(
    config: Config,
    language: _LanguagePlan,
    misses: Sequence[Article],
    members: dict[str, set[str]],
    deterministic: bool,
    limit: tuple[float, str],  # max_unknown for this language, and the setting it comes from
) -> Chunk:
    """Build ``misses`` (articles over ``max_unknown`` are refused as a whole), and their variant cache
    entries: every translated article (a network engine's only when no segment of it was provisional),
    and a deterministic engine's settled refusals with their repeat-gate partners."""
    from syndicate.render import prepared_key
    from syndicate.translate.variant_cache import Entry, encode
    from syndicate.translate.variants import outcome

    options = config.translation
    results = language.results
    assert results is not None
    lang, provider, mode = language.lang, language.provider, language.mode
    built: list[_Built] = []
    new: dict[str, Packed] = {}  # pickled here: in a worker process when there are enough to build
    for article in misses:
        key = language.keys[id(article)]
        segs = language.texts[key]
        share = results.unknown_share(segs)
        share_limit, setting = limit
        refused = f"unknown words {share:.0%} (over {setting} {share_limit:.0%})" if share > share_limit else None
        article_out, failed = outcome(
            article, lang, results, engine=provider.display_name, on_error=options.on_error, mode=mode,
            refused=refused is not None,
        )  # fmt: skip
        render_key = prepared_key(article_out) if article_out is not None else None
        if not failed:
            assert article_out is not None
            if deterministic or not any(t in results.provisional for t in segs):
                new[key] = encode(Entry(article_out, key=render_key), article)
            built.append(_Built(article_out, render_key))
            continue
        reason = refused or results.failure(segs) or _unexplained(article, results, mode)
        entry = _refusal(key, segs, reason, results, members, deterministic)
        if entry is not None:
            new[key] = encode(entry, article)
        built.append(_Built(article_out, render_key, reason, unsettled=entry is None))
    return built, new


def _assemble(config: Config, language: _LanguagePlan, chunks: Iterable[Chunk]) -> _Language:
    """One language's Variant, in source order: the variant cache's hits and the built misses.

    Its articles are filed on a shelf (:mod:`syndicate.shelf`) as they come, with the render keys
    the cache or the build gave them: the built ones chunk by chunk as the workers send them, so
    a language's translated articles are never all objects at once.
    """
    from syndicate.translate.variants import Variant, fallback, translate_text

    options = config.translation
    results = language.results
    assert results is not None
    made = (done for part, _ in chunks for done in part)
    published = language.filer
    missing: list[str] = []
    why: dict[str, str] = {}
    all_settled = True
    for article in language.source:
        source_key = language.keys[id(article)]
        row = language.filed.get(source_key)
        if row is not None:  # the variant cache's, filed when the language was planned
            published.add_row(row)
            continue
        entry = language.hits.get(source_key)
        key = None
        if entry is not None:
            reason = entry.reason or "not translated"
            article_out = fallback(article, language.lang, options.on_error)
        else:
            done = next(made)
            article_out, key = done.article, done.key  # built in a worker: its key, not computed again here
            if done.reason is None:
                assert article_out is not None
                published.add(article_out, key)
                continue
            reason = done.reason
            all_settled = all_settled and not done.unsettled
        missing.append(article.title)
        why.setdefault(article.title, reason)
        if article_out is not None:
            published.add(article_out, key)
    for _rest in made:  # none: every built article has its source article
        raise AssertionError("more articles built than asked for")
    language.hits, language.filed = {}, {}
    description = config.site.description
    variant = Variant(
        language=language.lang,
        provider=language.provider.name,
        articles=published.shelf(),
        missing=tuple(missing),
        description=translate_text(description, results) if description else None,
        tags=options.tags_for(language.configured, language.lang),
    )
    if variant.missing:
        kinds = ", ".join(sorted({r.split(" (", 1)[0] for r in why.values()}))
        log.warning(
            "%s: %d articles not fully translated by %s (%s)",
            language.lang, len(variant.missing), language.provider.name, kinds,
        )  # fmt: skip
    return _Language(variant, why, all_settled)


_ORPHAN = ""  # a repeated answer given to a text of no article (the site description): never cached


def _repeat_members(
    texts: dict[str, list[str]], hits: dict[str, VariantEntry], results: SegmentResults
) -> dict[str, set[str]]:
    """Answer group -> the source keys of the articles refused with that repeated answer (this run's and cached)."""
    from syndicate.translate.validate import repeat_group

    members: dict[str, set[str]] = {}
    owned: set[str] = set()
    for key, segs in texts.items():
        for group in results.groups(segs):
            members.setdefault(group, set()).add(key)
        owned.update(t for t in segs if t in results.repeats)
    for key, entry in hits.items():
        for _, answer in entry.pairs:
            members.setdefault(repeat_group(answer), set()).add(key)
    for text, (_, answer) in results.repeats.items():
        if text not in owned:
            members.setdefault(repeat_group(answer), set()).add(_ORPHAN)
    return members


def _refusal(
    key: str,
    segs: Sequence[str],
    reason: str,
    results: SegmentResults,
    members: dict[str, set[str]],
    deterministic: bool,
) -> VariantEntry | None:
    """The cache entry of a refused article, or None when its refusal may not be final."""
    from syndicate.translate import settled
    from syndicate.translate.validate import repeat_group
    from syndicate.translate.variant_cache import Entry

    if not deterministic or not settled(reason):
        return None
    if not all(settled(results.failures[t]) for t in segs if t in results.failures):
        return None
    pairs = tuple(results.repeats[t] for t in dict.fromkeys(segs) if t in results.repeats)
    partners: set[str] = set()
    for _, answer in pairs:
        partners |= members.get(repeat_group(answer), set())
    if _ORPHAN in partners:
        return None
    partners.discard(key)
    return Entry(None, reason, partners=tuple(sorted(partners)), pairs=pairs)


def _unexplained(article: Article, results: SegmentResults, mode: str) -> str:
    """Why an article whose segments did not fail is missing: its markup did not survive."""
    from syndicate.translate.variants import segments_of

    if all(text in results for text in segments_of(article, mode) if text.strip()):
        return "lost tag (the markup did not survive translation)"
    return "not translated"


def _source_articles(config: Config, articles: Sequence[Article], language: str, written: str) -> list[Article]:
    """The source-language articles an engine must translate into ``language`` (published as ``written``).

    An article a person translated into that edition (DESIGN 4: human translations
    win; tagged ``sr`` or ``sr-Latn`` for an ``sr`` published as ``sr-Latn``, see
    :func:`syndicate.translate.human.serves`) is not sent, in that language.
    """
    from syndicate.translate.human import serves

    tags = config.translation.tags_for(language, written)
    by_hand = {a.translation.original_id for a in articles if a.translation is not None and serves(a, tags)}
    return [a for a in articles if a.language == config.site.language and a.id not in by_hand]


def _translate(
    segments: list[str],
    source: str,
    target: str,
    provider: Translator,
    cache: SegmentCache,
    glossary: Glossary,
    budget: Budget,
    known: Sequence[tuple[str, str]] = (),
) -> SegmentResults:
    from syndicate.translate import UNAVAILABLE, SegmentResults, translate_segments

    usable, reason = provider.available()
    if not usable:
        log.error("%s: provider %s is not usable here: %s", target, provider.name, reason)
        results = SegmentResults()
        for text in segments:
            results.fail(text, f"{UNAVAILABLE} ({reason})")
        return results
    return translate_segments(segments, source, target, provider, cache, glossary, budget, known)


def translation_cost(config: Config, *, stage: Stage | None = None) -> list[CostLine]:
    """``--dry-run``: per language and provider, the uncached segments and characters; sends nothing.

    Articles the variant cache has (translated, or a deterministic engine's refusal) are not counted:
    a publish would not send them.
    """
    from syndicate.cachefile import cache_directory
    from syndicate.render import content_key
    from syndicate.translate import Budget, SegmentCache, plan
    from syndicate.translate.protect import glossary_for
    from syndicate.translate.variant_cache import Sources, cache_path
    from syndicate.translate.variants import CostLine, all_segments

    stage = stage or Stage()
    articles, _ = read_inputs(config)
    factory = _provider_factory(config, stage)
    cache = SegmentCache(config.translation.cache)
    variants = _open_variant_cache(cache_path(cache_directory(config.translation.cache)))
    budget = Budget(config.translation.max_chars_per_run)
    lines = []
    try:
        for edition in edition_languages(config, factory):
            configured, lang, provider = edition
            glossary = glossary_for(config.translation, configured, lang)
            source = _source_articles(config, articles, configured, lang)
            keys = [content_key(a) for a in source]
            sources = Sources(dict(zip(keys, source, strict=True)))
            hits = _usable_hits(variants.load(_variant_context(config, edition, glossary), sources), keys)
            todo = [a for a, key in zip(source, keys, strict=True) if key not in hits]
            mode = config.translation.mode_for(configured, lang)
            segments = all_segments(todo, extra=[config.site.description], mode=mode)
            cost = plan(segments, config.site.language, lang, provider, cache, glossary, budget)
            lines.append(CostLine(lang, provider.name, cost.segments, cost.characters, cost.tokens, cost.deferred))
    finally:
        cache.close()
        variants.close()
    return lines


@contextlib.contextmanager
def _progress(enabled: bool, label: str, total: int | None) -> Iterator[Callable[[str], None]]:
    """A transient progress display for one stage on stderr when ``enabled`` (a TTY); otherwise a no-op.

    ``total`` None: an open-ended count (files read or rendered as they come).
    """
    if not enabled:
        yield lambda _description: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(description: str) -> None:
            bar.update(task, description=f"{label}: {description}", advance=1)

        yield advance


def build_editions(site: Site, articles: Sequence[Article], variants: Sequence[Variant] = ()) -> list[Edition]:
    """One edition per language, the source language first, articles newest first, on shelves
    (:mod:`syndicate.shelf`): each with its render key when it is already prepared for rendering."""
    from syndicate.localize import edition_title, normalize_tag, text_direction
    from syndicate.render import prepared_key
    from syndicate.shelf import join, newest_first
    from syndicate.translate.human import placed

    by_language: dict[str, list[Sequence[Article]]] = {site.language: [[]]}
    for article in placed(articles, variants):
        language = normalize_tag(article.language)
        # the same object when already canonical: render keys computed for it stay memoized
        same = article if article.language == language else article.replace(language=language)
        parts = by_language.setdefault(language, [[]])
        cast(list[Article], parts[0]).append(same)
    descriptions = {}
    for variant in variants:  # a configured language keeps its edition even when it is empty
        by_language.setdefault(variant.language, [[]]).append(variant.articles)
        descriptions[variant.language] = variant.description
    editions = []
    for language, parts in by_language.items():
        items = newest_first(join(parts, key_of=prepared_key))
        if items or language == site.language or language in descriptions:
            editions.append(
                Edition(
                    language=language,
                    title=edition_title(site.title, language),
                    description=descriptions.get(language) or site.description,
                    articles=items,
                    direction=text_direction(language),
                )
            )
    return editions
