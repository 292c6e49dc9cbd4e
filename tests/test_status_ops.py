"""``syndicate status`` shows what a run survived: WebSub pings that failed (and when they are sent
again) and the inputs it skipped, with the common ``syndicate: error:`` / ``syndicate: warning:``
prefixes; skipped inputs are recorded in status.json and ``publish --json`` (exit code unchanged)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.errors import ExitCode
from syndicate.publish import STATUS_FILE, write_state_file
from tests.libre_server import FakeServer
from tests.test_ops import write_config

runner = CliRunner()
SITE = "https://news.example.org/"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def site(site_dir: Path) -> Path:
    write_config(site_dir)  # the source edition only
    return site_dir


def _closed_port_hub() -> str:
    """A hub URL on 127.0.0.1 where nothing listens (connection refused at once)."""
    fake = FakeServer()
    url = fake.url + "hub"
    fake.httpd.server_close()
    return url


def _with_hub(site: Path, hub: str | None) -> Path:
    config = site / "syndicate.toml"
    text = config.read_text(encoding="utf-8").split("\n[websub]\n")[0]
    if hub is not None:
        text += f'\n[websub]\nhub = "{hub}"\nretries = 0\ntimeout = 5\n'
    config.write_text(text, encoding="utf-8")
    return config


def _warnings(err: str) -> list[str]:
    prefix = "syndicate: warning: "
    assert all(line.startswith(("syndicate: error: ", prefix)) for line in err.splitlines()), err
    return [line.removeprefix(prefix) for line in err.splitlines() if line.startswith(prefix)]


# -- WebSub ---------------------------------------------------------------------


def test_status_names_each_failed_ping_and_when_it_is_sent_again(site: Path) -> None:
    hub = _closed_port_hub()
    config = _with_hub(site, hub)
    code, _, _ = invoke("publish", "--config", config)
    assert code == 0
    feeds = site / "feeds"
    pending = json.loads((feeds / ".syndicate/websub.json").read_text())["pending"]
    assert len(pending) == 15  # 3 formats x (the edition + 4 sections)

    code, out, err = invoke("status", feeds)
    assert code == ExitCode.OK  # a failed ping is never a failed publish
    assert ", WebSub: 15 pings failed, " in out
    warnings = _warnings(err)
    assert len(warnings) == 6 and warnings[-1] == "... and 10 more failed WebSub pings"
    first = pending[0]["url"]
    assert first.startswith(SITE)
    assert warnings[0].startswith(f"WebSub ping to {hub} for {first} failed: connection failed")
    assert all(w.endswith("; sent again on the next publish") for w in warnings[:5])
    status_json = json.loads(invoke("status", feeds, "--json")[1])
    assert len(status_json["websub"]["failed"]) == 15


def test_pings_still_owed_after_a_failed_run_are_shown(site: Path) -> None:
    hub = _closed_port_hub()
    config = _with_hub(site, hub)
    assert invoke("publish", "--config", config)[0] == 0
    for page in (site / "seeds").iterdir():
        page.write_bytes(b"\x00")  # the next run fails before pinging: the pings stay owed
    assert invoke("publish", "--config", config)[0] == ExitCode.INPUT
    code, _, err = invoke("status", site / "feeds")
    assert code == ExitCode.INPUT
    lines = err.splitlines()
    assert lines[0].startswith("syndicate: error: last run failed (exit 3), nothing was published: ")
    warnings = _warnings(err)
    assert warnings[0].endswith(" failed in an earlier run; sent again on the next publish")
    assert warnings[0].startswith(f"WebSub ping to {hub} for {SITE}")
    assert warnings[-1] == "... and 10 more failed WebSub pings"


def test_a_ping_no_longer_owed_says_so(tmp_path: Path) -> None:
    doc = {
        "time": "2026-03-01T12:00:00+00:00", "outcome": "ok", "exit_code": 0, "target": str(tmp_path),
        "items": {"en": 1}, "written": 3, "errors": [], "missing": {},
        "websub": {"sent": 2, "failed": ["https://hub.example/: https://news.example.org/en/rss.xml: HTTP 410"]},
    }  # fmt: skip
    write_state_file(tmp_path, STATUS_FILE, json.dumps(doc).encode())
    code, out, err = invoke("status", tmp_path)
    assert code == 0 and ": ok, 1 item (en 1), 3 written, WebSub: 1 ping failed, " in out  # plurals
    assert err == (
        "syndicate: warning: WebSub ping to https://hub.example/ for https://news.example.org/en/rss.xml failed: "
        "HTTP 410; no longer pending: not sent again\n"
    )


def test_no_hub_no_websub_lines(site: Path) -> None:
    hub = _closed_port_hub()
    config = _with_hub(site, hub)
    assert invoke("publish", "--config", config)[0] == 0
    _with_hub(site, None)  # the hub is dropped: its owed pings are forgotten
    assert invoke("publish", "--config", config)[0] == 0
    code, out, err = invoke("status", site / "feeds")
    assert (code, err) == (0, "") and "WebSub" not in out


# -- skipped inputs ---------------------------------------------------------------


def _skips(site: Path, outside: Path) -> list[dict[str, str]]:
    os.mkfifo(site / "seeds" / "pipe.md")
    outside.mkdir()
    (outside / "secret.md").write_text("---\ntitle: Not ours\n---\n\nText.\n", encoding="utf-8")
    (site / "seeds" / "secret.md").symlink_to(outside / "secret.md")
    return [
        {"path": str(site / "seeds" / "pipe.md"), "reason": "not a regular file (a FIFO); never opened"},
        {
            "path": str(site / "seeds" / "secret.md"),
            "reason": f"symlink to {outside / 'secret.md'}, outside the source directories",
        },
    ]


@pytest.mark.parametrize("strict", [False, True])
def test_skipped_inputs_are_recorded_and_shown_exit_0(site: Path, tmp_path: Path, strict: bool) -> None:
    expected = _skips(site, tmp_path / "outside")
    code, out, err = invoke("publish", "--config", site / "syndicate.toml", "--json", *(["--strict"] * strict))
    assert code == ExitCode.OK  # a skip is a warning, with or without --strict
    report = json.loads(out)
    assert report["skipped"] == expected and report["outcome"] == "ok" and report["errors"] == []
    assert err.splitlines() == [f"syndicate: warning: {e['path']}: skipped: {e['reason']}" for e in expected]
    feeds = site / "feeds"
    assert json.loads((feeds / ".syndicate/status.json").read_text())["skipped"] == expected

    code, out, err = invoke("status", feeds)
    assert code == ExitCode.OK
    assert ", 2 inputs skipped" in out
    assert _warnings(err) == [f"{e['path']}: skipped: {e['reason']}" for e in expected]
    assert json.loads(invoke("status", feeds, "--json")[1])["skipped"] == expected


def test_the_summary_line_counts_skips_and_a_no_op_rerun_still_records_them(site: Path, tmp_path: Path) -> None:
    expected = _skips(site, tmp_path / "outside")
    config = site / "syndicate.toml"
    code, out, _ = invoke("publish", "--config", config)
    assert code == 0 and out.rstrip().endswith("; 2 inputs skipped")
    code, out, err = invoke("publish", "--config", config, "--json")  # nothing changed: the no-op path
    assert code == 0 and json.loads(out)["written"] == 0
    assert json.loads(out)["skipped"] == expected
    assert len(err.splitlines()) == 2 and "pipe.md: skipped: " in err  # warned on the no-op path too
    (site / "seeds" / "pipe.md").unlink()
    (site / "seeds" / "secret.md").unlink()
    assert invoke("publish", "--config", config)[0] == 0
    assert "skipped" not in json.loads((site / "feeds/.syndicate/status.json").read_text())
    code, out, err = invoke("status", site / "feeds")
    assert (code, err) == (0, "") and "skipped" not in out


def test_many_skips_are_capped_in_status(tmp_path: Path) -> None:
    rows = [{"path": f"seeds/p{i}.md", "reason": "not a regular file (a FIFO); never opened"} for i in range(7)]
    doc = {"time": "2026-03-01T12:00:00+00:00", "outcome": "ok", "exit_code": 0, "items": {"en": 1}, "skipped": rows}
    write_state_file(tmp_path, STATUS_FILE, json.dumps(doc).encode())
    code, out, err = invoke("status", tmp_path)
    assert code == 0 and ", 7 inputs skipped" in out
    warnings = _warnings(err)
    assert warnings[:5] == [f"seeds/p{i}.md: skipped: not a regular file (a FIFO); never opened" for i in range(5)]
    assert warnings[5:] == ["... and 2 more inputs skipped"]
