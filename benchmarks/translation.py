"""Cold translation throughput: syndicate's translation stage vs one raw apertium call.

Translates N distinct seed-like segments en -> es through ``translate_segments``
(glossary protection, batching, validation, an empty in-memory cache) and
through a single ``apertium -u eng-spa`` process on the same text, then prints
words per second for both and their ratio (goal: at least 0.8).

    .venv/bin/python benchmarks/translation.py [--words 20000] [--pair eng-spa]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syndicate.translate import Glossary, SegmentCache, translate_segments  # noqa: E402
from syndicate.translate.providers.apertium import ApertiumTranslator  # noqa: E402

GLOSSARY = ("Sonata Coulter", "Alexander Darchiev", "Sergei Lavrov", "Donald Trump", "Vladimir Putin")


def seed_segments(words: int) -> list[str]:
    """Distinct segments (so nothing is served twice) built from the seed page's lines."""
    lines = [
        line.strip()
        for line in (ROOT / "seeds" / "000_5b913e3cde1239e1.txt").read_text(encoding="utf-8").splitlines()
        if len(line.split()) > 6
    ]
    segments, count, n = [], 0, 0
    while count < words:
        line = lines[n % len(lines)]
        segment = f"{line} Report {n + 1}."
        segments.append(segment)
        count += len(segment.split())
        n += 1
    return segments


def raw_apertium(segments: list[str], mode: str) -> float:
    text = "\n\n".join(segments) + "\n"
    started = time.perf_counter()
    subprocess.run(["apertium", "-u", mode], input=text.encode(), capture_output=True, check=True)
    return time.perf_counter() - started


def stage(segments: list[str], target: str) -> tuple[float, int]:
    provider = ApertiumTranslator(timeout=600)
    started = time.perf_counter()
    done = translate_segments(segments, "en", target, provider, SegmentCache.in_memory(), Glossary(GLOSSARY))
    return time.perf_counter() - started, len(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--target", default="es", help="target language (en -> TARGET)")
    parser.add_argument("--mode", default="eng-spa", help="the apertium mode of the same pair")
    args = parser.parse_args()
    segments = seed_segments(args.words)
    words = sum(len(s.split()) for s in segments)
    raw = min(raw_apertium(segments, args.mode) for _ in range(2))
    ours, translated = min((stage(segments, args.target) for _ in range(2)), key=lambda r: r[0])
    print(f"segments: {len(segments)}, words: {words}, translated: {translated}")
    print(f"raw apertium ({args.mode}, one call): {raw:6.2f} s  {words / raw:8.0f} words/s")
    print(f"syndicate translation stage:        {ours:6.2f} s  {words / ours:8.0f} words/s")
    print(f"ratio (stage / raw, goal >= 0.8):   {raw / ours:6.2f}")


if __name__ == "__main__":
    main()
