"""Lending: the loans that finance part of a project's capital, and what they cost it each year.

Large mines are built with limited-recourse project finance: Reko Diq's first phase is
half debt, half equity, with a grace period of four to five years before twelve years of
repayment. Here a project borrows ``debt.share`` of each phase's capital as it is spent. Each
phase's loans are a tranche of their own: interest accrues on the balance (on half of the
year's drawings, drawn through the year) and is added to it until ``grace_years`` after the
phase is commissioned (the sponsors guarantee completion, so no loan falls due while a
phase is being built, however late); from the first year-end after that, the tranche is repaid in equal
yearly instalments of interest and principal over ``repayment_years``.

The schedule runs in the simulation, at each year's end, because whether the year's cash
covers the instalment decides a default (:mod:`sim.model.distress`): the lenders then write
off what is still owed, and the site is abandoned. The yearly rows (drawn, interest paid,
principal repaid) go to the project's accounts (:mod:`sim.model.finance`), where interest is
deducted from taxable profit and the holders' cash flows are net of the lenders'.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..scenario.schema import Debt
from .columns import Column

if TYPE_CHECKING:
    from .projects import PhaseRun

WRITTEN_OFF_OF = Column("<project>_written_off_usd", "USD", "Loans the lenders wrote off when the project defaulted (0 if it never did); what they had lent, less what they were repaid, is their loss.", better="lower", label="Debt written off")
OUTCOMES: tuple[Column, ...] = (WRITTEN_OFF_OF,)
"""The lending outcomes: one column per project."""


class Tranche:
    """One phase's loans."""

    __slots__ = ("balance", "repaid_years")

    def __init__(self) -> None:
        self.balance = 0.0
        self.repaid_years = 0


class Loans:
    """One project's loans over the horizon, year by year (USD)."""

    def __init__(self, spec: Debt, horizon: int):
        self.share = float(spec.share)
        self.rate = float(spec.interest_rate)
        self.grace = float(spec.grace_years)
        self.years = int(spec.repayment_years)
        self.drawn = [0.0] * horizon
        self.interest = [0.0] * horizon   # paid in cash (capitalised interest is not)
        self.principal = [0.0] * horizon
        self.written_off = 0.0
        self._tranches: dict[int, Tranche] = {}

    @property
    def enabled(self) -> bool:
        return self.share > 0.0

    def balance(self) -> float:
        """What is owed now, capitalised interest included."""
        return sum(t.balance for t in self._tranches.values())

    def year_end(self, i: int, phases: Sequence[PhaseRun], closed: bool = False) -> float:
        """Draw and service the loans for year ``i`` (0-based, ending at model time i + 1)
        given the phases' capital spending; returns the year's debt service (interest paid
        and principal repaid). A site ``closed`` for good (taken, or at the end of its life)
        repays what it owes at once."""
        if not self.enabled:
            return 0.0
        end, r = i + 1.0, self.rate
        service = 0.0
        for j, run in enumerate(phases):
            start = run.capex.start
            if not math.isfinite(start):
                continue  # not financed
            tranche = self._tranches.get(j)
            if tranche is None:
                tranche = self._tranches[j] = Tranche()
            draw = self.share * run.capex.between(float(i), end)
            if draw <= 0.0 and tranche.balance <= 0.0:
                continue
            self.drawn[i] += draw
            interest = r * (tranche.balance + 0.5 * draw)
            tranche.balance += draw
            if end <= run.commissioned + self.grace and not closed:
                tranche.balance += interest  # capitalised through the grace period
                continue
            left = 1 if closed else max(1, self.years - tranche.repaid_years)
            payment = (tranche.balance + interest if left == 1 else
                       (tranche.balance * r / (1.0 - (1.0 + r) ** -left) + interest - r * tranche.balance
                        if r > 1e-9 else tranche.balance / left + interest))  # a rate too small to divide by
            principal = payment - interest
            tranche.balance = max(0.0, tranche.balance - principal)
            tranche.repaid_years += 1
            self.interest[i] += interest
            self.principal[i] += principal
            service += payment
        return service

    def write_off(self) -> None:
        """The project defaulted: what is owed is lost to the lenders."""
        self.written_off += self.balance()
        self._tranches = {}
        self.share = 0.0  # nothing more is lent
