"""Where chunks of replications run: in this process, on a local process pool, or on Dask.

An executor takes a list of tasks (each a chunk of consecutive replications of one
scenario with one root seed; a sweep's tasks belong to several scenarios) and hands each
finished chunk to a callback, with the task's index, in the order the chunks finish. The
three executors share that one protocol (:class:`Executor`), as EMA Workbench's
evaluators share one ``evaluate_experiments``: what is done with a chunk (kept in memory,
written to a folder, judged for precision) is the caller's, see :mod:`sim.pipeline`.

Because each replication is a pure function of (scenario, seed, index), a chunk gives the
same numbers wherever it runs and however often it is retried. On Ctrl-C no new chunk
starts; on the local pool the chunks already running finish and are handed over, then
KeyboardInterrupt is raised again, so what was done can be kept. A callback that has what
it needs raises :class:`StopRun`: the chunks not yet started are cancelled and the run
returns.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import context as mp_context
from multiprocessing import get_context
from typing import Any, Protocol

from ..model.engine import Chunk, quiet_worker, run_chunk
from ..scenario.schema import Scenario

EXECUTORS = ("local", "dask")
"""The executors a user names: ``local`` (this process for one worker, else a process pool)
and ``dask`` (a cluster at a scheduler's address, or a LocalCluster started for the run)."""


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
    over, the chunks not yet started are cancelled, and :func:`execute` returns."""


OnChunk = Callable[[int, Chunk], None]


class Executor(Protocol):
    """Runs ``tasks`` and calls ``on_chunk(task index, chunk)`` as each finishes; without
    ``timeseries`` the chunks carry outcomes and inputs only."""

    @property
    def workers(self) -> int: ...

    def run(self, tasks: Sequence[Task], on_chunk: OnChunk, timeseries: bool) -> None: ...


def execute(tasks: Sequence[Task], executor: Executor, on_chunk: OnChunk, timeseries: bool = True) -> None:
    """Run ``tasks`` on ``executor``, handing each finished chunk to ``on_chunk``; a
    :class:`StopRun` raised by ``on_chunk`` ends the run there, quietly."""
    with contextlib.suppress(StopRun):
        if tasks:
            executor.run(tasks, on_chunk, timeseries)


def executor_for(name: str = "local", workers: int = 1, scheduler: str | None = None) -> Executor:
    """The executor a user names (see :data:`EXECUTORS`); a ``scheduler`` address means Dask."""
    if name == "dask" or scheduler:
        return DaskCluster(workers, scheduler)
    if name != "local":
        raise ValueError(f"unknown executor {name!r}; known: {', '.join(EXECUTORS)}")
    return InProcess() if workers == 1 else ProcessPool(workers)


@dataclass(frozen=True)
class InProcess:
    """Each chunk in turn, in this process: no pool to start, which suits small runs."""

    workers: int = 1

    def run(self, tasks: Sequence[Task], on_chunk: OnChunk, timeseries: bool) -> None:
        for i, t in enumerate(tasks):
            on_chunk(i, run_chunk(t.scenario, t.seed, t.start, t.stop, timeseries))


@dataclass(frozen=True)
class ProcessPool:
    """A pool of ``workers`` fresh interpreters on this machine (see :func:`worker_context`)."""

    workers: int

    def run(self, tasks: Sequence[Task], on_chunk: OnChunk, timeseries: bool) -> None:
        if len(tasks) == 1:
            InProcess().run(tasks, on_chunk, timeseries)
            return
        starting = min(self.workers, len(tasks))
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


@dataclass(frozen=True)
class DaskCluster:
    """A Dask cluster: the one at ``scheduler``, or a LocalCluster of ``workers`` processes
    started for the run and closed after it."""

    workers: int
    scheduler: str | None = None

    def run(self, tasks: Sequence[Task], on_chunk: OnChunk, timeseries: bool) -> None:
        try:
            from dask.distributed import Client, LocalCluster
            from dask.distributed import as_completed as dask_completed
        except ImportError:
            raise ExecutorError("the dask executor needs Dask: pip install -e '.[dask]'") from None
        cluster = None
        if self.scheduler:
            try:  # connect timeout: Dask's distributed.comm.timeouts.connect
                client = Client(self.scheduler)
            except OSError as exc:
                raise ExecutorError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None
        else:
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
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


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back while worker processes are started, and deliver it after.

    A worker interrupted while it imports printed a traceback and broke the pool, so workers
    must not hear Ctrl-C until they have set themselves deaf to it
    (:func:`~sim.model.engine.quiet_worker`). A blocked signal stays blocked in a process started
    meanwhile, across fork and exec, so each worker starts with Ctrl-C held and discards
    what it held once it ignores the signal. In this process a Ctrl-C pressed in these
    milliseconds is not lost: it arrives, as KeyboardInterrupt, when they end (or, where the
    kernel handed it to one of the numerical libraries' threads, when that thread next
    runs, which on a busy machine can be a moment later). Where signals
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


