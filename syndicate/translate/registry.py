"""Provider names -> factories, and what ``syndicate providers`` shows.

This module owns the set of provider names a config may use.  Factories
take the :class:`~syndicate.config.TranslationOptions` and return a ready
:class:`~syndicate.translate.base.Translator`; tests plug in fake engines
with :func:`register`.

A web provider's circuit breaker lives in its instance: create one provider
per name per run (and reuse it for every language) so that a provider cut
off for one language is not retried for the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from syndicate.config import TranslationOptions
from syndicate.errors import ConfigError, SyndicateError
from syndicate.translate.base import ListsLanguages, Translator, is_deterministic, script_of

Factory = Callable[[TranslationOptions], Translator]


def _apertium(options: TranslationOptions) -> Translator:
    from syndicate.translate.providers.apertium import ApertiumTranslator

    if options.settings_for("apertium"):
        raise ConfigError("[translation.settings.apertium] takes no settings")
    return ApertiumTranslator(timeout=options.timeout)


def _web(name: str) -> Factory:
    def factory(options: TranslationOptions) -> Translator:
        from syndicate.translate.providers.web import web_provider

        return web_provider(name, options)

    factory.__name__ = f"_{name}"
    return factory


def _openai(options: TranslationOptions) -> Translator:
    from syndicate.translate.providers.openai import openai_provider

    return openai_provider(options)


PROVIDERS: dict[str, Factory] = {
    "apertium": _apertium,
    "openai": _openai,
    **{
        name: _web(name)
        for name in ("google", "deepl", "microsoft", "libre", "mymemory", "yandex", "papago", "baidu", "qcri")
    },
}


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """One line of ``syndicate providers``."""

    name: str
    display_name: str
    languages: tuple[str, ...] | Literal["any"]  # "en->es" pairs, or "any"
    usable: bool
    reason: str
    deterministic: bool = False  # the same input gives the same answer: its refusals may be cached
    scripts: tuple[tuple[str, str], ...] = ()  # engines of "any" language: (tag, script) of many-script languages

    def languages_text(self) -> str:
        """``en->es (Latn), en->sr-Latn (Latn)``: each pair with the script the engine writes;
        ``any (sr Cyrl, sr-Latn Latn, ...)`` for an engine of any language that can write these."""
        if isinstance(self.languages, str):
            shown = ", ".join(f"{tag} {script}" for tag, script in self.scripts)
            return f"{self.languages} ({shown})" if shown else self.languages
        return ", ".join(f"{pair} ({script_of(pair.rpartition('->')[2])})" for pair in self.languages)


def register(name: str, factory: Factory) -> Factory | None:
    """Add (or replace) a provider; returns the factory it replaced, if any."""
    previous = PROVIDERS.get(name)
    PROVIDERS[name] = factory
    return previous


def unregister(name: str) -> None:
    PROVIDERS.pop(name, None)


def get_provider(name: str, options: TranslationOptions) -> Translator:
    """The provider called ``name``; unknown names are a :class:`ConfigError`."""
    factory = PROVIDERS.get(name)
    if factory is None:
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(f"unknown translation provider {name!r} (known: {known})")
    return factory(options)


def list_providers(options: TranslationOptions) -> list[ProviderInfo]:
    """Every registered provider with its languages and whether it is usable here."""
    return [_info(name, options) for name in sorted(PROVIDERS)]


def _info(name: str, options: TranslationOptions) -> ProviderInfo:
    try:
        provider = get_provider(name, options)
    except SyndicateError as exc:
        return ProviderInfo(name, name, "any", False, str(exc))
    usable, reason = provider.available()
    pairs = provider.language_pairs() if isinstance(provider, ListsLanguages) else None
    languages: tuple[str, ...] | Literal["any"] = (
        "any" if pairs is None else tuple(f"{source}->{target}" for source, target in pairs)
    )
    scripts = getattr(getattr(provider, "engine", provider), "scripts", None)
    return ProviderInfo(
        name, provider.display_name, languages, usable, reason, is_deterministic(provider),
        scripts() if callable(scripts) and pairs is None else (),
    )  # fmt: skip
