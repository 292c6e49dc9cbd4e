"""The variant cache (issue 13): one source article in one language, translated or refused, kept per input.

A rerun segments, looks up and gates only the articles the cache does not
have; whatever changes a translation (glossary, engine version, mode) starts
afresh; a damaged file is rebuilt; a deterministic engine's refusal (apertium)
is kept like a result, so a run after a partial run takes the no-op path with
the same exit code and reasons, while a network engine's refusal is retried.
Real apertium, a real LibreTranslate-speaking server on 127.0.0.1, real SQLite.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest
from typer.testing import CliRunner

import syndicate.translate.variants as variants_module
from syndicate.cli import app
from syndicate.config import Config, load_config
from syndicate.errors import ExitCode
from syndicate.models import Article, Block, Edition, Site
from syndicate.pipeline import RunSummary, Stage, publish_site
from syndicate.render import render_site
from syndicate.translate.cache import SegmentCache
from syndicate.translate.providers.apertium import ApertiumTranslator
from syndicate.translate.variants import all_segments
from tests.conftest import ROOT, SEEDS
from tests.helpers import libre_site, tree_digest
from tests.libre_server import FakeServer, Reply, Request
from tests.test_incremental import _article
from tests.test_translation_e2e import Recorder

runner = CliRunner()
needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")
GIBBERISH = (
    "---\ntitle: The zorblax quindled the frumptious wobblegarns\ndate: 2025-04-16T09:00:00+03:00\n---\n"
    "The zorblax quindled the frumptious wobblegarns near Vextrolia. Blenzik morphs the quandrel.\n"
)


class Looked:
    """Which articles were segmented and how many segment-cache keys were asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.segmented: Counter[str] = Counter()
        self.keys = 0
        real_segments, real_get = variants_module.segments_of, SegmentCache.get_entries

        def segments_of(article: Article, mode: str = "full") -> list[str]:
            self.segmented[article.title] += 1
            return real_segments(article, mode)

        def get_entries(cache: SegmentCache, keys: Iterable[str]) -> object:
            wanted = list(keys)
            self.keys += len(wanted)
            return real_get(cache, wanted)

        monkeypatch.setattr(variants_module, "segments_of", segments_of)
        monkeypatch.setattr(SegmentCache, "get_entries", get_entries)


def _config(tmp_path: Path, sources: Path, **translation: object) -> Config:
    base = load_config(ROOT / "syndicate.toml").with_overrides(
        sources=[sources], target=tmp_path / "feeds", cache=tmp_path / "cache" / "t.sqlite3"
    )
    options = replace(base.translation, languages=("es",), **translation)  # type: ignore[arg-type]
    return replace(base, max_items=400, translation=options)


@pytest.fixture
def archive(tmp_path: Path) -> Config:
    """300 articles in en and es."""
    sources = tmp_path / "articles"
    sources.mkdir()
    for n in range(300):
        (sources / f"a{n:03}.md").write_text(_article(n), encoding="utf-8")
    return _config(tmp_path, sources, max_unknown=0.5)  # a few generated headlines have 17 % unknown words


@pytest.fixture
def seeds(tmp_path: Path) -> Config:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    return _config(tmp_path, tmp_path / "seeds")


def _publish(config: Config, recorder: Recorder | None = None) -> tuple[RunSummary, Recorder]:
    recorder = recorder or Recorder(config)
    return publish_site(config, stage=Stage(providers=recorder)), recorder


def _published(config: Config) -> dict[str, str]:
    """Published path -> digest of its bytes."""
    return {k: v[0] for k, v in tree_digest(config.target).items() if not k.startswith(".syndicate/")}


def _variant_rows(config: Config) -> int:
    import sqlite3

    assert config.translation.cache is not None
    with sqlite3.connect(config.translation.cache.parent / "variants.sqlite3") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM variants").fetchone()[0])


