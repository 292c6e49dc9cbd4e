"""Web translation engines: deep-translator's HTTP engines and DeepL's own client.

This module owns, per engine: its registry name and display name, its
length limits, where its credentials come from (environment variables only,
see :data:`ENVIRONMENT`; never the config file), which provider settings it
accepts (:data:`SETTINGS`), how BCP 47 tags map to its language codes, and
how to build a client for one worker thread.  Deadlines, retries, splitting
and answer checks are added by :mod:`syndicate.translate.resilient`, which
wraps every engine here (:func:`web_provider`).

Notes on deep-translator (1.11): language tables are stale (self-hosted
LibreTranslate serves more languages) or inverted (Papago), so codes are
mapped here and set on the engine object after construction.  DeepL goes
through the official ``deepl`` package because deep-translator's adapter
sends the key in the query string, which DeepL rejects.  Pons and Linguee
(word dictionaries) and ChatGPT (needs the ``openai`` package) are not
offered.

Scripts: an edition's tag says the script its text is in (``sr`` is
Cyrillic, ``sr-Latn`` Latin, by CLDR's likely subtags).  Each engine is
asked for the code of that script (Microsoft ``sr-Latn``; MyMemory
``sr-Latn-RS``); an engine without one (Google, LibreTranslate, Yandex know
only ``sr``, which they write in Cyrillic) refuses the pair
(:meth:`WebEngine.refusal`), and the run stops with a one-line config error
before anything is sent, instead of publishing Cyrillic under a Latin tag.
:meth:`WebEngine.scripts` is what ``syndicate providers`` shows.
"""

from __future__ import annotations

import hashlib
import html
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from syndicate.config import TranslationOptions
from syndicate.errors import ConfigError
from syndicate.translate.base import parse_tag, script_of
from syndicate.translate.resilient import Client, Failure, Policy, ResilientTranslator, Verdict


@dataclass(frozen=True, slots=True)
class EnvVar:
    """An environment variable a provider reads."""

    name: str
    purpose: str
    required: bool = True


# Credentials, per provider: environment variables only, never the config file.
ENVIRONMENT: dict[str, tuple[EnvVar, ...]] = {
    "google": (),
    "mymemory": (),
    "libre": (EnvVar("LIBRE_API_KEY", "API key, if the LibreTranslate server requires one", False),),
    "microsoft": (
        EnvVar("MICROSOFT_TRANSLATOR_KEY", "Azure Translator subscription key"),
        EnvVar("MICROSOFT_TRANSLATOR_REGION", "Azure resource region (regional resources)", False),
    ),
    "yandex": (EnvVar("YANDEX_API_KEY", "Yandex Translate API key"),),
    "papago": (
        EnvVar("PAPAGO_CLIENT_ID", "Naver Papago client id"),
        EnvVar("PAPAGO_SECRET_KEY", "Naver Papago client secret"),
    ),
    "qcri": (EnvVar("QCRI_API_KEY", "QCRI MT API key"),),
    "baidu": (
        EnvVar("BAIDU_APPID", "Baidu Translate app id"),
        EnvVar("BAIDU_APPKEY", "Baidu Translate app key"),
    ),
    "deepl": (EnvVar("DEEPL_AUTH_KEY", "DeepL API authentication key (free keys end in ':fx')"),),
}

# Settings from ``[translation.settings.<provider>]`` (plain values, no secrets).
COMMON_SETTINGS: dict[str, str] = {
    "deadline": "seconds one batch of requests may take in all (default: derived from timeout/retries)",
    "max_chars": "lower the per-request length limit (e.g. a self-hosted server's char_limit)",
}
SETTINGS: dict[str, dict[str, str]] = {
    "google": {},
    "mymemory": {"email": "contact e-mail sent with requests (raises the free daily quota)"},
    "libre": {
        "url": "base URL of the LibreTranslate server (required), e.g. http://localhost:5000/",
        "languages": "comma-separated language codes the server offers (default: LibreTranslate's set)",
    },
    "microsoft": {
        "region": "Azure resource region (instead of MICROSOFT_TRANSLATOR_REGION)",
        "url": "translate endpoint (default: https://api.cognitive.microsofttranslator.com/translate?api-version=3.0)",
    },
    "yandex": {},
    "papago": {},
    "qcri": {"domain": "QCRI translation domain (default: general)"},
    "baidu": {},
    "deepl": {
        "url": "server URL (default: chosen from the key: api-free.deepl.com or api.deepl.com)",
        "formality": "default, more, less, prefer_more or prefer_less",
    },
}

