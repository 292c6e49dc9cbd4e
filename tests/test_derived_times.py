"""No time is invented, and no derived time collides by accident (issue 11, DESIGN 3.1 and 6).

Three kinds of times are derived rather than read: a brief's date (its time
line plus the page's day), a date-only input (midnight in the site timezone)
and the file-time fallback (the file's mtime, to the second).  Entries that
really share an instant keep it (the W3C validator then warns
DuplicateUpdated; the README says why that is right); these tests show that
every shared instant comes from the inputs, never from the derivation.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from syndicate.config import Config, SourceOptions
from syndicate.pipeline import publish_site
from syndicate.sources import read_articles
from syndicate.sources.pagetext import read_pagetext
from tests.conftest import SEED_PAGE

MSK = ZoneInfo("Europe/Moscow")
ATOM = "{http://www.w3.org/2005/Atom}"
PAGE_DATE = datetime(2025, 4, 14, 10, 46, tzinfo=MSK)


def _brief_dates(clocks: list[time]) -> list[datetime]:
    text = "Lede.\nRead next\n" + "".join(f"{c:%H:%M}\nBrief number {n}.\n" for n, c in enumerate(clocks))
    options = SourceOptions(timezone="Europe/Moscow")
    articles = read_pagetext("page.txt", text, options, PAGE_DATE, "en")
    return [a.published for a in articles[1:]]


def test_the_seed_shares_one_instant_only_where_the_page_says_so(source_only_config: Config, tmp_path: Path) -> None:
    articles = read_articles(source_only_config.sources, "en").articles
    shared = [moment for moment, n in Counter(a.published for a in articles).items() if n > 1]
    assert shared == [PAGE_DATE]  # the configured page date, 10:46 ...
    assert "\n10:46\n" in SEED_PAGE.read_text(encoding="utf-8")  # ... and the first brief's own time line
    # published as it is: both entries at 07:46Z, neither nudged by a second to silence the W3C warning
    target = tmp_path / "feeds"
    publish_site(source_only_config.with_overrides(target=target))
    atom = etree.fromstring((target / "en" / "atom.xml").read_bytes())
    updated = [e.findtext(f"{ATOM}updated") for e in atom.iter(f"{ATOM}entry")]
    assert updated[:2] == ["2025-04-14T07:46:00Z", "2025-04-14T07:46:00Z"]
    assert len(set(updated)) == len(updated) - 1


@given(st.lists(st.times().map(lambda t: t.replace(second=0, microsecond=0)), min_size=1, max_size=8))
def test_brief_dates_collide_only_where_their_time_lines_repeat(clocks: list[time]) -> None:
    dates = _brief_dates(clocks)
    for n in range(1, len(dates)):
        if clocks[n] == clocks[n - 1]:
            assert dates[n] == dates[n - 1]  # the page says the same minute twice: keep it
        else:
            assert dates[n] < dates[n - 1]  # newest first, never equal
    assert (dates[0] == PAGE_DATE) == (clocks[0] == PAGE_DATE.time().replace(tzinfo=None))
    assert all(d.astimezone(MSK).time() == c for d, c in zip(dates, clocks, strict=True))  # the clock as written


def _write(folder: Path, name: str, text: str, mtime: float | None = None) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _published(folder: Path) -> dict[str, datetime]:
    options = SourceOptions(paths=(folder,), timezone="Europe/Moscow")
    result = read_articles(options, "en")
    assert result.errors == ()
    return {a.title: a.published for a in result.articles}


def test_date_only_inputs_are_the_days_midnight_in_the_site_timezone(tmp_path: Path) -> None:
    _write(tmp_path, "a.md", "---\ntitle: Monday story\ndate: 2025-04-14\n---\nText.\n")
    _write(tmp_path, "b.md", "---\ntitle: Sunday story\ndate: 2025-04-13\n---\nText.\n")
    _write(tmp_path, "c.md", "---\ntitle: Timed story\ndate: 2025-04-14T00:00:00Z\n---\nText.\n")
    dates = _published(tmp_path)
    assert dates["Monday story"] == datetime(2025, 4, 14, tzinfo=MSK)
    assert dates["Sunday story"] == datetime(2025, 4, 13, tzinfo=MSK)
    assert dates["Timed story"] == datetime(2025, 4, 14, tzinfo=UTC)
    assert len(set(dates.values())) == 3  # a date is midnight where the newsroom is, not in UTC


def test_file_time_fallback_keeps_each_files_own_second(tmp_path: Path) -> None:
    stamp = datetime(2025, 4, 14, 7, 46, 5, tzinfo=UTC).timestamp()
    _write(tmp_path, "a.md", "---\ntitle: First undated\n---\nText.\n", stamp)
    _write(tmp_path, "b.md", "---\ntitle: Second undated\n---\nText.\n", stamp + 1)
    _write(tmp_path, "page.txt", "An undated page.\nRead next\n10:45\nIts brief.\n", stamp + 2)
    dates = _published(tmp_path)
    assert dates["First undated"] == datetime(2025, 4, 14, 7, 46, 5, tzinfo=UTC)
    assert dates["Second undated"] == datetime(2025, 4, 14, 7, 46, 6, tzinfo=UTC)
    assert dates["An undated page"] == datetime(2025, 4, 14, 7, 46, 7, tzinfo=UTC)
    # the brief takes its own time line on the page's day, not the page's second
    assert dates["Its brief"] == datetime(2025, 4, 14, 10, 45, tzinfo=MSK)
    assert len(set(dates.values())) == 4
