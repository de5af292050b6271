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
So the outages need no simulation event (:class:`~sim.model.hazard.DrawnPoisson`): they
are drawn when the world catches up, as the waits of a
:class:`~sim.model.hazard.VaryingRatePoisson` would have been, with the same numbers from
the same streams in the same order, and each suspends its site from the time it struck.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..scenario.distributions import draw
from ..scenario.schema import Infrastructure
from .draws import Draws
from .hazard import DrawnPoisson
from .part import Part, Registration

if TYPE_CHECKING:
    from .world import World


class InfrastructureRun(Part):
    def __init__(self, spec: Infrastructure, world: World):
        self.spec = spec
        self.world = world
        self._rate = float(spec.outages_per_site_year)
        self.outages: DrawnPoisson | None = None
        self._days = spec.outage_days
        if spec.enabled and self._rate > 0:
            # Which site an outage strikes and how long it lasts: uniforms, read in blocks.
            self._picks = world.streams.draws("infrastructure:sites", "uniform")
            self.outages = _Outages(self, world.streams.draws("infrastructure:outages", "exponential"), world.now)

    def outage_rate(self) -> float:
        return self._rate * len(self.world.active_sites())

    def catch_up(self, t: float) -> None:
        if self.outages is not None:
            self.outages.catch_up(t)

    def changed(self) -> None:
        if self.outages is not None:
            self.world.catch_up()
            self.outages.rate_changed(self.world.now)

    def _outage(self, at: float) -> None:
        w = self.world
        sites = w.active_sites()
        picks = self._picks
        site = sites[picks.index(len(sites))]
        days = draw(self._days, picks)
        site.suspend(at, days)
        w.handled += 1
        if w.log is not None:  # the text is made only when tracing: outages are many
            w.note("infrastructure", f"outage at {site.key}: {days:.1f} days", at=at)


class _Outages(DrawnPoisson):
    """The outages' process, at the part's rate, each handled by it."""

    def __init__(self, part: InfrastructureRun, rng: Draws, now: float):
        self.part = part
        super().__init__(rng, now)

    def rate(self) -> float:
        return self.part.outage_rate()

    def happen(self, at: float) -> None:
        self.part._outage(at)


PART = Registration("infrastructure", InfrastructureRun, "infrastructure")
