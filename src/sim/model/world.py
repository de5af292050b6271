"""The world of one replication: every part of the model on one SimPy clock.

Time is continuous, in years from the scenario's start date, and advances from event to
event (next-event time advance): a stage finishing, an attack, a regime switch, a price
step, a year ending. Before any part of the world changes its state it calls
:meth:`World.advance`, which books production, trade and money over the stretch since the
previous event in closed form; after it has changed, it calls :meth:`World.changed`, which
re-checks the programme's gates and tells the Poisson processes that their rates may have
moved. A recorder closes each model year's row of the time series.

The world's core, each in its own module: the projects, processing (refinery and routes),
the market, investor confidence, the programme's phases and the ledger. The shocks and
responses (China's controls, the U.S. tariff, security, infrastructure, governance,
distress) are parts that plug in (:mod:`sim.model.part`): :data:`PARTS` lists them, and the
world builds them and calls their hooks in that order. Each draws from its own named
random stream.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Generator
from typing import Any

import simpy

from ..errors import EventBudgetError
from ..scenario.schema import EVENT_BUDGET, Scenario
from . import (
    accounting,
    distress,
    finance,
    governance,
    infrastructure,
    lending,
    program,
    projects,
    refining,
    security,
    tariffs,
)
from .accounting import Ledger
from .columns import Column
from .confidence import Confidence
from .market import Market
from .part import Part, Registration, overriding
from .processing import RefineryRun
from .program import ProgramRun
from .projects import PhaseRun, ProjectRun
from .refining import RefiningRun
from .security import SecurityRun
from .streams import Streams
from .tariffs import TariffRun

PARTS: tuple[Registration, ...] = (refining.PART, tariffs.PART, security.PART, infrastructure.PART,
                                   governance.PART, distress.PART)
"""The parts that plug into the world (:mod:`sim.model.part`), in the order it builds them
and calls their hooks; a new part goes at the end (moving one can change results)."""

REPLICATION = Column("replication", "-", "Replication index i; each of its random streams is seeded by the hash of (seed, i, the stream's name).", label="Replication")
EVENTS = Column("events", "count", "Simulation events processed in the replication, the outages among them (drawn without a simulation event each).", label="Simulation events")
OUTCOMES: tuple[Column, ...] = (REPLICATION, *program.OUTCOMES, *accounting.OUTCOMES, *finance.OUTCOMES,
                                *projects.OUTCOMES, *lending.OUTCOMES,
                                *(column for part in PARTS for column in part.outcomes), EVENTS)
"""The outcome table's columns, in table order: the replication, the core's outcomes, each
registered part's, and the events processed."""
SERIES: tuple[Column, ...] = (REPLICATION, *accounting.SERIES, *(column for part in PARTS for column in part.series))
"""The time-series table's columns, in table order: the ledger's, then each registered part's."""

TraceLog = list[tuple[float, str, str]]


