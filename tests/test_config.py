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
    ("toml", "message"),
    [
        ("[site]\nurl = 'ftp://x'\n", "site URL must be an absolute http(s) URL"),
        ("[site]\ntimezone = 'Mars/Base'\n", "unknown timezone 'Mars/Base'"),
        ("[site]\nlanguage = '../x'\n", "'../x'"),
        ("[output]\nmax_items = 0\n", "output.max_items must be a positive integer"),
        ("[output]\nformats = ['rss', 'pdf']\n", "formats must be some of rss, atom, json"),
        ("[output]\ntypo = 1\n", "[output] unknown key 'typo'"),
        ("[sources.dates]\n'a.txt' = 'someday'\n", "sources.dates.a.txt: not an ISO 8601 date"),
        ("[sources.dates]\n'a.txt' = '0001-01-01T00:00:00+01:00'\n", "sources.dates.a.txt: date out of range"),
        ("[translation]\non_error = 'ignore'\n", "translation.on_error must be one of skip, original"),
        ("site = 3\n", "[site] must be a table"),
        ("not toml at all\n", "invalid TOML"),
    ],
)
def test_config_errors_name_the_file(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_explicit_missing_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
