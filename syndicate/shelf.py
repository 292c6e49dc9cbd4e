"""Where a run's articles wait between translation and rendering: packed records, beside their bodies.

An article held as objects costs about 1.3 KiB (its ``Article``, strings,
dates, ``Translation`` and ``Body`` handle), and a run holds every article of
every language: at 20,000 articles in four languages, about 100 MiB in the
main process, which every forked render worker starts from.  An edition's
:class:`Shelf` holds its articles as packed records (``marshal`` of their
fields, the body by its place in the spill: about 0.5 KiB each, unpacked in
about 5 us) in the run's spill file (:mod:`syndicate.bodies`), and keeps in
memory only what the passes over every article read (:class:`_Records`: id,
slug, group, language, category, publication and change times, whether there
is a lead image, the local media files) and, once prepared for rendering,
each article's render key: about 0.2 KiB per article.  Articles are filed one
by one as they are made (:class:`Filer`), so they are never all objects at
once; every shelf of a run is over the run's one set of records, so shelves
join and sort without unpacking an article.  An article is unpacked when one
of its outputs is rendered, and stays the same object until rendering moves
to the next edition (:func:`forget_unpacked`); a forked worker reads the same
records through the inherited file.

A shelf is a read-only :class:`~collections.abc.Sequence` of articles (equal
to the tuple of the same articles); slicing it or :meth:`Shelf.take` gives a
shelf over the same records.  Without a spill file (a library call outside a
run, a disk that refused a write) the records stay in memory, still packed.
"""

from __future__ import annotations

import marshal
import pickle
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Any, cast, overload

from syndicate import bodies
from syndicate.models import _ARTICLE_FIELDS, EMPTY_BODY, Article, Body, Media, Translation

KeyOf = Callable[[Article], "str | None"]  # an article's render key, None when it has none yet


