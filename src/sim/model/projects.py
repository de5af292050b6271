"""Mining projects: from their starting stage, through financing and construction, to output.

A project walks the stages still ahead of it (exploration, feasibility, permitting), each
for a drawn time; then each of its phases in turn waits until it is eligible (the previous
phase produces and the phase's earliest start has passed), spends its lead time to a
financing close (stretched when investor confidence is low, abandoned if the programme has
stalled or the resource has proved too small), is built for its build time times the schedule overrun, and ramps up along the
curve of its McNulty class. A project already in construction starts with its first phase
financed; one already operating starts with it at design output.

At the close, investors test the phase's value at their cost of capital (the scenario's
rate plus the premium investor confidence implies; see :func:`sim.model.finance.phase_value`):
its plan capital against the cash its output would make at today's prices over the life
left, ramped up along its class's median curve, after royalties and tax. A phase worth less
than nothing is not financed; they look again every ``investment.retest_years`` until it
pays, the programme stalls or the horizon ends. A project ``valued_with_refinery`` counts the
domestic refinery's margin on its output too, as one venture owning both would.

While a site is suspended (an attack, a power or water outage) it produces nothing and
construction stops, pushing completion back by the suspension. A severe attack withdraws
foreign staff, cutting output by a share for a while. Output between events is integrated
exactly (see :mod:`sim.model.ramp`).

A claimed resource is uncertain until verified: each project carries the ratio of what is
there to what the plan assumes, and produces at min(1, ratio) of design throughout. A
separate process verifies the resource to JORC / NI 43-101 and reveals the ratio: a
confirmation lifts investor confidence, a downgrade lowers it, and a resource too small to
build on cancels the phases not yet financed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..scenario.schema import DAYS_PER_YEAR, STAGES, Project, ProjectPhase, Scenario
from .columns import Column
from .finance import phase_value, tax_rate
from .governance import dispute_delay
from .lending import Loans
from .ramp import RampCurve, integrate

if TYPE_CHECKING:
    from .world import World

FIRST_PRODUCTION = Column("<project>_first_production_year", "yr", "Years from the start date until the project's first phase is commissioned (0 if it produces at the start); NaN if not within the horizon.", better="lower", label="First production", shown="years since start")
CAPEX_OF = Column("<project>_capex_usd", "USD", "Capital the project spent within the horizon, overruns included (undiscounted; its part of capex_usd).", label="Capital spent")
OUTCOMES: tuple[Column, ...] = (FIRST_PRODUCTION, CAPEX_OF)
"""Each project's outcomes, one column per project of the scenario."""


def outcomes(runs: list[ProjectRun]) -> dict[str, float]:
    """The projects' outcomes (:data:`OUTCOMES`), family by family as the table holds them."""
    return {**{FIRST_PRODUCTION.of(p.key): p.first_production for p in runs},
            **{CAPEX_OF.of(p.key): p.spent for p in runs}}



@dataclass
class Spend:
    """Capital spent at a constant rate over a window."""

    start: float = math.inf
    end: float = math.inf
    total: float = 0.0

    def between(self, a: float, b: float) -> float:
        lo, hi = max(a, self.start), min(b, self.end)
        if hi <= lo or self.end <= self.start:
            return 0.0
        return self.total * (hi - lo) / (self.end - self.start)


@dataclass
class PhaseRun:
    spec: ProjectPhase
    curve: RampCurve | None = None
    capex: Spend = field(default_factory=Spend)
    outputs: tuple[tuple[str, float], ...] = ()
    output_at: list[tuple[int, float]] = field(default_factory=list)  # outputs by place in the scenario's commodities
    opex: float = 0.0
    commissioned: float = math.inf  # model time

    def __post_init__(self) -> None:
        self.outputs = tuple((c, float(q)) for c, q in self.spec.output.items())
        self.opex = float(self.spec.opex_usd_per_year)


