"""Forked worker processes for the translation stage's CPU-bound part: building the translated articles.

The translation stage (:func:`syndicate.pipeline.translate_editions`) first
looks every language's segments up in the segment cache and sends the rest
to the engines, in this process: the engines' provider objects (one per run,
so a circuit opened for one language stays open for the others), the
run's budget (``translation.max_chars_per_run``) and the SQLite caches stay
here.  What follows is pure work on what that step returned: rebuilding each
article from its translated segments, the gates on the whole article, its
render key and its variant-cache entry.  That is most of the stage's CPU, and
this module spreads it over forked processes.

A :class:`Job` is one language's build: ``build(start, stop)`` makes the
results of its items ``start:stop``.  :func:`run` cuts every job into chunks,
and yields each job's results, chunk by chunk, in order (each chunk's as the job's ``take`` keeps
them when they come back: the translation stage stores its cache entries then, and drops them).  With ``workers`` > 1
and at least :data:`PARALLEL_MIN` items in all, the chunks are built in that
many forked processes (they inherit the jobs: nothing but ``(job, start,
stop)`` is sent to them); otherwise, and for a chunk whose worker failed or
died, here, by the same function, so the results (and an error) are the same.

A worker sends its chunk's results back pickled.  Objects this process holds
too are sent as references, not copies (pickle's persistent ids: a position
in a list both processes make alike): a job's ``shared`` objects (the
translations of the segments) and the field values of its ``owners`` (the
source articles: their slugs, dates, media, bodies ...), so a translated
article that reuses them here reuses this process's objects, as if it had
been built here.
"""

from __future__ import annotations

import dataclasses
import gc
import io
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

R = TypeVar("R")

PARALLEL_MIN = 400  # fewer items to build than this (an incremental run): all in this process
CHUNK = 500  # items per task sent to a worker
_AHEAD = 4  # tasks in flight per worker at most: results wait here in memory until their job's turn


@dataclass(frozen=True)
class Job(Generic[R]):
    """One language's build: ``build(start, stop)`` makes the results of items ``start:stop``."""

    size: int  # items to build
    build: Callable[[int, int], R]
    shared: Sequence[object] = ()  # objects the results may reuse, held by this process too
    owners: Sequence[object] = ()  # per item: the object whose field values its result may reuse
    forget: Callable[[], None] = lambda: None  # in a worker, after each chunk: drop what the build memoized
    take: Callable[[R], R] = lambda result: result  # here, on each chunk's results as they come: what is kept


_JOBS: list[Job[Any]] = []  # what forked workers build from (inherited, never pickled)


def forks(jobs: Sequence[Job[Any]], workers: int) -> bool:
    """Whether :func:`run` builds ``jobs`` in forked worker processes."""
    return workers >= 2 and sum(job.size for job in jobs) >= PARALLEL_MIN


def run(jobs: Sequence[Job[R]], workers: int) -> Iterator[Iterator[R]]:
    """Per job, in order: the results of its chunks, in order, each chunk built (or taken from its
    worker) when it is asked for.  A job's chunks are to be taken before the next job's: a
    caller can keep what it needs of each chunk and drop the rest, so a language's built
    articles are never all in memory at once."""
    if not forks(jobs, workers):
        for job in jobs:
            yield _here(job)
        return
    yield from _in_parallel(jobs, workers)


def _here(job: Job[R]) -> Iterator[R]:
    """``job``'s chunks built in this process, as a worker would build them (the same slices)."""
    if not job.size:
        yield job.take(job.build(0, 0))
    for start in range(0, job.size, CHUNK):
        yield job.take(job.build(start, min(start + CHUNK, job.size)))


def _in_parallel(jobs: Sequence[Job[R]], workers: int) -> Iterator[Iterator[R]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _JOBS
    tasks = [(index, start, min(start + CHUNK, job.size)) for index, job in enumerate(jobs)
             for start in range(0, job.size, CHUNK)]  # fmt: skip
    _JOBS = list(jobs)
    futures: dict[int, Future[bytes | None]] = {}
    submitted, position = 0, 0
    gc.freeze()  # the workers inherit every object: a collection there would copy all their pages
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:

            def chunks(job: Job[R]) -> Iterator[R]:
                nonlocal submitted, position
                if not job.size:
                    yield job.take(job.build(0, 0))
                for start in range(0, job.size, CHUNK):
                    while submitted < len(tasks) and submitted < position + _AHEAD * workers:
                        try:
                            futures[submitted] = pool.submit(_build_chunk, *tasks[submitted])
                        except Exception:  # a broken pool (a worker died): the rest is built here
                            submitted = len(tasks)
                            break
                        submitted += 1
                    blob = _result(futures.pop(position, None))
                    stop = min(start + CHUNK, job.size)
                    position += 1
                    yield job.take(job.build(start, stop) if blob is None else _loads(blob, job, start, stop))

            for job in jobs:
                taken = chunks(job)
                yield taken
                for _unasked in taken:  # chunks the caller did not take: still in order for the next job
                    pass
    finally:
        gc.unfreeze()
        _JOBS = []


def _result(future: Future[bytes | None] | None) -> bytes | None:
    """A worker's pickled results, or None (built here instead) when it failed, died or was never asked."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # BrokenProcessPool above all: killed, out of memory
        return None


def _build_chunk(index: int, start: int, stop: int) -> bytes | None:
    """In a worker: the pickled results of items ``start:stop`` of job ``index``; None on any failure
    (this process builds them again, and raises the same error if there is one)."""
    job = _JOBS[index]
    try:
        results = job.build(start, stop)
        shared = _shared_ids.get(index)
        if shared is None:
            shared = _shared_ids[index] = {id(value): position for position, value in enumerate(job.shared)}
        table = dict(shared)
        table.update((id(value), len(job.shared) + n) for n, value in enumerate(_owned(job, start, stop)))
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.persistent_id = lambda obj: table.get(id(obj))  # type: ignore[method-assign]
        pickler.dump(results)
        return buffer.getvalue()
    except Exception:
        return None
    finally:
        job.forget()


_shared_ids: dict[int, dict[int, int]] = {}  # in a worker: job -> id(shared object) -> its reference


def _owned(job: Job[Any], start: int, stop: int) -> list[object]:
    """The field values of the chunk's owners that its results may reuse (both processes make this list
    alike: a reference is a position in the job's shared objects, then in this list).

    Values that pickle copies as cheaply as a reference (None, numbers, empty or one-character strings
    and tuples) are left out.
    """
    owned: list[object] = []
    for owner in job.owners[start:stop]:
        if dataclasses.is_dataclass(owner):
            values = (getattr(owner, name) for name in _field_names(type(owner)))
            owned.extend(value for value in values if _worth(value))
    return owned


def _worth(value: object) -> bool:
    """Whether a reference to ``value`` saves anything over a copy."""
    if value is None or type(value) in (bool, int, float):
        return False
    return not (type(value) in (str, tuple, bytes) and len(value) < 2)  # type: ignore[arg-type]


_names: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _names.get(cls)
    if names is None:
        names = _names[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _loads(blob: bytes, job: Job[R], start: int, stop: int) -> R:
    unpickler = pickle.Unpickler(io.BytesIO(blob))
    unpickler.persistent_load = [*job.shared, *_owned(job, start, stop)].__getitem__  # type: ignore[method-assign]
    result: R = unpickler.load()
    return result
