"""A part plugs into the world with one registration: its processes run, its hooks are
called, its columns reach the tables, and the other parts do not notice it unless it acts.

The part here is made up for the test: a nationwide strike that suspends every site on the
ground for a month at a set time, with an outcome (the site-days it called) and a yearly
series (strikes in the year), declared in its registration as a shipped shock's are.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import pytest

from conftest import BASELINE
from sim.model.columns import Column
from sim.model.hazard import VaryingRatePoisson
from sim.model.outputs import OUTCOMES, TIMESERIES, declaration
from sim.model.part import Part, Registration
from sim.model.sampling import realize
from sim.model.streams import Streams
from sim.model.world import PARTS, World
from sim.scenario.distributions import draw
from sim.scenario.files import load_scenario

STRIKE_DAYS = Column("strike_site_days", "site-days", "Site-days the strike called.", label="Strike")
STRIKES = Column("strikes", "count", "Strikes in the year.", label="Strikes")


class Strike(Part):
    """Every site on the ground stops for ``DAYS`` at model time ``at``."""

    DAYS = 30.0

    def __init__(self, spec: Any, world: World, at: float = 4.5):
        self.world = world
        self.called = 0.0
        self.year_ends: list[int] = []
        self.changes = 0
        self._at = at
        self._by_year = [0] * world.horizon
        world.env.process(self._strike())

    def _strike(self) -> Generator[Any, Any, None]:
        w = self.world
        yield w.env.timeout(self._at)
        w.advance()
        for site in w.active_sites():
            site.suspend(w.env.now, self.DAYS)
            self.called += self.DAYS
        self._by_year[int(w.env.now)] += 1
        w.changed()

    def changed(self) -> None:
        self.changes += 1

    def year_end(self, year: int) -> None:
        self.year_ends.append(year)

    def outcomes(self) -> dict[str, float]:
        return {STRIKE_DAYS.name: self.called}

    def series(self) -> dict[str, np.ndarray]:
        return {STRIKES.name: np.asarray(self._by_year)}


def _never(spec: Any, world: World) -> Strike:
    return Strike(spec, world, at=1e9)


# The strike reads no section of its own; the registration names one that every scenario has.
STRIKE = Registration("strike", Strike, "infrastructure", (STRIKE_DAYS,), (STRIKES,))
NO_STRIKE = Registration("strike", _never, "infrastructure", (STRIKE_DAYS,), (STRIKES,))


def _world(replication: int, parts: tuple[Registration, ...] = PARTS) -> tuple[World, int]:
    streams = Streams(17, replication)
    realized, _ = realize(load_scenario(BASELINE), streams)
    world = World(realized, streams, parts=parts)
    return world, world.run()


def test_a_registered_part_runs_is_called_and_reports_its_columns():
    world, events = _world(0, PARTS + (STRIKE,))
    strike = world.part["strike"]
    assert isinstance(strike, Strike)
    assert strike.year_ends == list(range(1, world.horizon + 1))
    assert strike.changes > world.horizon  # at every year's end at least, and at the events between
    sites = strike.called / Strike.DAYS
    assert sites >= 1  # Reko Diq is being built by model year 4.5 in every replication
    row, series = world.outcomes(events), world.series()
    assert row[STRIKE_DAYS.name] == strike.called
    assert list(row)[-2:] == [STRIKE_DAYS.name, "events"]  # after the shipped parts' columns
    assert series[STRIKES.name].tolist() == [1 if k == 4 else 0 for k in range(world.horizon)]


@pytest.mark.parametrize("replication", [0, 1, 2])
def test_a_part_that_does_nothing_changes_nothing(replication):
    """A part that never acts leaves every other column of both tables as it was, bit for bit:
    registering it moves no other part's events or random numbers. The events processed
    count one more: the start of the part's process."""
    without, n0 = _world(replication)
    inert, n1 = _world(replication, PARTS + (NO_STRIKE,))
    assert n1 == n0 + 1
    row0, row1 = without.outcomes(n0), inert.outcomes(n0)
    assert row1.pop(STRIKE_DAYS.name) == 0.0
    assert row0.keys() == row1.keys()
    assert all(row0[k] == row1[k] or (row0[k] != row0[k] and row1[k] != row1[k]) for k in row0)
    s0, s1 = without.series(), inert.series()
    assert s1.pop(STRIKES.name).sum() == 0
    assert s0.keys() == s1.keys()
    for name, values in s0.items():
        np.testing.assert_array_equal(values, s1[name], err_msg=name)


def test_a_part_that_acts_moves_the_world_in_its_direction():
    """A month's strike at every site adds downtime and loses export value, replication by
    replication (the same random streams, paired)."""
    for replication in range(4):
        without, n0 = _world(replication)
        struck, n1 = _world(replication, PARTS + (STRIKE,))
        row0, row1 = without.outcomes(n0), struck.outcomes(n1)
        assert row1["downtime_days"] > row0["downtime_days"], replication
        assert row1["cumulative_export_value_usd"] <= row0["cumulative_export_value_usd"], replication


