"""Complete history: RFC 5005 section 4 archived feeds (DESIGN 9).

An edition's (or a section's) subscription feed holds its ``max_items``
newest articles; the older ones go into archive documents of
``page_size`` articles each, in every feed format, under
``<feed directory>/archive/<n>/``.  Page 1 holds the oldest articles, and
pages are cut from the oldest end, so a new article never moves an archived
one: it pushes one article out of the window into the newest page, which is
the only archive document that changes.  A page that is full gets its
``next-archive`` link in the same run in which it fills, together with the
(still empty) page after it, so no full page changes again.

The links of each document in the chain (:class:`Chain`):

* subscription feed: ``prev-archive`` -> the newest archive page;
* archive page n: ``prev-archive`` -> page n-1 (none for page 1),
  ``next-archive`` -> page n+1 (none for the newest), ``current`` -> the
  subscription feed, and ``<fh:archive/>``.

Pages are positions in the date order: changing ``max_items`` or
``page_size``, or adding an article older than archived ones, re-cuts them.
"""

from __future__ import annotations

from dataclasses import dataclass

from syndicate.formats import PAGE, archive_dir

FH_NS = "http://purl.org/syndication/history/1.0"
RFC5005 = "https://www.rfc-editor.org/rfc/rfc5005#section-4"
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Chain:
    """Where one feed document sits among its archives: target-relative directories.

    A document's file is ``<directory>/<the format's file name>``; the
    subscription feed's directory is ``current``.
    """

    directory: str
    current: str
    prev: str | None = None  # prev-archive: the next older document
    next: str | None = None  # next-archive (archive pages only): the next newer one

    @property
    def archive(self) -> bool:
        return self.directory != self.current

    @property
    def page(self) -> str:
        """The page the feeds belong to: the subscription feed directory's ``index.html``."""
        return f"{self.current}/{PAGE}"

    def sibling(self, language: str, other: str) -> str:
        """The subscription feed directory of the same feed in the ``other`` language."""
        return other + self.current[len(language) :]


def archive_slices(count: int, max_items: int, page_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each archive page (1 = oldest) in a newest-first list of ``count`` articles.

    Nothing when every article fits in the subscription feed.  The newest page
    may be partial, or empty when the one before it has just filled.
    """
    archived = count - max_items
    if archived <= 0 or page_size < 1:
        return []
    slices = []
    for number in range(1, archived // page_size + 2):
        oldest, newest = (number - 1) * page_size, min(number * page_size, archived)
        slices.append((count - newest, count - oldest))
    return slices


def chains(feed_dir: str, pages: int) -> tuple[Chain, list[Chain]]:
    """The subscription feed's chain and those of its ``pages`` archive pages (oldest first)."""
    dirs = [archive_dir(feed_dir, n) for n in range(1, pages + 1)]
    subscription = Chain(feed_dir, feed_dir, prev=dirs[-1] if dirs else None)
    archives = [
        Chain(
            directory,
            feed_dir,
            prev=dirs[index - 1] if index > 0 else None,
            next=dirs[index + 1] if index + 1 < len(dirs) else None,
        )
        for index, directory in enumerate(dirs)
    ]
    return subscription, archives
