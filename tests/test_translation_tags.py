"""Leftovers of issue 10: ``max_unknown`` per language, the configured tag (``sr``) and the
published tag (``sr-Latn``) naming the same edition, and web engines asked for the script
the edition's tag says (DESIGN 4, "Edition language tags say what the engine really writes").

Real apertium (en -> hbs) where an engine is needed; a Microsoft-Translator-speaking
server on 127.0.0.1 for the web engine that offers both Serbian scripts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import TranslationOptions, config_from_mapping, load_config
from syndicate.errors import ConfigError, ExitCode
from syndicate.pipeline import _variant_context, publish_site, translation_cost
from syndicate.translate.protect import Glossary, glossary_for
from syndicate.translate.providers.apertium import ApertiumTranslator
from syndicate.translate.providers.web import web_engine
from syndicate.translate.validate import answer_problem
from tests.libre_server import FakeServer, Reply, Request

runner = CliRunner()
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
needs_hbs = pytest.mark.skipif(
    not ApertiumTranslator().supports("en", "sr"), reason="apertium en-hbs is not installed (scripts/bootstrap)"
)

HARBOUR = """---
title: Harbour budget passes after a long night
date: 2025-06-05T09:30:00+02:00
---
The council approved the harbour budget after a long debate.
"""
FERRY = """---
title: Ferry line seven reopens
date: 2025-06-04T08:00:00+02:00
---
The ferry line seven is back today.

