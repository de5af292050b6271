"""Ramp-up: how a new mine or plant climbs from commissioning to design output.

A facility commissioned at time ``start`` produces ``plateau * (s0 + (1 - s0) * tau / T)``
of its design output ``tau`` years later, until ``tau = T`` (the time to design output),
and ``plateau`` after that. ``T`` is drawn per facility from the lognormal of its McNulty
ramp-up class; ``s0`` is the output share at commissioning; with the class's
``never_share`` probability the facility never reaches design and settles at the class's
``plateau`` below one (McCarthy & Ward: a quarter never do), otherwise at design.

Output between two events is integrated exactly: the curve is linear between its
breakpoints, and suspensions (attacks, outages) and staff withdrawals only switch a
constant factor on and off, so each stretch is a trapezoid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class RampCurve:
    start: float
    years_to_design: float
    start_fraction: float
    plateau: float

    @classmethod
    def built(cls) -> RampCurve:
        """A facility already at design output before the model starts."""
        return cls(start=-math.inf, years_to_design=0.0, start_fraction=1.0, plateau=1.0)

    def level(self, t: float) -> float:
        tau = t - self.start
        if tau < 0:
            return 0.0
        if tau >= self.years_to_design:
            return self.plateau
        s0 = self.start_fraction
        return self.plateau * (s0 + (1.0 - s0) * tau / self.years_to_design)

    def time_to_reach(self, share: float) -> float:
        """Model time at which the curve first reaches ``share`` of design (inf if never)."""
        if share > self.plateau:
            return math.inf
        s0 = self.start_fraction * self.plateau
        if share <= s0 or self.years_to_design <= 0:
            return self.start
        frac = (share / self.plateau - self.start_fraction) / (1.0 - self.start_fraction)
        return self.start + frac * self.years_to_design

    def breakpoints(self) -> tuple[float, float]:
        return self.start, self.start + self.years_to_design


def integrate(curve: RampCurve, a: float, b: float, cuts: list[float] | None = None,
              factors: list[float] | None = None) -> float:
    """Integral of ``curve.level(t)`` times a piecewise-constant factor over ``[a, b]``.

    ``cuts`` are the times inside ``(a, b)``, in order, where the factor may change, and
    ``factors`` its value on each of the ``len(cuts) + 1`` stretches they make; without
    them the factor is one throughout. The curve's own breakpoints are added here.
    """
    if b <= a or b <= curve.start:
        return 0.0
    if cuts is None or factors is None:
        if a - curve.start >= curve.years_to_design:
            # On the plateau (the test ``level`` makes): the trapezoid below, in closed form,
            # with the same floating-point result.
            return curve.plateau * (b - a)
        return _trapezoids(curve, a, b, 1.0, 0.0)
    total, lo, n = 0.0, a, len(cuts)
    for i in range(n + 1):
        hi = cuts[i] if i < n else b
        f = factors[i]
        if f != 0.0 and hi > lo:
            total = _trapezoids(curve, lo, hi, f, total)
        lo = hi
    return total


def _trapezoids(curve: RampCurve, lo: float, hi: float, f: float, total: float) -> float:
    """``total`` plus ``f`` times the integral of the curve over ``[lo, hi]``: a trapezoid on
    each side of the curve's breakpoints inside it (output jumps from 0 to s0 at the start)."""
    start = curve.start
    end = start + curve.years_to_design
    x = lo
    if lo < start < hi:
        x = start  # nothing is produced before the start
    if lo < end < hi:
        if end > start and end != x:
            total += f * 0.5 * (curve.level(x) + curve.level(end)) * (end - x)
        x = end
    if hi > start and hi != x:
        total += f * 0.5 * (curve.level(x) + curve.level(hi)) * (hi - x)
    return total
