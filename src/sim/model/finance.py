"""Project finance: what each project earns, what it pays, and who keeps the rest.

A mine sells concentrate at the mine gate. The ledger hands each project its part of what its
commodities fetched (the value the processing rungs in Pakistan add belongs to the
refinery), and books against it, year by year, the project's operating and security costs,
the exporter's share of U.S. duties on what it shipped, and its capital spending. From those
rows, at the end of a replication:

- royalties are a share of sales (the province's royalty and federal levies);
- income tax is due on sales less operating cost, royalties and depreciation (capital
  written off straight-line from the year after it is spent, losses carried forward without
  limit), at the project's negotiated rate or the scenario's, and not at all during a tax
  holiday counted from first production;
- the lenders are paid interest and principal on what the project borrowed
  (:mod:`sim.model.lending`); interest is deducted from taxable profit;
- the free cash flow to equity (sales less costs, capital, royalties, tax and the lenders'
  net cash) is shared between the state's and the province's holdings and the private
  investors, pro rata to their equity; an arbitration award the state pays after a policy
  reversal goes to the private investors;
- under the local-equity lever, local shareholders hold a share of the private equity,
  carried: they take their part of each positive distribution and put in no capital, so the
  investors are diluted.

So, per project and year, sales + awards = operating cost + capital + royalties + tax + the
lenders' net cash + the investors' cash flow + the state's dividends + the local holders',
exactly (a holder's "dividend" is negative in a year it puts capital in).

What the levers cost is counted whoever pays it (``lever_cost_usd``): community programmes,
security above today's spending, output tracking and the stockpile's carrying cost, which the
projects pay among their costs; the carried local equity, which the investors give up; and
the state's verification programme.

A project whose producing life runs on past the horizon carries a continuing value: for
each year of life left (Reko Diq's 37-year life from 2028 runs 15 years past a 25-year
horizon), the cash its commissioned phases would make at design output and the horizon's
prices, after operating and security costs, royalties and tax, and never below zero (a mine
that does not pay then would close). A site closed for good carries none. The project's NPV (100% basis, as a
feasibility study states it, before financing) discounts at the scenario's rate; the
investors' NPV discounts their share of the cash to equity at that rate plus the risk
premium investor confidence implies, the cost of capital they face. Discounting is annual,
with each year's cash flow at mid-year.

The same cost of capital decides whether a phase is financed at all (:func:`phase_value`,
used by :mod:`sim.model.projects`): its plan capital against a year's cash at today's prices
for the life it would have, ramped up, after royalties and tax.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy.optimize import brentq

from ..scenario.schema import Fiscal, Project
from .columns import Column
from .lending import Loans

NPV_OF = Column("<project>_npv_usd", "USD", "After-tax NPV of the project's cash flow to all its holders (100% basis, as a feasibility study states it) at the scenario's discount rate, annual with mid-year cash flows; the life left beyond the horizon enters as a continuing value (a year's cash at design output and the horizon's prices, after costs, royalties and tax, for each year left; none for a closed site).", better="higher", label="NPV after tax", signed=True)
INVESTOR_NPV_OF = Column("<project>_investor_npv_usd", "USD", "The private investors' part of the project's after-tax cash flow to equity (after the lenders' interest and principal; all but the state's and the province's holdings, and the carried local equity under that lever), with any arbitration award the state paid them, discounted at the scenario's rate plus the risk premium investor confidence implies; continuing value as for <project>_npv_usd, less what is still owed at the horizon.", better="higher", label="Investors' NPV", signed=True)
IRR_OF = Column("<project>_irr", "1/yr", "Internal rate of return of the project's after-tax cash flow (100% basis, the continuing life included); NaN if it never both spends and earns.", better="higher", label="IRR", shown="% a year", scale=0.01, signed=True)
STATE_TAKE_OF = Column("<project>_state_take_usd", "USD", "What the project paid the state within the horizon (undiscounted): royalties, income tax, and the dividends on the state's and the province's holdings less their capital contributions, less the arbitration awards the state paid its private investors.", better="higher", label="State take", signed=True)
STATE_TAKE = Column("state_take_usd", "USD", "What the projects paid the state within the horizon (undiscounted), less the arbitration awards it paid their investors: the sum of <project>_state_take_usd.", better="higher", label="State take", signed=True)
NATIONAL_VALUE_ADDED_OF = Column("<project>_national_value_added_usd", "USD", "What the project added to Pakistan's GDP within the horizon (undiscounted): its sales at the mine gate less its operating and security costs and its share of U.S. duties (a lower bound: wages and local purchases count as costs), plus the domestic refinery's margin on its output (value added less processing cost).", better="higher", label="National value added")
INVESTOR_NPV = Column("investor_npv_usd", "USD", "The private investors' NPV summed over projects (<project>_investor_npv_usd): after tax, at the scenario's rate plus the confidence risk premium.", better="higher", label="Investors' NPV", signed=True)
LEVER_COST = Column("lever_cost_usd", "USD", "What the policy levers cost within the horizon (undiscounted), whoever pays: community programmes, security above today's spending, output tracking and the stockpile's carrying cost (paid by the projects, in their cash flows), the carried local equity's distributions (given up by the investors), and the state's verification programme.", better="lower", label="Cost of the levers", signed=True)
OUTCOMES: tuple[Column, ...] = (STATE_TAKE, INVESTOR_NPV, LEVER_COST, NPV_OF, INVESTOR_NPV_OF, IRR_OF, STATE_TAKE_OF,
                                NATIONAL_VALUE_ADDED_OF)
"""The finance outcomes, in table order: the totals, then one column per project of each family."""


class Books:
    """One project's yearly rows (USD), filled by the ledger as it books each stretch."""

    __slots__ = ("revenue", "costs", "capital", "awards", "added", "made", "year_revenue", "year_costs",
                 "year_capital", "year_added")

    def __init__(self, horizon: int, commodities: Iterable[str]):
        self.revenue = [0.0] * horizon  # its output's value at the mine gate
        self.costs = [0.0] * horizon    # operating and security costs, its share of U.S. duties
        self.capital = [0.0] * horizon
        self.awards = [0.0] * horizon   # arbitration awards the state pays its private investors
        self.added = [0.0] * horizon    # the refinery's margin on its output (value added less processing cost)
        self.made = [0.0 for _ in commodities]  # output so far per commodity (scenario order), for selling stock later
        # The current year's entries of revenue, costs, capital and added while the ledger
        # books the year (it writes them to the rows when the year changes, Ledger.flush).
        self.year_revenue = self.year_costs = self.year_capital = self.year_added = 0.0


