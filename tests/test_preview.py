"""``syndicate serve`` end to end (issue 14, DESIGN 8): a private local build, rebuilt and reloaded on change."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from syndicate.config import Config, load_config
from syndicate.serve import EVENTS_PATH, Preview

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 60.0  # seconds a rebuild may take on a loaded 2-core machine (it takes well under one)

CONFIG = """\
[site]
title = "Harbour Desk"
url = "https://news.example.org/"
description = "News from the harbour."
timezone = "Europe/Oslo"
language = "en"

[sources]
paths = ["articles"]

[output]
target = "published"
"""

ARTICLE = """\
---
title: {title}
date: 2025-04-1{day}T09:00:00
author: Ada Byline
{extra}---
{body}
"""


def write_article(path: Path, title: str, day: int = 4, body: str = "The ferry runs again.", extra: str = "") -> None:
    path.write_text(ARTICLE.format(title=title, day=day, body=body, extra=extra), encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "syndicate.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "articles").mkdir()
    write_article(tmp_path / "articles" / "ferry.md", "Ferry resumes service", day=4)
    write_article(tmp_path / "articles" / "budget.md", "Harbour budget approved", day=5, body="Votes: 12 to 3.")
    write_article(tmp_path / "articles" / "draft.md", "Unfinished draft story", day=6, extra="draft: true\n")
    return tmp_path


def start(site: Path, **options: object) -> Preview:
    config_path = site / "syndicate.toml"

    def load() -> Config:
        return load_config(config_path)

    preview = Preview(load, config_path=config_path, port=0, interval=0.05, **options)  # type: ignore[arg-type]
    preview.start()
    return preview


@pytest.fixture
def preview(site: Path) -> Iterator[Preview]:
    running = start(site)
    try:
        yield running
    finally:
        running.stop()


def get(preview: Preview, path: str) -> tuple[int, str]:
    port = int(preview.url.rsplit(":", 1)[1].strip("/"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value for key, value in attrs if key in ("href", "src") and value is not None]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def links(page: str) -> Links:
    parser = Links()
    parser.feed(page)
    return parser


def wait_for(predicate: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_every_link_on_every_served_page_is_local(preview: Preview, site: Path) -> None:
    assert preview.url.startswith("http://127.0.0.1:")
    status, home = get(preview, "/")
    assert status == 200
    _, edition = get(preview, "/en/")
    article_links = [h for h in links(edition).hrefs if "/articles/" in h]
    assert len(article_links) == 2  # the draft is left out without --drafts
    _, article = get(preview, article_links[0].removeprefix(preview.url.rstrip("/")))
    for page in (home, edition, article):
        hrefs = links(page).hrefs
        assert hrefs and all(h.startswith(preview.url) for h in hrefs), hrefs
        assert "news.example.org" not in page
    _, feed = get(preview, "/en/rss.xml")
    assert f"<link>{preview.url}en/index.html</link>" in feed and "news.example.org" not in feed
    assert not (site / "published").exists()  # the published target is never touched


def test_only_served_html_gets_the_reload_script(preview: Preview) -> None:
    _, page = get(preview, "/en/index.html")
    assert any(EVENTS_PATH in script for script in links(page).scripts)
    assert page.rstrip().endswith("</html>") and page.index(EVENTS_PATH) < page.rindex("</body>")
    _, feed = get(preview, "/en/feed.json")
    assert EVENTS_PATH not in feed
    on_disk = (preview.directory / "en" / "index.html").read_text(encoding="utf-8")
    assert EVENTS_PATH not in on_disk


def test_a_changed_source_is_rebuilt_and_served(preview: Preview, site: Path) -> None:
    builds = preview.builds
    _, before = get(preview, "/en/")
    assert "Ferry resumes service" in before
    written = preview.directory / "en" / "index.html"
    budget_page = next((preview.directory / "en" / "articles").glob("harbour-budget-approved-*.html"))
    unchanged_mtime = budget_page.stat().st_mtime_ns
    write_article(site / "articles" / "ferry.md", "Ferry service resumes after the storm", day=4)
    wait_for(lambda: "Ferry service resumes after the storm" in get(preview, "/en/")[1], "the rebuilt edition page")
    wait_for(lambda: preview.builds == builds + 1, "the build to finish")
    assert "Ferry service resumes after the storm" in written.read_text(encoding="utf-8")
    assert budget_page.stat().st_mtime_ns == unchanged_mtime  # incremental: an unchanged page is not rewritten


def test_a_changed_config_is_rebuilt_and_a_broken_one_keeps_the_last_build(preview: Preview, site: Path) -> None:
    config = site / "syndicate.toml"
    config.write_text(CONFIG.replace("Harbour Desk", "Quay Desk"), encoding="utf-8")
    wait_for(lambda: "Quay Desk" in get(preview, "/")[1] and preview.builds == 2, "the new site title")
    builds = preview.builds
    config.write_text(CONFIG.replace('timezone = "Europe/Oslo"', 'timezone = "Europe/Olso"'), encoding="utf-8")
    time.sleep(0.5)
    assert preview.builds == builds and "Quay Desk" in get(preview, "/")[1]
    config.write_text(CONFIG.replace("Harbour Desk", "Pier Desk"), encoding="utf-8")
    wait_for(lambda: "Pier Desk" in get(preview, "/")[1], "the fixed config's build")


def test_an_edited_theme_template_is_rebuilt_and_served(site: Path) -> None:
    from syndicate.render.theme import DEFAULT_THEME

    templates = site / "theme" / "templates"
    templates.mkdir(parents=True)
    template = templates / "site.html"
    template.write_text((DEFAULT_THEME / "templates" / "site.html").read_text(encoding="utf-8"), encoding="utf-8")
    config = site / "syndicate.toml"
    config.write_text(CONFIG.replace('target = "published"', 'target = "published"\ntheme = "theme"'), encoding="utf-8")
    preview = start(site)
    try:
        assert "Harbour Desk" in get(preview, "/")[1]
        template.write_text(template.read_text(encoding="utf-8").replace("<main>", "<main><p>Tide tables</p>"))
        wait_for(lambda: "<p>Tide tables</p>" in get(preview, "/")[1], "the page from the edited template")
    finally:
        preview.stop()


def test_a_reload_event_reaches_a_connected_page(preview: Preview, site: Path) -> None:
    port = int(preview.url.rsplit(":", 1)[1].strip("/"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        conn.request("GET", EVENTS_PATH)
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.fp is not None
        assert response.fp.readline() == b"retry: 1000\n"  # connected: now change a source
        write_article(site / "articles" / "budget.md", "Harbour budget approved by council", day=5)
        lines = []
        while not lines or lines[-1] != b"\n" or not any(line.startswith(b"event: ") for line in lines):
            lines.append(response.fp.readline())
        events = [line for line in lines if line.startswith((b"event:", b"data:"))]
        assert events == [b"event: reload\n", f"data: {preview.reloader.generation}\n".encode()]
    finally:
        conn.close()


def test_drafts_are_previewed_when_asked(site: Path) -> None:
    preview = start(site, drafts=True)
    try:
        _, edition = get(preview, "/en/")
        assert "Unfinished draft story" in edition
    finally:
        preview.stop()
    assert not preview.directory.exists()  # the private build is removed when the preview stops


def test_the_command_serves_a_preview_and_stops_on_ctrl_c(site: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Ctrl-C from a terminal: the child must not inherit an ignored SIGINT, as every process started
    # in the background of a non-interactive shell (`cmd &`, a CI script's) does; a handler here
    # becomes the default disposition in the child.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "syndicate", "serve", "--port", "0", "--drafts"],
            cwd=site,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("previewing at http://127.0.0.1:"), line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/en/")
        page = conn.getresponse().read().decode()
        conn.close()
        assert "Unfinished draft story" in page and f"http://127.0.0.1:{port}/en/rss.xml" in page
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert out == "stopped\n"
    assert err.startswith("built in ") and "published 3 items" in err
    assert not (site / "published").exists()


def test_the_command_with_a_broken_config_is_a_usage_error(site: Path) -> None:
    from typer.testing import CliRunner

    from syndicate.cli import app

    (site / "bad.toml").write_text('[site]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["serve", "--config", str(site / "bad.toml"), "--port", "0"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"syndicate: error: {site / 'bad.toml'}:2: site.timezone: unknown timezone")


def test_publish_after_a_theme_edit_is_not_nothing_changed(site: Path) -> None:
    """The unchanged-run shortcut must see theme files too (the preview relies on it, and so does cron)."""
    from syndicate.pipeline import publish_site
    from syndicate.render.theme import DEFAULT_THEME

    template = site / "theme" / "templates" / "site.html"
    template.parent.mkdir(parents=True)
    template.write_text((DEFAULT_THEME / "templates" / "site.html").read_text(encoding="utf-8"), encoding="utf-8")
    config = site / "syndicate.toml"
    config.write_text(CONFIG.replace('target = "published"', 'target = "published"\ntheme = "theme"'), encoding="utf-8")
    publish_site(load_config(config))
    assert publish_site(load_config(config)).written == 0
    template.write_text(template.read_text(encoding="utf-8").replace("<main>", "<main><p>Tide tables</p>"))
    assert publish_site(load_config(config)).written == 1
    assert "<p>Tide tables</p>" in (site / "published" / "index.html").read_text(encoding="utf-8")
