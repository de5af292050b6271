"""Investor confidence: a 0-1 index that milestones build and shocks knock down.

Confidence has two parts. A lasting *fundamental* level rises when the programme meets a
milestone (a financing close, a commissioning, a confirmed resource, a phase entered), up
to a ceiling, and falls for good after a resource downgrade, a policy reversal or an
arbitration award. A *transient* part is knocked down by shocks (an attack, a tariff hike, an
export-control step) and fades back at ``recovery_per_year``:

    level(t) = clip(fundamental + transient * exp(-recovery * (t - t_shock)), 0, 1)

so it is known in closed form between events. Confidence stretches financing lead times
(``1 + financing_delay_per_unit * max(0, reference - level)``) and adds a risk premium to
the investors' cost of capital (``risk_premium * (1 - level)``), which is integrated over
each model year in closed form too, so a change of confidence books nothing else. If it stays below ``stall_floor`` for
``stall_after_years``, investors exit and the programme stalls; the time it would climb
back over the floor is also known in closed form, so one scheduled check decides it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..scenario.schema import Confidence as Spec
from .columns import Column

CONFIDENCE = Column("confidence", "0-1", "Investor confidence at the end of the year.", label="Investor confidence", shown="0–1 index", scale=1)


class Confidence:
    def __init__(self, spec: Spec, horizon: int, schedule: Callable[[float, Callable[[], None]], None],
                 on_stall: Callable[[], None]):
        self.spec = spec
        self.fundamental = float(spec.initial)
        self.transient = 0.0
        self.since = 0.0
        self._kappa = float(spec.recovery_per_year)
        self._schedule = schedule
        self._on_stall = on_stall
        self._below_since: float | None = None
        self._recover_at = math.inf
        self._token = 0
        self._rate = float(spec.risk_premium)
        self._ceiling = float(spec.ceiling)
        self._reference = float(spec.reference)
        self._delay_per_unit = float(spec.financing_delay_per_unit)
        self._stall_floor = float(spec.stall_floor)
        self._stall_after = float(spec.stall_after_years)
        self._premium = [0.0] * horizon  # the risk premium integrated over each model year so far
        self._premium_to = 0.0
        self._watch(0.0)  # a programme that starts below the floor is already on the clock

    def level(self, t: float) -> float:
        x = self.fundamental + self.transient * math.exp(-self._kappa * max(0.0, t - self.since))
        return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x

    def gain(self, t: float, amount: float) -> None:
        """A lasting change: a rise (a milestone), capped at the ceiling, or a lasting fall
        (a policy reversal) when ``amount`` is negative."""
        self._fold(t)
        self.fundamental = max(0.0, min(self._ceiling, self.fundamental + amount))
        self._watch(t)

    def drop(self, t: float, amount: float) -> None:
        """A fading drop (a shock)."""
        if amount <= 0:
            return
        self._fold(t)
        self.transient -= amount
        self._watch(t)

    def financing_delay_factor(self, t: float) -> float:
        gap = self._reference - self.level(t)
        return 1.0 + self._delay_per_unit * max(0.0, gap)

    def risk_premium(self, t: float) -> float:
        return self._rate * (1.0 - self.level(t))

    def premium_years(self, horizon: float) -> list[float]:
        """The risk premium integrated over each model year up to ``horizon`` (years of
        premium: a year at a premium of 2% adds 0.02)."""
        self._integrate(horizon)
        return self._premium

    def _fold(self, t: float) -> None:
        self._integrate(t)
        self.transient *= math.exp(-self._kappa * (t - self.since))
        self.since = t

    def _integrate(self, t: float) -> None:
        """Add the premium over (the last time integrated to, ``t``] to its model years, at the
        present fundamental and transient parts."""
        a, years = self._premium_to, len(self._premium)
        if t <= a or not years:
            return
        self._premium_to = t
        while a < t:
            k = min(years - 1, int(a))
            b = t if k == years - 1 else min(t, float(k + 1))
            self._premium[k] += self._rate * self._gap_integral(a, b)
            a = b

    def _gap_integral(self, a: float, b: float) -> float:
        """The integral of ``1 - level`` over [a, b]. Between changes the level moves
        monotonically towards the fundamental, so it crosses 0 or 1 at most once each; the
        stretch is cut there and each piece integrated exactly."""
        f, x, kappa, s = self.fundamental, self.transient, self._kappa, self.since
        cuts = [a, b]
        if x != 0.0 and kappa > 0.0:
            for bound in (0.0, 1.0):
                ratio = (bound - f) / x
                if ratio > 0.0:
                    crossing = s - math.log(ratio) / kappa
                    if a < crossing < b:
                        cuts.append(crossing)
        cuts.sort()
        total = 0.0
        for j in range(len(cuts) - 1):
            lo, hi = cuts[j], cuts[j + 1]
            if hi <= lo:
                continue
            middle = self.level(0.5 * (lo + hi))
            if middle <= 0.0 or middle >= 1.0:
                total += (1.0 - middle) * (hi - lo)
            elif kappa > 0.0:
                # (1 - f)(hi - lo) - x * integral of exp(-kappa (t - s)) over [lo, hi]
                decay = math.exp(-kappa * max(0.0, lo - s)) * -math.expm1(-kappa * (hi - lo)) / kappa
                total += (1.0 - f) * (hi - lo) - x * decay
            else:
                total += (1.0 - f - x) * (hi - lo)
        return total

    def time_back_over(self, floor: float) -> float:
        """When the level climbs back to ``floor`` (or since when it has been there; inf if
        the lasting level is below it), as things stand."""
        if self.fundamental <= floor or self.transient >= 0 or self._kappa <= 0:
            return math.inf if self.level(self.since) < floor else self.since
        return self.since + math.log(-self.transient / (self.fundamental - floor)) / self._kappa

    def _watch(self, t: float) -> None:
        floor = self._stall_floor
        if self._below_since is not None and self._recover_at <= t:
            self._below_since = None
        self._token += 1
        if self.level(t) >= floor:
            self._below_since = None
            self._recover_at = math.inf
            return
        if self._below_since is None:
            self._below_since = t
        self._recover_at = self.time_back_over(floor)
        stall_at = self._below_since + self._stall_after
        if self._recover_at > stall_at:
            token = self._token

            def check() -> None:
                if token == self._token:
                    self._on_stall()

            self._schedule(stall_at, check)
