"""Making network translation engines safe to run from cron.

deep-translator sets no network timeout, splits nothing and batches with a
serial loop.  This module owns the wrapper every web provider goes through,
:class:`ResilientTranslator`, which adds:

* deadlines: each request attempt has a TOTAL deadline (``timeout``:
  connect plus every read, so a server that trickles one byte a second is
  cut off too).  Socket timeouts are injected into ``requests`` (for
  libraries that pass none, and clamped for those that pass a longer one),
  and a watchdog timer shuts down the attempt's sockets when the total
  deadline passes (urllib3 connections are registered with the running
  attempt as they are used).  Each ``translate_batch`` call also has a
  wall-clock deadline, a backstop for everything else.
  Requests run on daemon threads, so a hung server can neither hang the run
  nor block interpreter exit (``ThreadPoolExecutor`` workers are joined at
  exit, which is why it is not used here);
* retries: 429, 5xx, timeouts and connection errors are retried with
  exponential backoff and jitter, honouring ``Retry-After`` (capped);
* a circuit breaker: after ``breaker_threshold`` consecutive failures (or
  one authorization/quota failure) the provider is cut off for the rest of
  the run and later calls fail fast without a request;
* bounded concurrency (``options.concurrency`` workers);
* splitting: segments longer than the engine's limit are cut at sentence
  (then word) boundaries, translated separately and joined back; a request
  the engine finds too big or answers malformed (``Verdict.SPLIT``: an LLM's
  context-length error, a reply that is not the requested JSON array) is
  sent again as two halves, down to single texts;
* answer checks: empty and non-text answers are failures (``None``); every
  other judgment (echo, engine messages, lost numbers...) is made on whole
  segments by the stage's quality gates (:mod:`syndicate.translate.validate`).

The wrapped engine only has to turn a list of texts into a list of answers,
raising on failure (see :class:`RemoteEngine`).
"""

from __future__ import annotations

import enum
import logging
import queue
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool

from syndicate.config import TranslationOptions
from syndicate.errors import ConfigError
from syndicate.translate.split import Piece, join_pieces, limit_measure, split_text
from syndicate.translate.validate import basic_problem

log = logging.getLogger("syndicate")

Client = Callable[[Sequence[str]], Sequence[object]]


class RemoteEngine(Protocol):
    """A network engine: metadata plus a factory for per-worker clients."""

    name: str
    display_name: str
    max_chars: int
    max_bytes: int | None  # UTF-8 byte limit per request, if the engine counts bytes
    batch_size: int  # texts per request (1 for deep-translator engines)

    def cache_key(self) -> str: ...

    def supports(self, source: str, target: str) -> bool: ...

    def available(self) -> tuple[bool, str]: ...

    def language_pairs(self) -> tuple[tuple[str, str], ...] | None: ...

    def client(self, source: str, target: str) -> Client:
        """A client for one worker thread (engine objects are not thread-safe)."""
        ...

    def classify(self, exc: BaseException, status: int | None) -> Failure | None:
        """Engine-specific exception mapping; ``None`` falls back to :func:`classify`."""
        ...


# --------------------------------------------------------------------------- policy


class Verdict(enum.Enum):
    RETRY = "retry"  # transient: 429, 5xx, timeouts, connection errors
    FAIL = "fail"  # this request failed; others may succeed
    FATAL = "fatal"  # the provider cannot work (authorization, quota): cut it off now
    SPLIT = "split"  # the request was too big or its answer malformed: send its halves separately


