"""The scenario schema: every input of the model, with its unit and its bounds.

A scenario file is validated once, at the boundary, into these frozen pydantic models;
the engine never sees raw YAML. Most numeric fields are a :data:`Num`: a plain number or a
distribution (see :mod:`sim.scenario.distributions`) sampled once per replication; a few, such as
how long one incident stops a site, are :data:`PerEvent`: drawn anew at every event.
Structural numbers (the horizon, a ramp-up class, the price step) are plain numbers. Each field
declares its unit and its admissible range with :func:`param`; the range applies to a plain
number and to the whole support of a distribution. Unknown keys are errors, not warnings.

Checks that involve more than one field (routing shares summing to one, a project naming a
commodity that exists, a schedule date inside the horizon) live in
:meth:`Scenario.cross_check`, so there is one place to read them.

The numbers themselves are not here: they live in ``scenarios/baseline.yaml``, each with
its source or marked as an assumption, and every other scenario extends that file.
"""

from __future__ import annotations

import functools
import math
import re
import types
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from .distributions import Dist, dump_number, parse_number

Num = Annotated[
    float | Dist,
    PlainValidator(parse_number),
    PlainSerializer(dump_number),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "object"}]}),
]
"""A number, or a distribution sampled once per replication."""



class _DrawnPerEvent:
    """Marks a number the model draws afresh at every event it applies to."""


PER_EVENT = _DrawnPerEvent()

PerEvent = Annotated[
    float | Dist,
    PlainValidator(parse_number),
    PlainSerializer(dump_number),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "object"}]}),
    PER_EVENT,
]
"""A number, or a distribution drawn anew at each event (each incident, each outage)."""

DAYS_PER_YEAR = 365.25
"""Days in a model year (a Julian year), for dates and for durations given in days."""

DATE_FORMAT = "write a date as YYYY-MM-DD, e.g. 2025-10-02"

WHEN_YEARS = 1000.0
"""A time given as a number of model years lies within this many years of the start date."""

FIRST_START, LAST_START = date(1900, 1, 1), date(2200, 12, 31)
"""The range of start dates: every date of a 100-year horizon then exists in the calendar."""


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _mean(x: float | Dist) -> float:
    """A number's value, or a distribution's mean."""
    return x.mean() if isinstance(x, Dist) else float(x)


def _calendar_date(raw: Any) -> date:
    """A date from YAML (which reads ``2025-10-02`` as a date), or ValueError saying how
    to write one."""
    if isinstance(raw, datetime):
        if raw.time() != datetime.min.time() or raw.tzinfo is not None:
            raise ValueError(f"a date has no time of day: {DATE_FORMAT}")
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and _ISO_DATE.fullmatch(raw.strip()):  # as JSON holds it (a manifest)
        try:
            return date.fromisoformat(raw.strip())
        except ValueError as exc:
            raise ValueError(f"not a date in the calendar ({exc})") from None
    raise ValueError(f"not a date: {DATE_FORMAT}")


def _parse_when(raw: Any) -> date | float:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        try:
            years = float(raw)
        except OverflowError:
            years = math.inf
        if not -WHEN_YEARS <= years <= WHEN_YEARS:  # NaN fails too
            raise ValueError(f"a number here is model years since start_date, from {-WHEN_YEARS:g} "
                             f"to {WHEN_YEARS:g}; or {DATE_FORMAT}")
        return years
    if isinstance(raw, date | str):
        return _calendar_date(raw)
    raise ValueError(f"expected a date or a number of model years since start_date: {DATE_FORMAT}")


def _parse_start(raw: Any) -> date:
    day = _calendar_date(raw)
    if not FIRST_START <= day <= LAST_START:
        raise ValueError(f"must be from {FIRST_START} to {LAST_START}, so that every date of the "
                         "horizon exists in the calendar")
    return day


def _dump_when(value: date | float) -> str | float:
    return value.isoformat() if isinstance(value, date) else value


When = Annotated[date | float, PlainValidator(_parse_when), PlainSerializer(_dump_when, when_used="json"),
                 WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, {"type": "number"}]})]
"""A calendar date, or model years since the scenario's start date (finite, at most
:data:`WHEN_YEARS` either way)."""

StartDate = Annotated[date, PlainValidator(_parse_start), PlainSerializer(date.isoformat, when_used="json"),
                      WithJsonSchema({"type": "string", "format": "date"})]
"""The start date: a calendar date from :data:`FIRST_START` to :data:`LAST_START`."""

EVENT_BUDGET = 100_000
"""The most simulation events one replication may take. The baseline takes about 700; over
a 100-year horizon with weekly price steps, about 7,500; the security-escalation scenario
with every attack rate 20 times higher over 100 years, 50,000 to 75,000.

The bounds keep a replication's events finite: prices step at least every
``market.step_years`` >= 0.02 years (5,000 steps in a 100-year horizon), the rates of every
Poisson process are capped, and attack rates may not grow more than 100-fold over the
horizon. The caps still multiply (10,000 attacks a year, times a rate factor of 20, times
a hit on every site), and such a scenario cannot be refused by any one bound, so a
replication that passes this budget stops with an :class:`~sim.errors.EventBudgetError`
instead of running for hours (a scenario that far past every real one gets there within
a minute; attacks on that scale also slow each event down). Runs into a folder, and
large runs, try two replications before they start, so they are refused before anything
is written."""

MAX_ATTACK_GROWTH = 100.0
"""How many times over the horizon a province's attack trend may multiply its rates."""

Stage = Literal["exploration", "feasibility", "permitting", "construction", "operating"]
STAGES: tuple[str, ...] = ("exploration", "feasibility", "permitting", "construction", "operating")
Regime = Literal["open", "licensing", "restricted", "embargo"]
ROUTES: tuple[str, ...] = ("domestic", "china", "us", "other")

CHINA_REGIMES: tuple[str, ...] = ("open", "licensing", "restricted", "embargo")
"""China's export-control regimes on a controlled group, from the most open."""
Severity = Literal["minor", "major", "severe"]
SecurityLevel = Literal["calm", "elevated", "crisis"]


def param(default: Any = ..., *, unit: str, doc: str, ge: float | None = None,
          le: float | None = None, gt: float | None = None, lt: float | None = None) -> Any:
    """A field with a unit and a range; the range is checked for numbers and distributions."""
    bounds = {k: v for k, v in (("ge", ge), ("le", le), ("gt", gt), ("lt", lt)) if v is not None}
    return Field(default, description=doc, json_schema_extra={"unit": unit, **bounds})


def _bound_text(x: float) -> str:
    return f"{x:g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def range_text(b: dict[str, float]) -> str:
    parts = []
    if "ge" in b:
        parts.append(f">= {_bound_text(b['ge'])}")
    if "gt" in b:
        parts.append(f"> {_bound_text(b['gt'])}")
    if "le" in b:
        parts.append(f"<= {_bound_text(b['le'])}")
    if "lt" in b:
        parts.append(f"< {_bound_text(b['lt'])}")
    return " and ".join(parts)


def _outside(x: float, b: dict[str, float]) -> bool:
    return (("ge" in b and x < b["ge"]) or ("gt" in b and x <= b["gt"])
            or ("le" in b and x > b["le"]) or ("lt" in b and x >= b["lt"]))