# Languages of a stock LibreTranslate server (Argos models); override with the
# ``languages`` setting for a server with other models loaded.
LIBRE_LANGUAGES = frozenset(
    "ar az bg bn ca cs da de el en eo es et eu fa fi fr ga gl he hi hu id it ja ko lt lv ms nb nl "
    "pl pt pt-BR ro ru sk sl sq sr sv th tl tr uk ur vi zh zh-Hant".split()
)
_GOOGLE_ALIASES = {
    "he": "iw", "jv": "jw", "fil": "tl", "nb": "no", "zh": "zh-CN", "zh-Hans": "zh-CN", "zh-Hant": "zh-TW",
    "zh-HK": "zh-TW", "zh-MO": "zh-TW", "mni": "mni-Mtei",
}  # fmt: skip
_CHINESE = {"zh": "zh-CN", "zh-Hans": "zh-CN", "zh-Hant": "zh-TW", "zh-HK": "zh-TW", "zh-MO": "zh-TW"}
_MICROSOFT_VARIANTS = frozenset(
    {"fr-CA", "pt-PT", "sr-Cyrl", "sr-Latn", "zh-Hans", "zh-Hant", "mn-Cyrl", "mn-Mong", "iu-Latn"}
)
_MICROSOFT_ALIASES = {
    "zh": "zh-Hans", "zh-CN": "zh-Hans", "zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-MO": "zh-Hant",
    "sr": "sr-Cyrl", "no": "nb", "pt-BR": "pt",
}  # fmt: skip
_BAIDU = {
    "zh": "zh", "zh-Hans": "zh", "zh-CN": "zh", "zh-Hant": "cht", "zh-TW": "cht", "zh-HK": "cht",
    "yue": "yue", "en": "en", "ja": "jp", "ko": "kor", "fr": "fra", "es": "spa", "th": "th", "ar": "ara",
    "ru": "ru", "pt": "pt", "de": "de", "it": "it", "el": "el", "nl": "nl", "pl": "pl", "bg": "bul",
    "et": "est", "da": "dan", "fi": "fin", "cs": "cs", "ro": "rom", "sl": "slo", "sv": "swe", "hu": "hu",
    "vi": "vie",
}  # fmt: skip


def lookup(tag: str, codes: Collection[str], aliases: Mapping[str, str] | None = None) -> str | None:
    """An engine code for ``tag``: exact, alias, language-script, language-region, language.

    A tag with a script only falls back to codes with that script, so
    ``sr-Latn`` never silently becomes Cyrillic ``sr``.
    """
    aliases = aliases or {}
    parts = parse_tag(tag)
    index = {c.lower(): c for c in codes}
    tries: list[str | None] = [tag, aliases.get(tag)]
    if parts.script:
        with_script = f"{parts.language}-{parts.script}"
        tries += [with_script, aliases.get(with_script)]
    else:
        with_region = f"{parts.language}-{parts.region}" if parts.region else None
        tries += [with_region, aliases.get(with_region or ""), aliases.get(parts.language), parts.language]
    return next((index[c.lower()] for c in tries if c and c.lower() in index), None)


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """Static facts about one engine."""

    name: str
    display_name: str
    max_chars: int  # per request, as the engine (or deep-translator's check) allows
    max_bytes: int | None = None  # engines that count UTF-8 bytes
    batch_size: int = 1
    output_settings: tuple[str, ...] = ()  # settings that change translations (part of the cache key)


