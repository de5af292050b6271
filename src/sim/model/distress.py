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
that hovers near its cost. Output resumes where its ramp-up had got to.

A project that borrowed (:mod:`sim.model.lending`) also weighs, at each year's end with debt
service due, the cash it would make in a year at that day's prices and its present rate of
output (its ramp-up, but not a suspension: its loans treat an attack, an outage or a halt as
force majeure): sales after royalties, less operating and security costs. A shortfall its
operating cash can close in time (a slow ramp-up, a dip in prices) is carried: the holders
put in what is missing, as lenders reschedule rather than enforce on a mine that pays its
way. A mine whose cash does not cover its costs at all, for ``default_years`` year-ends in a
row with debt due and still owed after the year's instalment, defaults: the lenders write off what is owed, the site is abandoned for
good, and investor confidence falls for good by ``default_drop``. A mine on care and
maintenance with debt to service therefore defaults unless prices recover first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..scenario.schema import Distress
from .columns import Column
from .part import Part, Registration

if TYPE_CHECKING:
    from .projects import ProjectRun
    from .world import World

CARE = Column("care_and_maintenance", "bool", "True if any project went on care and maintenance within the horizon (its cash margin stayed negative).", better="lower", label="A project went on care and maintenance", shown="% of replications", scale=0.01)
CARE_YEARS_OF = Column("<project>_care_years", "yr", "Years the project spent on care and maintenance within the horizon.", better="lower", label="Years on care and maintenance")
DEFAULT = Column("default", "bool", "True if any project defaulted on its loans within the horizon (with debt service due, its cash at the day's prices covered none of its costs for distress.default_years year-ends running) and was abandoned.", better="lower", label="A project defaulted", shown="% of replications", scale=0.01)
OUTCOMES: tuple[Column, ...] = (CARE, DEFAULT, CARE_YEARS_OF)
"""Distress outcomes: whether any project went on care and maintenance or defaulted, then one column per project."""


class DistressRun(Part):
    def __init__(self, spec: Distress, world: World):
        self.world = world
        self.enabled = spec.enabled
        self._loss_years = int(spec.loss_years)
        self._avoidable = 1.0 - float(spec.care_cost_share)
        self._restart = float(spec.restart_margin)
        self._drop = float(spec.confidence_drop)
        self._losing = {p.key: 0 for p in world.projects}
        self.entered = False
        self._default_years = int(spec.default_years)
        self._default_drop = float(spec.default_drop)
        self._short = {p.key: 0 for p in world.projects}
        self.defaulted = False

    def year_end(self, k: int) -> None:
        """Decide, for the year ``k`` just closed (1-based), which projects stop or restart."""
        if not self.enabled:
            return
        w, now, i = self.world, self.world.now, k - 1  # i: the year just closed, 0-based
        for p in w.projects:
            if p.service_due > 0.0 and not p.ended and p.loans.balance() > 0.0 and self._defaults(p):
                continue
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

    def _defaults(self, p: ProjectRun) -> bool:
        """Whether ``p``, with debt service due for the year just closed, now defaults (and see to it)."""
        cash = self.world.cash_at_prices(p)
        self._short[p.key] = self._short[p.key] + 1 if cash < 0.0 else 0
        if self._short[p.key] < self._default_years:
            return False
        w, now = self.world, self.world.now
        w.advance()
        owed = p.loans.balance()
        p.loans.write_off()
        p.end(now)
        self.defaulted = True
        w.confidence.gain(now, -self._default_drop)
        w.note(p.key, f"defaults after {self._short[p.key]} year-end(s) of cash losses with debt service due "
                      f"(USD {p.service_due / 1e6:,.0f}m due, USD {cash / 1e6:,.0f}m a year of cash): the lenders "
                      f"write off USD {owed / 1e6:,.0f}m and the site is abandoned")
        w.changed()
        return True

    def outcomes(self) -> dict[str, float]:
        """:data:`OUTCOMES`; a project still idle at the horizon counts its years to it."""
        horizon = float(self.world.horizon)
        return {CARE.name: self.entered, DEFAULT.name: self.defaulted, **{CARE_YEARS_OF.of(p.key): p.care_years_to(horizon) for p in self.world.projects}}




PART = Registration("distress", DistressRun, "distress", OUTCOMES)
