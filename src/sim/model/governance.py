"""Governance: provincial-federal disputes, policy reversal and arbitration.

Since the 18th Amendment (2010) provinces own their minerals, and "any disputes can delay or
even halt projects" (seed 003). While a project awaits approval, disputes arrive as a
Poisson process at ``disputes_per_year``; each adds a delay drawn anew per dispute. Their
number over the permitting time and the delays are drawn when permitting starts, from the
project's own dispute stream, so no events are needed. A unified national framework (a
lever) multiplies the dispute rate as it does the permitting time.

Policy reversals (a government revisiting a deal, as with Reko Diq in 2011) arrive as a
Poisson process over the whole programme; each strikes one active site and lowers investor
confidence for good. Most halt the site for a drawn time, after which it resumes; with
``expropriation_probability`` the site is taken for good, as Reko Diq's licence was denied:
it produces and builds no more. With some probability a reversal goes to international
arbitration and ends in an award sized on the loss, with a further lasting fall in
confidence:

- for a halt, the delay's damage: the cash margin the site would have earned at the day's
  prices over the halt, and the carrying cost (at the scenario's rate) of the capital it had
  sunk;
- for an expropriation, the project's value, sized as a multiple of its first phase's
  planned capex with Reko Diq's award as the reference (USD 5.976bn awarded in 2019 against a
  Phase 1 capex of USD 5.5bn).

An award is paid by the state to the site's private investors in the year of the reversal
(an assumption: Reko Diq's came eight years later and was settled in a new deal). It is
booked against the state take and into the investors' NPV; the programme's NPV, a national
cash flow before royalties and tax, does not count transfers between Pakistanis and foreign
holders.

Treaty-based deals make reversals rarer.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from ..scenario.distributions import draw
from ..scenario.schema import DAYS_PER_YEAR, Governance, Scenario
from .columns import Column
from .part import Part, Registration

if TYPE_CHECKING:
    from .streams import Streams
    from .world import World


ARBITRATION_AWARDS = Column("arbitration_awards_usd", "USD", "Arbitration awards against Pakistan after policy reversals over the horizon: a halt's damage (the margin lost over it within the horizon, the carrying cost of sunk capital), or for an expropriation the project's value (sized like Reko Diq's award, relative to its first phase's planned capex).", better="lower", label="Arbitration awards")
EXPROPRIATIONS = Column("expropriations", "count", "Sites taken for good by a policy reversal within the horizon (they produce and build no more).", better="lower", label="Expropriations")
OUTCOMES: tuple[Column, ...] = (ARBITRATION_AWARDS, EXPROPRIATIONS)


def dispute_delay(scenario: Scenario, streams: Streams, project: str, permitting_years: float) -> tuple[int, float]:
    """Number of disputes during ``project``'s permitting and the delay they add (years)."""
    spec: Governance = scenario.governance
    if not spec.enabled:
        return 0, 0.0
    rate = float(spec.disputes_per_year)
    if scenario.levers.unified_framework:
        rate *= float(scenario.levers.framework_permitting_factor)
    rng = streams(f"governance:disputes:{project}")
    n = int(rng.poisson(rate * permitting_years)) if rate > 0 else 0
    return n, sum(draw(spec.dispute_delay_years, rng) for _ in range(n))


class GovernanceRun(Part):
    def __init__(self, spec: Governance, world: World):
        self.spec = spec
        self.world = world
        self.awards_usd = 0.0
        self.expropriations = 0
        lv = world.scenario.levers
        self._rate = float(spec.reversals_per_year) * (
            float(lv.treaty_reversal_factor) if lv.deal_basis == "treaty" else 1.0)
        if spec.enabled and self._rate > 0:
            world.env.process(self._reversals())

    def outcomes(self) -> dict[str, float]:
        return {ARBITRATION_AWARDS.name: self.awards_usd, EXPROPRIATIONS.name: self.expropriations}

    def _reversals(self) -> Generator[Any, Any, None]:
        w = self.world
        rng = w.streams("governance:reversals")
        while True:
            yield w.env.timeout(float(rng.exponential(1.0 / self._rate)))
            pick, halt = float(rng.random()), draw(self.spec.reversal_halt_years, rng)
            arbitrated = float(rng.random()) < float(self.spec.arbitration_probability)
            taken = float(rng.random()) < float(self.spec.expropriation_probability)
            sites = w.active_sites()
            if not sites:
                continue
            site = sites[min(int(pick * len(sites)), len(sites) - 1)]
            now = w.now
            w.advance()
            if taken:
                site.expropriate(now)
                self.expropriations += 1
                award = float(self.spec.award_share_of_capex) * float(site.spec.phases[0].capex_usd)
                w.note("governance", f"policy reversal takes {site.key} for good")
            else:
                site.suspend(now, halt * DAYS_PER_YEAR)
                margin = 0.0 if site.idle else w.margin_at_prices(site)[1]
                lost = min(halt, w.horizon - now)  # the damage within the horizon
                award = lost * (max(0.0, margin) + float(w.scenario.discount_rate) * site.spent)
                w.note("governance", f"policy reversal halts {site.key} for {halt:.2f} yr")
            w.confidence.gain(now, -float(self.spec.reversal_confidence_drop))
            w.tariff.reversals += 1
            if arbitrated:
                self.awards_usd += award
                w.ledger.books[site.key].awards[min(w.horizon - 1, int(now))] += award
                w.confidence.gain(now, -float(self.spec.arbitration_confidence_drop))
                w.note("governance", f"arbitration award over {site.key}: USD {award / 1e9:.2f}bn")
            if taken:
                w.changed()
            else:
                w.program.check()


PART = Registration("governance", GovernanceRun, "governance", OUTCOMES)
