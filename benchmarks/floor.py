"""The floor a replication is measured against: bare SimPy stepping a baseline replication's event mix.

A fixed workload, the same in every bench run and on every version of the model: no
model, only SimPy's own work for about the number and kinds of events a baseline
replication processed when this reference was set (25 model years, about 730 events from
27 processes; this workload steps 768):

- a price ticker every quarter-year (100 events);
- a hazard (the attacks), about 70 arrivals, interrupted at each switch of two regime
  processes (about 85 switches; each interrupt leaves its timeout behind, stale, which
  SimPy still pops);
- an outage ticker, about 170 over the horizon;
- a recorder at each year's end, which ends after the last;
- four slower tickers (scheduled dates, policy changes, reversals), a dozen events between them;
- 17 short-lived processes (the projects' lifecycles and one-off calls), each waiting twice
  and ending.

The waits are drawn from a fixed seed, so every run steps the same events in the same
order; the model's replication cost over this one (CPU time, measured side by side) is the
floor ratio ``make bench`` prints. Cutting the model's events and cutting its work per event
lower the ratio alike, because the reference does not move with the model.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

HORIZON = 25
SEED = 20261202


def reference_replication() -> int:
    """Step the reference workload to the horizon, as the model's world is stepped; returns
    the number of events processed."""
    env = simpy.Environment()
    rng = np.random.default_rng(SEED)
    waits = rng.exponential(size=4096).tolist()  # drawn before the clock starts, as the model's streams are
    draw = iter(waits).__next__
    hazard: dict[str, Any] = {}

    def ticker(step: float) -> Generator[Any, Any, None]:
        while True:
            yield env.timeout(step)

    def poisson(rate: float) -> Generator[Any, Any, None]:
        while True:
            yield env.timeout(draw() / rate)

    def attacks() -> Generator[Any, Any, None]:
        while True:
            try:
                yield env.timeout(draw() / 2.8)
            except simpy.Interrupt:
                continue

    def regime(rate: float) -> Generator[Any, Any, None]:
        while True:
            yield env.timeout(draw() / rate)
            process = hazard["process"]
            if process.is_alive and env.active_process is not process:
                process.interrupt()

    def recorder() -> Generator[Any, Any, None]:
        for k in range(1, HORIZON + 1):
            yield env.timeout(float(k) - env.now)

    def short_lived(start: float) -> Generator[Any, Any, None]:
        yield env.timeout(start)
        yield env.timeout(0.5 + draw())

    env.process(ticker(0.25))
    hazard["process"] = env.process(attacks())
    env.process(regime(1.7))
    env.process(regime(1.7))
    env.process(poisson(6.9))
    env.process(recorder())
    for rate in (0.15, 0.15, 0.1, 0.08):
        env.process(poisson(rate))
    for j in range(17):
        env.process(short_lived(0.7 * j))
    n = 0
    while env.peek() <= HORIZON:
        env.step()
        n += 1
    return n
