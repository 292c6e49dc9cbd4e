"""Golden files: the seed set published with the example config, compared byte for byte.

Regenerate after an intended output change, then review the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from syndicate.config import Config
from syndicate.pipeline import publish_site

GOLDEN = Path(__file__).resolve().parent / "golden" / "seed"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".syndicate" not in p.relative_to(root).parts
    }


def test_seed_feeds_match_golden_files(seed_config: Config, tmp_path: Path) -> None:
    target = tmp_path / "feeds"
    publish_site(seed_config.with_overrides(target=target))
    produced = _tree(target)
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in produced.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    expected = _tree(GOLDEN)
    assert sorted(produced) == sorted(expected)
    for name, data in expected.items():
        assert produced[name] == data, f"{name} differs from tests/golden/seed/{name}"
