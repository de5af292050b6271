"""Refining dependency: China's export controls, group by group, over the commodities it controls.

China's posture towards each controlled group of commodities (rare earths, antimony; any
other group a scenario declares) is one of four ordered regimes: ``open``, ``licensing``,
``restricted`` and ``embargo`` (on processing foreign feed). Each group moves by the
scenario's dated controls, each naming the groups it covers (the 9 Oct 2025 expansion to
12 of 17 rare earths; the end of the suspension on 27 Nov 2026, which happens only with a
given probability), and by random one-step escalations and relaxations at configured
rates, which move the groups the scenario names together. Separately, the ban on
exporting rare-earth separation technology (in force since 21 Dec 2023) may be lifted at
a configured rate.

Effects, on the commodities of the group that moved and on no other: product routed
through China meets less capacity (none under an embargo) and a discount; the non-Chinese
premium on separated product widens with the regime; the log-price jumps with each step.
A commodity in no group (copper and gold, in the shipped scenarios) is processed in China
as if controls were open. Each escalation, of any group, knocks investor confidence (once
per step, however many groups it covers); and a refinery relying on a Chinese technology
partner is slowed while the technology ban holds. Switched off, every group stays
``open`` and the ban is lifted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

import numpy as np
import simpy

from ..scenario.schema import CHINA_REGIMES, Refining
from .columns import Column
from .draws import Draws
from .hazard import VaryingRatePoisson
from .part import Part, Registration

if TYPE_CHECKING:
    from .world import World

TOP: Final = len(CHINA_REGIMES) - 1

CHINA_REGIME = Column("china_regime_<group>", "category", "China's export-control regime on a controlled group at the end of the year: open, licensing, restricted or embargo.", label="China's export-control regime", levels=CHINA_REGIMES)
SERIES: tuple[Column, ...] = (CHINA_REGIME,)


class RefiningRun(Part):
    def __init__(self, spec: Refining, world: World):
        self.spec = spec
        self.world = world
        self.enabled = spec.enabled
        self.level = {g: CHINA_REGIMES.index(grp.initial_regime) if self.enabled else 0
                      for g, grp in spec.groups.items()}
        self.members = {g: tuple(grp.commodities) for g, grp in spec.groups.items()}
        self._level_by_year = {g: [0] * world.scenario.horizon_years for g in spec.groups}
        # What the ledger reads per commodity, kept current as regimes move: the share of
        # China's capacity open to it, China's discount on it, and how much of its full
        # non-Chinese premium the market pays. A commodity in no group sees open controls.
        goods = world.scenario.commodities
        self.version = 0  # moves whenever the three below do (and the levels do)
        self._levels: dict[str, int] = {}  # levels_by_commodity, as of version _levels_for
        self._levels_for = -1
        self.china_open = dict.fromkeys(goods, 1.0)
        self.china_discount = dict.fromkeys(goods, 0.0)
        self.premium_share = dict.fromkeys(goods, 0.0)
        for g in self.level:
            self._apply(g)
        self.technology_ban = spec.technology_ban if self.enabled else False
        if not self.enabled:
            return
        env = world.env
        rng = world.streams("refining:scheduled")
        for event in spec.scheduled:
            happens = float(rng.random()) < float(event.probability)
            if happens:
                world.at(world.scenario.years(event.date), self._scheduled(event.regime, tuple(event.scope)))
        self._scope = tuple(dict.fromkeys(spec.random_scope))
        self._esc, self._rel = float(spec.escalate_per_year), float(spec.relax_per_year)
        self._random_steps = _RandomSteps(self, env, world.streams.draws("refining:switches", "exponential"))
        lift = float(spec.technology_ban_lift_per_year)
        if self.technology_ban and lift > 0:
            wait = float(world.streams("refining:technology").exponential(1.0 / lift))
            world.at(wait, self._lift_ban)

    def year_end(self, year: int) -> None:
        for g, level in self.level.items():
            self._level_by_year[g][year - 1] = level

    def series(self) -> dict[str, np.ndarray]:
        return {CHINA_REGIME.of(g): np.asarray(v, dtype=np.int8) for g, v in self._level_by_year.items()}

    def levels_by_commodity(self) -> dict[str, int]:
        """The regime level (0 open .. 3 embargo) of each controlled commodity's group (kept
        until a regime moves; not to be changed by the caller)."""
        if self._levels_for != self.version:
            self._levels = {c: self.level[g] for g, members in self.members.items() for c in members}
            self._levels_for = self.version
        return self._levels

    def regime(self, group: str) -> str:
        return CHINA_REGIMES[self.level[group]]

    def _apply(self, group: str) -> None:
        level, spec = self.level[group], self.spec
        open_, discount = (spec.china_capacity.of(level), spec.china_discount.of(level)) if self.enabled else (1.0, 0.0)
        self.version += 1
        for c in self.members[group]:
            self.china_open[c] = open_
            self.china_discount[c] = discount
            self.premium_share[c] = level / TOP

    def set_regimes(self, groups: Iterable[str], level: int | None, why: str, step: int = 0) -> None:
        """Move ``groups`` to ``level`` (or, with ``level`` None, by ``step``, within the
        scale). Prices of their commodities jump; an escalation knocks confidence once."""
        w = self.world
        moves = {}
        for g in groups:
            new = level if level is not None else min(TOP, max(0, self.level[g] + step))
            if new != self.level[g]:
                moves[g] = new
        if not moves:
            return
        w.advance()
        jump = float(self.spec.price_jump_per_step)
        escalation = max(new - self.level[g] for g, new in moves.items())
        for g, new in moves.items():
            moved = new - self.level[g]
            self.level[g] = new
            self._apply(g)
            w.market.jump(moved * jump, self.members[g])
            w.market.reclear(w.now, self.levels_by_commodity(), self.members[g])
        if escalation > 0:
            w.confidence.drop(w.now, escalation * float(w.scenario.confidence.regime_step_drop))
        if w.log is not None:
            w.note("refining", "China's controls: " + ", ".join(f"{g} -> {CHINA_REGIMES[n]}" for g, n in moves.items())
                   + f" ({why})")
        self._random_steps.rate_changed()
        w.changed()

    def _step_rates(self) -> tuple[float, float]:
        """Rates of a random escalation and relaxation now: each while a group in scope can
        still move that way."""
        up = self._esc if any(self.level[g] < TOP for g in self._scope) else 0.0
        down = self._rel if any(self.level[g] > 0 for g in self._scope) else 0.0
        return up, down

    def _switch_rate(self) -> float:
        return sum(self._step_rates())

    def _random_step(self) -> None:
        up, down = self._step_rates()
        u = self.world.streams.draws("refining:direction", "uniform").random() * (up + down)
        self.set_regimes(self._scope, None, "random policy change", step=1 if u < up else -1)

    def _scheduled(self, regime: str, scope: tuple[str, ...]) -> Callable[[], None]:
        """A scheduled change of regime, to be made when it falls due."""
        level = CHINA_REGIMES.index(regime)
        return lambda: self.set_regimes(scope, level, "scheduled")

    def _lift_ban(self) -> None:
        self.technology_ban = False
        self.world.note("refining", "separation-technology export ban lifted")


class _RandomSteps(VaryingRatePoisson):
    """China's random policy changes: at the part's rate, each made by it."""

    def __init__(self, part: RefiningRun, env: simpy.Environment, rng: Draws):
        self.part = part
        super().__init__(env, rng)

    def rate(self) -> float:
        return self.part._switch_rate()

    def happen(self) -> None:
        self.part._random_step()


PART = Registration("refining", RefiningRun, "shocks.refining", series=SERIES)
