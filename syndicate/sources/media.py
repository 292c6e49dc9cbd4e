"""An article's lead image, local image files and enclosure, read from its metadata and body (DESIGN 9).

* The lead image is front matter / JSON ``image`` (text, or a table with
  ``url``/``src``, ``alt``, ``type``, ``length``), else ``images[0]``, else
  ``cover`` (text or a table with ``image``), else JSON ``banner_image``,
  else the first figure of the body.  Its alt text is the table's ``alt``
  (or ``image_alt``), the figure's alt for a figure.
* A value without a scheme names a local file, relative to the article's
  directory.  It must be inside one of the source directories, have an image
  type this module knows and be at most :data:`MAX_MEDIA_BYTES`; anything
  else is an :class:`InputError` naming the article.  A local file is
  published once, shared by every language, as
  ``<source language>/media/<content digest>-<name>``: the name changes
  whenever the bytes do, so a published media file never changes.  Figures
  of the body whose image is such a local file (Markdown ``![alt](photo.jpg)``)
  are published the same way and point at the published copy.
* A remote (http/https) image is referenced as it is: its type comes from
  its extension (or the table's ``type``), its length is unknown (0) unless
  the table gives ``length``.  RSS needs a length for an enclosure, so a
  remote image of unknown size is only ``media:content`` there.
* ``enclosure: {url, type, length}`` (audio or video; all three required,
  length above 0) is passed through.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from syndicate.errors import InputError
from syndicate.models import Block, Media
from syndicate.sources.common import ReadContext, check_url, normalize_space

MAX_MEDIA_BYTES = 20 * 1024 * 1024
IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
}
ENCLOSURE_KINDS = ("audio/", "video/")
_TYPE_RE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9.+-]*")


def media_type(url: str) -> str:
    """An image's media type from its URL's or file name's extension ("" when unknown)."""
    return IMAGE_TYPES.get(PurePosixPath(urlsplit(url).path).suffix.lower(), "")


def media_path(language: str, name: str) -> str:
    """Target-relative path of a published media file, in the source language's media directory."""
    return f"{language}/media/{name}"


def read_media(
    path: str, file: str, meta: Mapping[str, Any], body: tuple[Block, ...], base: str | None, ctx: ReadContext
) -> tuple[Media | None, tuple[Media, ...], Media | None, tuple[Block, ...]]:
    """``(lead image, local files to publish, enclosure, body)`` of one article.

    ``path`` names the article in errors, ``file`` is its file on disk, ``base``
    what its relative URLs resolved against; figures pointing at local files
    come back pointing at their published copies.
    """
    local: dict[str, Media] = {}  # figure src (as read, and as published) -> the published file
    body = tuple(_publish_figures(path, block, file, base, ctx, local) for block in body)
    image = _declared_image(path, file, meta, ctx)
    if image is None:
        figure = next((b for top in body for b in top.walk() if b.kind == "figure" and b.attr("src")), None)
        if figure is not None:
            src = figure.attr("src")
            image = dataclasses.replace(local.get(src) or Media(src, media_type(src)), alt=figure.attr("alt"))
    files = {media.path: media for media in local.values()}
    if image is not None and image.path:
        files.setdefault(image.path, image)
    return image, tuple(files[p] for p in sorted(files)), _enclosure(path, meta.get("enclosure")), body


def _declared_image(path: str, file: str, meta: Mapping[str, Any], ctx: ReadContext) -> Media | None:
    value: Any = None
    for key in ("image", "images", "cover", "banner_image"):
        value = meta.get(key)
        if isinstance(value, Sequence) and not isinstance(value, str):
            value = value[0] if value else None
        if value not in (None, ""):
            break
    else:
        return None
    where = f"image {value!r}" if isinstance(value, str) else "image"
    alt = meta.get("image_alt")
    length: object = 0
    kind: object = ""
    if isinstance(value, Mapping):
        alt = value.get("alt", alt)
        length, kind = value.get("length", 0), value.get("type", "")
        value = next((value[k] for k in ("url", "src", "image") if isinstance(value.get(k), str)), None)
    if not isinstance(value, str) or not value.strip():
        raise InputError(path, f"{where}: expected a URL or a file name (text, or a table with url and alt)")
    if alt is not None and not isinstance(alt, str):
        raise InputError(path, f"{where}: alt must be text")
    alt_text = normalize_space(alt or "")
    value = value.strip()
    if urlsplit(value).scheme:
        url = check_url(path, value)
        kind = _given_type(path, kind, where) or media_type(url)
        return Media(url, kind, _given_length(path, length, where), alt_text)
    return dataclasses.replace(_local_file(path, file, value, ctx), alt=alt_text)


