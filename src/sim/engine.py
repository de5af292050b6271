"""One replication: a pure function of (scenario, seed, replication index).

The engine draws the replication's uncertain inputs, builds the world on a fresh SimPy
clock with the replication's named random streams, runs it to the horizon, and returns
the outcome row, the yearly series, the drawn inputs and (on request) the event log. It
keeps no state between calls, so replications can run in any order, in any process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .model.world import TraceLog, World
from .sampling import realize
from .schema import Scenario
from .streams import Streams


@dataclass(frozen=True)
class Replication:
    index: int
    outcome: dict[str, Any]
    series: dict[str, np.ndarray]
    inputs: dict[str, float]
    log: TraceLog | None = None


def run_replication(scenario: Scenario, seed: int, replication: int, *, trace: bool = False) -> Replication:
    streams = Streams(seed, replication)
    realized, inputs = realize(scenario, streams)
    world = World(realized, streams, trace=trace)
    events = world.run()
    return Replication(replication, world.outcomes(events), world.ledger.series(), inputs, world.log)
