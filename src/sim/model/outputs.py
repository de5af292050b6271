"""What a run reports: the columns of the outcome and time-series tables, and how people read them.

This is the contract between the engine (which fills the columns), the result writer (which
stores them as Parquet), the statistics and plots (which read them) and the documentation
(whose output-columns page is generated from it). Each column is declared once, as a
:class:`~sim.model.columns.Column` beside the part of the model that fills it, with its stored
unit, one sentence saying what it measures, whether more of it is better, and how a person
reads it: a label in words ("Cumulative export value"), the unit shown ("USD bn") and the
divisor from the stored unit to the shown one; the tables gathered here are read from
there. :func:`display` gives that reading for any column, summary row or drawn input;
:func:`number` and :func:`unit` write a value as every table, figure and report shows it.
The Parquet files keep the raw names and units.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import accounting, finance, program, security, tariffs, world
from .columns import Column, Display, words

if TYPE_CHECKING:
    from ..scenario.schema import Scenario

OUTCOMES: tuple[Column, ...] = world.OUTCOMES
"""The outcome table's columns, one row per replication, as the model's parts declare them."""
TIMESERIES: tuple[Column, ...] = world.SERIES
"""The time-series table's columns, one row per replication and model year; a family
(``price_<commodity>_usd``) stands for one column per commodity, province or group."""


def better_direction(name: str) -> str:
    """Whether more of outcome ``name`` is better ("higher"), worse ("lower") or neither ("")."""
    return next((c.better for c in OUTCOMES if c.name == name), "")


HEADLINE: tuple[str, ...] = tuple(c.name for c in (
    program.PHASE2_YEAR, program.PHASE3_YEAR, accounting.EXPORTS, accounting.VALUE_ADDED_SHARE,
    accounting.CHINA_SHARE, security.SECURITY_INCIDENTS, accounting.DOWNTIME, tariffs.TARIFF_COST, accounting.NPV))
"""The outcomes summarised, histogrammed and printed at the end of a run."""


def headline(scenario: Scenario) -> tuple[str, ...]:
    """The outcomes printed for a run of ``scenario``: :data:`HEADLINE`, what the state takes
    and what the investors' NPV is, then, for each commodity under China's export controls
    (rare earths and antimony in the shipped scenarios), its own domestic value-added share
    and China-processed share, since the programme's are mostly copper's."""
    controlled = [c for c in scenario.commodities
                  if any(c in group.commodities for group in scenario.shocks.refining.groups.values())]
    per_commodity = (accounting.VALUE_ADDED_SHARE_OF, accounting.CHINA_SHARE_OF)
    money = (finance.STATE_TAKE.name, finance.INVESTOR_NPV.name)
    return HEADLINE + money + tuple(column.of(c) for c in controlled for column in per_commodity)


# --- how columns are shown: labels, units and scales for tables, figures and reports ---


_PROBABILITY = re.compile(r"P\(phase(\d) by year ([\d.]+)\)")


def display(column: str) -> Display:
    """How ``column`` is labelled and scaled (money in USD bn, shares in %): an outcome
    column, a time-series column (:func:`series_display` for those whose name is in both),
    a probability row of the summary (``P(phase3 by year 15)``, ``P(stalled)``) or a drawn
    input or sweep factor, named by its dotted path."""
    declared = _declared(column, OUTCOMES) or _declared(column, TIMESERIES)
    if declared is not None:
        return declared
    if column.startswith("P("):  # a probability row of the summary
        return Display(probability_label(column), "% of replications", 0.01, (0.0, 1.0))
    if "." in column:
        return parameter_display(column)
    if column.endswith("_usd"):
        return Display(words(column.removesuffix("_usd")), "USD bn", 1e9)
    return Display(words(column), "value")


def series_display(column: str) -> Display:
    """How a time-series column is shown (its flows are per year)."""
    return _declared(column, TIMESERIES) or display(column)


def declaration(column: str, table: tuple[Column, ...] = OUTCOMES) -> tuple[Column, str | None] | None:
    """The declared column of ``table`` (:data:`OUTCOMES` or :data:`TIMESERIES`) that
    ``column`` is, with the key of a family's member ("rare_earths" for
    ``price_rare_earths_usd``; None for a single column), or None if none is."""
    found = _named(table).get(column)
    if found is not None:
        return found, None
    for pattern, family in _families(table):
        key = pattern.fullmatch(column)
        if key is not None:
            return family, key[1]
    return None


def members(table: tuple[Column, ...], columns: Iterable[str]) -> list[tuple[str, Column]]:
    """The names among ``columns`` that ``table`` declares, each with its declaration, in the
    table's order; the members of a family (``rare_earths_exports_usd``, ...) in the order
    ``columns`` gives."""
    found: dict[str, list[str]] = {c.name: [] for c in table}
    for name in columns:
        hit = declaration(name, table)
        if hit is not None:
            found[hit[0].name].append(name)
    return [(name, c) for c in table for name in found[c.name]]


def is_outcome(column: str) -> bool:
    """Whether ``column`` of an outcome table is an outcome (declared, or a member of a
    declared family), rather than a drawn input or a sweep's varied value."""
    return declaration(column, OUTCOMES) is not None