class Accounts:
    """One project's finance over the horizon, year by year, and its outcomes."""

    def __init__(self, books: Books, spec: Project, fiscal: Fiscal, first_production: float,
                 years_left: float, beyond: float, rate: float, premium: np.ndarray, local_share: float = 0.0,
                 loans: Loans | None = None):
        """``years_left`` of life beyond the horizon at ``beyond`` a year after tax (see
        :func:`beyond_horizon`); ``loans`` the project's debt, if it borrowed."""
        self.revenue = rev = np.asarray(books.revenue)
        self.costs = np.asarray(books.costs)
        self.capital = cap = np.asarray(books.capital)
        h = len(rev)
        zeros = np.zeros(h)
        self.drawn = np.asarray(loans.drawn) if loans is not None else zeros
        self.interest = np.asarray(loans.interest) if loans is not None else zeros
        self.principal = np.asarray(loans.principal) if loans is not None else zeros
        owed = loans.balance() if loans is not None else 0.0  # at the horizon
        self.royalties = rev * float(spec.royalty_rate)
        operating = rev - self.costs - self.royalties  # cash before capital and tax
        years = int(fiscal.depreciation_years)
        written = np.convolve(cap, np.full(years, 1.0 / years))[:h]
        depreciation = np.concatenate(([0.0], written[:-1]))
        rate_due = tax_rate(spec, fiscal)
        holiday_end = first_production + float(spec.tax_holiday_years) if not math.isnan(first_production) else math.inf
        # The tax paid, with interest deducted; and the tax the project would pay unlevered,
        # on which its own NPV and IRR (before financing, as a study states them) rest.
        self.tax = _income_tax(operating - depreciation - self.interest, rate_due, holiday_end)
        unlevered = operating - cap - _income_tax(operating - depreciation, rate_due, holiday_end)
        self.lenders = self.interest + self.principal - self.drawn  # the lenders' net cash flow
        self.free_cash = operating - cap - self.tax - self.lenders  # to the holders of equity
        held = min(1.0, float(spec.equity.federal) + float(spec.equity.provincial))
        self.state_dividends = held * self.free_cash
        local = local_share * (1.0 - held)  # of the whole equity, carried
        self.local_dividends = local * np.maximum(self.free_cash, 0.0)
        self.awards = np.asarray(books.awards)
        self.investor_cash = self.free_cash - self.state_dividends - self.local_dividends + self.awards
        # The life left beyond the horizon, at the last year's cash flow before capital.
        flows = extended(unlevered, beyond, years_left)
        self.npv = present_value(flows, rate)
        self.irr = irr(flows)
        equity = extended(self.free_cash, beyond, years_left)
        if owed > 0.0:  # what is still owed at the horizon is repaid out of the life beyond it
            equity = np.concatenate((equity, np.zeros(max(0, h + 1 - len(equity)))))
            equity[h] -= owed
        last_premium = float(premium[-1]) if len(premium) else 0.0
        premiums = np.concatenate((premium, np.full(len(equity) - h, last_premium)))
        investors = (1.0 - held) * equity - local * np.maximum(equity, 0.0)
        investors[:h] += self.awards
        self.investor_npv = present_value(investors, rate, premiums)
        self.state_take = float(self.royalties.sum() + self.tax.sum() + self.state_dividends.sum() - self.awards.sum())
        self.value_added = float(rev.sum() - self.costs.sum() + sum(books.added))


