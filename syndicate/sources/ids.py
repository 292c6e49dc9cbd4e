"""Owns explicit article ids: the front matter key ``id`` (Markdown), checked and normalised.

An article's id is derived from its canonical link, else from its title and
instant (:func:`syndicate.sources.common.article_id`).  Two different
articles with the same title written in the same second would share it and
be merged as duplicates; an explicit ``id`` keeps them apart (``syndicate
new`` writes one when the file name it wanted is taken):

* an IRI (a scheme, a colon, no spaces, quotes or angle brackets:
  ``tag:example.org,2025:budget``, ``https://example.org/a/1``) is the id
  as it is; ``urn:uuid:`` must hold a valid UUID (written in lower case);
* any other text (``budget-2``, ``42``) is mapped to a ``urn:uuid:``
  deterministically (UUID-5 of the text), so the same text is always the same id;
* anything else (a list, ``true``, an empty string, characters XML forbids,
  a broken ``http`` URL) is a one-line :class:`InputError` naming the file.

:func:`uuid_form` gives every id a UUID for the places that take hex
digits from it (the slug suffix), so an IRI never puts ``/`` into a slug.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from syndicate.errors import InputError
from syndicate.models import XML_FORBIDDEN
from syndicate.sources.common import NAMESPACE, forbidden_name

MAX_ID_LENGTH = 1000
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+")
_UUID_URN = "urn:uuid:"


def explicit_id(path: str, value: Any) -> str | None:
    """The id an author gave (None when none was given), or an InputError naming ``path``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(path, f"id must be text (a string), not {_kind(value)}")
    text = str(value).strip()
    if not text:
        raise InputError(path, "id must not be empty")
    if len(text) > MAX_ID_LENGTH:
        raise InputError(path, f"id is too long ({len(text)} characters; at most {MAX_ID_LENGTH})")
    forbidden = XML_FORBIDDEN.search(text)
    if forbidden:
        raise InputError(path, f"id: {forbidden_name(forbidden.group())} is not allowed in XML")
    if text[: len(_UUID_URN)].lower() == _UUID_URN:
        try:
            return uuid.UUID(text[len(_UUID_URN) :]).urn
        except ValueError:
            expected = "expected urn:uuid: and 32 hex digits"
            raise InputError(path, f"id {text!r} is not a valid urn:uuid ({expected})") from None
    if not _IRI.fullmatch(text):
        return uuid.uuid5(NAMESPACE, f"id|{text}").urn
    if text.split(":", 1)[0].lower() in ("http", "https"):
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
        except ValueError as exc:
            raise InputError(path, f"id {text!r} is not a valid URL ({exc})") from None
        if not parts.netloc:
            raise InputError(path, f"id {text!r} is not a valid URL (no host)")
    return text


def uuid_form(article_id: str) -> str:
    """``article_id`` itself when it is a ``urn:uuid:``, else the UUID-5 URN standing for it."""
    if article_id.startswith(_UUID_URN):
        return article_id
    return uuid.uuid5(NAMESPACE, f"id|{article_id}").urn


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    names = {dict: "an object", list: "a list", float: "a number"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), type(value).__name__)