def _declared(column: str, table: tuple[Column, ...]) -> Display | None:
    """How a declared column is shown; one of a family (``production_<commodity>``) has
    the family's label followed by its key in words: "Production: rare earths"."""
    found = declaration(column, table)
    if found is None:
        return None
    declared, key = found
    shown = declared.display
    if key is None:
        return shown
    return Display(f"{shown.label}: {key.replace('_', ' ')}", shown.unit, shown.scale, shown.bounds)


@functools.cache
def _named(table: tuple[Column, ...]) -> dict[str, Column]:
    return {c.name: c for c in table}


@functools.cache
def _families(columns: tuple[Column, ...]) -> tuple[tuple[re.Pattern[str], Column], ...]:
    """The declared families of columns (a name with a ``<key>`` part), as patterns, the
    most specific first (``price_china_<commodity>_usd`` before ``price_<commodity>_usd``)."""
    families = sorted((c for c in columns if "<" in c.name), key=lambda c: -len(re.sub(r"<[a-z]+>", "", c.name)))
    return tuple((re.compile(re.sub(r"<[a-z]+>", "([a-z0-9_]+?)", re.escape(c.name))), c) for c in families)


def probability_label(quantity: str) -> str:
    """A probability row of the summary in words: "Phase 3 reached within 15 years"."""
    flag = _declared_flag(quantity)
    if flag is not None:
        return flag
    found = _PROBABILITY.fullmatch(quantity)
    if found is None:
        return quantity
    return f"Phase {found[1]} reached within {found[2]} years"


def _declared_flag(quantity: str) -> str | None:
    """The label of a flag's probability row ``P(<flag>)`` (``P(stalled)``), or None."""
    if quantity.startswith("P(") and quantity.endswith(")"):
        column = next((c for c in OUTCOMES if c.name == quantity[2:-1] and c.unit == "bool"), None)
        if column is not None:
            return column.display.label
    return None


def in_sentence(label: str) -> str:
    """A label as it reads inside a sentence: "time to reach Phase 3", but "U.S. tariff cost"."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() or "." in first else label[:1].lower() + label[1:]


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
    label = words(f"{', '.join(context)}: {leaf}" if context else leaf)
    stored = _parameter_unit(path)
    return Display(label, _PARAMETER_UNITS.get(stored, stored) if stored else "")


def _parameter_unit(path: str) -> str | None:
    return next((unit for pattern, unit in _parameter_units() if pattern.fullmatch(path)), None)


@functools.cache
def _parameter_units() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each scenario parameter's path pattern (``projects.<project>.phases.<i>.build_years``,
    as a regular expression) with its unit, from the schema (imported here, as it imports
    this module)."""
    from ..scenario.reference import parameter_rows

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

