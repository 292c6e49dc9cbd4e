"""WebSub (DESIGN 9): rel="hub" in every subscription feed, and publish pings to a real hub on 127.0.0.1.

The hub is tests/libre_server.FakeServer answering 202 and recording every
request it gets; "down" is a closed port (connection refused), a hub
answering 503, or one that accepts the request and never answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import load_config
from syndicate.errors import ConfigError
from syndicate.pipeline import publish_site
from tests.libre_server import FakeServer, Reply, Request

FEEDS = ("en/rss.xml", "en/atom.xml", "en/feed.json")
NAMES = ("rss.xml", "atom.xml", "feed.json")
SITE = "https://news.example.org/"


def _accept(request: Request) -> Reply:
    return Reply(status=202, body="")


def _serve(fake: FakeServer) -> threading.Thread:
    thread = threading.Thread(target=fake.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def hub() -> Iterator[FakeServer]:
    fake = FakeServer()
    fake.default = _accept
    _serve(fake)
    yield fake
    fake.release.set()
    fake.httpd.shutdown()
    fake.httpd.server_close()


def _configure(site_dir: Path, *hubs: str, extra: str = "") -> Path:
    config = site_dir / "syndicate.toml"
    listed = ", ".join(json.dumps(h) for h in hubs)
    config.write_text(config.read_text() + f"\n[websub]\nhub = [{listed}]\n{extra}", encoding="utf-8")
    return config


def _subscription_feeds(target: Path) -> list[str]:
    """URLs of every feed readers subscribe to: the edition's and its sections' (the seed has 4)."""
    found = [p.relative_to(target).as_posix() for p in target.rglob("*") if p.name in NAMES]
    urls = sorted(SITE + rel for rel in found if "/archive/" not in rel)
    assert len(urls) == 3 * 5
    return urls


def _pings(fake: FakeServer) -> list[dict[str, str]]:
    return [r.params for r in fake.requests if r.method == "POST"]


def _publish(config: Path) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(app, ["publish", "--config", str(config), "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_every_feed_names_the_hubs_next_to_self(site_dir: Path, hub: FakeServer) -> None:
    second = "https://hub.example.net/"
    config = _configure(site_dir, hub.url + "hub", second)
    publish_site(load_config(config))
    feeds = site_dir / "feeds"
    for path in ("en/rss.xml", "en/atom.xml"):
        parsed = feedparser.parse((feeds / path).read_bytes())
        assert not parsed.bozo
        rels = [(link.rel, link.href) for link in parsed.feed.links]
        self_at = rels.index(("self", SITE + path))
        assert rels[self_at + 1 : self_at + 3] == [("hub", hub.url + "hub"), ("hub", second)]
    doc = json.loads((feeds / "en/feed.json").read_bytes())
    assert doc["hubs"] == [{"type": "WebSub", "url": hub.url + "hub"}, {"type": "WebSub", "url": second}]


def test_one_ping_per_changed_feed_and_none_on_a_no_op_run(site_dir: Path, hub: FakeServer) -> None:
    config = _configure(site_dir, hub.url + "hub")
    code, summary = _publish(config)
    assert code == 0
    pings = _pings(hub)
    feeds = _subscription_feeds(site_dir / "feeds")
    assert sorted(p["hub.url"] for p in pings) == feeds  # each exactly once
    assert {p["hub.mode"] for p in pings} == {"publish"}
    assert {r.path for r in hub.requests} == {"/hub"}
    assert all(r.headers["Content-Type"] == "application/x-www-form-urlencoded" for r in hub.requests)
    assert summary["websub"] == {"sent": len(feeds), "failed": []}

    code, summary = _publish(config)  # nothing changed: no ping
    assert code == 0
    assert len(hub.requests) == len(feeds)
    assert summary["websub"] == {"sent": 0, "failed": []}

    # A new article (without a category: in no section) changes the edition's feeds: one more ping each.
    (site_dir / "seeds" / "late.md").write_text(
        "---\ntitle: A late story\ndate: 2025-04-15T09:00:00Z\n---\n\nIt happened late.\n", encoding="utf-8"
    )
    code, summary = _publish(config)
    assert code == 0
    assert sorted(p["hub.url"] for p in _pings(hub)[len(feeds) :]) == sorted(SITE + f for f in FEEDS)


def test_a_hub_that_is_down_is_reported_and_pinged_on_the_next_run(site_dir: Path) -> None:
    fake = FakeServer()
    fake.default = _accept
    port = fake.httpd.server_address[1]
    fake.httpd.server_close()  # nothing listens there: connection refused
    config = _configure(site_dir, fake.url + "hub", extra="retries = 0\n")

    result = CliRunner().invoke(app, ["publish", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0
    feeds = _subscription_feeds(site_dir / "feeds")
    assert f"WebSub: {len(feeds)} pings failed (sent again next run)" in result.stdout
    status = json.loads((site_dir / "feeds/.syndicate/status.json").read_text())
    assert status["outcome"] == "ok"
    failed = status["websub"]["failed"]
    assert len(failed) == len(feeds) and all(line.startswith(fake.url + "hub: ") for line in failed)
    assert any("connection failed" in line for line in failed)

    fake.httpd = ThreadingHTTPServer(("127.0.0.1", port), fake._handler())  # the hub is back
    fake.httpd.daemon_threads = True
    _serve(fake)
    try:
        code, summary = _publish(config)  # nothing changed, but the pings are owed
        assert code == 0
        assert summary["websub"] == {"sent": len(feeds), "failed": []}
        assert sorted(p["hub.url"] for p in _pings(fake)) == feeds
        assert not (site_dir / "feeds/.syndicate/websub.json").exists()
        _publish(config)
        assert len(fake.requests) == len(feeds)  # delivered once, not again
    finally:
        fake.httpd.shutdown()
        fake.httpd.server_close()


def test_a_failing_hub_is_cut_off_after_three_failures(site_dir: Path, hub: FakeServer) -> None:
    hub.default = lambda request: Reply(status=503, body="busy")
    config = _configure(site_dir, hub.url + "hub", extra="retries = 1\n")
    code, summary = _publish(config)
    assert code == 0
    assert len(hub.requests) == 3  # 2 attempts for the first feed, 1 for the second, then the breaker
    failed = summary["websub"]["failed"]  # type: ignore[index]
    assert len(failed) == 15  # every feed's ping failed, and is kept for the next run
    assert "server error" in failed[0] and all("cut off" in line for line in failed[2:])


def test_a_hub_that_never_answers_is_cut_by_the_deadline(site_dir: Path, hub: FakeServer) -> None:
    hub.default = lambda request: Reply(status=202, body="", delay=60)  # 120x the deadline
    config = _configure(site_dir, hub.url + "hub", extra="timeout = 0.5\nretries = 0\n")
    code, summary = _publish(config)
    assert code == 0
    failed = summary["websub"]["failed"]  # type: ignore[index]
    assert len(failed) == 15 and all("timed out" in line for line in failed[:3])
    assert len(hub.requests) == 3  # then the breaker: 3 deadlines, not 15


def test_a_hub_refusing_a_topic_is_not_retried(site_dir: Path, hub: FakeServer) -> None:
    hub.default = lambda request: Reply(status=400, body="unknown topic")
    config = _configure(site_dir, hub.url + "hub", extra="retries = 2\n")
    _, summary = _publish(config)
    assert len(hub.requests) == 3  # one attempt each (a 4xx is not transient), then the breaker
    assert all(line.endswith("HTTP 400") for line in summary["websub"]["failed"][:3])  # type: ignore[index]


@pytest.mark.parametrize(
    "value", ['"ftp://hub.example.org/"', '"hub.example.org"', "[1]", '"https://hub.example.org/#x"']
)
def test_bad_hub_is_a_config_error(tmp_path: Path, value: str) -> None:
    config = tmp_path / "syndicate.toml"
    config.write_text(f"[websub]\nhub = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"syndicate\.toml:1: websub\.hub must be"):
        load_config(config)


def test_without_hubs_no_hub_link_and_no_websub_report(site_dir: Path) -> None:
    summary = publish_site(load_config(site_dir / "syndicate.toml"))
    assert "websub" not in summary.as_dict()
    assert b'rel="hub"' not in (site_dir / "feeds/en/atom.xml").read_bytes()
    assert b'"hubs"' not in (site_dir / "feeds/en/feed.json").read_bytes()


def test_a_preview_never_pings_the_hub(site_dir: Path, hub: FakeServer) -> None:
    from syndicate.serve import Preview

    config = _configure(site_dir, hub.url + "hub")
    preview = Preview(lambda: load_config(config), config_path=config, port=0, interval=0.05)
    preview.start()
    try:
        atom = (preview.directory / "en/atom.xml").read_bytes()
    finally:
        preview.stop()
    assert hub.requests == []
    assert b'rel="hub"' not in atom
