"""Distress: a project that loses money on what it mines goes on care and maintenance, and
restarts when prices recover.

At each year's end, a producing project weighs its cash margin at that day's prices and its
design output: what its output would sell for as concentrate, after royalties, less the part
of its operating cost it would save by stopping. Its security cost is paid either way, so it
does not count. Output held in stock or lost to a suspension does not count either, because
the test reads prices, not the year's sales. After ``loss_years`` year-ends of negative
margin in a row, the project goes on care and maintenance. It stops producing, still pays
``care_cost_share`` of its operating cost and all of its security cost, and investor
confidence takes a fading knock.

At each later year's end it restarts if its margin would reach ``restart_margin`` of its
sales. The gap between the two tests keeps it from switching back and forth on a price
that hovers near its cost. Output resumes where its ramp-up had got to. Debt is not
modelled, so no project defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..columns import Column
from ..schema import Distress

if TYPE_CHECKING:
    from .world import World

CARE = Column("care_and_maintenance", "bool", "True if any project went on care and maintenance within the horizon (its cash margin stayed negative).", better="lower", label="A project went on care and maintenance", shown="% of replications", scale=0.01)
CARE_YEARS_OF = Column("<project>_care_years", "yr", "Years the project spent on care and maintenance within the horizon.", better="lower", label="Years on care and maintenance")
OUTCOMES: tuple[Column, ...] = (CARE, CARE_YEARS_OF)
"""Distress outcomes: whether any project went on care and maintenance, then one column per project."""


class DistressRun:
    def __init__(self, spec: Distress, world: World):
        self.world = world
        self.enabled = spec.enabled
        self._loss_years = int(spec.loss_years)
        self._avoidable = 1.0 - float(spec.care_cost_share)
        self._restart = float(spec.restart_margin)
        self._drop = float(spec.confidence_drop)
        self._losing = {p.key: 0 for p in world.projects}
        self.entered = False

    def year_end(self, k: int) -> None:
        """Decide, for the year ``k`` just closed (1-based), which projects stop or restart."""
        if not self.enabled:
            return
        w, now, i = self.world, self.world.env.now, k - 1  # i: the year just closed, 0-based
        for p in w.projects:
            if p.ended or not p.producing or not p.first_production <= i:
                continue  # closed, or not producing through the whole year
            sales, margin = w.margin_at_prices(p, self._avoidable)
            if p.idle:
                if sales > 0.0 and margin >= self._restart * sales:
                    w.advance()
                    p.restart(now)
                    self._losing[p.key] = 0
                    w.note(p.key, "restarts from care and maintenance: prices cover its costs again")
                continue
            self._losing[p.key] = self._losing[p.key] + 1 if margin < 0.0 else 0
            if self._losing[p.key] >= self._loss_years:
                w.advance()
                p.go_idle(now)
                self.entered = True
                w.confidence.drop(now, self._drop)
                w.note(p.key, f"goes on care and maintenance after {self._losing[p.key]} year-end(s) of cash losses "
                              f"(USD {margin / 1e6:,.1f}m a year at today's prices)")

    def outcomes(self) -> dict[str, float]:
        """:data:`OUTCOMES`; a project still idle at the horizon counts its years to it."""
        horizon = float(self.world.horizon)
        return {CARE.name: self.entered, **{CARE_YEARS_OF.of(p.key): p.care_years_to(horizon) for p in self.world.projects}}


