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
share), and part of it is diverted to other markets, more the higher the duty. Cash flow
(revenue less capex, opex, processing and security costs, and the exporter's share of
duties) is discounted at the base rate plus the risk premium investor confidence implies.
Flows are also added to the current model year's row of the time series.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from ..schema import DAYS_PER_YEAR, ROUTES
from .processing import route

if TYPE_CHECKING:
    from .world import World



class Ledger:
    def __init__(self, world: World):
        self.world = world
        sc = world.scenario
        self.horizon = h = sc.horizon_years
        self.commodities = sc.commodities
        self.stock = dict.fromkeys(sc.commodities, 0.0)
        self.processed = dict.fromkeys(sc.commodities, 0.0)
        # Plain lists: scalar updates on them are several times cheaper than on numpy arrays.
        self.production = {c: [0.0] * h for c in sc.commodities}
        self.exports_of = {c: [0.0] * h for c in sc.commodities}
        # Volume of each commodity over the horizon by route (ROUTES order), distress sales
        # counted with ``other``.
        self.routed = {c: [0.0, 0.0, 0.0, 0.0] for c in sc.commodities}
        self.year = {name: [0.0] * h for name in (
            "export_value_usd", "export_value_us_usd", "export_value_china_usd",
            "export_value_other_usd", "domestic_value_added_usd", "china_weight",
            "processed_weight", "incidents", "downtime_days", "confidence", "us_tariff_rate",
            "phase", "operating_cost_usd", "us_duties_all_exports_usd")}
        self.regimes = {g: [0] * h for g in sc.shocks.refining.groups}
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
        self.npv = 0.0
        self.downtime_days = 0.0
        # Recent bookings (start, end, export value), for the sustained export run-rate.
        self._window: deque[tuple[float, float, float]] = deque()
        self._window_years = max(1.0, float(sc.program.phase3.sustain_years))
        self._log_discount = 0.0
        p = sc.processing
        self._routing = {c: {r: float(getattr(s, r)) for r in ROUTES} for c, s in p.routing.items()}
        self._foreign = {r: {c: float(q) for c, q in caps.items()} for r, caps in p.foreign_capacity.items()}
        self._shares: dict[tuple[str, bool, float], dict[str, float]] = {}
        lv = sc.levers
        self._mandate = float(lv.processing_mandate)
        self._refinable = {c: float(q) for c, q in p.refinery.capacity.items()}
        self._hold_years = float(lv.stockpile_months) / 12.0
        self._distress = float(lv.distress_discount)
        self._peak_rate = dict.fromkeys(sc.commodities, 0.0)
        self._dom_us = float(p.domestic_sales_us_share)
        self._other_discount = float(p.other_discount)
        self._processing_cost = float(p.refinery.processing_cost_share)
        # Output of each commodity with a cleared market that reached the ex-China market
        # since the market last cleared (the market reads it as Pakistan's supply).
        self._feed = {c: 0.0 for c, s in sc.commodities.items() if s.market is not None}
        self._goods = [
            (c, s, float(s.concentrate_payable),
             float(s.non_china_premium_usd) * float(s.china_sensitivity),
             float(s.us_price_floor_usd),
             self._foreign.get("china", {}).get(c, 0.0), self._foreign.get("us", {}).get(c, 0.0),
             self._foreign.get("other", {}).get(c, 0.0))
            for c, s in sc.commodities.items()]
        t = sc.shocks.tariff
        self._incidence = float(t.exporter_incidence)
        self._diversion = float(t.diversion_per_unit_rate)

    def _index(self, t: float) -> int:
        return min(self.horizon - 1, max(0, int(t)))

    def shares(self, commodity: str, refinery_runs: bool, duty: float) -> tuple[float, ...]:
        """Routing shares for a stretch, in ROUTES order: the refinery's share goes abroad
        until it runs; duty diverts part of the U.S. share to other markets."""
        memo = (commodity, refinery_runs, duty)
        found = self._shares.get(memo)
        if found is None:
            computed = self._compute_shares(commodity, refinery_runs, duty)
            found = self._shares[memo] = tuple(computed[r] for r in ROUTES)
        return found

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
    def _mandated(shares: tuple[float, ...], target: float) -> tuple[float, ...]:
        """Raise the domestic share (the first) to ``target``, scaling the foreign shares down."""
        if target <= shares[0]:
            return shares
        rest = 1.0 - shares[0]
        return (target, *((v * (1.0 - target) / rest if rest > 0 else 0.0) for v in shares[1:]))

    def diverted(self, duty: float) -> float:
        """Share of U.S.-bound product diverted elsewhere at a duty rate: k d / (1 + k d).
        It saturates, so the duty paid on what still goes to the U.S. rises with the rate."""
        x = self._diversion * duty
        return x / (1.0 + x)

    def incident(self) -> None:
        self.year["incidents"][self._index(self.world.env.now)] += 1

    def book(self, a: float, b: float, produced: dict[str, float], refinery_capacity: dict[str, float],
             operating_costs: float, capital_costs: float, downtime_years: float,
             discount_rate: float, refinery_running: bool = False) -> None:
        w = self.world
        dt = b - a
        k = self._index(a)
        y = self.year
        regime = w.refining
        china_open, china_discounts, premium_shares = regime.china_open, regime.china_discount, regime.premium_share
        refinery_runs = bool(refinery_capacity)
        prices, outside = w.market.price, w.market.ex_china
        feed = self._feed
        rate_for = w.tariff.rate_for
        stocks, peak_rate = self.stock, self._peak_rate
        exports = added = duties = us_value = china_value = other_value = 0.0
        china_weight = processed_weight = 0.0
        for c, spec, payable, premium, floor, china_cap, us_cap, other_cap in self._goods:
            q = produced.get(c, 0.0)
            stock = stocks[c]
            if q <= 0.0 and stock <= 0.0:
                continue
            self.production[c][k] += q
            price = prices[c]  # China's price; the same outside China unless a market clears
            ex_china = outside[c]
            duty = rate_for(spec)
            shares = self.shares(c, refinery_runs, duty)
            capacity = (refinery_capacity.get(c, 0.0), china_cap * dt * china_open[c], us_cap * dt, other_cap * dt)
            if refinery_running and self._mandate > shares[0] and q > 0.0:
                shares = self._mandated(shares, min(self._mandate, capacity[0] / q))
            f_home, f_china, f_us, f_other, stock = route(q, stock, shares, capacity)
            # What cannot be held (beyond the stockpile's months of peak output) is sold at a
            # distress discount to whoever takes it.
            if dt > 0.01 and q / dt > peak_rate[c]:
                peak_rate[c] = q / dt
            excess = stock - peak_rate[c] * self._hold_years
            distressed = 0.0
            if excess > 0.0:
                stock -= excess
                f_other += excess
                distressed = excess
            stocks[c] = stock
            processed = f_home + f_china + f_us + f_other
            self.processed[c] += processed
            routed = self.routed[c]
            routed[0] += f_home
            routed[1] += f_china
            routed[2] += f_us
            routed[3] += f_other
            if c in feed:
                feed[c] += f_home + f_us + f_other
            concentrate = ex_china * payable
            v_china = f_china * price * payable * (1.0 - china_discounts[c])
            v_us = f_us * concentrate
            v_other = ((f_other - distressed) * concentrate * (1.0 - self._other_discount)
                       + distressed * concentrate * (1.0 - self._distress))
            refined = ex_china + premium * premium_shares[c]
            v_home = f_home * refined
            home_us = v_home * self._dom_us * (1.0 - self.diverted(duty)) if v_home else 0.0
            # A price-floor offtake tops up U.S.-bound product to the floor: a price support,
            # not processing in Pakistan, and paid on top of the dutiable market value.
            support = f_us * max(0.0, floor - ex_china) * payable
            if refined > 0.0:
                support += home_us / refined * max(0.0, floor - refined)
            us_value += v_us + home_us + support
            china_value += v_china
            other_value += v_other + v_home - home_us
            duties += (v_us + home_us) * duty
            exported = v_china + v_us + v_other + v_home + support
            self.exports_of[c][k] += exported
            exports += exported
            added += v_home - f_home * concentrate
            china_weight += f_china * price
            processed_weight += processed * price
        y["export_value_us_usd"][k] += us_value
        y["export_value_china_usd"][k] += china_value
        y["export_value_other_usd"][k] += other_value
        y["export_value_usd"][k] += exports
        y["domestic_value_added_usd"][k] += added
        y["china_weight"][k] += china_weight
        y["processed_weight"][k] += processed_weight
        y["downtime_days"][k] += downtime_years * DAYS_PER_YEAR
        self.china_weight += china_weight
        self.processed_weight += processed_weight
        self.downtime_days += downtime_years * DAYS_PER_YEAR
        self.total_exports += exports
        self.total_added += added
        self.tariff_cost += duties
        all_duties = duties + w.tariff.goods_duties(a, b)
        self.all_duties += all_duties
        y["us_duties_all_exports_usd"][k] += all_duties
        self.us_exports += us_value
        self.capital += capital_costs
        operating = operating_costs + self._incidence * duties + self._processing_cost * added
        y["operating_cost_usd"][k] += operating
        self._window.append((a, b, exports))
        while self._window and self._window[0][1] <= b - self._window_years:
            self._window.popleft()
        cash = exports - operating - capital_costs
        self.npv += cash * math.exp(-(self._log_discount + 0.5 * discount_rate * dt))
        self._log_discount += discount_rate * dt

    def take_feed(self, years: float) -> dict[str, float]:
        """Pakistan's output that reached the ex-China market per year over the last
        ``years``, per commodity with a cleared market; the count starts again."""
        rates = {c: q / years for c, q in self._feed.items()} if years > 0 else dict.fromkeys(self._feed, 0.0)
        for c in self._feed:
            self._feed[c] = 0.0
        return rates

    def exports_over(self, years: float) -> float:
        """Export value booked over the last ``years`` (up to the last booking)."""
        if not self._window:
            return 0.0
        end = self._window[-1][1]
        start = end - years
        total = 0.0
        for a, b, value in self._window:
            if b > start and b > a:
                total += value * (b - max(a, start)) / (b - a)
        return total

    def close_year(self, k: int) -> None:
        """Record the states read at the end of model year ``k`` (1-based)."""
        w, i = self.world, k - 1
        self.year["confidence"][i] = w.confidence.level(w.env.now)
        self.year["us_tariff_rate"][i] = w.tariff.rate if w.tariff.enabled else 0.0
        for g, level in w.refining.level.items():
            self.regimes[g][i] = level
        premium_shares = w.refining.premium_share
        for c, _spec, _payable, premium, *_ in self._goods:
            self.prices[c][i] = w.market.ex_china[c] + premium * premium_shares[c]
            if c in self.china_prices:
                self.china_prices[c][i] = w.market.price[c]
        self.year["phase"][i] = w.program.phase

    def series(self) -> dict[str, np.ndarray]:
        y = {name: np.asarray(v) for name, v in self.year.items()}
        with np.errstate(invalid="ignore", divide="ignore"):
            china = np.where(y["processed_weight"] > 0, y["china_weight"] / y["processed_weight"], np.nan)
        out = {"phase": y["phase"].astype(np.int8)}
        out.update({f"production_{c}": np.asarray(v) for c, v in self.production.items()})
        out.update({f"export_value_{c}_usd": np.asarray(v) for c, v in self.exports_of.items()})
        for name in ("export_value_usd", "export_value_us_usd", "export_value_china_usd",
                     "export_value_other_usd", "domestic_value_added_usd"):
            out[name] = y[name]
        out["china_processed_share"] = china
        out["incidents"] = y["incidents"].astype(np.int32)
        out["downtime_days"] = y["downtime_days"]
        out["confidence"] = y["confidence"]
        out["us_tariff_rate"] = y["us_tariff_rate"]
        out["us_duties_all_exports_usd"] = y["us_duties_all_exports_usd"]
        for g, levels in self.regimes.items():
            out[f"china_regime_{g}"] = np.asarray(levels, dtype=np.int8)
        out.update({f"price_{c}_usd": np.asarray(v) for c, v in self.prices.items()})
        out.update({f"price_china_{c}_usd": np.asarray(v) for c, v in self.china_prices.items()})
        out.update({f"attacks_{p}": np.asarray(v, dtype=np.int32) for p, v in self.world.security.attacks.items()})
        return out

    def stock_value(self) -> float:
        return sum(self.stock[c] * self.world.market.price[c] * float(s.concentrate_payable)
                   for c, s in self.commodities.items())

