"""What a run reports: the columns of the outcome and time-series tables, and how people read them.

This is the contract between the engine (which fills the columns), the result writer (which
stores them as Parquet), the statistics and plots (which read them) and the documentation
(whose output-columns page is generated from it). Each column is declared once, here: its
stored unit, one sentence saying what it measures, whether more of it is better, and how a
person reads it: a label in words ("Cumulative export value"), the unit shown ("USD bn") and
the divisor from the stored unit to the shown one. :func:`display` gives that reading for
any column, summary row or drawn input; :func:`number` and :func:`unit` write a value as
every table, figure and report shows it. The Parquet files keep the raw names and units.
Production columns are one per commodity in the scenario (``production_<commodity>``).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of a result table: ``name`` and ``unit`` as stored, what it means, which
    direction is better for the programme's aims ("higher", "lower" or ""), and how it is
    shown: ``label`` in words, the ``shown`` unit (default: the stored unit's, e.g. "USD bn"
    for "USD") and the ``scale`` dividing stored values into it (default: the stored unit's).
    A quantity is at least 0 (or within 0 to 1 for a share) unless ``signed``."""

    name: str
    unit: str
    meaning: str
    better: str = ""
    label: str = ""
    shown: str = ""
    scale: float | None = None
    signed: bool = False

    @property
    def display(self) -> Display:
        default_unit, default_scale = _UNIT_DISPLAY.get(self.unit, (self.unit, 1.0))
        scale = self.scale if self.scale is not None else default_scale
        return Display(self.label or _words(self.name), self.shown or default_unit, scale, self.bounds)

    @property
    def bounds(self) -> tuple[float, float]:
        """What the quantity can be, in the stored unit: a share or flag lies in [0, 1]."""
        if self.signed or self.unit in ("-", "category", "commodity unit"):
            return (-math.inf, math.inf)
        return (0.0, 1.0) if self.unit in ("0-1", "bool") else (0.0, math.inf)


def better_direction(name: str) -> str:
    """Whether more of outcome ``name`` is better ("higher"), worse ("lower") or neither ("")."""
    return next((c.better for c in OUTCOMES if c.name == name), "")


OUTCOMES: tuple[Column, ...] = (
    Column("replication", "-", "Replication index i; its random streams derive from SeedSequence(seed, spawn_key=(i,)).", label="Replication"),
    Column("phase2_year", "yr", "Years from the start date until the programme enters Phase 2 (commercial scaling); NaN if not within the horizon.", better="lower", label="Time to reach Phase 2", shown="years since start"),
    Column("phase3_year", "yr", "Years from the start date until the programme enters Phase 3 (significant impact); NaN if not within the horizon.", better="lower", label="Time to reach Phase 3", shown="years since start"),
    Column("stalled", "bool", "True if investors exited: confidence stayed below the stall floor for the stall period.", better="lower", label="Stalled within the horizon", shown="% of replications", scale=0.01),
    Column("stall_year", "yr", "When the programme stalled; NaN if it did not.", label="Time to stall", shown="years since start"),
    Column("cumulative_export_value_usd", "USD", "Export value over the horizon, valued at the rung of the value ladder at which product left Pakistan.", better="higher", label="Cumulative export value"),
    Column("domestic_value_added_usd", "USD", "Value of the processing rungs performed in Pakistan (above mine-gate concentrate) over the horizon.", better="higher", label="Domestic value added"),
    Column("domestic_value_added_share", "0-1", "domestic_value_added_usd / cumulative_export_value_usd; NaN if nothing was exported.", better="higher", label="Domestic value-added share", shown="% of export value", scale=0.01),
    Column("china_processed_share", "0-1", "Share of processed output (by refined-value equivalent) that went through Chinese processing; NaN if nothing was processed.", better="lower", label="Share processed via China", shown="% of processed output", scale=0.01),
    Column("security_incidents", "count", "Attacks that hit the mineral sector (a site, a convoy, foreign staff) over the horizon.", better="lower", label="Security incidents"),
    Column("downtime_days", "site-days", "Site-days of production lost to security suspensions and infrastructure outages.", better="lower", label="Downtime"),
    Column("tariff_cost_usd", "USD", "U.S. duties on Pakistani mineral exports over the horizon (reciprocal tariff on non-exempt product plus product duties).", better="lower", label="U.S. tariff cost"),
    Column("us_duties_all_exports_usd", "USD", "U.S. duties on all of Pakistan's exports to the United States over the horizon: the reciprocal tariff on its other goods (textiles above all) plus the duties on minerals (tariff_cost_usd).", better="lower", label="U.S. duties on all exports"),
    Column("arbitration_awards_usd", "USD", "Arbitration awards against Pakistan after policy reversals over the horizon (sized like Reko Diq's award, relative to the project's capex).", better="lower", label="Arbitration awards"),
    Column("capex_usd", "USD", "Capital spent on the mines and the domestic refinery within the horizon, overruns included (undiscounted).", label="Capital spent"),
    Column("npv_usd", "USD", "Net present value at the scenario's start of the programme's cash flows (revenue less capex, opex, security cost, tariff incidence), discounted at the base rate plus a confidence-driven risk premium.", better="higher", label="Net present value", signed=True),
    Column("peak_annual_export_usd", "USD/yr", "Largest export value earned in any one model year.", better="higher", label="Peak annual export value"),
    Column("final_mining_gdp_share", "0-1", "Mining's share of GDP in the final year: the sector's base value added plus the programme's export value, over GDP grown at the scenario's rate.", better="higher", label="Mining share of GDP, final year", shown="% of GDP", scale=0.01),
    Column("stockpile_end_value_usd", "USD", "Concentrate held unprocessed at the horizon, valued at mine-gate prices.", label="Unprocessed stockpile at horizon"),
    Column("events", "count", "Simulation events processed in the replication.", label="Simulation events"),
)