class World:
    def __init__(self, scenario: Scenario, streams: Streams, trace: bool = False,
                 parts: tuple[Registration, ...] = PARTS):
        self.env = simpy.Environment()
        # The model time now: SimPy's clock, kept by run() as it steps each event (an
        # attribute read, where ``env.now`` is a property call at every use).
        self.now = 0.0
        self.scenario = scenario
        self.streams = streams
        self.log: TraceLog | None = [] if trace else None
        self.last = 0.0
        self.sites_epoch = 0  # bumped whenever a site comes onto or leaves the ground
        self.handled = 0  # events the parts handled without a simulation event (outages)
        self.caught_up = 0.0  # the model time the parts were last caught up to (see catch_up)
        self._active: tuple[int, list[ProjectRun]] = (-1, [])
        self.horizon = scenario.horizon_years
        self._milestone_gain = float(scenario.confidence.milestone_gain)
        self._lead_step = float(scenario.market.step_years)
        lv, sec = scenario.levers, scenario.shocks.security
        self._security_on = sec.enabled
        self._site_security_cost = float(sec.cost_usd_per_site_year) * float(lv.security_spending)
        self._lead_factor = float(lv.financing_lead_factor)
        self._care_cost = float(scenario.distress.care_cost_share)
        # What the levers cost a site a year, per unit of exposure (community programmes and
        # security above today's spending) and at a site exposed to illegal extraction
        # (tracking); and the state's verification programme, over the first two years.
        self._programmes = float(lv.costs.community_usd_per_site_year) * float(lv.community_participation)
        self._extra_security = (float(sec.cost_usd_per_site_year) * (float(lv.security_spending) - 1.0)
                                if sec.enabled else 0.0)
        self._tracking = float(lv.costs.tracking_usd_per_site_year) * float(lv.output_tracking)
        self._verification_cost = float(lv.costs.verification_programme_usd) if lv.verification_programme else 0.0
        self._payable = {c: float(s.concentrate_payable) for c, s in scenario.commodities.items()}
        # Output lost to illegal extraction at exposed sites, less what tracking prevents.
        self._kept = 1.0 - float(lv.illegal_extraction_share) * (1.0 - float(lv.output_tracking))

        self.confidence = Confidence(scenario.confidence, scenario.horizon_years, self.at, self._stall)
        self.market = Market(scenario.commodities, streams.draws("market", "normal"))
        self.program = ProgramRun(scenario.program, self)
        self.ledger = Ledger(self)
        self.projects = [ProjectRun(k, p, self) for k, p in scenario.projects.items()]
        self.kept_by_project = {p.key: (self._kept if p.illegal_exposed else 1.0)
                                 * p.output_factor for p in self.projects}
        self.refinery = RefineryRun(scenario.processing.refinery, self)
        # The registered parts, by their registration's name; the core reads three of them.
        self.part: dict[str, Part] = {}
        for registration in parts:
            self.part[registration.name] = registration.build(self)
        self.parts = list(self.part.values())
        self.refining: RefiningRun = self._read_by_the_core("refining", RefiningRun)
        self.tariff: TariffRun = self._read_by_the_core("tariff", TariffRun)
        self.security: SecurityRun = self._read_by_the_core("security", SecurityRun)
        self._on_change = overriding(self.parts, "changed")
        self._on_catch_up = overriding(self.parts, "catch_up")
        self._on_year_end = overriding(self.parts, "year_end")
        self.market.clear(0.0, 0.0, self.refining.levels_by_commodity(), {})
        for p in self.projects:
            self.env.process(p.lifecycle())
            p.plan_verification()
        self.env.process(self.refinery.lifecycle())
        self.env.process(self._prices())
        self.env.process(self._recorder())

    def _read_by_the_core(self, name: str, kind: type) -> Any:
        found = self.part.get(name)
        if not isinstance(found, kind):
            raise TypeError(f"the world's core reads the part {name!r} ({kind.__name__}), which the registry lacks")
        return found

    # --- services the parts use ------------------------------------------------------------

    def note(self, source: str, text: str, at: float | None = None) -> None:
        """Log ``text`` from ``source`` (when tracing) at model time ``at``, or now."""
        if self.log is not None:
            self.log.append((self.now if at is None else at, source, text))

    def catch_up(self) -> None:
        """Let the parts bring what they simulate without events up to now: before a
        site's suspensions or its construction's end are read, and before a site is
        suspended or comes onto or leaves the ground (:meth:`advance` calls it; a site
        refuses to change otherwise)."""
        now = self.caught_up = self.now
        for part in self._on_catch_up:
            part.catch_up(now)

    def active_sites(self) -> list[ProjectRun]:
        """The sites on the ground (being built or producing), in scenario order; kept until
        the sites epoch moves. Not to be changed by the caller."""
        epoch, sites = self._active
        if epoch != self.sites_epoch:
            sites = [p for p in self.projects if p.active]
            self._active = (self.sites_epoch, sites)
        return sites

    def sales_at_prices(self, p: ProjectRun, runs: list[PhaseRun] | None = None) -> float:
        """What a project's commissioned phases (or ``runs``) would sell in a year at design
        output and today's ex-China prices, as concentrate (before royalties)."""
        ex_china, payable = self.market.ex_china, self._payable
        return self.kept_by_project[p.key] * sum(q * ex_china[c] * payable[c] for run in
                                                 (p.producing if runs is None else runs) for c, q in run.outputs)

    def margin_at_prices(self, p: ProjectRun, opex_share: float = 1.0) -> tuple[float, float]:
        """A year's sales after royalties at design output and today's prices, and the cash
        margin on them after ``opex_share`` of the commissioned phases' operating cost."""
        sales = self.sales_at_prices(p) * (1.0 - float(p.spec.royalty_rate))
        return sales, sales - opex_share * sum(run.opex for run in p.producing)

    def cash_at_prices(self, p: ProjectRun) -> float:
        """A year's cash a project would make at today's prices and its phases' present rate
        of output (their ramp-up, not a suspension, which its loans treat as force majeure):
        sales after royalties, less operating and security costs; on care and maintenance,
        what that costs."""
        security = self.site_security_cost(p)
        if p.idle:
            return -self._care_cost * sum(run.opex for run in p.producing) - security
        now, net = self.now, 1.0 - float(p.spec.royalty_rate)
        cash = -security
        for run in p.producing:
            level = run.curve.level(now) if run.curve is not None else 0.0
            cash += level * (self.sales_at_prices(p, [run]) * net - run.opex)
        return cash

    def _running_costs(self, p: ProjectRun) -> float:
        """A year's operating and security cost of a project's commissioned phases at design."""
        return sum(run.opex for run in p.producing) + self.site_security_cost(p)

    def site_security_cost(self, p: ProjectRun) -> float:
        """A year's security cost of a site at today's spending (before any rise after attacks)."""
        return self._site_security_cost * p.exposure if self._security_on else 0.0

    def at(self, t: float, action: Callable[[], None]) -> None:
        """Run ``action`` at model time ``t``, or, if ``t`` has passed, once the event being
        handled is done. One simulation event with a callback, where a process waiting
        for ``t`` would take three (its start, its wait and its end)."""
        self.after(t - self.now if t > self.now else 0.0, action)

    def after(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` ``delay`` years from now (see :meth:`at`)."""
        self.env.timeout(delay).callbacks.append(lambda _event: action())  # type: ignore[union-attr]

    def wake_at(self, t: float) -> None:
        """Re-check the gates at ``t``: for criteria that become true with time alone."""
        if t <= self.horizon:
            self.at(t, self.changed)

    def lead_time(self, years: float) -> Generator[Any, Any, None]:
        """Wait out a lead time (times the financing lever) that runs slower while confidence
        is low: progress accrues at 1 / (financing delay factor), re-read every price step."""
        remaining, env = years * self._lead_factor, self.env
        while remaining > 1e-12:
            factor = self.confidence.financing_delay_factor(self.now)
            step = min(remaining * factor, self._lead_step)
            yield env.timeout(step)
            remaining -= step / factor

    def overruns(self, spec: Any) -> tuple[float, float]:
        """(schedule, cost) multipliers for building ``spec``: its drawn overruns, or the plan
        (1, 1) when construction overruns are switched off."""
        if not self.scenario.construction.enabled:
            return 1.0, 1.0
        return float(spec.schedule_overrun), float(spec.cost_overrun)

    def milestone(self) -> None:
        """A financing close or commissioning: confidence gains, and the gates are re-checked."""
        self.confidence.gain(self.now, self._milestone_gain)
        self.changed()

    def changed(self) -> None:
        """Something changed: re-check the programme's gates, then tell the parts."""
        self.program.check()
        for part in self._on_change:
            part.changed()

    def advance(self) -> None:
        """Book everything that accrued since the last event, up to now."""
        self.catch_up()
        a, b = self.last, self.now
        if b <= a:
            return
        self.last = b
        sites: list[accounting.Site] = []
        downtime = 0.0
        dt = b - a
        levers = self._verification_cost * max(0.0, min(b, 2.0) - a) / 2.0 if a < 2.0 else 0.0
        books, goods = self.ledger.books, len(self.ledger.goods)
        for p in self.projects:
            if not p.active:
                continue
            kept = self.kept_by_project[p.key]
            made = [0.0] * goods
            opex = 0.0
            if p.idle:  # on care and maintenance: no output, a share of the operating cost
                opex = self._care_cost * (b - a) * sum(run.opex for run in p.producing)
            else:
                producing, shares = p.producing, p.full_output_years(a, b)
                for j in range(len(producing)):  # an index, not zip(strict=True), which mypyc calls generically
                    share = shares[j]
                    if share:
                        run = producing[j]
                        for i, q in run.output_at:
                            made[i] += share * q * kept
                        opex += share * run.opex
            spent = p.capex_between(a, b)
            p.spent += spent
            downtime += p.downtime_years(a, b)
            security = p.security_cost_between(a, b, self.site_security_cost(p)) if self._security_on else 0.0
            programmes = dt * (p.exposure * self._programmes + (self._tracking if p.illegal_exposed else 0.0))
            levers += programmes + dt * p.exposure * self._extra_security
            sites.append((books[p.key], made, opex, security + programmes, spent))
        refinery = self.refinery
        self.ledger.book(a, b, sites, refinery.built, refinery.design_years(a, b), refinery.capex.between(a, b),
                         downtime, levers, refinery.running(a))

    # --- running ---------------------------------------------------------------------------

    def run(self) -> int:
        """Run to the horizon; returns the number of events processed, those the parts
        handled without a simulation event among them. Raises EventBudgetError past
        :data:`~sim.scenario.schema.EVENT_BUDGET` events."""
        env, horizon, n, budget = self.env, float(self.horizon), 0, EVENT_BUDGET
        while True:
            t = env.peek()
            if t > horizon:
                break
            self.now = t  # the time the step moves SimPy's clock to
            env.step()
            n += 1
            if n + self.handled > budget:
                raise EventBudgetError(
                    f"a replication passed {EVENT_BUDGET:,} simulation events by model year {self.now:.2f} "
                    f"of {self.horizon} ({self.security.incidents:,} security incidents so far): the "
                    "scenario's rates are too high to simulate; lower the attack rates, hit "
                    "probability, outage or switching rates, or the horizon")
        self.ledger.flush()
        if self.log is not None:  # outages are logged when the world catches up, after later events
            self.log.sort(key=operator.itemgetter(0))
        return n + self.handled

    def outcomes(self, events: int) -> dict[str, Any]:
        """The replication's outcomes (:data:`OUTCOMES` but the replication index), each
        part's from the part."""
        sc, h = self.scenario, self.horizon
        premium = self.confidence.premium_years(float(h))
        left = {p.key: finance.life_left(p.spec, p.first_production, h, p.ended) for p in self.projects}
        beyond = {p.key: finance.beyond_horizon(p.spec, sc.fiscal, p.first_production, h, self.sales_at_prices(p),
                                                self._running_costs(p)) for p in self.projects}
        local = float(sc.levers.local_equity_share)
        accounts = {p.key: finance.Accounts(self.ledger.books[p.key], p.spec, sc.fiscal, p.first_production,
                                            left[p.key], beyond[p.key][1], self.ledger.rate, premium, local, p.loans)
                    for p in self.projects}
        programme = {key: (beyond[key][0], left[key]) for key in left}
        row = {**self.program.outcomes(), **self.ledger.outcomes(programme),
               **finance.outcomes(accounts, self.ledger.lever_cost),
               **projects.outcomes(self.projects),
               **{lending.WRITTEN_OFF_OF.of(p.key): p.loans.written_off for p in self.projects}}
        for part in self.parts:
            row.update(part.outcomes())
        row[EVENTS.name] = events
        return row

    def series(self) -> dict[str, Any]:
        """The replication's yearly series (:data:`SERIES` but the replication and the year):
        the ledger's, then each part's."""
        out = self.ledger.series()
        for part in self.parts:
            out.update(part.series())
        return out

    # --- processes ------------------------------------------------------------------------

    def _stall(self) -> None:
        self.program.stall()

    def _prices(self) -> Generator[Any, Any, None]:
        step = float(self.scenario.market.step_years)
        while True:
            yield self.env.timeout(step)
            self.advance()
            self.market.step(step)
            self.market.clear(self.now, step, self.refining.levels_by_commodity(), self.ledger.take_feed(step))
            if self.log is not None:
                for c, m in self.market.clearing.items():
                    self.note("market", f"{c}: USD {self.market.ex_china[c]:,.0f} outside China, {m.ratio:.2f} x "
                                        f"China's USD {self.market.price[c]:,.0f}")
            self.changed()

    def _recorder(self) -> Generator[Any, Any, None]:
        for k in range(1, self.horizon + 1):
            yield self.env.timeout(float(k) - self.now)
            self.advance()
            self.program.check()  # a gate opening exactly at the year's end counts in that year
            self.ledger.close_year(k)
            for p in self.projects:
                p.service_due = p.loans.year_end(k - 1, p.phases, p.ended)
            for part in self._on_year_end:
                part.year_end(k)
            self.changed()


