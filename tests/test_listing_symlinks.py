"""Directory symlinks in the sources (DESIGN 3.5), with real symlinks: followed when they lead to a
directory inside a source root, each directory listed once (a loop is one warning, never a hang),
skipped with a warning when they lead outside."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from syndicate.config import SourceOptions
from syndicate.sources import list_inputs, read_articles
from tests.test_ops import child_env, invoke

HARD_LIMIT = 60  # seconds: a listing that loops forever fails the test instead of hanging it


def _article(path: Path, title: str, when: str = "2025-04-15T09:00:00Z") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {title}\ndate: {when}\n---\n\n{title} text.\n", encoding="utf-8")


def _listed(root: Path, *roots: Path) -> tuple[list[str], list[str]]:
    listing = list_inputs(SourceOptions(paths=(root, *roots)))
    return [f.relative for f in listing.files], [str(s) for s in listing.skipped]


def test_a_directory_symlink_inside_the_root_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "seeds"
    _article(tmp_path / "seeds" / "desk" / "2025" / "a.md", "Harbour reopens")
    (root / "today").symlink_to(root / "desk" / "2025", target_is_directory=True)
    _article(root / "z.md", "Plain file")
    files, skipped = _listed(root)
    # the real path wins: the linked directory is the same directory, listed once
    assert files == ["desk/2025/a.md", "z.md"]
    assert skipped == [f"{root / 'today'}: skipped: symlink to {root / 'desk' / '2025'}, a directory already listed"]


def test_a_directory_reached_only_through_a_symlink_is_read(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _article(second / "archive" / "b.md", "From the linked archive")
    _article(first / "a.md", "From the first root")
    (first / "archive").symlink_to(second / "archive", target_is_directory=True)
    result = read_articles(SourceOptions(paths=(first,)), "en")  # second is not a root: outside
    assert [a.title for a in result.articles] == ["From the first root"]
    files, skipped = _listed(first)
    assert files == ["a.md"]
    assert skipped == [
        f"{first / 'archive'}: skipped: symlink to a directory outside the source directories ({second / 'archive'})"
    ]
    # with both roots, the link leads inside one: followed (listed under the first root's path too)
    files, skipped = _listed(first, second)
    assert files == ["a.md", "archive/b.md", "archive/b.md"] and skipped == []
    result = read_articles(SourceOptions(paths=(first, second)), "en")
    assert sorted(a.title for a in result.articles) == ["From the first root", "From the linked archive"]
    # the article read through the link is the one from the real file: same id, merged once


def test_a_nested_link_inside_a_linked_directory_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "seeds"
    _article(root / ".store" / "x" / "one.md", "One")  # hidden: reached only through links
    _article(root / ".store" / "y" / "two.md", "Two")
    (root / ".store" / "x" / "more").symlink_to(root / ".store" / "y", target_is_directory=True)
    (root / "x").symlink_to(root / ".store" / "x", target_is_directory=True)
    files, skipped = _listed(root)
    assert files == ["x/more/two.md", "x/one.md"] and skipped == []
    titles = [a.title for a in read_articles(SourceOptions(paths=(root,)), "en").articles]
    assert sorted(titles) == ["One", "Two"]


def test_a_symlink_loop_is_one_warning_not_a_hang(tmp_path: Path) -> None:
    root = tmp_path / "seeds"
    _article(root / "desk" / "a.md", "Only once")
    (root / "desk" / "again").symlink_to(root, target_is_directory=True)  # back to the root
    (root / "desk" / "self").symlink_to(root / "desk", target_is_directory=True)  # back to its parent
    (root / "desk" / "knot").symlink_to("knot")  # a link to itself (ELOOP)
    code = f"""
import json, sys
from pathlib import Path
from syndicate.config import SourceOptions
from syndicate.sources import list_inputs
listing = list_inputs(SourceOptions(paths=(Path({str(root)!r}),)))
print(json.dumps([[f.relative for f in listing.files], [str(s) for s in listing.skipped]]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=HARD_LIMIT
    )
    assert done.returncode == 0, done.stderr
    files, skipped = json.loads(done.stdout)
    assert files == ["desk/a.md"]
    assert skipped == [
        f"{root / 'desk' / 'again'}: skipped: symlink loop: leads back to {root}, already listed",
        f"{root / 'desk' / 'self'}: skipped: symlink loop: leads back to {root / 'desk'}, already listed",
    ]  # "knot" has no input suffix: not an input, nothing to say


def test_through_the_cli_linked_articles_are_published_and_a_loop_is_a_warning(site_dir: Path) -> None:
    seeds = site_dir / "seeds"
    _article(site_dir / "seeds" / ".desk" / "linked.md", "Linked desk story")
    (seeds / "desk").symlink_to(seeds / ".desk", target_is_directory=True)
    (seeds / ".desk" / "loop").symlink_to(seeds, target_is_directory=True)
    code, out, err = invoke("publish", "--config", site_dir / "syndicate.toml", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["items"] == {"en": 7}
    assert report["skipped"] == [
        {"path": str(seeds / "desk" / "loop"), "reason": f"symlink loop: leads back to {seeds}, already listed"}
    ]
    assert err == f"syndicate: warning: {seeds / 'desk' / 'loop'}: skipped: symlink loop: leads back to {seeds}, " \
        "already listed\n"
    page = site_dir / "feeds" / "en" / "articles"
    assert any("Linked desk story" in p.read_text(encoding="utf-8") for p in page.glob("*.html"))


def test_the_listing_collects_the_images_of_the_run_fingerprint(tmp_path: Path) -> None:
    """Articles publish the images beside them: the listing's one walk collects the image files too
    (under a linked directory's path as well as the real one), a replaced photo is a change of the
    run fingerprint, a hidden file is not."""
    import os

    from syndicate.incremental import input_stats

    first, second = tmp_path / "first", tmp_path / "second"
    _article(first / "a.md", "Harbour reopens")
    _article(second / "archive" / "b.md", "From the linked archive")
    (second / "archive" / "harbour.jpg").write_bytes(b"\xff\xd8 first photo")
    (second / "archive" / ".draft.jpg").write_bytes(b"\xff\xd8 hidden")
    (first / "archive").symlink_to(second / "archive", target_is_directory=True)

    def stats() -> list[tuple[str, int, int]]:
        return input_stats(list_inputs(SourceOptions(paths=(first, second))))

    listing = list_inputs(SourceOptions(paths=(first, second)))
    images = [path for root in listing.roots for path, _, _ in root.media]
    assert images == [str(first / "archive" / "harbour.jpg"), str(second / "archive" / "harbour.jpg")]
    before = stats()
    (second / "archive" / "harbour.jpg").write_bytes(b"\xff\xd8 a replaced, longer photo")
    changed = stats()
    assert changed != before
    os.utime(second / "archive" / ".draft.jpg", ns=(1, 1))
    assert stats() == changed
