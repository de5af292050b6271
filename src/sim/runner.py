"""Running many replications: chunks of replication indices, on one core or a process pool.

A run of ``runs`` replications with root seed ``seed`` is cut into chunks of consecutive
replication indices. Each chunk is run by :func:`run_chunk`, in this process or in a
worker of a local process pool, and returns plain numpy columns; the chunks are put back
together in replication order. Because each replication is a pure function of (scenario,
seed, index), the tables are identical, bit for bit, whatever the number of workers and
the chunk size.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd

from .engine import run_replication
from .outputs import CHINA_REGIMES
from .results import ResultSet, make_manifest
from .schema import Scenario

Progress = Callable[[int], None]


@dataclass
class Chunk:
    """The results of replications ``start .. stop - 1`` as columns."""

    start: int
    stop: int
    outcomes: dict[str, np.ndarray]
    inputs: dict[str, np.ndarray]
    series: dict[str, np.ndarray]


def run_chunk(scenario: Scenario, seed: int, start: int, stop: int) -> Chunk:
    reps = [run_replication(scenario, seed, i) for i in range(start, stop)]
    outcomes = {"replication": np.arange(start, stop, dtype=np.int64)}
    for name in reps[0].outcome:
        outcomes[name] = np.array([r.outcome[name] for r in reps])
    inputs = {name: np.array([r.inputs[name] for r in reps], dtype=float) for name in reps[0].inputs}
    years = len(next(iter(reps[0].series.values())))
    series = {"replication": np.repeat(outcomes["replication"], years),
              "year": np.tile(np.arange(1, years + 1, dtype=np.int16), len(reps))}
    for name in reps[0].series:
        series[name] = np.concatenate([r.series[name] for r in reps])
    return Chunk(start, stop, outcomes, inputs, series)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def plan_chunks(runs: int, workers: int, chunk_size: int | None = None) -> list[tuple[int, int]]:
    """Consecutive index ranges: by default about eight chunks per worker, 10 to 250 each."""
    if chunk_size is None:
        chunk_size = min(250, max(10, math.ceil(runs / (8 * max(workers, 1)))))
    return [(a, min(a + chunk_size, runs)) for a in range(0, runs, chunk_size)]


@dataclass
class RunTables:
    outcomes: pd.DataFrame
    timeseries: pd.DataFrame
    events_per_replication: float
    wall_seconds: float
    workers: int
    chunk_size: int


def run_many(scenario: Scenario, *, runs: int, seed: int, workers: int | None = None,
             chunk_size: int | None = None, progress: Progress | None = None) -> RunTables:
    if runs < 1:
        raise ValueError("runs must be at least 1")
    workers = max(1, workers or default_workers())
    chunks = plan_chunks(runs, workers, chunk_size)
    began = time.perf_counter()
    done: dict[int, Chunk] = {}
    if workers == 1 or len(chunks) == 1:
        for a, b in chunks:
            done[a] = run_chunk(scenario, seed, a, b)
            if progress:
                progress(b - a)
    else:
        # "spawn" gives workers a clean interpreter: no state inherited from the caller.
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(run_chunk, scenario, seed, a, b) for a, b in chunks]
            for fut in as_completed(futures):
                chunk = fut.result()
                done[chunk.start] = chunk
                if progress:
                    progress(chunk.stop - chunk.start)
    ordered = [done[a] for a, _ in chunks]
    outcomes, timeseries = assemble(ordered)
    return RunTables(outcomes, timeseries, float(outcomes["events"].mean()),
                     time.perf_counter() - began, workers, chunks[0][1] - chunks[0][0])


def _stack(parts: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def assemble(chunks: list[Chunk]) -> tuple[pd.DataFrame, pd.DataFrame]:
    outcomes = pd.DataFrame(_stack([c.outcomes for c in chunks]))
    outcomes["stalled"] = outcomes["stalled"].astype(bool)
    inputs = _stack([c.inputs for c in chunks]) if chunks[0].inputs else {}
    if inputs:
        outcomes = pd.concat([outcomes, pd.DataFrame(inputs)], axis=1)
    series = pd.DataFrame(_stack([c.series for c in chunks]))
    series["china_regime"] = pd.Categorical.from_codes(series["china_regime"].astype(int),
                                                       categories=list(CHINA_REGIMES))
    return outcomes, series


def simulate(scenario: Scenario, *, runs: int, seed: int, workers: int | None = None,
             chunk_size: int | None = None, progress: Progress | None = None) -> ResultSet:
    """Run ``runs`` replications of ``scenario`` and return them with their provenance."""
    tables = run_many(scenario, runs=runs, seed=seed, workers=workers, chunk_size=chunk_size,
                      progress=progress)
    manifest = make_manifest(scenario, seed=seed, runs=runs, workers=tables.workers,
                             chunk_size=tables.chunk_size, wall_seconds=tables.wall_seconds,
                             events_per_replication=tables.events_per_replication)
    return ResultSet(scenario, tables.outcomes, tables.timeseries, manifest)