@dataclass(frozen=True, slots=True)
class Failure:
    verdict: Verdict
    reason: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """Deadlines, retries and limits for one provider."""

    timeout: float = 20.0  # per HTTP request (socket timeouts)
    retries: int = 3  # extra attempts for a retryable failure
    concurrency: int = 4
    deadline: float | None = None  # wall clock per translate_batch call; None: derived
    backoff_base: float = 0.5
    backoff_cap: float = 30.0  # also caps Retry-After
    breaker_threshold: int = 5

    @classmethod
    def from_options(cls, options: TranslationOptions, settings: Mapping[str, str]) -> Policy:
        deadline: str | None = settings.get("deadline")
        return cls(
            timeout=options.timeout,
            retries=options.retries,
            concurrency=options.concurrency,
            deadline=_positive_float(deadline, "deadline") if deadline is not None else None,
        )

    def batch_deadline(self) -> float:
        """Seconds one ``translate_batch`` call may take in all."""
        if self.deadline is not None:
            return self.deadline
        return max(120.0, self.timeout * (self.retries + 1) + self.backoff_cap)

    def delay(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        """Backoff before retry ``attempt + 1``: Retry-After if given, else exponential with jitter."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_cap)
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0**attempt)
        return ceiling / 2 + ceiling / 2 * jitter  # "equal jitter"


def _positive_float(value: str, key: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number <= 0:
        raise ConfigError(f"translation settings: {key} must be a positive number, not {value!r}")
    return number


# --------------------------------------------------------------------------- HTTP scope


@dataclass
class _Scope:
    timeout: float
    on_request: Callable[[], None]
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    connections: list[Any] = field(default_factory=list)  # urllib3 connections used in this attempt
    expired: bool = False  # the total deadline passed and the sockets were shut down
    lock: threading.Lock = field(default_factory=threading.Lock)

    def use(self, connection: Any) -> None:
        with self.lock:
            self.connections.append(connection)
            expired = self.expired
        if expired:
            _shut(connection)

    def expire(self) -> None:
        """The total deadline passed: shut down every socket of the attempt (blocked reads end at once)."""
        with self.lock:
            self.expired = True
            connections = list(self.connections)
        for connection in connections:
            _shut(connection)


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_local = threading.local()
_patch_lock = threading.Lock()


def _install_patch() -> None:
    """Wrap ``HTTPAdapter.send`` once; it is a pass-through outside a :func:`request_scope`."""
    with _patch_lock:
        if getattr(HTTPAdapter.send, "_syndicate", False):
            return
        original = HTTPAdapter.send

        def send(self: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
            scope: _Scope | None = getattr(_local, "scope", None)
            if scope is None:
                return original(self, request, *args, **kwargs)
            if len(args) >= 2:  # send(request, stream, timeout, ...)
                args = (args[0], _clamp(args[1], scope.timeout), *args[2:])
            else:
                kwargs["timeout"] = _clamp(kwargs.get("timeout"), scope.timeout)
            scope.status, scope.headers = None, {}
            scope.on_request()
            response = original(self, request, *args, **kwargs)
            scope.status, scope.headers = response.status_code, dict(response.headers)
            return response

        send._syndicate = True  # type: ignore[attr-defined]
        HTTPAdapter.send = send  # type: ignore[method-assign]

        make_request = HTTPConnectionPool._make_request

        def _make_request(self: HTTPConnectionPool, conn: Any, *args: Any, **kwargs: Any) -> Any:
            scope: _Scope | None = getattr(_local, "scope", None)
            if scope is not None:
                scope.use(conn)  # the watchdog can now cut this connection
            return make_request(self, conn, *args, **kwargs)

        HTTPConnectionPool._make_request = _make_request  # type: ignore[method-assign]


def _clamp(timeout: object, limit: float) -> float | tuple[float, float]:
    """The given timeout, but never longer than ``limit`` (and never none)."""
    if isinstance(timeout, tuple) and len(timeout) == 2:
        connect, read = timeout
        return (_clamp_one(connect, limit), _clamp_one(read, limit))
    return _clamp_one(timeout, limit)


def _clamp_one(value: object, limit: float) -> float:
    return min(float(value), limit) if isinstance(value, int | float) else limit


@contextmanager
def request_scope(timeout: float, on_request: Callable[[], None] = lambda: None) -> Iterator[_Scope]:
    """Within this thread: every ``requests`` call gets ``timeout`` as socket timeout, is counted and
    its status kept, and the whole scope ends at ``timeout`` (its sockets are shut down then)."""
    _install_patch()
    previous = getattr(_local, "scope", None)
    scope = _local.scope = _Scope(max(timeout, 0.001), on_request)
    watchdog = threading.Timer(scope.timeout, scope.expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield scope
    finally:
        watchdog.cancel()
        _local.scope = previous


# --------------------------------------------------------------------------- failures


_DEEP_TRANSLATOR_FATAL = {"ApiKeyException", "AuthorizationException"}
_DEEP_TRANSLATOR_RETRY = {"TooManyRequests"}


def classify(exc: BaseException, status: int | None, headers: Mapping[str, str] | None = None) -> Failure:
    """Map an exception (and the last HTTP status seen) to retry / fail / fatal."""
    name = type(exc).__name__
    if isinstance(exc, requests.Timeout | TimeoutError):
        return Failure(Verdict.RETRY, "timed out")
    if isinstance(exc, requests.ConnectionError | ConnectionError):
        return Failure(Verdict.RETRY, f"connection failed ({name})")
    if name in _DEEP_TRANSLATOR_FATAL or status in (401, 403):
        return Failure(Verdict.FATAL, f"authorization failed ({_what(name, status)})")
    if status == 429 or name in _DEEP_TRANSLATOR_RETRY:
        return Failure(Verdict.RETRY, f"rate limited ({_what(name, status)})", _retry_after(headers or {}))
    if status is not None and status >= 500:
        return Failure(Verdict.RETRY, f"server error ({_what(name, status)})", _retry_after(headers or {}))
    if name == "ServerException" and status is None:  # deep-translator's "503" for a lost connection
        return Failure(Verdict.RETRY, f"server unreachable ({name}: {exc})")
    return Failure(Verdict.FAIL, _what(name, status))


def _what(name: str, status: int | None) -> str:
    return f"{name}, HTTP {status}" if status is not None else name


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures, or at once on a fatal one; never closes."""

    def __init__(self, name: str, threshold: int) -> None:
        self.name = name
        self.threshold = threshold
        self.failures = 0
        self.reason: str | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.reason is not None

    def success(self) -> None:
        with self._lock:
            self.failures = 0

    def failure(self, failure: Failure) -> None:
        with self._lock:
            self.failures += 1
            if self.reason is None and (failure.verdict is Verdict.FATAL or self.failures >= self.threshold):
                self.reason = failure.reason
                log.warning(
                    "%s cut off for the rest of the run after %d consecutive failures (last: %s)",
                    self.name, self.failures, failure.reason,
                )  # fmt: skip


# --------------------------------------------------------------------------- batches


@dataclass(frozen=True, slots=True)
class _Segment:
    lead: str
    trail: str
    pieces: tuple[Piece, ...]
    first: int  # index of the first piece in the flat piece list


@dataclass
class _Plan:
    """Texts cut into pieces, and pieces grouped into requests."""

    segments: list[_Segment | str]  # str: nothing to send (blank text)
    pieces: list[str]
    batches: list[list[int]]  # piece indices per request

    @classmethod
    def build(cls, texts: Sequence[str], fits: Callable[[str], bool], batch_size: int) -> _Plan:
        plan = cls([], [], [])
        for text in texts:
            core = text.strip()
            if not core:
                plan.segments.append(text)
                continue
            pieces = tuple(split_text(core, fits))
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
            plan.segments.append(_Segment(lead, trail, pieces, len(plan.pieces)))
            plan.pieces.extend(p.text for p in pieces)
        plan.batches = _group(plan.pieces, fits, batch_size)
        return plan

    def assemble(self, answers: Sequence[str | None]) -> list[str | None]:
        result: list[str | None] = []
        for segment in self.segments:
            if isinstance(segment, str):
                result.append(segment)
                continue
            mine = answers[segment.first : segment.first + len(segment.pieces)]
            if any(a is None for a in mine):
                result.append(None)
            else:
                joined = join_pieces([a for a in mine if a is not None], segment.pieces)
                result.append(segment.lead + joined + segment.trail)
        return result


def _group(pieces: Sequence[str], fits: Callable[[str], bool], batch_size: int) -> list[list[int]]:
    """Consecutive pieces per request: at most ``batch_size``, and together within the limit."""
    groups: list[list[int]] = []
    total = ""
    for index, piece in enumerate(pieces):
        if groups and len(groups[-1]) < batch_size and fits(total + piece):
            groups[-1].append(index)
            total += piece
        else:
            groups.append([index])
            total = piece
    return groups


@dataclass
class _Run:
    """State shared by the workers of one translate_batch call."""

    deadline: float
    cancelled: threading.Event = field(default_factory=threading.Event)


class ResilientTranslator:
    """A :class:`~syndicate.translate.base.Translator` around a :class:`RemoteEngine`."""

    def __init__(
        self,
        engine: RemoteEngine,
        policy: Policy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.name = engine.name
        self.display_name = engine.display_name
        self.max_chars = engine.max_chars
        self.calls = 0
        self.breaker = CircuitBreaker(engine.name, policy.breaker_threshold)
        self._sleep, self._jitter, self._clock = sleep, jitter, clock
        self._lock = threading.Lock()

    def cache_key(self) -> str:
        return self.engine.cache_key()

    def supports(self, source: str, target: str) -> bool:
        return self.engine.supports(source, target)

    def refusal(self, source: str, target: str) -> str | None:
        """Why the engine cannot translate the pair (see :class:`~syndicate.translate.base.ExplainsRefusal`)."""
        explain = getattr(self.engine, "refusal", None)
        return explain(source, target) if callable(explain) else None

    def available(self) -> tuple[bool, str]:
        return self.engine.available()

    def language_pairs(self) -> tuple[tuple[str, str], ...] | None:
        return self.engine.language_pairs()

    def estimate_tokens(self, texts: Sequence[str]) -> int | None:
        """Tokens the texts would cost, for engines billed by tokens (``None``: not such an engine)."""
        estimate = getattr(self.engine, "estimate_tokens", None)
        return int(estimate(texts)) if callable(estimate) else None

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str | None]:
        """Translate ``texts`` with retries, limits and deadlines; ``None`` for each failure."""
        refusal = self._refusal(source, target)
        if refusal is not None:
            if texts:
                log.warning("%s cannot translate %s->%s: %s", self.name, source, target, refusal)
            return [None] * len(texts)
        fits = limit_measure(self.engine.max_chars, self.engine.max_bytes)
        plan = _Plan.build(texts, fits, max(1, self.engine.batch_size))
        answers = self._run_requests(plan, source, target) if plan.batches else []
        return plan.assemble(answers)

    def _refusal(self, source: str, target: str) -> str | None:
        usable, reason = self.engine.available()
        if not usable:
            return reason
        if self.breaker.is_open:
            return f"cut off earlier in this run ({self.breaker.reason})"
        if not self.engine.supports(source, target):
            return "language pair not supported"
        return None

    # ------------------------------------------------------------------ workers

    def _run_requests(self, plan: _Plan, source: str, target: str) -> list[str | None]:
        """Run every request on at most ``concurrency`` daemon workers, within the deadline."""
        run = _Run(self._clock() + self.policy.batch_deadline())
        answers: list[str | None] = [None] * len(plan.pieces)
        jobs: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        for request in plan.batches:
            jobs.put(request)
        pending = [len(plan.batches)]
        finished = threading.Condition()

        def worker() -> None:
            client: Client | None = None
            while not run.cancelled.is_set():
                try:
                    request = jobs.get_nowait()
                except queue.Empty:
                    return
                client, result = self._request(client, [plan.pieces[i] for i in request], source, target, run)
                with finished:
                    if not run.cancelled.is_set():
                        for index, answer in zip(request, result, strict=True):
                            answers[index] = answer
                    pending[0] -= 1
                    finished.notify_all()

        for number in range(min(self.policy.concurrency, len(plan.batches))):
            threading.Thread(target=worker, name=f"syndicate-{self.name}-{number}", daemon=True).start()
        with finished:
            finished.wait_for(lambda: pending[0] == 0, timeout=max(0.0, run.deadline - self._clock()))
            run.cancelled.set()
            if pending[0]:
                log.warning(
                    "%s %s->%s: deadline of %.0f s reached with %d of %d requests unfinished",
                    self.name, source, target, self.policy.batch_deadline(), pending[0], len(plan.batches),
                )  # fmt: skip
            return list(answers)

    def _request(
        self, client: Client | None, texts: list[str], source: str, target: str, run: _Run
    ) -> tuple[Client | None, list[str | None]]:
        """One request with retries; answers (``None`` = failed) and the worker's client."""
        failed: list[str | None] = [None] * len(texts)
        for attempt in range(self.policy.retries + 1):
            remaining = run.deadline - self._clock()
            if self.breaker.is_open or run.cancelled.is_set() or remaining <= 0:
                return client, failed
            client, outcome = self._attempt(client, texts, source, target, min(self.policy.timeout, remaining))
            if not isinstance(outcome, Failure):
                return client, self._checked(texts, outcome)
            if outcome.verdict is Verdict.SPLIT and len(texts) > 1:
                log.debug("%s %s->%s: %s; splitting %d texts", self.name, source, target, outcome.reason, len(texts))
                half = len(texts) // 2
                client, first = self._request(client, texts[:half], source, target, run)
                client, second = self._request(client, texts[half:], source, target, run)
                return client, first + second
            self.breaker.failure(outcome)
            log.debug("%s %s->%s attempt %d failed: %s", self.name, source, target, attempt + 1, outcome.reason)
            if outcome.verdict is not Verdict.RETRY or attempt == self.policy.retries:
                break
            pause = self.policy.delay(attempt, outcome.retry_after, self._jitter())
            if self._clock() + pause >= run.deadline:
                break
            self._sleep(pause)
        return client, failed

    def _attempt(
        self, client: Client | None, texts: list[str], source: str, target: str, timeout: float
    ) -> tuple[Client | None, Sequence[object] | Failure]:
        with request_scope(timeout, self._count) as scope:
            try:
                if client is None:
                    client = self.engine.client(source, target)
                answers = client(texts)
            except Exception as exc:  # third-party engines raise anything, even AttributeError
                if scope.expired:
                    return client, Failure(Verdict.RETRY, f"timed out (no complete answer within {timeout:.1f} s)")
                failure = self.engine.classify(exc, scope.status) or classify(exc, scope.status, scope.headers)
                return client, failure
        if isinstance(answers, str | bytes) or len(answers) != len(texts):
            return client, Failure(Verdict.FAIL, "answer count does not match the request")
        return client, answers

    def _checked(self, texts: Sequence[str], answers: Sequence[object]) -> list[str | None]:
        """Text answers only (the quality gates run on whole segments in the stage); the breaker
        hears about requests whose answers are all unusable."""
        result: list[str | None] = []
        for text, answer in zip(texts, answers, strict=True):
            problem = basic_problem(text, answer)
            if problem is None and isinstance(answer, str):
                result.append(answer.strip())
            else:
                log.debug("%s rejected an answer: %s", self.name, problem)
                result.append(None)
        if any(a is not None for a in result):
            self.breaker.success()
        else:
            self.breaker.failure(Failure(Verdict.FAIL, "unusable answers"))
        return result

    def _count(self) -> None:
        with self._lock:
            self.calls += 1
