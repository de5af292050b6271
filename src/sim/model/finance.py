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
from collections.abc import Iterable, Sequence
from typing import Final

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
    """One project's finance over the horizon, year by year (each row a list of one number
    a model year), and its outcomes."""

    def __init__(self, books: Books, spec: Project, fiscal: Fiscal, first_production: float,
                 years_left: float, beyond: float, rate: float, premium: Sequence[float], local_share: float = 0.0,
                 loans: Loans | None = None):
        """``years_left`` of life beyond the horizon at ``beyond`` a year after tax (see
        :func:`beyond_horizon`); ``premium`` the risk premium integrated over each model
        year; ``loans`` the project's debt, if it borrowed."""
        self.revenue = rev = list(books.revenue)
        self.costs = costs = list(books.costs)
        self.capital = cap = list(books.capital)
        h = len(rev)
        self.drawn = drawn = list(loans.drawn) if loans is not None else [0.0] * h
        self.interest = interest = list(loans.interest) if loans is not None else [0.0] * h
        self.principal = principal = list(loans.principal) if loans is not None else [0.0] * h
        owed = loans.balance() if loans is not None else 0.0  # at the horizon
        royalty = float(spec.royalty_rate)
        self.royalties = royalties = [r * royalty for r in rev]
        operating = [rev[k] - costs[k] - royalties[k] for k in range(h)]  # cash before capital and tax
        depreciation = _depreciation(cap, int(fiscal.depreciation_years))
        rate_due = tax_rate(spec, fiscal)
        holiday_end = first_production + float(spec.tax_holiday_years) if not math.isnan(first_production) else math.inf
        # The tax paid, with interest deducted; and the tax the project would pay unlevered,
        # on which its own NPV and IRR (before financing, as a study states them) rest.
        self.tax = tax = _income_tax([operating[k] - depreciation[k] - interest[k] for k in range(h)], rate_due,
                                     holiday_end)
        untaxed = _income_tax([operating[k] - depreciation[k] for k in range(h)], rate_due, holiday_end)
        unlevered = [operating[k] - cap[k] - untaxed[k] for k in range(h)]
        self.lenders = lenders = [interest[k] + principal[k] - drawn[k] for k in range(h)]  # the lenders' net cash flow
        self.free_cash = free = [operating[k] - cap[k] - tax[k] - lenders[k] for k in range(h)]  # to the holders of equity
        held = min(1.0, float(spec.equity.federal) + float(spec.equity.provincial))
        self.state_dividends = state = [held * f for f in free]
        local = local_share * (1.0 - held)  # of the whole equity, carried
        self.local_dividends = carried = [local * max(f, 0.0) for f in free]
        self.awards = awards = list(books.awards)
        self.investor_cash = [free[k] - state[k] - carried[k] + awards[k] for k in range(h)]
        # The life left beyond the horizon, at the last year's cash flow before capital.
        flows = extended(unlevered, beyond, years_left)
        self.npv = present_value(flows, rate)
        self.irr = irr(flows)
        equity = extended(free, beyond, years_left)
        if owed > 0.0:  # what is still owed at the horizon is repaid out of the life beyond it
            equity += [0.0] * max(0, h + 1 - len(equity))
            equity[h] -= owed
        premiums = list(premium)
        premiums += [premiums[-1] if premiums else 0.0] * (len(equity) - h)
        investors = [(1.0 - held) * e - local * max(e, 0.0) for e in equity]
        for k in range(h):
            investors[k] += awards[k]
        self.investor_npv = present_value(investors, rate, premiums)
        self.state_take = sum(royalties, 0.0) + sum(tax, 0.0) + sum(state, 0.0) - sum(awards, 0.0)
        self.value_added = sum(rev, 0.0) - sum(costs, 0.0) + sum(books.added, 0.0)


def _depreciation(capital: list[float], years: int) -> list[float]:
    """Each year's depreciation: capital written off straight-line over ``years`` from the
    year after it is spent."""
    share = 1.0 / years
    out = [0.0] * len(capital)
    for k in range(1, len(capital)):
        written = 0.0
        for j in range(max(0, k - years), k):
            written += capital[j] * share
        out[k] = written
    return out


def _income_tax(profit: list[float], rate: float, holiday_end: float) -> list[float]:
    """Tax on each year's ``profit`` at ``rate``, losses carried forward without limit, none
    before ``holiday_end`` (model time) and pro rata in the year it falls."""
    tax = [0.0] * len(profit)
    losses = 0.0
    for k in range(len(profit)):
        p = profit[k] - losses
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