TIMESERIES: tuple[Column, ...] = (
    Column("replication", "-", "Replication index.", label="Replication"),
    Column("year", "yr", "Model year k = 1..horizon; flows are totals over (k-1, k], states are read at k.", label="Model year", shown="years since start"),
    Column("phase", "1-3", "Programme phase at the end of the year.", label="Programme phase", shown="phase"),
    Column("production_<commodity>", "commodity unit", "Output mined in the year, per commodity (t of contained product; gold in oz).", label="Production"),
    Column("export_value_usd", "USD", "Export value earned in the year.", label="Export value", shown="USD bn per year", scale=1e+09),
    Column("export_value_<commodity>_usd", "USD", "Part of the year's export value earned by one commodity.", label="Export value", shown="USD bn per year", scale=1e+09),
    Column("export_value_us_usd", "USD", "Part of the year's export value sold to the United States.", label="Export value to the U.S.", shown="USD bn per year", scale=1e+09),
    Column("export_value_china_usd", "USD", "Part of the year's export value sold to or through China.", label="Export value to China", shown="USD bn per year", scale=1e+09),
    Column("export_value_other_usd", "USD", "Part of the year's export value sold to other markets.", label="Export value to other markets", shown="USD bn per year", scale=1e+09),
    Column("domestic_value_added_usd", "USD", "Value added by processing in Pakistan in the year.", label="Domestic value added", shown="USD bn per year", scale=1e+09),
    Column("china_processed_share", "0-1", "Share of the year's processed output that went through China (NaN if nothing was processed).", label="Share processed via China", shown="% of processed output", scale=0.01),
    Column("incidents", "count", "Security incidents on the mineral sector in the year.", label="Security incidents"),
    Column("downtime_days", "site-days", "Site-days lost in the year.", label="Downtime"),
    Column("confidence", "0-1", "Investor confidence at the end of the year.", label="Investor confidence", shown="0–1 index", scale=1),
    Column("us_tariff_rate", "0-1", "U.S. reciprocal tariff rate on Pakistani goods at the end of the year.", label="U.S. reciprocal tariff rate", shown="%", scale=0.01),
    Column("us_duties_all_exports_usd", "USD", "U.S. duties paid in the year on all of Pakistan's exports to the United States, minerals included.", label="U.S. duties on all exports", shown="USD bn per year", scale=1e+09),
    Column("price_<commodity>_usd", "USD/unit", "Price of the refined product outside China at the end of the year (with the non-Chinese premium the controls support), per unit of the commodity (t; gold oz).", label="Price ex-China", shown="USD per unit", scale=1),
    Column("price_china_<commodity>_usd", "USD/unit", "China's domestic price of the refined product at the end of the year, for a controlled commodity with a non-Chinese premium.", label="Price in China", shown="USD per unit", scale=1),
    Column("attacks_<province>", "count", "Attacks in the province in the year, on any target (those on the mineral sector are the incidents).", label="Attacks in the region"),
    Column("china_regime_<group>", "category", "China's export-control regime on a controlled group at the end of the year: open, licensing, restricted or embargo.", label="China's export-control regime"),
)

