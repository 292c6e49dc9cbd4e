"""HTML: the target's URL scheme, item content fragments and the pages.

This module owns

* the URL scheme of the target directory (DESIGN 6): where an edition's
  index, feeds and article pages live, as absolute URLs from ``site.url``;
* the HTML fragment of an item's content (dateline, body blocks and the
  translation note), shared by the feeds and the article pages;
* the pages themselves: ``index.html``, ``<lang>/index.html`` and
  ``<lang>/articles/<slug>.html``, built from small string templates in
  which every piece of text goes through :func:`html.escape`.

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from syndicate import localize
from syndicate.content import blocks_html
from syndicate.models import Article, Block, Edition, Site, Translation

# --------------------------------------------------------------------- URL scheme


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """One feed format: its file name inside ``<lang>/``, media type and label."""

    name: str
    filename: str
    media_type: str
    label: str


FEED_FORMATS: dict[str, FeedFormat] = {
    f.name: f
    for f in (
        FeedFormat("rss", "rss.xml", "application/rss+xml", "RSS"),
        FeedFormat("atom", "atom.xml", "application/atom+xml", "Atom"),
        FeedFormat("json", "feed.json", "application/feed+json", "JSON Feed"),
    )
}


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
    local = article.published.astimezone(localize.zone(site.timezone))
    if article.date_only:  # the source gave a day, not a time: show the day, invent no time
        text = localize.format_date_only(local.date(), article.language)
        return f'<p class="dateline"><time datetime="{local.date().isoformat()}">{_esc(text)}</time></p>'
    text = localize.format_dateline(article.published, article.language, site.timezone)
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
# render_site call (render_site clears the memo).  Keyed by identity, checked by identity.
_content_memo: dict[int, tuple[Site, Article, str]] = {}


def item_content_html(site: Site, article: Article) -> str:
    """The full content of an item: dateline, body and translation note."""
    hit = _content_memo.get(id(article))
    if hit is not None and hit[0] is site and hit[1] is article:
        return hit[2]
    body = body_html(article.body)
    if article.body_language and article.body_language != article.language:
        lang = article.body_language
        body = f'<div lang="{lang}" dir="{localize.text_direction(lang)}">\n{body}\n</div>'
    parts = (dateline_html(site, article), body, translation_note_html(site, article))
    content = "\n".join(p for p in parts if p)
    _content_memo[id(article)] = (site, article, content)
    return content


def clear_content_memo() -> None:
    _content_memo.clear()


# ------------------------------------------------------------------------ pages

_STYLE = (
    "body{font:1.05rem/1.55 system-ui,sans-serif;max-width:42rem;margin:0 auto;padding:1rem}"
    "a{color:#1a4f8b}.dateline,.category,.summary{color:#555}.dateline{font-size:.9rem}"
    "ol.articles,ul.languages{list-style:none;padding:0}ol.articles li{margin-block-end:1.5rem}"
    "ul.languages li{display:inline-block;margin-inline-end:1rem}"
    "blockquote{border-inline-start:3px solid #ccc;margin-inline:0;padding-inline-start:1rem}"
    ".translation-note{font-size:.9rem;font-style:italic;"
    "border-block-start:1px solid #ddd;padding-block-start:.5rem}"
)


@dataclass(frozen=True, slots=True)
class _Head:
    title: str
    canonical: str
    feeds: Sequence[tuple[str, str, str, str]] = ()  # (media type, title, href, hreflang)
    alternates: Sequence[tuple[str, str]] = ()  # (hreflang, href)


def _head_html(head: _Head) -> str:
    lines = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(head.title)}</title>",
        f'<link rel="canonical" href="{_esc(head.canonical)}">',
    ]
    lines += [
        f'<link rel="alternate" type="{media}" title="{_esc(title)}" href="{_esc(href)}" hreflang="{lang}">'
        for media, title, href, lang in head.feeds
    ]
    lines += [f'<link rel="alternate" hreflang="{lg}" href="{_esc(href)}">' for lg, href in head.alternates]
    lines.append(f"<style>{_STYLE}</style>")
    return "\n".join(lines)


def _page(language: str, head: _Head, body: str) -> bytes:
    direction = localize.text_direction(language)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{language}" dir="{direction}">\n'
        f"<head>\n{_head_html(head)}\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    ).encode()


def _feed_links(site: Site, edition: Edition, formats: Sequence[str]) -> list[tuple[str, str, str, str]]:
    return [
        (
            FEED_FORMATS[fmt].media_type,
            f"{edition.title} ({FEED_FORMATS[fmt].label})",
            feed_url(site, edition.language, fmt),
            edition.language,
        )
        for fmt in formats
    ]


def _feeds_list_html(site: Site, edition: Edition, formats: Sequence[str]) -> str:
    items = "".join(
        f'<li><a href="{_esc(feed_url(site, edition.language, fmt))}" type="{FEED_FORMATS[fmt].media_type}">'
        f"{FEED_FORMATS[fmt].label}</a></li>"
        for fmt in formats
    )
    return f'<ul class="feeds">{items}</ul>'


def _languages_nav(site: Site, editions: Sequence[Edition], current: str | None) -> str:
    items = []
    for ed in editions:
        name = _esc(localize.native_name(ed.language))
        if ed.language == current:
            items.append(f'<li lang="{ed.language}"><strong>{name}</strong></li>')
        else:
            href, lg = _esc(index_url(site, ed.language)), ed.language
            items.append(f'<li><a href="{href}" lang="{lg}" hreflang="{lg}">{name}</a></li>')
    label = localize.label("languages", current or (editions[0].language if editions else "en"))
    return f'<nav aria-label="{_esc(label)}"><ul class="languages">{"".join(items)}</ul></nav>'


def _lang_attrs(article: Article, container_language: str) -> str:
    """``lang``/``dir`` attributes when an article's language differs from the page's."""
    if article.language == container_language:
        return ""
    return f' lang="{article.language}" dir="{localize.text_direction(article.language)}"'


def _article_summary_html(site: Site, edition: Edition, article: Article) -> str:
    href = _esc(article_url(site, edition.language, article.slug))
    summary = f'\n<p class="summary">{_esc(article.summary)}</p>' if article.summary else ""
    return (
        f'<li><article id="{_esc(article.slug)}"{_lang_attrs(article, edition.language)}>\n'
        f'<h2><a href="{href}">{_esc(article.title)}</a></h2>\n'
        f"{dateline_html(site, article)}{summary}\n</article></li>"
    )


def _article_list_html(site: Site, edition: Edition, articles: Iterable[Article]) -> str:
    items = "\n".join(_article_summary_html(site, edition, a) for a in articles)
    return f'<ol class="articles">\n{items}\n</ol>' if items else ""


def article_page(
    site: Site, edition: Edition, article: Article, formats: Sequence[str], alternates: Mapping[str, str]
) -> bytes:
    """``<lang>/articles/<slug>.html``: one article with its localized furniture.

    ``alternates`` maps a language to the URL of this article's page in that
    language (including this page itself); each becomes an hreflang link.
    """
    lang = edition.language
    head = _Head(
        title=f"{article.title} | {edition.title}",
        canonical=article_url(site, lang, article.slug),
        feeds=_feed_links(site, edition, formats),
        alternates=sorted(alternates.items()),
    )
    category = f'\n<p class="category">{_esc(article.category)}</p>' if article.category else ""
    if article.author:
        category += f'\n<p class="byline"><span class="author">{_esc(article.author)}</span></p>'
    home = _esc(index_url(site, lang))
    body = (
        f'<header><p class="site"><a href="{home}">{_esc(edition.title)}</a></p></header>\n'
        f"<main>\n<article{_lang_attrs(article, lang)}>\n<h1>{_esc(article.title)}</h1>{category}\n"
        f"{item_content_html(site, article)}{_original_html(article)}\n</article>\n</main>\n"
        f'<footer><p><a href="{home}">{_esc(localize.label("index", lang))}</a></p></footer>'
    )
    return _page(lang, head, body)


def _original_html(article: Article) -> str:
    """Bilingual pages: the original text under the translation, marked with its language."""
    tr = article.translation
    if not article.original_body or tr is None:
        return ""
    lang = tr.source_language
    return (
        f'\n<section class="original" lang="{lang}" dir="{localize.text_direction(lang)}">\n'
        f"<h2>{_esc(localize.label('original', article.language))}</h2>\n{body_html(article.original_body)}\n"
        "</section>"
    )


def edition_index_page(
    site: Site, edition: Edition, editions: Sequence[Edition], formats: Sequence[str]
) -> bytes:
    """``<lang>/index.html``: every article of the edition, newest first."""
    lang = edition.language
    head = _Head(
        title=edition.title,
        canonical=index_url(site, lang),
        feeds=_feed_links(site, edition, formats),
        alternates=sorted((ed.language, index_url(site, ed.language)) for ed in editions),
    )
    description = f'\n<p class="description">{_esc(edition.description)}</p>' if edition.description else ""
    body = (
        f"<header>\n<h1>{_esc(edition.title)}</h1>{description}\n"
        f"{_languages_nav(site, editions, lang)}\n</header>\n"
        f"<main>\n{_article_list_html(site, edition, edition.articles)}\n</main>\n"
        f"<footer>\n<h2>{_esc(localize.label('feeds', lang))}</h2>\n"
        f"{_feeds_list_html(site, edition, formats)}\n</footer>"
    )
    return _page(lang, head, body)


def site_index_page(
    site: Site, editions: Sequence[Edition], formats: Sequence[str], latest: int = 10
) -> bytes:
    """The root ``index.html``: language switcher, latest items, every feed."""
    lang = editions[0].language if editions else localize.normalize_tag(site.language)
    head = _Head(
        title=site.title,
        canonical=site.url_for("index.html"),
        feeds=[link for ed in editions for link in _feed_links(site, ed, formats)],
        alternates=sorted((ed.language, index_url(site, ed.language)) for ed in editions),
    )
    latest_html = ""
    if editions and editions[0].articles:
        latest_html = (
            f"<section>\n<h2>{_esc(localize.label('latest', lang))}</h2>\n"
            f"{_article_list_html(site, editions[0], editions[0].articles[:latest])}\n</section>\n"
        )
    feeds_html = "\n".join(
        f'<li lang="{ed.language}"><a href="{_esc(index_url(site, ed.language))}">{_esc(ed.title)}</a>'
        f"{_feeds_list_html(site, ed, formats)}</li>"
        for ed in editions
    )
    description = f'\n<p class="description">{_esc(site.description)}</p>' if site.description else ""
    body = (
        f"<header>\n<h1>{_esc(site.title)}</h1>{description}\n"
        f"{_languages_nav(site, editions, None)}\n</header>\n<main>\n{latest_html}"
        f"<section>\n<h2>{_esc(localize.label('feeds', lang))}</h2>\n"
        f"<ul>\n{feeds_html}\n</ul>\n</section>\n</main>"
    )
    return _page(lang, head, body)