def test_each_shipped_part_reports_what_its_registration_declares():
    """Every column a registered part fills is one its registration declares, and every
    declared column is filled (a family by at least one member), in the tables' contract."""
    world, events = _world(3)
    for registration, part in zip(PARTS, world.parts, strict=True):
        assert world.part[registration.name] is part
        for made, declared, table in ((part.outcomes(), registration.outcomes, OUTCOMES),
                                      (part.series(), registration.series, TIMESERIES)):
            found = {name: declaration(name, declared) for name in made}
            assert all(found.values()), (registration.name, made.keys())
            assert {hit[0] for hit in found.values() if hit} == set(declared), registration.name
            assert all(declaration(name, table) for name in made)
        for values in part.series().values():
            assert len(values) == world.horizon


class EventOutages(Part):
    """The outages as simulation events: one hazard over the same two streams, a site
    suspended as each outage arrives (the shipped part draws them when the world catches up)."""

    def __init__(self, spec: Any, world: World):
        self.spec, self.world = spec, world
        self._rate = float(spec.outages_per_site_year)
        self.outages = (VaryingRatePoisson(world.env, world.streams.draws("infrastructure:outages", "exponential"), self.outage_rate,
                                           self._outage) if spec.enabled and self._rate > 0 else None)

    def outage_rate(self) -> float:
        return self._rate * len(self.world.active_sites())

    def changed(self) -> None:
        if self.outages is not None:
            self.outages.rate_changed()

    def _outage(self) -> None:
        w = self.world
        w.catch_up()  # as any part does before it suspends a site (here, nothing to catch up)
        sites = w.active_sites()
        picks = w.streams.draws("infrastructure:sites", "uniform")
        sites[picks.index(len(sites))].suspend(w.env.now, draw(self.spec.outage_days, picks))


# An antimony mine that borrows 60% of its capital, at 70% of the baseline's antimony price:
# it defaults in 20 of these 25 replications (the shipped scenarios reach no default).
INDEBTED = {"projects.antimony.debt.share": 0.6, "projects.antimony.debt.grace_years": 0,
            "commodities.antimony.price_usd": 7560.0, "commodities.antimony.long_run_price_usd": 8400.0}


@pytest.mark.parametrize(("scenario", "overrides"), [("baseline", {}), ("combined_stress", {}),
                                                     ("baseline", INDEBTED)], ids=["baseline", "combined_stress", "default"])
def test_outages_drawn_on_catching_up_are_those_simulated_as_events(scenario, overrides):
    """Outages need no simulation event: the world catches the part up before anything reads
    a site's suspensions, so every outcome and yearly value is the one the event-driven
    hazard gives, bit for bit: in a baseline, in a scenario with attacks, distress and
    policy reversals, and with a mine that defaults (only the events processed differ)."""
    scn = load_scenario(BASELINE.with_name(f"{scenario}.yaml"), overrides)
    as_events = tuple(Registration("infrastructure", EventOutages, "infrastructure")
                      if r.name == "infrastructure" else r for r in PARTS)
    struck = defaulted = 0
    for replication in range(25):
        rows, series = [], []
        for parts in (PARTS, as_events):
            streams = Streams(11, replication)
            world = World(realize(scn, streams)[0], streams, parts=parts)
            row = world.outcomes(world.run())
            del row["events"]
            rows.append(row)
            series.append(world.series())
        assert rows[0].keys() == rows[1].keys()
        for name in rows[0]:
            assert np.array_equal(rows[0][name], rows[1][name], equal_nan=True), (replication, name)
        for name, values in series[0].items():
            np.testing.assert_array_equal(values, series[1][name], err_msg=f"{replication} {name}")
        struck += rows[0]["downtime_days"] > 0
        defaulted += rows[0]["default"]
    assert struck >= 20  # the outages did strike
    if overrides:
        assert defaulted >= 15  # the mine did default


class Checks(Part):
    """Checks every gate every 0.05 years: events that change nothing in the world."""

    def __init__(self, spec: Any, world: World):
        for k in range(1, 20 * world.horizon):
            world.wake_at(k * 0.05)


# Gates that only confidence can hold shut: no export thresholds, and a phase 3 that needs
# no running refinery.
CONFIDENCE_GATES = {"program.phase2.min_cumulative_exports_usd": 0.0, "program.phase3.min_export_rate_usd": 0.0,
                    "program.phase3.require_refinery_running": False, "program.phase2.min_confidence": 0.55,
                    "program.phase3.min_confidence": 0.6}


@pytest.mark.check("metamorphic", source="sim.model.program: a phase is entered when its gate opens", tolerance="1e-9 years")
def test_a_phase_is_entered_when_confidence_opens_its_gate_whatever_else_happens(figure):
    """Confidence recovering to a gate's minimum opens it with time alone. The phase is
    entered then, not at whatever event comes next: checking the gates every 0.05 years as
    well moves no entry date."""
    scn = load_scenario(BASELINE, CONFIDENCE_GATES)
    with_checks = (*PARTS, Registration("checks", Checks, "infrastructure"))
    entered = 0
    for replication in range(30):
        dates = []
        for parts in (PARTS, with_checks):
            streams = Streams(3, replication)
            world = World(realize(scn, streams)[0], streams, parts=parts)
            row = world.outcomes(world.run())
            dates.append((row["phase2_year"], row["phase3_year"]))
        for a, b in zip(*dates, strict=True):
            assert (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9, (replication, dates)
        entered += sum(not math.isnan(t) for t in dates[0])
    assert entered >= 30
    figure(f"{entered} phase entries in 30 replications, each at the same date with the gates checked every 0.05 years too")