def _publish_figures(
    path: str, block: Block, file: str, base: str | None, ctx: ReadContext, local: dict[str, Media]
) -> Block:
    """``block`` with the figures whose image is a local file pointing at its published copy."""
    children = tuple(_publish_figures(path, child, file, base, ctx, local) for child in block.children)
    attrs = block.attrs
    if block.kind == "figure" and base:
        relative = _relative_to(block.attr("src"), base)
        if relative is not None:
            media = local.get(block.attr("src"))
            if media is None:
                media = _figure_file(path, file, relative, ctx)
            if media is not None:
                local[block.attr("src")] = local[media.url] = media
                attrs = tuple((key, media.url if key == "src" else value) for key, value in attrs)
    if children == block.children and attrs == block.attrs:
        return block
    return Block(block.html, block.kind, children, attrs)


def _relative_to(src: str, base: str) -> str | None:
    """The path of ``src`` relative to ``base``'s directory, when ``src`` lies under it."""
    directory = base[: base.rfind("/") + 1]
    if not src or not src.startswith(directory) or "?" in src or "#" in src:
        return None
    return unquote(src[len(directory) :]) or None


def _figure_file(path: str, file: str, name: str, ctx: ReadContext) -> Media | None:
    """The local image a figure shows, or None when it is not one (a remote image stays as it is)."""
    candidate = (Path(file).parent / name).resolve()
    if candidate.is_file() and candidate.suffix.lower() in IMAGE_TYPES and _inside_sources(candidate, ctx):
        return _local_file(path, file, name, ctx)
    return None


def _local_file(path: str, file: str, name: str, ctx: ReadContext) -> Media:
    """A local image next to the article: checked, measured and named by its content."""
    where = f"image {name!r}"
    candidate = (Path(file).parent / name).resolve()
    kind = IMAGE_TYPES.get(candidate.suffix.lower())
    if not candidate.is_file() or kind is None or not _inside_sources(candidate, ctx):
        if not candidate.is_file():
            raise InputError(path, f"{where}: no such file next to the article")
        if kind is None:
            raise InputError(path, f"{where}: not an image type ({', '.join(sorted(IMAGE_TYPES))})")
        raise InputError(path, f"{where}: outside the source directories")
    try:
        stat = candidate.stat()
        data = candidate.read_bytes() if stat.st_size <= MAX_MEDIA_BYTES else None
    except OSError as exc:
        raise InputError(path, f"{where}: cannot read: {exc.strerror or exc}") from None
    if data is None:
        raise InputError(path, f"{where}: larger than {MAX_MEDIA_BYTES // (1024 * 1024)} MB")
    stem = re.sub(r"[^a-z0-9]+", "-", candidate.stem.lower()).strip("-")[:60] or "image"
    published = media_path(ctx.language, f"{hashlib.sha256(data).hexdigest()[:12]}-{stem}{candidate.suffix.lower()}")
    url = (ctx.options.base_url or "") + published
    return Media(url, kind, len(data), "", str(candidate), published, stat.st_mtime_ns)


def _inside_sources(candidate: Path, ctx: ReadContext) -> bool:
    for root in ctx.options.paths:
        top = root.resolve()
        top = top if top.is_dir() else top.parent
        if candidate.is_relative_to(top):
            return True
    return False


def _enclosure(path: str, value: object) -> Media | None:
    """``enclosure: {url, type, length}``: an audio or video file, passed through as given."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not isinstance(value.get("url"), str):
        raise InputError(path, "enclosure must be a table with url, type and length")
    url = check_url(path, value["url"])
    kind = _given_type(path, value.get("type"), "enclosure")
    if not kind.startswith(ENCLOSURE_KINDS):
        raise InputError(path, f"enclosure: type must be an audio/ or video/ media type, not {kind!r}")
    length = _given_length(path, value.get("length"), "enclosure")
    if length == 0:
        raise InputError(path, "enclosure: length must be the file's size in bytes (above 0)")
    return Media(url, kind, length)


def _given_type(path: str, value: object, where: str) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not _TYPE_RE.fullmatch(value.strip().lower()):
        raise InputError(path, f"{where}: type must be a media type like audio/mpeg, not {value!r}")
    return value.strip().lower()


def _given_length(path: str, value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(path, f"{where}: length must be a number of bytes, not {value!r}")
    return value