def extended(cash: Sequence[float], per_year: float, years: float) -> list[float]:
    """``cash`` followed by ``per_year`` for ``years`` more years (a part year pro rata)."""
    whole, part = int(years), years - int(years)
    return list(cash) + [per_year] * whole + ([per_year * part] if part > 1e-12 else [])


def present_value(cash: Sequence[float], rate: float, premium: Sequence[float] | None = None) -> float:
    """Value at time 0 of yearly cash flows at mid-year, at an annual ``rate``; ``premium``
    (integrated over each year, as long as ``cash``) adds a continuously compounded spread
    on top."""
    total = 0.0
    base = 1.0 + rate
    if premium is None or not len(premium):
        for k in range(len(cash)):
            total += cash[k] * base ** -(k + 0.5)
        return total
    spread = 0.0  # the premium integrated to the start of year k
    for k in range(len(cash)):
        p = premium[k]
        total += cash[k] * (base ** -(k + 0.5) * math.exp(-(spread + 0.5 * p)))
        spread += p
    return total


def irr(cash: Sequence[float]) -> float:
    """The rate at which ``cash`` (yearly, mid-year) is worth nothing; NaN if it never
    changes sign, holds a NaN, or has no root between the rates tried."""
    flows = list(cash)
    if any(math.isnan(c) for c in flows) or not (min(flows) < 0.0 < max(flows)):
        return math.nan
    # The lowest rate tried: -99%, or higher for a cash flow so long that (1 + r)^-t would
    # pass 1e250 and the sum overflow (from 125 years on).
    low, high = max(-0.99, 10.0 ** (-250.0 / (len(flows) - 0.5)) - 1.0), 10.0
    f_low, f_high = _worth(flows, low), _worth(flows, high)
    if (f_low < 0.0) == (f_high < 0.0) and f_low != 0.0 and f_high != 0.0:  # signs compared, not a product that may underflow
        return math.nan
    return _brent(flows, low, high, f_low, f_high)


def _worth(cash: list[float], r: float) -> float:
    """The present value of ``cash`` at mid-year at rate ``r``: Horner's scheme in the
    discount factor, one power in all."""
    d = 1.0 / (1.0 + r)
    acc = 0.0
    for k in range(len(cash) - 1, -1, -1):
        acc = acc * d + cash[k]
    return acc * math.sqrt(d)


_XTOL: Final = 1e-10
_RTOL: Final = 4.0 * 2.220446049250313e-16


def _brent(cash: list[float], xa: float, xb: float, fa: float, fb: float) -> float:
    """The root of :func:`_worth` of ``cash`` between ``xa`` and ``xb`` (where it is ``fa``
    and ``fb``, of opposite signs) by Brent's method, step for step as SciPy's ``brentq``
    takes it, to within 1e-10; NaN if 100 steps do not get there (where SciPy raises)."""
    xpre, xcur, fpre, fcur = xa, xb, fa, fb
    if fpre == 0.0:
        return xpre
    if fcur == 0.0:
        return xcur
    xblk = fblk = spre = scur = 0.0
    for _ in range(100):
        if fpre != 0.0 and fcur != 0.0 and (fpre < 0.0) != (fcur < 0.0):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (_XTOL + _RTOL * abs(xcur)) / 2.0
        sbis = (xblk - xcur) / 2.0
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # extrapolate
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2.0 * abs(stry) < min(abs(spre), 3.0 * abs(sbis) - delta):  # a good short step
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = _worth(cash, xcur)
    return math.nan


def outcomes(accounts: dict[str, Accounts], lever_costs: float) -> dict[str, float]:
    """The finance outcomes (:data:`OUTCOMES`), family by family as the table holds them;
    ``lever_costs`` is what the levers cost besides the carried local equity."""
    return {STATE_TAKE.name: sum(a.state_take for a in accounts.values()),
            INVESTOR_NPV.name: sum(a.investor_npv for a in accounts.values()),
            LEVER_COST.name: lever_costs + sum(sum(a.local_dividends, 0.0) for a in accounts.values()),
            **{NPV_OF.of(k): a.npv for k, a in accounts.items()},
            **{INVESTOR_NPV_OF.of(k): a.investor_npv for k, a in accounts.items()},
            **{IRR_OF.of(k): a.irr for k, a in accounts.items()},
            **{STATE_TAKE_OF.of(k): a.state_take for k, a in accounts.items()},
            **{NATIONAL_VALUE_ADDED_OF.of(k): a.value_added for k, a in accounts.items()}}
