"""Front matter ``id`` (syndicate/sources/ids.py) and ``syndicate new`` twice with one title in one
second: two articles with two ids in every feed, never merged as duplicates."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import feedparser  # type: ignore[import-untyped, unused-ignore]
import pytest
import yaml
from typer.testing import CliRunner

from syndicate import pipeline
from syndicate.cli import app
from syndicate.config import SourceOptions
from syndicate.errors import InputError
from syndicate.scaffold import init_site
from syndicate.sources import read_articles, read_file
from syndicate.sources.common import NAMESPACE, article_id

runner = CliRunner()
FIXED = datetime(2025, 4, 14, 7, 46, 30, 250000, tzinfo=UTC)
DATA = Path(__file__).resolve().parent / "data" / "content"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def front_matter(path: Path) -> dict[str, object]:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])  # type: ignore[no-any-return]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    init_site(
        tmp_path, title="Harbour Desk", url="https://news.example.org/", timezone="Europe/Oslo", language="en",
        description=None, clock=lambda: FIXED, launcher="syndicate",
    )  # fmt: skip
    (tmp_path / "seeds" / "welcome.md").unlink()
    return tmp_path


def test_new_twice_in_one_second_gives_two_articles(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "utc_now", lambda: FIXED)  # both in the same second, whatever the machine's speed
    config = site / "syndicate.toml"
    paths = []
    for body in ("The first budget story.", "The second budget story."):
        code, out, err = invoke("new", "Budget", "--config", config)
        assert code == 0, err
        path = Path(out.strip())
        path.write_text(path.read_text(encoding="utf-8") + body + "\n", encoding="utf-8")
        paths.append(path)
    assert [p.name for p in paths] == ["budget.md", "budget-2.md"]
    first, second = (front_matter(p) for p in paths)
    assert "id" not in first and first["date"] == second["date"] == "2025-04-14T09:46:30+02:00"
    assert second["slug"] == "budget-2"
    assert second["id"] == uuid.uuid5(NAMESPACE, "new|2025-04-14T09:46:30+02:00|budget-2.md").urn

    code, out, err = invoke("publish", "--config", config, "--json")
    assert code == 0, err
    assert json.loads(out)["items"] == {"en": 2}
    feed = feedparser.parse((site / "feeds" / "en" / "atom.xml").read_bytes())
    entries = {e.id: e for e in feed.entries}
    published_at = datetime(2025, 4, 14, 7, 46, 30, tzinfo=UTC)
    assert set(entries) == {article_id("Budget", published_at), second["id"]}
    assert sorted(e.summary for e in entries.values()) == ["The first budget story.", "The second budget story."]
    assert sorted(e.link.rsplit("/", 1)[-1] for e in entries.values()) == ["budget-2.html", "budget.html"]
    rss = feedparser.parse((site / "feeds" / "en" / "rss.xml").read_bytes())
    assert {e.id for e in rss.entries} == set(entries)


def _read(tmp_path: Path, value: str) -> str:
    path = tmp_path / "a.md"
    path.write_text(f"---\ntitle: Budget\ndate: 2025-04-14T09:46:30Z\nid: {value}\n---\n\nText.\n", encoding="utf-8")
    (article,) = read_file(path, str(path), "a.md", SourceOptions(paths=(tmp_path,)), "en")
    return article.id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tag:news.example.org,2025:budget", "tag:news.example.org,2025:budget"),
        ('"https://news.example.org/a?x=1&y=2"', "https://news.example.org/a?x=1&y=2"),
        ("URN:UUID:6F1D8C1E-5B7A-4C0E-9F3A-2D4B8E7C9A10", "urn:uuid:6f1d8c1e-5b7a-4c0e-9f3a-2d4b8e7c9a10"),
        ("budget-2", uuid.uuid5(NAMESPACE, "id|budget-2").urn),
        ("42", uuid.uuid5(NAMESPACE, "id|42").urn),
        ('"two words"', uuid.uuid5(NAMESPACE, "id|two words").urn),
    ],
)
def test_an_iri_is_kept_anything_else_is_a_deterministic_urn_uuid(tmp_path: Path, value: str, expected: str) -> None:
    assert _read(tmp_path, value) == expected
    assert _read(tmp_path, value) == expected  # the same text, the same id, every run


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[1, 2]", "id must be text (a string), not a list"),
        ("true", "id must be text (a string), not true/false"),
        ('""', "id must not be empty"),
        ("urn:uuid:not-a-uuid", "id 'urn:uuid:not-a-uuid' is not a valid urn:uuid"),
        ('"http://[::1"', "id 'http://[::1' is not a valid URL"),
        ('"a\\u0007b"', "id: control character U+0007 is not allowed in XML"),
        ("x" * 1001, "id is too long (1001 characters; at most 1000)"),
    ],
)
def test_a_bad_id_is_a_one_line_error_naming_the_file(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        _read(tmp_path, value)
    assert str(info.value).startswith(f"{tmp_path / 'a.md'}: {message}") and "\n" not in str(info.value)


def test_a_bad_id_through_the_cli_is_exit_3_and_one_line(site: Path) -> None:
    bad = site / "seeds" / "bad.md"
    bad.write_text("---\ntitle: Bad\nid: [1, 2]\n---\n\nText.\n", encoding="utf-8")
    (site / "seeds" / "good.md").write_text("---\ntitle: Good\ndate: 2025-04-14\n---\n\nText.\n", encoding="utf-8")
    code, out, err = invoke("publish", "--config", site / "syndicate.toml")
    assert code == 3 and out.startswith("published 1 item (en 1)")
    assert err == f"syndicate: error: {bad}: id must be text (a string), not a list\n"


def test_an_iri_id_in_every_feed_and_a_safe_slug(tmp_path: Path) -> None:
    for name, title in (("a.md", "Same title"), ("b.md", "Same title")):
        (tmp_path / name).write_text(
            f"---\ntitle: {title}\ndate: 2025-04-14T09:46:30Z\nid: https://news.example.org/{name}/x\n---\n\nT.\n",
            encoding="utf-8",
        )
    articles = read_articles(SourceOptions(paths=(tmp_path,)), "en").articles
    assert sorted(a.id for a in articles) == ["https://news.example.org/a.md/x", "https://news.example.org/b.md/x"]
    slugs = [a.slug for a in articles]
    assert len(set(slugs)) == 2 and all("/" not in s and ":" not in s for s in slugs)


def test_a_json_id_is_not_taken_published_ids_stay(tmp_path: Path) -> None:
    """JSON Feed items carry `id` too; honouring it would change every published id of a JSON source."""
    options = SourceOptions(paths=(DATA,), base_url="https://news.example.org/")
    (article,) = read_file(DATA / "rich.json", "rich.json", "rich.json", options, "en")
    assert json.loads((DATA / "rich.json").read_text(encoding="utf-8"))["id"] == "harbour-json"
    assert article.id == article_id(article.title, article.published, "https://news.example.org/2025/06/ferry/")
