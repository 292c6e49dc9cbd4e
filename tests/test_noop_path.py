"""The no-op rerun (issue 13 (c)): a cron run with nothing changed stops after the status file, the
run fingerprint and one ``lstat`` per published file, and says what the last run said.

What it must still see: a changed input, a changed config, a deleted or replaced output
file (each makes the run a real one, which repairs the target); what it must still
report: the last run's exit code, missing titles and their reasons.  What it must not
do: read the 40,000-entry manifest (the stamps file answers, bound to the manifest's
``stat``), or import the renderer, the readers or any other heavy library, typer included
(checked in a real ``syndicate publish`` process).  Real apertium for the partial run; real files.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import syndicate.publish as publish_module
from syndicate.config import Config, SourceOptions, load_config
from syndicate.errors import ExitCode, PublishError
from syndicate.incremental import theme_digest
from syndicate.pipeline import RunSummary, Stage, publish_site
from syndicate.sources import list_inputs
from tests.conftest import ROOT, SEEDS
from tests.helpers import run_fresh, tree_digest

needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")
GIBBERISH = (
    "---\ntitle: The zorblax quindled the frumptious wobblegarns\ndate: 2025-04-16T09:00:00+03:00\n---\n"
    "The zorblax quindled the frumptious wobblegarns near Vextrolia. Blenzik morphs the quandrel.\n"
)
NEW = "---\ntitle: The embassies reopen\ndate: 2025-04-15T09:00:00+03:00\n---\nThe two sides met again.\n"
# Never imported by a no-op run (the renderer, the readers, the network and display stacks, and the
# command-line framework: a plain publish line is parsed by syndicate.launch).
HEAVY = ("jinja2", "feedgen", "lxml", "nh3", "markdown_it", "requests", "rich", "frontmatter", "yaml", "typer",
         "pydantic", "pydantic_core", "click")  # fmt: skip


def _site(tmp_path: Path, languages: str = "") -> Path:
    """A site directory (seeds/, syndicate.toml; feeds/ is the target); ``languages``: translation languages."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    text = (ROOT / "syndicate.toml").read_text(encoding="utf-8")
    text = text.replace('languages = ["es", "ca"]', f'languages = [{languages}]\ncache = "cache/t.sqlite3"')
    toml = tmp_path / "syndicate.toml"
    toml.write_text(text, encoding="utf-8")
    return toml