@needs_apertium
def test_one_new_article_among_300_is_the_only_one_segmented_and_looked_up(
    archive: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = _publish(archive)
    assert first.exit_code == ExitCode.OK and first.items == {"en": 300, "es": 300}
    assert _variant_rows(archive) == 300
    new = "---\ntitle: The embassies reopen\ndate: 2025-04-15T09:00:00+03:00\n---\nThe two sides met again.\n"
    (archive.sources.paths[0] / "new.md").write_text(new, encoding="utf-8")

    looked = Looked(monkeypatch)
    summary, recorder = _publish(archive)

    assert summary.exit_code == ExitCode.OK and summary.items == {"en": 301, "es": 301}
    assert set(looked.segmented) == {"The embassies reopen"}  # the 300 others came whole from the variant cache
    monkeypatch.undo()
    [added] = [a for a in _read(archive) if a.title == "The embassies reopen"]
    assert looked.keys == len(all_segments([added], extra=[archive.site.description]))  # its segments alone
    assert recorder.calls == 1  # one apertium batch, for the new article's segments
    assert _variant_rows(archive) == 301

    cold = replace(archive, target=tmp_path / "cold")  # the same inputs, built without any cache
    cold = replace(cold, translation=replace(cold.translation, cache=tmp_path / "cold-cache" / "t.sqlite3"))
    _publish(cold)
    assert _published(cold) == _published(archive)  # the cached variants publish the same bytes


def _read(config: Config) -> tuple[Article, ...]:
    from syndicate.pipeline import read_inputs

    return read_inputs(config)[0]


class NextVersion(ApertiumTranslator):
    """apertium as if another version were installed (its cache key is the version)."""

    def pair_cache_key(self, source: str, target: str) -> str:
        return super().pair_cache_key(source, target) + "+next"


class NextRecorder(Recorder):
    def __call__(self, name: str) -> ApertiumTranslator:
        provider = NextVersion()
        self.made.append(provider)
        return provider


@needs_apertium
@pytest.mark.parametrize("change", ["glossary", "engine version", "mode"])
def test_what_changes_a_translation_invalidates_the_cached_articles(
    change: str, seeds: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    _publish(seeds)
    titles = {a.title for a in _read(seeds)}
    options = seeds.translation
    recorder = Recorder(seeds)
    if change == "glossary":
        seeds = replace(seeds, translation=replace(options, glossary=(*options.glossary, "Kremlin")))
    elif change == "mode":
        seeds = replace(seeds, translation=replace(options, mode="bilingual"))
    else:
        recorder = NextRecorder(seeds)
    looked = Looked(monkeypatch)
    summary, recorder = _publish(seeds, recorder)
    assert summary.exit_code == ExitCode.OK
    assert set(looked.segmented) == titles  # every article segmented again
    if change != "mode":  # another glossary or engine: new segment keys, so apertium runs again
        assert recorder.calls >= 1
    monkeypatch.undo()
    looked = Looked(monkeypatch)
    _, recorder = _publish(replace(seeds, max_items=seeds.max_items - 1), type(recorder)(seeds))  # not no-op
    assert not looked.segmented and recorder.calls == 0  # and now those are cached in turn


@needs_apertium
def test_a_damaged_variant_cache_is_rebuilt_with_one_warning(
    seeds: Config, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _publish(seeds)
    before = _published(seeds)
    assert seeds.translation.cache is not None
    path = seeds.translation.cache.parent / "variants.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    caplog.set_level("WARNING")
    summary, _ = _publish(replace(seeds, max_items=seeds.max_items - 1))  # inputs unchanged, the no-op path not taken
    assert summary.exit_code == ExitCode.OK
    warnings = [r.getMessage() for r in caplog.records if "variant cache" in r.getMessage()]
    assert len(warnings) == 1 and "damaged" in warnings[0] and "rebuilding" in warnings[0], warnings
    assert (path.parent / "variants.sqlite3.damaged").exists()
    assert _variant_rows(seeds) == len(_read(seeds))
    looked = Looked(monkeypatch)
    _publish(replace(seeds, max_items=seeds.max_items - 2))
    assert not looked.segmented  # the rebuilt cache serves the next run
    assert set(_published(seeds)) == set(before)


@needs_apertium
def test_a_deterministic_refusal_is_cached_and_the_rerun_takes_the_no_op_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "seeds" / "gibberish.md").write_text(GIBBERISH, encoding="utf-8")
    toml = tmp_path / "syndicate.toml"
    text = (ROOT / "syndicate.toml").read_text(encoding="utf-8")
    toml.write_text(
        text.replace('languages = ["es", "ca"]', 'languages = ["es"]\ncache = "cache/t.sqlite3"'), encoding="utf-8"
    )
    seeds = load_config(toml)  # seeds/ and feeds/ beside it
    first, recorder = _publish(seeds)
    assert first.exit_code == ExitCode.PARTIAL
    reason = first.reasons["es"]["The zorblax quindled the frumptious wobblegarns"]
    assert reason.startswith("unknown words") and "translation.max_unknown" in reason
    assert recorder.calls == 1
    stats = runner.invoke(app, ["cache", "stats", "--cache", str(seeds.translation.cache), "--json"]).stdout
    assert json.loads(stats)["variants"]["refused"] == 1

    looked = Looked(monkeypatch)
    again, recorder = _publish(seeds)  # nothing changed: the no-op path, after a partial run
    assert recorder.calls == 0 and not looked.segmented and looked.keys == 0
    assert again.written == 0 and again.unchanged == first.written + first.unchanged
    assert again.exit_code == ExitCode.PARTIAL
    assert again.missing == first.missing and again.reasons == first.reasons
    assert again.report()["failures"] == first.report()["failures"]
    assert again.line().split("; translations missing: ")[1] == first.line().split("; translations missing: ")[1]

    (tmp_path / "seeds" / "gibberish.md").touch()  # a changed stamp: a real run, the same contents
    third, recorder = _publish(seeds)
    assert recorder.calls == 0 and not looked.segmented  # the refusal came from the variant cache
    assert third.written == 0 and third.report()["failures"] == first.report()["failures"]
    monkeypatch.undo()

    result = runner.invoke(app, ["publish", "--config", str(toml), "--json"], catch_exceptions=False)
    assert result.exit_code == ExitCode.PARTIAL  # the CLI says the same
    assert json.loads(result.stdout)["failures"] == first.report()["failures"]
    status = json.loads((tmp_path / "feeds" / ".syndicate" / "status.json").read_text(encoding="utf-8"))
    assert status["failures"] == first.report()["failures"] and status["exit_code"] == 1
    assert "fingerprint" in status  # settled: the next run with the same inputs may stop at once


def _echo(request: Request) -> Reply:
    return Reply(body={"translatedText": request.params.get("q", "")})


def test_a_network_engines_refusal_is_retried_every_run(server: FakeServer, tmp_path: Path) -> None:
    config = libre_site(tmp_path, server.url)
    server.default = _echo  # every answer is the English text: refused as "echo"
    publish = ["publish", "--config", str(config), "--json"]
    first = runner.invoke(app, publish, catch_exceptions=False)
    assert first.exit_code == ExitCode.PARTIAL
    failures = json.loads(first.stdout)["failures"]["es"]
    assert failures and all(f["reason"].startswith("echo") for f in failures)
    sent = server.hits
    status = json.loads((tmp_path / "feeds" / ".syndicate" / "status.json").read_text(encoding="utf-8"))
    assert "fingerprint" not in status  # a network engine's refusal is never final: no no-op next run

    second = runner.invoke(app, publish, catch_exceptions=False)
    assert second.exit_code == ExitCode.PARTIAL
    assert server.hits > sent  # the refused segments were sent again
    assert json.loads(second.stdout)["failures"] == json.loads(first.stdout)["failures"]


@needs_apertium
def test_cache_commands_cover_the_translated_articles(seeds: Config, tmp_path: Path) -> None:
    _publish(seeds)
    count = len(_read(seeds))
    cache = seeds.translation.cache
    assert cache is not None
    stats = json.loads(runner.invoke(app, ["cache", "stats", "--cache", str(cache), "--json"]).stdout)
    assert stats["variants"]["entries"] == count and stats["variants"]["providers"] == {"apertium": {"es": count}}
    text = runner.invoke(app, ["cache", "stats", "--cache", str(cache)]).stdout
    assert f"translated articles: {count} (0 refused)" in text

    result = runner.invoke(app, ["cache", "forget", "--cache", str(cache), "--lang", "ca"])
    assert result.exit_code == 0 and _variant_rows(seeds) == count  # another language: nothing of es goes
    result = runner.invoke(app, ["cache", "forget", "--cache", str(cache), "--provider", "apertium", "--lang", "es"])
    assert result.exit_code == 0 and f"and {count} translated articles" in result.stdout
    assert _variant_rows(seeds) == 0

    _publish(replace(seeds, max_items=seeds.max_items - 1))
    assert _variant_rows(seeds) == count
    result = runner.invoke(app, ["cache", "clear", "--cache", str(cache), "--yes"])
    assert result.exit_code == 0 and f"and {count} translated articles" in result.stdout
    assert _variant_rows(seeds) == 0


def test_render_still_cleans_what_xml_forbids_and_passes_clean_articles_through() -> None:
    from datetime import UTC, datetime

    from syndicate.render import _prepare_article, prepared_key

    site = Site("Desk", "https://news.example.org/", "News.", "UTC", "en")
    dirty = Article(
        id="urn:uuid:1", slug="dirty", title="Bad\x0bTitle", summary="Sum\x01mary", body=(Block("Body\ufffe text"),),
        published=datetime(2025, 1, 1, tzinfo=UTC), language="en",
    )  # fmt: skip
    clean = replace(dirty, id="urn:uuid:2", slug="clean", title="Good", summary="Fine \\x0b as text", body=())
    assert prepared_key(dirty) is None
    assert prepared_key(clean) is None  # a literal backslash-x in the text: the full cleaning, to be safe
    plain = replace(clean, summary="Fine")
    assert _prepare_article(plain) is plain and prepared_key(plain) is not None
    files = render_site(site, [Edition("en", "Desk", "News.", (dirty, plain))], formats=("rss", "atom", "json"))
    for path, data in files.items():
        assert b"\x0b" not in data and b"\x01" not in data and "\ufffe".encode() not in data, path
    parsed = feedparser.parse(files["en/atom.xml"])
    assert parsed.bozo is False and {e.title for e in parsed.entries} == {"BadTitle", "Good"}


class Fixed:
    """A deterministic local engine (a lookup, like a rule-based system): "ES " + the text, except that
    every text about a ferry or a boat gets one answer, which the repeat gate refuses."""

    name = "fixed"
    display_name = "Fixed"
    max_chars = 10_000
    deterministic = True
    ANSWER = "El barco zarpa de nuevo hoy por la mañana temprano"

    def __init__(self) -> None:
        self.calls = 0
        self.sent: list[str] = []

    def cache_key(self) -> str:
        return "fixed@1"

    def supports(self, source: str, target: str) -> bool:
        return True

    def available(self) -> tuple[bool, str]:
        return True, "always"

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str | None]:
        self.calls += 1
        self.sent.extend(texts)
        return [self.ANSWER if re.search(r"ferry|boat", t, re.I) else f"ES {t}" for t in texts]


def _story(title: str, day: int) -> str:
    return f"---\ntitle: {title}\ndate: 2025-03-{day:02}T09:00:00Z\n---\nThe desk reports it.\n"


FERRY = "The ferry sails again this morning from the port"
BOAT = "A boat leaves once more today at dawn"
LATE = "Late ferry crossing delayed by strong northern winds"


def test_repeat_gate_refusals_are_cached_as_a_group_and_count_for_new_answers(tmp_path: Path) -> None:
    sources = tmp_path / "articles"
    sources.mkdir()
    for name, title, day in (("a", FERRY, 1), ("b", BOAT, 2), ("c", "Parliament passes the budget", 3)):
        (sources / f"{name}.md").write_text(_story(title, day), encoding="utf-8")
    config = _config(tmp_path, sources)
    config = replace(config, translation=replace(config.translation, provider="fixed", glossary=()))

    def run(config: Config) -> tuple[RunSummary, Fixed]:
        engine = Fixed()
        return publish_site(config, stage=Stage(providers=lambda _name: engine)), engine

    first, engine = run(config)
    assert first.exit_code == ExitCode.PARTIAL and set(first.missing["es"]) == {FERRY, BOAT}
    assert {r.split(" (")[0] for r in first.reasons["es"].values()} == {"engine message"}

    from syndicate.pipeline import translation_cost

    [cost] = translation_cost(config, stage=Stage(providers=lambda _name: Fixed()))
    assert cost.segments == 0  # --dry-run: the refused articles would not be sent again

    (sources / "c.md").touch()  # a real run (not the no-op path), the same contents
    second, engine = run(config)
    assert engine.calls == 0  # both refusals, and the good article, came from the variant cache
    assert second.reasons == first.reasons

    (sources / "d.md").write_text(_story(LATE, 4), encoding="utf-8")  # one more input with the same answer
    third, engine = run(config)
    assert FERRY not in engine.sent and BOAT not in engine.sent and LATE in engine.sent
    assert set(third.missing["es"]) == {FERRY, BOAT, LATE}  # refused beside the cached pair, as if sent with them

    (sources / "b.md").unlink()  # the ferry's partners go: what is left is sent again, together
    (sources / "d.md").unlink()
    fourth, engine = run(config)
    assert FERRY in engine.sent
    assert not fourth.missing.get("es") and fourth.exit_code == ExitCode.OK  # one answer for one input: published
