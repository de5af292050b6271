"""Poisson events whose rate changes at other events, simulated exactly.

Attacks on the mineral sector arrive at a rate that changes whenever a province's
security regime switches or a site opens; outages arrive at a rate proportional to the
number of sites. Rather than thinning a fast process (thousands of events) or
re-drawing a waiting time at every change (which would make the random numbers consumed
depend on unrelated events), each arrival draws one unit exponential ``E`` of cumulative
hazard: the event happens when the integral of the rate since the last event reaches
``E``. When the rate changes, the waiting process is interrupted, the hazard used so far is
subtracted, and the rest is waited at the new rate. One exponential per event, whatever
else happens.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy


class VaryingRatePoisson:
    def __init__(self, env: simpy.Environment, rng: np.random.Generator,
                 rate: Callable[[], float], on_event: Callable[[], None]):
        self.env = env
        self.rng = rng
        self.rate = rate
        self.on_event = on_event
        self._current = 0.0
        self._waiting = False
        self.process = env.process(self._run())

    def rate_changed(self) -> None:
        """Tell the process the rate may have changed; cheap if it has not."""
        if not self._waiting or self.rate() == self._current:
            return
        if self.env.active_process is not self.process:
            self.process.interrupt()

    def _run(self) -> Generator[Any, Any, None]:
        need = float(self.rng.exponential())
        while True:
            rate = self._current = self.rate()
            began = self.env.now
            self._waiting = True
            try:
                if rate > 0.0:
                    yield self.env.timeout(need / rate)
                else:
                    yield self.env.event()
            except simpy.Interrupt:
                self._waiting = False
                need = max(0.0, need - rate * (self.env.now - began))
                continue
            self._waiting = False
            self.on_event()
            need = float(self.rng.exponential())
