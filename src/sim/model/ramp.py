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


def integrate(curve: RampCurve, a: float, b: float, cuts: tuple[float, ...] = (),
              factor: object = None) -> float:
    """Integral of ``curve.level(t) * factor(t)`` over ``[a, b]``.

    ``cuts`` are the times where ``factor`` (a function of the midpoint of a stretch) may
    change; the curve's own breakpoints are added here.
    """
    if b <= a or b <= curve.start:
        return 0.0
    if not cuts and a - curve.start >= curve.years_to_design:
        # On the plateau (the test ``level`` makes): the trapezoid below, in closed form, with
        # the same floating-point result.
        return curve.plateau * (b - a)
    start, end = curve.breakpoints()
    points = [a, b]
    for x in (start, end, *cuts):
        if a < x < b:
            points.append(x)
    points.sort()
    total = 0.0
    for lo, hi in zip(points, points[1:], strict=False):
        if hi <= start or hi == lo:  # output jumps from 0 to s0 at start, a breakpoint; a point twice
            continue
        f = 1.0 if factor is None else factor((lo + hi) * 0.5)  # type: ignore[operator]
        if f == 0.0:
            continue
        total += f * 0.5 * (curve.level(lo) + curve.level(hi)) * (hi - lo)
    return total
