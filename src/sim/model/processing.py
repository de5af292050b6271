"""Processing: the domestic refinery, the foreign routes, and where each tonne goes.

Each commodity's output is split across four routes by the scenario's shares: the
domestic refinery (the polymetallic refinery of the USSM-FWO agreement), Chinese toll
processing, U.S. processing, and other refiners. Until the refinery runs, its share goes
abroad in proportion to the other shares. Each route takes at most its capacity over a
stretch of time: the refinery's design capacity times its ramp-up, China's capacity times
the share its export-control regime leaves open, fixed capacities elsewhere. What no route
can take is stockpiled as concentrate, and the stockpile is drawn down whenever a route has
spare capacity; so volume is conserved: produced = processed + change in stock.

The refinery itself is a facility like a mine: a lead time to financing close (stretched
by low confidence), construction, and a ramp-up, usually of the novel-process class.
Without a partner able to supply separation technology (a Chinese partner while China's
technology-export ban holds, or none) construction and ramp-up take longer; technology-
transfer terms shorten the ramp-up and make it likelier to reach design.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

from ..scenario.schema import ROUTES, Refinery
from .projects import Spend, draw_ramp
from .ramp import RampCurve, integrate

if TYPE_CHECKING:
    from .world import World

# Order in which spare capacity draws down the stockpile: at home first, China last.
DRAW_ORDER: tuple[str, ...] = ("domestic", "us", "other", "china")


Shares = tuple[float, float, float, float]
"""Four numbers in ROUTES order (domestic, China, U.S., other): shares, capacities, flows."""


def allocate(supply: float, stock: float, shares: Mapping[str, float],
             capacity: Mapping[str, float]) -> tuple[dict[str, float], float]:
    """Split ``supply`` across routes by ``shares`` within ``capacity``; returns the flows
    and the new stock. Overflow goes to stock; spare capacity on a route with a positive
    share (or on ``other``, the market of last resort) draws the stock down, in DRAW_ORDER."""
    s = [shares.get(r, 0.0) for r in ROUTES]
    c = [capacity.get(r, 0.0) for r in ROUTES]
    f_home, f_china, f_us, f_other, stock = route(supply, stock, (s[0], s[1], s[2], s[3]), (c[0], c[1], c[2], c[3]))
    return dict(zip(ROUTES, (f_home, f_china, f_us, f_other), strict=True)), stock


def route(supply: float, stock: float, shares: Shares, capacity: Shares) -> tuple[float, float, float, float, float]:
    """:func:`allocate` on the four routes in ROUTES order, as the ledger calls it at every
    booking; returns the four flows and the new stock."""
    s_home, s_china, s_us, s_other = shares
    c_home, c_china, c_us, c_other = capacity
    f_home, stock = _fill(supply * s_home, c_home, stock)
    f_china, stock = _fill(supply * s_china, c_china, stock)
    f_us, stock = _fill(supply * s_us, c_us, stock)
    f_other, stock = _fill(supply * s_other, c_other, stock)
    # Spare capacity draws the stock down in DRAW_ORDER: at home, the U.S., other, China.
    if stock > 0.0 and s_home > 0.0:
        f_home, stock = _draw(f_home, c_home, stock)
    if stock > 0.0 and s_us > 0.0:
        f_us, stock = _draw(f_us, c_us, stock)
    if stock > 0.0:
        f_other, stock = _draw(f_other, c_other, stock)
    if stock > 0.0 and s_china > 0.0:
        f_china, stock = _draw(f_china, c_china, stock)
    return f_home, f_china, f_us, f_other, max(stock, 0.0)


def _fill(want: float, cap: float, stock: float) -> tuple[float, float]:
    """A route's flow, ``want`` up to ``cap``, and the stock the rest adds to."""
    if want <= cap:
        return want, stock
    return cap, stock + (want - cap)


def _draw(flow: float, cap: float, stock: float) -> tuple[float, float]:
    """A route's flow raised by the stock its spare capacity takes, and the stock left."""
    spare = cap - flow
    if spare > 0.0:
        take = min(spare, stock)
        return flow + take, stock - take
    return flow, stock


class RefineryRun:
    def __init__(self, spec: Refinery, world: World):
        self.spec = spec
        self.world = world
        self.financed = False
        self.building = False
        self.complete_at = math.inf
        self.curve: RampCurve | None = None
        self.capex = Spend()
        self.rng = world.streams("refinery")
        self.threshold = float(spec.running_threshold)

    @property
    def built(self) -> bool:
        """Commissioned: from then on the refinery's share of output no longer goes abroad."""
        return self.curve is not None

    def design_years(self, a: float, b: float) -> float:
        """Years of design throughput over [a, b], its ramp-up included (0 until commissioned):
        its capacity over the stretch is this times each commodity's capacity a year."""
        return 0.0 if self.curve is None else integrate(self.curve, a, b)

    def running(self, t: float) -> bool:
        return self.curve is not None and self.curve.level(t) >= self.threshold - 1e-12

    def lifecycle(self) -> Generator[Any, Any, None]:
        w, spec = self.world, self.spec
        env = w.env
        if not spec.enabled:
            return
        yield from w.lead_time(float(spec.lead_years))
        if w.program.stalled:
            w.note("refinery", "financing abandoned, the programme has stalled")
            return
        self.financed = True
        w.note("refinery", "financing closed")
        w.milestone()
        partner = spec.technology_partner
        has_technology = partner == "us" or (partner == "china" and not w.refining.technology_ban)
        stretch = 1.0 if has_technology else float(spec.no_technology_factor)
        schedule, cost = w.overruns(spec)
        build = float(spec.build_years) * schedule * stretch
        self.building = True
        self.complete_at = w.now + build
        self.capex = Spend(w.now, w.now + build, float(spec.capex_usd) * cost)
        w.note("refinery", f"construction starts, {build:.2f} yr planned"
                           + ("" if has_technology else " (no separation-technology partner)"))
        while w.now < self.complete_at:
            yield env.timeout(self.complete_at - w.now)
        w.advance()
        self.building = False
        lv = w.scenario.levers
        # Transfer terms help only if the partner can supply the technology at all.
        transfer = float(lv.transfer_ramp_gain) * float(lv.technology_transfer) if has_technology else 0.0
        self.curve = draw_ramp(w.scenario, spec.ramp_up_class, self.rng, w.now, stretch * (1.0 - transfer),
                               never_factor=1.0 - transfer)
        w.note("refinery", f"commissioned, design output in {self.curve.years_to_design:.2f} yr")
        w.milestone()
        running_at = self.curve.time_to_reach(self.threshold)
        if math.isfinite(running_at):
            w.wake_at(running_at)
