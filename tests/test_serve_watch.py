"""What ``syndicate serve`` watches: exactly the files a publish reads (the sources' own listing).

A real preview loop (as in ``test_preview.py``): directory symlinks inside the source roots are
followed like a publish follows them, so editing an article under a linked directory rebuilds
the preview; a link leading outside the roots, a loop, or a file no reader takes is not watched,
because a publish does not read it either.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.config import Config, load_config
from syndicate.incremental import input_stats
from syndicate.serve import Preview, Watched, snapshot
from syndicate.sources import list_inputs
from tests.test_preview import CONFIG, get, wait_for, write_article


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """``articles/`` holds one real article and ``desk``, a link to a directory reached only through it."""
    (tmp_path / "syndicate.toml").write_text(CONFIG, encoding="utf-8")
    articles = tmp_path / "articles"
    (articles / ".desk").mkdir(parents=True)  # hidden: a plain walk never goes there
    write_article(articles / "ferry.md", "Ferry resumes service", day=4)
    write_article(articles / ".desk" / "quay.md", "Quay repairs begin", day=5)
    (articles / "desk").symlink_to(articles / ".desk", target_is_directory=True)
    return tmp_path


def start(site: Path) -> Preview:
    config_path = site / "syndicate.toml"

    def load() -> Config:
        return load_config(config_path)

    preview = Preview(load, config_path=config_path, port=0, interval=0.05)
    preview.start()
    return preview


@pytest.fixture
def preview(site: Path) -> Iterator[Preview]:
    running = start(site)
    try:
        yield running
    finally:
        running.stop()


def test_an_edit_under_a_linked_directory_rebuilds_the_preview(preview: Preview, site: Path) -> None:
    _, edition = get(preview, "/en/")
    assert "Quay repairs begin" in edition  # the publish reads the linked article
    builds = preview.builds
    write_article(site / "articles" / "desk" / "quay.md", "Quay repairs finished early", day=5)
    wait_for(lambda: "Quay repairs finished early" in get(preview, "/en/")[1], "the rebuilt edition page")
    wait_for(lambda: preview.builds > builds, "the build to finish")  # pages are served before it counts
    assert "Quay repairs begin" not in get(preview, "/en/")[1]


def test_a_new_article_in_a_linked_directory_rebuilds_the_preview(preview: Preview, site: Path) -> None:
    write_article(site / "articles" / ".desk" / "tide.md", "Spring tide warning", day=6)
    wait_for(lambda: "Spring tide warning" in get(preview, "/en/")[1], "the new linked article")


def test_the_watcher_sees_what_the_publish_lists_and_nothing_else(
    site: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    articles = site / "articles"
    outside = tmp_path_factory.mktemp("outside")
    write_article(outside / "leak.md", "Not ours", day=7)
    (articles / "elsewhere").symlink_to(outside, target_is_directory=True)  # outside the roots: skipped
    (articles / ".desk" / "loop").symlink_to(articles, target_is_directory=True)  # a loop: one warning
    (articles / "notes.odt").write_bytes(b"not an input")
    (articles / ".desk" / "quay.jpg").write_bytes(b"\xff\xd8 photo")
    config = load_config(site / "syndicate.toml")
    watched = Watched(config.sources, site / "syndicate.toml")
    seen = snapshot(watched)
    listing = list_inputs(config.sources)
    assert [path for path, _, _ in seen] == [
        *(path for path, _, _ in input_stats(listing)),
        str(site / "syndicate.toml"),
    ]
    assert {Path(path).name for path, _, _ in seen} == {"ferry.md", "quay.md", "quay.jpg", "syndicate.toml"}
    assert str(articles / "desk" / "quay.md") in {path for path, _, _ in seen}

    # a change the publish does not read is not a change; one it reads is
    write_article(outside / "leak.md", "Still not ours, and longer", day=7)
    (articles / "notes.odt").write_bytes(b"edited, and not an input either")
    assert snapshot(watched) == seen
    (articles / ".desk" / "quay.jpg").write_bytes(b"\xff\xd8 a replaced photo")
    assert snapshot(watched) != seen


def test_a_linked_directory_edit_while_the_config_is_broken_is_picked_up_once_fixed(
    preview: Preview, site: Path
) -> None:
    config = site / "syndicate.toml"
    config.write_text(CONFIG.replace('timezone = "Europe/Oslo"', 'timezone = "Europe/Olso"'), encoding="utf-8")
    write_article(site / "articles" / "desk" / "quay.md", "Quay repairs paused", day=5)
    wait_for(lambda: not preview.changed(), "the failed build to take its snapshot")
    assert "Quay repairs paused" not in get(preview, "/en/")[1]  # the last good build is kept
    config.write_text(CONFIG, encoding="utf-8")
    wait_for(lambda: "Quay repairs paused" in get(preview, "/en/")[1], "the fixed config's build")
    write_article(site / "articles" / "desk" / "quay.md", "Quay repairs resumed", day=5)
    wait_for(lambda: "Quay repairs resumed" in get(preview, "/en/")[1], "the next build")  # still watched
