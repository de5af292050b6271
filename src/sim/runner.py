"""Running many replications: chunks of replication indices, on one core or a process pool.

A run of ``runs`` replications with root seed ``seed`` is cut into chunks of consecutive
replication indices (the last ones smaller, so the workers finish together). Each chunk
is run by :func:`sim.engine.run_chunk`, in this process, in a worker of a local process
pool or on Dask, and returns plain numpy columns. :func:`execute` hands finished chunks to
a callback: :func:`run_many` keeps them in memory and puts them back together in
replication order; :mod:`sim.store` writes each one to disk as a shard. Because each
replication is a pure function of (scenario, seed, index), the tables are identical, bit
for bit, whatever the executor, the number of workers and the chunk size.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import context as mp_context
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd

from .engine import Chunk, quiet_worker, run_chunk
from .outputs import OUTCOMES, TIMESERIES, declaration
from .results import ResultSet, make_manifest
from .schema import Scenario
from .sizes import refuse_plan

Progress = Callable[[int], None]


def default_workers() -> int:
    """Worker processes when none are asked for: ``SIM_WORKERS`` if set, else every core this
    process may use. (``SIM_WORKERS=1`` runs in the calling process: no pool to start, which
    suits many small runs, as in a notebook.)"""
    text = os.environ.get("SIM_WORKERS", "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ExecutorError(f"SIM_WORKERS must be a whole number of workers, at least 1 (got {text!r})")
        return int(text)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def chunk_size_for(runs: int, workers: int, chunk_size: int | None = None) -> int:
    """``chunk_size`` if given; else about eight chunks per worker, 10 to 250 replications each."""
    return chunk_size or min(250, max(10, math.ceil(runs / (8 * max(workers, 1)))))


TAPER_SMALLEST = 10
"""The smallest piece the tail of a tapered plan is cut into (replications)."""


def plan_chunks(runs: int, workers: int, chunk_size: int | None = None,
                taper: bool = True) -> list[tuple[int, int]]:
    """Consecutive index ranges of :func:`chunk_size_for` replications. With ``taper``, the
    last replications go in smaller and smaller pieces (two of half a chunk, two of a
    quarter, ... down to :data:`TAPER_SMALLEST`), so that the workers run out of work at
    about the same time instead of one finishing a whole chunk while the others wait. The
    plan depends only on ``runs`` and the chunk size, never on the executor or workers
    that run it."""
    size = chunk_size_for(runs, workers, chunk_size)
    refuse_plan(math.ceil(runs / size))
    tail: list[int] = []
    body, piece = runs, size // 2
    while taper and piece >= TAPER_SMALLEST and body >= 2 * piece + size:
        tail += [piece, piece]
        body -= 2 * piece
        piece //= 2
    chunks = [(a, min(a + size, body)) for a in range(0, body, size)]
    for piece in tail:
        chunks.append((chunks[-1][1], chunks[-1][1] + piece))
    return chunks


@dataclass
class RunTables:
    outcomes: pd.DataFrame
    timeseries: pd.DataFrame
    events_per_replication: float
    wall_seconds: float
    workers: int
    chunk_size: int


EXECUTORS = ("local", "dask")


class ExecutorError(RuntimeError):
    """The chosen executor cannot run: Dask missing, or its scheduler out of reach."""


@dataclass(frozen=True)
class Task:
    """One chunk of work: replications ``start .. stop - 1`` of ``scenario`` with ``seed``."""

    scenario: Scenario
    seed: int
    start: int
    stop: int


class StopRun(Exception):  # noqa: N818 - a signal, not an error
    """Raised by an ``on_chunk`` callback that has what it needs: no further chunk is handed
    over, the chunks not yet started are cancelled, and :func:`execute_tasks` returns."""


def execute(scenario: Scenario, seed: int, chunks: list[tuple[int, int]], workers: int,
            on_chunk: Callable[[Chunk], None], *, executor: str = "local",
            scheduler: str | None = None, timeseries: bool = True) -> None:
    """Run the given chunks of one scenario and hand each finished chunk to ``on_chunk`` in
    the order they finish (see :func:`execute_tasks`)."""
    execute_tasks([Task(scenario, seed, a, b) for a, b in chunks], workers,
                  lambda _, chunk: on_chunk(chunk), executor=executor, scheduler=scheduler,
                  timeseries=timeseries)


def execute_tasks(tasks: Sequence[Task], workers: int, on_chunk: Callable[[int, Chunk], None], *,
                  executor: str = "local", scheduler: str | None = None,
                  timeseries: bool = True) -> None:
    """Run ``tasks`` and hand each result to ``on_chunk(task index, chunk)`` in the order
    they finish: in this process (one worker), on a local process pool, or on Dask (an
    existing cluster at ``scheduler``, or a LocalCluster of ``workers`` processes started
    for the run). Tasks may belong to different scenarios (the points of a sweep).

    On Ctrl-C no new chunk starts; on the local pool the chunks already running finish and
    are handed over; then KeyboardInterrupt is raised again, so what was done can be kept.
    Without ``timeseries`` the chunks carry outcomes and inputs only. If ``on_chunk`` raises
    :class:`StopRun`, the run ends there (chunks already running finish, unseen).
    """
    with contextlib.suppress(StopRun):
        _execute_tasks(tasks, workers, on_chunk, executor, scheduler, timeseries)


def _execute_tasks(tasks: Sequence[Task], workers: int, on_chunk: Callable[[int, Chunk], None],
                   executor: str, scheduler: str | None, timeseries: bool) -> None:
    if executor == "dask" or scheduler:
        _execute_dask(tasks, workers, on_chunk, scheduler, timeseries)
        return
    if executor != "local":
        raise ValueError(f"unknown executor {executor!r}; known: {', '.join(EXECUTORS)}")
    if not tasks:
        return
    if workers == 1 or len(tasks) == 1:
        for i, t in enumerate(tasks):
            on_chunk(i, run_chunk(t.scenario, t.seed, t.start, t.stop, timeseries))
        return
    starting = min(workers, len(tasks))
    with ProcessPoolExecutor(max_workers=starting, mp_context=worker_context(),
                             initializer=quiet_worker, initargs=(os.getpid(),)) as pool:

        def submit(t: Task) -> Any:
            return pool.submit(run_chunk, t.scenario, t.seed, t.start, t.stop, timeseries)

        # Only unfinished futures are kept: a finished chunk is handed over and let go, so
        # memory does not grow with the number of chunks. Each of the first tasks starts a
        # worker, with Ctrl-C held back until it is deaf to it (see _ctrl_c_held).
        pending: dict[Any, int] = {}
        try:
            with _ctrl_c_held():
                pending.update({submit(t): i for i, t in enumerate(tasks[:starting])})
            pending.update({submit(t): i for i, t in enumerate(tasks[starting:], start=starting)})
            for fut in as_completed(list(pending)):
                i = pending.pop(fut)
                on_chunk(i, fut.result())
        except StopRun:
            for fut in pending:
                fut.cancel()
            raise
        except KeyboardInterrupt:
            for fut in pending:
                fut.cancel()
            for fut, i in pending.items():
                if not fut.cancelled():
                    try:
                        chunk = fut.result()
                    except Exception:  # noqa: BLE001 - a worker lost in the interrupt
                        continue
                    on_chunk(i, chunk)
            raise


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back while worker processes are started, and deliver it after.

    A worker interrupted while it imports printed a traceback and broke the pool, so workers
    must not hear Ctrl-C until they have set themselves deaf to it
    (:func:`~sim.engine.quiet_worker`). A blocked signal stays blocked in a process started
    meanwhile, across fork and exec, so each worker starts with Ctrl-C held and discards
    what it held once it ignores the signal. In this process a Ctrl-C pressed in these
    milliseconds is not lost: it arrives, as KeyboardInterrupt, when they end. Where signals
    cannot be blocked (not POSIX), it is ignored in these milliseconds instead.
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread hears signals
        yield
        return
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        before = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, before)
        return
    # The mask holds the signal in this thread and in the processes it starts, but the kernel
    # gives a signal sent to the process to any thread not blocking it, and the numerical
    # libraries run threads of their own; a press one of them takes is noted here instead.
    pressed: list[int] = []
    before = signal.signal(signal.SIGINT, lambda signum, _frame: pressed.append(signum))
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, before)
        if pressed:
            if callable(before):
                before(signal.SIGINT, None)
            elif before == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


def _execute_dask(tasks: Sequence[Task], workers: int, on_chunk: Callable[[int, Chunk], None],
                  scheduler: str | None, timeseries: bool) -> None:
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise ExecutorError("the dask executor needs Dask: pip install -e '.[dask]'") from None
    cluster = None
    if scheduler:
        try:  # connect timeout: Dask's distributed.comm.timeouts.connect
            client = Client(scheduler)
        except OSError as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        # One copy of each scenario per worker, not one per chunk; replications are pure
        # functions of (scenario, seed, index), so a retried chunk gives the same numbers.
        scenarios = {id(t.scenario): t.scenario for t in tasks}
        shared = dict(zip(scenarios, client.scatter(list(scenarios.values()), broadcast=True),
                          strict=True))
        # A finished future is dropped once its chunk is handed over, so the cluster can
        # forget the result: memory does not grow with the number of chunks.
        pending = {client.submit(run_chunk, shared[id(t.scenario)], t.seed, t.start, t.stop,
                                 timeseries, pure=False): i for i, t in enumerate(tasks)}
        try:
            for fut in dask_completed(list(pending)):
                i = pending.pop(fut)
                on_chunk(i, fut.result())
                fut.release()
        except (KeyboardInterrupt, StopRun):
            client.cancel(list(pending))
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class _BareMain(types.ModuleType):
    """What a starting worker is told the caller's main module is: one with no file to run."""


