"""Lead images and enclosures (DESIGN 9): what feedparser and the JSON reader get, and the files published."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from syndicate.config import load_config
from syndicate.errors import ExitCode
from syndicate.pipeline import publish_site
from syndicate.validate import validate_target

SITE = "https://news.example.org/"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3  # 776 bytes
MRSS = "{http://search.yahoo.com/mrss/}"


def _write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text, encoding="utf-8")


def _site(tmp_path: Path, languages: str = "[]") -> Path:
    seeds = tmp_path / "seeds"
    _write(
        seeds,
        "local.md",
        "---\ntitle: Tanks at dawn\ndate: 2025-04-14T08:00:00Z\n---\n\n"
        "The column moved before sunrise.\n\n![A tank at dawn](photo.png)\n\nIt rolled on.\n",
    )
    (seeds / "photo.png").write_bytes(PNG)
    _write(
        seeds,
        "remote.md",
        "---\ntitle: Crowds in the square\ndate: 2025-04-14T07:00:00Z\n"
        "image: https://cdn.example.com/pics/lead.jpg\nimage_alt: A crowd in the square\n---\n\n"
        "Thousands gathered.\n",
    )
    _write(
        seeds,
        "again.md",
        "---\ntitle: The tanks return\ndate: 2025-04-14T06:00:00Z\nimage: photo.png\n---\n\nThey came back.\n",
    )
    _write(
        seeds,
        "cast.md",
        "---\ntitle: The morning briefing\ndate: 2025-04-14T05:00:00Z\n"
        "enclosure: {url: 'https://cdn.example.com/audio/brief.mp3', type: audio/mpeg, length: 123456}\n---\n\n"
        "Listen to the briefing.\n",
    )
    _write(
        seeds,
        "sized.md",
        "---\ntitle: A sized picture\ndate: 2025-04-14T03:30:00Z\n"
        "image: {url: 'https://cdn.example.com/pics/sized.png', alt: A harbour, length: 5000}\n---\n\nA picture.\n",
    )
    _write(
        seeds,
        "wire.json",
        json.dumps(
            {
                "title": "A wire story",
                "date_published": "2025-04-14T04:00:00Z",
                "banner_image": "https://cdn.example.com/pics/banner.webp",
                "content_text": "From the wire.",
            }
        ),
    )
    config = tmp_path / "syndicate.toml"
    config.write_text(
        f'[site]\ntitle = "Desk"\nurl = "{SITE}"\nlanguage = "en"\n'
        f'[sources]\npaths = ["seeds"]\n[output]\ntarget = "feeds"\n'
        f'[translation]\nlanguages = {languages}\ncache = "cache.sqlite3"\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    summary = publish_site(load_config(_site(root)))
    assert summary.exit_code == ExitCode.OK, summary.as_dict()
    return root / "feeds"


def _entries(target: Path, name: str) -> dict[str, feedparser.FeedParserDict]:
    parsed = feedparser.parse((target / "en" / name).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return {entry.title: entry for entry in parsed.entries}


def _media_files(target: Path) -> list[Path]:
    return sorted(p for p in target.rglob("*") if p.is_file() and "/media/" in p.as_posix())


def test_a_local_image_is_published_once_with_its_length_and_type(published: Path) -> None:
    files = _media_files(published)
    assert len(files) == 1  # two articles use photo.png: one file
    assert files[0].read_bytes() == PNG
    assert files[0].relative_to(published).as_posix().startswith("en/media/")
    url = SITE + files[0].relative_to(published).as_posix()
    for title in ("Tanks at dawn", "The tanks return"):
        entry = _entries(published, "rss.xml")[title]
        assert entry.enclosures == [{"href": url, "length": str(len(PNG)), "type": "image/png"}]
        assert entry.media_content[0]["url"] == url
        assert entry.media_content[0]["type"] == "image/png"
        assert entry.media_content[0]["filesize"] == str(len(PNG))
        assert entry.media_thumbnail[0]["url"] == url
        atom = _entries(published, "atom.xml")[title]
        assert [(e.href, e.type, e.length) for e in atom.enclosures] == [(url, "image/png", str(len(PNG)))]
        assert atom.link.endswith(".html")  # the entry's page is still what readers open
    # The body's figure points at the published copy too.
    entry = _entries(published, "atom.xml")["Tanks at dawn"]
    assert f'src="{url}"' in entry.content[0].value
    items = {item["title"]: item for item in json.loads((published / "en/feed.json").read_bytes())["items"]}
    assert items["Tanks at dawn"]["image"] == url
    assert f'src="{url}"' in items["Tanks at dawn"]["content_html"]


def test_the_figure_alt_text_is_the_images(published: Path) -> None:
    rss = etree.parse(str(published / "en/rss.xml"))
    item = next(i for i in rss.iter("item") if i.findtext("title") == "Tanks at dawn")
    assert item.findtext(f"{MRSS}content/{MRSS}description") == "A tank at dawn"
    atom = _entries(published, "atom.xml")["Tanks at dawn"]
    assert atom.enclosures[0].get("title") == "A tank at dawn"


def test_a_remote_image_is_referenced_as_it_is(published: Path) -> None:
    url = "https://cdn.example.com/pics/lead.jpg"
    entry = _entries(published, "rss.xml")["Crowds in the square"]
    assert entry.enclosures == []  # RSS needs its size (the W3C validator rejects length="0"); none is known
    assert entry.media_content[0]["url"] == url and entry.media_content[0]["type"] == "image/jpeg"
    assert "filesize" not in entry.media_content[0]
    atom = _entries(published, "atom.xml")["Crowds in the square"]
    assert [(e.href, e.type) for e in atom.enclosures] == [(url, "image/jpeg")]
    items = {item["title"]: item for item in json.loads((published / "en/feed.json").read_bytes())["items"]}
    assert items["Crowds in the square"]["image"] == url
    assert items["A wire story"]["image"] == "https://cdn.example.com/pics/banner.webp"
    wire = _entries(published, "atom.xml")["A wire story"]
    assert wire.enclosures[0]["type"] == "image/webp"


def test_a_remote_image_of_known_size_is_an_rss_enclosure(published: Path) -> None:
    url = "https://cdn.example.com/pics/sized.png"
    entry = _entries(published, "rss.xml")["A sized picture"]
    assert entry.enclosures == [{"href": url, "length": "5000", "type": "image/png"}]
    assert entry.media_content[0]["filesize"] == "5000"


def test_validate_rejects_an_enclosure_of_length_zero(published: Path, tmp_path: Path) -> None:
    target = tmp_path / "feeds"
    shutil.copytree(published, target)
    rss = target / "en/rss.xml"
    rss.write_bytes(rss.read_bytes().replace(b'length="123456"', b'length="0"'))
    assert [str(p) for p in validate_target(target)] == [
        "en/rss.xml: item 4 enclosure length '0' is not a number of bytes above 0"
    ]


def test_an_audio_enclosure_is_passed_through(published: Path) -> None:
    url = "https://cdn.example.com/audio/brief.mp3"
    entry = _entries(published, "rss.xml")["The morning briefing"]
    assert entry.enclosures == [{"href": url, "length": "123456", "type": "audio/mpeg"}]
    assert "media_content" not in entry
    atom = _entries(published, "atom.xml")["The morning briefing"]
    assert [(e.href, e.type, e.length) for e in atom.enclosures] == [(url, "audio/mpeg", "123456")]
    items = {item["title"]: item for item in json.loads((published / "en/feed.json").read_bytes())["items"]}
    attachment = {"url": url, "mime_type": "audio/mpeg", "size_in_bytes": 123456}
    assert items["The morning briefing"]["attachments"] == [attachment]


def test_feeds_with_media_validate(published: Path) -> None:
    assert validate_target(published) == []


def test_a_second_run_rewrites_nothing(tmp_path: Path) -> None:
    config = load_config(_site(tmp_path))
    publish_site(config)
    (tmp_path / "feeds/.syndicate/status.json").unlink()  # no shortcut: render again
    summary = publish_site(config)
    assert summary.written == 0


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("image: missing.png", "image 'missing.png': no such file next to the article"),
        ("image: notes.txt", "image 'notes.txt': not an image type"),
        ("image: ../outside.png", "image '../outside.png': outside the source directories"),
        ("image: 'javascript:alert(1)'", "invalid link"),
        ("enclosure: {url: 'https://x.org/a.mp3', type: text/html, length: 1}", "enclosure: type must be"),
        ("enclosure: {url: 'https://x.org/a.mp3', type: audio/mpeg, length: -1}", "length must be"),
        ("enclosure: {url: 'https://x.org/a.mp3', type: audio/mpeg}", "length must be"),
    ],
)
def test_bad_media_is_a_one_line_error_naming_the_file(tmp_path: Path, front: str, message: str) -> None:
    config = _site(tmp_path)
    (tmp_path / "seeds/notes.txt").write_text("Some notes.\n", encoding="utf-8")
    (tmp_path / "outside.png").write_bytes(PNG)
    _write(tmp_path / "seeds", "bad.md", f"---\ntitle: Bad\ndate: 2025-04-14T03:00:00Z\n{front}\n---\n\nText.\n")
    summary = publish_site(load_config(config))
    assert summary.exit_code == ExitCode.INPUT
    (error,) = summary.errors
    assert "bad.md" in str(error) and message in str(error) and "\n" not in str(error)


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")
def test_alt_text_is_translated_and_the_file_is_shared(tmp_path: Path) -> None:
    config = load_config(_site(tmp_path, languages='["es"]'))
    summary = publish_site(config)
    assert summary.exit_code == ExitCode.OK, summary.as_dict()
    target = tmp_path / "feeds"
    files = _media_files(target)
    assert len(files) == 1 and files[0].relative_to(target).parts[:2] == ("en", "media")
    url = SITE + files[0].relative_to(target).as_posix()
    rss = etree.parse(str(target / "es/rss.xml"))
    alts = {
        item.findtext(f"{MRSS}content/{MRSS}description")
        for item in rss.iter("item")
        if item.find(f"{MRSS}content") is not None and item.find(f"{MRSS}content").get("url") == url
    }
    (alt,) = alts - {None}
    assert alt and alt != "A tank at dawn"
    items = json.loads((target / "es/feed.json").read_bytes())["items"]
    figure = next(i for i in items if i.get("image") == url and "<img" in i["content_html"])
    assert f'<img src="{url}" alt="{alt}">' in figure["content_html"]  # the same words as the figure's
    assert validate_target(target) == []


@pytest.mark.parametrize("new", [PNG + b"more bytes", PNG[::-1]], ids=["new size", "same size"])
def test_a_replaced_image_is_published_again(tmp_path: Path, new: bytes) -> None:
    """The article file did not change, its image did: caches must not hide that."""
    import os

    config = load_config(_site(tmp_path))
    publish_site(config)
    target = tmp_path / "feeds"
    (old,) = _media_files(target)
    photo = tmp_path / "seeds/photo.png"
    stat = photo.stat()
    photo.write_bytes(new)
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    summary = publish_site(config)
    assert summary.exit_code == ExitCode.OK
    (current,) = _media_files(target)
    assert current != old and current.read_bytes() == new
    url = SITE + current.relative_to(target).as_posix()
    entry = _entries(target, "rss.xml")["Tanks at dawn"]
    assert entry.enclosures == [{"href": url, "length": str(len(new)), "type": "image/png"}]
    assert validate_target(target) == []
