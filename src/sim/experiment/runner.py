"""The pipeline every run takes: a plan of chunks, an executor that runs them, a sink that
keeps them.

A run of ``runs`` replications with root seed ``seed`` is cut into chunks of consecutive
replication indices (the last ones smaller, so the workers finish together): its
:class:`Plan`. A sweep is many such runs, one per design point, and a single run is a
sweep of one point (point 0), so both are a list of ``(point, Task)``. The tasks run on an
executor (:mod:`sim.experiment.executors`: in this process, a local pool, or Dask), and each chunk,
as it finishes, goes to a sink: :class:`MemorySink` keeps it in memory, and
:class:`sim.experiment.store.FolderSink` writes it to a run folder as a shard, which is what makes a
run resumable. :func:`run_tasks` is the one loop that joins the three; a run with a target
precision (see :mod:`sim.experiment.precision`) judges each chunk as it comes in and stops the run
there. Because each replication is a pure function of (scenario, seed, index), the tables
are identical, bit for bit, whatever the executor, the sink, the number of workers and the
chunk size.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..model.engine import Chunk
from ..model.outputs import HEADLINE, OUTCOMES, TIMESERIES, declaration
from ..scenario.schema import Scenario
from .executors import Executor, ExecutorError, StopRun, Task, execute, executor_for
from .manifest import Manifest, model_digest, scenario_digest
from .precision import PrecisionWatch, Verdict, aligned_chunks, check_points
from .results import ResultSet
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
class Plan:
    """The chunks of one run, and enough about it to refuse a mismatched resume: the
    resolved scenario's digest, the seed, the replications (a cap, with a target precision)
    and the chunk size, the precision target, and the model code's digest."""

    scenario_sha256: str
    seed: int
    runs: int
    chunk_size: int
    target_precision: float | None = None
    check_every: int | None = None
    precision_columns: list[str] = field(default_factory=list)
    tapered: bool = False  # the last chunks smaller (see plan_chunks); False in older folders
    model_sha256: str | None = None  # the model code's hash; None in older folders

    @classmethod
    def new(cls, scenario: Scenario, *, runs: int, seed: int, workers: int, chunk_size: int | None = None,
            target_precision: float | None = None, check_every: int | None = None,
            precision_columns: Sequence[str] = HEADLINE) -> Plan:
        """The plan of a new run; with ``target_precision``, ``runs`` is a cap judged every
        ``check_every`` replications, and the chunks fit the check step."""
        every = (check_every or runs) if target_precision else None
        first = min(runs, every or runs)
        size = min(chunk_size_for(first, workers, chunk_size), first)
        return cls(scenario_digest(scenario), seed, runs, size, target_precision, every,
                   list(precision_columns) if target_precision else [], tapered=True,
                   model_sha256=model_digest())

    def check_points(self) -> list[int]:
        return check_points(self.check_every, self.runs) if self.check_every else [self.runs]

    def chunks(self) -> list[tuple[int, int]]:
        if self.check_every:
            return aligned_chunks(self.check_points(), self.chunk_size)
        return plan_chunks(self.runs, 1, self.chunk_size, taper=self.tapered)

    def tasks(self, scenario: Scenario, point: int = 0) -> list[tuple[int, Task]]:
        return [(point, Task(scenario, self.seed, a, b)) for a, b in self.chunks()]


@dataclass
class RunTables:
    outcomes: pd.DataFrame
    timeseries: pd.DataFrame
    events_per_replication: float
    wall_seconds: float
    workers: int
    chunk_size: int


# --- sinks, and the loop ---------------------------------------------------------------------

class Sink(Protocol):
    """Where finished chunks go. ``saved`` lists (point, start, stop) of the chunks it holds
    already (a resumed folder's); ``save`` keeps one more."""

    def saved(self) -> set[tuple[int, int, int]]: ...

    def save(self, point: int, chunk: Chunk) -> None: ...


