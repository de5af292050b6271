"""What a run reports: the columns of the outcome and time-series tables.

This is the contract between the engine (which fills the columns), the result writer
(which stores them as Parquet), the statistics and plots (which read them) and the README
(which documents them). Each column has a unit and one sentence saying what it measures;
:func:`display` says how figures, tables and reports label and scale it.
Production columns are one per commodity in the scenario (``production_<commodity>``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    unit: str
    meaning: str
    better: str = ""  # "higher" or "lower" for the programme's aims; "" where neither is


def better_direction(name: str) -> str:
    """Whether more of outcome ``name`` is better ("higher"), worse ("lower") or neither ("")."""
    return next((c.better for c in OUTCOMES if c.name == name), "")


OUTCOMES: tuple[Column, ...] = (
    Column("replication", "-", "Replication index i; its random streams derive from SeedSequence(seed, spawn_key=(i,))."),
    Column("phase2_year", "yr", "Years from the start date until the programme enters Phase 2 (commercial scaling); NaN if not within the horizon.", better="lower"),
    Column("phase3_year", "yr", "Years from the start date until the programme enters Phase 3 (significant impact); NaN if not within the horizon.", better="lower"),
    Column("stalled", "bool", "True if investors exited: confidence stayed below the stall floor for the stall period.", better="lower"),
    Column("stall_year", "yr", "When the programme stalled; NaN if it did not."),
    Column("cumulative_export_value_usd", "USD", "Export value over the horizon, valued at the rung of the value ladder at which product left Pakistan.", better="higher"),
    Column("domestic_value_added_usd", "USD", "Value of the processing rungs performed in Pakistan (above mine-gate concentrate) over the horizon.", better="higher"),
    Column("domestic_value_added_share", "0-1", "domestic_value_added_usd / cumulative_export_value_usd; NaN if nothing was exported.", better="higher"),
    Column("china_processed_share", "0-1", "Share of processed output (by refined-value equivalent) that went through Chinese processing; NaN if nothing was processed.", better="lower"),
    Column("security_incidents", "count", "Attacks that hit the mineral sector (a site, a convoy, foreign staff) over the horizon.", better="lower"),
    Column("downtime_days", "site-days", "Site-days of production lost to security suspensions and infrastructure outages.", better="lower"),
    Column("tariff_cost_usd", "USD", "U.S. duties on Pakistani mineral exports over the horizon (reciprocal tariff on non-exempt product plus product duties).", better="lower"),
    Column("arbitration_awards_usd", "USD", "Arbitration awards against Pakistan after policy reversals over the horizon (sized like Reko Diq's award, relative to the project's capex).", better="lower"),
    Column("capex_usd", "USD", "Capital spent on the mines and the domestic refinery within the horizon, overruns included (undiscounted)."),
    Column("npv_usd", "USD", "Net present value at the scenario's start of the programme's cash flows (revenue less capex, opex, security cost, tariff incidence), discounted at the base rate plus a confidence-driven risk premium.", better="higher"),
    Column("peak_annual_export_usd", "USD/yr", "Largest export value earned in any one model year.", better="higher"),
    Column("final_mining_gdp_share", "0-1", "Mining's share of GDP in the final year: the sector's base value added plus the programme's export value, over GDP grown at the scenario's rate.", better="higher"),
    Column("stockpile_end_value_usd", "USD", "Concentrate held unprocessed at the horizon, valued at mine-gate prices."),
    Column("events", "count", "Simulation events processed in the replication."),
)

TIMESERIES: tuple[Column, ...] = (
    Column("replication", "-", "Replication index."),
    Column("year", "yr", "Model year k = 1..horizon; flows are totals over (k-1, k], states are read at k."),
    Column("phase", "1-3", "Programme phase at the end of the year."),
    Column("production_<commodity>", "commodity unit", "Output mined in the year, per commodity (t of contained product; gold in oz)."),
    Column("export_value_usd", "USD", "Export value earned in the year."),
    Column("export_value_us_usd", "USD", "Part of the year's export value sold to the United States."),
    Column("export_value_china_usd", "USD", "Part of the year's export value sold to or through China."),
    Column("export_value_other_usd", "USD", "Part of the year's export value sold to other markets."),
    Column("domestic_value_added_usd", "USD", "Value added by processing in Pakistan in the year."),
    Column("china_processed_share", "0-1", "Share of the year's processed output that went through China (NaN if nothing was processed)."),
    Column("incidents", "count", "Security incidents on the mineral sector in the year."),
    Column("downtime_days", "site-days", "Site-days lost in the year."),
    Column("confidence", "0-1", "Investor confidence at the end of the year."),
    Column("us_tariff_rate", "0-1", "U.S. reciprocal tariff rate on Pakistani goods at the end of the year."),
    Column("china_regime", "category", "China's export-control regime at the end of the year: open, licensing, restricted or embargo."),
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


# --- how columns are shown: labels, units and scales for figures, tables and reports ---


@dataclass(frozen=True)
class Display:
    """How one quantity is shown: a readable label, the axis unit, and the divisor to apply."""

    label: str
    unit: str
    scale: float = 1.0

    @property
    def axis_label(self) -> str:
        return f"{self.label} ({self.unit})"

    @property
    def short_unit(self) -> str:
        """The unit as written after a number: "2.5 yr", "72 USD bn", "29%"."""
        if self.unit.startswith("%"):
            return "%"
        if self.unit.startswith("years"):
            return " yr"
        if self.unit.startswith("USD bn"):
            return " USD bn"
        return "" if self.unit in ("value", "count") else f" {self.unit}"


_DISPLAY: dict[str, Display] = {
    "phase2_year": Display("Time to reach Phase 2", "years since start"),
    "phase3_year": Display("Time to reach Phase 3", "years since start"),
    "stall_year": Display("Time to stall", "years since start"),
    "cumulative_export_value_usd": Display("Cumulative export value", "USD bn", 1e9),
    "domestic_value_added_usd": Display("Domestic value added", "USD bn", 1e9),
    "domestic_value_added_share": Display("Domestic value-added share", "% of export value", 0.01),
    "china_processed_share": Display("Processed via China", "% of processed output", 0.01),
    "security_incidents": Display("Security incidents", "count"),
    "downtime_days": Display("Downtime", "site-days"),
    "tariff_cost_usd": Display("U.S. tariff cost", "USD bn", 1e9),
    "stalled": Display("Stalled within the horizon", "% of replications", 0.01),
    "arbitration_awards_usd": Display("Arbitration awards", "USD bn", 1e9),
    "npv_usd": Display("Net present value", "USD bn", 1e9),
    "peak_annual_export_usd": Display("Peak annual export value", "USD bn per year", 1e9),
    "final_mining_gdp_share": Display("Mining share of GDP, final year", "% of GDP", 0.01),
    "stockpile_end_value_usd": Display("Unprocessed stockpile at horizon", "USD bn", 1e9),
    "export_value_usd": Display("Export value", "USD bn per year", 1e9),
    "export_value_us_usd": Display("Export value to the U.S.", "USD bn per year", 1e9),
    "export_value_china_usd": Display("Export value to China", "USD bn per year", 1e9),
    "export_value_other_usd": Display("Export value to other markets", "USD bn per year", 1e9),
    "confidence": Display("Investor confidence", "0\u20131 index"),
    "us_tariff_rate": Display("U.S. reciprocal tariff rate", "%", 0.01),
}
_UNIT_DISPLAY: dict[str, tuple[str, float]] = {
    "USD": ("USD bn", 1e9),
    "USD/yr": ("USD bn per year", 1e9),
    "0-1": ("%", 0.01),
    "yr": ("years", 1.0),
}


def display(column: str) -> Display:
    """How ``column`` is labelled and scaled in figures (money in USD bn, shares in %)."""
    if column in _DISPLAY:
        return _DISPLAY[column]
    if column.startswith("P("):  # a probability row of the summary
        return Display(column, "% of replications", 0.01)
    known = {c.name: c.unit for c in (*OUTCOMES, *TIMESERIES)}
    unit = known.get(column)
    if unit is None and column.endswith("_usd"):
        unit = "USD"
    label = column.replace("_", " ")
    if unit in _UNIT_DISPLAY:
        shown, scale = _UNIT_DISPLAY[unit]
        return Display(label, shown, scale)
    return Display(label, unit if unit and unit != "-" else "value")


def format_number(value: float, *, whole: bool = False, small_digits: int = 2) -> str:
    """A number for a label or table: thousands separated from 100, one decimal from 10,
    two from 1, ``small_digits`` below 1."""
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if (whole and value == round(value)) or magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if magnitude >= 1 else f"{value:.{small_digits}f}"
