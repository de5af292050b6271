"""Security: a clustered attack process per province, and what attacks do to the sector.

Attacks in each province follow a Markov-modulated Poisson process: the province is
``calm``, ``elevated`` or ``crisis``, switching at the configured rates, and attacks arrive
at the regime's rate, times a yearly trend. Regime switching makes monthly counts
overdispersed (variance well above the mean, several-fold jumps from month to month), as
Balochistan's were around elections; the long-run mean is set to the 2023 level of about
170 attacks (PICSS). :func:`monthly_attack_counts` draws monthly counts from the same
process, for calibration.

Only attacks that touch the mineral sector are simulated as events (the region's other
attacks are counted, per province and year, from the rate that misses the sector): each attack hits a
site with probability ``1 - exp(-p w)``, where ``p`` is ``hit_probability`` (less
mitigation, local equity, community participation and security spending: the levers of
seed 002) and ``w`` the site's exposure raised by its share of foreign staff (about ``p w``
when small, never above one); thinning a Poisson process this way is exact. A hit is minor (logistics disruption for days), major (site suspension for weeks)
or severe (long suspension, foreign staff withdrawn, output cut for a while); each knocks
investor confidence and raises the site's security cost for good.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from ..scenario.distributions import draw
from ..scenario.schema import ProvinceSecurity, Security, SecurityLevel
from .columns import Column
from .draws import Draws
from .hazard import VaryingRatePoisson
from .part import Part, Registration

if TYPE_CHECKING:
    from .projects import ProjectRun
    from .world import World

LEVELS = ("calm", "elevated", "crisis")
SEVERITIES = ("minor", "major", "severe")

SECURITY_INCIDENTS = Column("security_incidents", "count", "Attacks that hit the mineral sector (a site, a convoy, foreign staff) over the horizon.", better="lower", label="Security incidents")
OUTCOMES: tuple[Column, ...] = (SECURITY_INCIDENTS,)
INCIDENTS = Column("incidents", "count", "Security incidents on the mineral sector in the year.", label="Security incidents")
ATTACKS = Column("attacks_<province>", "count", "Attacks in the province in the year, on any target (those on the mineral sector are the incidents).", label="Attacks in the region")
SERIES: tuple[Column, ...] = (INCIDENTS, ATTACKS)


def _exits(spec: ProvinceSecurity, level: str) -> list[tuple[SecurityLevel, float]]:
    s = spec.switching
    exits: dict[str, list[tuple[SecurityLevel, float]]] = {
        "calm": [("elevated", float(s.calm_to_elevated))],
        "elevated": [("calm", float(s.elevated_to_calm)), ("crisis", float(s.elevated_to_crisis))],
        "crisis": [("elevated", float(s.crisis_to_elevated))],
    }
    return exits[level]


def _next_level(exits: list[tuple[SecurityLevel, float]], u: float) -> SecurityLevel:
    """The regime a switch leads to, chosen in proportion to the exit rates."""
    u *= sum(r for _, r in exits)
    for level, r in exits:
        u -= r
        if u <= 0:
            return level
    return exits[-1][0]


def _pick(weights: list[float], u: float) -> int:
    """The index ``u`` (uniform in [0, 1)) picks with probability proportional to its weight:
    the first whose cumulative share reaches ``u``."""
    total = 0.0
    for w in weights:  # added in order, so every Python version gives the same total
        total += w
    running = 0.0
    for i, w in enumerate(weights):
        running += w
        if running / total >= u:
            return i
    return len(weights) - 1


def _rate(spec: ProvinceSecurity, level: str) -> float:
    return float(getattr(spec.attacks_per_year, level))


def monthly_attack_counts(spec: ProvinceSecurity, rng: np.random.Generator, months: int) -> np.ndarray:
    """Monthly attack counts in a province over ``months``, from the same regime process
    (trend included), as a Cox process: Poisson counts given the integrated rate."""
    horizon = months / 12.0
    level, t = spec.initial_regime, 0.0
    integrated = np.zeros(months)
    trend = float(spec.trend_per_year)
    while t < horizon:
        exits = _exits(spec, level)
        total = sum(r for _, r in exits)
        stay = rng.exponential(1.0 / total) if total > 0 else math.inf
        end = min(horizon, t + stay)
        first, last = int(t * 12), min(int(math.ceil(end * 12)), months)
        for m in range(first, last):
            lo, hi = max(t, m / 12.0), min(end, (m + 1) / 12.0)
            if hi > lo:
                integrated[m] += _rate(spec, level) * (hi - lo) * math.exp(trend * m / 12.0)
        if total > 0:
            level = _next_level(exits, float(rng.random()))
        t = end
    return rng.poisson(integrated)


class Province:
    """A province as the attack process reads it: its regime, the rate of attacks it brings,
    the yearly trend, and its sites' summed chance that an attack hits one of them."""

    def __init__(self, name: str, spec: ProvinceSecurity, factor: float):
        self.name = name
        self.spec = spec
        self.rates = {level: _rate(spec, level) * factor for level in LEVELS}
        self.level: SecurityLevel = spec.initial_regime
        self.rate = self.rates[self.level]  # attacks a year in the regime, before the trend
        self.trend = 1.0
        self.trend_per_year = float(spec.trend_per_year)
        self.chance = 0.0  # as last computed (SecurityRun._exposed)
        self.missed = 0.0  # this year's integrated rate of attacks that missed the sector
        self.hits_this_year = 0

    def attack_rate(self) -> float:
        """Attacks per year now: its regime's rate times the yearly trend."""
        return self.rate * self.trend

    def switch(self, level: SecurityLevel) -> None:
        self.level = level
        self.rate = self.rates[level]


