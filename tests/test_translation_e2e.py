"""The seed published into Spanish and Catalan with the real apertium engine."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import feedparser
import pytest

from syndicate.config import Config
from syndicate.errors import ExitCode
from syndicate.pipeline import Stage, publish_site
from syndicate.translate.base import Translator
from tests.helpers import tree_digest

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")

GLOSSARY = ("Sonata Coulter", "Alexander Darchiev", "Sergei Lavrov")


class Recorder:
    """A provider factory that hands out the real providers and remembers them."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.made: list[Translator] = []

    def __call__(self, name: str) -> Translator:
        from syndicate.translate.registry import get_provider

        provider = get_provider(name, self.config.translation)
        self.made.append(provider)
        return provider

    @property
    def calls(self) -> int:
        return sum(p.calls for p in self.made)


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Path, Recorder]:
    from syndicate.config import load_config

    root = tmp_path_factory.mktemp("apertium")
    config = load_config(Path(__file__).resolve().parent.parent / "syndicate.toml")
    config = config.with_overrides(target=root / "feeds", cache=root / "cache.sqlite3", languages=["es", "ca"])
    config = _with_glossary(config)
    recorder = Recorder(config)
    summary = publish_site(config, stage=Stage(providers=recorder))
    assert summary.exit_code == ExitCode.OK, summary.as_dict()
    assert summary.items == {"en": 6, "es": 6, "ca": 6}
    return config, root / "feeds", recorder


def _with_glossary(config: Config) -> Config:
    from dataclasses import replace

    return replace(config, translation=replace(config.translation, glossary=GLOSSARY, provider="apertium"))


def _entries(feeds: Path, lang: str) -> list[feedparser.FeedParserDict]:
    parsed = feedparser.parse((feeds / lang / "atom.xml").read_bytes())
    assert parsed.bozo is False
    return list(parsed.entries)


@pytest.mark.parametrize(
    ("lang", "title_words", "body_words"),
    [
        ("es", ["Ministro de asuntos exteriores", "gobierno ruso", "ciudades"], ["embajadas", "horas", "Estados"]),
        ("ca", ["Ministre", "governació russa", "ciutats"], ["ambaixades", "hores", "Estats Units"]),
    ],
)
def test_titles_and_bodies_are_really_translated(
    translated: tuple[Config, Path, Recorder], lang: str, title_words: list[str], body_words: list[str]
) -> None:
    _, feeds, _ = translated
    entries = _entries(feeds, lang)
    assert len(entries) == 6
    titles = " ".join(e.title for e in entries)
    bodies = " ".join(e.content[0].value for e in entries)
    for word in title_words:
        assert word in titles, f"{word!r} not in {lang} titles: {titles}"
    for word in body_words:
        assert word in bodies, f"{word!r} not in {lang} bodies"
    assert "embassies" not in bodies and "Foreign Minister" not in titles


@pytest.mark.parametrize("lang", ["es", "ca"])
def test_glossary_names_survive_and_no_engine_marks(translated: tuple[Config, Path, Recorder], lang: str) -> None:
    _, feeds, _ = translated
    text = (feeds / lang / "rss.xml").read_text(encoding="utf-8")
    for name in GLOSSARY:
        assert name in text
    for entry in _entries(feeds, lang):
        visible = re.sub(r"<[^>]+>", " ", entry.title + " " + entry.content[0].value)
        assert not re.search(r"(^|\s)[*#@]\w", visible), visible


def test_each_variant_links_its_original_and_names_the_engine(translated: tuple[Config, Path, Recorder]) -> None:
    config, feeds, _ = translated
    english = {e.id for e in _entries(feeds, "en")}
    for lang in ("es", "ca"):
        for entry in _entries(feeds, lang):
            assert entry.id not in english
            content = entry.content[0].value
            assert "Apertium" in content
            assert config.site.url_for("en", "articles") in content


def test_warm_cache_sends_nothing_and_gives_identical_bytes(translated: tuple[Config, Path, Recorder]) -> None:
    config, feeds, first = translated
    assert first.calls == 2  # one batched engine process per language pair
    before = {k: v for k, v in tree_digest(feeds).items() if not k.startswith(".syndicate/")}
    again = Recorder(config)
    summary = publish_site(config, stage=Stage(providers=again))
    assert again.calls == 0
    assert summary.written == 0
    after = {k: v for k, v in tree_digest(feeds).items() if not k.startswith(".syndicate/")}
    assert after == before


def test_dry_run_reports_exact_cost_and_sends_nothing(tmp_path: Path) -> None:
    from syndicate.config import load_config
    from syndicate.pipeline import translation_cost
    from syndicate.sources import read_articles

    config = load_config(Path(__file__).resolve().parent.parent / "syndicate.toml")
    config = config.with_overrides(target=tmp_path / "feeds", cache=tmp_path / "c.sqlite3", languages=["es", "ca"])
    articles = read_articles(config.sources, "en").articles
    from syndicate.translate.variants import segments_of

    texts = {config.site.description}
    for a in articles:
        texts |= set(segments_of(a))  # the title of a scraped page is its whole first sentence
    recorder = Recorder(config)
    lines = translation_cost(config, stage=Stage(providers=recorder))
    assert [(line.language, line.provider) for line in lines] == [("es", "apertium"), ("ca", "apertium")]
    from syndicate.translate import Glossary

    glossary = Glossary(config.translation.glossary)  # names are sent as short placeholders
    for line in lines:
        assert line.segments == len(texts)
        assert line.characters == sum(len(glossary.protect(t)[0]) for t in texts)
    assert recorder.calls == 0
    assert not (tmp_path / "feeds").exists()
    publish_site(config, stage=Stage(providers=recorder))
    warm = translation_cost(config, stage=Stage(providers=Recorder(config)))
    assert [(line.segments, line.characters) for line in warm] == [(0, 0), (0, 0)]
