"""Accounting: where output goes, what it is worth, who pays duties, and what it all adds up to.

Between two events everything is constant except output, which the projects integrate
exactly; the ledger then books the stretch in one go. For each commodity it splits output
across processing routes (see :mod:`sim.model.processing`) and values each flow on the
value ladder: concentrate sold abroad is worth the refined price times the concentrate
payable (less China's discount for the Chinese route, less a small discount elsewhere);
product refined in Pakistan is worth the refined price plus the non-Chinese premium the
current Chinese regime supports. Product bound for the United States under a price-floor
offtake is worth at least the floor. The difference between the two is *domestic value
added*: the value of the processing rungs performed in Pakistan.

U.S.-bound product pays the duty the tariff regime sets for it (the exporter bears a
share), and part of it is diverted to other markets, more the higher the duty. Each
project's books (:mod:`sim.model.finance`) get its part of the mine-gate value of what its
commodities fetched, by its share of their output, and its costs; the refinery keeps the
value it adds. The programme's cash flow (export value less capital, operating, processing
and security costs, and the exporter's share of duties) is discounted at the scenario's
rate, with the mines' life beyond the horizon as a continuing value. Flows are also added
to the current model year's row of the time series.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..scenario.schema import DAYS_PER_YEAR, ROUTES, Commodity
from .columns import Column
from .confidence import CONFIDENCE
from .finance import Books, extended, present_value
from .market import PRICE, PRICE_CHINA
from .processing import Shares, route
from .program import PHASE
from .tariffs import DUTIES_ALL_EXPORTS, TARIFF_COST

# --- the columns the ledger fills ---------------------------------------------------------

EXPORTS = Column("cumulative_export_value_usd", "USD", "Export value over the horizon, valued at the rung of the value ladder at which product left Pakistan.", better="higher", label="Cumulative export value")
VALUE_ADDED = Column("domestic_value_added_usd", "USD", "Value of the processing rungs performed in Pakistan (above mine-gate concentrate) over the horizon.", better="higher", label="Domestic value added")
VALUE_ADDED_SHARE = Column("domestic_value_added_share", "0-1", "domestic_value_added_usd / cumulative_export_value_usd; NaN if nothing was exported.", better="higher", label="Domestic value-added share", shown="% of export value", scale=0.01)
CHINA_SHARE = Column("china_processed_share", "0-1", "Share of processed output (by refined-value equivalent) that went through Chinese processing; NaN if nothing was processed.", better="lower", label="Share processed via China", shown="% of processed output", scale=0.01)
DOWNTIME = Column("downtime_days", "site-days", "Site-days of production lost to security suspensions and infrastructure outages.", better="lower", label="Downtime")
CAPEX = Column("capex_usd", "USD", "Capital spent on the mines and the domestic refinery within the horizon, overruns included (undiscounted).", label="Capital spent")
NPV = Column("npv_usd", "USD", "Net present value at the scenario's start of the programme's cash flows before royalties and tax (export value less capital, operating, processing and security costs and the exporter's share of U.S. duties), at the scenario's discount rate (no risk premium), annual with mid-year cash flows; each mine's life beyond the horizon enters as a continuing value (a year's cash at design output and the horizon's prices, after operating and security costs, for each year left; none for a closed site).", better="higher", label="Net present value", signed=True)
PEAK_EXPORTS = Column("peak_annual_export_usd", "USD/yr", "Largest export value earned in any one model year.", better="higher", label="Peak annual export value")
MINING_GDP_SHARE = Column("final_mining_gdp_share", "0-1", "Mining's share of GDP in the final year: the sector's base value added plus the programme's export value, over GDP grown at the scenario's rate.", better="higher", label="Mining share of GDP, final year", shown="% of GDP", scale=0.01)
STOCKPILE = Column("stockpile_end_value_usd", "USD", "Concentrate held unprocessed at the horizon, valued at mine-gate prices.", label="Unprocessed stockpile at horizon")
OUTPUT_OF = Column("<commodity>_output", "commodity unit", "Output of one commodity mined over the horizon (t of contained product; gold in oz).", better="higher", label="Output")
EXPORTS_OF = Column("<commodity>_exports_usd", "USD", "Export value one commodity earned over the horizon (its part of cumulative_export_value_usd).", better="higher", label="Export value")
VALUE_ADDED_OF = Column("<commodity>_domestic_value_added_usd", "USD", "Value of the processing rungs performed in Pakistan on one commodity over the horizon.", better="higher", label="Domestic value added")
VALUE_ADDED_SHARE_OF = Column("<commodity>_domestic_value_added_share", "0-1", "One commodity's domestic value added over its export value; NaN if none was exported. The rare-earth or antimony answer to the question domestic_value_added_share answers mostly for copper.", better="higher", label="Domestic value-added share", shown="% of export value", scale=0.01)
CHINA_SHARE_OF = Column("<commodity>_china_processed_share", "0-1", "Share of one commodity's processed output (by refined-value equivalent) that went through Chinese processing; NaN if none was processed.", better="lower", label="Share processed via China", shown="% of processed output", scale=0.01)
OUTCOMES: tuple[Column, ...] = (EXPORTS, VALUE_ADDED, VALUE_ADDED_SHARE, CHINA_SHARE, DOWNTIME, TARIFF_COST,
                                DUTIES_ALL_EXPORTS, CAPEX, NPV, PEAK_EXPORTS, MINING_GDP_SHARE, STOCKPILE,
                                OUTPUT_OF, EXPORTS_OF, VALUE_ADDED_OF, VALUE_ADDED_SHARE_OF, CHINA_SHARE_OF)
"""The ledger's outcomes, in table order: the programme's totals, then one column per
commodity of each family."""

YEAR = Column("year", "yr", "Model year k = 1..horizon; flows are totals over (k-1, k], states are read at k.", label="Model year", shown="years since start")
PRODUCTION = Column("production_<commodity>", "commodity unit", "Output mined in the year, per commodity (t of contained product; gold in oz).", label="Production")
YEAR_EXPORTS = Column("export_value_usd", "USD", "Export value earned in the year.", label="Export value", shown="USD bn per year", scale=1e+09)
YEAR_EXPORTS_OF = Column("export_value_<commodity>_usd", "USD", "Part of the year's export value earned by one commodity.", label="Export value", shown="USD bn per year", scale=1e+09)
YEAR_EXPORTS_US = Column("export_value_us_usd", "USD", "Part of the year's export value sold to the United States.", label="Export value to the U.S.", shown="USD bn per year", scale=1e+09)
YEAR_EXPORTS_CHINA = Column("export_value_china_usd", "USD", "Part of the year's export value sold to or through China.", label="Export value to China", shown="USD bn per year", scale=1e+09)
YEAR_EXPORTS_OTHER = Column("export_value_other_usd", "USD", "Part of the year's export value sold to other markets.", label="Export value to other markets", shown="USD bn per year", scale=1e+09)
YEAR_VALUE_ADDED = VALUE_ADDED.yearly("Value added by processing in Pakistan in the year.")
YEAR_CHINA_SHARE = CHINA_SHARE.yearly("Share of the year's processed output that went through China (NaN if nothing was processed).")
YEAR_DOWNTIME = DOWNTIME.yearly("Site-days lost in the year.")
YEAR_DUTIES_ALL_EXPORTS = DUTIES_ALL_EXPORTS.yearly("U.S. duties paid in the year on all of Pakistan's exports to the United States, minerals included.")
SERIES: tuple[Column, ...] = (
    YEAR, PHASE, PRODUCTION, YEAR_EXPORTS, YEAR_EXPORTS_OF, YEAR_EXPORTS_US, YEAR_EXPORTS_CHINA,
    YEAR_EXPORTS_OTHER, YEAR_VALUE_ADDED, YEAR_CHINA_SHARE, YEAR_DOWNTIME, CONFIDENCE,
    YEAR_DUTIES_ALL_EXPORTS, PRICE, PRICE_CHINA)
"""The ledger's yearly series, in table order: its flows, and the states of the world's core
(the programme's phase, confidence, prices) it reads at each year's end; the shocks keep
their own (:mod:`sim.model.part`)."""

# The year's totals kept while booking, besides the series of the same name.
_WEIGHTS = ("china_weight", "processed_weight", "operating_cost_usd", "capital_usd")
_FLOWS = (YEAR_EXPORTS, YEAR_EXPORTS_US, YEAR_EXPORTS_CHINA, YEAR_EXPORTS_OTHER, YEAR_VALUE_ADDED, YEAR_DOWNTIME,
          YEAR_DUTIES_ALL_EXPORTS)
_STATES = (CONFIDENCE, PHASE)

if TYPE_CHECKING:
    from .world import World

Site = tuple[Books, list[float], float, float, float]
"""One active project's stretch, as the world hands it to the ledger: its books, what it
produced per commodity (in the scenario's order, :attr:`Ledger.index`), its operating
cost, its fixed costs (security and the levers' programmes), and its capital spent."""


class Good:
    """One commodity as the ledger books it: its constants, read at every booking, and its
    running totals over the horizon (the yearly lists are those of the ledger's tables,
    the current year's entries kept aside until the year changes, :meth:`Ledger.flush`)."""

    def __init__(self, index: int, name: str, spec: Commodity, capacity: tuple[float, float, float],
                 refinable: float, production: list[float], exports: list[float]):
        self.index = index
        self.name = name
        self.payable = float(spec.concentrate_payable)
        self.premium = float(spec.non_china_premium_usd) * float(spec.china_sensitivity)
        self.floor = float(spec.us_price_floor_usd)
        self.china_cap, self.us_cap, self.other_cap = capacity  # the foreign routes' a year
        self.refinable = refinable  # what the domestic refinery takes a year at design
        self.tariff_exempt = bool(spec.us_tariff_exempt)
        self.section232 = float(spec.section232_duty)
        self.cleared = spec.market is not None  # its output feeds the ex-China market
        self.production = production
        self.exports = exports
        self.year_production = 0.0  # the current year's entries of the two
        self.year_exports = 0.0
        # Volume by route over the horizon (Ledger.routed), distress sales with ``other``.
        self.to_home = self.to_china = self.to_us = self.to_other = 0.0
        self.produced = 0.0  # in the stretch being booked
        self.stock = 0.0
        self.processed = 0.0
        self.peak_rate = 0.0
        self.added = 0.0  # value added at home
        self.china_weight = 0.0  # refined-value weight of what went through China
        self.processed_weight = 0.0  # and of all that was processed
        self.feed = 0.0  # output that reached the ex-China market since it last cleared
        # China's regime on it, as the refining part last set it (Ledger._regimes_read).
        self.china_open = 1.0
        self.china_discount = 0.0
        self.premium_share = 0.0
        # The routing shares last computed (Ledger.shares), and what for (a stretch's refinery
        # and duty, which rarely change).
        self.shares_for: tuple[bool, float] = (False, -1.0)
        self.shares: Shares = (0.0, 0.0, 0.0, 0.0)
        # This stretch's sales: mine-gate value; duties and carrying cost on it; the refinery's margin.
        self.sold = False
        self.value = 0.0
        self.cost = 0.0
        self.margin = 0.0


class Ledger:
    def __init__(self, world: World):
        self.world = world
        sc = world.scenario
        self.horizon = h = sc.horizon_years
        self.commodities = sc.commodities
        self.index = {c: i for i, c in enumerate(sc.commodities)}  # a commodity's place in a Site's output
        # Plain lists: scalar updates on them are several times cheaper than on numpy arrays.
        self.production = {c: [0.0] * h for c in sc.commodities}
        self.exports_of = {c: [0.0] * h for c in sc.commodities}
        self.year = {name: [0.0] * h for name in (*_WEIGHTS, *(c.name for c in (*_FLOWS, *_STATES)))}
        self.prices = {c: [0.0] * h for c in sc.commodities}
        # China's domestic price beside the ex-China one, where they differ: for a commodity
        # with a cleared market, or a controlled one with a set non-Chinese premium.
        controlled = {c for grp in sc.shocks.refining.groups.values() for c in grp.commodities}
        self.china_prices = {c: [0.0] * h for c, s in sc.commodities.items() if s.market is not None
                             or (c in controlled and float(s.non_china_premium_usd) * float(s.china_sensitivity) > 0)}
        self.total_exports = 0.0
        self.total_added = 0.0
        self.china_weight = 0.0
        self.processed_weight = 0.0
        self.tariff_cost = 0.0
        self.all_duties = 0.0
        self.us_exports = 0.0
        self.capital = 0.0
        self.refinery_revenue = 0.0  # the value the refinery adds, price support on refined product included
        self.lever_cost = 0.0  # what the levers cost, whoever pays (see finance.LEVER_COST)
        self.books = {key: Books(h, sc.commodities) for key in sc.projects}
        self.downtime_days = 0.0
        # Recent bookings (start, end, export value), for the sustained export run-rate.
        self._window: list[tuple[float, float, float]] = []  # those before _window_from have left it
        self._window_from = 0
        self._window_years = max(1.0, float(sc.program.phase3.sustain_years))
        p = sc.processing
        self._routing = {c: {r: float(getattr(s, r)) for r in ROUTES} for c, s in p.routing.items()}
        self._foreign = {r: {c: float(q) for c, q in caps.items()} for r, caps in p.foreign_capacity.items()}
        lv = sc.levers
        self._mandate = float(lv.processing_mandate)
        self._refinable = {c: float(q) for c, q in p.refinery.capacity.items()}
        self._hold_years = float(lv.stockpile_months) / 12.0
        self._distress = float(lv.distress_discount)
        self._carry = float(lv.costs.stockpile_carrying_per_year)
        self._dom_us = float(p.domestic_sales_us_share)
        self._other_discount = float(p.other_discount)
        self.rate = float(sc.discount_rate)
        self._processing_cost = float(p.refinery.processing_cost_share)
        self._refinery_takes = bool(self._refinable)  # once built, the refinery takes some commodity
        abroad = tuple(self._foreign.get(r, {}) for r in ("china", "us", "other"))
        self.goods = [Good(i, c, s, (abroad[0].get(c, 0.0), abroad[1].get(c, 0.0), abroad[2].get(c, 0.0)),
                           self._refinable.get(c, 0.0), self.production[c], self.exports_of[c])
                      for i, (c, s) in enumerate(sc.commodities.items())]
        # The current model year's index (of the yearly lists) and its flows so far, written
        # to the lists when the year changes (flush).
        self._k = 0
        self._exports_us = self._exports_china = self._exports_other = self._exports = 0.0
        self._added = self._china_weight = self._processed_weight = self._downtime = 0.0
        self._duties = self._operating = self._capital = 0.0
        self._regimes_read = -1  # the refining part's version the goods hold
        # The yearly lists those flows go to.
        y = self.year
        self._to_rows = (y[YEAR_EXPORTS_US.name], y[YEAR_EXPORTS_CHINA.name], y[YEAR_EXPORTS_OTHER.name],
                         y[YEAR_EXPORTS.name], y[YEAR_VALUE_ADDED.name], y["china_weight"], y["processed_weight"],
                         y[YEAR_DOWNTIME.name], y[YEAR_DUTIES_ALL_EXPORTS.name], y["operating_cost_usd"],
                         y["capital_usd"])
        # The commodities with a cleared market, whose output reaching the ex-China market
        # the market reads as Pakistan's supply.
        self._fed = [g for g in self.goods if g.cleared]
        t = sc.shocks.tariff
        self._incidence = float(t.exporter_incidence)
        self._diversion = float(t.diversion_per_unit_rate)

    def _index(self, t: float) -> int:
        return min(self.horizon - 1, max(0, int(t)))

    def shares(self, commodity: str, refinery_runs: bool, duty: float) -> Shares:
        """Routing shares for a stretch, in ROUTES order: the refinery's share goes abroad
        until it runs; duty diverts part of the U.S. share to other markets."""
        s = self._compute_shares(commodity, refinery_runs, duty)
        return s["domestic"], s["china"], s["us"], s["other"]

    def _compute_shares(self, commodity: str, refinery_runs: bool, duty: float) -> dict[str, float]:
        s = dict(self._routing[commodity])
        if not refinery_runs and s["domestic"] > 0.0:
            foreign = s["china"] + s["us"] + s["other"]
            if foreign > 0.0:
                scale = 1.0 + s["domestic"] / foreign
                for r in ("china", "us", "other"):
                    s[r] *= scale
                s["domestic"] = 0.0
        if duty > 0.0 and s["us"] > 0.0:
            moved = s["us"] * self.diverted(duty)
            s["us"] -= moved
            s["other"] += moved
        total = sum(s.values())
        return {r: v / total for r, v in s.items()} if total > 0 else s

    @staticmethod
    def _mandated(shares: Shares, target: float) -> Shares:
        """Raise the domestic share (the first) to ``target``, scaling the foreign shares down."""
        home, china, us, other = shares
        if target <= home:
            return shares
        rest = 1.0 - home
        if rest <= 0:
            return target, 0.0, 0.0, 0.0
        return target, china * (1.0 - target) / rest, us * (1.0 - target) / rest, other * (1.0 - target) / rest

    def refining_margin(self, outputs: tuple[tuple[str, float], ...]) -> float:
        """A year's margin the domestic refinery would make at today's prices on the part of
        ``outputs`` (commodity, quantity a year) it would take: the routing's domestic share
        (or the processing mandate's, if higher), up to its capacity; the value it adds less
        its processing cost."""
        if not self.world.scenario.processing.refinery.enabled:
            return 0.0
        w = self.world
        margin = 0.0
        for c, q in outputs:
            capacity = self._refinable.get(c, 0.0)
            if capacity <= 0.0 or q <= 0.0:
                continue
            spec = self.commodities[c]
            ex_china = w.market.ex_china[c]
            premium = float(spec.non_china_premium_usd) * float(spec.china_sensitivity)
            added = ex_china + premium * w.refining.premium_share[c] - ex_china * float(spec.concentrate_payable)
            taken = min(capacity, max(self._routing[c]["domestic"], self._mandate) * q)
            margin += taken * added * (1.0 - self._processing_cost)
        return margin

    def diverted(self, duty: float) -> float:
        """Share of U.S.-bound product diverted elsewhere at a duty rate: k d / (1 + k d).
        It saturates, so the duty paid on what still goes to the U.S. rises with the rate."""
        x = self._diversion * duty
        return x / (1.0 + x)

    def book(self, a: float, b: float, sites: list[Site], refinery_built: bool, refinery_years: float,
             refinery_capital: float, downtime_years: float, lever_costs: float = 0.0,
             refinery_running: bool = False) -> None:
        """Book the stretch [a, b]: ``sites`` holds each active project's books, what it
        produced per commodity, its operating cost, its fixed costs (security, programmes)
        and its capital spent; ``refinery_years`` the years of design throughput the domestic
        refinery had over it, once built; ``lever_costs`` what the levers cost over it,
        whoever pays (the stockpile's carrying cost is added here)."""
        w = self.world
        dt = b - a
        k = self._index(a)
        if k != self._k:
            self._new_year(k)
        goods = self.goods
        for g in goods:
            g.produced = 0.0
        operating_costs, capital_costs = 0.0, refinery_capital
        for _books, made, opex, security, spent in sites:
            for i, q in enumerate(made):
                goods[i].produced += q
            operating_costs += opex + security
            capital_costs += spent
        carrying = 0.0
        regime = w.refining
        if regime.version != self._regimes_read:
            self._regimes_read = regime.version
            for g in goods:
                g.china_open = regime.china_open[g.name]
                g.china_discount = regime.china_discount[g.name]
                g.premium_share = regime.premium_share[g.name]
        refinery_runs = refinery_built and self._refinery_takes
        prices, outside = w.market.price, w.market.ex_china
        tariff = w.tariff
        tariff_on, tariff_rate, exemption = tariff.enabled, tariff.rate, tariff.exemption_active
        mandate, hold_years, incidence = self._mandate, self._hold_years, self._incidence
        other_kept, distress_kept = 1.0 - self._other_discount, 1.0 - self._distress
        exports = added = duties = us_value = china_value = other_value = refined_revenue = 0.0
        china_weight = processed_weight = 0.0
        for g in goods:
            g.sold = False
            q = g.produced
            stock = g.stock
            if q <= 0.0 and stock <= 0.0:
                continue
            c = g.name
            g.year_production += q
            price = prices[c]  # China's price; the same outside China unless a market clears
            ex_china = outside[c]
            # The duty U.S.-bound product faces (TariffRun.rate_for, on the good's constants).
            duty = ((0.0 if g.tariff_exempt and exemption else tariff_rate) + g.section232) if tariff_on else 0.0
            if g.shares_for != (refinery_runs, duty):
                g.shares_for, g.shares = (refinery_runs, duty), self.shares(c, refinery_runs, duty)
            shares = g.shares
            home_cap = g.refinable * refinery_years if refinery_built else 0.0
            if refinery_running and mandate > shares[0] and q > 0.0:
                shares = self._mandated(shares, min(mandate, home_cap / q))
            f_home, f_china, f_us, f_other, stock = route(
                q, stock, shares, (home_cap, g.china_cap * dt * g.china_open, g.us_cap * dt, g.other_cap * dt))
            # What cannot be held (beyond the stockpile's months of peak output) is sold at a
            # distress discount to whoever takes it.
            if dt > 0.01 and q / dt > g.peak_rate:
                g.peak_rate = q / dt
            excess = stock - g.peak_rate * hold_years
            distressed = 0.0
            if excess > 0.0:
                stock -= excess
                f_other += excess
                distressed = excess
            g.stock = stock
            processed = f_home + f_china + f_us + f_other
            g.processed += processed
            g.to_home += f_home
            g.to_china += f_china
            g.to_us += f_us
            g.to_other += f_other
            if g.cleared:
                g.feed += f_home + f_us + f_other
            payable = g.payable
            concentrate = ex_china * payable
            v_china = f_china * price * payable * (1.0 - g.china_discount)
            v_us = f_us * concentrate
            v_other = (f_other - distressed) * concentrate * other_kept + distressed * concentrate * distress_kept
            refined = ex_china + g.premium * g.premium_share
            v_home = f_home * refined
            home_us = v_home * self._dom_us * (1.0 - self.diverted(duty)) if v_home else 0.0
            # A price-floor offtake tops up U.S.-bound product to the floor: a price support,
            # not processing in Pakistan, and paid on top of the dutiable market value.
            floor = g.floor
            support = f_us * max(0.0, floor - ex_china) * payable
            refined_support = home_us / refined * max(0.0, floor - refined) if refined > 0.0 else 0.0
            us_value += v_us + home_us + support + refined_support
            china_value += v_china
            other_value += v_other + v_home - home_us
            duties += (v_us + home_us) * duty
            exported = v_china + v_us + v_other + v_home + support + refined_support
            g.year_exports += exported
            exports += exported
            home_added = v_home - f_home * concentrate
            # The mines sell concentrate (to the refinery at its mine-gate value); the
            # refinery keeps the value it adds.
            held = stock * concentrate * self._carry * dt
            carrying += held
            g.sold = True
            g.value = v_china + v_us + v_other + f_home * concentrate + support
            g.cost = incidence * v_us * duty + held
            g.margin = home_added * (1.0 - self._processing_cost)
            refined_revenue += home_added + refined_support
            added += home_added
            g.added += home_added
            china_weight += f_china * price
            g.china_weight += f_china * price
            processed_weight += processed * price
            g.processed_weight += processed * price
        downtime_days = downtime_years * DAYS_PER_YEAR
        self._exports_us += us_value
        self._exports_china += china_value
        self._exports_other += other_value
        self._exports += exports
        self._added += added
        self._china_weight += china_weight
        self._processed_weight += processed_weight
        self._downtime += downtime_days
        self.china_weight += china_weight
        self.processed_weight += processed_weight
        self.downtime_days += downtime_days
        self.total_exports += exports
        self.total_added += added
        self.tariff_cost += duties
        all_duties = duties + tariff.goods_duties(a, b)
        self.all_duties += all_duties
        self._duties += all_duties
        self.us_exports += us_value
        self.capital += capital_costs
        self.refinery_revenue += refined_revenue
        operating = operating_costs + incidence * duties + self._processing_cost * added + carrying
        self.lever_cost += lever_costs + carrying
        self._operating += operating
        self._capital += capital_costs
        window, first = self._window, self._window_from
        window.append((a, b, exports))
        while first < len(window) and window[first][1] <= b - self._window_years:
            first += 1
        if first > 256:  # drop what has left the window now and then
            del window[:first]
            first = 0
        self._window_from = first
        self._to_projects(sites)

    def _to_projects(self, sites: list[Site]) -> None:
        """Each project's part of the current year's rows: its costs and capital, and of each
        commodity's mine-gate value, its costs (the exporter's duties, the stock's carrying
        cost) and the refinery's margin on it, its share of the stretch's output (of all
        output so far, when only stock was sold or held)."""
        goods = self.goods
        for books, made, opex, security, spent in sites:
            books.year_costs += opex + security
            books.year_capital += spent
            for i, q in enumerate(made):
                if q <= 0.0:
                    continue
                books.made[i] += q
                g = goods[i]
                share = q / g.produced  # its output was sold (or held) in book
                books.year_revenue += share * g.value
                books.year_costs += share * g.cost
                books.year_added += share * g.margin
        for g in goods:
            if not g.sold:
                continue
            i, value, cost, margin = g.index, g.value, g.cost, g.margin
            if g.produced > 0.0 or (value == 0.0 and cost == 0.0 and margin == 0.0):
                continue
            ever = sum(books.made[i] for books in self.books.values())
            for books in self.books.values():
                if books.made[i] > 0.0:
                    books.year_revenue += books.made[i] / ever * value
                    books.year_costs += books.made[i] / ever * cost
                    books.year_added += books.made[i] / ever * margin

    def _new_year(self, k: int) -> None:
        """Write the current year's flows to the yearly lists and start year ``k``'s."""
        self.flush()
        self._k = k
        self._exports_us = self._exports_china = self._exports_other = self._exports = 0.0
        self._added = self._china_weight = self._processed_weight = self._downtime = 0.0
        self._duties = self._operating = self._capital = 0.0
        for g in self.goods:
            g.year_production = g.year_exports = 0.0
        for books in self.books.values():
            books.year_revenue = books.year_costs = books.year_capital = books.year_added = 0.0

    def flush(self) -> None:
        """Write the current year's flows so far to the yearly lists (and each project's
        books): before anything reads them, and at the end of the run."""
        k = self._k
        us, china, other, exports, added, china_weight, processed_weight, downtime, duties, operating, capital = self._to_rows
        us[k] = self._exports_us
        china[k] = self._exports_china
        other[k] = self._exports_other
        exports[k] = self._exports
        added[k] = self._added
        china_weight[k] = self._china_weight
        processed_weight[k] = self._processed_weight
        downtime[k] = self._downtime
        duties[k] = self._duties
        operating[k] = self._operating
        capital[k] = self._capital
        for g in self.goods:
            g.production[k] = g.year_production
            g.exports[k] = g.year_exports
        for books in self.books.values():
            books.revenue[k] = books.year_revenue
            books.costs[k] = books.year_costs
            books.capital[k] = books.year_capital
            books.added[k] = books.year_added

    def take_feed(self, years: float) -> dict[str, float]:
        """Pakistan's output that reached the ex-China market per year over the last
        ``years``, per commodity with a cleared market; the count starts again."""
        rates = {g.name: g.feed / years if years > 0 else 0.0 for g in self._fed}
        for g in self._fed:
            g.feed = 0.0
        return rates

    @property
    def routed(self) -> dict[str, list[float]]:
        """Volume of each commodity over the horizon by route (ROUTES order), distress sales
        counted with ``other``."""
        return {g.name: [g.to_home, g.to_china, g.to_us, g.to_other] for g in self.goods}

    @property
    def stock(self) -> dict[str, float]:
        """Concentrate held unprocessed now, per commodity."""
        return {g.name: g.stock for g in self.goods}

    @property
    def processed(self) -> dict[str, float]:
        """Volume processed so far, per commodity (distress sales included)."""
        return {g.name: g.processed for g in self.goods}

    def exports_over(self, years: float) -> float:
        """Export value booked over the last ``years`` (up to the last booking)."""
        window, first = self._window, self._window_from
        if first >= len(window):
            return 0.0
        end = window[-1][1]
        start = end - years
        total = 0.0
        for j in range(first, len(window)):
            a, b, value = window[j]
            if b > start and b > a:
                total += value * (b - max(a, start)) / (b - a)
        return total

    def close_year(self, k: int) -> None:
        """Record the states read at the end of model year ``k`` (1-based)."""
        w, y, i = self.world, self.year, k - 1
        y[CONFIDENCE.name][i] = w.confidence.level(w.now)
        premium_shares = w.refining.premium_share
        for g in self.goods:
            c = g.name
            self.prices[c][i] = w.market.ex_china[c] + g.premium * premium_shares[c]
            if c in self.china_prices:
                self.china_prices[c][i] = w.market.price[c]
        y[PHASE.name][i] = w.program.phase

    def series(self) -> dict[str, np.ndarray]:
        """The yearly series (:data:`SERIES`), one array of ``horizon`` values each."""
        y = {name: np.asarray(v) for name, v in self.year.items()}
        with np.errstate(invalid="ignore", divide="ignore"):
            china = np.where(y["processed_weight"] > 0, y["china_weight"] / y["processed_weight"], np.nan)
        families = {PRODUCTION: self.production, YEAR_EXPORTS_OF: self.exports_of, PRICE: self.prices,
                    PRICE_CHINA: self.china_prices}
        out: dict[str, np.ndarray] = {}
        for column in SERIES:
            if column is YEAR:
                continue  # the table's writer numbers the years
            if column in families:
                out.update({column.of(c): np.asarray(v) for c, v in families[column].items()})
            elif column is YEAR_CHINA_SHARE:
                out[column.name] = china
            elif column is PHASE:
                out[column.name] = y[column.name].astype(np.int8)
            else:
                out[column.name] = y[column.name]
        return out

    def npv(self, beyond: dict[str, tuple[float, float]]) -> float:
        """The programme's NPV (:data:`NPV`): its yearly cash flow at the scenario's rate,
        and each mine's (cash a year, years) for the life it has left beyond the horizon."""
        y, h = self.year, self.horizon
        exports, costs, capital = y[YEAR_EXPORTS.name], y["operating_cost_usd"], y["capital_usd"]
        flows = [exports[k] - costs[k] - capital[k] for k in range(h)]
        for per_year, years in beyond.values():
            tail = extended([], per_year, years)
            flows += [0.0] * max(0, h + len(tail) - len(flows))
            for j in range(len(tail)):
                flows[h + j] += tail[j]
        return present_value(flows, self.rate)

    def outcomes(self, beyond: dict[str, tuple[float, float]]) -> dict[str, float]:
        """The ledger's outcomes over the horizon (:data:`OUTCOMES`), given each project's
        cash a year before royalties and tax and the years of life it has left beyond it."""
        exports, econ = self.total_exports, self.world.scenario.economy
        yearly = self.year[YEAR_EXPORTS.name]
        gdp_end = float(econ.gdp_usd) * (1.0 + float(econ.gdp_growth_per_year)) ** self.horizon
        base_share = float(econ.mining_value_added_usd) / float(econ.gdp_usd)
        # The programme's value added in the final year: its export value less its operating
        # costs (a lower bound: wages count as costs); the rest of mining keeps its share.
        programme = max(0.0, yearly[-1] - self.year["operating_cost_usd"][-1])
        return {
            EXPORTS.name: exports,
            VALUE_ADDED.name: self.total_added,
            VALUE_ADDED_SHARE.name: _share(self.total_added, exports),
            CHINA_SHARE.name: _share(self.china_weight, self.processed_weight),
            DOWNTIME.name: self.downtime_days,
            TARIFF_COST.name: self.tariff_cost,
            DUTIES_ALL_EXPORTS.name: self.all_duties,
            CAPEX.name: self.capital,
            NPV.name: self.npv(beyond),
            PEAK_EXPORTS.name: max(yearly, default=0.0),
            MINING_GDP_SHARE.name: base_share + programme / gdp_end,
            STOCKPILE.name: self.stock_value(),
            **{OUTPUT_OF.of(c): sum(v) for c, v in self.production.items()},
            **{EXPORTS_OF.of(c): sum(v) for c, v in self.exports_of.items()},
            **{VALUE_ADDED_OF.of(g.name): g.added for g in self.goods},
            **{VALUE_ADDED_SHARE_OF.of(g.name): _share(g.added, sum(g.exports)) for g in self.goods},
            **{CHINA_SHARE_OF.of(g.name): _share(g.china_weight, g.processed_weight) for g in self.goods},
        }

    def stock_value(self) -> float:
        return sum(g.stock * self.world.market.price[g.name] * g.payable for g in self.goods)


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else math.nan