@dataclass
class MemorySink:
    """Chunks kept in memory, for tables put together when the run is done."""

    chunks: dict[tuple[int, int], Chunk] = field(default_factory=dict)

    def saved(self) -> set[tuple[int, int, int]]:
        return {(p, a, c.stop) for (p, a), c in self.chunks.items()}

    def save(self, point: int, chunk: Chunk) -> None:
        self.chunks[(point, chunk.start)] = chunk

    def tables(self, chunks: Sequence[tuple[int, int]], point: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
        return assemble([self.chunks[(point, a)] for a, _ in chunks])

    def events(self, chunks: Sequence[tuple[int, int]], point: int = 0) -> float:
        return sum(float(self.chunks[(point, a)].outcomes["events"].sum()) for a, _ in chunks)


Judge = Callable[[int, Chunk], bool]
"""Told of each finished chunk before it is saved; True ends the run once it is saved."""


def run_tasks(tasks: Sequence[tuple[int, Task]], executor: Executor, sink: Sink, *, timeseries: bool = True,
              progress: Progress | None = None, judge: Judge | None = None) -> int:
    """Run the tasks ``sink`` does not hold yet on ``executor`` and save each in ``sink`` as
    it finishes; ``progress`` is told the replications saved (those already held first).
    Returns how many tasks were run."""
    held = sink.saved()
    todo = [(p, t) for p, t in tasks if (p, t.start, t.stop) not in held]
    if progress and held:
        progress(sum(b - a for _, a, b in held))

    def on_chunk(i: int, chunk: Chunk) -> None:
        point = todo[i][0]
        enough = judge(point, chunk) if judge else False
        sink.save(point, chunk)
        if progress:
            progress(chunk.stop - chunk.start)
        if enough:
            raise StopRun

    execute([t for _, t in todo], executor, on_chunk, timeseries)
    return len(todo)


def run_plan(scenario: Scenario, plan: Plan, executor: Executor, sink: Sink, *, timeseries: bool = True,
             progress: Progress | None = None, watch: PrecisionWatch | None = None,
             after_judging: Callable[[], None] | None = None) -> tuple[int, Verdict | None, int]:
    """Run ``plan`` into ``sink``, judging each chunk with ``watch`` (a run with a target
    precision) and stopping at the first check point that meets it; ``after_judging`` is
    called after each judgement, before the chunk is saved. Returns the replications kept,
    the verdict that stopped the run (None if none did), and how many chunks were run."""
    stopped = watch.judge() if watch else None  # a resumed run may have met its target already

    def judge(_: int, chunk: Chunk) -> bool:
        nonlocal stopped
        assert watch is not None
        stopped = watch.add(chunk.start, chunk.stop, chunk.outcomes)
        if after_judging:
            after_judging()
        return stopped is not None

    ran = run_tasks([] if stopped else plan.tasks(scenario), executor, sink, timeseries=timeseries,
                    progress=progress, judge=judge if watch else None)
    return (stopped.runs if stopped else plan.runs), stopped, ran


def kept_chunks(plan: Plan, runs: int) -> list[tuple[int, int]]:
    """The chunks of ``plan`` below ``runs`` replications: those a precision run keeps."""
    return [c for c in plan.chunks() if c[1] <= runs]


def run_manifest(scenario: Scenario, plan: Plan, *, runs: int, workers: int, wall_seconds: float,
                 events: float, timeseries: bool, chunks_resumed: int = 0, watch: PrecisionWatch | None = None,
                 stopped: Verdict | None = None, provenance: dict[str, Any] | None = None) -> Manifest:
    """The manifest of a finished run, in memory or in a folder."""
    return Manifest.of_run(scenario, seed=plan.seed, runs=runs, workers=workers, chunk_size=plan.chunk_size,
                           wall_seconds=wall_seconds, events_per_replication=events / runs,
                           **(provenance or {}), status="complete", plan=plan.__dict__, timeseries=timeseries,
                           chunks_resumed=chunks_resumed,
                           precision=precision_record(watch, stopped or watch.last, plan) if watch else None)


def precision_record(watch: PrecisionWatch, verdict: Verdict | None, plan: Plan) -> dict[str, Any]:
    return {"target": plan.target_precision, "check_every": plan.check_every, "max_runs": plan.runs,
            "columns": plan.precision_columns, "met": bool(verdict and verdict.met),
            "runs": verdict.runs if verdict else None,
            "relative_half_widths": verdict.widths if verdict else {},
            "checks": [[v.runs, max(v.widths.values())] for v in watch.verdicts]}


# --- in memory -------------------------------------------------------------------------------

def run_many(scenario: Scenario, *, runs: int, seed: int, workers: int | None = None,
             chunk_size: int | None = None, progress: Progress | None = None,
             executor: str = "local", scheduler: str | None = None) -> RunTables:
    """Run ``runs`` replications and return the tables, in memory."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    workers = max(1, workers or default_workers())
    plan = Plan.new(scenario, runs=runs, seed=seed, workers=workers, chunk_size=chunk_size)
    began = time.perf_counter()
    sink = MemorySink()
    run_tasks(plan.tasks(scenario), executor_for(executor, workers, scheduler), sink, progress=progress)
    outcomes, timeseries = sink.tables(plan.chunks())
    return RunTables(outcomes, timeseries, float(outcomes["events"].mean()),
                     time.perf_counter() - began, workers, plan.chunk_size)


def simulate(scenario: Scenario, *, runs: int, seed: int, workers: int | None = None,
             chunk_size: int | None = None, progress: Progress | None = None, executor: str = "local",
             scheduler: str | None = None, provenance: dict[str, Any] | None = None,
             target_precision: float | None = None, check_every: int | None = None,
             precision_columns: Sequence[str] = HEADLINE, timeseries: bool = True) -> ResultSet:
    """Run ``runs`` replications of ``scenario`` and return them, in memory, with their
    provenance (``provenance`` adds to the manifest: where the scenario came from); without
    ``timeseries``, outcomes only. With
    ``target_precision``, ``runs`` is a cap, judged every ``check_every`` replications, as
    :func:`sim.experiment.store.run_to_folder` judges a run on disk."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    workers = max(1, workers or default_workers())
    plan = Plan.new(scenario, runs=runs, seed=seed, workers=workers, chunk_size=chunk_size,
                    target_precision=target_precision, check_every=check_every,
                    precision_columns=precision_columns)
    watch = (PrecisionWatch(plan.target_precision, plan.precision_columns, plan.check_points())
             if plan.target_precision else None)
    began = time.perf_counter()
    sink = MemorySink()
    ran, stopped, _ = run_plan(scenario, plan, executor_for(executor, workers, scheduler), sink,
                               timeseries=timeseries, progress=progress, watch=watch)
    kept = kept_chunks(plan, ran)
    outcomes, series = sink.tables(kept)
    manifest = run_manifest(scenario, plan, runs=ran, workers=workers, wall_seconds=time.perf_counter() - began,
                            events=sink.events(kept), timeseries=timeseries, watch=watch, stopped=stopped,
                            provenance=provenance)
    return ResultSet(scenario, outcomes, series, manifest)


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