def _check_range(x: Any, bounds: dict[str, float], unit: str) -> None:
    """Raise ValueError if a number, or a distribution's support, lies outside ``bounds``."""
    if isinstance(x, Dist):
        lo, hi = x.support()
        if _outside(lo, bounds) or _outside(hi, bounds):
            hint = "; truncate it with low/high" if x.kind in ("normal", "lognormal") else ""
            raise ValueError(f"the distribution's support [{lo:g}, {hi:g}] must lie within "
                             f"{range_text(bounds)}{hint}")
    elif isinstance(x, int | float) and not isinstance(x, bool):
        try:
            value = float(x)
        except OverflowError:
            value = math.inf if x > 0 else -math.inf
        if math.isnan(value) or _outside(value, bounds):
            top = bounds.get("le", bounds.get("lt", math.inf))
            hint = ("; a share is written as a fraction: 30% is 0.3"
                    if top <= 1 and 1 < value <= 100 else "")
            raise ValueError(f"must be {range_text(bounds)} ({unit}){hint}")


def in_range(unit: str, **bounds: float) -> AfterValidator:
    """The range check of a :data:`Num`, for the values of mappings and lists (so an error
    names the key or index that is wrong): ``Annotated[Num, in_range(...)]``."""

    def check(x: Any) -> Any:
        _check_range(x, bounds, unit)
        return x

    return AfterValidator(check)


class Model(BaseModel):
    """Base of every scenario section: frozen, unknown keys forbidden, ranges enforced."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _within_range(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        extra = field.json_schema_extra if field is not None else None
        if not isinstance(extra, dict) or isinstance(value, dict | list | tuple):
            return value  # containers carry their range on their element type: see in_range()
        bounds = {k: float(v) for k, v in extra.items() if k in ("ge", "le", "gt", "lt")}  # type: ignore[arg-type]
        if bounds:
            _check_range(value, bounds, str(extra.get("unit")))
        return value


# Upper bounds on magnitudes: far beyond anything real (Pakistan's GDP is about USD 4e11 a
# year, the world's copper output about 2e7 t), close enough that no product of them in the
# model's arithmetic (prices times volumes times a century of years) leaves float range.
MAX_PRICE = 1e9
"""USD per unit of product (per t or per oz); the lower bound is MIN_PRICE."""
MIN_PRICE = 0.01
"""USD per unit: log-prices are taken of prices and of their ratios, so none may be ~0."""
MAX_QUANTITY = 1e12
"""Units of product (t or oz) per year: output, capacities."""
MAX_USD = 1e13
"""USD: capital costs, thresholds on cumulative exports."""
MAX_USD_PER_YEAR = 1e12
"""USD per year: operating and security costs, export run-rates."""
MIN_GDP, MAX_GDP = 1e9, 1e15
"""USD per year: a country's GDP (mining's share of it is divided by it)."""
MAX_WEIGHT = 1e6
"""Relative weights (severity mix, tariff-rate chances): only their ratios matter."""

PerYear = Annotated[Num, in_range("unit/yr", ge=0, le=MAX_QUANTITY)]
Rate = Annotated[float, Field(ge=0, le=2)]
Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT)]


# --- markets and commodities --------------------------------------------------------------

class Market(Model):
    step_years: float = param(0.25, unit="yr", ge=0.02, le=1.0,
                              doc="Interval between commodity-price updates (an exact OU step).")


class RegimeValues(Model):
    open: Num = param(unit="-", ge=0, le=1, doc="Value while China's controls are open.")
    licensing: Num = param(unit="-", ge=0, le=1, doc="Value under licensing.")
    restricted: Num = param(unit="-", ge=0, le=1, doc="Value under restrictions.")
    embargo: Num = param(unit="-", ge=0, le=1, doc="Value under an embargo on foreign feed.")

    def of(self, level: int) -> float:
        return float(getattr(self, CHINA_REGIMES[level]))


class ClearedMarket(Model):
    """A world market for one commodity that clears outside China each price step (see
    :mod:`sim.model.market`). Quantities are shares of the ex-China market's reference
    demand, which grows at ``demand_growth_per_year``; only Pakistan's own output is in
    tonnes, converted with ``ex_china_demand``."""

    ex_china_demand: Num = param(unit="unit/yr", gt=0, le=MAX_QUANTITY, doc="Demand outside China at the start date at China's price (t of contained product a year).")
    demand_growth_per_year: Num = param(0.0, unit="1/yr", ge=-0.2, le=0.3, doc="Growth of that reference demand.")
    china_export_share: Num = param(unit="share of demand", ge=0, le=5, doc="What China's exports would supply of the ex-China market under open controls, as a share of its reference demand.")
    other_supply_share: Num = param(unit="share of demand", ge=0, le=5, doc="Capacity outside China (Pakistan apart) at China's price, as a share of reference demand; it grows with demand, and with the supply response.")
    export_cut: RegimeValues = Field(description="Share of China's exports its controls withhold from the rest of the world, per regime of the commodity's control group.")
    demand_elasticity: Num = param(unit="-", ge=0, le=10, doc="Short-run price elasticity of ex-China demand (a magnitude: demand falls as the price ratio rises); linear demand, zero at a price ratio of 1 + 1 / elasticity.")
    supply_elasticity: Num = param(unit="-", ge=0, le=10, doc="Short-run price elasticity of supply outside China (utilisation of existing capacity).")
    long_run_demand_elasticity: Num = param(unit="-", ge=0, le=5, doc="Elasticity of demand once users have substituted and thrifted: demand moves towards price ratio ** -elasticity.")
    substitution_per_year: Num = param(unit="1/yr", ge=0, le=10, doc="Speed at which demand moves towards its long-run level (partial adjustment).")
    supply_response_per_year: Num = param(unit="share of demand per yr", ge=0, le=1, doc="New capacity outside China committed per year while the ex-China price is above China's, per unit of premium (price ratio - 1, counted up to 1).")
    capacity_lead_years: Num = param(unit="yr", ge=0, le=40, doc="From committing new capacity outside China to its first output.")


class Commodity(Model):
    label: str = Field(description="Descriptive name (documentation only).")
    unit: Literal["t", "oz"] = Field(description="Unit of output and of the price.")
    price_usd: Num = param(unit="USD/unit", ge=MIN_PRICE, le=MAX_PRICE, doc="Price of the refined product at the start date.")
    long_run_price_usd: Num = param(unit="USD/unit", ge=MIN_PRICE, le=MAX_PRICE, doc="Level the log-price reverts to.")
    mean_reversion_per_year: Num = param(unit="1/yr", ge=0, le=20, doc="Speed of reversion of the log-price (OU kappa).")
    volatility: Num = param(unit="1/sqrt(yr)", ge=0, le=3, doc="Volatility of the log-price (OU sigma).")
    concentrate_payable: Num = param(unit="0-1", gt=0, le=1, doc="Value of mine-gate concentrate as a share of the refined product's value (the first rung of the value ladder).")
    us_tariff_exempt: bool = Field(description="Exempt from the U.S. reciprocal tariff while the critical-minerals exemption holds.")
    section232_duty: Num = param(0.0, unit="0-1", ge=0, le=2, doc="Product-specific U.S. duty (Section 232) on this commodity as exported.")
    china_sensitivity: Num = param(0.0, unit="x", ge=0, le=3, doc="How strongly China's export-control regime moves this commodity's price (multiple of the jump per step) and its premium.")
    non_china_premium_usd: Num = param(0.0, unit="USD/unit", ge=0, le=MAX_PRICE, doc="Premium for separated non-Chinese product under a full embargo; scales with the regime level.")
    us_price_floor_usd: Num = param(0.0, unit="USD/unit", ge=0, le=MAX_PRICE, doc="Floor under the refined price of U.S.-bound product (a price-floor offtake); 0 for none.")
    market: ClearedMarket | None = Field(None, description="A market that clears outside China (the price process above is then China's own price, and the ex-China price and its premium emerge); none for a commodity whose price Pakistan takes (copper, gold).")


# --- projects ----------------------------------------------------------------------------

class ProjectPhase(Model):
    label: str
    output: dict[str, PerYear] = param(unit="unit/yr", ge=0, le=MAX_QUANTITY, doc="Nameplate output this phase adds, per commodity.")
    capex_usd: Num = param(unit="USD", ge=0, le=MAX_USD, doc="Capital cost at plan (before overrun).")
    opex_usd_per_year: Num = param(unit="USD/yr", ge=0, le=MAX_USD_PER_YEAR, doc="Operating cost at design throughput; scales with the ramp-up, not with the resource factor (leaner ore costs as much to mine and mill).")
    lead_years: Num = param(0.0, unit="yr", ge=0, le=40, doc="From eligibility to financing close (FID) at reference confidence; low confidence stretches it.")
    build_years: Num | None = param(None, unit="yr", gt=0, le=30, doc="Planned construction time; for a project already in construction, the time left. Not needed for a phase already operating.")
    schedule_overrun: Num = param(1.0, unit="x", ge=0.5, le=5, doc="Multiplier on build time (construction delay).")
    cost_overrun: Num = param(1.0, unit="x", ge=0.5, le=5, doc="Multiplier on capex.")
    earliest_start: When | None = Field(None, description="No financing close before this date (or model year).")


class Equity(Model):
    """Who holds a project's equity besides its private investors."""

    federal: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share held by the federal government and its state-owned enterprises.")
    provincial: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share held by the province, directly or through its companies.")