class SecurityRun(Part):
    def __init__(self, spec: Security, world: World):
        self.spec = spec
        self.world = world
        self.enabled = spec.enabled
        self.incidents = 0
        lv = world.scenario.levers
        # Levers: local equity and community participation make the sector less of a target;
        # spending buys protection with diminishing returns.
        self._p_hit = (float(spec.hit_probability) * (1.0 - float(spec.mitigation))
                       * (1.0 - float(lv.equity_hit_reduction) * float(lv.local_equity_share))
                       * (1.0 - float(lv.community_hit_reduction) * float(lv.community_participation))
                       * float(lv.security_spending) ** -float(lv.spending_elasticity))
        mix = [float(getattr(spec.severity, s)) for s in SEVERITIES]
        total = sum(mix)
        self._severity_cdf = [c / total for c in itertools.accumulate(mix)] if total > 0 else [1.0] * len(mix)
        # What a hit of each severity does: (downtime in days, staff withdrawn for years,
        # the output they take with them, the rise in security cost a year, confidence lost).
        self._consequences: dict[str, tuple[Any, float, float, float, float]] = {
            severity: (c.downtime_days, float(c.staff_withdrawal_years), float(c.output_loss),
                       float(c.cost_rise_usd_per_year), float(c.confidence_drop))
            for severity, c in spec.consequences.items()}
        factor = float(spec.rate_factor)
        self.provinces = {p: Province(p, s, factor) for p, s in spec.provinces.items()}
        # Each site's province (None if it has none the process covers), in the world's order;
        # and (kept against the world's sites epoch) the provinces with a site exposed.
        self._site_provinces = [self.provinces.get(site.spec.province) for site in world.projects]
        self._exposed_list: list[Province] = []
        self._chances_epoch = -1
        self.hits: VaryingRatePoisson | None = None
        # The region's attacks, hits or not, counted per province and model year: the hits
        # as they happen, the rest drawn at the year's end from the integrated rate of
        # attacks that miss the sector (thinning a Poisson process leaves two independent
        # ones, so this is exact).
        horizon = world.scenario.horizon_years
        self.attacks = {p: [0] * horizon for p in spec.provinces}
        self._incidents_by_year = [0] * horizon
        self._since = 0.0
        if not self.enabled:
            return
        self._region_rng = world.streams("security:region")
        self._rng = world.streams.draws("security:consequences", "uniform")
        env = world.env
        for province in self.provinces.values():
            env.process(self._regime(province))
        self.hits = _Hits(self, env, world.streams.draws("security:hits", "exponential"))

    def outcomes(self) -> dict[str, int]:
        return {SECURITY_INCIDENTS.name: self.incidents}

    def series(self) -> dict[str, np.ndarray]:
        return {INCIDENTS.name: np.asarray(self._incidents_by_year, dtype=np.int32),
                **{ATTACKS.of(p): np.asarray(v, dtype=np.int32) for p, v in self.attacks.items()}}

    def _site_hit_chance(self, site: ProjectRun) -> float:
        """Chance one attack in the site's province hits it: 1 - exp(-p w), about p w when small."""
        return -math.expm1(-self._p_hit * site.target_weight)

    def _exposed(self) -> list[Province]:
        """Provinces with a site exposed, each with the summed hit chance of its sites."""
        w = self.world
        if self._chances_epoch != w.sites_epoch:
            self._chances_epoch = w.sites_epoch
            self._exposed_list = []
            for p, province in self.provinces.items():
                province.chance = chance = sum((self._site_hit_chance(s) for s in w.projects if s.spec.province == p), 0.0)
                if chance:
                    self._exposed_list.append(province)
        return self._exposed_list

    def hit_rate(self) -> float:
        total = 0.0
        for province in self._exposed():
            total += province.attack_rate() * province.chance
        return total

    def _accrue(self) -> None:
        """Add the attacks that missed the sector since the last call to this year's rate
        integral, at the rates and exposure in force over that stretch."""
        now = self.world.now
        dt = now - self._since
        if dt <= 0.0 or not self.enabled:
            return
        self._since = now
        for province in self.provinces.values():
            province.missed += province.attack_rate() * max(0.0, 1.0 - province.chance) * dt

    def year_end(self, year: int) -> None:
        if self.enabled:
            self._accrue()
            for p, province in self.provinces.items():
                self.attacks[p][year - 1] = province.hits_this_year + int(self._region_rng.poisson(province.missed))
                province.missed = 0.0
                province.hits_this_year = 0
        changed = False
        for province in self.provinces.values():
            if province.trend_per_year:
                province.trend = math.exp(province.trend_per_year * year)
                changed = True
        if changed and self.hits is not None:
            self.hits.rate_changed()

    def changed(self) -> None:
        if self.hits is not None:
            self._accrue()
            self.hits.rate_changed()

    def _regime(self, province: Province) -> Generator[Any, Any, None]:
        spec, name = province.spec, province.name
        # The waits in a regime, and the regime a switch leads to: two streams, read in blocks.
        waits = self.world.streams.draws(f"security:regime:{name}", "exponential")
        picks = self.world.streams.draws(f"security:regime-next:{name}", "uniform")
        exits_by_level = {level: _exits(spec, level) for level in LEVELS}
        env = self.world.env
        while True:
            exits = exits_by_level[province.level]
            total = sum(r for _, r in exits)
            if total <= 0:
                return
            yield env.timeout(waits.exponential(1.0 / total))
            self._accrue()
            province.switch(_next_level(exits, picks.random()))
            if self.world.log is not None:
                self.world.note(f"security:{name}", f"regime -> {province.level}")
            self.changed()

    def _hit(self) -> None:
        w = self.world
        w.catch_up()  # the site's suspensions so far, before this one joins them
        rng = self._rng
        sites: list[ProjectRun] = []
        provinces: list[Province] = []
        weights: list[float] = []
        site_provinces = self._site_provinces
        for j, s in enumerate(w.projects):
            province = site_provinces[j]
            if province is not None and s.target_weight > 0:
                sites.append(s)
                provinces.append(province)
                weights.append(province.attack_rate() * self._site_hit_chance(s))
        i = _pick(weights, float(rng.random()))
        site = sites[i]
        severity = SEVERITIES[bisect.bisect_left(self._severity_cdf, float(rng.random()))]
        downtime, staff_years, output_loss, cost_rise, confidence_drop = self._consequences[severity]
        now = w.now
        days = draw(downtime, rng)
        site.suspend(now, days)
        site.withdraw_staff(now, staff_years, output_loss)
        site.raise_security_cost(now, cost_rise)
        self.incidents += 1
        provinces[i].hits_this_year += 1
        self._incidents_by_year[min(w.horizon - 1, max(0, int(now)))] += 1
        w.confidence.drop(now, confidence_drop)
        if w.log is not None:
            w.note("security", f"{severity} incident at {site.key}: {days:.0f} days lost")
        w.program.check()


class _Hits(VaryingRatePoisson):
    """Attacks that hit the sector: at the part's hit rate, each handled by it."""

    def __init__(self, part: SecurityRun, env: simpy.Environment, rng: Draws):
        self.part = part
        super().__init__(env, rng)

    def rate(self) -> float:
        return self.part.hit_rate()

    def happen(self) -> None:
        self.part._hit()


PART = Registration("security", SecurityRun, "shocks.security", OUTCOMES, SERIES)
