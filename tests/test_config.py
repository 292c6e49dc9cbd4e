"""syndicate.toml parsing, defaults, overrides and config errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syndicate.config import Config, load_config
from syndicate.errors import ConfigError


def test_example_config(seed_config: Config) -> None:
    root = Path(__file__).resolve().parent.parent
    assert seed_config.site.title == "World Desk"
    assert seed_config.site.url == "https://news.example.org/"
    assert seed_config.site.timezone == "Europe/Moscow"
    assert seed_config.site.language == "en"
    assert seed_config.sources.paths == (root / "seeds",)
    assert seed_config.target == root / "feeds"
    assert seed_config.formats == ("rss", "atom", "json")
    assert seed_config.sources.date_for("000_5b913e3cde1239e1.txt") == datetime(
        2025, 4, 14, 10, 46, tzinfo=ZoneInfo("Europe/Moscow")
    )


def test_missing_default_config_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config.target == tmp_path / "feeds"
    assert config.sources.paths == (tmp_path / "seeds",)
    assert config.max_items == 50


def test_cli_overrides_win(seed_config: Config) -> None:
    config = seed_config.with_overrides(
        base_url="https://mirror.example.net/news",
        timezone="America/New_York",
        max_items=3,
        target=Path("out"),
        sources=[Path("a"), Path("b")],
        languages=["pt_BR"],
    )
    assert config.site.url == "https://mirror.example.net/news/"
    assert config.site.timezone == config.sources.timezone == "America/New_York"
    assert config.max_items == 3
    assert config.target == Path("out")
    assert config.sources.paths == (Path("a"), Path("b"))
    assert config.translation.languages == ("pt-BR",)


@pytest.mark.parametrize(
    ("toml", "line", "message"),
    [
        ("[site]\nurl = 'ftp://x'\n", 2, "site URL must be an absolute http(s) URL"),
        ("[site]\ntimezone = 'Mars/Base'\n", 2, "unknown timezone 'Mars/Base'"),
        ("[site]\nlanguage = '../x'\n", 2, "'../x'"),
        ("[output]\nmax_items = 0\n", 2, "output.max_items must be a positive integer"),
        ("[output]\nformats = ['rss', 'pdf']\n", 2, "formats must be some of rss, atom, json"),
        ("[output]\ntypo = 1\n", 2, "[output] unknown key 'typo'"),
        ("[sources.dates]\n'a.txt' = 'someday'\n", 2, "sources.dates.a.txt: not an ISO 8601 date"),
        ("[sources.dates]\n'a.txt' = '0001-01-01T00:00:00+01:00'\n", 2, "sources.dates.a.txt: date out of range"),
        ("[translation]\non_error = 'ignore'\n", 2, "translation.on_error must be one of skip, original"),
        ("site = 3\n", 1, "[site] must be a table"),
        ("[site]\ntitle = 'x'\nnot toml at all\n", 3, "invalid TOML"),
    ],
)
def test_config_errors_name_the_file_and_line(tmp_path: Path, toml: str, line: int, message: str) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == (str(path), line) and message in problem.message


MANY_MISTAKES = """\
[site]
title = "Harbour Desk"
timezone = "europe/oslo"
langauge = "en"

[output]
max_items = 0
formats = ["rss", "pdf"]

[sources.dates]
"a.b.txt" = "someday"

[translaton]
languages = ["es"]
"""


def test_every_problem_of_a_config_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text(MANY_MISTAKES, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    found = [(p.file, p.line, p.message) for p in caught.value.problems]
    assert found == [
        (str(path), 3, "site.timezone: unknown timezone 'europe/oslo': expected an IANA name such as "
                       "'Europe/Moscow' (did you mean 'Europe/Oslo'?)"),
        (str(path), 4, "[site] unknown key 'langauge' (did you mean 'language'?)"),
        (str(path), 7, "output.max_items must be a positive integer, not 0"),
        (str(path), 8, "formats must be some of rss, atom, json, not ['pdf']"),
        (str(path), 11, "sources.dates.a.b.txt: not an ISO 8601 date: 'someday'"),
        (str(path), 13, "unknown key 'translaton' (did you mean 'translation'?)"),
    ]
    message = str(caught.value)
    assert message.startswith(f"{path}: 6 problems: line 3: site.timezone: ") and "\n" not in message


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("Europe/Olso", "Europe/Oslo"), ("America/New_Yrok", "America/New_York"), ("asia/tokyo", "Asia/Tokyo")],
)
def test_a_misspelt_timezone_gets_a_suggestion(tmp_path: Path, name: str, suggestion: str) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text(f'[site]\ntimezone = "{name}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"did you mean '{suggestion}'"):
        load_config(path)


def test_an_unknown_key_far_from_any_lists_the_allowed_ones(tmp_path: Path) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text("[output]\nzzz = 1\n", encoding="utf-8")
    allowed = r"archive, archive_page_size, formats, max_items, pages, sections, target, theme"
    with pytest.raises(ConfigError, match=rf"unknown key 'zzz' \(allowed: {allowed}\)"):
        load_config(path)


def test_an_empty_description_is_allowed_and_none_is_invented(tmp_path: Path) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text('[site]\ndescription = ""\n', encoding="utf-8")
    assert load_config(path).site.description == ""
    path.write_text("[site]\n", encoding="utf-8")
    assert load_config(path).site.description == ""


def test_explicit_missing_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
