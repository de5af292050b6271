"""Poisson events whose rate changes at other events, simulated exactly.

Attacks on the mineral sector arrive at a rate that changes whenever a province's
security regime switches or a site opens; China's random regime steps at a rate of their
own. (Outages, at a rate proportional to the number of sites, follow the same rule without
simulation events: :mod:`sim.model.infrastructure`.) Rather than thinning a fast process (thousands of events) or
re-drawing a waiting time at every change (which would make the random numbers consumed
depend on unrelated events), each arrival draws one unit exponential ``E`` of cumulative
hazard: the event happens when the integral of the rate since the last event reaches
``E``. When the rate changes, the hazard used so far is subtracted and the rest is waited
at the new rate. One exponential per event, whatever else happens, from a stream that
draws nothing else (so it is read in blocks, :mod:`sim.model.draws`).

The wait is a plain SimPy timeout with a callback, not a process: a rate change schedules a
new timeout and leaves the old one to fire unheeded, where a waiting process would have
to be interrupted (an ``Interrupt`` event and the process resumed, at every rate change).

Where nothing reads an arrival until the world next catches up (outages), the same process
needs no simulation event at all: :class:`DrawnPoisson` draws the arrivals due by a time
when asked, with the same numbers in the same order.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from .draws import Draws


class VaryingRatePoisson:
    """Events at the rate ``rate()`` gives, each handled by ``on_event()``: the two callables
    given, or a subclass's overrides of :meth:`rate` and :meth:`happen` (which compiled code
    calls without the cost of calling a Python callable)."""

    def __init__(self, env: simpy.Environment, rng: Draws,
                 rate: Callable[[], float] | None = None, on_event: Callable[[], None] | None = None):
        self.env = env
        self.rng = rng
        self._rate_of = rate
        self._on_event = on_event
        self._need = rng.exponential()  # the cumulative hazard left until the next event
        self._current = 0.0
        self._began = env.now
        self._pending: simpy.Event | None = None
        self._firing = False
        self._wait()

    def rate(self) -> float:
        """The rate now."""
        if self._rate_of is None:
            raise NotImplementedError("give VaryingRatePoisson a rate, or override rate()")
        return self._rate_of()

    def happen(self) -> None:
        """An event."""
        if self._on_event is None:
            raise NotImplementedError("give VaryingRatePoisson an on_event, or override happen()")
        self._on_event()

    def rate_changed(self) -> None:
        """Tell the process the rate may have changed; cheap if it has not."""
        if self._firing or self.rate() == self._current:
            return
        self._need = _left(self._need, self._current, self._began, self.env.now)
        self._wait()

    def _wait(self) -> None:
        """Wait out the hazard left at the rate in force now (forever at rate 0)."""
        rate = self._current = self.rate()
        self._began = self.env.now
        if rate > 0.0:
            timeout = self._pending = self.env.timeout(self._need / rate)
            timeout.callbacks.append(self._arrive)  # type: ignore[union-attr]
        else:
            self._pending = None

    def _arrive(self, event: simpy.Event) -> None:
        if event is not self._pending:
            return  # a wait the rate has changed since
        self._firing = True
        try:
            self.happen()
        finally:
            self._firing = False
        self._need = self.rng.exponential()
        self._wait()


class DrawnPoisson:
    """The process of :class:`VaryingRatePoisson` without simulation events: the arrivals
    due by ``t`` are drawn when :meth:`catch_up` is called, each handed its own time. The
    rate must not have changed since the last call but where :meth:`rate_changed` was told.
    As there, the rate and the handler are two callables or a subclass's overrides."""

    def __init__(self, rng: Draws, now: float, rate: Callable[[], float] | None = None,
                 on_event: Callable[[float], None] | None = None):
        self.rng = rng
        self._rate_of = rate
        self._on_event = on_event
        self._need = rng.exponential()  # the cumulative hazard left until the next event
        self._current = self.rate()
        self._began = now

    def rate(self) -> float:
        """The rate now."""
        if self._rate_of is None:
            raise NotImplementedError("give DrawnPoisson a rate, or override rate()")
        return self._rate_of()

    def happen(self, at: float) -> None:
        """An event at model time ``at``."""
        if self._on_event is None:
            raise NotImplementedError("give DrawnPoisson an on_event, or override happen()")
        self._on_event(at)

    def catch_up(self, t: float) -> None:
        """Every arrival due by ``t``, in order."""
        while self._current > 0.0:
            due = self._began + self._need / self._current
            if due > t:
                return
            self.happen(due)
            self._need = self.rng.exponential()
            self._current = self.rate()
            self._began = due

    def rate_changed(self, now: float) -> None:
        """The rate may have changed at ``now``, the arrivals up to which are drawn."""
        rate = self.rate()
        if rate != self._current:
            self._need = _left(self._need, self._current, self._began, now)
            self._current = rate
            self._began = now


def _left(need: float, rate: float, since: float, now: float) -> float:
    """The hazard left of ``need`` after waiting from ``since`` to ``now`` at ``rate``."""
    return max(0.0, need - rate * (now - since))
