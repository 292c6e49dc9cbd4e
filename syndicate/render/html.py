"""HTML: the target's URL scheme, item content fragments and the pages.

This module owns

* the URL scheme of the target directory (DESIGN 6): where an edition's
  index, feeds and article pages live, as absolute URLs from ``site.url``;
* the HTML fragment of an item's content (dateline, body blocks and the
  translation note), shared by the feeds and the article pages;
* the pages themselves: ``index.html``, ``<lang>/index.html`` and
  ``<lang>/articles/<slug>.html``: this module builds each page's context
  and the theme's Jinja2 templates (autoescaped) make the HTML; an edition's
  article pages through one frame per shape (:mod:`.frames`), built once.

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import functools
import html
import mmap
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from syndicate import localize
from syndicate.content import blocks_html
from syndicate.formats import BY_NAME, PAGE, OutputFormat, section_dir
from syndicate.formats import feed_path as formats_feed_path
from syndicate.models import Article, Block, Edition, Site, Translation
from syndicate.render.frames import Frames
from syndicate.render.lines import LineStore, article_key
from syndicate.render.theme import Theme, load_theme
from syndicate.shelf import Shelf, forget_unpacked

if TYPE_CHECKING:
    from syndicate.render.sections import Section

# --------------------------------------------------------------------- URL scheme


FeedFormat = OutputFormat
FEED_FORMATS: dict[str, OutputFormat] = BY_NAME  # the one table of output formats (syndicate.formats)


def index_path(language: str) -> str:
    """Relative path of an edition's index page."""
    return f"{language}/index.html"


def article_path(language: str, slug: str) -> str:
    """Relative path of an article page."""
    return f"{language}/articles/{slug}.html"


def feed_path(language: str, fmt: str) -> str:
    """Relative path of an edition's feed in format ``fmt`` (``rss``, ``atom``, ``json``)."""
    return f"{language}/{FEED_FORMATS[fmt].filename}"


def index_url(site: Site, language: str) -> str:
    """Absolute URL of an edition's index page."""
    return site.url_for(index_path(language))


def article_url(site: Site, language: str, slug: str) -> str:
    """Absolute URL of an article page (of its entry in the edition index, without pages)."""
    if not site.pages:
        return f"{index_url(site, language)}#{slug}"
    return site.url_for(article_path(language, slug))


def feed_url(site: Site, language: str, fmt: str) -> str:
    """Absolute URL of an edition's feed."""
    return site.url_for(feed_path(language, fmt))


def original_url(site: Site, translation: Translation) -> str:
    """Absolute URL of the original-language page of a translated article."""
    return article_url(site, translation.source_language, translation.original_slug)


# ------------------------------------------------------------------ item content


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def escape_text(text: str) -> str:
    """Plain text as HTML text (``<`` -> ``&lt;``...): for fields readers treat as HTML."""
    return _esc(text)


def dateline_html(site: Site, article: Article) -> str:
    """``<p class="dateline"><time datetime=ISO>14 de abril de 2025, 10:46 MSK</time></p>``."""
    return _dateline(article.published, article.date_only, article.language, site.timezone)


# An article's dateline is asked for by its content (feeds, page) and by its listing lines:
# kept for one edition (clear_content_memo empties it), the only copy of the text.
@functools.lru_cache(maxsize=16384)
def _dateline(published: datetime, date_only: bool, language: str, timezone: str) -> str:
    local = published.astimezone(localize.zone(timezone))
    if date_only:  # the source gave a day, not a time: show the day, invent no time
        text = localize.format_date_only(local.date(), language)
        return f'<p class="dateline"><time datetime="{local.date().isoformat()}">{_esc(text)}</time></p>'
    # localize's own cache would keep every edition's datelines again, for the whole run
    text = localize.format_dateline.__wrapped__(published, language, timezone)
    return f'<p class="dateline"><time datetime="{local.isoformat()}">{_esc(text)}</time></p>'


def body_html(blocks: Iterable[Block]) -> str:
    """The body blocks as HTML (the content model's own serialization, already sanitized)."""
    return blocks_html(blocks)


def translation_note_html(site: Site, article: Article) -> str:
    """The localized machine-translation note with a link to the original, or ``""``."""
    tr = article.translation
    if tr is None or tr.human:
        return ""
    note = localize.translation_note(article.language, tr.engine, tr.source_language)
    if article.body_language:  # title-only translation: say what was translated, and what was not
        note = localize.title_only_note(article.language, tr.engine, tr.source_language)
    link_text = localize.original_article_label(article.language)
    return (
        f'<p class="translation-note">{_esc(note)} '
        f'<a href="{_esc(original_url(site, tr))}" hreflang="{_esc(tr.source_language)}">'
        f"{_esc(link_text)}</a></p>"
    )


