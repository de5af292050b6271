"""Infrastructure: power, water and logistics outages at the sites.

Each active site (being built or producing) suffers outages as a Poisson process at
``outages_per_site_year``; an outage suspends the site for ``outage_days`` (a distribution
is drawn anew for each outage). Overlapping
outages merge, so with rate ``lambda`` and a fixed length ``d`` a site is down a share
``1 - exp(-lambda d)`` of the time in the long run: the closed form the tests check.

All sites' outages are one Poisson process at ``lambda`` times the number of sites on the
ground, each outage striking one of them at random; its rate changes only when a site
comes onto or leaves the ground. An outage only suspends a site, and nothing reads a site's
suspensions until the world books a stretch of it, a site's construction is due to finish
or an attack strikes (each of which calls :meth:`~sim.model.world.World.catch_up` first).
So the outages need no simulation event: they are drawn when the world catches up, as the
waits of a :class:`~sim.model.hazard.VaryingRatePoisson` would have been, with the same
numbers from the same streams in the same order, and each suspends its site from the time
it struck.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..scenario.distributions import draw
from ..scenario.schema import Infrastructure
from .part import Part, Registration

if TYPE_CHECKING:
    from .world import World


class InfrastructureRun(Part):
    def __init__(self, spec: Infrastructure, world: World):
        self.spec = spec
        self.world = world
        self._rate = float(spec.outages_per_site_year)
        self.enabled = spec.enabled and self._rate > 0
        if self.enabled:
            # The cumulative hazard left until the next outage, at the rate in force since
            # ``_began`` (see sim.model.hazard).
            self._rng = world.streams("infrastructure:outages")
            self._need = float(self._rng.exponential())
            self._current = self.outage_rate()
            self._began = world.env.now

    def outage_rate(self) -> float:
        return self._rate * len(self.world.active_sites())

    def catch_up(self, t: float) -> None:
        """Every outage due by ``t``, in order; the sites on the ground have not changed
        since the last call (the world catches up before they do)."""
        if not self.enabled:
            return
        while self._current > 0.0:
            due = self._began + self._need / self._current
            if due > t:
                return
            self._outage(due)
            self._need = float(self._rng.exponential())
            self._current = self.outage_rate()
            self._began = due

    def changed(self) -> None:
        if not self.enabled:
            return
        now = self.world.env.now
        self.world.catch_up()
        rate = self.outage_rate()
        if rate != self._current:
            self._need = max(0.0, self._need - self._current * (now - self._began))
            self._current = rate
            self._began = now

    def _outage(self, at: float) -> None:
        w = self.world
        sites = w.active_sites()
        rng = w.streams("infrastructure:sites")
        site = sites[int(rng.integers(len(sites)))]
        days = draw(self.spec.outage_days, rng)
        site.suspend(at, days)
        w.handled += 1
        w.note("infrastructure", f"outage at {site.key}: {days:.1f} days", at=at)


PART = Registration("infrastructure", InfrastructureRun, "infrastructure")
