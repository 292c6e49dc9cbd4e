"""OpenAI-compatible chat-completions engines (``provider = "openai"``).

This module owns one engine that speaks ``POST {base_url}/chat/completions``:
OpenAI itself and the servers people run themselves with the same API
(Ollama, llama.cpp server, vLLM, LM Studio).  It goes through the same
deadline/retry/circuit-breaker wrapper as every web engine
(:class:`~syndicate.translate.resilient.ResilientTranslator`), and its answers
through the same quality gates.

Settings (``[translation.settings.openai]``, no secrets): ``base_url``
(default ``https://api.openai.com/v1``), ``model`` (required), ``prompt``
(the system prompt; ``{source}`` and ``{target}`` become the language names,
a good default is shipped), ``api_key_env`` (the environment variable that
holds the key, default ``OPENAI_API_KEY``; required only by api.openai.com),
``batch_size`` (texts per request, default 20), ``max_chars`` (characters per
request, default 6000), ``name`` (shown to readers in the machine note,
default the model) and ``deadline``.

A request carries several segments as a JSON array of strings in the user
message, with ``temperature = 0``; the reply must be a JSON array of the same
length (a ```json fence or an object with one array member is tolerated).
Failure modes: 429 is retried honouring ``Retry-After``; a context-length
error (HTTP 400 whose error code/type/message says so) and a reply that is
not the requested array (not JSON, or the wrong count) split the batch in
halves (``Verdict.SPLIT``) down to single texts; 401/403 cut the provider off.

``estimate_tokens`` is ``--dry-run``'s cost: about four characters per token
(OpenAI's rule of thumb for English; other languages cost more), the system
prompt once per request, and the answer as long as the input plus a quarter.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from syndicate.config import TranslationOptions
from syndicate.errors import ConfigError
from syndicate.translate.base import parse_tag
from syndicate.translate.resilient import Client, Failure, Policy, ResilientTranslator, Verdict
from syndicate.translate.split import limit_measure

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_PROMPT = (
    "You are a professional news translator. The user sends a JSON array of strings written in {source}. "
    "Translate every string into {target}, in a neutral, factual news style. "
    "Reply with ONLY a JSON array of strings: the same number of strings as received, in the same order, "
    "one translation per string, with no notes and no explanations. "
    "Keep exactly as written: numbers, URLs, e-mail addresses, HTML tags and their attributes, "
    "and every token of five capital letters such as ZQBCQ (they stand for names)."
)
SETTINGS = {
    "base_url": "server URL up to /v1 (default: https://api.openai.com/v1)",
    "model": "model name (required), e.g. gpt-4o-mini, llama3.1:8b",
    "prompt": "system prompt; {source} and {target} become the language names",
    "api_key_env": "environment variable holding the API key (default: OPENAI_API_KEY)",
    "batch_size": "texts per request (default: 20)",
    "max_chars": "characters per request (default: 6000)",
    "name": "engine name shown to readers (default: the model)",
    "deadline": "seconds one batch of requests may take in all (default: derived from timeout/retries)",
}
_PROCESSING_VERSION = "1"  # bump when the request or reply handling changes output
CHARS_PER_TOKEN = 4
_CONTEXT_ERROR = re.compile(r"context[ _-]?(?:length|size|window)|maximum context|too many tokens", re.IGNORECASE)
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class ContextTooLong(Exception):
    """The server refused the request as longer than the model's context."""


class MalformedReply(Exception):
    """The reply is not a JSON array with one string per text sent."""


