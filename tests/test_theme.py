"""Themes (issue 14): Jinja2 templates, overrides from output.theme, the default theme's furniture,
and the pages in a real browser (headless Chromium, when installed; scripts/bootstrap installs it)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import lxml.html
import pytest

from syndicate.config import Config, config_from_mapping
from syndicate.errors import ConfigError, ExitCode
from syndicate.pipeline import publish_site
from syndicate.render.theme import DEFAULT_THEME, TEMPLATES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _theme(tmp_path: Path, templates: dict[str, str], static: dict[str, bytes] | None = None) -> Path:
    theme = tmp_path / "theme"
    (theme / "templates").mkdir(parents=True)
    for name, text in templates.items():
        (theme / "templates" / name).write_text(text, encoding="utf-8")
    for name, data in (static or {}).items():
        (theme / "static" / name).parent.mkdir(parents=True, exist_ok=True)
        (theme / "static" / name).write_bytes(data)
    return theme


def _published(config: Config) -> dict[str, bytes]:
    root = config.target
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_default_theme_ships_every_template() -> None:
    assert all((DEFAULT_THEME / "templates" / name).is_file() for name in TEMPLATES)


def test_a_theme_template_and_static_file_override_the_default(source_only_config: Config, tmp_path: Path) -> None:
    article = (
        '{% extends "base.html" %}{% block main %}<main class="custom"><h1>{{ article.title }}</h1>'
        "{{ article.content }}</main>{% endblock %}"
    )
    theme = _theme(tmp_path, {"article.html": article, "style.css": "body{color:teal}"}, {"logo.svg": b"<svg/>"})
    site = replace(source_only_config.site, logo="https://news.example.org/static/logo.svg")
    config = replace(source_only_config, site=site, theme=theme, target=tmp_path / "feeds")
    assert publish_site(config).exit_code == ExitCode.OK
    files = _published(config)
    assert files["static/logo.svg"] == b"<svg/>"  # published as it is
    page = next(data for name, data in files.items() if name.startswith("en/articles/"))
    doc = lxml.html.fromstring(page)
    assert doc.xpath("//main/@class") == ["custom"]  # the override
    assert "body{color:teal}" in doc.xpath("//style/text()")[0]  # the CSS override reaches base.html
    assert doc.xpath("//header//img/@src") == ["https://news.example.org/static/logo.svg"]
    index = lxml.html.fromstring(files["en/index.html"])
    assert index.xpath("//main/h1")  # the edition template is still the default
    # A changed template re-renders the pages that use it, and only those.
    (theme / "templates" / "style.css").write_text("body{color:navy}", encoding="utf-8")
    summary = publish_site(config)
    assert summary.written > 0 and "body{color:navy}" in (config.target / "en" / "index.html").read_text()


def test_a_broken_user_template_is_a_one_line_config_error(source_only_config: Config, tmp_path: Path) -> None:
    theme = _theme(tmp_path, {"article.html": "{% extends 'base.html' %}{% block main %}{{ article.title"})
    config = replace(source_only_config, theme=theme, target=tmp_path / "feeds")
    with pytest.raises(ConfigError) as caught:
        publish_site(config)
    assert "article.html" in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "feeds" / "index.html").exists()  # nothing published


def test_a_theme_directory_must_exist(tmp_path: Path) -> None:
    raw = {"output": {"theme": "no-such-theme"}}
    config = config_from_mapping(raw, base=tmp_path)
    with pytest.raises(ConfigError, match="no templates/ or static/"):
        from syndicate.render.theme import Theme

        Theme(config.theme)


def test_every_page_has_switcher_subscribe_links_dateline_and_byline(seed_config: Config, tmp_path: Path) -> None:
    config = replace(seed_config, target=tmp_path / "feeds")
    publish_site(config)
    files = _published(config)
    for name, data in files.items():
        if not name.endswith(".html"):
            continue
        doc = lxml.html.fromstring(data)
        assert len(doc.xpath("//nav[@class='languages']//li")) == 3, name  # en, es, ca
        assert doc.xpath("//a[@type='application/rss+xml']/@href"), name
        if "/articles/" in name:
            assert doc.xpath("//p[@class='dateline']/time/@datetime"), name
            assert doc.xpath("//p[@class='byline']/span/text()") == ["World Desk"], name
            title = doc.xpath("//h1/text()")[0]
            assert not title.endswith("…"), name  # the full title on its own page
            # The switcher leads to this article in the other languages, not to their front pages.
            links = doc.xpath("//nav[@class='languages']//a/@href")
            assert all("/articles/" in href for href in links), (name, links)


def _browser(url: str, width: int, script: str) -> lxml.html.HtmlElement:
    """Load ``url`` in headless Chromium at ``width`` px, run ``script`` after load, return the DOM."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", f"--window-size={width},900", "--virtual-time-budget=3000",
                "--dump-dom", url,
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return lxml.html.fromstring(done.stdout)


PROBE = """<script>
addEventListener("load", () => {
  const size = (el) => el ? parseFloat(getComputedStyle(el).fontSize) : 0;
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    h1Visible: !!document.querySelector("h1") && document.querySelector("h1").getBoundingClientRect().width > 0,
    headline: size(document.querySelector(".headline")),
    section: size(document.querySelector("main h2")),
    imageFits: [...document.images].every((img) => img.getBoundingClientRect().right <= window.innerWidth + 1),
  });
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (scripts/bootstrap installs Debian's chromium)")
@pytest.mark.parametrize("page", ["en/articles", "es/index.html", "index.html"])
def test_pages_in_a_real_browser_at_400_px(seed_config: Config, tmp_path: Path, page: str) -> None:
    import json

    config = replace(seed_config, target=tmp_path / "feeds")
    publish_site(config)
    path = next((config.target / page).glob("*.html")) if page.endswith("articles") else config.target / page
    probed = tmp_path / "probe.html"
    probed.write_text(path.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _browser(probed.as_uri(), 400, PROBE)
    result = json.loads(dom.xpath("//pre[@id='probe']/text()")[0])
    assert result["overflow"] <= 0, result  # nothing wider than a 400 px phone screen
    assert result["h1Visible"] and result["imageFits"], result
    if page == "index.html":
        assert result["headline"] < result["section"], result  # headlines smaller than "Latest articles"


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (scripts/bootstrap installs Debian's chromium)")
def test_rich_article_page_in_a_real_browser(tmp_path: Path) -> None:
    """The fixture corpus's tables, code and figures on a 400 px screen: scrolled inside, never the page."""
    import json

    data = Path(__file__).resolve().parent / "data" / "content"
    raw = {
        "site": {"title": "Harbour News", "url": "https://news.example.org/"},
        "sources": {"paths": [str(data)]},
        "output": {"target": str(tmp_path / "feeds")},
        "translation": {"cache": str(tmp_path / "c.sqlite3")},
    }
    config = config_from_mapping(raw, base=tmp_path)
    publish_site(config)
    page = next((config.target / "en" / "articles").glob("harbour-budget*.html"))
    probed = tmp_path / "probe.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _browser(probed.as_uri(), 400, PROBE)
    result = json.loads(dom.xpath("//pre[@id='probe']/text()")[0])
    assert result["overflow"] <= 0, result
    assert dom.xpath("//table//td[text()='12 million']") and dom.xpath("//figure/img/@alt")
