"""``syndicate init`` and ``syndicate new`` (issue 14): valid files, round-tripping values, a working crontab."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import SourceOptions, load_config
from syndicate.errors import ConfigError
from syndicate.scaffold import crontab_line, init_site, launcher_command, new_article
from syndicate.sources import read_articles

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
FIXED = datetime(2025, 4, 14, 7, 46, 30, 123456, tzinfo=UTC)


def clock() -> datetime:
    return FIXED


def front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])  # type: ignore[no-any-return]


def make_site(directory: Path, **values: object) -> Path:
    options: dict[str, object] = {
        "title": "Harbour Desk",
        "url": "https://news.example.org/",
        "timezone": "Europe/Oslo",
        "language": "en",
        "description": None,
        "clock": clock,
        "launcher": "syndicate",
    }
    init_site(directory, **{**options, **values})  # type: ignore[arg-type]
    return directory / "syndicate.toml"


# -- new ----------------------------------------------------------------------


def test_new_writes_front_matter_with_the_date_now_in_the_site_timezone(tmp_path: Path) -> None:
    path = new_article(tmp_path / "seeds", "Straße in København", timezone="Europe/Oslo", clock=clock,
                       language="da", section="Local news")
    assert path == tmp_path / "seeds" / "strasse-in-kobenhavn.md"
    meta = front_matter(path)
    assert meta == {
        "title": "Straße in København",
        "date": "2025-04-14T09:46:30+02:00",
        "slug": "strasse-in-kobenhavn",
        "language": "da",
        "category": "Local news",
    }
    config = load_config(make_site(tmp_path))
    (article,) = [a for a in read_articles(config.sources, "en").articles if a.title == "Straße in København"]
    assert article.published == FIXED.replace(microsecond=0)
    assert (article.slug, article.language, article.category) == ("strasse-in-kobenhavn", "da", "Local news")


def test_new_never_overwrites_and_keeps_slugs_apart(tmp_path: Path) -> None:
    first = new_article(tmp_path, "Budget", timezone="UTC", clock=clock)
    first.write_text(first.read_text() + "Already written.\n")
    second = new_article(tmp_path, "Budget", timezone="UTC", clock=clock, draft=True)
    assert second.name == "budget-2.md"
    assert front_matter(second)["slug"] == "budget-2" and front_matter(second)["draft"] is True
    assert "id" not in front_matter(first) and str(front_matter(second)["id"]).startswith("urn:uuid:")
    assert first.read_text().endswith("Already written.\n")
    # both written in the same second, with the same title: two articles, not one merged duplicate
    first_again = new_article(tmp_path, "Budget", timezone="UTC", clock=clock)
    assert first_again.name == "budget-3.md" and front_matter(first_again)["id"] != front_matter(second)["id"]
    articles = read_articles(SourceOptions(paths=(tmp_path,), drafts=True), "en").articles
    assert sorted(a.slug for a in articles) == ["budget", "budget-2", "budget-3"] and len({a.id for a in articles}) == 3


def test_new_with_quotes_and_a_title_without_letters(tmp_path: Path) -> None:
    path = new_article(tmp_path, 'The "Desk": a: b # c', timezone="UTC", clock=clock)
    assert front_matter(path)["title"] == 'The "Desk": a: b # c'
    bare = new_article(tmp_path, "🎉 🎉", timezone="UTC", clock=clock)
    assert bare.name == "article.md" and "slug" not in front_matter(bare)


@pytest.mark.parametrize(("options", "message"), [
    ({"title": "  "}, "the title must not be empty"),
    ({"language": "xx-invalid-!"}, "invalid language tag"),
    ({"section": " "}, "--section must not be empty"),
])
def test_new_rejects_bad_values(tmp_path: Path, options: dict[str, str], message: str) -> None:
    arguments: dict[str, str] = {"title": "A title", **options}
    title = arguments.pop("title")
    with pytest.raises(ConfigError, match=message):
        new_article(tmp_path, title, timezone="UTC", clock=clock, **arguments)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_new_through_the_cli_prints_the_path_in_the_configured_sources(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site")
    result = CliRunner().invoke(app, ["new", "Ferry resumes", "--section", "Transport", "-c", str(config)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{tmp_path / 'site' / 'seeds' / 'ferry-resumes.md'}\n"
    assert front_matter(tmp_path / "site" / "seeds" / "ferry-resumes.md")["category"] == "Transport"


# -- init ---------------------------------------------------------------------


@pytest.mark.parametrize("title", ['A\nB', 'Le "Desk" \\ d\'été', "Tab\there = [x] # not a comment"])
def test_init_config_round_trips_any_title(tmp_path: Path, title: str) -> None:
    config = make_site(tmp_path, title=title)
    tomllib.loads(config.read_text(encoding="utf-8"))  # valid TOML
    assert load_config(config).site.title == title


def test_init_writes_no_description_of_its_own(tmp_path: Path) -> None:
    config = make_site(tmp_path / "plain", language="es", timezone="Europe/Madrid")
    assert "description" not in tomllib.loads(config.read_text())["site"]
    assert load_config(config).site.description == ""
    given = make_site(tmp_path / "given", language="es", description="Noticias del puerto")
    assert load_config(given).site.description == "Noticias del puerto"


def test_init_without_a_terminal_asks_nothing_and_publishes_no_default_text(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = CliRunner().invoke(app, ["init", str(site), "--language", "es", "--title", "Mesa"], input="")
    assert result.exit_code == 0, result.stderr
    (site / "seeds" / "a.md").write_text("---\ntitle: Hola\ndate: 2025-04-14\n---\nTexto.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["publish", "-c", str(site / "syndicate.toml")])
    assert result.exit_code == 0, result.stderr
    rss = (site / "feeds" / "es" / "rss.xml").read_text(encoding="utf-8")
    assert "Latest articles" not in rss and "<description>Mesa" in rss


def test_init_scaffolds_a_sample_article_and_a_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc", encoding="utf-8")
    make_site(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n# published by `syndicate publish`\n/feeds/\n"
    sample = front_matter(tmp_path / "seeds" / "welcome.md")
    assert sample == {"title": "Welcome to Harbour Desk", "date": "2025-04-14T09:46:30+02:00", "language": "en"}
    articles = read_articles(load_config(tmp_path / "syndicate.toml").sources, "en").articles
    assert [a.title for a in articles] == ["Welcome to Harbour Desk"]
    again = tmp_path / "again"
    again.mkdir()
    (again / ".gitignore").write_text("feeds/\n", encoding="utf-8")
    make_site(again, language="fr")
    assert (again / ".gitignore").read_text() == "feeds/\n"  # already ignored: left alone
    assert front_matter(again / "seeds" / "welcome.md")["draft"] is True  # English text is not a French article


def test_init_refuses_to_overwrite_and_writes_nothing_on_bad_values(tmp_path: Path) -> None:
    make_site(tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        make_site(tmp_path)
    with pytest.raises(ConfigError, match="unknown timezone"):
        make_site(tmp_path / "bad", timezone="Europe/Olso")
    assert not (tmp_path / "bad").exists()


# -- the crontab line -----------------------------------------------------------


def test_launcher_for_each_way_of_starting() -> None:
    assert launcher_command("/usr/lib/python3/site-packages/syndicate/__main__.py", "/opt/py/bin/python3") == (
        "/opt/py/bin/python3 -m syndicate"
    )
    assert launcher_command(str(VENV_BIN / "syndicate")) == str((VENV_BIN / "syndicate").resolve())
    assert crontab_line(Path("/srv/my news"), "/x/syndicate") == (
        "*/5 * * * * cd '/srv/my news' && /x/syndicate publish --quiet"
    )


@pytest.mark.slow
@pytest.mark.parametrize("start", ["console script", "python -m"])
def test_the_printed_crontab_line_runs_under_crons_environment(tmp_path: Path, start: str) -> None:
    command = [str(VENV_BIN / "syndicate")] if start == "console script" else [sys.executable, "-m", "syndicate"]
    site = tmp_path / "my site"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([*command, "init", str(site)], capture_output=True, text=True, env=env, cwd=tmp_path,
                          stdin=subprocess.DEVNULL, check=True)
    line = done.stdout.splitlines()[-1]
    assert line.startswith("*/5 * * * * cd ") and "__main__.py" not in line
    subprocess.run([*command, "new", "Ferry resumes"], env=env, cwd=site, check=True, capture_output=True)
    job = line.split(" ", 5)[5]
    ran = subprocess.run(["/bin/sh", "-c", job], capture_output=True, text=True, env=env, cwd="/")
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")
    assert "Ferry resumes" in (site / "feeds" / "en" / "rss.xml").read_text(encoding="utf-8")
    assert os.path.isfile(site / "feeds" / "en" / "articles" / "ferry-resumes.html")