SPECS: dict[str, EngineSpec] = {
    # deep-translator checks len(text) < 5000 / < 500, hence 4999 / 499.
    "google": EngineSpec("google", "Google Translate", 4999),
    "mymemory": EngineSpec("mymemory", "MyMemory", 499, max_bytes=500),
    "libre": EngineSpec("libre", "LibreTranslate", 2000, output_settings=("url",)),
    "microsoft": EngineSpec("microsoft", "Microsoft Translator", 50000),
    "yandex": EngineSpec("yandex", "Yandex Translate", 10000),
    "papago": EngineSpec("papago", "Papago", 5000),
    "qcri": EngineSpec("qcri", "QCRI MT", 5000, output_settings=("domain",)),
    "baidu": EngineSpec("baidu", "Baidu Translate", 2000, max_bytes=6000),
    "deepl": EngineSpec(
        "deepl", "DeepL", 100000, max_bytes=120000, batch_size=50, output_settings=("url", "formality")
    ),
}
# Tags whose language is written in more than one script: ``syndicate providers`` shows each engine's script.
SCRIPT_TAGS = (
    "sr", "sr-Latn", "sr-Cyrl", "bs", "bs-Cyrl", "uz", "uz-Cyrl", "az", "az-Cyrl", "mn", "mn-Mong",
    "pa", "pa-Arab", "zh-Hans", "zh-Hant",
)  # fmt: skip


class WebEngine:
    """A deep-translator engine (see :class:`~syndicate.translate.resilient.RemoteEngine`)."""

    translator_class = ""  # deep-translator class name
    deterministic = False  # a network engine: a refusal may be a passing fault, retried next run
    codes_are_tags = True  # the engine's codes are BCP 47 tags, so their script can be told

    def __init__(self, spec: EngineSpec, settings: Mapping[str, str], environ: Mapping[str, str]) -> None:
        _check_settings(spec.name, settings)
        self.spec = spec
        self.settings = dict(settings)
        self.environ = environ
        self.name = spec.name
        self.display_name = spec.display_name
        self.max_chars = _max_chars(spec, settings)
        self.max_bytes = spec.max_bytes
        self.batch_size = spec.batch_size

    # ------------------------------------------------------------ metadata

    def cache_key(self) -> str:
        relevant = [
            f"{k}={_without_credentials(v) if k == 'url' else v}"
            for k in self.spec.output_settings
            if (v := self.settings.get(k))
        ]
        if not relevant:
            return self.name
        digest = hashlib.sha256("\n".join(relevant).encode("utf-8")).hexdigest()[:12]
        return f"{self.name}@{digest}"

    def available(self) -> tuple[bool, str]:
        missing = [v.name for v in ENVIRONMENT[self.name] if v.required and not self.environ.get(v.name)]
        if missing:
            return False, f"no API key in {' and '.join(missing)}"
        keys = [v.name for v in ENVIRONMENT[self.name] if v.required]
        return True, f"API key in {' and '.join(keys)}" if keys else "public endpoint, no key needed"

    def supports(self, source: str, target: str) -> bool:
        return self.refusal(source, target) is None

    def refusal(self, source: str, target: str) -> str | None:
        """Why this engine cannot translate ``source`` into ``target`` (a script it cannot write...), or None."""
        src, tgt = self.code(source, target=False), self.target_code(target)
        wanted = script_of(target)
        if src is None:
            return f"{self.display_name} has no code for {source}"
        if tgt is None:
            language = parse_tag(target).language
            plain = self.code(language, target=True) if parse_tag(target).script else None
            if plain is not None and self.codes_are_tags:
                return f"{self.display_name} writes {language} in {script_of(plain)} script only, not {wanted}"
            return f"{self.display_name} has no code for {target}"
        if src == tgt:
            return f"{self.display_name} takes {source} and {target} as the same language ({src})"
        written = script_of(tgt) if self.codes_are_tags else "?"
        if "?" not in (wanted, written) and written != wanted:
            return f"{self.display_name} writes {target} as {tgt}, in {written} script, not {wanted}"
        return None

    def target_code(self, tag: str) -> str | None:
        """The code to ask for ``tag``; a tag naming its script (``sr-Cyrl``) may take the plain code
        (``sr``) when that code is written in that script."""
        code = self.code(tag, target=True)
        parts = parse_tag(tag)
        if code is not None or not parts.script or not self.codes_are_tags:
            return code
        plain = self.code("-".join(p for p in (parts.language, parts.region) if p), target=True)
        return plain if plain is not None and script_of(plain) == parts.script else None

    def scripts(self) -> tuple[tuple[str, str], ...]:
        """(tag, script written) for the many-script languages this engine can write (:data:`SCRIPT_TAGS`)."""
        return tuple((tag, script_of(tag)) for tag in SCRIPT_TAGS if self.refusal("en", tag) is None)

    def language_pairs(self) -> tuple[tuple[str, str], ...] | None:
        return None  # any pair of the engine's languages

    def code(self, tag: str, *, target: bool) -> str | None:
        """The engine's code for a BCP 47 tag, or ``None`` if unsupported."""
        return lookup(tag, _deep_translator_codes("GOOGLE_LANGUAGES_TO_CODES"), _GOOGLE_ALIASES)

    def classify(self, exc: BaseException, status: int | None) -> Failure | None:
        return None

    # ------------------------------------------------------------ clients

    def client(self, source: str, target: str) -> Client:
        src, tgt = self.code(source, target=False), self.target_code(target)
        if src is None or tgt is None:
            raise ValueError(f"{self.name} has no code for {source} or {target}")
        engine = self._construct()
        engine._source, engine._target = src, tgt  # codes mapped here, see module docstring
        options = self._call_options()

        def run(texts: Sequence[str]) -> list[object]:
            return [engine.translate(text, **options) for text in texts]

        return run

    def _construct(self) -> Any:
        import deep_translator

        cls = getattr(deep_translator, self.translator_class)
        return cls(source="en", target="es", **self._constructor_options())

    def _constructor_options(self) -> dict[str, Any]:
        return {}

    def _call_options(self) -> dict[str, Any]:
        return {}

    def _env(self, name: str) -> str | None:
        return self.environ.get(name) or None