if sys.platform != "win32":
    from multiprocessing import popen_spawn_posix

    class _WorkerPopen(popen_spawn_posix.Popen):
        def _launch(self, process_obj: Any) -> None:
            main = sys.modules["__main__"]
            sys.modules["__main__"] = _BareMain("__main__")
            try:
                super()._launch(process_obj)  # type: ignore[misc]  # private to multiprocessing, not in its stubs
            finally:
                sys.modules["__main__"] = main

    class _WorkerProcess(mp_context.SpawnProcess):
        @staticmethod
        def _Popen(process_obj: Any) -> Any:  # noqa: N802 - multiprocessing's name
            return _WorkerPopen(process_obj)

    class _WorkerContext(mp_context.SpawnContext):
        Process = _WorkerProcess  # type: ignore[assignment]


def worker_context() -> Any:
    """The multiprocessing context of the local pool: "spawn" (a clean interpreter, no
    state inherited from the caller), except that a worker does not re-run the caller's
    main script. Plain "spawn" re-runs it in every worker, so an analyst's script without an
    ``if __name__ == "__main__":`` guard (``python analysis.py``, or code fed to
    ``python -``) would start the run again inside each worker and break the pool. The
    workers need nothing from the caller's script: what they run (:func:`run_chunk`) and
    what they are sent (a scenario, a seed, indices) live in this package. So while a worker
    is launched, the parent's ``__main__`` is shown to it as a module with no file."""
    if sys.platform == "win32":  # pragma: no cover - no POSIX launcher to adapt there
        return get_context("spawn")
    return _WorkerContext()