def _income_tax(profit: np.ndarray, rate: float, holiday_end: float) -> np.ndarray:
    """Tax on each year's ``profit`` at ``rate``, losses carried forward without limit, none
    before ``holiday_end`` (model time) and pro rata in the year it falls."""
    tax = np.zeros(len(profit))
    losses = 0.0
    for k, p in enumerate(profit.tolist()):
        p -= losses
        losses = max(0.0, -p)
        due = min(1.0, max(0.0, k + 1.0 - holiday_end))  # the part of year k past the holiday
        if p > 0.0 and due > 0.0:
            tax[k] = rate * due * p
    return tax


def phase_value(sales: float, refining: float, opex: float, fixed: float, capex: float, build_years: float,
                life_years: float, rate: float, premium: float, royalty: float, tax: float, holiday_left: float,
                depreciation_years: int, start_fraction: float, ramp_years: float, plateau: float = 1.0) -> float:
    """What building a phase now is worth to investors, at the decision (the value test of
    :mod:`sim.model.projects`): its plan ``capex`` spread over ``build_years``, then
    ``life_years`` of a year's cash at today's prices. Output ramps up linearly from
    ``start_fraction`` of design to ``plateau`` over ``ramp_years``; a year's cash is the
    ramped share of ``sales`` (at the mine gate, before royalties at ``royalty``) and of
    ``refining`` (the refinery's margin on the phase's output, for an integrated venture)
    less the ramped share of ``opex`` and the ``fixed`` costs; income tax at ``tax`` on the
    cash less straight-line depreciation, none in the first ``holiday_left`` years.
    Discounted annually at ``rate`` plus the continuously compounded ``premium``, cash at
    mid-year, capital at the build's midpoint."""
    r = math.log1p(rate) + premium  # continuously compounded
    value = -capex * math.exp(-r * 0.5 * build_years)
    written = capex / depreciation_years
    whole = math.ceil(life_years - 1e-12)
    for j in range(whole):
        part = min(1.0, life_years - j)
        share = plateau if ramp_years <= 0.0 else min(plateau, start_fraction + (1.0 - start_fraction) * (j + 0.5) / ramp_years)
        cash = share * (sales * (1.0 - royalty) + refining - opex) - fixed
        due = min(1.0, max(0.0, j + 1.0 - holiday_left))
        if due > 0.0:
            taxable = cash - (written if j < depreciation_years else 0.0)
            if taxable > 0.0:
                cash -= tax * due * taxable
        value += part * cash * math.exp(-r * (build_years + j + 0.5))
    return value


