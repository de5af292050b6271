"""Infrastructure: power, water and logistics outages at the sites.

Each active site (being built or producing) suffers outages as a Poisson process at
``outages_per_site_year``; an outage suspends the site for ``outage_days`` (a distribution
is drawn anew for each outage). Overlapping
outages merge, so with rate ``lambda`` and a fixed length ``d`` a site is down a share
``1 - exp(-lambda d)`` of the time in the long run: the closed form the tests check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..scenario.distributions import draw
from ..scenario.schema import Infrastructure
from .hazard import VaryingRatePoisson
from .part import Part, Registration

if TYPE_CHECKING:
    from .world import World


class InfrastructureRun(Part):
    def __init__(self, spec: Infrastructure, world: World):
        self.spec = spec
        self.world = world
        self.outages: VaryingRatePoisson | None = None
        self._rate = float(spec.outages_per_site_year)
        if spec.enabled and self._rate > 0:
            self.outages = VaryingRatePoisson(world.env, world.streams("infrastructure:outages"),
                                              self.outage_rate, self._outage)

    def outage_rate(self) -> float:
        return self._rate * len(self.world.active_sites())

    def changed(self) -> None:
        if self.outages is not None:
            self.outages.rate_changed()

    def _outage(self) -> None:
        w = self.world
        sites = w.active_sites()
        rng = w.streams("infrastructure:sites")
        site = sites[int(rng.integers(len(sites)))]
        days = draw(self.spec.outage_days, rng)
        site.suspend(w.env.now, days)
        w.note("infrastructure", f"outage at {site.key}: {days:.1f} days")


PART = Registration("infrastructure", InfrastructureRun, "infrastructure")