def run_many(scenario: Scenario, *, runs: int, seed: int, workers: int | None = None,
             chunk_size: int | None = None, progress: Progress | None = None,
             executor: str = "local", scheduler: str | None = None) -> RunTables:
    """Run ``runs`` replications and return the tables, in memory."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    workers = max(1, workers or default_workers())
    chunks = plan_chunks(runs, workers, chunk_size)
    began = time.perf_counter()
    done: dict[int, Chunk] = {}

    def keep(chunk: Chunk) -> None:
        done[chunk.start] = chunk
        if progress:
            progress(chunk.stop - chunk.start)

    execute(scenario, seed, chunks, workers, keep, executor=executor, scheduler=scheduler)
    outcomes, timeseries = assemble([done[a] for a, _ in chunks])
    return RunTables(outcomes, timeseries, float(outcomes["events"].mean()),
                     time.perf_counter() - began, workers, chunks[0][1] - chunks[0][0])


_FLAGS = frozenset(c.name for c in OUTCOMES if c.unit == "bool")


def _stack(parts: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def assemble(chunks: list[Chunk]) -> tuple[pd.DataFrame, pd.DataFrame]:
    outcomes = pd.DataFrame(_stack([c.outcomes for c in chunks]))
    for name in outcomes:
        if name in _FLAGS:
            outcomes[name] = outcomes[name].astype(bool)
    inputs = _stack([c.inputs for c in chunks]) if chunks[0].inputs else {}
    if inputs:
        outcomes = pd.concat([outcomes, pd.DataFrame(inputs)], axis=1)
    if not chunks[0].series:
        return outcomes, pd.DataFrame()
    series = pd.DataFrame(_stack([c.series for c in chunks]))
    for name in series:
        found = declaration(name, TIMESERIES)
        if found is not None and found[0].levels:
            series[name] = pd.Categorical.from_codes(series[name].astype(int), categories=list(found[0].levels))
    return outcomes, series


def simulate(scenario: Scenario, *, runs: int, seed: int, workers: int | None = None,
             chunk_size: int | None = None, progress: Progress | None = None, executor: str = "local",
             scheduler: str | None = None, provenance: dict[str, Any] | None = None) -> ResultSet:
    """Run ``runs`` replications of ``scenario`` and return them, in memory, with their
    provenance (``provenance`` adds to the manifest: where the scenario came from)."""
    tables = run_many(scenario, runs=runs, seed=seed, workers=workers, chunk_size=chunk_size,
                      progress=progress, executor=executor, scheduler=scheduler)
    manifest = make_manifest(scenario, seed=seed, runs=runs, workers=tables.workers,
                             chunk_size=tables.chunk_size, wall_seconds=tables.wall_seconds,
                             events_per_replication=tables.events_per_replication)
    manifest.update(provenance or {})
    return ResultSet(scenario, tables.outcomes, tables.timeseries, manifest)
