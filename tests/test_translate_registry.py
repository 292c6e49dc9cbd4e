"""Provider names, ``syndicate providers`` information and plugging in a fake engine."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence

import pytest

from syndicate.config import TranslationOptions
from syndicate.errors import ConfigError
from syndicate.translate import Translator, get_provider, list_providers, register, unregister
from syndicate.translate.providers.web import ENVIRONMENT, web_engine


class Echo:
    """A minimal fake engine: what another test module plugs in through the registry."""

    name = "echo"
    display_name = "Echo"
    max_chars = 100

    def __init__(self) -> None:
        self.calls = 0

    def cache_key(self) -> str:
        return "echo:1"

    def supports(self, source: str, target: str) -> bool:
        return True

    def available(self) -> tuple[bool, str]:
        return True, "always"

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str | None]:
        self.calls += 1
        return [f"[{target}] {t}" for t in texts]


@pytest.fixture
def echo() -> Iterator[None]:
    register("echo", lambda options: Echo())
    yield
    unregister("echo")


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        get_provider("babelfish", TranslationOptions())
    message = str(caught.value)
    assert "babelfish" in message
    for name in ("apertium", "google", "deepl", "libre", "mymemory", "microsoft"):
        assert name in message


def test_registered_fake_engine_is_a_translator(echo: None) -> None:
    provider = get_provider("echo", TranslationOptions())
    assert isinstance(provider, Translator)
    assert provider.translate_batch(["Hi"], "en", "es") == ["[es] Hi"]
    info = {i.name: i for i in list_providers(TranslationOptions())}["echo"]
    assert info.display_name == "Echo" and info.usable and info.languages == "any"


def test_web_providers_without_keys_are_unusable_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    for variables in ENVIRONMENT.values():
        for variable in variables:
            monkeypatch.delenv(variable.name, raising=False)
    infos = {i.name: i for i in list_providers(TranslationOptions())}
    assert not infos["deepl"].usable and infos["deepl"].reason == "no API key in DEEPL_AUTH_KEY"
    assert not infos["microsoft"].usable and "MICROSOFT_TRANSLATOR_KEY" in infos["microsoft"].reason
    assert not infos["baidu"].usable and "BAIDU_APPID and BAIDU_APPKEY" in infos["baidu"].reason
    assert not infos["libre"].usable and "url" in infos["libre"].reason
    assert infos["google"].usable and infos["mymemory"].usable  # public endpoints
    assert infos["deepl"].display_name == "DeepL" and infos["deepl"].languages_text().startswith("any")


def test_key_in_environment_makes_a_provider_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPL_AUTH_KEY", "secret-key:fx")
    info = {i.name: i for i in list_providers(TranslationOptions())}["deepl"]
    assert info.usable and info.reason == "API key in DEEPL_AUTH_KEY"
    assert "secret" not in get_provider("deepl", TranslationOptions()).cache_key()


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")
def test_apertium_is_usable_with_its_languages() -> None:
    info = {i.name: i for i in list_providers(TranslationOptions())}["apertium"]
    assert info.usable and info.display_name == "Apertium"
    assert isinstance(info.languages, tuple)
    assert {"en->es", "en->ca", "es->en"} <= set(info.languages)
    assert "en->es" in info.languages_text()


def test_unknown_setting_is_a_config_error() -> None:
    options = TranslationOptions(settings=(("libre", (("ulr", "http://x/"),)),))
    with pytest.raises(ConfigError, match="unknown key 'ulr'"):
        get_provider("libre", options)
    info = {i.name: i for i in list_providers(options)}["libre"]
    assert not info.usable and "ulr" in info.reason  # listing never crashes


def test_cache_key_follows_output_settings_not_secrets() -> None:
    plain = web_engine("libre", {"url": "http://a.example/"}, {"LIBRE_API_KEY": "k1"})
    other_key = web_engine("libre", {"url": "http://a.example/"}, {"LIBRE_API_KEY": "k2"})
    other_server = web_engine("libre", {"url": "http://b.example/"}, {})
    with_password = web_engine("libre", {"url": "http://user:pw@a.example/"}, {})
    assert plain.cache_key() == other_key.cache_key() == with_password.cache_key()
    assert plain.cache_key() != other_server.cache_key()
    assert web_engine("deepl", {"formality": "more"}, {}).cache_key() != web_engine("deepl", {}, {}).cache_key()


def test_language_code_mapping() -> None:
    google = web_engine("google", {}, {})
    assert google.code("he", target=True) == "iw" and google.code("zh-Hant", target=True) == "zh-TW"
    assert google.code("pt-BR", target=True) == "pt" and google.code("sr-Latn", target=True) is None
    mymemory = web_engine("mymemory", {}, {})
    assert mymemory.code("es", target=True) == "es" and mymemory.code("pt-BR", target=True) == "pt-BR"
    assert mymemory.code("sr-Latn", target=True) == "sr-Latn-RS"
    assert web_engine("baidu", {}, {}).code("ja", target=True) == "jp"
    assert web_engine("papago", {}, {}).code("zh", target=True) == "zh-CN"
    assert web_engine("microsoft", {}, {}).code("zh", target=True) == "zh-Hans"
    libre = web_engine("libre", {"url": "http://x/", "languages": "en, es, ast"}, {})
    assert libre.supports("en", "ast") and not libre.supports("en", "fr")


def test_exception_mapping() -> None:
    import requests
    from deep_translator import exceptions as dt

    from syndicate.translate.resilient import Verdict, classify

    cases = [
        (dt.TooManyRequests(), None, Verdict.RETRY),
        (dt.RequestError(), 503, Verdict.RETRY),
        (dt.RequestError(), 404, Verdict.FAIL),
        (dt.ServerException(503), None, Verdict.RETRY),  # deep-translator's stand-in for "no connection"
        (dt.ServerException(500), 500, Verdict.RETRY),
        (dt.TranslationNotFound("x"), 200, Verdict.FAIL),
        (dt.ApiKeyException("X_KEY"), None, Verdict.FATAL),
        (dt.AuthorizationException("k"), 403, Verdict.FATAL),
        (dt.NotValidLength("x", 0, 5000), None, Verdict.FAIL),
        (requests.ReadTimeout(), None, Verdict.RETRY),
        (requests.ConnectionError(), None, Verdict.RETRY),
        (ValueError("Expecting value"), 200, Verdict.FAIL),  # an answer that is not JSON
    ]
    for exc, status, verdict in cases:
        assert classify(exc, status).verdict is verdict, (exc, status)
    assert classify(dt.TooManyRequests(), 429, {"Retry-After": "7"}).retry_after == 7.0
