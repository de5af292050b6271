"""Commodity prices: China's own price as a mean-reverting process, and markets that clear outside China.

Each commodity's log-price deviation ``x = ln(P / P_long_run)`` follows an
Ornstein-Uhlenbeck process, stepped exactly every ``market.step_years``:

    x' = x * exp(-kappa * dt) + sigma * sqrt((1 - exp(-2 kappa dt)) / (2 kappa)) * Z

Prices are constant between steps, so revenue over any stretch between events is price
times volume. For copper and gold, whose prices Pakistan takes, that is the whole story;
where a scenario gives no market, a step of China's controls on the commodity's group
makes its log-price jump by ``price_jump_per_step * china_sensitivity``.

For a commodity with a ``market`` (rare earths and antimony in the shipped scenarios) the
process is China's domestic price, and the price outside China *clears* a partial-
equilibrium market at every step. In shares of the ex-China market's reference demand:

    demand  s * (1 - e_d * (r - 1))
    supply  x0 * (1 - cut) + k * (1 + e_s * (r - 1)) + q

where ``r`` is the ratio of the ex-China price to China's, ``x0`` what China's exports would
supply under open controls, ``cut`` the share its controls withhold in the regime of the
commodity's group, ``k`` the capacity elsewhere, ``q`` Pakistan's own output reaching the
ex-China market (counted as the small supplier it is) and ``e_d``, ``e_s`` short-run
elasticities. Linear in ``r``, so the clearing ratio is a closed form,

    r = 1 + max(0, s - x0 (1 - cut) - k - q) / (s e_d + k e_s),

never below 1 (with a surplus, product flows to China at China's price). The non-Chinese
premium is ``r - 1`` of China's price: it *emerges* from the cut, and it fades for stated
reasons. Demand substitutes and thrifts: ``s`` moves towards ``r ** -e_long`` at
``substitution_per_year`` (partial adjustment). Supply responds: while ``r > 1``, new
capacity of ``supply_response_per_year * min(1, r - 1)`` of demand a year is committed and
arrives ``capacity_lead_years`` later. Who gains: suppliers outside China (Pakistan among
them) sell at the ex-China price; who pays: ex-China buyers, whose demand is destroyed.
A market step is arithmetic on a handful of numbers, not a simulation event.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

from ..scenario.schema import CHINA_REGIMES, ClearedMarket, Commodity
from .columns import Column
from .draws import Draws

MAX_PRICE_RATIO: Final = 100.0
"""Cap on the ex-China price ratio where no demand elasticity bounds it (nothing reaches
the market and demand does not respond): a choke price far beyond any episode."""

PRICE = Column("price_<commodity>_usd", "USD/unit", "Price of the refined product outside China at the end of the year (with the non-Chinese premium the controls support), per unit of the commodity (t; gold oz).", label="Price ex-China", shown="USD per unit", scale=1)
PRICE_CHINA = Column("price_china_<commodity>_usd", "USD/unit", "China's domestic price of the refined product at the end of the year, for a controlled commodity with a non-Chinese premium.", label="Price in China", shown="USD per unit", scale=1)


class Clearing:
    """The ex-China market of one commodity (see the module)."""

    def __init__(self, spec: ClearedMarket):
        self.demand0 = float(spec.ex_china_demand)
        self.growth = math.log1p(float(spec.demand_growth_per_year))
        self.china = float(spec.china_export_share)
        self.cuts = [spec.export_cut.of(level) for level in range(len(CHINA_REGIMES))]  # by regime level
        self.e_demand = float(spec.demand_elasticity)
        self.e_supply = float(spec.supply_elasticity)
        self.e_long = float(spec.long_run_demand_elasticity)
        self.adjust = float(spec.substitution_per_year)
        self.response = float(spec.supply_response_per_year)
        self.lead = float(spec.capacity_lead_years)
        self.demand = 1.0  # s: reference demand left after substitution and thrift
        self.capacity = float(spec.other_supply_share)  # k
        # Capacity under construction: (when it comes on, share of demand), in order; those
        # before ``_online`` have come on.
        self.pipeline: list[tuple[float, float]] = []
        self._online = 0
        self.ratio = 1.0
        self.pakistan_rate = 0.0

    def clearing_ratio(self, cut: float, pakistan: float) -> float:
        """The ex-China price over China's that clears the market now (``pakistan``: that
        share of reference demand supplied from Pakistan)."""
        s, k = self.demand, self.capacity
        short = s - self.china * (1.0 - cut) - k - pakistan
        if short <= 0.0:
            return 1.0
        slope = s * self.e_demand + k * self.e_supply
        return min(1.0 + short / slope, MAX_PRICE_RATIO) if slope > 0.0 else MAX_PRICE_RATIO

    def step(self, t: float, dt: float, level: int, pakistan_rate: float) -> None:
        """Clear at model time ``t`` (after ``dt`` years), then let demand and supply
        respond to the price over the coming step."""
        pipeline, i = self.pipeline, self._online
        while i < len(pipeline) and pipeline[i][0] <= t:
            self.capacity += pipeline[i][1]
            i += 1
        self._online = i
        self.pakistan_rate = pakistan_rate
        reference = self.demand0 * math.exp(self.growth * t)
        self.ratio = self.clearing_ratio(self.cuts[level], pakistan_rate / reference)
        if dt > 0.0:
            target = self.ratio ** -self.e_long
            self.demand += (target - self.demand) * -math.expm1(-self.adjust * dt)
            if self.ratio > 1.0 and self.response > 0.0:
                self.pipeline.append((t + self.lead, self.response * min(1.0, self.ratio - 1.0) * dt))


class Market:
    def __init__(self, commodities: dict[str, Commodity], rng: Draws):
        self.names = list(commodities)
        self.specs = commodities
        self.rng = rng
        self.x = {c: math.log(float(s.price_usd) / float(s.long_run_price_usd))
                  for c, s in commodities.items()}
        self.price = {c: float(s.price_usd) for c, s in commodities.items()}
        self.clearing = {c: Clearing(s.market) for c, s in commodities.items() if s.market is not None}
        # The price outside China: China's own price times the clearing ratio where a
        # market clears, China's price itself elsewhere.
        self.ex_china = dict(self.price)
        # A step's terms per commodity, for the step length they were computed for (the
        # world steps at one length): decay, shock sd and long-run price, in ``names`` order.
        self._terms_for = -1.0
        self._decay: list[float] = []
        self._sd: list[float] = []
        self._long_run = [float(s.long_run_price_usd) for s in commodities.values()]
        self._cleared = [c in self.clearing for c in self.names]

    def _step_terms(self, dt: float) -> None:
        """The decay and shock sd of a step of ``dt`` years, per commodity."""
        self._terms_for = dt
        self._decay, self._sd = [], []
        for c in self.names:
            s = self.specs[c]
            kappa, sigma = float(s.mean_reversion_per_year), float(s.volatility)
            decay = math.exp(-kappa * dt)
            self._decay.append(decay)
            self._sd.append(sigma * math.sqrt(dt if kappa == 0 else (1.0 - decay * decay) / (2.0 * kappa)))

    def step(self, dt: float) -> None:
        if dt != self._terms_for:
            self._step_terms(dt)
        z = self.rng.standard_normal(len(self.names))
        x, price, ex_china = self.x, self.price, self.ex_china
        decays, sds, long_runs, cleared = self._decay, self._sd, self._long_run, self._cleared
        for i, c in enumerate(self.names):
            moved = x[c] * decays[i] + sds[i] * z[i]
            x[c] = moved
            p = price[c] = long_runs[i] * math.exp(moved)
            if not cleared[i]:
                ex_china[c] = p

    def clear(self, t: float, dt: float, levels: dict[str, int], pakistan: dict[str, float]) -> None:
        """Clear every ex-China market at ``t``: ``levels`` holds the regime of each cleared
        commodity's control group, ``pakistan`` its output reaching the ex-China market
        (per year) since the last clearing."""
        for c, m in self.clearing.items():
            self._clear(c, m, t, dt, levels, pakistan.get(c, 0.0))

    def reclear(self, t: float, levels: dict[str, int], commodities: Iterable[str]) -> None:
        """Clear the markets of ``commodities`` again at once (their controls moved), with
        no time for demand or supply to respond."""
        for c in commodities:
            m = self.clearing.get(c)
            if m is not None:
                self._clear(c, m, t, 0.0, levels, m.pakistan_rate)

    def _clear(self, c: str, m: Clearing, t: float, dt: float, levels: dict[str, int], pakistan_rate: float) -> None:
        m.step(t, dt, levels.get(c, 0), pakistan_rate)
        self.ex_china[c] = self.price[c] * m.ratio

    def jump(self, size: float, commodities: Iterable[str]) -> None:
        """Shift the log-price of each of ``commodities`` by ``size`` times its China
        sensitivity (those without a market: a market's price moves by clearing)."""
        for c in commodities:
            if c in self.clearing:
                continue
            sens = float(self.specs[c].china_sensitivity)
            if sens:
                self.x[c] += size * sens
                self._set(c)

    def _set(self, c: str) -> None:
        self.price[c] = float(self.specs[c].long_run_price_usd) * math.exp(self.x[c])
        if c not in self.clearing:
            self.ex_china[c] = self.price[c]