class GoogleEngine(WebEngine):
    translator_class = "GoogleTranslator"


class MyMemoryEngine(WebEngine):
    translator_class = "MyMemoryTranslator"

    def code(self, tag: str, *, target: bool) -> str | None:
        codes = _deep_translator_codes("MY_MEMORY_LANGUAGES_TO_CODES")
        exact = lookup(tag, codes)
        if exact is not None and exact.lower() == tag.lower():
            return exact
        parts = parse_tag(tag)
        if parts.script:  # only a code with that script, e.g. sr-Latn -> sr-Latn-RS
            prefix = f"{parts.language}-{parts.script}-".lower()
            return next((c for c in sorted(codes) if c.lower().startswith(prefix)), None)
        known = {c.split("-")[0].lower() for c in codes}
        return parts.language if parts.language in known else None  # MyMemory takes ISO 639-1

    def _constructor_options(self) -> dict[str, Any]:
        return {"email": self.settings["email"]} if self.settings.get("email") else {}

    def client(self, source: str, target: str) -> Client:
        run = super().client(source, target)

        def unescaped(texts: Sequence[str]) -> list[object]:
            # MyMemory answers with HTML entities (&#39;) in plain text.
            answers = run(texts)
            return [
                html.unescape(a) if isinstance(a, str) and "&" not in t else a
                for t, a in zip(texts, answers, strict=True)
            ]

        return unescaped


class LibreEngine(WebEngine):
    translator_class = "LibreTranslator"

    def available(self) -> tuple[bool, str]:
        if not self.settings.get("url"):
            return False, "no server URL: set url in [translation.settings.libre]"
        key = "with API key" if self._env("LIBRE_API_KEY") else "no API key"
        return True, f"server {_without_credentials(self.settings['url'])} ({key})"

    def code(self, tag: str, *, target: bool) -> str | None:
        configured = self.settings.get("languages")
        codes = {c.strip() for c in configured.split(",") if c.strip()} if configured else LIBRE_LANGUAGES
        return lookup(tag, codes, {"zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-Hans": "zh", "no": "nb"})

    def _construct(self) -> Any:
        from deep_translator import LibreTranslator

        key = self._env("LIBRE_API_KEY")
        url = self.settings["url"].rstrip("/") + "/"
        # deep-translator insists on a key; a keyless server gets none sent.
        engine = LibreTranslator(source="en", target="es", api_key=key or "-", custom_url=url)
        engine.api_key = key or ""
        return engine