CHINA_REGIMES: tuple[str, ...] = ("open", "licensing", "restricted", "embargo")

# The outcomes summarised, histogrammed and printed at the end of a run.
HEADLINE: tuple[str, ...] = (
    "phase2_year",
    "phase3_year",
    "cumulative_export_value_usd",
    "domestic_value_added_share",
    "china_processed_share",
    "security_incidents",
    "downtime_days",
    "tariff_cost_usd",
    "npv_usd",
)


# --- how columns are shown: labels, units and scales for tables, figures and reports ---


@dataclass(frozen=True)
class Display:
    """How one quantity is shown: a readable label, the unit shown, the divisor from the
    stored value to the shown one, and the range the stored value can take (``bounds``)."""

    label: str
    unit: str
    scale: float = 1.0
    bounds: tuple[float, float] = (-math.inf, math.inf)

    @property
    def axis_label(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label

    @property
    def short_unit(self) -> str:
        """The unit as written after a number: "2.5 yr", "72 USD bn", "29%"."""
        if self.unit.startswith("%"):
            return "%"
        if self.unit.startswith("years"):
            return " yr"
        if self.unit.startswith("USD bn"):
            return " USD bn"
        return "" if self.unit in ("", "value", "count") else f" {self.unit}"

    @property
    def difference_unit(self) -> str:
        """The unit of a difference of two values: percentage points for a percentage, years
        for a time since start."""
        if self.unit.startswith("%"):
            return "percentage points"
        return "years" if self.unit.startswith("years since") else self.unit

    def clip(self, value: float) -> float:
        """``value`` (stored units) moved inside what the quantity can be: an interval
        around a share near 0 does not reach below 0%."""
        low, high = self.bounds
        return min(max(value, low), high)


_UNIT_DISPLAY: dict[str, tuple[str, float]] = {
    "USD": ("USD bn", 1e9),
    "USD/yr": ("USD bn per year", 1e9),
    "0-1": ("%", 0.01),
    "yr": ("years", 1.0),
    "bool": ("% of replications", 0.01),
    "-": ("", 1.0),
}
_PROBABILITY = re.compile(r"P\(phase(\d) by year ([\d.]+)\)")


def display(column: str) -> Display:
    """How ``column`` is labelled and scaled (money in USD bn, shares in %): an outcome
    column, a time-series column (:func:`series_display` for those whose name is in both),
    a probability row of the summary (``P(phase3 by year 15)``, ``P(stalled)``) or a drawn
    input or sweep factor, named by its dotted path."""
    declared = _declared(column, _OUTCOME_COLUMNS) or _declared(column, _SERIES_COLUMNS)
    if declared is not None:
        return declared
    if column.startswith("P("):  # a probability row of the summary
        return Display(probability_label(column), "% of replications", 0.01, (0.0, 1.0))
    if "." in column:
        return parameter_display(column)
    if column.endswith("_usd"):
        return Display(_words(column.removesuffix("_usd")), "USD bn", 1e9)
    return Display(_words(column), "value")


def series_display(column: str) -> Display:
    """How a time-series column is shown (its flows are per year)."""
    return _declared(column, _SERIES_COLUMNS) or display(column)


def _declared(column: str, declared: dict[str, Column]) -> Display | None:
    """How a declared column is shown; one of a family (``production_<commodity>``) has
    the family's label followed by its key in words: "Production: rare earths"."""
    found = declared.get(column)
    if found is not None:
        return found.display
    for pattern, family in _families(tuple(declared.values())):
        key = pattern.fullmatch(column)
        if key is not None:
            shown = family.display
            return Display(f"{shown.label}: {key[1].replace('_', ' ')}", shown.unit, shown.scale, shown.bounds)
    return None


@functools.cache
def _families(columns: tuple[Column, ...]) -> tuple[tuple[re.Pattern[str], Column], ...]:
    """The declared families of columns (a name with a ``<key>`` part), as patterns, the
    most specific first (``price_china_<commodity>_usd`` before ``price_<commodity>_usd``)."""
    families = sorted((c for c in columns if "<" in c.name), key=lambda c: -len(re.sub(r"<[a-z]+>", "", c.name)))
    return tuple((re.compile(re.sub(r"<[a-z]+>", "([a-z0-9_]+?)", re.escape(c.name))), c) for c in families)


def probability_label(quantity: str) -> str:
    """A probability row of the summary in words: "Phase 3 reached within 15 years"."""
    if quantity == "P(stalled)":
        return "Stalled within the horizon"
    found = _PROBABILITY.fullmatch(quantity)
    if found is None:
        return quantity
    return f"Phase {found[1]} reached within {found[2]} years"


def in_sentence(label: str) -> str:
    """A label as it reads inside a sentence: "time to reach Phase 3", but "U.S. tariff cost"."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() or "." in first else label[:1].lower() + label[1:]


def _words(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]  # not str.capitalize, which would lower "U.S." and "NPV"


# --- drawn inputs and sweep factors, named by their dotted path ---------------------------

_SECTION_WORDS = {"security": "Security", "tariff": "U.S. tariff", "refining": "China's refining controls",
                  "levers": "Lever", "market": "Market", "refinery": "Refinery"}
_KEYED = {"projects", "commodities", "provinces", "phases", "ramp_up_classes", "routing", "output", "capacity",
          "consequences"}
_ITEM_WORDS = {"phases": "phase", "scheduled": "change", "schedule": "change"}
_PARAMETER_UNITS = {"x": "multiplier", "0-1": "share, 0\u20131", "1/yr": "per year", "-": ""}


def parameter_display(path: str) -> Display:
    """A scenario parameter in words with its unit, for axes and column heads:
    ``projects.reko_diq.phases.0.schedule_overrun`` reads "Reko Diq phase 1: schedule
    overrun (multiplier)". Values are shown as given in the scenario file (scale 1)."""
    parts = path.split(".")
    context: list[str] = []
    for previous, part in zip(["", *parts], parts[:-1], strict=False):
        if part.isdigit():
            counted = f"{_ITEM_WORDS.get(previous, 'item')} {int(part) + 1}"
            context[-1:] = [f"{context[-1]} {counted}"] if context else [counted]
        elif previous in _KEYED:  # a key the scenario chose: a project, a province, a commodity
            context.append(part.replace("_", " ").title())
        elif part not in ("projects", "commodities", "provinces", "phases", "shocks", "processing"):
            context.append(_SECTION_WORDS.get(part) or part.replace("_", " "))
    leaf = parts[-1].removesuffix("_usd").replace("_", " ")
    label = _words(f"{', '.join(context)}: {leaf}" if context else leaf)
    stored = _parameter_unit(path)
    return Display(label, _PARAMETER_UNITS.get(stored, stored) if stored else "")


def _parameter_unit(path: str) -> str | None:
    return next((unit for pattern, unit in _parameter_units() if pattern.fullmatch(path)), None)


@functools.cache
def _parameter_units() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each scenario parameter's path pattern (``projects.<project>.phases.<i>.build_years``,
    as a regular expression) with its unit, from the schema (imported here, as it imports
    this module)."""
    from .reference import parameter_rows

    return tuple((re.compile(re.sub(r"<[a-z]+>", r"[^.]+", re.escape(row["path"]))), str(row["unit"]))
                 for row in parameter_rows())


# --- numbers as people read them ----------------------------------------------------------


def format_number(value: float, *, whole: bool = False, small_digits: int = 2) -> str:
    """A number for a label or table: thousands separated from 100, one decimal from 10,
    two from 1, ``small_digits`` below 1."""
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if (whole and value == round(value)) or magnitude >= 100:
        text = f"{value:,.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}" if magnitude >= 1 else f"{value:.{small_digits}f}"
    return text.removeprefix("-") if text.strip("-0.,") == "" else text  # no "-0.000"


def number(name: str, value: object) -> str:
    """A value of ``name`` scaled as shown (USD in bn, shares in %), without its unit; a
    phase or stall year that never came is "not reached"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and not math.isfinite(value):
        if name.startswith(("phase", "stall")):
            return "not reached"
        return "-" if math.isnan(value) else format_number(value)
    if isinstance(value, int) and display(name).scale == 1:
        return f"{value:,}"
    if isinstance(value, int | float):
        shown = display(name)
        if shown.unit == "% of replications":  # a probability: 83.0%, 1.0%, 0.0%, one decimal throughout
            return f"{float(value) / shown.scale:.1f}"
        return format_number(float(value) / shown.scale, small_digits=3)
    return str(value)


def unit(name: str) -> str:
    """The unit written after a number of ``name`` ("yr", "USD bn", "%", or "count")."""
    return display(name).short_unit.strip() or "count"


_OUTCOME_COLUMNS: dict[str, Column] = {c.name: c for c in OUTCOMES}
_SERIES_COLUMNS: dict[str, Column] = {c.name: c for c in TIMESERIES}