class OpenAIEngine:
    """An OpenAI-compatible chat-completions engine (see :class:`~syndicate.translate.resilient.RemoteEngine`)."""

    name = "openai"
    max_bytes: int | None = None
    deterministic = False  # a network engine (and sampled): a refusal is retried next run

    def __init__(self, settings: Mapping[str, str], environ: Mapping[str, str]) -> None:
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise ConfigError(
                f"[translation.settings.openai] unknown key {unknown[0]!r} (allowed: {', '.join(sorted(SETTINGS))})"
            )
        self.settings = dict(settings)
        self.environ = environ
        self.base_url = self.settings.get("base_url", DEFAULT_BASE_URL).rstrip("/")
        if not re.match(r"https?://[^\s/]+", self.base_url):
            raise ConfigError(f"[translation.settings.openai] base_url must be an http(s) URL, not {self.base_url!r}")
        self.model = self.settings.get("model", "")
        self.prompt = self.settings.get("prompt", DEFAULT_PROMPT)
        if "{source}" not in self.prompt or "{target}" not in self.prompt:
            raise ConfigError("[translation.settings.openai] prompt must contain {source} and {target}")
        self.key_variable = self.settings.get("api_key_env", "OPENAI_API_KEY")
        self.batch_size = _positive(self.settings.get("batch_size", "20"), "batch_size")
        self.max_chars = _positive(self.settings.get("max_chars", "6000"), "max_chars")
        self.display_name = self.settings.get("name") or self.model or "OpenAI-compatible engine"

    # ------------------------------------------------------------ metadata

    def cache_key(self) -> str:
        parts = [_PROCESSING_VERSION, _without_credentials(self.base_url), self.model, self.prompt]
        return f"openai@{hashlib.sha256(chr(10).join(parts).encode('utf-8')).hexdigest()[:12]}"

    def available(self) -> tuple[bool, str]:
        if not self.model:
            return False, "no model: set model in [translation.settings.openai]"
        official = "api.openai.com" in self.base_url
        if official and not self._key():
            return False, f"no API key in {self.key_variable}"
        key = f"API key in {self.key_variable}" if self._key() else "no API key"
        return True, f"model {self.model} at {_without_credentials(self.base_url)} ({key})"

    def supports(self, source: str, target: str) -> bool:
        src, tgt = parse_tag(source), parse_tag(target)
        return bool(src.language and tgt.language) and source.lower() != target.lower()

    def language_pairs(self) -> tuple[tuple[str, str], ...] | None:
        return None

    def classify(self, exc: BaseException, status: int | None) -> Failure | None:
        if isinstance(exc, ContextTooLong):
            return Failure(Verdict.SPLIT, f"context length exceeded ({exc})")
        if isinstance(exc, MalformedReply):
            return Failure(Verdict.SPLIT, f"malformed reply ({exc})")
        return None

    def estimate_tokens(self, texts: Sequence[str]) -> int:
        """About how many tokens sending ``texts`` would cost (prompt, input and answer)."""
        fits = limit_measure(self.max_chars)
        total, requests, batch = 0, 0, ""
        count = 0
        for text in texts:
            if count and (count >= self.batch_size or not fits(batch + text)):
                requests, batch, count = requests + 1, "", 0
            batch += text
            count += 1
            total += len(json.dumps(text, ensure_ascii=False)) + 2
        requests += 1 if count else 0
        prompt = len(self.prompt) + 40  # language names and message framing
        characters = requests * prompt + total + total * 5 // 4
        return -(-characters // CHARS_PER_TOKEN)

    # ------------------------------------------------------------ clients

    def client(self, source: str, target: str) -> Client:
        import requests

        session = requests.Session()
        headers = {"Content-Type": "application/json"}
        key = self._key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        system = self.prompt.replace("{source}", _language_name(source)).replace("{target}", _language_name(target))
        url = f"{self.base_url}/chat/completions"

        def run(texts: Sequence[str]) -> list[object]:
            body = {
                "model": self.model,
                "temperature": 0,
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": json.dumps(list(texts), ensure_ascii=False)},
                ],
            }
            response = session.post(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), headers=headers)
            if response.status_code == 400 and _is_context_error(response):
                raise ContextTooLong(_error_message(response))
            response.raise_for_status()
            return _answers(response, len(texts))

        return run

    def _key(self) -> str | None:
        return self.environ.get(self.key_variable) or None


def openai_provider(
    options: TranslationOptions,
    *,
    environ: Mapping[str, str] | None = None,
    sleep: Any = None,
    jitter: Any = None,
) -> ResilientTranslator:
    """The ready-to-use provider: the engine wrapped with deadlines, retries and limits."""
    settings = options.settings_for("openai")
    engine = OpenAIEngine(settings, os.environ if environ is None else environ)
    extra: dict[str, Any] = {}
    if sleep is not None:
        extra["sleep"] = sleep
    if jitter is not None:
        extra["jitter"] = jitter
    return ResilientTranslator(engine, Policy.from_options(options, settings), **extra)


# --------------------------------------------------------------------------- replies


def _answers(response: Any, expected: int) -> list[object]:
    """The translations in a chat-completions reply; :class:`MalformedReply` unless one string per text."""
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise MalformedReply(f"not a chat completion: {type(exc).__name__}") from exc
    if not isinstance(content, str):
        raise MalformedReply("the message has no text content")
    fenced = _FENCE.match(content)
    text = fenced.group(1) if fenced else content.strip()
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise MalformedReply("the answer is not JSON") from exc
    if isinstance(parsed, dict):
        arrays = [v for v in parsed.values() if isinstance(v, list)]
        parsed = arrays[0] if len(arrays) == 1 else parsed
    if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
        raise MalformedReply("the answer is not a JSON array of strings")
    if len(parsed) != expected:
        raise MalformedReply(f"{len(parsed)} translations for {expected} texts")
    return list(parsed)


def _is_context_error(response: Any) -> bool:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return bool(_CONTEXT_ERROR.search(response.text or ""))
    if isinstance(error, dict):
        fields = " ".join(str(error.get(k, "")) for k in ("code", "type", "message"))
        return bool(_CONTEXT_ERROR.search(fields))
    return bool(_CONTEXT_ERROR.search(str(error)))


def _error_message(response: Any) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}"
    message = error.get("message") if isinstance(error, dict) else error
    return " ".join(str(message).split())[:200]


# --------------------------------------------------------------------------- helpers


def _language_name(tag: str) -> str:
    """``Spanish (es)``: the English name of a language, with its tag (engines know both)."""
    from syndicate.localize import language_name

    try:
        return f"{language_name(tag, 'en')} ({tag})"
    except ConfigError:
        return tag


def _positive(value: str, key: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"[translation.settings.openai] {key} must be a positive integer, not {value!r}")
    return int(value)


def _without_credentials(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