def tax_rate(spec: Project, fiscal: Fiscal) -> float:
    """The income tax rate the project pays once any holiday is over."""
    return float(fiscal.income_tax_rate if spec.income_tax_rate is None else spec.income_tax_rate)


def beyond_horizon(spec: Project, fiscal: Fiscal, first_production: float, horizon: int, sales: float,
                   costs: float) -> tuple[float, float]:
    """A year of life beyond the horizon, from a year's ``sales`` at design output and the
    horizon's prices and the ``costs`` (operating, security) of making them: the cash before
    royalties and tax (the programme's), and the project's after royalties and tax (taxed
    if the holiday is over by the horizon), each never below zero."""
    before = max(0.0, sales - costs)
    after = sales * (1.0 - float(spec.royalty_rate)) - costs
    if first_production + float(spec.tax_holiday_years) <= horizon:
        after -= tax_rate(spec, fiscal) * max(0.0, after)
    return before, max(0.0, after)


def life_left(spec: Project, first_production: float, horizon: int, ended: bool = False) -> float:
    """Years of the project's producing life left at the horizon (0 if it has no stated
    life, never produced, or ``ended`` early)."""
    if ended or spec.life_years is None or math.isnan(first_production):
        return 0.0
    return max(0.0, float(spec.life_years) - (horizon - first_production))


def extended(cash: np.ndarray, per_year: float, years: float) -> np.ndarray:
    """``cash`` followed by ``per_year`` for ``years`` more years (a part year pro rata)."""
    whole, part = int(years), years - int(years)
    tail = [per_year] * whole + ([per_year * part] if part > 1e-12 else [])
    return np.concatenate((cash, tail)) if tail else cash


def present_value(cash: np.ndarray, rate: float, premium: np.ndarray | None = None) -> float:
    """Value at time 0 of yearly cash flows at mid-year, at an annual ``rate``; ``premium``
    (integrated over each year) adds a continuously compounded spread on top."""
    t = np.arange(len(cash)) + 0.5
    factors = (1.0 + rate) ** -t
    if premium is not None and len(premium):
        factors = factors * np.exp(-(np.cumsum(premium) - 0.5 * premium))
    return float(cash @ factors)


def irr(cash: np.ndarray) -> float:
    """The rate at which ``cash`` (yearly, mid-year) is worth nothing; NaN if it never
    changes sign."""
    if not (cash.min() < 0.0 < cash.max()):
        return math.nan
    t = np.arange(len(cash)) + 0.5
    before = -t  # the exponents, made once for all the rates brentq tries

    def value(r: float) -> float:
        return float(np.dot(cash, np.power(1.0 + r, before)))

    # The lowest rate tried: -99%, or higher for a cash flow so long that (1 + r)^-t would
    # pass 1e250 and the sum overflow (from 125 years on).
    low, high = max(-0.99, 10.0 ** (-250.0 / float(t[-1])) - 1.0), 10.0
    if value(low) * value(high) > 0:
        return math.nan
    return float(brentq(value, low, high, xtol=1e-10))


def outcomes(accounts: dict[str, Accounts], lever_costs: float) -> dict[str, float]:
    """The finance outcomes (:data:`OUTCOMES`), family by family as the table holds them;
    ``lever_costs`` is what the levers cost besides the carried local equity."""
    return {STATE_TAKE.name: sum(a.state_take for a in accounts.values()),
            INVESTOR_NPV.name: sum(a.investor_npv for a in accounts.values()),
            LEVER_COST.name: lever_costs + sum(float(a.local_dividends.sum()) for a in accounts.values()),
            **{NPV_OF.of(k): a.npv for k, a in accounts.items()},
            **{INVESTOR_NPV_OF.of(k): a.investor_npv for k, a in accounts.items()},
            **{IRR_OF.of(k): a.irr for k, a in accounts.items()},
            **{STATE_TAKE_OF.of(k): a.state_take for k, a in accounts.items()},
            **{NATIONAL_VALUE_ADDED_OF.of(k): a.value_added for k, a in accounts.items()}}
