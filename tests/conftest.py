"""Shared fixtures: the project's own seed set and config, paths to test data."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.config import Config, load_config
from tests.libre_server import FakeServer

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"
SEED_PAGE = SEEDS / "000_5b913e3cde1239e1.txt"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the user's real translation cache from a test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture
def seed_config(tmp_path: Path) -> Config:
    """The repository's example config (syndicate.toml) with a private translation cache."""
    return load_config(ROOT / "syndicate.toml").with_overrides(cache=tmp_path / "translations.sqlite3")


@pytest.fixture
def source_only_config(seed_config: Config) -> Config:
    """The example config without translated editions."""
    from dataclasses import replace

    return replace(seed_config, translation=replace(seed_config.translation, languages=()))


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """A scratch copy of the seeds and a source-only config, so tests can add or break files."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    text = (ROOT / "syndicate.toml").read_text(encoding="utf-8")
    text = text.replace('languages = ["es", "ca"]', "languages = []")
    (tmp_path / "syndicate.toml").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A LibreTranslate-speaking HTTP server on 127.0.0.1 (see tests/libre_server.py)."""
    fake = FakeServer()
    thread = threading.Thread(target=fake.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    fake.release.set()
    fake.httpd.shutdown()
    fake.httpd.server_close()
    thread.join(timeout=5)