Tickets cost two euros.
"""
HUMAN = """---
title: {title}
date: 2025-06-05T11:00:00+02:00
lang: {lang}
translation_of: harbour.md
---
{body}
"""
LATIN = ("Budžet luke usvojen nakon duge noći", "Vijeće je nakon duge rasprave usvojilo budžet luke.")
CYRILLIC_TEXT = ("Буџет луке усвојен након дуге ноћи", "Веће је након дуге расправе усвојило буџет луке.")


def _write_sources(tmp_path: Path, humans: dict[str, tuple[str, tuple[str, str]]] | None = None) -> Path:
    src = tmp_path / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "harbour.md").write_text(HARBOUR, encoding="utf-8")
    (src / "ferry.md").write_text(FERRY, encoding="utf-8")
    for name, (lang, (title, body)) in (humans or {}).items():
        (src / name).write_text(HUMAN.format(title=title, lang=lang, body=body), encoding="utf-8")
    return src


def _raw(tmp_path: Path, src: Path, **translation: object) -> dict[str, object]:
    return {
        "site": {"title": "Harbour News", "url": "https://news.example.org/", "timezone": "Europe/Madrid"},
        "sources": {"paths": [str(src)]},
        "output": {"target": str(tmp_path / "feeds"), "sections": False},
        "translation": {"cache": str(tmp_path / "cache.sqlite3"), **translation},
    }


def _entries(tmp_path: Path, lang: str) -> list[feedparser.FeedParserDict]:
    parsed = feedparser.parse((tmp_path / "feeds" / lang / "atom.xml").read_bytes())
    assert parsed.bozo is False
    return list(parsed.entries)


# --------------------------------------------------------------------------- config


def test_max_unknown_keeps_its_float_form() -> None:
    options = config_from_mapping({"translation": {"max_unknown": 0.3}}, base=Path(".")).translation
    assert options.max_unknown == 0.3 and options.max_unknowns == ()
    assert options.max_unknown_for("hr") == 0.3 and options.max_unknown_for("sr", "sr-Latn") == 0.3


def test_max_unknown_per_language_table() -> None:
    table = {"default": 0.2, "hr": 0.5, "sr-latn": 0.9, "bs": 1}
    options = config_from_mapping({"translation": {"max_unknown": table}}, base=Path(".")).translation
    assert options.max_unknown == 0.2
    assert options.max_unknown_for("hr") == 0.5 and options.max_unknown_for("es") == 0.2
    assert options.max_unknown_for("bs") == 1.0
    assert options.max_unknown_for("sr", "sr-Latn") == 0.9  # the published tag names the configured sr
    assert options.max_unknown_for("sr") == 0.2  # an sr edition in Cyrillic (Microsoft's sr) is another edition
    without_default = config_from_mapping({"translation": {"max_unknown": {"hr": 0.5}}}, base=Path("."))
    assert without_default.translation.max_unknown_for("es") == 0.15


def test_max_unknown_table_problems_are_reported_together_one_line_each(tmp_path: Path) -> None:
    config = tmp_path / "syndicate.toml"
    config.write_text(
        '[translation]\nlanguages = ["hr"]\non_error = "maybe"\n\n'
        '[translation.max_unknown]\ndefualt = 0.2\nhr = 2\n"not a tag" = 0.1\nbs = "high"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    found = {p.key: p for p in caught.value.problems}
    assert set(found) >= {
        "translation.on_error", "translation.max_unknown.defualt", "translation.max_unknown.hr",
        "translation.max_unknown.not a tag", "translation.max_unknown.bs",
    }  # fmt: skip
    assert "did you mean 'default'?" in found["translation.max_unknown.defualt"].message
    assert found["translation.max_unknown.defualt"].line == 6
    assert "from 0 to 1" in found["translation.max_unknown.hr"].message
    assert found["translation.max_unknown.hr"].line == 7
    assert found["translation.max_unknown.bs"].line == 9

    result = runner.invoke(app, ["publish", "--config", str(config)])
    assert result.exit_code == ExitCode.USAGE
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    shape = r"syndicate: error: \S+syndicate\.toml:\d+: translation\."
    assert len(lines) == 5 and all(re.match(shape, line) for line in lines)


def test_tags_naming_an_edition() -> None:
    options = TranslationOptions(languages=("sr",))
    assert options.tags_for("sr", "sr-Latn") == ("sr-Latn", "sr")
    assert options.tags_for("es") == ("es",)
    assert TranslationOptions(languages=("sr-Latn",)).tags_for("sr-Latn") == ("sr-Latn", "sr")
    both = TranslationOptions(languages=("sr", "sr-Latn"))  # two editions (e.g. Microsoft's two scripts)
    assert both.tags_for("sr-Latn") == ("sr-Latn",)  # sr names the other edition
    assert both.tags_for("sr") == ("sr",)


@pytest.mark.parametrize("key", ["sr", "sr-Latn"])
def test_modes_and_term_renderings_match_either_tag(key: str) -> None:
    raw = {
        "languages": ["sr"],
        "modes": {key: "title"},
        "terms": {"ferry": {key: "trajekt"}},
    }
    options = config_from_mapping({"translation": raw}, base=Path(".")).translation
    assert options.mode_for("sr", "sr-Latn") == "title"
    assert glossary_for(options, "sr", "sr-Latn").renderings == {"ferry": "trajekt"}


def test_the_published_tag_wins_when_both_are_given() -> None:
    raw = {
        "languages": ["sr"],
        "modes": {"sr": "full", "sr-Latn": "title"},
        "terms": {"ferry": {"sr": "feribot", "sr-Latn": "trajekt"}},
        "max_unknown": {"sr": 0.2, "sr-Latn": 0.7},
    }
    options = config_from_mapping({"translation": raw}, base=Path(".")).translation
    assert options.mode_for("sr", "sr-Latn") == "title"
    assert glossary_for(options, "sr", "sr-Latn").renderings == {"ferry": "trajekt"}
    assert options.max_unknown_for("sr", "sr-Latn") == 0.7


class _Engine:
    name = display_name = "fake"
    max_chars = 1000
    calls = 0

    def cache_key(self) -> str:
        return "fake/1"

    def supports(self, source: str, target: str) -> bool:
        return True

    def available(self) -> tuple[bool, str]:
        return True, ""

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str | None]:
        return list(texts)


def test_the_variant_cache_context_holds_the_languages_own_share(tmp_path: Path) -> None:
    def context(table: dict[str, float], configured: str, written: str) -> str:
        raw = _raw(tmp_path, tmp_path, languages=["hr", "sr"], max_unknown=table)
        config = config_from_mapping(raw, base=tmp_path)
        return _variant_context(config, (configured, written, _Engine()), Glossary())  # type: ignore[arg-type]

    base = context({"hr": 0.5, "sr": 0.5}, "hr", "hr")
    assert context({"hr": 0.5, "sr": 0.9}, "hr", "hr") == base  # another language's share changes nothing here
    assert context({"hr": 0.6, "sr": 0.5}, "hr", "hr") != base
    sr = context({"sr": 0.5}, "sr", "sr-Latn")
    assert context({"sr": 0.6}, "sr", "sr-Latn") != sr
    assert context({"sr-Latn": 0.5}, "sr", "sr-Latn") == sr  # the same share, named by the published tag


# --------------------------------------------------------------------------- real apertium


@needs_hbs
def test_per_language_max_unknown_with_real_apertium(tmp_path: Path) -> None:
    src = _write_sources(tmp_path)
    raw = _raw(tmp_path, src, languages=["hr", "bs"], max_unknown={"default": 0.0, "hr": 1.0})
    summary = publish_site(config_from_mapping(raw, base=tmp_path))
    assert summary.exit_code == ExitCode.PARTIAL
    assert summary.items["hr"] == 2 and summary.items.get("bs", 0) == 0
    assert all(r.startswith("unknown words") for r in summary.reasons["bs"].values())
    assert "over translation.max_unknown 0%" in next(iter(summary.reasons["bs"].values()))

    # the variant cache keeps hr's translations under hr's share: lowering it refuses them again
    raw = _raw(tmp_path, src, languages=["hr", "bs"], max_unknown={"default": 0.0, "hr": 0.0})
    summary = publish_site(config_from_mapping(raw, base=tmp_path))
    assert summary.items.get("hr", 0) == 0
    assert all(r.startswith("unknown words") for r in summary.reasons["hr"].values())
    assert "over translation.max_unknown.hr 0%" in next(iter(summary.reasons["hr"].values()))  # the key that applied


@needs_hbs
@pytest.mark.parametrize("key", ["sr", "sr-Latn"])
def test_serbian_settings_by_either_tag_reach_the_sr_latn_edition(tmp_path: Path, key: str) -> None:
    src = _write_sources(tmp_path)
    raw = _raw(
        tmp_path, src, languages=["sr"], max_unknown={key: 1.0}, modes={key: "title"},
        terms={"ferry": {key: "trajekt"}},
    )  # fmt: skip
    summary = publish_site(config_from_mapping(raw, base=tmp_path))
    assert summary.exit_code == ExitCode.OK, summary.as_dict()
    assert summary.items == {"en": 2, "sr-Latn": 2}
    entries = _entries(tmp_path, "sr-Latn")
    ferry = next(e for e in entries if "rajekt" in e.title)  # the rendering, capitalized at the start
    assert ferry.title.startswith("Trajekt")
    assert "Tickets cost two euros." in ferry.content[0].value  # title mode: the body stays English
    assert not (tmp_path / "feeds" / "sr").exists()


@needs_hbs
@pytest.mark.parametrize("lang", ["sr", "sr-Latn"])
def test_a_human_serbian_translation_in_latin_script_replaces_the_machine_one(tmp_path: Path, lang: str) -> None:
    src = _write_sources(tmp_path, {"harbour.sr.md": (lang, LATIN)})
    config = config_from_mapping(_raw(tmp_path, src, languages=["sr"], max_unknown=1.0), base=tmp_path)
    (cost,) = translation_cost(config)
    assert cost.language == "sr-Latn"
    without = config_from_mapping(_raw(tmp_path, _write_sources(tmp_path / "b"), languages=["sr"]), base=tmp_path)
    assert cost.segments < translation_cost(without)[0].segments  # the harbour story is not sent

    summary = publish_site(config)
    assert summary.exit_code == ExitCode.OK, summary.as_dict()
    assert summary.items == {"en": 2, "sr-Latn": 2}  # the human one and the machine ferry story
    assert not (tmp_path / "feeds" / "sr").exists()
    entries = _entries(tmp_path, "sr-Latn")
    human = next(e for e in entries if e.title == LATIN[0])
    assert human.title_detail.language == "sr-Latn"
    assert "Apertium" not in human.content[0].value  # no machine note
    assert not any("Harbour" in e.title or "luke" in e.title.lower() for e in entries if e is not human)
    page = (tmp_path / "feeds" / "sr-Latn").rglob("*.html")
    html = next(p for p in page if LATIN[0] in p.read_text(encoding="utf-8")).read_text(encoding="utf-8")
    assert re.search(r'hreflang="en"', html)  # still the original's sibling


@needs_hbs
def test_a_cyrillic_human_translation_is_not_published_under_the_latin_tag(tmp_path: Path) -> None:
    src = _write_sources(tmp_path, {"harbour.sr.md": ("sr", CYRILLIC_TEXT)})
    summary = publish_site(config_from_mapping(_raw(tmp_path, src, languages=["sr"], max_unknown=1.0), base=tmp_path))
    assert summary.exit_code == ExitCode.OK, summary.as_dict()
    assert summary.items == {"en": 2, "sr": 1, "sr-Latn": 2}  # the machine Latin edition keeps both stories
    latin = (tmp_path / "feeds" / "sr-Latn" / "atom.xml").read_text(encoding="utf-8")
    assert not CYRILLIC.search(latin)
    assert [e.title for e in _entries(tmp_path, "sr")] == [CYRILLIC_TEXT[0]]


@needs_hbs
def test_of_two_human_translations_for_one_edition_the_published_tag_wins(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = ("Budžet luke prošao", "Vijeće je usvojilo budžet.")
    src = _write_sources(tmp_path, {"harbour.sr.md": ("sr", other), "harbour.sr-latn.md": ("sr-Latn", LATIN)})
    summary = publish_site(config_from_mapping(_raw(tmp_path, src, languages=["sr"], max_unknown=1.0), base=tmp_path))
    assert summary.items == {"en": 2, "sr-Latn": 2}
    titles = [e.title for e in _entries(tmp_path, "sr-Latn")]
    assert LATIN[0] in titles and other[0] not in titles
    assert re.search(r"harbour\.sr\.md: left out: \S*harbour\.sr-latn\.md", caplog.text)


@needs_hbs
def test_apertium_refuses_cyrillic_serbian_at_start_saying_why(tmp_path: Path) -> None:
    src = _write_sources(tmp_path)
    config = config_from_mapping(_raw(tmp_path, src, languages=["sr-Cyrl"]), base=tmp_path)
    with pytest.raises(ConfigError) as caught:
        publish_site(config)
    assert str(caught.value) == (
        "translation provider 'apertium' cannot translate en into sr-Cyrl: apertium writes sr in Latn script only, "
        "not Cyrl"
    )
    assert not list((tmp_path / "feeds").rglob("*.xml"))


# --------------------------------------------------------------------------- web engines and scripts


def test_web_engines_are_asked_for_the_script_of_the_tag() -> None:
    microsoft = web_engine("microsoft", {}, {"MICROSOFT_TRANSLATOR_KEY": "k"})
    assert microsoft.code("sr", target=True) == "sr-Cyrl" and microsoft.code("sr-Latn", target=True) == "sr-Latn"
    assert microsoft.supports("en", "sr-Latn") and microsoft.supports("en", "sr")
    assert web_engine("mymemory", {}, {}).code("sr-Latn", target=True) == "sr-Latn-RS"
    for name in ("google", "libre", "yandex"):
        engine = web_engine(name, {"url": "http://127.0.0.1:9/"} if name == "libre" else {}, {})
        assert engine.supports("en", "sr"), name
        assert not engine.supports("en", "sr-Latn"), name
        assert engine.refusal("en", "sr-Latn") == f"{engine.display_name} writes sr in Cyrl script only, not Latn"
        assert engine.target_code("sr-Cyrl") == "sr"  # the script asked for is the one its plain code writes
    google = web_engine("google", {}, {})
    assert google.supports("en", "zh-Hant") and google.supports("en", "zh")
    # Google's Manipuri is Meitei script; the tag mni means Bengali script: asked for mni-Mtei it is honest
    assert "Mtei script, not Beng" in (google.refusal("en", "mni") or "")
    assert google.supports("en", "mni-Mtei")


def test_providers_shows_the_script_per_language_for_web_engines() -> None:
    result = runner.invoke(app, ["providers"], catch_exceptions=False)
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "sr Cyrl" in lines["microsoft"] and "sr-Latn Latn" in lines["microsoft"]
    assert "sr Cyrl" in lines["google"] and "sr-Latn" not in lines["google"]
    assert "zh-Hant Hant" in lines["google"]


def _libre_site(tmp_path: Path, server_url: str, languages: list[str]) -> Path:
    src = _write_sources(tmp_path)
    config = tmp_path / "syndicate.toml"
    config.write_text(
        f'[site]\ntitle = "Harbour News"\nurl = "https://news.example.org/"\n\n'
        f'[sources]\npaths = ["{src}"]\n\n[output]\ntarget = "feeds"\n\n'
        f'[translation]\nlanguages = {json.dumps(languages)}\nprovider = "libre"\ncache = "cache.sqlite3"\n\n'
        f'[translation.settings.libre]\nurl = "{server_url}"\nlanguages = "en,es,sr"\n',
        encoding="utf-8",
    )
    return config


def test_an_engine_that_cannot_write_the_script_asked_stops_the_run_before_sending(
    tmp_path: Path, server: FakeServer
) -> None:
    config = _libre_site(tmp_path, server.url, ["es", "sr-Latn"])
    result = runner.invoke(app, ["publish", "--config", str(config)])
    assert result.exit_code == ExitCode.USAGE
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "Traceback" not in result.output
    assert "'libre' cannot translate en into sr-Latn: LibreTranslate writes sr in Cyrl script only" in errors[0]
    assert server.hits == 0 and not list((tmp_path / "feeds").rglob("*.xml"))


_TO_CYRILLIC = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "абцдефгхијклмнопљрстувњџызАБЦДЕФГХИЈКЛМНОПЉРСТУВЊЏЫЗ",
)


def _answer(text: str, script: str) -> str:
    """A stand-in translation: each word reversed, in Latin or Cyrillic letters (placeholders kept)."""

    def word(match: re.Match[str]) -> str:
        found = match.group(0)
        if re.fullmatch(r"(?:ZQ|XQ|QZ|QX)[A-Z]{2}Q", found):
            return found
        turned = found[::-1]
        return turned.translate(_TO_CYRILLIC) if script == "Cyrl" else turned

    return re.sub(r"[A-Za-z]+", word, text)


def _microsoft(script_for: dict[str, str]) -> Callable[[Request], Reply]:
    """A Microsoft Translator v3 ``/translate``: answers in the script ``script_for[to]`` says."""

    def reply(request: Request) -> Reply:
        if request.headers.get("Ocp-Apim-Subscription-Key") != "test-key":
            return Reply(status=401, body={"error": {"code": 401000, "message": "no key"}})
        script = script_for[request.params["to"]]
        answers = [_answer(item["text"], script) for item in request.body]
        return Reply(body=[{"translations": [{"text": a, "to": request.params["to"]}]} for a in answers])

    return reply


def _microsoft_site(tmp_path: Path, server_url: str) -> Path:
    src = _write_sources(tmp_path)
    config = tmp_path / "syndicate.toml"
    config.write_text(
        f'[site]\ntitle = "Harbour News"\nurl = "https://news.example.org/"\n\n'
        f'[sources]\npaths = ["{src}"]\n\n[output]\ntarget = "feeds"\n\n'
        f'[translation]\nlanguages = ["sr", "sr-Latn"]\nprovider = "microsoft"\ncache = "cache.sqlite3"\n'
        f"retries = 0\n\n"
        f'[translation.settings.microsoft]\nurl = "{server_url}translate?api-version=3.0"\n',
        encoding="utf-8",
    )
    return config


def test_microsoft_is_asked_for_latin_or_cyrillic_serbian(
    tmp_path: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROSOFT_TRANSLATOR_KEY", "test-key")
    server.default = _microsoft({"sr-Cyrl": "Cyrl", "sr-Latn": "Latn"})
    result = runner.invoke(app, ["publish", "--config", str(_microsoft_site(tmp_path, server.url)), "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    assert {r.params["to"] for r in server.requests} == {"sr-Cyrl", "sr-Latn"}
    assert json.loads(result.stdout)["items"] == {"en": 2, "sr": 2, "sr-Latn": 2}
    latin = " ".join(e.title for e in _entries(tmp_path, "sr-Latn"))
    cyrillic = " ".join(e.title for e in _entries(tmp_path, "sr"))
    assert "yrreF" in latin and not CYRILLIC.search(latin)
    assert "yrreF".translate(_TO_CYRILLIC) in cyrillic and not re.search(r"[A-Za-z]", cyrillic)


def test_an_answer_in_the_wrong_script_is_refused_not_published(
    tmp_path: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROSOFT_TRANSLATOR_KEY", "test-key")
    server.default = _microsoft({"sr-Cyrl": "Cyrl", "sr-Latn": "Cyrl"})  # ignores the script asked for
    config = _microsoft_site(tmp_path, server.url)
    result = runner.invoke(app, ["publish", "--config", str(config), "--json"])
    assert result.exit_code == ExitCode.PARTIAL, result.output
    summary = json.loads(result.stdout)
    assert summary["items"]["sr"] == 2 and summary["items"].get("sr-Latn", 0) == 0
    reasons = [f["reason"] for f in summary["failures"]["sr-Latn"]]
    assert reasons and all(r.startswith("wrong script (Cyrl, but sr-Latn is written in Latn)") for r in reasons)
    latin_dir = tmp_path / "feeds" / "sr-Latn"
    for path in latin_dir.rglob("*"):  # the language switcher names the sr edition "српски", nothing else is Cyrillic
        text = path.read_text(encoding="utf-8").replace('hreflang="sr">српски<', "") if path.is_file() else ""
        assert not CYRILLIC.search(text), path

    server.default = _microsoft({"sr-Cyrl": "Cyrl", "sr-Latn": "Latn"})  # healthy again: nothing bad was cached
    result = runner.invoke(app, ["publish", "--config", str(config), "--json"])
    assert result.exit_code == ExitCode.OK and json.loads(result.stdout)["items"]["sr-Latn"] == 2


def test_the_script_gate_judges_digraphic_languages_only() -> None:
    source = "The ferry line seven is back today after the storm."
    cyrillic = "Трајект линија седам данас поново ради после олује."
    latin = "Trajekt linija sedam danas ponovo radi posle oluje."
    assert (answer_problem(source, cyrillic, source_language="en", target_language="sr-Latn") or "").startswith(
        "wrong script"
    )
    assert (answer_problem(source, latin, source_language="en", target_language="sr") or "").startswith("wrong script")
    assert answer_problem(source, latin, source_language="en", target_language="sr-Latn") is None
    assert answer_problem(source, cyrillic, source_language="en", target_language="sr") is None
    # names in the other script do not make a Cyrillic answer wrong
    named = "Apple и Google објавили iPhone 16 и Pixel 9 данас у Београду."
    assert answer_problem("Apple and Google released iPhone 16 and Pixel 9 today in Belgrade.", named,
                          source_language="en", target_language="sr") is None  # fmt: skip
    # a language of one script is not judged (an engine may keep names in Latin for ru)
    assert answer_problem(source, latin, source_language="en", target_language="ru") is None