class _Records:
    """Packed articles and, per record, what every pass reads without unpacking one (append-only).

    Only the process that made the records adds to them (the spill's owner); forked workers read.
    """

    def __init__(self, spill: bodies.Spill | None) -> None:
        self.spill = spill
        self.at = array("q")  # offset in the spill, or -(1 + index) into ``kept`` (records held here)
        self.size = array("q")
        self.kept: list[bytes] = []
        self.pickled: list[bool] = []  # the rare record marshal could not write
        self.zones: list[tzinfo | None] = []  # the dates' time zones, each once
        self._zone_index: dict[tzinfo | None, int] = {}
        # the heads: one entry per record
        self.ids: list[str] = []
        self.slugs: list[str] = []
        self.groups: list[str] = []  # the id an article shares with its translations
        self.languages: list[str] = []
        self.categories: list[str | None] = []
        self.published = array("d")  # POSIX time of Article.published: editions sort by it
        self.modified = array("d")  # POSIX time of Article.modified: the newest change without unpacking
        self.images = bytearray()  # 1: the article has a lead image
        self.media: list[tuple[Media, ...]] = []
        self.keys: list[str | None] = []
        self.unpacked: dict[int, Article] = {}  # row -> its article, until :func:`forget_unpacked`
        _all_records.add(self)

    def add(self, article: Article, key: str | None) -> int:
        try:
            data = marshal.dumps(self._fields(article))  # type: ignore[arg-type]  # values marshal writes
            self.pickled.append(False)
        except ValueError:  # a field of a type marshal does not write (a str subclass): pickled
            data = pickle.dumps(article, protocol=pickle.HIGHEST_PROTOCOL)
            self.pickled.append(True)
        spill = self.spill
        at = spill.put(data) if spill is not None else None
        if at is None:
            at = -1 - len(self.kept)
            self.kept.append(data)
        self.at.append(at)
        self.size.append(len(data))
        self.ids.append(article.id)
        self.slugs.append(article.slug)
        self.groups.append(article.translation.original_id if article.translation else article.id)
        self.languages.append(article.language)
        self.categories.append(article.category)
        self.published.append(article.published.timestamp())
        self.modified.append(article.modified.timestamp())
        self.images.append(article.image is not None)
        self.media.append(article.media)
        self.keys.append(key)
        return len(self.keys) - 1

    def article(self, row: int) -> Article:
        """The article of ``row``: the same object each time until :func:`forget_unpacked` (the
        memos of rendering, such as the item contents', know an article by its identity)."""
        article = self.unpacked.get(row)
        if article is None:
            article = self.unpacked[row] = self._unpack(row)
        return article

    def _unpack(self, row: int) -> Article:
        at = self.at[row]
        data = self.kept[-1 - at] if at < 0 else self.spill.get(at, self.size[row])  # type: ignore[union-attr]
        if self.pickled[row]:
            article: Article = pickle.loads(data)
            return article
        return self._article(marshal.loads(data))

    # ------------------------------------------------------------- the codec

    def _fields(self, a: Article) -> tuple[object, ...]:
        """``a``'s fields in :data:`_ARTICLE_FIELDS` order, as values ``marshal`` writes (a new field of
        :class:`Article` needs its place here and in :meth:`_article`: tests/test_shelf.py fails until then)."""
        return (
            a.id, a.slug, a.title, a.summary, self._body(a.body), self._date(a.published), a.language,
            self._date(a.updated), a.category, a.tags, a.author, a.link, a.source, _translation(a.translation),
            a.title_source, a.date_only, a.translation_of, a.body_language, self._body(a.original_body),
            _media(a.image), tuple(map(_media, a.media)), _media(a.enclosure),
        )  # fmt: skip

    def _article(self, v: Sequence[Any]) -> Article:
        """The article of :meth:`_fields`' values: its slots set one by one (no ``__init__``: the values
        were checked when it was made), the nested values made again."""
        return _build(
            v, self._unbody(v[4]), self._undate(v[5]), self._undate(v[7]), _untranslation(v[13]),
            self._unbody(v[18]), _unmedia(v[19]), tuple(map(_unmedia, v[20])) if v[20] else (), _unmedia(v[21]),
        )  # fmt: skip

    def _date(self, when: datetime | None) -> tuple[bytes, int] | None:
        if when is None:
            return None
        state = cast(tuple[Any, ...], when.__reduce_ex__(4)[1])  # protocol 4 keeps ``fold``
        zone: tzinfo | None = state[1] if len(state) > 1 else None  # (a naive date has none)
        index = self._zone_index.get(zone)
        if index is None:
            index = self._zone_index[zone] = len(self.zones)
            self.zones.append(zone)
        return state[0], index

    def _undate(self, packed: tuple[bytes, int] | None) -> datetime | None:
        if packed is None:
            return None
        zone = self.zones[packed[1]]
        return _from_state(packed[0], zone) if zone is not None else _from_state(packed[0])

    def _body(self, body: Sequence[object]) -> tuple[object, ...] | None:
        assert isinstance(body, Body)
        if body is EMPTY_BODY:
            return None
        if body._spill is not None and body._spill is self.spill:
            return body._at, body._size, body.digest, body.clean
        return body._bytes(), body.digest, body.clean

    def _unbody(self, packed: tuple[Any, ...] | None) -> Body:
        if packed is None:
            return EMPTY_BODY
        body = Body.__new__(Body)
        if len(packed) == 4:
            body._data, body._spill, body._at, body._size = None, self.spill, packed[0], packed[1]
        else:
            body._data, body._spill, body._at, body._size = packed[0], None, 0, len(packed[0])
        body.digest, body.clean = packed[-2], packed[-1]
        return body


_all_records: weakref.WeakSet[_Records] = weakref.WeakSet()


def forget_unpacked() -> None:
    """Drop every article unpacked so far (rendering calls it between editions, with its memos)."""
    for records in list(_all_records):
        records.unpacked.clear()


_from_state = cast(Callable[..., datetime], datetime)  # datetime(state, zone): the constructor pickle uses


def _setter_code() -> str:
    """``_build``'s source: one slot set per field, in a straight line (a loop over the 22 slots costs
    a third of an unpacking).  The fields made again are arguments, the others taken from ``v``."""
    made = {"body": "body", "published": "published", "updated": "updated", "translation": "translation",
            "original_body": "original_body", "image": "image", "media": "media", "enclosure": "enclosure"}  # fmt: skip
    lines = [f"def _build(v, {', '.join(made.values())}):", "    a = new(Article)"]
    for index, name in enumerate(_ARTICLE_FIELDS):
        lines.append(f"    set_{name}(a, {made.get(name, f'v[{index}]')})")
    lines.append("    return a")
    return "\n".join(lines)


def _make_build() -> Callable[..., Article]:
    scope: dict[str, Any] = {"new": object.__new__, "Article": Article}
    scope.update((f"set_{name}", Article.__dict__[name].__set__) for name in _ARTICLE_FIELDS)
    exec(_setter_code(), scope)  # as dataclasses makes __init__: from the field names, no outside input
    return cast(Callable[..., Article], scope["_build"])