class MicrosoftEngine(WebEngine):
    translator_class = "MicrosoftTranslator"

    def code(self, tag: str, *, target: bool) -> str | None:
        parts = parse_tag(tag)
        if tag in _MICROSOFT_VARIANTS:
            return tag
        alias = _MICROSOFT_ALIASES.get(tag) or _MICROSOFT_ALIASES.get(parts.language)
        if alias is not None:
            return alias
        return None if parts.script else parts.language  # the service's list is only known online

    def _constructor_options(self) -> dict[str, Any]:
        region = self.settings.get("region") or self._env("MICROSOFT_TRANSLATOR_REGION")
        return {"api_key": self._env("MICROSOFT_TRANSLATOR_KEY"), "region": region}

    def _construct(self) -> Any:
        from deep_translator import MicrosoftTranslator

        class Translator(MicrosoftTranslator):  # type: ignore[misc]
            def _get_supported_languages(self) -> dict[str, str]:
                # deep-translator asks the live service for its languages on every construction;
                # codes are mapped here (see the module docstring), so only the two it checks are given.
                return {"english": "en", "spanish": "es"}

        engine = Translator(source="en", target="es", **self._constructor_options())
        if self.settings.get("url"):
            engine._base_url = self.settings["url"]
        return engine


class YandexEngine(WebEngine):
    translator_class = "YandexTranslator"

    def code(self, tag: str, *, target: bool) -> str | None:
        parts = parse_tag(tag)
        known = _deep_translator_codes("GOOGLE_LANGUAGES_TO_CODES") | {"he", "jv"}
        return parts.language if parts.language in known and not parts.script else None

    def _constructor_options(self) -> dict[str, Any]:
        return {"api_key": self._env("YANDEX_API_KEY")}


class PapagoEngine(WebEngine):
    translator_class = "PapagoTranslator"

    def code(self, tag: str, *, target: bool) -> str | None:
        return lookup(tag, _deep_translator_keys("PAPAGO_LANGUAGE_TO_CODE"), _CHINESE)

    def _constructor_options(self) -> dict[str, Any]:
        return {"client_id": self._env("PAPAGO_CLIENT_ID"), "secret_key": self._env("PAPAGO_SECRET_KEY")}


class QcriEngine(WebEngine):
    translator_class = "QcriTranslator"

    def code(self, tag: str, *, target: bool) -> str | None:
        return lookup(tag, {"ar", "en", "es"})

    def _constructor_options(self) -> dict[str, Any]:
        return {"api_key": self._env("QCRI_API_KEY")}

    def _call_options(self) -> dict[str, Any]:
        return {"domain": self.settings.get("domain", "general")}


class BaiduEngine(WebEngine):
    translator_class = "BaiduTranslator"
    codes_are_tags = False  # "jp", "kor", "cht": its own codes (mapped with scripts in _BAIDU)

    def code(self, tag: str, *, target: bool) -> str | None:
        parts = parse_tag(tag)
        return _BAIDU.get(tag) or (None if parts.script else _BAIDU.get(parts.language))

    def _construct(self) -> Any:
        from deep_translator import BaiduTranslator

        return BaiduTranslator(
            source="en", target="zh", appid=self._env("BAIDU_APPID"), appkey=self._env("BAIDU_APPKEY")
        )