class ProjectRun:
    def __init__(self, key: str, spec: Project, world: World):
        self.key = key
        self.spec = spec
        self.world = world
        self.stage: str = spec.stage
        self.verified = spec.verified
        self.cancelled = False  # a verification found too little to build on
        self.output_factor = min(1.0, float(spec.resource_factor))
        self.building = False
        self.active = spec.stage == "operating"  # a site on the ground: being built or producing
        self.complete_at = math.inf
        self.first_production = 0.0 if spec.stage == "operating" else math.nan
        self.spent = 0.0  # capital spent so far, booked by the world as it advances
        self.idle = False  # on care and maintenance (see sim.model.distress)
        self.idle_since = 0.0
        self.care_years = 0.0  # on care and maintenance, before the present stretch
        self.ended = False  # closed for good: taken, at the end of its life, or after a default
        self.loans = Loans(spec.debt, world.horizon)
        self.service_due = 0.0  # the debt service of the year just closed
        # Stretches of lost output, kept exactly so output can be integrated after the fact:
        # merged suspensions [start, end] and staff withdrawals (start, end, loss); and the
        # lasting security-cost rises (from, USD/yr), folded into one rate once in force.
        self._down: list[list[float]] = []
        self._withdrawn: list[tuple[float, float, float]] = []
        self._cost_rises: list[tuple[float, float]] = []  # not yet in force at the last booking
        self._risen_per_year = 0.0  # the sum of the rises in force
        self.phases = [PhaseRun(p) for p in spec.phases]
        place = {c: i for i, c in enumerate(world.scenario.commodities)}
        for run in self.phases:
            run.output_at = [(place[c], q) for c, q in run.outputs]
        self.producing: list[PhaseRun] = []  # the phases commissioned, with their ramp-up curves
        self.rng = world.streams(f"project:{key}")
        foreign = float(spec.foreign_staff_share)
        self.exposure = float(spec.exposure)
        self.illegal_exposed = bool(spec.illegal_extraction_exposed)
        self._target_weight = float(spec.exposure) * (1.0 + float(
            world.scenario.shocks.security.foreign_staff_factor) * foreign)

    # --- state read by the rest of the world -------------------------------------------

    def _caught_up(self) -> None:
        """Refuse to change unless the world has caught its parts up to now: what they
        simulate without events (outages) reads the sites as they were until now."""
        w = self.world
        if w.caught_up != w.now:
            raise RuntimeError(f"{self.key} changed at model time {w.now} with the world caught up only to "
                               f"{w.caught_up}: a part calls world.advance() before it changes a site's state, or "
                               "world.catch_up() before it suspends a site")

    def _moved(self) -> None:
        """After ``building`` or ``stage`` changed: whether the site is on the ground, and a
        new epoch of the world's set of sites (which the shock processes cache against)."""
        active = self.building or self.stage == "operating"
        if active != self.active:
            self._caught_up()
            self.active = active
            self.world.sites_epoch += 1

    @property
    def target_weight(self) -> float:
        return self._target_weight if self.active else 0.0

    def _factor(self, t: float) -> float:
        for start, end in self._down:
            if start <= t < end:
                return 0.0
        loss = 0.0
        for start, end, share in self._withdrawn:
            if start <= t < end and share > loss:
                loss = share
        return 1.0 - loss

    def _forget_before(self, a: float) -> None:
        if self._down and self._down[0][1] <= a:
            self._down = [d for d in self._down if d[1] > a]
        if self._withdrawn and self._withdrawn[0][1] <= a:
            self._withdrawn = [d for d in self._withdrawn if d[1] > a]

    def full_output_years(self, a: float, b: float) -> list[float]:
        """Per commissioned phase (as in ``producing``), the integral over [a, b] of the share
        of design output produced."""
        self._forget_before(a)
        if self._down or self._withdrawn:
            # Where the suspensions and withdrawals change the output's factor inside (a, b),
            # and its value on each stretch between (read at the stretch's midpoint).
            cuts: list[float] = []
            for start, end in self._down:
                if a < start < b:
                    cuts.append(start)
                if a < end < b:
                    cuts.append(end)
            for start, end, _share in self._withdrawn:
                if a < start < b:
                    cuts.append(start)
                if a < end < b:
                    cuts.append(end)
            cuts.sort()
            factors: list[float] = []
            lo = a
            for hi in (*cuts, b):
                factors.append(self._factor((lo + hi) * 0.5))
                lo = hi
            return [integrate(ph.curve, a, b, cuts, factors) for ph in self.producing]  # type: ignore[arg-type]
        return [integrate(ph.curve, a, b) for ph in self.producing]  # type: ignore[arg-type]

    def capex_between(self, a: float, b: float) -> float:
        total = 0.0
        for ph in self.phases:
            spend = ph.capex
            if spend.start < b and spend.end > a:
                total += spend.between(a, b)
        return total

    def downtime_years(self, a: float, b: float) -> float:
        """Time within [a, b] the site was suspended (suspensions are merged)."""
        if not self._down:
            return 0.0
        return sum(max(0.0, min(b, end) - max(a, start)) for start, end in self._down)

    def security_cost_between(self, a: float, b: float, base_per_year: float) -> float:
        if not self.active:
            return 0.0
        if self._cost_rises and self._cost_rises[0][0] <= a:
            self._risen_per_year += sum(r for since, r in self._cost_rises if since <= a)
            self._cost_rises = [(since, r) for since, r in self._cost_rises if since > a]
        cost = (base_per_year + self._risen_per_year) * (b - a)
        for since, per_year in self._cost_rises:
            cost += per_year * max(0.0, b - max(a, since))
        return cost

    # --- what shocks do to it -------------------------------------------------------------

    def suspend(self, now: float, days: float) -> None:
        """Stop the site for ``days`` from ``now`` (an outage drawn on catching up, from when
        it struck); overlapping suspensions merge; construction slips."""
        self._caught_up()
        end = now + days / DAYS_PER_YEAR
        if self._down and self._down[-1][1] >= now:
            added = max(0.0, end - self._down[-1][1])
            self._down[-1][1] = max(self._down[-1][1], end)
        else:
            self._down.append([now, end])
            added = end - now
        if self.building:
            self.complete_at += added

    # --- care and maintenance, and the end of a site ----------------------------------------

    def go_idle(self, now: float) -> None:
        """Onto care and maintenance (see :mod:`sim.model.distress`)."""
        self.idle, self.idle_since = True, now

    def restart(self, now: float) -> None:
        """Off care and maintenance: each commissioned phase's ramp-up resumes where it had
        got to (its curve moves later by the time it stood still: since the site stopped, or
        since it was commissioned, for a phase finished while the site was stopped)."""
        self.care_years += now - self.idle_since
        self.idle = False
        for run in self.producing:
            if run.curve is not None and math.isfinite(run.curve.start):
                still = now - max(self.idle_since, run.curve.start)
                run.curve = dataclasses.replace(run.curve, start=run.curve.start + still)

    def care_years_to(self, t: float) -> float:
        """Years on care and maintenance up to ``t``."""
        return self.care_years + (t - self.idle_since if self.idle else 0.0)

    def expropriate(self, now: float) -> None:
        """Taken for good by a policy reversal: the site produces, builds and spends no
        more, and its phases not yet built are cancelled."""
        self.end(now)

    def end(self, now: float) -> None:
        """The site closes for good (taken, or at the end of its life): it produces, builds
        and spends no more, and its phases not yet built are cancelled. The world has booked
        everything up to ``now``."""
        if self.idle:
            self.care_years += now - self.idle_since
            self.idle = False
        self.ended = True
        self.cancelled = True
        self.producing = []
        self.building = False
        self.complete_at = math.inf
        for run in self.phases:
            if run.capex.end > now:
                spent = run.capex.between(run.capex.start, now)
                run.capex = Spend(run.capex.start, now, spent) if now > run.capex.start else Spend()
        self.stage = "closed"
        self._moved()

    def withdraw_staff(self, now: float, years: float, loss: float) -> None:
        if years > 0 and loss > 0:
            self._withdrawn.append((now, now + years, loss))

    def raise_security_cost(self, now: float, per_year: float) -> None:
        if per_year > 0:
            self._cost_rises.append((now, per_year))

    # --- the lifecycle ----------------------------------------------------------------------

    def lifecycle(self) -> Generator[Any, Any, None]:
        w, spec = self.world, self.spec
        env = w.env
        first = 0
        if spec.stage == "operating":
            self.phases[0].curve = RampCurve.built()
            self.phases[0].commissioned = 0.0
            self.producing.append(self.phases[0])
            self._close_at_end_of_life()
            first = 1
        else:
            here = STAGES.index(spec.stage)
            for stage, years in (("exploration", spec.exploration_years),
                                 ("feasibility", spec.feasibility_years),
                                 ("permitting", spec.permitting_years)):
                if STAGES.index(stage) < here:
                    continue
                if self.cancelled:
                    w.note(self.key, f"{stage} not started: the resource is too small")
                    return
                self.stage = stage
                years = float(years)
                disputes = ""
                if stage == "permitting":
                    if w.scenario.levers.unified_framework:
                        years *= float(w.scenario.levers.framework_permitting_factor)
                    n, delay = dispute_delay(w.scenario, w.streams, self.key, years)
                    years += delay
                    if n:
                        disputes = f" ({n} provincial-federal dispute(s) added {delay:.2f} yr)"
                yield env.timeout(years)
                w.note(self.key, f"{stage} complete{disputes}")
        for i in range(first, len(self.phases)):
            run = self.phases[i]
            ph = run.spec
            if not (i == 0 and spec.stage == "construction"):
                if ph.earliest_start is not None:
                    earliest = w.scenario.years(ph.earliest_start)
                    if w.now < earliest:
                        yield env.timeout(earliest - w.now)
                if w.program.stalled or self.cancelled:
                    w.note(self.key, f"{ph.label}: no financing, " + self._why_not())
                    return
                while self.idle:  # no expansion is financed while the site is on care and maintenance
                    yield env.timeout(1.0)
                if self.cancelled:
                    w.note(self.key, f"{ph.label}: no financing, " + self._why_not())
                    return
                yield from w.lead_time(float(ph.lead_years))
                if w.scenario.investment.enabled:
                    yield from self._until_worth_financing(run)
                if w.program.stalled or self.cancelled:
                    w.note(self.key, f"{ph.label}: financing abandoned, " + self._why_not())
                    return
                w.note(self.key, f"{ph.label}: financing closed")
                w.milestone()
            w.advance()
            schedule, cost = w.overruns(ph)
            build = float(ph.build_years or 0.0) * schedule
            self.building = True
            if self.stage != "operating":
                self.stage = "construction"
            self._moved()
            self.complete_at = w.now + build
            run.capex = Spend(w.now, w.now + build, float(ph.capex_usd) * cost)
            w.note(self.key, f"{ph.label}: construction starts, {build:.2f} yr planned")
            w.changed()
            while w.now < self.complete_at:  # outages and attacks push the end back
                yield env.timeout(self.complete_at - w.now)
                w.catch_up()
            self.building = False
            self.stage = "operating"
            self._moved()
            run.curve = self._ramp_curve(w.now)
            run.commissioned = w.now
            if math.isnan(self.first_production):
                self.first_production = w.now
                self._close_at_end_of_life()
            self.producing.append(run)
            w.note(self.key, f"{ph.label}: commissioned, design output in "
                             f"{run.curve.years_to_design:.2f} yr")
            w.milestone()

    def worth(self, run: PhaseRun) -> tuple[float, float]:
        """What building ``run`` now is worth to investors, and their cost of capital (see
        :func:`sim.model.finance.phase_value`). A resource not yet verified is taken at plan."""
        w, spec, ph = self.world, self.spec, run.spec
        now = w.now
        build = float(ph.build_years or 0.0)
        on_stream = now + build
        if math.isnan(self.first_production):
            life = float(spec.life_years) if spec.life_years is not None else w.horizon - on_stream
            holiday = float(spec.tax_holiday_years)
        else:
            life = (float(spec.life_years) - (on_stream - self.first_production) if spec.life_years is not None
                    else w.horizon - on_stream)
            holiday = self.first_production + float(spec.tax_holiday_years) - on_stream
        factor = 1.0 if self.verified else 1.0 / self.output_factor  # investors know only the plan
        cls = w.scenario.ramp_up_classes[spec.ramp_up_class]
        plateau = 1.0 - float(cls.never_share) * (1.0 - float(cls.plateau))
        refining = w.ledger.refining_margin(run.outputs) if spec.valued_with_refinery else 0.0
        premium = w.confidence.risk_premium(now)
        value = phase_value(
            sales=w.sales_at_prices(self, [run]) * factor, refining=refining * self.output_factor * factor,
            opex=run.opex, fixed=0.0 if self.producing else w.site_security_cost(self),
            capex=float(ph.capex_usd), build_years=build, life_years=max(0.0, life), rate=w.ledger.rate,
            premium=premium, royalty=float(spec.royalty_rate), tax=tax_rate(spec, w.scenario.fiscal),
            holiday_left=max(0.0, holiday), depreciation_years=int(w.scenario.fiscal.depreciation_years),
            start_fraction=float(cls.start_fraction), ramp_years=float(cls.median_years), plateau=plateau)
        return value, (1.0 + w.ledger.rate) * math.exp(premium) - 1.0

    def _until_worth_financing(self, run: PhaseRun) -> Generator[Any, Any, None]:
        """Hold the financing close of ``run`` until investors find it worth building."""
        w = self.world
        retest = float(w.scenario.investment.retest_years)
        value, rate = self.worth(run)
        if value >= 0.0:
            return
        w.note(self.key, f"{run.spec.label}: not financed, worth USD {value / 1e6:,.0f}m at the investors' "
                         f"cost of capital ({rate:.1%}) and today's prices")
        while value < 0.0:
            yield w.env.timeout(retest)
            if w.program.stalled or self.cancelled:
                return
            value, rate = self.worth(run)
        w.note(self.key, f"{run.spec.label}: worth financing at today's prices "
                         f"(USD {value / 1e6:,.0f}m at {rate:.1%})")

    def _why_not(self) -> str:
        if self.ended:
            return "the site has closed"
        return ("the resource is too small" if self.cancelled and not self.world.program.stalled
                else "the programme has stalled")

    def _close_at_end_of_life(self) -> None:
        """Close the site when its producing life (``life_years`` from first production)
        runs out within the horizon."""
        if self.spec.life_years is None:
            return
        w = self.world
        end = self.first_production + float(self.spec.life_years)
        if end < w.horizon:
            def close() -> None:
                if not self.ended:
                    w.advance()
                    self.end(w.now)
                    w.note(self.key, "closes: its producing life is over")
                    w.changed()
            w.at(end, close)

    def _ramp_curve(self, now: float, stretch: float = 1.0) -> RampCurve:
        return draw_ramp(self.world.scenario, self.spec.ramp_up_class, self.rng, now, stretch)

    def plan_verification(self) -> None:
        """An unverified resource with a verification time is verified after it (sooner
        under the verification programme)."""
        if self.verified or self.spec.verification_years is None:
            return
        lv = self.world.scenario.levers
        years, gain = float(self.spec.verification_years), float(self.world.scenario.confidence.verification_gain)
        if lv.verification_programme:
            years *= float(lv.programme_verification_factor)
            gain *= float(lv.programme_verification_gain)
        self.world.at(years, lambda: self._verified(gain))

    def _verified(self, gain: float) -> None:
        w = self.world
        self.verified = True
        found, rules = float(self.spec.resource_factor), w.scenario.resources
        if found >= float(rules.downgrade_below):
            w.note(self.key, f"resource verified (JORC / NI 43-101) at {found:.0%} of plan")
            w.confidence.gain(w.now, gain)
        else:
            w.note(self.key, f"resource verified (JORC / NI 43-101) at {found:.0%} of plan: a downgrade")
            w.confidence.gain(w.now, -float(rules.downgrade_drop))
            if found < float(rules.abandon_below):
                self.cancelled = True
                w.note(self.key, "too little to build on: phases not yet financed are cancelled")
        w.changed()


def draw_ramp(scenario: Scenario, ramp_class: int, rng: Any, now: float, stretch: float = 1.0,
              never_factor: float = 1.0) -> RampCurve:
    """A ramp-up curve for a facility commissioned at ``now``, drawn from its class;
    ``stretch`` scales its time to design, ``never_factor`` its chance of never getting there."""
    cls = scenario.ramp_up_classes[ramp_class]
    z = float(rng.standard_normal())
    never = float(rng.random()) < float(cls.never_share) * never_factor
    years = float(cls.median_years) * math.exp(float(cls.sigma) * z) * stretch
    return RampCurve(now, years, float(cls.start_fraction), float(cls.plateau) if never else 1.0)