# Every feed format and the article page use an item's content: render it once per
# edition (render_site clears the memo between editions).  Keyed by identity, checked by
# identity.  Held as UTF-8 in a few large buffers (:class:`_Buffers`), not one bytes object
# per item: a render worker holds a whole edition's contents (11 MB at N=10,000), and
# thousands of 1-4 KB objects allocated among a page's or a feed's short-lived ones leave
# holes in the C heap that outlive them.
_CHUNK = 1 << 20  # bytes per buffer


class _Buffers:
    """Append-only UTF-8 text in anonymous memory maps of :data:`_CHUNK` bytes (a larger text gets
    a map of its own): outside the C heap, untouched pages cost nothing, and :meth:`clear` gives
    every page back to the system at once."""

    def __init__(self) -> None:
        self._maps: list[mmap.mmap | bytearray] = []
        self._used = 0  # bytes written into the last map

    def add(self, data: bytes) -> tuple[int, int, int]:
        """Store ``data``: its (buffer, offset, length)."""
        size = len(data)
        if not self._maps or self._used + size > len(self._maps[-1]):
            self._maps.append(_new_map(max(size, _CHUNK)))
            self._used = 0
        where = (len(self._maps) - 1, self._used, size)
        self._maps[-1][self._used : self._used + size] = data
        self._used += size
        return where

    def text(self, where: tuple[int, int, int]) -> str:
        """The text stored at ``where``, decoded from the buffer in place (no bytes copy)."""
        index, offset, size = where
        with memoryview(self._maps[index]) as view, view[offset : offset + size] as piece:
            return str(piece, "utf-8", "surrogatepass")  # whatever the text holds comes back as it was

    def clear(self) -> None:
        for buffer in self._maps:
            if not isinstance(buffer, bytearray):
                buffer.close()  # unmapped now, not when the last reference goes
        self._maps.clear()
        self._used = 0

    @property
    def size(self) -> int:
        """Bytes reserved (what the buffers can hold)."""
        return sum(len(buffer) for buffer in self._maps)


def _new_map(size: int) -> mmap.mmap | bytearray:
    """A private anonymous map of ``size`` bytes (a forked worker's writes stay its own); a
    bytearray where there is no such map."""
    private = getattr(mmap, "MAP_PRIVATE", None)
    if private is not None:
        try:
            return mmap.mmap(-1, size, flags=private)
        except OSError:  # no map to be had (a limit on maps): the C heap then
            pass
    return bytearray(size)


_content_memo: dict[int, tuple[Site, Article, tuple[int, int, int]]] = {}
_content_text = _Buffers()


def item_content_html(site: Site, article: Article) -> str:
    """The full content of an item: dateline, body and translation note."""
    hit = _content_memo.get(id(article))
    if hit is not None and hit[0] is site and hit[1] is article:
        return _content_text.text(hit[2])
    body = body_html(article.body)
    if article.body_language and article.body_language != article.language:
        lang = article.body_language
        body = f'<div lang="{lang}" dir="{localize.text_direction(lang)}">\n{body}\n</div>'
    parts = (dateline_html(site, article), body, translation_note_html(site, article))
    content = "\n".join(p for p in parts if p)
    _content_memo[id(article)] = (site, article, _content_text.add(content.encode("utf-8", "surrogatepass")))
    return content


def clear_content_memo() -> None:
    """Free what the memos hold (the item contents, datelines, pages' parts and frames): between
    editions, and at the end of a render."""
    _content_memo.clear()
    forget_unpacked()  # the articles the memo knew, unpacked from their shelves
    _content_text.clear()
    _dateline.cache_clear()
    _parts_memo.clear()
    _frames_memo.clear()


# ------------------------------------------------------------------------ pages
#
# Pages are Jinja2 templates of the theme (see :mod:`syndicate.render.theme`);
# the functions below build each page's context.  Text goes in as text (the
# templates escape it); HTML fragments built here go in as Markup.


LABELS: tuple[localize.LabelKey, ...] = ("original", "index", "languages", "feeds", "latest", "sections")


