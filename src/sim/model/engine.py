"""One replication: a pure function of (scenario, seed, replication index); and a chunk of them.

The engine draws the replication's uncertain inputs, builds the world on a fresh SimPy
clock with the replication's named random streams, runs it to the horizon, and returns
the outcome row, the yearly series, the drawn inputs and (on request) the event log. It
keeps no state between calls, so replications can run in any order, in any process.

A chunk (consecutive replication indices) is the unit a worker process runs: its results
come back as plain numpy columns. This module (with :func:`quiet_worker`, which a pool
runs as each worker starts) is all a worker process needs to import.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..scenario.schema import Scenario
from .accounting import YEAR
from .sampling import realize
from .streams import Streams
from .world import REPLICATION, TraceLog, World


@dataclass(frozen=True)
class Replication:
    index: int
    outcome: dict[str, Any]
    series: dict[str, np.ndarray]
    inputs: dict[str, float]
    log: TraceLog | None = None


def run_replication(scenario: Scenario, seed: int, replication: int, *, trace: bool = False,
                    series: bool = True) -> Replication:
    """Replication ``replication`` of ``scenario`` under root ``seed``; without ``series``
    its yearly rows are not gathered (its outcomes are the same)."""
    streams = Streams(seed, replication)
    realized, inputs = realize(scenario, streams)
    world = World(realized, streams, trace=trace)
    events = world.run()
    return Replication(replication, world.outcomes(events), world.series() if series else {}, inputs, world.log)


@dataclass
class Chunk:
    """The results of replications ``start .. stop - 1`` as columns."""

    start: int
    stop: int
    outcomes: dict[str, np.ndarray]
    inputs: dict[str, np.ndarray]
    series: dict[str, np.ndarray]


def run_chunk(scenario: Scenario, seed: int, start: int, stop: int, timeseries: bool = True) -> Chunk:
    """Run replications ``start .. stop - 1``; without ``timeseries`` the yearly rows are
    not gathered or sent back (the outcomes are the same)."""
    reps = [run_replication(scenario, seed, i, series=timeseries) for i in range(start, stop)]
    outcomes = {REPLICATION.name: np.arange(start, stop, dtype=np.int64)}
    for name in reps[0].outcome:
        outcomes[name] = np.array([r.outcome[name] for r in reps])
    inputs = {name: np.array([r.inputs[name] for r in reps], dtype=float) for name in reps[0].inputs}
    if not timeseries:
        return Chunk(start, stop, outcomes, inputs, {})
    years = len(next(iter(reps[0].series.values())))
    series: dict[str, np.ndarray] = {REPLICATION.name: np.repeat(outcomes[REPLICATION.name], years),
              YEAR.name: np.tile(np.arange(1, years + 1, dtype=np.int16), len(reps))}
    for name in reps[0].series:
        series[name] = np.concatenate([r.series[name] for r in reps])
    return Chunk(start, stop, outcomes, inputs, series)


def quiet_worker(parent: int) -> None:
    """Workers leave Ctrl-C to the parent, which stops the run cleanly; and they exit when the
    parent is gone (killed outright, say), instead of waiting for work forever. The parent's
    pid is passed in, not read here: a worker still starting up when its parent is killed
    has already been adopted by another process by the time this runs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # started with Ctrl-C held back (runner._ctrl_c_held)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
