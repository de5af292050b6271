"""Tariffs: the U.S. duty on Pakistani minerals, as a schedule plus random policy changes.

The U.S. reciprocal tariff on Pakistani goods (29% announced on 2 Apr 2025, 19% from
7 Aug 2025) applies to a commodity unless it is covered by the critical-minerals exemption
(rare earths, copper concentrate and others) while that exemption holds; a product-specific
Section 232 duty applies on top where the scenario sets one. The rate follows the
scenario's schedule and, at random times (a Poisson process), policy changes either
withdraw the exemption (with a probability that a personality-driven deal makes high and
a treaty makes low) or set a new rate drawn from a list; a withdrawn exemption is restored
at a configured rate.

Effects: duties on U.S.-bound product (a share of which the exporter bears), diversion of
a share ``k d / (1 + k d)`` of U.S.-bound product to other markets at duty ``d`` (so duties
paid still rise with the rate), and a drop in investor confidence on every hike.

The same reciprocal rate falls on everything else Pakistan sells to the United States (its
largest export market; textiles above all), and that is what the mineral deal is offered
against (seeds 000, 001): those exports grow at a set rate and shrink with the tariff,
``(1 + rate) ** -elasticity``, and pay the rate in full. The deal links the two through
*goodwill*, between 0 and 1: mineral exports to the U.S. build it (full at
``deal_goodwill_usd`` of cumulative shipments, the refinery's financing close and its
commissioning with a U.S. partner counting ``refinery_goodwill`` of it each) and each policy reversal
in Pakistan spends some of it. At a policy change, with a chance equal to the goodwill the
new rate is the deal's rate instead of a drawn one, and the chance that the change
withdraws the minerals exemption falls with goodwill; a personality-driven deal (the
``deal_basis`` lever) leaves withdrawal more likely than a treaty. Switched off, there are
no duties at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..scenario.schema import Commodity, Tariff
from .columns import Column
from .part import Part, Registration

if TYPE_CHECKING:
    from .world import World

TARIFF_COST = Column("tariff_cost_usd", "USD", "U.S. duties on Pakistani mineral exports over the horizon (reciprocal tariff on non-exempt product plus product duties).", better="lower", label="U.S. tariff cost")
DUTIES_ALL_EXPORTS = Column("us_duties_all_exports_usd", "USD", "U.S. duties on all of Pakistan's exports to the United States over the horizon: the reciprocal tariff on its other goods (textiles above all) plus the duties on minerals (tariff_cost_usd).", better="lower", label="U.S. duties on all exports")
US_TARIFF_RATE = Column("us_tariff_rate", "0-1", "U.S. reciprocal tariff rate on Pakistani goods at the end of the year.", label="U.S. reciprocal tariff rate", shown="%", scale=0.01)
SERIES: tuple[Column, ...] = (US_TARIFF_RATE,)


class TariffRun(Part):
    def __init__(self, spec: Tariff, world: World):
        self.spec = spec
        self.world = world
        self.enabled = spec.enabled
        self.rate = float(spec.initial_rate) if self.enabled else 0.0
        self.exemption_active = spec.exemption_active
        self._restoring = 0
        self.reversals = 0
        self._goods = float(spec.goods_exports_usd)
        self._goods_growth = math.log1p(float(spec.goods_exports_growth_per_year))
        self._elasticity = float(spec.goods_trade_elasticity)
        self._goodwill_full = float(spec.deal_goodwill_usd)
        self._refinery_goodwill = float(spec.refinery_goodwill)
        self._rate_by_year = [0.0] * world.scenario.horizon_years
        if not self.enabled:
            return
        env = world.env
        for step in spec.schedule:
            at = world.scenario.years(step.date)
            if at <= 0:
                self.rate = float(step.rate)
            else:
                world.at(at, self._scheduled(float(step.rate)))
        weights = np.asarray(spec.new_rate_weights or [1.0] * len(spec.new_rates), dtype=float)
        self._rate_cdf = np.cumsum(weights) / weights.sum()
        lv = world.scenario.levers
        self._treaty_factor = float(lv.treaty_withdraw_factor) if lv.deal_basis == "treaty" else 1.0
        if float(spec.changes_per_year) > 0:
            env.process(self._policy_changes())
        if not self.exemption_active:
            self._schedule_restore()

    def year_end(self, year: int) -> None:
        self._rate_by_year[year - 1] = self.rate if self.enabled else 0.0

    def series(self) -> dict[str, np.ndarray]:
        return {US_TARIFF_RATE.name: np.asarray(self._rate_by_year)}

    def rate_for(self, commodity: Commodity) -> float:
        """Duty rate that U.S.-bound product of this commodity faces now."""
        if not self.enabled:
            return 0.0
        exempt = commodity.us_tariff_exempt and self.exemption_active
        return (0.0 if exempt else self.rate) + float(commodity.section232_duty)

    def goods_duties(self, a: float, b: float) -> float:
        """Reciprocal duties on Pakistan's other goods exports to the U.S. over (a, b), at
        the rate in force (constant between events)."""
        if not self.enabled or self.rate <= 0.0 or self._goods <= 0.0:
            return 0.0
        g = self._goods_growth
        grown = (math.exp(g * b) - math.exp(g * a)) / g if abs(g) > 1e-12 else b - a
        return self.rate * self._goods * grown * (1.0 + self.rate) ** -self._elasticity

    def goodwill(self) -> float:
        """How far the mineral partnership has earned the deal, 0 to 1 (see the module)."""
        if self._goodwill_full <= 0.0:
            return 0.0
        w = self.world
        earned = w.ledger.us_exports / self._goodwill_full
        if w.refinery.spec.technology_partner == "us":
            earned += self._refinery_goodwill * (w.refinery.financed + (w.refinery.curve is not None))
        spent = self.reversals * float(self.spec.reversal_goodwill_loss)
        return max(0.0, min(1.0, earned) - spent)

    def set_rate(self, rate: float, why: str) -> None:
        w = self.world
        if rate == self.rate:
            return
        w.advance()
        if rate > self.rate:
            w.confidence.drop(w.now, (rate - self.rate) * float(w.scenario.confidence.tariff_hike_drop_per_unit))
        if w.log is not None:
            w.note("tariff", f"U.S. reciprocal rate {self.rate:.0%} -> {rate:.0%} ({why})")
        self.rate = rate
        w.changed()

    def _scheduled(self, rate: float) -> Callable[[], None]:
        """A scheduled change of rate, to be made when it falls due."""
        return lambda: self.set_rate(rate, "scheduled")

    def _policy_changes(self) -> Generator[Any, Any, None]:
        # The waits between changes, and the four uniforms each change draws: two streams,
        # read in blocks.
        waits = self.world.streams.draws("tariff:changes", "exponential")
        rng = self.world.streams.draws("tariff:change-draws", "uniform")
        env = self.world.env
        mean_wait = 1.0 / float(self.spec.changes_per_year)
        while True:
            yield env.timeout(waits.exponential(mean_wait))
            # Fixed draws per change, so levers never shift the stream: is it an attempt on the
            # exemption, does a treaty block it, the new rate otherwise, and does the deal's
            # goodwill set it.
            self.world.advance()  # the ledger's shipments up to now
            goodwill = self.goodwill()
            withdraw = float(self.spec.withdraw_probability) * (1.0 - float(self.spec.goodwill_withdraw_cut) * goodwill)
            attempt = float(rng.random()) < withdraw
            passes = float(rng.random()) < self._treaty_factor
            new_rate = self.spec.new_rates[int(np.searchsorted(self._rate_cdf, float(rng.random())))]
            rewarded = float(rng.random()) < goodwill
            if not attempt and rewarded:
                self.set_rate(float(self.spec.goodwill_deal_rate), f"policy change: the deal's rate, goodwill {goodwill:.2f}")
            elif not attempt:
                self.set_rate(float(new_rate), "policy change")
            elif passes and self.exemption_active:
                self._withdraw()

    def _withdraw(self) -> None:
        w = self.world
        w.advance()
        self.exemption_active = False
        w.confidence.drop(w.now, float(w.scenario.confidence.exemption_loss_drop))
        w.note("tariff", "critical-minerals exemption withdrawn")
        w.changed()
        self._schedule_restore()

    def _schedule_restore(self) -> None:
        restore = float(self.spec.restore_per_year)
        if restore > 0:
            wait = float(self.world.streams("tariff:restore").exponential(1.0 / restore))
            self.world.after(wait, self._restore)

    def _restore(self) -> None:
        self.world.advance()
        self.exemption_active = True
        self.world.note("tariff", "critical-minerals exemption restored")
        self.world.changed()


PART = Registration("tariff", TariffRun, "shocks.tariff", series=SERIES)
