"""Refining dependency: China's export-control regime over rare-earth and antimony supply chains.

China's posture is one of four ordered regimes: ``open``, ``licensing``, ``restricted`` and
``embargo`` (on processing foreign feed). It moves by scheduled events from the scenario
(the 9 Oct 2025 expansion to 12 of 17 rare earths; the end of the suspension of the
U.S.-specific ban on 27 Nov 2026, which happens only with a given probability) and by
random one-step escalations and relaxations at configured rates. Separately, the ban on
exporting rare-earth separation technology (in force since 21 Dec 2023) may be lifted at a
configured rate.

Effects: product routed through China meets less capacity (none under an embargo) and a
discount; the non-Chinese premium on separated product widens with the regime; the
log-price of sensitive commodities jumps with each step; each escalation knocks investor
confidence; and a refinery relying on a Chinese technology partner is slowed while the
technology ban holds. Switched off, the regime stays ``open`` and the ban is lifted.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from ..outputs import CHINA_REGIMES
from ..schema import Refining
from .hazard import VaryingRatePoisson

if TYPE_CHECKING:
    from .world import World


class RefiningRun:
    def __init__(self, spec: Refining, world: World):
        self.spec = spec
        self.world = world
        self.enabled = spec.enabled
        self.level = CHINA_REGIMES.index(spec.initial_regime) if self.enabled else 0
        self.technology_ban = spec.technology_ban if self.enabled else False
        if not self.enabled:
            return
        env = world.env
        rng = world.streams("refining:scheduled")
        for event in spec.scheduled:
            happens = float(rng.random()) < float(event.probability)
            if happens:
                env.process(self._scheduled(world.scenario.years(event.date), event.regime))
        self._esc, self._rel = float(spec.escalate_per_year), float(spec.relax_per_year)
        self._random_steps = VaryingRatePoisson(env, world.streams("refining:switches"),
                                                self._switch_rate, self._random_step)
        lift = float(spec.technology_ban_lift_per_year)
        if self.technology_ban and lift > 0:
            wait = float(world.streams("refining:technology").exponential(1.0 / lift))
            env.process(self._lift_ban(wait))

    @property
    def regime(self) -> str:
        return CHINA_REGIMES[self.level]

    def china_capacity(self) -> float:
        return self.spec.china_capacity.of(self.level) if self.enabled else 1.0

    def china_discount(self) -> float:
        return self.spec.china_discount.of(self.level) if self.enabled else 0.0

    def premium_share(self) -> float:
        """How much of the full (embargo) non-Chinese premium the market pays now."""
        return self.level / (len(CHINA_REGIMES) - 1)

    def set_regime(self, level: int, why: str) -> None:
        w = self.world
        step = level - self.level
        if step == 0:
            return
        w.advance()
        self.level = level
        w.market.jump(step * float(self.spec.price_jump_per_step))
        if step > 0:
            w.confidence.drop(w.env.now, step * float(w.scenario.confidence.regime_step_drop))
        w.note("refining", f"China's regime -> {self.regime} ({why})")
        self._random_steps.rate_changed()
        w.changed()

    def _switch_rate(self) -> float:
        top = len(CHINA_REGIMES) - 1
        return (self._esc if self.level < top else 0.0) + (self._rel if self.level > 0 else 0.0)

    def _random_step(self) -> None:
        top = len(CHINA_REGIMES) - 1
        up = self._esc if self.level < top else 0.0
        down = self._rel if self.level > 0 else 0.0
        u = float(self.world.streams("refining:direction").random()) * (up + down)
        self.set_regime(self.level + (1 if u < up else -1), "random policy change")

    def _scheduled(self, at: float, regime: str) -> Generator[Any, Any, None]:
        if at > 0:
            yield self.world.env.timeout(at)
        self.set_regime(CHINA_REGIMES.index(regime), "scheduled")

    def _lift_ban(self, wait: float) -> Generator[Any, Any, None]:
        yield self.world.env.timeout(wait)
        self.technology_ban = False
        self.world.note("refining", "separation-technology export ban lifted")