class DeepLEngine(WebEngine):
    """DeepL through the official client: real batching (50 texts per request), key in a header."""

    def code(self, tag: str, *, target: bool) -> str | None:
        parts = parse_tag(tag)
        if parts.language not in _deepl_codes():
            return None
        if not target:
            return parts.language.upper()
        if parts.language == "en":
            return "EN-GB" if parts.region == "GB" else "EN-US"
        if parts.language == "pt":
            return "PT-BR" if parts.region == "BR" else "PT-PT"
        if parts.language == "zh":
            traditional = parts.script == "Hant" or parts.region in ("TW", "HK", "MO")
            return "ZH-HANT" if traditional else "ZH-HANS"
        if parts.language == "es" and parts.region == "419":
            return "ES-419"
        return parts.language.upper()

    def client(self, source: str, target: str) -> Client:
        import deepl

        src, tgt = self.code(source, target=False), self.target_code(target)
        if src is None or tgt is None:
            raise ValueError(f"deepl has no code for {source} or {target}")
        deepl.http_client.max_network_retries = 0  # retries are ours (resilient.py), not the library's
        translator = deepl.Translator(
            self._env("DEEPL_AUTH_KEY") or "", server_url=self.settings.get("url") or None, send_platform_info=False
        )
        formality = self.settings.get("formality") or None

        def run(texts: Sequence[str]) -> list[object]:
            results = translator.translate_text(
                list(texts), source_lang=src, target_lang=tgt, formality=formality, preserve_formatting=True
            )
            return [r.text for r in (results if isinstance(results, list) else [results])]

        return run

    def classify(self, exc: BaseException, status: int | None) -> Failure | None:
        import deepl

        if isinstance(exc, deepl.AuthorizationException | deepl.QuotaExceededException):
            return Failure(Verdict.FATAL, f"{type(exc).__name__}: {exc}")
        if isinstance(exc, deepl.TooManyRequestsException):
            return Failure(Verdict.RETRY, "rate limited (HTTP 429)")
        if isinstance(exc, deepl.ConnectionException):
            return Failure(Verdict.RETRY if exc.should_retry else Verdict.FAIL, f"connection: {exc}")
        if isinstance(exc, deepl.DeepLException):
            code = exc.http_status_code or status
            retry = code is not None and code >= 500
            return Failure(Verdict.RETRY if retry else Verdict.FAIL, f"DeepL error {code}: {exc}")
        return None


ENGINES: dict[str, type[WebEngine]] = {
    "google": GoogleEngine,
    "mymemory": MyMemoryEngine,
    "libre": LibreEngine,
    "microsoft": MicrosoftEngine,
    "yandex": YandexEngine,
    "papago": PapagoEngine,
    "qcri": QcriEngine,
    "baidu": BaiduEngine,
    "deepl": DeepLEngine,
}


def web_engine(name: str, settings: Mapping[str, str], environ: Mapping[str, str] | None = None) -> WebEngine:
    """The bare engine (no retries/deadlines): for tests and ``syndicate providers``."""
    return ENGINES[name](SPECS[name], settings, os.environ if environ is None else environ)


def web_provider(
    name: str,
    options: TranslationOptions,
    *,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
    jitter: Callable[[], float] | None = None,
) -> ResilientTranslator:
    """A ready-to-use web provider: the engine wrapped with deadlines, retries and limits."""
    settings = options.settings_for(name)
    engine = web_engine(name, settings, environ)
    extra: dict[str, Any] = {}
    if sleep is not None:
        extra["sleep"] = sleep
    if jitter is not None:
        extra["jitter"] = jitter
    return ResilientTranslator(engine, Policy.from_options(options, settings), **extra)


# --------------------------------------------------------------------------- helpers


def _check_settings(name: str, settings: Mapping[str, str]) -> None:
    allowed = {**COMMON_SETTINGS, **SETTINGS[name]}
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ConfigError(
            f"[translation.settings.{name}] unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _max_chars(spec: EngineSpec, settings: Mapping[str, str]) -> int:
    value = settings.get("max_chars")
    if value is None:
        return spec.max_chars
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"[translation.settings.{spec.name}] max_chars must be a positive integer")
    return min(int(value), spec.max_chars)


def _without_credentials(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@cache
def _deep_translator_codes(table: str) -> frozenset[str]:
    from deep_translator import constants

    return frozenset(str(v) for v in getattr(constants, table).values())


@cache
def _deep_translator_keys(table: str) -> frozenset[str]:
    from deep_translator import constants

    return frozenset(str(k) for k in getattr(constants, table))


@cache
def _deepl_codes() -> frozenset[str]:
    import deepl

    return frozenset(
        v.split("-")[0].lower() for k, v in vars(deepl.Language).items() if k.isupper() and isinstance(v, str)
    )