class Debt(Model):
    """A project's loans (limited-recourse project finance): a share of each phase's capital
    borrowed as it is spent, interest capitalised through a grace period, then repaid in equal
    yearly instalments."""

    share: Num = param(0.0, unit="0-1", ge=0, le=0.95, doc="Share of each phase's capital spending financed by loans, drawn as it is spent; 0 finances it all with equity.")
    interest_rate: Num = param(0.07, unit="1/yr", ge=0, le=0.5, doc="Interest on the loans' balance; tax-deductible for the project.")
    grace_years: Num = param(0.0, unit="yr", ge=0, le=30, doc="From a phase's commissioning to the first repayment of its loans (the sponsors guarantee completion, so nothing falls due during construction); interest is added to the balance until then.")
    repayment_years: int = param(12, unit="yr", ge=1, le=50, doc="Years over which a phase's loans are repaid after the grace period, in equal yearly instalments of interest and principal.")


class Project(Model):
    enabled: bool = Field(True, description="False leaves the project out of the run: no event, no output, no money and no drawn input of its own (a child scenario switches off a parent's project this way).")
    label: str
    province: str = Field(description="Province; its security process applies (if configured).")
    port: str = Field(description="Port of export (Karachi, Port Qasim, Gwadar); descriptive: logistics routes are not yet modelled apart from outages.")
    stage: Stage = Field(description="Stage at the start date.")
    exploration_years: Num = param(0.0, unit="yr", ge=0, le=40, doc="Time in exploration, if it starts there.")
    feasibility_years: Num = param(0.0, unit="yr", ge=0, le=40, doc="Time in feasibility, if it starts at or before it.")
    permitting_years: Num = param(0.0, unit="yr", ge=0, le=40, doc="Time to provincial and federal approval, if not yet approved.")
    verified: bool = Field(False, description="Resource reported to JORC / NI 43-101 at the start date.")
    verification_years: Num | None = param(None, unit="yr", ge=0, le=40, doc="Time to a verified resource statement, if not verified; empty if none is planned.")
    resource_factor: Num = param(1.0, unit="x", gt=0, le=10, doc="The recoverable resource as a multiple of the one the plan assumes, unknown to investors until verified. Output runs at min(1, factor) of design (a plant cannot beat its nameplate; a larger resource lengthens the life, mostly beyond the horizon).")
    foreign_staff_share: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share of the workforce that is foreign; raises the chance of being targeted.")
    exposure: Num = param(1.0, unit="weight", ge=0, le=20, doc="Relative size of the target the site offers to attacks.")
    ramp_up_class: int = param(2, unit="class", ge=1, le=4, doc="McNulty ramp-up class: 1 proven .. 4 novel process.")
    illegal_extraction_exposed: bool = Field(True, description="Whether the site loses output to illegal extraction and leakage (small, dispersed workings do; a large fenced operation does not).")
    phases: list[ProjectPhase] = Field(min_length=1, description="Phase 1 first; each later phase becomes eligible when the previous one produces.")
    life_years: Num | None = param(None, unit="yr", gt=0, le=200, doc="Producing life from first production. The life left beyond the horizon enters the project's NPV as a continuing value (a year's cash at design output and the horizon's prices, for each year left); it is also the life investors value a new phase over. Empty for none: then no continuing value, and a phase is valued over the years left to the horizon.")
    royalty_rate: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Royalties and surcharges, as a share of the project's sales (provincial royalty, federal levies).")
    income_tax_rate: Num | None = param(None, unit="0-1", ge=0, le=1, doc="Income tax on the project's profit, if it differs from the scenario's fiscal rate (a negotiated regime).")
    tax_holiday_years: Num = param(0.0, unit="yr", ge=0, le=100, doc="Years from first production in which no income tax is due.")
    equity: Equity = Field(default_factory=Equity, description="The state's and the province's holdings; the rest is held by private investors.")
    debt: Debt = Field(default_factory=Debt, description="The project's loans; none by default.")
    valued_with_refinery: bool = Field(False, description="Investors value the project together with the domestic refinery's margin on the part of its output the refinery takes: one venture owns the mine and the refinery (an integrated value chain). Without it a mine is valued at the mine gate.")


class RampClass(Model):
    median_years: Num = param(unit="yr", gt=0, le=20, doc="Median time from commissioning to design output.")
    sigma: Num = param(unit="-", ge=0, le=3, doc="Log-sd of the time to design output across projects.")
    start_fraction: Num = param(unit="0-1", ge=0, le=1, doc="Output at commissioning, as a share of design.")
    never_share: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share of facilities that never reach design output.")
    plateau: Num = param(1.0, unit="0-1", gt=0, le=1, doc="Share of design those facilities settle at.")


# --- processing --------------------------------------------------------------------------

