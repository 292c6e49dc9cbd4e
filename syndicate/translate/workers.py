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
and yields each job's results, chunk by chunk, in order.  With ``workers`` > 1
and at least :data:`PARALLEL_MIN` items in all, the chunks are built in that
many forked processes (they inherit the jobs: nothing but ``(job, start,
stop)`` is sent to them); otherwise, and for a chunk whose worker failed or
died, here, by the same function, so the results (and an error) are the same.

A worker sends its chunk's results back pickled.  Objects this process holds
too are sent as references, not copies (pickle's persistent ids): a job's
``shared`` objects (the translations of the segments) and the field values of
its ``owners`` (the source articles: their slugs, dates, media, bodies ...),
so a translated article that reuses them here reuses this process's objects,
as if it had been built here.
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


_JOBS: list[Job[Any]] = []  # what forked workers build from (inherited, never pickled)


def run(jobs: Sequence[Job[R]], workers: int) -> Iterator[list[R]]:
    """Per job, in order: the results of its chunks, in order (one chunk when built here)."""
    if workers < 2 or sum(job.size for job in jobs) < PARALLEL_MIN:
        for job in jobs:
            yield [job.build(0, job.size)]
        return
    yield from _in_parallel(jobs, workers)


def _in_parallel(jobs: Sequence[Job[R]], workers: int) -> Iterator[list[R]]:
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
            for job in jobs:
                done: list[R] = [] if job.size else [job.build(0, 0)]
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
                    done.append(job.build(start, stop) if blob is None else _loads(blob, job))
                    position += 1
                yield done
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
        buffer = io.BytesIO()
        _Pickler(buffer, _references(index, job, start, stop)).dump(results)
        return buffer.getvalue()
    except Exception:
        return None
    finally:
        job.forget()


_shared_ids: dict[int, dict[int, object]] = {}  # in a worker: job -> id(shared object) -> its reference


def _references(index: int, job: Job[Any], start: int, stop: int) -> dict[int, object]:
    """id -> reference of the objects this process holds too: the job's shared objects, the chunk's owners' fields."""
    base = _shared_ids.get(index)
    if base is None:
        base = _shared_ids[index] = {id(value): position for position, value in enumerate(job.shared)}
    table = dict(base)
    for item in range(start, stop):
        for name, value in _fields(job.owners[item]):
            if value is None or type(value) in (bool, int):
                continue
            table.setdefault(id(value), (item, name, -1))
            if type(value) is tuple:
                for position, element in enumerate(value):
                    table.setdefault(id(element), (item, name, position))
    return table


def _fields(owner: object) -> Iterator[tuple[str, object]]:
    if dataclasses.is_dataclass(owner):
        for name in _field_names(type(owner)):
            yield name, getattr(owner, name)


_names: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _names.get(cls)
    if names is None:
        names = _names[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, table: dict[int, object]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._table = table

    def persistent_id(self, obj: object) -> object:
        return self._table.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, job: Job[Any]) -> None:
        super().__init__(file)
        self._job = job

    def persistent_load(self, pid: object) -> object:
        if type(pid) is int:
            return self._job.shared[pid]
        assert isinstance(pid, tuple)
        item, name, position = pid
        value = getattr(self._job.owners[item], name)
        return value if position < 0 else value[position]


def _loads(blob: bytes, job: Job[R]) -> R:
    result: R = _Unpickler(io.BytesIO(blob), job).load()
    return result
