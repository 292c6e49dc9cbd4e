"""A deterministic synthetic article set for the benchmarks.

``generate(directory, n, seed)`` writes files that ``syndicate`` reads into
exactly ``n`` articles: about 60 % seed-like page-text files (``*.txt``: a
``Title:``/``Date:``/``Category:`` header, several paragraphs, and on one
page in five a ``Read next`` block whose briefs are articles of their own)
and about 40 % Markdown files with YAML front matter (title, date,
categories, tags, sometimes an author and a ``##`` heading).  The same
``n``, ``seed`` and ``pool`` always give byte-identical files.

The words come from the seed page (``seeds/000_5b913e3cde1239e1.txt``)
through a word-bigram chain, so apertium sees real English words.  Every
title (and every brief's first sentence) is unique; dates are spread over
two years (newest in 2025-05), in UTC.

Body paragraphs are drawn from a pool of ``pool`` distinct generated
paragraphs (default 2,500) instead of being all different, while every
article stays distinct (its own title, dates and combination of
paragraphs): the distinct segments sent to an engine are about
``n * 1.2 + pool`` (205,000 words per language at n = 10,000, a cold build
of about 2.5 minutes here) instead of about 1.4 million words per language.

    .venv/bin/python benchmarks/generate.py --n 10000 DIR [--seed 0] [--pool 2500]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_PAGE = ROOT / "seeds" / "000_5b913e3cde1239e1.txt"

START = datetime(2023, 6, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
CATEGORIES = ("Diplomacy", "Ukraine-Russia War", "Energy", "Security", "Economy", "Russia - USA")
TAGS = ("embassies", "sanctions", "Moscow", "Washington", "Istanbul", "banking", "flights", "talks")
AUTHORS = ("World Desk", "Sonata Coulter", "Foreign Desk")
FURNITURE = ("What is your opinion on this topic?", "Leave the first comment")
MARKDOWN_SHARE = 0.4
BRIEF_PAGE_SHARE = 0.2
DEFAULT_POOL = 2500

_WORD = re.compile(r"\S+")
_SENTENCE = re.compile(r"(?<=[.!?”])\s+(?=[A-Z“])")
_ABBREVIATION = re.compile(r"(?:[A-Z]\.){2,}")
_TITLE_STRIP = "“”\"'‘’,;:.!?()—–-"


class _Chain:
    """A word-bigram chain over the seed page's sentences."""

    def __init__(self, text: str) -> None:
        self.starts: list[str] = []
        self.next: dict[str, list[str]] = {}
        for line in text.splitlines():
            line = line.strip()
            if len(line.split()) < 6:  # time lines, kickers, markers, furniture
                continue
            for sentence in _SENTENCE.split(line):
                words = _WORD.findall(sentence)
                if len(words) < 4:
                    continue
                self.starts.append(words[0])
                for a, b in zip(words, [*words[1:], None], strict=True):
                    self.next.setdefault(a, []).append(b or "")
        self.title_words = sorted({w.strip(_TITLE_STRIP) for w in self.next if "." not in w.strip(_TITLE_STRIP)} - {""})

    def sentence(self, rng: random.Random, low: int = 8, high: int = 28) -> str:
        """A sentence of ``low``..``high`` words ending with a full stop."""
        starts, follow, pick = self.starts, self.next, rng.random
        while True:
            word = starts[int(pick() * len(starts))]
            words = [word]
            while len(words) < high:
                choices = follow[word]
                word = choices[int(pick() * len(choices))]
                if not word:
                    break
                words.append(word)
            if len(words) >= low:
                text = " ".join(words).rstrip(",;:—–-")
                return text if text.endswith((".", "!", "?", ".”", "?”")) else text + "."

    def headline(self, rng: random.Random) -> str:
        """5 to 10 words, capitalised, no sentence punctuation (so it is one clean sentence)."""
        count = rng.randint(5, 10)
        words = [w for w in (_title_word(x) for x in self.sentence(rng, count, count + 4).split()) if w]
        words = words[:count] or ["Talks"]
        return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _title_word(word: str) -> str:
    """A word without surrounding punctuation; abbreviations like ``U.S.`` kept whole."""
    core = word.strip(_TITLE_STRIP)
    return core + "." if _ABBREVIATION.fullmatch(core + ".") else core


class _Titles:
    """Unique headlines (case-insensitively, as article ids fold case)."""

    def __init__(self, chain: _Chain, rng: random.Random) -> None:
        self.chain, self.rng = chain, rng
        self.seen: set[str] = set()

    def __call__(self) -> str:
        for _ in range(20):
            title = self.chain.headline(self.rng)
            if title.casefold() not in self.seen:
                break
        else:  # the chain is small: make it unique with real words rather than digits
            words = self.chain.title_words
            while title.casefold() in self.seen:
                title = f"{title} {self.rng.choice(words)}"
        self.seen.add(title.casefold())
        return title


def _pool(chain: _Chain, rng: random.Random, size: int) -> list[str]:
    seen: set[str] = set()
    pool: list[str] = []
    while len(pool) < size:
        paragraph = " ".join(chain.sentence(rng) for _ in range(rng.randint(1, 3)))
        if paragraph not in seen:
            seen.add(paragraph)
            pool.append(paragraph)
    return pool