class Refinery(Model):
    enabled: bool = True
    label: str
    capacity: dict[str, PerYear] = param(unit="unit/yr", ge=0, le=MAX_QUANTITY, doc="Feed it can process per commodity at design.")
    lead_years: Num = param(unit="yr", ge=0, le=40, doc="From the start date to financing close at reference confidence.")
    build_years: Num = param(unit="yr", gt=0, le=30, doc="Planned construction time.")
    schedule_overrun: Num = param(1.0, unit="x", ge=0.5, le=5, doc="Multiplier on build time.")
    cost_overrun: Num = param(1.0, unit="x", ge=0.5, le=5, doc="Multiplier on capex.")
    capex_usd: Num = param(unit="USD", ge=0, le=MAX_USD, doc="Capital cost at plan.")
    processing_cost_share: Num = param(unit="0-1", ge=0, le=1, doc="Operating cost as a share of the value it adds.")
    ramp_up_class: int = param(4, unit="class", ge=1, le=4, doc="McNulty ramp-up class.")
    technology_partner: Literal["us", "china", "none"] = Field(description="Who supplies separation technology.")
    no_technology_factor: Num = param(1.0, unit="x", ge=1, le=5, doc="Multiplier on build and ramp-up time while no partner can supply technology (a Chinese partner under China's technology-export ban, or none).")
    running_threshold: Num = param(0.5, unit="0-1", gt=0, le=1, doc="Output share of design at which the refinery counts as running for the phase gate.")


ROUTING_TOLERANCE = 1e-6
"""How far from 1 the shares of a commodity may sum (by their means, if drawn)."""
_SUM_RULE = " The four shares sum to 1 (a drawn share by its mean; each replication's draws are scaled to sum to 1)."


