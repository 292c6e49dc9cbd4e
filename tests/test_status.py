"""``syndicate status``: the last run's status file judged for monitoring."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import load_config
from syndicate.errors import ConfigError, ExitCode, InputError
from syndicate.pipeline import Stage, publish_site
from syndicate.publish import STATUS_FILE, write_state_file
from syndicate.status import check_status, parse_duration
from tests.test_ops import write_config

runner = CliRunner()
STARTED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def site_dir(site_dir: Path) -> Path:
    write_config(site_dir)  # the source edition only: no translation engine needed
    return site_dir


def _publish(site_dir: Path, clock: datetime = STARTED) -> Path:
    config = load_config(site_dir / "syndicate.toml")
    publish_site(config, stage=Stage(clock=lambda: clock))
    return config.target


def _status(target: Path, **fields: object) -> None:
    doc: dict[str, object] = {
        "time": STARTED.isoformat(timespec="seconds"),
        "outcome": "ok",
        "exit_code": 0,
        "target": str(target),
        "items": {"en": 6},
        "written": 12,
        "unchanged": 0,
        "removed": 0,
        "errors": [],
        "missing": {},
    }
    doc.update(fields)
    data = json.dumps({k: v for k, v in doc.items() if v is not None})  # any document, damaged ones too
    write_state_file(target, STATUS_FILE, data.encode())


# -- parse_duration -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1w", 604800), (" 2H ", 7200)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text", ["", "15", "m", "15 minutes", "1.5h", "-5m", "0m", "15x", "h1", "1h 30", "9" * 30 + "w"]
)
def test_bad_durations_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid duration") as info:
        parse_duration(text)
    assert "\n" not in str(info.value)


# -- check_status -------------------------------------------------------------


def test_after_a_good_publish(site_dir: Path) -> None:
    target = _publish(site_dir)
    report = check_status(target, max_age=timedelta(minutes=15), now=STARTED + timedelta(minutes=3))
    assert report.exit_code == ExitCode.OK
    assert report.problems == []
    assert report.line == "last run 2026-03-01T12:00:00+00:00: ok, 6 items (en 6), 28 written, 3 minutes ago"
    assert report.status["outcome"] == "ok" and report.status["items"] == {"en": 6}


def test_after_a_publish_that_failed_for_bad_input(site_dir: Path) -> None:
    target = _publish(site_dir)
    for page in (site_dir / "seeds").iterdir():
        page.write_bytes(b"\x00")
    with pytest.raises(InputError):
        _publish(site_dir, STARTED + timedelta(hours=1))
    report = check_status(target, max_age=None, now=STARTED + timedelta(hours=1, seconds=5))
    assert report.status["outcome"] == "failed"
    assert report.exit_code == ExitCode.INPUT
    assert report.line.startswith("last run 2026-03-01T13:00:00+00:00: failed (exit 3)")
    assert report.line.endswith("5 seconds ago")
    (problem,) = report.problems
    assert problem.startswith("last run failed (exit 3), nothing was published: ")
    assert "binary file" in problem


@pytest.mark.parametrize("code", [ExitCode.USAGE, ExitCode.INPUT, ExitCode.PUBLISH_FAILED, ExitCode.LOCKED])
def test_a_failed_run_gives_its_own_exit_code(tmp_path: Path, code: ExitCode) -> None:
    _status(tmp_path, outcome="failed", exit_code=int(code), items=None, written=None, errors=["x: it broke"])
    report = check_status(tmp_path, max_age=None, now=STARTED)
    assert report.exit_code == code
    assert report.problems == [f"last run failed (exit {int(code)}), nothing was published: x: it broke"]


def test_failed_outcome_with_exit_code_zero_is_still_a_failure(tmp_path: Path) -> None:
    _status(tmp_path, outcome="failed", exit_code=0, items=None)
    assert check_status(tmp_path, max_age=None, now=STARTED).exit_code == ExitCode.PUBLISH_FAILED


def test_partial_exits_1_and_names_the_missing_translations(tmp_path: Path) -> None:
    titles = [f"Story {i}" for i in range(7)]
    _status(tmp_path, outcome="partial", exit_code=1, items={"en": 6, "es": 4}, missing={"es": titles})
    report = check_status(tmp_path, max_age=timedelta(minutes=15), now=STARTED + timedelta(minutes=1))
    assert report.exit_code == ExitCode.PARTIAL
    assert "partial (exit 1), 10 items (en 6, es 4), 12 written, translations missing: es 7" in report.line
    assert report.problems == []  # published: a warning, as `publish` says it (exit 1 is not a failed unit)
    (warning,) = report.warnings
    assert warning == "es: 7 articles without translation: Story 0; Story 1; Story 2; Story 3; Story 4; ... and 2 more"


def test_published_with_input_errors_lists_them(tmp_path: Path) -> None:
    errors = [f"seeds/bad{i}.txt: empty file" for i in range(7)]
    _status(tmp_path, outcome="input", exit_code=3, errors=errors)
    report = check_status(tmp_path, max_age=None, now=STARTED)
    assert report.exit_code == ExitCode.INPUT
    assert "input (exit 3), 6 items (en 6), 12 written, 7 errors" in report.line
    assert report.problems[:5] == errors[:5]  # as `publish` printed them
    assert report.problems[5:] == ["... and 2 more input errors"]


def test_max_age(tmp_path: Path) -> None:
    _status(tmp_path)
    fresh = check_status(tmp_path, max_age=timedelta(minutes=15), now=STARTED + timedelta(minutes=14, seconds=59))
    assert fresh.exit_code == ExitCode.OK and fresh.problems == []
    stale = check_status(tmp_path, max_age=timedelta(minutes=15), now=STARTED + timedelta(minutes=20))
    assert stale.exit_code == ExitCode.PARTIAL
    assert stale.problems == ["last run 2026-03-01T12:00:00+00:00 is older than 15m (20 minutes ago)"]
    assert stale.line.endswith("20 minutes ago")
    no_limit = check_status(tmp_path, max_age=None, now=STARTED + timedelta(days=400))
    assert no_limit.exit_code == ExitCode.OK and no_limit.line.endswith("400 days ago")


def test_a_stale_failure_keeps_the_failure_code(tmp_path: Path) -> None:
    _status(tmp_path, outcome="failed", exit_code=4, items=None)
    report = check_status(tmp_path, max_age=timedelta(hours=1), now=STARTED + timedelta(hours=2))
    assert report.exit_code == ExitCode.PUBLISH_FAILED
    assert len(report.problems) == 2


def test_a_time_in_the_future_is_not_stale(tmp_path: Path) -> None:
    _status(tmp_path)
    report = check_status(tmp_path, max_age=timedelta(minutes=1), now=STARTED - timedelta(hours=2))
    assert report.exit_code == ExitCode.OK
    assert report.line.endswith("2 hours in the future (clock skew?)")


def test_naive_now_and_naive_time_are_utc(tmp_path: Path) -> None:
    _status(tmp_path, time="2026-03-01T12:00:00")
    report = check_status(tmp_path, max_age=timedelta(minutes=5), now=datetime(2026, 3, 1, 12, 1))
    assert report.exit_code == ExitCode.OK and report.line.endswith("1 minute ago")


def test_missing_status_file(tmp_path: Path) -> None:
    report = check_status(tmp_path, max_age=None)
    assert report.exit_code == ExitCode.PARTIAL and report.status == {}
    assert report.problems == [
        f"{tmp_path}/.syndicate/status.json: no status file (has `syndicate publish` run on this target?)"
    ]


def test_missing_target(tmp_path: Path) -> None:
    report = check_status(tmp_path / "nope", max_age=None)
    assert report.exit_code == ExitCode.PARTIAL
    assert report.problems == [f"{tmp_path}/nope: no such directory (nothing has been published there)"]


@pytest.mark.parametrize(("content", "reason"), [(b"{not json", "damaged status file: "), (b"[1, 2]", "got list")])
def test_damaged_status_file(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / ".syndicate").mkdir()
    (tmp_path / ".syndicate" / "status.json").write_bytes(content)
    report = check_status(tmp_path, max_age=None)
    assert report.exit_code == ExitCode.PARTIAL
    (problem,) = report.problems
    assert reason in problem and "\n" not in problem


def test_unreadable_status_file(tmp_path: Path) -> None:
    (tmp_path / ".syndicate" / "status.json").mkdir(parents=True)  # reading a directory fails for root too
    report = check_status(tmp_path, max_age=None)
    assert report.exit_code == ExitCode.PARTIAL
    assert report.problems == [f"{tmp_path}/.syndicate/status.json: cannot read: Is a directory"]


def test_status_without_time_or_exit_code_is_not_ok(tmp_path: Path) -> None:
    _status(tmp_path, time=None)
    report = check_status(tmp_path, max_age=None)
    assert report.exit_code == ExitCode.PARTIAL
    assert report.line.startswith("last run at an unknown time: ok")
    _status(tmp_path, exit_code="zero")
    report = check_status(tmp_path, max_age=None, now=STARTED)
    assert report.exit_code == ExitCode.PARTIAL
    assert any("no valid 'exit_code'" in p for p in report.problems)


# -- the command --------------------------------------------------------------


def test_cli_after_a_real_publish(site_dir: Path) -> None:
    code, _, err = invoke("publish", "--config", site_dir / "syndicate.toml")
    assert code == 0, err
    feeds = site_dir / "feeds"
    code, out, err = invoke("status", feeds, "--max-age", "15m")
    assert (code, err) == (0, "")
    assert out.startswith("last run ") and ": ok, 6 items (en 6), 28 written, " in out
    assert out.rstrip().endswith(("just now", "seconds ago", "second ago"))
    assert len(out.splitlines()) == 1
    code, out, _ = invoke("status", feeds, "--json")
    assert code == 0
    assert json.loads(out) == json.loads((feeds / ".syndicate" / "status.json").read_text())


def test_cli_stale_and_failed(tmp_path: Path) -> None:
    old = datetime.now(UTC) - timedelta(hours=3)
    _status(tmp_path, time=old.isoformat(timespec="seconds"))
    code, out, err = invoke("status", tmp_path, "--max-age", "15m")
    assert code == ExitCode.PARTIAL
    assert out.rstrip().endswith("3 hours ago")
    assert err == f"syndicate: error: last run {old.isoformat(timespec='seconds')} is older than 15m (3 hours ago)\n"
    assert invoke("status", tmp_path, "--max-age", "4h")[0] == 0
    _status(tmp_path, outcome="failed", exit_code=4, items=None, errors=["feeds/en/rss.xml: cannot write: disk full"])
    code, out, err = invoke("status", tmp_path)
    assert code == ExitCode.PUBLISH_FAILED
    assert err == (
        "syndicate: error: last run failed (exit 4), nothing was published: feeds/en/rss.xml: cannot write: disk full\n"
    )


def test_cli_missing_status_and_bad_duration(tmp_path: Path) -> None:
    code, out, err = invoke("status", tmp_path, "--max-age", "15m")
    assert code == ExitCode.PARTIAL
    assert out == f"{tmp_path}: no run recorded\n"
    assert len(err.splitlines()) == 1 and err.startswith("syndicate: error: ") and "no status file" in err
    code, out, err = invoke("status", tmp_path, "--max-age", "soon")
    assert code == ExitCode.USAGE and out == ""
    assert err == (
        "syndicate: error: invalid duration 'soon': use a number and a unit (s, m, h, d, w), "
        "e.g. 90s, 15m, 2h, 1d, 1h30m\n"
    )