class Record(dict[str, Any]):
    """A template variable's dict whose keys are also attributes.

    Jinja2 resolves ``feed.href`` with ``getattr`` first and falls back to
    ``feed["href"]`` only after an AttributeError: on a plain dict that is a
    raised exception per lookup, dozens per page.  A theme may use either form.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _base_context(
    site: Site, lang: str, editions: Sequence[Edition], formats: Sequence[str], theme: Theme
) -> dict[str, Any]:
    return {
        "site": Record(title=site.title, url=site.url, description=site.description, logo=site.logo),
        "lang": lang,
        "dir": localize.text_direction(lang),
        "labels": Record((key, localize.label(key, lang)) for key in LABELS),
        "alternates": [],
        "feeds": [],
        "subscribe": [],
        "languages": [],
        "theme": theme,
    }


def _rendered_parts(context: dict[str, Any], theme: Theme) -> dict[str, Any]:
    """``context`` with ``style`` (style.css) and ``footer`` (subscribe.html) rendered from it, as Markup."""
    context["style"] = Markup(theme.render("style.css", context).decode("utf-8"))
    context["footer"] = Markup(theme.render("subscribe.html", context).decode("utf-8"))
    return context


# What every article page of an edition shares is built once per edition and render
# (not once per page): the base context, the feed links, the subscribe list and the
# footer, pre-rendered from subscribe.html.  Cleared with the content memo.
# Keyed by the site's identity (checked): hashing a Site per page costs more than the rest of the look-up.
_parts_memo: dict[tuple[object, ...], tuple[Site, dict[str, Any]]] = {}


def _edition_parts(
    site: Site, edition: Edition, editions: Sequence[Edition], formats: Sequence[str], theme: Theme
) -> dict[str, Any]:
    key = (id(site), edition.language, edition.title, tuple(formats), id(theme))
    hit = _parts_memo.get(key)
    parts = hit[1] if hit is not None and hit[0] is site else None
    if parts is None or parts["theme"] is not theme:
        lang = edition.language
        parts = _base_context(site, lang, editions, formats, theme)
        parts.update(
            home=index_url(site, lang),
            site_name=edition.title,
            feeds=_feed_links(site, edition, formats),
            subscribe=_subscribe(site, lang, formats),
        )
        parts = _rendered_parts(parts, theme)
        _parts_memo[key] = (site, parts)
    return parts


def _feed_links(
    site: Site, edition: Edition, formats: Sequence[str], directory: str | None = None
) -> list[dict[str, str]]:
    """Discovery links (``<link rel=alternate type=...>``) of the feeds in a feed directory (default: the edition's)."""
    directory = directory or edition.language
    return [
        Record(
            type=FEED_FORMATS[fmt].media_type,
            title=f"{edition.title} ({FEED_FORMATS[fmt].label})",
            href=site.url_for(formats_feed_path(directory, fmt)),
            hreflang=edition.language,
        )
        for fmt in formats
        if FEED_FORMATS[fmt].discovery
    ]


def _subscribe(site: Site, language: str, formats: Sequence[str], directory: str | None = None) -> list[dict[str, str]]:
    return [
        Record(
            label=FEED_FORMATS[fmt].label,
            href=site.url_for(formats_feed_path(directory or language, fmt)),
            type=FEED_FORMATS[fmt].media_type,
        )
        for fmt in formats
    ]


def section_path(language: str, slug: str) -> str:
    """Relative path of a section's page."""
    return f"{section_dir(language, slug)}/{PAGE}"


def _section_links(site: Site, sections: Sequence[Section]) -> list[dict[str, str]]:
    return [Record(name=s.name, slug=s.slug, href=site.url_for(section_path(s.edition.language, s.slug)))
            for s in sections]  # fmt: skip


def _languages(
    site: Site, editions: Sequence[Edition], current: str | None, pages: Mapping[str, str] | None = None
) -> list[dict[str, object]]:
    """The language switcher: each edition, linking this article's page in it where there is one."""
    pages = pages or {}
    return [
        Record(
            code=ed.language,
            name=_native_name(ed.language),
            href=pages.get(ed.language) or index_url(site, ed.language),
            current=ed.language == current,
        )
        for ed in editions
    ]


@functools.lru_cache(maxsize=64)
def _native_name(tag: str) -> str:
    """A language's name in itself, once per process (CLDR lookups are the switcher's main cost)."""
    return localize.native_name(tag)


def _lang_attrs(article: Article, container_language: str) -> Markup:
    """``lang``/``dir`` attributes when an article's language differs from the page's."""
    if article.language == container_language:
        return Markup("")
    return Markup(f' lang="{article.language}" dir="{localize.text_direction(article.language)}"')


def _item(site: Site, language: str, article: Article) -> dict[str, object]:
    """One entry of ``items``: what ``item.html`` shows of an article on a listing page in ``language``."""
    return Record(
        slug=article.slug,
        href=article_url(site, language, article.slug),
        title=article.title,
        summary=article.summary,
        dateline=Markup(dateline_html(site, article)),
        lang_attrs=_lang_attrs(article, language),
        language=article.language,
    )


class _Items(Sequence[dict[str, object]]):
    """The ``items`` of a listing page, each built when a template asks for it (the default theme
    does not: it joins the kept lines, :mod:`syndicate.render.lines`)."""

    def __init__(self, site: Site, language: str, articles: Sequence[Article]) -> None:
        self._site, self._language, self._articles = site, language, articles

    def __len__(self) -> int:
        return len(self._articles)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [_item(self._site, self._language, a) for a in self._articles[index]]
        return _item(self._site, self._language, self._articles[index])


def _listing(
    context: dict[str, Any],
    site: Site,
    language: str,
    articles: Sequence[Article],
    theme: Theme,
    store: LineStore | None,
    keys: Sequence[str] | None,
) -> dict[str, Any]:
    """``context`` with the page's ``items`` and ``item_lines(heading)``: their lines, joined (*HTML*)."""
    lines = store if store is not None else LineStore()
    item_of = functools.partial(_item, site, language)

    def item_lines(heading: str) -> Markup:
        nonlocal keys
        if keys is None:
            prepared = isinstance(articles, Shelf) and articles.keyed  # a prepared edition's: its keys are at hand
            keys = articles.keys if prepared else [article_key(a) for a in articles]  # type: ignore[attr-defined]
        return lines.lines(theme, site, language, heading, context, articles, keys, item_of)

    context["items"] = _Items(site, language, articles)
    context["item_lines"] = item_lines
    return context


def article_page(
    site: Site,
    edition: Edition,
    article: Article,
    formats: Sequence[str],
    alternates: Mapping[str, str],
    editions: Sequence[Edition] = (),
    theme: Theme | None = None,
) -> bytes:
    """``<lang>/articles/<slug>.html``: one article with its localized furniture.

    ``alternates`` maps a language to the URL of this article's page in that
    language (including this page itself); each becomes an hreflang link and
    the language switcher's target.  With the shipped article templates the
    page is its edition's frame with this article's values in the slots
    (:mod:`.frames`); with a theme's own, Jinja2 renders it.
    """
    theme = theme or load_theme()
    editions = editions or (edition,)
    parts = _edition_parts(site, edition, editions, formats, theme)
    page = _article_context(site, edition, article, alternates, editions)
    return _edition_frames(parts, theme).render(page).encode("utf-8")


ARTICLE_TEMPLATES = ("article.html", "base.html", "languages.html")  # what an article page is made from


def _article_context(
    site: Site, edition: Edition, article: Article, alternates: Mapping[str, str], editions: Sequence[Edition]
) -> dict[str, Any]:
    """What an article page has of its own: everything but its edition's parts (:func:`_edition_parts`)."""
    lang = edition.language
    return {
        "page_title": f"{article.title} | {edition.title}",
        "canonical": article_url(site, lang, article.slug),
        "alternates": [Record(hreflang=code, href=href) for code, href in sorted(alternates.items())],
        "languages": _languages(site, editions, lang, alternates),
        "article": Record(
            title=article.title_source or article.title,  # never a cut headline on its own page
            headline=article.title,
            category=article.category,
            author=article.author or site.author,  # the byline: the article's author, else the desk's
            tags=article.tags,
            lang_attrs=_lang_attrs(article, lang),
            content=Markup(item_content_html(site, article)),
            original=Markup(_original_html(article)),
            published=article.published,
        ),
    }


# Per edition (its parts' identity): the frames of its article pages (:mod:`.frames`).
_frames_memo: dict[int, tuple[Mapping[str, Any], Frames]] = {}


def _edition_frames(parts: Mapping[str, Any], theme: Theme) -> Frames:
    hit = _frames_memo.get(id(parts))
    if hit is None or hit[0] is not parts:
        hit = _frames_memo[id(parts)] = (parts, Frames(theme, "article.html", parts, ARTICLE_TEMPLATES))
    return hit[1]


def _original_html(article: Article) -> str:
    """Bilingual pages: the original text under the translation, marked with its language."""
    tr = article.translation
    if not article.original_body or tr is None:
        return ""
    lang = tr.source_language
    return (
        f'<section class="original" lang="{lang}" dir="{localize.text_direction(lang)}">\n'
        f"<h2>{_esc(localize.label('original', article.language))}</h2>\n{body_html(article.original_body)}\n"
        "</section>"
    )


def edition_index_page(
    site: Site,
    edition: Edition,
    editions: Sequence[Edition],
    formats: Sequence[str],
    theme: Theme | None = None,
    sections: Sequence[Section] = (),
    lines: LineStore | None = None,
    keys: Sequence[str] | None = None,
) -> bytes:
    """``<lang>/index.html``: every article of the edition, newest first, and links to its sections.

    ``lines`` keeps the items' lines across pages and runs; ``keys`` are the articles' render keys.
    """
    theme = theme or load_theme()
    lang = edition.language
    context = _base_context(site, lang, editions, formats, theme)
    section_feeds = [
        link for s in sections for link in _feed_links(site, s.edition, formats, section_dir(lang, s.slug))
    ]
    context.update(
        page_title=edition.title,
        canonical=index_url(site, lang),
        home=index_url(site, lang),
        site_name=edition.title,
        feeds=_feed_links(site, edition, formats) + section_feeds,
        sections=_section_links(site, sections),
        alternates=[Record(hreflang=ed.language, href=index_url(site, ed.language)) for ed in _sorted(editions)],
        subscribe=_subscribe(site, lang, formats),
        languages=_languages(site, editions, lang),
        edition=Record(title=edition.title, description=edition.description, language=lang),
    )
    _listing(context, site, lang, edition.articles, theme, lines, keys)
    return theme.render("edition.html", _rendered_parts(context, theme))


def section_page(
    site: Site,
    edition: Edition,
    section: Section,
    editions: Sequence[Edition],
    siblings: Sequence[str],
    formats: Sequence[str],
    theme: Theme | None = None,
    lines: LineStore | None = None,
    keys: Sequence[str] | None = None,
) -> bytes:
    """``<lang>/sections/<slug>/index.html``: one section's articles, its feeds and discovery links.

    ``siblings`` are the other languages that have this section; ``lines`` and ``keys`` as for
    :func:`edition_index_page`.
    """
    theme = theme or load_theme()
    lang = edition.language
    directory = section_dir(lang, section.slug)
    pages = {code: site.url_for(section_path(code, section.slug)) for code in (lang, *siblings)}
    context = _base_context(site, lang, editions, formats, theme)
    context.update(
        page_title=section.edition.title,
        canonical=pages[lang],
        home=index_url(site, lang),
        site_name=edition.title,
        feeds=_feed_links(site, section.edition, formats, directory),
        alternates=[Record(hreflang=code, href=href) for code, href in sorted(pages.items())],
        subscribe=_subscribe(site, lang, formats, directory),
        languages=_languages(site, editions, lang, pages),
        section=Record(name=section.name, title=section.edition.title, slug=section.slug, language=lang),
        edition=Record(title=edition.title, description=edition.description, language=lang),
    )
    _listing(context, site, lang, section.edition.articles, theme, lines, keys)
    return theme.render("section.html", _rendered_parts(context, theme))


def site_index_page(
    site: Site,
    editions: Sequence[Edition],
    formats: Sequence[str],
    latest: int = 10,
    theme: Theme | None = None,
    lines: LineStore | None = None,
) -> bytes:
    """The root ``index.html``: language switcher, latest items, every feed."""
    theme = theme or load_theme()
    lang = editions[0].language if editions else localize.normalize_tag(site.language)
    context = _base_context(site, lang, editions, formats, theme)
    context.update(
        page_title=site.title,
        canonical=site.url_for("index.html"),
        home=site.url_for("index.html"),
        site_name=site.title,
        feeds=[link for ed in editions for link in _feed_links(site, ed, formats)],
        alternates=[Record(hreflang=ed.language, href=index_url(site, ed.language)) for ed in _sorted(editions)],
        languages=_languages(site, editions, None),
        editions=[
            Record(
                language=ed.language,
                title=ed.title,
                href=index_url(site, ed.language),
                feeds=_subscribe(site, ed.language, formats),
            )
            for ed in editions
        ],
    )
    _listing(context, site, lang, editions[0].articles[:latest] if editions else (), theme, lines, None)
    return theme.render("site.html", _rendered_parts(context, theme))


def _sorted(editions: Sequence[Edition]) -> list[Edition]:
    return sorted(editions, key=lambda ed: ed.language)