class RouteShares(Model):
    """Where one commodity's output goes. One rule for fixed and drawn shares: the shares'
    means sum to 1 (a fixed share is its own mean), and no draw may leave them all at 0.
    Each replication's draws are then scaled to sum to 1, so a drawn share moves the
    others: with ``china: {dist: uniform, low: 0.2, high: 0.4}`` beside fixed shares
    summing to 0.7, a replication drawing 0.4 sends 0.4 / 1.1 to China."""

    domestic: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share routed to the domestic refinery once it runs." + _SUM_RULE)
    china: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share sent to Chinese toll processing or buyers." + _SUM_RULE)
    us: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share sent to U.S. processing (e.g. USSM)." + _SUM_RULE)
    other: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share sent to other refiners and buyers." + _SUM_RULE)

    def problems(self, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
        """The rule above, as (path, message, value) problems."""
        shares = [getattr(self, r) for r in ROUTES]
        means = [_mean(s) for s in shares]
        total = sum(means)
        if abs(total - 1.0) > ROUTING_TOLERANCE:
            drawn = any(isinstance(s, Dist) for s in shares)
            how = "the means of the shares" if drawn else "the shares"
            yield path, f"{how} must sum to 1", round(total, 6)
        elif sum(s.support()[0] if isinstance(s, Dist) else float(s) for s in shares) <= 0:
            yield path, ("every share could be 0 in the same draw: give one share a positive "
                         "lowest value"), None


class Processing(Model):
    refinery: Refinery
    foreign_capacity: dict[Literal["china", "us", "other"], dict[str, PerYear]] = param(
        unit="unit/yr", ge=0, le=MAX_QUANTITY, doc="Feed from Pakistan each foreign route can take per year, per commodity.")
    routing: dict[str, RouteShares] = Field(description="Intended split of each commodity's output across routes: the shares sum to 1, a drawn share by its mean, and each replication's draws are scaled to sum to 1.")
    domestic_sales_us_share: Num = param(unit="0-1", ge=0, le=1, doc="Share of domestically refined product sold to the United States.")
    other_discount: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Discount on concentrate sold to other markets, relative to the reference price.")


# --- programme, confidence, infrastructure, economy ----------------------------------------

class Phase2Gate(Model):
    min_years: Num = param(unit="yr", ge=0, le=30, doc="Minimum time in Phase 1 (demonstration).")
    min_cumulative_exports_usd: Num = param(unit="USD", ge=0, le=MAX_USD, doc="Pilot exports needed.")
    require_verified_resource: bool = Field(True, description="At least one project not verified at the start has been verified to JORC / NI 43-101, and not found too small to build on.")
    require_refinery_financing: bool = Field(True, description="The domestic refinery has closed financing.")
    min_confidence: Num = param(unit="0-1", ge=0, le=1, doc="Investor confidence needed.")


class Phase3Gate(Model):
    min_years_in_phase: Num = param(unit="yr", ge=0, le=30, doc="Minimum time in Phase 2 (commercial scaling).")
    require_refinery_running: bool = Field(True, description="The domestic refinery runs at its running threshold.")
    min_export_rate_usd: Num = param(unit="USD/yr", ge=0, le=MAX_USD_PER_YEAR, doc="Export run-rate needed, averaged over the sustain period.")
    sustain_years: Num = param(unit="yr", ge=0, le=10, doc="Trailing period over which exports must average the run-rate (at least one price step).")
    min_confidence: Num = param(unit="0-1", ge=0, le=1, doc="Investor confidence needed.")


class Program(Model):
    phase2: Phase2Gate
    phase3: Phase3Gate


class Confidence(Model):
    initial: Num = param(unit="0-1", ge=0, le=1, doc="Investor confidence at the start date.")
    milestone_gain: Num = param(unit="0-1", ge=0, le=1, doc="Lasting gain when a financing close, commissioning or phase entry happens.")
    verification_gain: Num = param(unit="0-1", ge=0, le=1, doc="Lasting gain when a verification confirms a resource (see resources.downgrade_below for a downgrade).")
    ceiling: Num = param(unit="0-1", ge=0, le=1, doc="Highest lasting level milestones can build.")
    recovery_per_year: Num = param(unit="1/yr", ge=0, le=20, doc="Rate at which a shock's drop in confidence fades.")
    reference: Num = param(unit="0-1", gt=0, le=1, doc="Confidence at which lead times are as planned.")
    financing_delay_per_unit: Num = param(unit="x per unit", ge=0, le=20, doc="Lead-time stretch per unit of confidence below the reference.")
    risk_premium: Num = param(unit="1/yr", ge=0, le=1, doc="Premium on the investors' cost of capital at zero confidence (linear in 1 - confidence); it discounts the investors' NPV, not the programme's.")
    stall_floor: Num = param(unit="0-1", ge=0, le=1, doc="Below this, investors start to exit.")
    stall_after_years: Num = param(unit="yr", gt=0, le=30, doc="Time below the floor after which the programme stalls.")
    tariff_hike_drop_per_unit: Num = param(unit="0-1 per unit rate", ge=0, le=5, doc="Drop per unit rise in the U.S. tariff rate.")
    exemption_loss_drop: Num = param(unit="0-1", ge=0, le=1, doc="Drop when the critical-minerals exemption is withdrawn.")
    regime_step_drop: Num = param(unit="0-1", ge=0, le=1, doc="Drop per step of escalation in China's export controls.")


class Infrastructure(Model):
    enabled: bool = True
    outages_per_site_year: Num = param(unit="1/yr", ge=0, le=100, doc="Power, water or logistics outages per operating site per year (Poisson).")
    outage_days: PerEvent = param(unit="d", ge=0, le=365, doc="Length of one outage; a distribution is drawn anew for each outage.")


class Resources(Model):
    """What a verification to JORC / NI 43-101 reveals about a claimed resource (seed 003)."""

    downgrade_below: Num = param(0.7, unit="x", ge=0, le=1, doc="A verification that finds less than this share of the planned resource is a downgrade: confidence falls instead of rising.")
    downgrade_drop: Num = param(0.08, unit="0-1", ge=0, le=1, doc="Lasting fall in investor confidence after a downgrade.")
    abandon_below: Num = param(0.4, unit="x", ge=0, le=1, doc="Below this share, the project's phases not yet financed are cancelled.")


class Distress(Model):
    """What a project does when it loses money on every tonne: care and maintenance, and a
    restart when prices recover."""

    enabled: bool = Field(True, description="Switch distress on or off; off, a loss-making project produces on regardless and none defaults.")
    loss_years: int = param(2, unit="yr", ge=1, le=50, doc="Consecutive year-ends at which a producing project's cash margin is negative (a year's output at the day's prices and design output, as concentrate after royalties, less the operating cost stopping would save), after which it goes on care and maintenance.")
    care_cost_share: Num = param(0.15, unit="0-1", ge=0, le=1, doc="Share of its operating cost a project on care and maintenance still pays (its security cost continues in full).")
    restart_margin: Num = param(0.1, unit="0-1", ge=0, le=1, doc="A project on care and maintenance restarts at a year's end when its cash margin at that day's prices, at design output, would be at least this share of its sales.")
    confidence_drop: Num = param(0.05, unit="0-1", ge=0, le=1, doc="Fading fall in investor confidence when a project goes on care and maintenance.")
    default_years: int = param(2, unit="yr", ge=1, le=50, doc="Consecutive year-ends at which a project with debt service due makes no cash at all (a year's sales at that day's prices and its present rate of output, after royalties, less operating and security costs; a suspension is force majeure and does not count), after which it defaults: the lenders write off what is owed and the site is abandoned. A smaller shortfall is rescheduled.")
    default_drop: Num = param(0.05, unit="0-1", ge=0, le=1, doc="Lasting fall in investor confidence when a project defaults on its loans.")


class Investment(Model):
    """Whether investors finance a phase: when its value at their cost of capital is positive."""

    enabled: bool = Field(True, description="Switch the investors' value test on or off; off, every phase is financed once its lead time is over, whatever it is worth.")
    retest_years: Num = param(0.25, unit="yr", ge=0.01, le=10, doc="How often investors look again at a phase whose value at their cost of capital was negative (at least 0.01 years, about four days).")


class Construction(Model):
    """Construction delays and cost overruns beyond the plan (McKinsey 2024; AMC / Bullock 2011)."""

    enabled: bool = Field(True, description="Switch overruns on or off; off builds every phase and plant in its planned time for its planned capex (the nominal timeline).")


class Fiscal(Model):
    """The tax regime a project pays under unless it negotiated its own."""

    income_tax_rate: Num = param(0.29, unit="0-1", ge=0, le=1, doc="Corporate income tax on profit after royalties and depreciation.")
    depreciation_years: int = param(10, unit="yr", ge=1, le=50, doc="Capital is written off straight-line over this many years, from the year after it is spent; losses carry forward without limit.")


class Economy(Model):
    gdp_usd: Num = param(unit="USD/yr", ge=MIN_GDP, le=MAX_GDP, doc="GDP in the start year.")
    gdp_growth_per_year: Num = param(unit="1/yr", ge=-0.2, le=0.3, doc="Real GDP growth.")
    mining_value_added_usd: Num = param(unit="USD/yr", ge=0, le=MAX_GDP, doc="Mining value added before the programme.")


class Governance(Model):
    """Provincial-federal disputes, policy reversal and arbitration (seeds 003, 004)."""

    enabled: bool = Field(True, description="Switch disputes and policy reversals on or off.")
    disputes_per_year: Num = param(unit="1/yr", ge=0, le=20, doc="Provincial-federal disputes per year while a project awaits approval (18th Amendment).")
    dispute_delay_years: PerEvent = param(unit="yr", ge=0, le=10, doc="Delay one dispute adds to permitting; a distribution is drawn anew for each dispute.")
    reversals_per_year: Num = param(unit="1/yr", ge=0, le=5, doc="Policy reversals per year: a government revisits a deal and halts an active site.")
    reversal_halt_years: PerEvent = param(unit="yr", ge=0, le=20, doc="How long a reversal halts the site; drawn anew for each reversal.")
    reversal_confidence_drop: Num = param(unit="0-1", ge=0, le=1, doc="Lasting fall in investor confidence after a reversal.")
    arbitration_probability: Num = param(unit="0-1", ge=0, le=1, doc="Chance a reversal goes to international arbitration and ends in an award: for a halt, the margin lost over it and the carrying cost of sunk capital; for an expropriation, the project's value.")
    expropriation_probability: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Chance a reversal takes the site for good (it produces and builds no more) instead of halting it.")
    award_share_of_capex: Num = param(unit="x", ge=0, le=5, doc="Arbitration award for an expropriation, as a multiple of the planned capex of the project's first phase.")
    arbitration_confidence_drop: Num = param(unit="0-1", ge=0, le=1, doc="Further lasting fall in confidence when an award is made.")


# --- policy levers ---------------------------------------------------------------------

class LeverCosts(Model):
    """What the levers cost, and who pays (see ``lever_cost_usd``)."""

    community_usd_per_site_year: Num = param(0.0, unit="USD/yr", ge=0, le=MAX_USD_PER_YEAR, doc="Cost of community programmes at full participation, per unit of a site's exposure; each active site pays it times community_participation.")
    tracking_usd_per_site_year: Num = param(0.0, unit="USD/yr", ge=0, le=MAX_USD_PER_YEAR, doc="Cost of digital output tracking at a site exposed to illegal extraction, at full tracking; each such site pays it times output_tracking.")
    verification_programme_usd: Num = param(0.0, unit="USD", ge=0, le=MAX_USD, doc="What the state spends on the verification programme, evenly over the first two years.")
    stockpile_carrying_per_year: Num = param(0.0, unit="1/yr", ge=0, le=1, doc="Cost of holding concentrate (financing and storage), a share of its mine-gate value a year; paid by the projects whose output it is.")


class Levers(Model):
    """The policy levers the source articles argue about, each with a mechanism in the model."""

    local_equity_share: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share of each project's private equity held by local shareholders (communities, Pakistani investors); seed 002 asks for at least 30%. Fewer attacks on the sector. The share is carried: local holders take their part of the distributions and put in no capital, which dilutes the investors.")
    equity_hit_reduction: Num = param(0.5, unit="share per unit equity", ge=0, le=1, doc="Fall in the chance an attack hits a site, per unit of local equity share.")
    community_participation: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Community participation in security (0 none, 1 full); seed 002: 'through intelligence and community participation'.")
    community_hit_reduction: Num = param(0.4, unit="share at full", ge=0, le=1, doc="Fall in the chance an attack hits a site at full community participation.")
    security_spending: Num = param(1.0, unit="x baseline", ge=0.25, le=5, doc="Security spending relative to the scenario's per-site cost: lowers the hit chance, raises the cost.")
    spending_elasticity: Num = param(0.5, unit="-", ge=0, le=3, doc="The hit chance scales with spending to the power -elasticity.")
    processing_mandate: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share of each commodity the refinery can process that must be refined in Pakistan once it runs.")
    technology_transfer: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Strength of technology-transfer terms for the refinery (0 none, 1 full).")
    transfer_ramp_gain: Num = param(0.4, unit="share", ge=0, lt=1, doc="Fall in the refinery's ramp-up time, and in its chance of never reaching design, with full transfer.")
    unified_framework: bool = Field(False, description="A unified national mineral framework with one-window approvals (seed 002, 004).")
    framework_permitting_factor: Num = param(0.6, unit="x", gt=0, le=1, doc="Multiplier on permitting time under the unified framework.")
    verification_programme: bool = Field(False, description="A reserve verification programme to JORC / NI 43-101 (seed 003).")
    programme_verification_factor: Num = param(0.6, unit="x", gt=0, le=1, doc="Multiplier on time to a verified resource under the programme.")
    programme_verification_gain: Num = param(1.5, unit="x", ge=1, le=5, doc="Multiplier on the confidence a verification brings under the programme (credible, internationally reviewed numbers).")
    deal_basis: Literal["personality", "treaty"] = Field("personality", description="Whether deal terms rest on a treaty or on personal relations (seed 002).")
    treaty_withdraw_factor: Num = param(0.25, unit="x", ge=0, le=1, doc="Multiplier on the chance a policy change withdraws the exemption when the deal is treaty-based.")
    treaty_reversal_factor: Num = param(0.5, unit="x", ge=0, le=1, doc="Multiplier on the rate of policy reversals when deals are treaty-based.")
    stockpile_months: Num = param(6.0, unit="months of output", ge=0, le=120, doc="How much unprocessed concentrate can be held, in months of peak output so far; the rest is sold at a distress discount.")
    distress_discount: Num = param(0.3, unit="0-1", ge=0, le=1, doc="Discount on concentrate sold because it cannot be held.")
    illegal_extraction_share: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share of output lost to illegal extraction and leakage without tracking (seed 004).")
    output_tracking: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share of that loss digital output tracking prevents.")
    financing_lead_factor: Num = param(1.0, unit="x", gt=0, le=3, doc="Multiplier on every financing lead time (below 1: development-finance backing such as U.S. EXIM or DFC).")
    costs: LeverCosts = Field(default_factory=LeverCosts, description="What the levers cost, and who pays.")


# --- shocks ------------------------------------------------------------------------------

class Levels(Model):
    calm: Num = param(unit="attacks/yr", ge=0, le=10000, doc="Attack rate in the calm regime.")
    elevated: Num = param(unit="attacks/yr", ge=0, le=10000, doc="Attack rate in the elevated regime.")
    crisis: Num = param(unit="attacks/yr", ge=0, le=10000, doc="Attack rate in the crisis regime.")


class Switching(Model):
    calm_to_elevated: Num = param(unit="1/yr", ge=0, le=100, doc="Rate of escalation from calm.")
    elevated_to_calm: Num = param(unit="1/yr", ge=0, le=100, doc="Rate of de-escalation to calm.")
    elevated_to_crisis: Num = param(unit="1/yr", ge=0, le=100, doc="Rate of escalation to crisis.")
    crisis_to_elevated: Num = param(unit="1/yr", ge=0, le=100, doc="Rate of de-escalation from crisis.")


class ProvinceSecurity(Model):
    attacks_per_year: Levels
    switching: Switching
    initial_regime: SecurityLevel = "elevated"
    trend_per_year: Num = param(0.0, unit="1/yr", ge=-0.5, le=0.5, doc="Yearly proportional trend in attack rates.")


class Consequence(Model):
    downtime_days: PerEvent = param(unit="d", ge=0, le=730, doc="Site suspension (or logistics stoppage) it causes; a distribution is drawn anew for each incident.")
    confidence_drop: Num = param(unit="0-1", ge=0, le=1, doc="Immediate drop in investor confidence.")
    staff_withdrawal_years: Num = param(0.0, unit="yr", ge=0, le=10, doc="How long foreign staff stay withdrawn.")
    output_loss: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Share of output lost while staff are withdrawn.")
    cost_rise_usd_per_year: Num = param(0.0, unit="USD/yr", ge=0, le=MAX_USD_PER_YEAR, doc="Lasting rise in the site's security cost.")


class SeverityMix(Model):
    minor: Num = param(unit="weight", ge=0, le=MAX_WEIGHT, doc="Relative frequency of minor incidents.")
    major: Num = param(unit="weight", ge=0, le=MAX_WEIGHT, doc="Relative frequency of major incidents.")
    severe: Num = param(unit="weight", ge=0, le=MAX_WEIGHT, doc="Relative frequency of severe incidents.")


class Security(Model):
    enabled: bool = True
    provinces: dict[str, ProvinceSecurity]
    rate_factor: Num = param(1.0, unit="x", ge=0, le=20, doc="Multiplier on every province's attack rates, in every regime (a what-if lever: 2 means attacks twice as frequent).")
    hit_probability: Num = param(unit="0-1", ge=0, le=1, doc="Chance that an attack in a province touches one unit of exposed mineral-sector site.")
    foreign_staff_factor: Num = param(unit="x", ge=0, le=20, doc="Extra targeting per unit of foreign staff share.")
    mitigation: Num = param(0.0, unit="0-1", ge=0, lt=1, doc="Share of would-be hits prevented by security measures.")
    severity: SeverityMix
    consequences: dict[Severity, Consequence]
    cost_usd_per_site_year: Num = param(unit="USD/yr", ge=0, le=MAX_USD_PER_YEAR, doc="Security cost of an active site of exposure 1; a site pays it times its exposure.")


class ControlGroup(Model):
    """A group of commodities China controls together (rare earths, antimony; gallium,
    germanium, graphite or tungsten where a scenario has them), with a regime of its own."""

    commodities: list[str] = Field(min_length=1, description="Commodities of the scenario these controls cover; a commodity belongs to at most one group, and one in no group (copper, gold) is never touched by China's controls.")
    initial_regime: Regime = Field(description="China's export-control regime on this group at the start date.")


class ScheduledRegime(Model):
    date: When
    regime: Regime
    scope: list[str] = Field(min_length=1, description="The control groups (keys of shocks.refining.groups) this change covers.")
    probability: Num = param(1.0, unit="0-1", ge=0, le=1, doc="Chance the scheduled change happens.")


class Refining(Model):
    enabled: bool = True
    groups: dict[str, ControlGroup] = Field(min_length=1, description="China's controlled groups, each with its own regime.")
    technology_ban: bool = Field(description="China's ban on exporting separation technology is in force at the start.")
    technology_ban_lift_per_year: Num = param(unit="1/yr", ge=0, le=10, doc="Rate at which the technology ban is lifted.")
    escalate_per_year: Num = param(unit="1/yr", ge=0, le=10, doc="Rate of random escalation by one step.")
    relax_per_year: Num = param(unit="1/yr", ge=0, le=10, doc="Rate of random relaxation by one step.")
    random_scope: list[str] = Field(min_length=1, description="The control groups each random escalation or relaxation moves, together, by one step each (a group already at the end of the scale stays).")
    scheduled: list[ScheduledRegime] = Field(default_factory=list)
    china_capacity: RegimeValues = Field(description="Share of Chinese processing capacity open to Pakistani feed of a controlled commodity.")
    china_discount: RegimeValues = Field(description="Discount on controlled product sold through China.")
    price_jump_per_step: Num = param(unit="log", ge=0, le=3, doc="Jump in the log-price of a controlled commodity per step of escalation of its group (times the commodity's China sensitivity).")


class TariffStep(Model):
    date: When
    rate: Num = param(unit="0-1", ge=0, le=2, doc="Reciprocal tariff from this date.")


class Tariff(Model):
    enabled: bool = True
    initial_rate: Num = param(unit="0-1", ge=0, le=2, doc="U.S. reciprocal tariff on Pakistani goods at the start date.")
    exemption_active: bool = Field(True, description="Critical-minerals exemption in force at the start.")
    schedule: list[TariffStep] = Field(default_factory=list)
    changes_per_year: Num = param(unit="1/yr", ge=0, le=20, doc="Rate of random policy changes.")
    withdraw_probability: Num = param(unit="0-1", ge=0, le=1, doc="Chance a policy change withdraws the exemption (if in force).")
    new_rates: list[Rate] = param(unit="0-1", ge=0, le=2, doc="Reciprocal rates a policy change may set; one is drawn at each change.")
    new_rate_weights: list[Weight] | None = param(None, unit="weight", ge=0, le=MAX_WEIGHT, doc="Relative chances of new_rates (equal if empty).")
    restore_per_year: Num = param(unit="1/yr", ge=0, le=20, doc="Rate at which a withdrawn exemption is restored.")
    exporter_incidence: Num = param(unit="0-1", ge=0, le=1, doc="Share of the duty borne by the Pakistani exporter.")
    diversion_per_unit_rate: Num = param(unit="share per unit rate", ge=0, le=5, doc="Share of U.S.-bound product diverted to other markets per unit of tariff it faces.")
    goods_exports_usd: Num = param(0.0, unit="USD/yr", ge=0, le=MAX_USD_PER_YEAR, doc="Pakistan's goods exports to the United States at the start date, all goods (textiles above all), before the reciprocal tariff's effect on them; they pay the reciprocal rate, none of them being exempt.")
    goods_exports_growth_per_year: Num = param(0.0, unit="1/yr", ge=-0.2, le=0.3, doc="Growth of those exports, before the tariff's effect.")
    goods_trade_elasticity: Num = param(0.0, unit="-", ge=0, le=10, doc="Fall in those exports with the tariff: they scale with (1 + rate) to the power -elasticity.")
    deal_goodwill_usd: Num = param(0.0, unit="USD", ge=0, le=MAX_USD, doc="Mineral exports to the U.S. (cumulative, with the refinery's financing close and commissioning under a U.S. technology partner counting refinery_goodwill each) that build the deal's full goodwill; 0 for no link between the mineral partnership and the tariff.")
    refinery_goodwill: Num = param(0.25, unit="0-1", ge=0, le=1, doc="Goodwill the refinery earns under a U.S. technology partner at each of its financing close and its commissioning, a share of the full goodwill.")
    goodwill_deal_rate: Num = param(0.1, unit="0-1", ge=0, le=2, doc="The rate a policy change sets instead of a drawn one, with a chance equal to the goodwill (a deal rewarding the partnership).")
    goodwill_withdraw_cut: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Fall in the chance a policy change withdraws the critical-minerals exemption at full goodwill.")
    reversal_goodwill_loss: Num = param(0.0, unit="0-1", ge=0, le=1, doc="Goodwill lost at each policy reversal in Pakistan (a government revisiting a deal).")


class Shocks(Model):
    security: Security
    refining: Refining
    tariff: Tariff


# --- the scenario ------------------------------------------------------------------------

class Origin(BaseModel):
    """Where a scenario came from: the file it was loaded from, the files it extends in turn,
    and the overrides applied on top (as ``path=value`` texts). ``edited`` once a copy of it
    was changed in memory, after which the files no longer say what it holds."""

    model_config = ConfigDict(frozen=True)

    file: str
    files: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    edited: bool = False


@functools.lru_cache(maxsize=256)
def _edited(origin: Origin) -> Origin:
    """``origin`` marked as edited (one shared copy for each origin)."""
    return origin.model_copy(update={"edited": True})


class Scenario(Model):
    """A complete, validated scenario. Build it with :func:`sim.scenario.files.load_scenario`.

    It carries its :class:`Origin` (``origin``; None for one built in Python), which a copy
    keeps and an edited copy marks as edited. Two scenarios are equal when their values are,
    wherever they came from."""

    _origin: Origin | None = PrivateAttr(None)
    _uncertain: Any = PrivateAttr(None)  # the distributions it holds, remembered by sim.model.sampling
    _uncertain_streams: Any = PrivateAttr(None)  # and the streams they draw from

    name: str | None = None
    description: str = ""
    start_date: StartDate = Field(description=f"Date of model time 0, from {FIRST_START} to {LAST_START}.")
    horizon_years: int = param(unit="yr", ge=1, le=100, doc="Length of each replication.")
    discount_rate: Num = param(unit="1/yr", ge=0, le=0.5, doc="Base real discount rate for NPV.")
    market: Market = Market()
    commodities: dict[str, Commodity]
    projects: dict[str, Project]
    processing: Processing
    ramp_up_classes: dict[int, RampClass]
    program: Program
    confidence: Confidence
    infrastructure: Infrastructure
    construction: Construction = Construction()
    resources: Resources = Resources()
    economy: Economy
    fiscal: Fiscal = Fiscal()
    distress: Distress = Distress()
    investment: Investment = Investment()
    governance: Governance
    levers: Levers = Levers()
    shocks: Shocks

    @property
    def origin(self) -> Origin | None:
        return self._origin

    def with_origin(self, origin: Origin) -> Scenario:
        """This scenario, recording where it came from (done once, as it is loaded)."""
        self._origin = origin
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Scenario:
        """A copy; with ``update``, an edited one: its origin says so, and what was
        remembered about its values is forgotten."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            copied.mark_edited()
        return copied

    def private(self) -> dict[str, Any]:
        """The private values by name (``_origin``, ``_uncertain``, ...), to read and write
        directly where it matters: pydantic's attribute access to one costs microseconds."""
        private = self.__pydantic_private__
        assert private is not None  # a model with private attributes always has the mapping
        return private

    def mark_edited(self) -> None:
        """Say of this copy that its values were edited: its origin marked so, and what was
        remembered about its values forgotten.

        Done at every replication's set-up (:func:`sim.model.sampling.realize`), so it works
        on :meth:`private` and shares one edited origin per origin (they are frozen)."""
        private = self.private()
        private["_uncertain"] = private["_uncertain_streams"] = None
        origin = private["_origin"]
        if origin is not None:
            private["_origin"] = _edited(origin)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # its mappings are not hashable; compare, do not hash

    @field_validator("projects", mode="after")
    @classmethod
    def _enabled_projects(cls, projects: dict[str, Project]) -> dict[str, Project]:
        """A project switched off (``enabled: false``) is not part of the scenario."""
        return {key: p for key, p in projects.items() if p.enabled}

    def years(self, when: When) -> float:
        """Model time of a date (years since the start date); a number is already model time."""
        if isinstance(when, date):
            return (when - self.start_date).days / DAYS_PER_YEAR
        return float(when)

    def date_at(self, years: float) -> date:
        """The calendar date of model time ``years`` (to the nearest day)."""
        return self.start_date + timedelta(days=round(years * DAYS_PER_YEAR))

    def cross_check(self) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
        """Checks across fields; yields (path, message, value) for each problem."""
        goods = set(self.commodities)

        def unknown(path: tuple[str | int, ...], names: Any) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
            for n in names:
                if n not in goods:
                    yield (*path, n), f"unknown commodity; known: {', '.join(sorted(goods))}", n

        for key, p in self.projects.items():
            for i, ph in enumerate(p.phases):
                yield from unknown(("projects", key, "phases", i, "output"), ph.output)
        yield from unknown(("processing", "refinery", "capacity"), self.processing.refinery.capacity)
        for route, caps in self.processing.foreign_capacity.items():
            yield from unknown(("processing", "foreign_capacity", route), caps)
        yield from unknown(("processing", "routing"), self.processing.routing)
        for good in goods:
            if good not in self.processing.routing:
                yield ("processing", "routing"), f"no routing shares for commodity '{good}'", None
        for good, shares in self.processing.routing.items():
            yield from shares.problems(("processing", "routing", good))
        for key, p in self.projects.items():
            for i, ph in enumerate(p.phases):
                built = p.stage == "operating" and i == 0
                if ph.build_years is None and not built:
                    yield ("projects", key, "phases", i, "build_years"), "required for a phase not yet operating", None
            held = _mean(p.equity.federal) + _mean(p.equity.provincial)
            if held > 1.0 + ROUTING_TOLERANCE:
                yield ("projects", key, "equity"), f"the federal and provincial shares sum to {held:g}, more than the whole", None
            if p.ramp_up_class not in self.ramp_up_classes:
                yield ("projects", key, "ramp_up_class"), "no such ramp_up_classes entry", p.ramp_up_class
        if self.processing.refinery.ramp_up_class not in self.ramp_up_classes:
            yield (("processing", "refinery", "ramp_up_class"), "no such ramp_up_classes entry",
                   self.processing.refinery.ramp_up_class)
        security = self.shocks.security
        for province, spec in security.provinces.items():
            trend = spec.trend_per_year
            steepest = trend.support()[1] if isinstance(trend, Dist) else float(trend)
            if steepest * self.horizon_years > math.log(MAX_ATTACK_GROWTH):
                yield (("shocks", "security", "provinces", province, "trend_per_year"),
                       f"would multiply attack rates {math.exp(steepest * self.horizon_years):,.0f}-fold "
                       f"over the {self.horizon_years}-year horizon; at most {MAX_ATTACK_GROWTH:g}-fold "
                       f"(trend_per_year x horizon_years at most {math.log(MAX_ATTACK_GROWTH):.2f})", trend)
        if security.enabled:
            for key, p in self.projects.items():
                if p.province not in security.provinces:
                    yield (("projects", key, "province"), "no security process for this province: add "
                           f"shocks.security.provinces.{p.province} (its rates may be 0)", p.province)
        refinery = self.processing.refinery
        gates = self.program
        if not refinery.enabled and gates.phase2.require_refinery_financing:
            yield (("program", "phase2", "require_refinery_financing"),
                   "the refinery is disabled, so this gate can never open", True)
        if not refinery.enabled and gates.phase3.require_refinery_running:
            yield (("program", "phase3", "require_refinery_running"),
                   "the refinery is disabled, so this gate can never open", True)
        rules = self.resources
        if isinstance(rules.abandon_below, float) and isinstance(rules.downgrade_below, float) \
                and rules.abandon_below > rules.downgrade_below:
            yield (("resources", "abandon_below"), "must not exceed resources.downgrade_below "
                   f"({rules.downgrade_below}): a resource too small to build on is a downgrade",
                   rules.abandon_below)
        for good, commodity in self.commodities.items():
            m = commodity.market
            if m is None:
                continue
            path: tuple[str, ...] = ("commodities", good, "market")
            fixed = [v for v in (m.china_export_share, m.other_supply_share) if not isinstance(v, Dist)]
            if len(fixed) == 2 and sum(float(v) for v in fixed) <= 0:  # type: ignore[arg-type]
                yield ((*path, "china_export_share"), "no supply can reach the ex-China market: give "
                       "China's exports or other supply a positive share", m.china_export_share)
            for name in ("china_sensitivity", "non_china_premium_usd"):
                value = getattr(commodity, name)
                if isinstance(value, Dist) or float(value) != 0:
                    yield (("commodities", good, name), "set by the cleared market (the premium and "
                           "the spike emerge from it): remove it, or the market", value)
        refining = self.shocks.refining
        owner: dict[str, str] = {}
        for group, control in refining.groups.items():
            path = ("shocks", "refining", "groups", group, "commodities")
            yield from unknown(path, control.commodities)
            for good in control.commodities:
                if good in owner:
                    yield (path, f"'{good}' is already controlled by group '{owner[good]}': a "
                           "commodity belongs to at most one group", good)
                owner.setdefault(good, group)
        known = ", ".join(refining.groups)

        def unknown_groups(path: tuple[str | int, ...], names: list[str]) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
            for i, name in enumerate(names):
                if name not in refining.groups:
                    yield (*path, i), f"unknown control group; known: {known}", name

        yield from unknown_groups(("shocks", "refining", "random_scope"), refining.random_scope)
        for i, event in enumerate(refining.scheduled):
            yield from unknown_groups(("shocks", "refining", "scheduled", i, "scope"), event.scope)
        tariff = self.shocks.tariff
        if not tariff.new_rates:
            yield ("shocks", "tariff", "new_rates"), "needs at least one rate", tariff.new_rates
        if tariff.new_rate_weights is not None and (
                len(tariff.new_rate_weights) != len(tariff.new_rates) or sum(tariff.new_rate_weights) <= 0):
            yield (("shocks", "tariff", "new_rate_weights"),
                   "must be as long as new_rates, with a positive sum", tariff.new_rate_weights)
        mix = self.shocks.security.severity
        if all(isinstance(getattr(mix, s), float) for s in ("minor", "major", "severe")) and \
                mix.minor + mix.major + mix.severe <= 0:  # type: ignore[operator]
            yield ("shocks", "security", "severity"), "weights must not all be zero", None
        missing = {"minor", "major", "severe"} - set(self.shocks.security.consequences)
        if missing:
            yield (("shocks", "security", "consequences"),
                   f"missing consequences for {', '.join(sorted(missing))}", None)


# --- reading the schema's types ---------------------------------------------------------------
# One reading of a field's annotation, for every walk over the schema: the loader's hints at
# the key meant (sim.scenario.files), the parameter reference (sim.scenario.reference) and the drawn inputs
# (sim.model.sampling, which walks values and reads each field's metadata).

def strip_annotated(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` (its validators and serializers dropped)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def type_options(annotation: Any) -> list[Any]:
    """The alternatives of a union or an optional, nested unions flattened and each stripped
    of ``Annotated`` (``NoneType`` among them for an optional); a plain type alone."""
    annotation = strip_annotated(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return [option for arg in get_args(annotation) for option in type_options(arg)]
    return [annotation]


def item_type(annotation: Any) -> Any:
    """The type of the values of a list, tuple, set or mapping annotation, else None."""
    origin, args = get_origin(annotation), get_args(annotation)
    if not isinstance(origin, type) or not args:
        return None
    if issubclass(origin, Mapping):
        return args[-1]
    if issubclass(origin, Iterable):
        return args[0]
    return None


def is_model(annotation: Any) -> bool:
    """Whether the annotation is a pydantic model class (not a generic alias of one)."""
    return get_origin(annotation) is None and isinstance(annotation, type) and issubclass(annotation, BaseModel)
