"""The national programme: three phases, their gate criteria, and stalling.

The programme starts in Phase 1 (demonstration, nominally 2-3 years) on the start date.
It enters Phase 2 (commercial scaling, nominally 5-7 years) once it has spent the minimum
time in Phase 1, pilot exports have reached their threshold, a resource not verified at
the start has been verified to JORC / NI 43-101 and found large enough to build on, the
domestic refinery has closed financing, and investor confidence is high enough. It enters Phase 3 (significant impact, from about year 10) once it has
spent the minimum time in Phase 2, the refinery runs, export value over the trailing
sustain period has averaged at least the threshold run-rate, and confidence is high enough. Gates
are checked whenever anything in the world changes (at least at every price step), and
wake-ups are scheduled for the moments a time-based criterion is met: the minimum times,
the refinery reaching its running level, and confidence recovering to a gate's minimum when
that is all a gate still lacks (known in closed form), so that a phase is entered when its
gate opens, not at whatever event happens next.

If investor confidence stays below its floor long enough (see
:mod:`sim.model.confidence`), investors exit: the programme *stalls*. A stalled programme
enters no further phase and closes no further financing; sites already built keep
producing. Stalling is an outcome, not an error.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from ..scenario.schema import Program
from .columns import Column

if TYPE_CHECKING:
    from .world import World

EPS: Final = 1e-9

PHASE2_YEAR = Column("phase2_year", "yr", "Years from the start date until the programme enters Phase 2 (commercial scaling); NaN if not within the horizon.", better="lower", label="Time to reach Phase 2", shown="years since start")
PHASE3_YEAR = Column("phase3_year", "yr", "Years from the start date until the programme enters Phase 3 (significant impact); NaN if not within the horizon.", better="lower", label="Time to reach Phase 3", shown="years since start")
STALLED = Column("stalled", "bool", "True if investors exited: confidence stayed below the stall floor for the stall period.", better="lower", label="Stalled within the horizon", shown="% of replications", scale=0.01)
STALL_YEAR = Column("stall_year", "yr", "When the programme stalled; NaN if it did not.", label="Time to stall", shown="years since start")
OUTCOMES: tuple[Column, ...] = (PHASE2_YEAR, PHASE3_YEAR, STALLED, STALL_YEAR)
PHASE = Column("phase", "1-3", "Programme phase at the end of the year.", label="Programme phase", shown="phase")


class ProgramRun:
    def __init__(self, spec: Program, world: World):
        self.spec = spec
        self.world = world
        self.phase = 1
        self.phase_start = 0.0
        self.entered = {2: math.nan, 3: math.nan}
        self.stalled = False
        self.stall_year = math.nan
        self._confident_at = math.nan  # the confidence wake-up last scheduled
        # The gates' thresholds, read once (they are checked at every event).
        g2, g3 = spec.phase2, spec.phase3
        self._min_years = (float(g2.min_years) - EPS, float(g3.min_years_in_phase) - EPS)
        self._min_confidence = (float(g2.min_confidence), float(g3.min_confidence))
        self._min_exports = float(g2.min_cumulative_exports_usd)
        self._sustain = max(float(g3.sustain_years), float(world.scenario.market.step_years))
        self._min_sustained = float(g3.min_export_rate_usd) * self._sustain * (1 - 1e-12)
        world.wake_at(float(spec.phase2.min_years))

    def outcomes(self) -> dict[str, float | bool]:
        return {PHASE2_YEAR.name: self.entered[2], PHASE3_YEAR.name: self.entered[3],
                STALLED.name: self.stalled, STALL_YEAR.name: self.stall_year}

    def check(self) -> None:
        if self.stalled or self.phase == 3:
            return
        t = float(self.world.now)
        if self.phase == 1:
            if self._phase2_met(t) and self._confident(t, self._min_confidence[0]):
                self._enter(2, t)
        elif self._phase3_met(t) and self._confident(t, self._min_confidence[1]):
            self._enter(3, t)

    def _confident(self, t: float, minimum: float) -> bool:
        """Whether confidence is at a gate's ``minimum``; if not, a check is scheduled for
        when it will be, as things stand (a later shock moves it, and the check then finds
        the gate shut)."""
        confidence = self.world.confidence
        if confidence.level(t) >= minimum - EPS:
            return True
        at = confidence.time_back_over(minimum)
        if t < at < math.inf and at != self._confident_at:
            self._confident_at = at
            self.world.wake_at(at)
        return False

    def stall(self) -> None:
        if self.stalled:
            return
        self.stalled = True
        self.stall_year = float(self.world.now)
        self.world.note("programme", "stalled: confidence stayed below the floor, investors exit")

    def _phase2_met(self, t: float) -> bool:
        """Phase 2's gate criteria but confidence."""
        g, w = self.spec.phase2, self.world
        return (t - self.phase_start >= self._min_years[0]
                and w.ledger.total_exports >= self._min_exports
                and (not g.require_verified_resource
                     or any(p.verified and not p.spec.verified and not p.cancelled
                            for p in w.projects))
                and (not g.require_refinery_financing or w.refinery.financed))

    def _phase3_met(self, t: float) -> bool:
        """Phase 3's gate criteria but confidence."""
        g, w = self.spec.phase3, self.world
        return (t - self.phase_start >= self._min_years[1]
                and t >= self._sustain - EPS
                and (not g.require_refinery_running or w.refinery.running(t))
                and w.ledger.exports_over(self._sustain) >= self._min_sustained)

    def _enter(self, phase: int, t: float) -> None:
        self.phase = phase
        self.phase_start = t
        self.entered[phase] = t
        self.world.note("programme", f"enters Phase {phase}")
        self.world.confidence.gain(t, float(self.world.scenario.confidence.milestone_gain))
        if phase == 2:
            self.world.wake_at(t + float(self.spec.phase3.min_years_in_phase))
