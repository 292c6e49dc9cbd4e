"""WebSub publisher pings (W3C WebSub section 7, DESIGN 9): telling hubs which feeds changed.

With ``[websub] hub = ...`` every subscription feed names its hubs
(``rel="hub"``, written by the renderers).  After a publish, this module
owns the rest:

* which published files are subscription feeds (:func:`changed_feed_urls`):
  the feeds whose bytes this run wrote; archive pages never change and are
  not announced;
* one form-encoded ``hub.mode=publish`` / ``hub.url=<feed URL>`` POST per
  hub and changed feed URL (:func:`notify`), each with a total deadline
  (:func:`post_form`: the request runs on a daemon thread, so a hub that
  accepts the connection and never answers cannot hang the run), retries
  with backoff for transient failures, and one circuit breaker per hub
  (:class:`syndicate.translate.resilient.CircuitBreaker`, the one the
  translation engines use): a hub that is down costs a few attempts, not
  one timeout per feed;
* pings that failed are remembered in the target's state directory
  (``.syndicate/websub.json``) and sent again on the next run, even a run
  in which nothing changed.  A failed ping is reported, never a failed
  publish: the feeds are already out, and readers still poll them.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate.config import WebSubOptions
from syndicate.errors import PublishError
from syndicate.formats import is_subscription_feed
from syndicate.models import Site
from syndicate.publish import STATE_DIR, read_state_file, write_state_file

if TYPE_CHECKING:  # imported when a hub is configured: it brings requests (50 ms of every cron run)
    from syndicate.translate.resilient import CircuitBreaker, Failure, Policy

log = logging.getLogger("syndicate")

STATE_FILE = "websub.json"
_STATE_VERSION = 1
BREAKER_THRESHOLD = 3  # consecutive failures after which a hub is not tried again this run

Post = Callable[[str, Mapping[str, str], float], tuple[int, Mapping[str, str]]]
Ping = tuple[str, str]  # (hub URL, feed URL)


@dataclass(frozen=True, slots=True)
class PingReport:
    """What :func:`notify` did: pings delivered, and the failed ones (kept for the next run)."""

    sent: int = 0
    failed: tuple[str, ...] = ()  # one line each: "hub: feed URL: reason"

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": list(self.failed)}


def changed_feed_urls(site: Site, written: Iterable[str]) -> list[str]:
    """Absolute URLs of the subscription feeds among the paths a run wrote, sorted."""
    return sorted(site.url_for(path) for path in written if is_subscription_feed(path))


def notify(
    options: WebSubOptions,
    target: Path,
    changed: Sequence[str],
    *,
    post: Post | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PingReport | None:
    """Ping every hub about every changed feed URL, plus the pings the last run could not deliver.

    Returns None when no hub is configured (then pending pings are forgotten).
    Never raises for a hub's failure; the failed pings are saved for the next run.
    """
    if not options.hubs:
        _write_pending(target, [])
        return None
    todo = [p for p in _read_pending(target) if p[0] in options.hubs]
    todo = list(dict.fromkeys([*todo, *((hub, url) for hub in options.hubs for url in changed)]))
    from syndicate.translate.resilient import CircuitBreaker, Policy

    policy = Policy(timeout=options.timeout, retries=options.retries, backoff_cap=5.0)
    breakers = {hub: CircuitBreaker(f"WebSub hub {hub}", BREAKER_THRESHOLD) for hub in options.hubs}
    sent, failed, pending = 0, [], []
    for hub, url in todo:
        reason = _ping(hub, url, policy, breakers[hub], post or post_form, sleep)
        if reason is None:
            sent += 1
        else:
            failed.append(f"{hub}: {url}: {reason}")
            pending.append((hub, url))
    _write_pending(target, pending)
    if failed:
        log.warning("WebSub: %d of %d pings failed; they are sent again on the next run", len(failed), len(todo))
    return PingReport(sent=sent, failed=tuple(failed))


def _ping(
    hub: str, url: str, policy: Policy, breaker: CircuitBreaker, post: Post, sleep: Callable[[float], None]
) -> str | None:
    """One publish ping with retries; None when the hub accepted it, else why it failed."""
    from syndicate.translate.resilient import Failure, Verdict, classify

    reason = "not sent"
    for attempt in range(policy.retries + 1):
        if breaker.is_open:
            return f"hub cut off for this run ({breaker.reason})"
        failure: Failure | None = None
        try:
            status, headers = post(hub, {"hub.mode": "publish", "hub.url": url}, policy.timeout)
        except Exception as exc:  # requests raises many kinds; classify maps them
            failure = classify(exc, None)
        else:
            if 200 <= status < 300:
                breaker.success()
                return None
            failure = classify(RuntimeError("hub refused the ping"), status, headers)
            if failure.verdict is Verdict.FAIL:
                failure = Failure(Verdict.FAIL, f"HTTP {status}")
        breaker.failure(failure)
        reason = failure.reason
        if failure.verdict is not Verdict.RETRY or attempt == policy.retries:
            break
        sleep(policy.delay(attempt, failure.retry_after, random.random()))
    return reason


def post_form(url: str, form: Mapping[str, str], deadline: float) -> tuple[int, Mapping[str, str]]:
    """POST ``form`` (``application/x-www-form-urlencoded``) to ``url``; (status, headers).

    ``deadline`` bounds the whole request, not each socket operation: the
    request runs on a daemon thread and :class:`TimeoutError` is raised when
    it has not answered in time (the thread is abandoned).  Redirects are not
    followed (a POST turned into a GET is no ping).
    """
    import requests

    box: queue.SimpleQueue[tuple[int, Mapping[str, str]] | BaseException] = queue.SimpleQueue()

    def run() -> None:
        try:
            response = requests.post(
                url, data=dict(form), timeout=deadline, allow_redirects=False, headers={"User-Agent": "syndicate"}
            )
            response.close()
            box.put((response.status_code, dict(response.headers)))
        except BaseException as exc:  # handed to the caller's thread
            box.put(exc)

    threading.Thread(target=run, name="syndicate-websub", daemon=True).start()
    try:
        result = box.get(timeout=deadline)
    except queue.Empty:
        raise TimeoutError(f"no answer within {deadline:g} s") from None
    if isinstance(result, BaseException):
        raise result
    return result


# ------------------------------------------------------------------------ state


def pending_pings(target: Path) -> list[Ping]:
    """The (hub, feed URL) pings the next run sends again, in order (``syndicate status`` shows them); never raises."""
    return _read_pending(target)


def _read_pending(target: Path) -> list[Ping]:
    """The pings a previous run could not deliver; a damaged or unreadable file counts as none."""
    try:
        doc = json.loads(read_state_file(target, STATE_FILE) or b"null")
    except (PublishError, ValueError, RecursionError):
        return []
    if not isinstance(doc, dict) or doc.get("version") != _STATE_VERSION or not isinstance(doc.get("pending"), list):
        return []
    return [
        (item["hub"], item["url"])
        for item in doc["pending"]
        if isinstance(item, dict) and isinstance(item.get("hub"), str) and isinstance(item.get("url"), str)
    ]


def _write_pending(target: Path, pending: Sequence[Ping]) -> None:
    """Save the undelivered pings (atomically), or remove the file when there are none."""
    if not pending:
        with suppress(OSError):
            (target / STATE_DIR / STATE_FILE).unlink()
        return
    doc = {"version": _STATE_VERSION, "pending": [{"hub": hub, "url": url} for hub, url in pending]}
    try:
        write_state_file(target, STATE_FILE, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())
    except PublishError as exc:
        log.error("cannot save the undelivered WebSub pings: %s", exc)
