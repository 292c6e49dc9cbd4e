"""Shared fixtures: the project's own seed set and config, paths to test data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syndicate.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"
SEED_PAGE = SEEDS / "000_5b913e3cde1239e1.txt"


@pytest.fixture
def seed_config() -> Config:
    """The repository's example config (syndicate.toml), reading the shipped seeds."""
    return load_config(ROOT / "syndicate.toml")


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """A scratch copy of the seeds and config, so tests can add or break files."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    shutil.copy(ROOT / "syndicate.toml", tmp_path / "syndicate.toml")
    return tmp_path
