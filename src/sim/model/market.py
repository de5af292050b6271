"""Commodity prices: a mean-reverting log-price with jumps driven by China's controls.

Each commodity's log-price deviation ``x = ln(P / P_long_run)`` follows an
Ornstein-Uhlenbeck process, stepped exactly every ``market.step_years``:

    x' = x * exp(-kappa * dt) + sigma * sqrt((1 - exp(-2 kappa dt)) / (2 kappa)) * Z

Prices are constant between steps, so revenue over any stretch between events is price
times volume. When China's export-control regime moves one step, the log-price of each
commodity jumps by ``price_jump_per_step * china_sensitivity`` (up when controls tighten,
down when they ease), and the jump fades with the same mean reversion. This reproduces
the 2024-25 antimony episode in kind: prices several times higher within a couple of
years of successive controls.
"""

from __future__ import annotations

import math

import numpy as np

from ..schema import Commodity


class Market:
    def __init__(self, commodities: dict[str, Commodity], rng: np.random.Generator):
        self.names = list(commodities)
        self.specs = commodities
        self.rng = rng
        self.x = {c: math.log(float(s.price_usd) / float(s.long_run_price_usd))
                  for c, s in commodities.items()}
        self.price = {c: float(s.price_usd) for c, s in commodities.items()}
        self._terms: dict[float, list[tuple[str, float, float, float]]] = {}

    def _step_terms(self, dt: float) -> list[tuple[str, float, float, float]]:
        """Per commodity, (name, decay, shock sd, long-run price) of a step of ``dt`` years."""
        terms = self._terms.get(dt)
        if terms is None:
            terms = self._terms[dt] = []
            for c in self.names:
                s = self.specs[c]
                kappa, sigma = float(s.mean_reversion_per_year), float(s.volatility)
                decay = math.exp(-kappa * dt)
                sd = sigma * math.sqrt(dt if kappa == 0 else (1.0 - decay * decay) / (2.0 * kappa))
                terms.append((c, decay, sd, float(s.long_run_price_usd)))
        return terms

    def step(self, dt: float) -> None:
        z = self.rng.standard_normal(len(self.names)).tolist()
        x, price = self.x, self.price
        for (c, decay, sd, long_run), shock in zip(self._step_terms(dt), z, strict=True):
            x[c] = x[c] * decay + sd * shock
            price[c] = long_run * math.exp(x[c])

    def jump(self, size: float) -> None:
        """Shift every commodity's log-price by ``size`` times its China sensitivity."""
        for c, s in self.specs.items():
            sens = float(s.china_sensitivity)
            if sens:
                self.x[c] += size * sens
                self._set(c)

    def _set(self, c: str) -> None:
        self.price[c] = float(self.specs[c].long_run_price_usd) * math.exp(self.x[c])
