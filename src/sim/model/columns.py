"""The declaration of a result column: what one number a replication reports means and how a person reads it.

Each part of the model declares the columns it makes, beside the code that makes them (the
programme its phase dates, the ledger its flows of money, security its attack counts, the
market its prices), and reads the column's name from that declaration when it fills it, so
a name is written once. :mod:`sim.model.outputs` gathers the declarations into the outcome and
time-series tables that everything downstream (the result writer, the statistics, the
plots, the report and the documentation) reads.

A column is stored in a unit (``USD``, ``0-1``, ``yr``, ...) and shown in another (USD bn,
%, years): :class:`Display` is that reading, with the range the stored value can take.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

_KEY = re.compile(r"<[a-z]+>")


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


UNIT_DISPLAY: dict[str, tuple[str, float]] = {
    "USD": ("USD bn", 1e9),
    "USD/yr": ("USD bn per year", 1e9),
    "0-1": ("%", 0.01),
    "yr": ("years", 1.0),
    "bool": ("% of replications", 0.01),
    "-": ("", 1.0),
}
"""The unit a stored unit is shown in, and the divisor into it."""

_MEMBERS: dict[tuple[str, str], str] = {}
"""Family members' names as :meth:`Column.of` made them (each replication's outcomes name
the same ones)."""


@dataclass(frozen=True)
class Column:
    """One column of a result table: ``name`` and ``unit`` as stored, what it means, which
    direction is better for the programme's aims ("higher", "lower" or ""), and how it is
    shown: ``label`` in words, the ``shown`` unit (default: the stored unit's, e.g. "USD bn"
    for "USD") and the ``scale`` dividing stored values into it (default: the stored unit's).
    A quantity is at least 0 (or within 0 to 1 for a share) unless ``signed``.

    A family of columns, one per commodity, province or control group, has a placeholder
    in its name (``price_<commodity>_usd``); :meth:`of` names one member. A column of unit
    "category" stores the index of one of its ``levels``."""

    name: str
    unit: str
    meaning: str
    better: str = ""
    label: str = ""
    shown: str = ""
    scale: float | None = None
    signed: bool = False
    levels: tuple[str, ...] = ()

    @property
    def display(self) -> Display:
        default_unit, default_scale = UNIT_DISPLAY.get(self.unit, (self.unit, 1.0))
        scale = self.scale if self.scale is not None else default_scale
        return Display(self.label or words(self.name), self.shown or default_unit, scale, self.bounds)

    @property
    def bounds(self) -> tuple[float, float]:
        """What the quantity can be, in the stored unit: a share or flag lies in [0, 1]."""
        if self.signed or self.unit in ("-", "category", "commodity unit"):
            return (-math.inf, math.inf)
        return (0.0, 1.0) if self.unit in ("0-1", "bool") else (0.0, math.inf)

    @property
    def family(self) -> str | None:
        """What the family's members are keyed by ("commodity", "province", "group"), or
        None for a single column."""
        found = _KEY.search(self.name)
        return found[0][1:-1] if found else None

    def of(self, key: str) -> str:
        """The name of the family's member for ``key``: ``price_<commodity>_usd`` of
        "antimony" is ``price_antimony_usd``."""
        found = _MEMBERS.get((self.name, key))
        if found is None:
            found = _MEMBERS[(self.name, key)] = _KEY.sub(key, self.name, count=1)
        return found

    def yearly(self, meaning: str) -> Column:
        """The same quantity as a yearly series (one value per model year), with its own
        sentence; money is shown per year."""
        if self.unit == "USD":
            return dataclasses.replace(self, meaning=meaning, better="", shown="USD bn per year", scale=1e9)
        return dataclasses.replace(self, meaning=meaning, better="")


def words(name: str) -> str:
    """A column or field name in words: "export_value_usd" reads "Export value usd"."""
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]  # not str.capitalize, which would lower "U.S." and "NPV"