def _dates(n: int, rng: random.Random) -> list[datetime]:
    """``n`` dates spread over SPAN, oldest first, to the minute."""
    step = SPAN / max(n, 1)
    return [
        (START + step * i + timedelta(minutes=rng.randint(0, max(1, int(step.total_seconds() // 60) - 1)))).replace(
            second=0, microsecond=0
        )
        for i in range(n)
    ]


def _page_text(
    title: str, when: datetime, category: str, body: list[str], briefs: list[tuple[str, str | None, list[str]]]
) -> str:
    lines = [f"Title: {title}", f"Date: {when.isoformat()}", f"Category: {category}", "", *body]
    if briefs:
        lines.append("Read next")
        for clock, kicker, paragraphs in briefs:
            lines.append(clock)
            if kicker:
                lines.append(kicker)
            lines.extend(paragraphs)
    lines.extend(FURNITURE)
    return "\n".join(lines) + "\n"


def _markdown(title: str, when: datetime, rng: random.Random, body: list[str], headline: str) -> str:
    categories = [rng.choice(CATEGORIES)]
    tags = sorted(rng.sample(TAGS, rng.randint(1, 3)))
    meta = [
        "---",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"date: {when.isoformat()}",
        f"categories: {json.dumps(categories, ensure_ascii=False)}",
        f"tags: {json.dumps(tags, ensure_ascii=False)}",
    ]
    if rng.random() < 0.5:
        meta.append(f"author: {json.dumps(rng.choice(AUTHORS))}")
    meta.append("---")
    paragraphs = list(body)
    if len(paragraphs) > 3 and rng.random() < 0.5:
        paragraphs.insert(2, f"## {headline}")
    return "\n".join(meta) + "\n\n" + "\n\n".join(paragraphs) + "\n"


def generate(directory: Path, n: int, seed: int = 0, pool: int = DEFAULT_POOL) -> list[Path]:
    """Write files holding exactly ``n`` articles under ``directory``; returns their paths."""
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = random.Random(seed)
    chain = _Chain(SEED_PAGE.read_text(encoding="utf-8"))
    paragraphs = _pool(chain, rng, pool)
    titles = _Titles(chain, rng)
    dates = _dates(n, rng)  # one slot per article; a page with briefs takes as many slots
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    folders: set[Path] = set()
    index = 0
    while index < n:
        when = dates[index]
        title = titles()
        body = rng.sample(paragraphs, rng.randint(3, 6))
        if rng.random() < MARKDOWN_SHARE:
            text, suffix, count = _markdown(title, when, rng, body, titles()), "md", 1
        else:
            extra = rng.randint(1, 3) if rng.random() < BRIEF_PAGE_SHARE else 0
            extra = min(extra, n - index - 1)
            briefs = [_brief(rng, titles, paragraphs, when, k) for k in range(extra)]
            text, suffix, count = _page_text(title, when, rng.choice(CATEGORIES), body, briefs), "txt", 1 + extra
        folder = directory / f"{when:%Y}" / f"{when:%m}"
        if folder not in folders:
            folder.mkdir(parents=True, exist_ok=True)
            folders.add(folder)
        path = folder / f"{index:06d}.{suffix}"
        path.write_text(text, encoding="utf-8")
        written.append(path)
        index += count
    return written


def _brief(
    rng: random.Random, titles: _Titles, paragraphs: list[str], when: datetime, k: int
) -> tuple[str, str | None, list[str]]:
    """(time line, kicker, paragraphs): a unique first sentence (the brief's title) and a
    paragraph from the pool; times decrease so briefs stay on the page's day or the one before."""
    minutes = max(0, when.hour * 60 + when.minute - 37 * (k + 1))
    clock = f"{minutes // 60:02d}:{minutes % 60:02d}"
    kicker = rng.choice(CATEGORIES) if rng.random() < 0.6 else None
    first = titles()
    return clock, kicker, [first if first.endswith(".") else f"{first}.", rng.choice(paragraphs)]


def new_article(directory: Path, number: int = 1, seed: int = 0) -> Path:
    """One more Markdown article, newer than every generated one (scenario d)."""
    rng = random.Random(f"new-{seed}-{number}")
    chain = _Chain(SEED_PAGE.read_text(encoding="utf-8"))
    when = START + SPAN + timedelta(hours=number)
    title = f"Breaking {number}: " + chain.headline(rng)
    body = [" ".join(chain.sentence(rng) for _ in range(2)) for _ in range(4)]
    path = directory / "new" / f"new-{number:04d}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_markdown(title, when, rng, body, chain.headline(rng)), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--n", type=int, default=10_000, help="number of articles (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool", type=int, default=DEFAULT_POOL, help="distinct body paragraphs")
    args = parser.parse_args()
    started = time.perf_counter()
    files = generate(args.directory, args.n, args.seed, args.pool)
    print(f"{args.n} articles in {len(files)} files under {args.directory} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