class ManifestReads:
    """How many times the run read the manifest (the no-op path reads the stamps instead)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = publish_module._read_manifest

        def counted(state: Path, target: Path) -> publish_module.Manifest:
            self.count += 1
            return real(state, target)

        monkeypatch.setattr(publish_module, "_read_manifest", counted)


def _run(config: Config) -> RunSummary:
    return publish_site(config, stage=Stage())


def _outputs(config: Config) -> dict[str, tuple[str, int]]:
    return {k: v for k, v in tree_digest(config.target).items() if not k.startswith(".syndicate/")}


@pytest.fixture
def site(tmp_path: Path) -> Config:
    """The seeds in English only, published once."""
    config = load_config(_site(tmp_path))
    first = _run(config)
    assert first.exit_code == ExitCode.OK and first.written > 0
    return config


def test_nothing_changed_takes_the_no_op_path_without_reading_the_manifest(
    site: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _outputs(site)
    reads = ManifestReads(monkeypatch)
    again = _run(site)
    assert reads.count == 0  # the stamps answered
    assert again.written == 0 and again.unchanged == len(before) and again.exit_code == ExitCode.OK
    assert _outputs(site) == before  # same bytes, same mtimes


def test_a_changed_input_makes_a_real_run(site: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    (site.sources.paths[0] / "new.md").write_text(NEW, encoding="utf-8")
    reads = ManifestReads(monkeypatch)
    again = _run(site)
    assert reads.count == 1  # read once, by the real run
    assert again.written > 0 and again.items["en"] == 7
    assert "The embassies reopen" in (site.target / "en" / "rss.xml").read_text(encoding="utf-8")
    edited = site.sources.paths[0] / "new.md"
    edited.write_text(NEW.replace("The two sides met again.", "The two sides met twice."), encoding="utf-8")
    third = _run(site)  # the same size: the mtime tells
    assert third.written > 0 and "met twice" in (site.target / "en" / "feed.json").read_text(encoding="utf-8")


def test_a_deleted_output_file_makes_a_real_run_that_restores_it(site: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _outputs(site)
    page = next((site.target / "en" / "articles").iterdir())
    page.unlink()
    reads = ManifestReads(monkeypatch)
    again = _run(site)
    assert reads.count == 1  # the stamps said "not intact": the real run reads the manifest, once
    assert again.written == 1 and page.is_file()
    rel = page.relative_to(site.target).as_posix()
    assert _outputs(site)[rel][0] == before[rel][0]  # the same bytes again


@pytest.mark.parametrize("how", ["replaced, same size", "edited in place, same size", "a symlink", "a directory"])
def test_a_replaced_output_file_makes_a_real_run_that_repairs_it(site: Config, how: str) -> None:
    feed = site.target / "en" / "rss.xml"
    good = feed.read_bytes()
    bad = good.replace(b"World Desk", b"World Dusk", 1)
    assert len(bad) == len(good) and bad != good
    if how == "replaced, same size":
        temp = feed.with_name("rss.xml.new")
        temp.write_bytes(bad)
        os.replace(temp, feed)
    elif how == "edited in place, same size":
        with open(feed, "r+b") as fh:
            fh.write(bad)
    elif how == "a symlink":
        (site.target / "elsewhere.xml").write_bytes(good)
        feed.unlink()
        feed.symlink_to(site.target / "elsewhere.xml")
    else:
        feed.unlink()
        feed.mkdir()
    again = _run(site) if how != "a directory" else None
    if again is None:  # publish refuses to replace a directory it did not make: the run must not be a no-op
        with pytest.raises(PublishError, match=r"rss\.xml"):
            _run(site)
        return
    assert again.written == 1 and not feed.is_symlink()
    assert feed.read_bytes() == good


def test_a_changed_config_makes_a_real_run(site: Config) -> None:
    again = _run(replace(site, max_items=2))
    assert again.written > 0 and again.items == {"en": 2}
    retitled = _run(replace(site, site=replace(site.site, title="Night Desk")))
    assert retitled.written > 0 and "Night Desk" in (site.target / "en" / "atom.xml").read_text(encoding="utf-8")


def test_stale_damaged_or_missing_stamps_mean_reading_the_manifest(
    site: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target published by an older syndicate has no stamps; a manifest rewritten since the stamps
    (by any writer) makes them stale: the no-op check then reads the manifest and writes them anew."""
    state = site.target / ".syndicate"
    stamps = state / "stamps"
    good = stamps.read_bytes()
    reads = ManifestReads(monkeypatch)
    for spoil in ("missing", "stale", "damaged"):
        if spoil == "missing":
            stamps.unlink()
        elif spoil == "stale":  # the same records, rewritten (as an older syndicate would): another inode
            manifest = state / "manifest.json"
            data = manifest.read_bytes()
            manifest.unlink()
            manifest.write_bytes(data)
        else:
            stamps.write_bytes(good[: len(good) // 2])
        count = reads.count
        again = _run(site)
        assert reads.count == count + 1, spoil  # the manifest was read for the check
        assert again.written == 0 and again.exit_code == ExitCode.OK, spoil  # still a no-op
        _run(site)
        assert reads.count == count + 1, spoil  # and the stamps were written again: the next run needs none
    (site.target / "en" / "index.html").unlink()  # the rewritten stamps still notice a deleted file
    assert _run(site).written == 1


@needs_apertium
def test_the_no_op_path_reports_the_last_runs_exit_1_and_missing_titles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = _site(tmp_path, '"es"')
    (tmp_path / "seeds" / "gibberish.md").write_text(GIBBERISH, encoding="utf-8")
    first = _run(load_config(toml))
    assert first.exit_code == ExitCode.PARTIAL
    title = "The zorblax quindled the frumptious wobblegarns"
    assert first.missing == {"es": (title,)} and first.reasons["es"][title].startswith("unknown words")

    reads = ManifestReads(monkeypatch)
    again = _run(load_config(toml))
    assert reads.count == 0  # the no-op path
    assert again.exit_code == ExitCode.PARTIAL and again.written == 0
    assert again.missing == first.missing and again.reasons == first.reasons
    assert again.line().split("; translations missing: ")[1] == first.line().split("; translations missing: ")[1]
    status = json.loads((tmp_path / "feeds" / ".syndicate" / "status.json").read_text(encoding="utf-8"))
    assert status["exit_code"] == 1 and status["missing"] == {"es": [title]}
    assert status["failures"] == first.report()["failures"]

    done = _cli_modules(tmp_path, toml)  # the same through the command line, in a process of its own
    assert done["code"] == 1 and done["report"]["failures"] == first.report()["failures"]
    assert done["report"]["written"] == 0
    assert not [m for m in done["modules"] if m.split(".")[0] in HEAVY]
    assert "syndicate.render" not in done["modules"] and "syndicate.sources.markdown" not in done["modules"]


def test_a_no_op_process_imports_no_heavy_module(tmp_path: Path) -> None:
    """Without translation nothing of SQLite either; the listing, the fingerprint and the check alone."""
    toml = _site(tmp_path)
    assert _cli_modules(tmp_path, toml)["report"]["written"] > 0  # the first run is a real one
    done = _cli_modules(tmp_path, toml)
    assert done["code"] == 0 and done["report"]["written"] == 0 and done["report"]["unchanged"] > 0
    heavy = [m for m in done["modules"] if m.split(".")[0] in (*HEAVY, "sqlite3", "_sqlite3")]
    assert heavy == []
    lazy = ("syndicate.render", "syndicate.translate", "syndicate.sources.markdown", "syndicate.sources.pagetext")
    assert [m for m in done["modules"] if m.startswith(lazy)] == []


def _cli_modules(cwd: Path, toml: Path) -> dict[str, object]:
    """Run ``syndicate publish --json`` in a fresh interpreter; its exit code, report and every module it imported."""
    code, out, _, modules = run_fresh(cwd, "publish", "--config", str(toml), "--json")
    return {"code": code, "modules": modules, "report": json.loads(out)}


def test_the_theme_digest_of_the_fingerprint_is_the_renderers(tmp_path: Path) -> None:
    from syndicate.errors import ConfigError
    from syndicate.render.theme import Theme, load_theme

    theme = tmp_path / "theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "templates" / "item.html").write_text("<li>{{ item.title }}</li>\n", encoding="utf-8")
    assert theme_digest(None) == load_theme(None).digest
    assert theme_digest(theme) == Theme(theme).digest != theme_digest(None)
    (theme / "templates" / "item.html").write_text("<li>{{ item.title }}!</li>\n", encoding="utf-8")
    assert theme_digest(theme) == Theme(theme).digest
    with pytest.raises(ConfigError, match="has no templates/ or static/ directory"):
        theme_digest(tmp_path / "seeds-not-a-theme")


def test_the_listing_names_files_as_pathlib_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain strings on the listing's path: the same names, relative paths and stats ``Path`` objects gave."""
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    for name in ("a.md", "sub/b.txt", "sub/deeper/c.json", "sub/.hidden.md", "sub/notes.rtf"):
        (tmp_path / name).write_text("x" * len(name), encoding="utf-8")
    (tmp_path / "sub" / "photo.jpg").write_bytes(b"\xff\xd8")
    monkeypatch.chdir(tmp_path)
    everything = ["a.md", "sub/b.txt", "sub/deeper/c.json"]
    cases = {
        Path("."): (everything, everything, ["sub/photo.jpg"]),
        Path("sub/"): (everything[1:], ["b.txt", "deeper/c.json"], ["sub/photo.jpg"]),
        tmp_path: ([f"{tmp_path}/{n}" for n in everything], everything, [f"{tmp_path}/sub/photo.jpg"]),
        Path("a.md"): (["a.md"], ["a.md"], []),
    }
    for root, (names, relative, images) in cases.items():
        listing = list_inputs(SourceOptions(paths=(root,)))
        assert [f.filename for f in listing.files] == names, root
        assert [f.relative for f in listing.files] == relative, root
        assert [f.shown for f in listing.files] == names and [str(f.path) for f in listing.files] == names
        for file in listing.files:
            st = os.stat(file.filename)
            assert (file.size, file.mtime_ns) == (st.st_size, st.st_mtime_ns)
        assert [path for r in listing.roots for path, _, _ in r.media] == images, root


def test_an_engines_version_is_asked_again_only_when_its_files_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``apertium -l`` costs a process per run: its answer is kept while the executable and the modes
    directory keep their stat, so a newly installed pair is still seen (and changes the fingerprint)."""
    from syndicate.incremental import stamped
    from syndicate.translate.providers import apertium

    calls: list[int] = []

    def ask() -> list[object]:
        calls.append(1)
        return ["answer", len(calls)]

    thing = tmp_path / "thing"
    thing.write_text("1", encoding="utf-8")
    assert stamped("test", [str(thing)], ask) == ["answer", 1]
    assert stamped("test", [str(thing)], ask) == ["answer", 1] and len(calls) == 1  # kept on disk
    thing.write_text("22", encoding="utf-8")
    assert stamped("test", [str(thing)], ask) == ["answer", 2]
    thing.unlink()
    assert stamped("test", [str(thing)], ask) == ["answer", 3]

    data = tmp_path / "apertium-data"
    (data / "modes").mkdir(parents=True)
    (data / "modes" / "eng-spa.mode").write_text("", encoding="utf-8")
    fake = tmp_path / "apertium"
    fake.write_text(
        '#!/bin/bash\necho run >> "$0.log"\nfor m in "$APERTIUM_DATADIR"/modes/*.mode; do basename "$m" .mode; done\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setenv("APERTIUM_DATADIR", str(data))
    try:
        for _ in range(2):
            apertium.installed_modes.cache_clear()  # a new process
            assert apertium.installed_modes(str(fake)) == ("eng-spa",)
        assert (tmp_path / "apertium.log").read_text(encoding="utf-8") == "run\n"  # asked once
        (data / "modes" / "eng-cat.mode").write_text("", encoding="utf-8")  # a pair installed
        apertium.installed_modes.cache_clear()
        assert apertium.installed_modes(str(fake)) == ("eng-cat", "eng-spa")
    finally:
        apertium.installed_modes.cache_clear()