_build = _make_build()
_SET_TRANSLATION = tuple(Translation.__dict__[name].__set__ for name in Translation.__dataclass_fields__)
_MEDIA_FIELDS = ("url", "media_type", "length", "alt", "file", "path", "mtime_ns")


def _translation(t: Translation | None) -> tuple[object, ...] | None:
    return None if t is None else (t.engine, t.source_language, t.original_id, t.original_slug, t.human)


def _untranslation(packed: tuple[Any, ...] | None) -> Translation | None:
    if packed is None:
        return None
    translation = object.__new__(Translation)  # as _build: checked (and its strings shared) when it was made
    for set_field, value in zip(_SET_TRANSLATION, packed, strict=True):
        set_field(translation, value)
    return translation


def _media(m: Media | None) -> tuple[object, ...] | None:
    return None if m is None else tuple(getattr(m, name) for name in _MEDIA_FIELDS)


def _unmedia(packed: tuple[Any, ...] | None) -> Media | None:
    return None if packed is None else Media(*packed)


class Shelf(Sequence[Article]):
    """Some records of a :class:`_Records`, in order: an edition's articles (module docstring)."""

    __slots__ = ("_keys", "_records", "_rows")

    def __init__(self, records: _Records, rows: range | array[int]) -> None:
        self._records, self._rows = records, rows
        self._keys: tuple[str, ...] | None = None

    # ------------------------------------------------------------ a sequence

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Article: ...
    @overload
    def __getitem__(self, index: slice) -> Shelf: ...
    def __getitem__(self, index: int | slice) -> Article | Shelf:
        if isinstance(index, slice):
            return Shelf(self._records, self._rows[index])
        return self._records.article(self._rows[index])

    def __iter__(self) -> Iterator[Article]:
        article = self._records.article
        for row in self._rows:
            yield article(row)

    def take(self, indices: Iterable[int]) -> Shelf:
        """The articles at ``indices`` (positions in this shelf), in that order."""
        rows = self._rows
        return Shelf(self._records, array("q", (rows[i] for i in indices)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Shelf, tuple, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return tuple, (tuple(self),)  # another process gets the articles themselves

    # ------------------------------------------------- read without unpacking

    def _column(self, values: Sequence[Any]) -> list[Any]:
        return [values[row] for row in self._rows]

    @property
    def ids(self) -> list[str]:
        return self._column(self._records.ids)

    @property
    def slugs(self) -> list[str]:
        return self._column(self._records.slugs)

    @property
    def groups(self) -> list[str]:
        """Each article's group: the id it shares with its translations."""
        return self._column(self._records.groups)

    @property
    def languages(self) -> list[str]:
        return self._column(self._records.languages)

    @property
    def categories(self) -> list[str | None]:
        return self._column(self._records.categories)

    @property
    def media(self) -> list[tuple[Media, ...]]:
        return self._column(self._records.media)

    @property
    def keyed(self) -> bool:
        """Whether every article has its render key (:attr:`keys`)."""
        keys = self._records.keys
        return all(keys[row] is not None for row in self._rows)

    @property
    def keys(self) -> tuple[str, ...]:
        """The articles' render keys, in order (only for a :attr:`keyed` shelf)."""
        if self._keys is None:
            keys = self._column(self._records.keys)
            if None in keys:
                raise ValueError("an article of this shelf has no render key")
            self._keys = tuple(keys)
        return self._keys

    def key_at(self, index: int) -> str | None:
        return self._records.keys[self._rows[index]]

    def newest(self) -> int | None:
        """The position of the article changed last (the first of equals), None when empty."""
        modified = self._records.modified
        rows = self._rows
        return max(range(len(rows)), key=lambda i: modified[rows[i]], default=None)

    def first_image(self) -> int | None:
        """The position of the first article with a lead image, None when none has one."""
        images = self._records.images
        return next((i for i, row in enumerate(self._rows) if images[row]), None)

    def refiled(self, prepare: Callable[[Article], tuple[Article, str]]) -> Shelf:
        """These articles, each without a render key replaced by ``prepare``'s article and given its key."""
        records = self._records
        if all(records.keys[row] is not None for row in self._rows):
            return self
        rows = array("q")
        for row in self._rows:
            if records.keys[row] is None:
                article, key = prepare(records._unpack(row))
                row = records.add(article, key)
            rows.append(row)
        return Shelf(records, rows)


def shelve(articles: Iterable[Article], key_of: KeyOf | None = None) -> Shelf:
    """``articles`` packed into the run's spill file (:func:`syndicate.bodies.current`), in order, each
    with its render key from ``key_of`` (None: none yet)."""
    filer = Filer()
    for article in articles:
        filer.add(article, key_of(article) if key_of is not None else None)
    return filer.shelf()


class Filer:
    """Files articles one by one (each can be dropped as soon as it is filed), then gives their shelf.

    Every shelf of a run (its spill file) is over one set of records, so shelves of one run
    join without unpacking an article (:func:`join`).
    """

    def __init__(self) -> None:
        self._records = _records_for(bodies.current())
        self._rows = array("q")

    def add(self, article: Article, key: str | None = None) -> None:
        self._rows.append(self._records.add(article, key))

    def file(self, article: Article, key: str | None = None) -> int:
        """Pack ``article`` without placing it on this filer's shelf yet: its row, for :meth:`add_row`."""
        return self._records.add(article, key)

    def add_row(self, row: int) -> None:
        """Place an article :meth:`file` d by this filer."""
        self._rows.append(row)

    def shelf(self) -> Shelf:
        return Shelf(self._records, self._rows)


def _records_for(spill: bodies.Spill | None) -> _Records:
    """The records of the run whose spill file is ``spill`` (new ones outside a run)."""
    if spill is None:
        return _Records(None)
    records: _Records | None = getattr(spill, "shelf_records", None)
    if records is None:
        records = _Records(spill)
        spill.shelf_records = records  # type: ignore[attr-defined]  # they live and go together
    return records


def join(parts: Iterable[Sequence[Article]], key_of: KeyOf | None = None) -> Shelf:
    """The articles of ``parts`` one after the other, on one shelf: a shelf of this run's records
    by its rows, any other sequence filed article by article (keyed by ``key_of``)."""
    filer = Filer()
    for part in parts:
        if isinstance(part, Shelf) and part._records is filer._records:
            filer._rows.extend(part._rows)
        elif isinstance(part, Shelf):
            for index, article in enumerate(part):
                key = part.key_at(index)
                filer.add(article, key if key is not None or key_of is None else key_of(article))
        else:
            for article in part:
                filer.add(article, key_of(article) if key_of is not None else None)
    return filer.shelf()


def newest_first(shelf: Shelf) -> Shelf:
    """``shelf`` sorted newest published first, equals in their order (a stable sort, as of the articles)."""
    published, rows = shelf._records.published, shelf._rows
    return Shelf(shelf._records, array("q", sorted(rows, key=lambda row: -published[row])))


# ------------------------------------------------ any sequence of articles: a shelf reads its heads


_HEADS: dict[str, Callable[[Article], Any]] = {
    "ids": lambda a: a.id,
    "slugs": lambda a: a.slug,
    "groups": lambda a: a.translation.original_id if a.translation else a.id,
    "languages": lambda a: a.language,
    "categories": lambda a: a.category,
    "media": lambda a: a.media,
}


def column(articles: Sequence[Article], name: str) -> list[Any]:
    """One head of every article, in order (``ids``, ``slugs``, ``groups``, ``languages``, ``categories``,
    ``media``): a shelf's without unpacking an article."""
    if isinstance(articles, Shelf):
        return getattr(articles, name)  # type: ignore[no-any-return]
    return list(map(_HEADS[name], articles))


def newest(articles: Sequence[Article]) -> int | None:
    """The position of the article changed last (the first of equals), None when there is none."""
    if isinstance(articles, Shelf):
        return articles.newest()
    modified = [article.modified for article in articles]
    return max(range(len(modified)), key=modified.__getitem__, default=None)


def first_image(articles: Sequence[Article]) -> int | None:
    """The position of the first article with a lead image, None when none has one."""
    if isinstance(articles, Shelf):
        return articles.first_image()
    return next((i for i, article in enumerate(articles) if article.image is not None), None)


def take(articles: Sequence[Article], indices: Iterable[int]) -> Sequence[Article]:
    """The articles at ``indices``, in that order (a shelf over the same records for a shelf)."""
    if isinstance(articles, Shelf):
        return articles.take(indices)
    return tuple(articles[i] for i in indices)
