"""Scenario discovery: which regions of the uncertain inputs lead to an outcome of interest.

A run saves, next to each replication's outcomes, the inputs drawn for it (durations,
overruns, resource factors ...), and a sweep adds the values of the factors it varied.
Scenario discovery asks the reverse question of a run: given a condition on an outcome
("Phase 3 later than year 15", "the programme stalled"), which simple boxes of input space
hold most of the replications that meet it, and few of those that do not?

The boxes come from a classification tree (CART, scikit-learn's ``DecisionTreeClassifier``;
Breiman et al. 1984, as used for scenario discovery by Lempert et al. 2008): each leaf the
tree assigns to the outcome of interest is a box, a conjunction of one-sided limits on a
few inputs. Each box is reported with the three measures of that literature:

- **coverage**: the share of all cases of interest that fall in the box;
- **density**: the share of cases in the box that are of interest (against the base rate,
  the share among all cases);
- **support**: the share of all cases that fall in the box.

Classes are weighted so that a leaf is "of interest" when its density is above the base
rate; a rare outcome still gets boxes. A phase or stall year that was never reached (empty
in the table) counts as later than any year: "phase3_year > 15" includes the replications
that never reached Phase 3 within the horizon.
"""

from __future__ import annotations

import math
import operator
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..experiment.manifest import Manifest
from ..experiment.results import atomic_write, read_columns
from ..model.outputs import Display, display, is_outcome

OPERATORS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
             "<": operator.lt, ">": operator.gt}
_CONDITION = re.compile(r"^\s*(?P<column>[A-Za-z_][\w.]*)?\s*(?P<op><=|>=|==|!=|<|>)\s*"
                        r"(?P<value>[^\s%]+?)\s*(?P<unit>%|bn|USD\s*bn)?\s*$", re.IGNORECASE)
UNITS = {"%": 0.01, "bn": 1e9}
"""Units a condition's value may be written in, as the summary prints the outcome: a share in
percent (``> 40%``), money in billions of U.S. dollars (``> 5bn`` or ``> 5 USD bn``)."""
_BOOKKEEPING = frozenset({"point", "replication", "events"})
"""Columns of an outcome table that are not inputs (everything else is a drawn input or a
sweep factor, named by its scenario path)."""


class DiscoveryError(UsageError):
    """The condition or the table cannot be used for discovery."""


@dataclass(frozen=True)
class Condition:
    """``column op value``, the value in the column's stored unit (a share as 0-1, money in
    USD); ``unit`` is the unit it was written in (``%``, ``bn`` or none), to say it back."""

    column: str
    op: str
    value: float | bool
    unit: str = ""

    def __str__(self) -> str:
        if isinstance(self.value, bool):
            return f"{self.column} {self.op} {str(self.value).lower()}"
        return f"{self.column} {self.op} {self.value / UNITS.get(self.unit, 1.0):g}{self.unit}"

    def nothing_to_tell_apart(self, outcomes: pd.DataFrame, interest: np.ndarray) -> DiscoveryError:
        """The refusal when no replication (or every one) meets the condition: with the range
        the column holds, in its stored unit and as printed, so that a value written in the
        wrong unit (40 for a share of 0.4) shows at once."""
        which = "no" if not interest.any() else "every"
        text = f"{which} replication meets {self}: nothing to tell apart"
        values = outcomes[self.column]
        if pd.api.types.is_bool_dtype(values) or isinstance(self.value, bool):
            return DiscoveryError(text)
        x = values.to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if not len(x):
            return DiscoveryError(f"{text} ({self.column} has no values in this table)")
        lo, hi = float(x.min()), float(x.max())
        shown = display(self.column)
        suffix = _written_unit(shown)
        held = f"{self.column} runs from {lo:.4g} to {hi:.4g} in this table"
        if suffix:
            scale = UNITS[suffix]
            held += f" ({lo / scale:.3g}{suffix} to {hi / scale:.3g}{suffix} as printed)"
            if not self.unit:
                held += f"; if you meant {self.value:g}{suffix}, write '{self.op} {self.value:g}{suffix}'"
        if self.column.endswith("_year"):
            held += "; a year never reached counts as later than any year"
        return DiscoveryError(f"{text}; {held}.")

    def holds(self, outcomes: pd.DataFrame) -> np.ndarray:
        """Which rows meet the condition; a year never reached counts as later than any year."""
        if self.column not in outcomes.columns:
            raise DiscoveryError(f"no outcome {self.column!r} in the table; outcomes: "
                                 f"{', '.join(c for c in outcomes.columns if not is_input(c))}")
        values = outcomes[self.column]
        if pd.api.types.is_bool_dtype(values):
            if not isinstance(self.value, bool) or self.op not in ("==", "!="):
                raise DiscoveryError(f"{self.column} is true or false: use == true or == false")
            return np.asarray(OPERATORS[self.op](values.to_numpy(bool), self.value))
        if isinstance(self.value, bool):
            raise DiscoveryError(f"{self.column} is a number: compare it with a number, e.g. > 15")
        x = values.to_numpy(dtype=float)
        if self.column.endswith("_year"):
            x = np.where(np.isnan(x), math.inf, x)
        return np.asarray(OPERATORS[self.op](x, float(self.value)))


def parse_condition(where: str, outcome: str | None = None) -> Condition:
    """``"> 15"`` with ``outcome``, or the whole ``"phase3_year > 15"``; ``"== true"`` for the
    true-or-false outcomes such as ``stalled``."""
    match = _CONDITION.match(where)
    if not match:
        raise DiscoveryError(f"--where {where!r}: write an operator (<, <=, >, >=, ==, !=) and a value, "
                             "e.g. '> 15' or '== true'")
    column = match["column"] or outcome
    if column is None:
        raise DiscoveryError("which outcome? give --outcome NAME or write it in --where ('phase3_year > 15')")
    if outcome is not None and match["column"] and match["column"] != outcome:
        raise DiscoveryError(f"--outcome {outcome} but --where names {match['column']}")
    text = match["value"].lower()
    unit = "bn" if (match["unit"] or "").lower().endswith("bn") else (match["unit"] or "")
    if text in ("true", "false") and not unit:
        return Condition(column, match["op"], text == "true")
    try:
        value = float(text)
    except ValueError:
        raise DiscoveryError(f"--where {where!r}: {match['value']!r} is not a number, true or false") from None
    if not math.isfinite(value):
        raise DiscoveryError(f"--where {where!r}: give a finite number")
    if unit and _written_unit(display(column)) != unit:
        printed = display(column).unit
        raise DiscoveryError(f"--where {where!r}: {column} is printed in {printed}, not {unit}; "
                             "write the number as stored" + (f" or with {_written_unit(display(column))}"
                                                             if _written_unit(display(column)) else ""))
    return Condition(column, match["op"], value * UNITS.get(unit, 1.0), unit)


def _written_unit(shown: Display) -> str:
    """The unit suffix a value of a column printed as ``shown`` may be written with: ``%`` for
    shares, ``bn`` for money in USD bn, none otherwise."""
    if shown.unit.startswith("%") and shown.scale == 0.01:
        return "%"
    if shown.unit.startswith("USD bn") and shown.scale == 1e9:
        return "bn"
    return ""


@dataclass(frozen=True)
class Limit:
    """What a box requires of one input: a numeric interval, or a set of allowed values."""

    low: float = -math.inf
    high: float = math.inf
    allowed: tuple | None = None

    def describe(self, name: str) -> str:
        if self.allowed is not None:
            return f"{name} in {{{', '.join(map(str, self.allowed))}}}"
        if math.isinf(self.low):
            return f"{name} <= {self.high:.4g}"
        if math.isinf(self.high):
            return f"{name} > {self.low:.4g}"
        return f"{self.low:.4g} < {name} <= {self.high:.4g}"


@dataclass
class Box:
    limits: dict[str, Limit]
    coverage: float
    density: float
    support: float
    cases: int
    of_interest: int

    def describe(self) -> str:
        return " and ".join(limit.describe(name) for name, limit in self.limits.items()) or "(everywhere)"

    def contains(self, inputs: pd.DataFrame) -> np.ndarray:
        return within(self.limits, inputs)


def within(limits: dict[str, Limit], inputs: pd.DataFrame) -> np.ndarray:
    """Which rows of ``inputs`` meet every limit."""
    inside = np.ones(len(inputs), dtype=bool)
    for name, limit in limits.items():
        column = inputs[name]
        if limit.allowed is not None:
            inside &= column.isin(limit.allowed).to_numpy()
        else:
            x = column.to_numpy(dtype=float)
            inside &= (x > limit.low) & (x <= limit.high)
    return inside


@dataclass
class Discovery:
    """The boxes found, best first, and what they were found in."""

    condition: Condition
    boxes: list[Box]
    inputs: pd.DataFrame
    interest: np.ndarray
    importance: pd.Series
    name: str = ""
    """What was searched (the run's or sweep's name), for titles."""

    @property
    def base_rate(self) -> float:
        return float(self.interest.mean())

    def __repr__(self) -> str:
        return (f"<Discovery of {self.condition} in {self.name or 'outcomes'}: {len(self.boxes)} box(es), "
                f"base rate {self.base_rate:.1%}>")

    def _repr_html_(self) -> str:
        return (f"<p>{int(self.interest.sum()):,} of {len(self.interest):,} cases meet <code>{self.condition}</code> "
                f"(base rate {self.base_rate:.1%})</p>" + self.table().to_html(index=False, float_format="{:.2f}".format))

    def plot(self, boxes: int = 5) -> Any:
        """The best box over the two inputs that matter most to it, and every box's coverage
        and density (:func:`sim.present.plots.discovery_chart`)."""
        from ..present.plots import discovery_chart

        return discovery_chart(self, name=self.name or "outcomes", boxes=boxes)

    def write(self, folder: str | os.PathLike[str], *, plots: bool = True) -> list[Path]:
        """``boxes.csv`` and (if asked) ``plots/discovery.png`` in ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        table = self.table()
        atomic_write(out / "boxes.csv", lambda p: table.to_csv(p, index=False))
        written = [out / "boxes.csv"]
        if plots:
            from ..present.plots import save

            written.append(save(self.plot(), out / "plots" / "discovery.png"))
        return written

    def table(self) -> pd.DataFrame:
        """One row per box: its rank, limits in words, coverage, density, support, counts."""
        return pd.DataFrame([{"box": i + 1, "limits": b.describe(), "coverage": b.coverage, "density": b.density,
                              "support": b.support, "cases": b.cases, "of_interest": b.of_interest}
                             for i, b in enumerate(self.boxes)],
                            columns=["box", "limits", "coverage", "density", "support", "cases", "of_interest"])

    def union(self) -> tuple[float, float]:
        """Coverage and density of all the boxes together."""
        inside = np.zeros(len(self.inputs), dtype=bool)
        for b in self.boxes:
            inside |= b.contains(self.inputs)
        hits = int((inside & self.interest).sum())
        return hits / max(int(self.interest.sum()), 1), hits / max(int(inside.sum()), 1)


def input_columns(outcomes: pd.DataFrame) -> list[str]:
    """The drawn inputs and sweep factors of an outcome table that vary."""
    return [c for c in outcomes.columns if is_input(c) and outcomes[c].nunique(dropna=False) > 1]


def is_input(column: str) -> bool:
    """Whether a column of an outcome table is a drawn input or a sweep's varied value (not
    an outcome, not the replication or point number)."""
    return column not in _BOOKKEEPING and not is_outcome(column)


def _encode(inputs: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, object]]]:
    """Numbers for the tree: numeric inputs as they are, each value of a categorical input
    as its own 0/1 column. Returns the matrix and, per column, (input, value or None)."""
    columns: list[np.ndarray] = []
    meaning: list[tuple[str, object]] = []
    for name in inputs.columns:
        series = inputs[name]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            columns.append(series.to_numpy(dtype=float))
            meaning.append((name, None))
        else:
            for value in sorted(series.unique(), key=str):
                columns.append((series == value).to_numpy(dtype=float))
                meaning.append((name, value))
    return np.column_stack(columns), meaning


def discover(outcomes: pd.DataFrame, condition: Condition, *, inputs: Sequence[str] | None = None,
             max_depth: int = 4, min_support: float = 0.05, seed: int = 1) -> Discovery:
    """Boxes of the inputs where ``condition`` holds more often than on average.

    ``max_depth`` bounds how many limits a box can have (a deeper tree draws smaller,
    denser boxes that are harder to read); ``min_support`` is the smallest share of the
    cases a box may hold."""
    from sklearn.tree import DecisionTreeClassifier

    names = list(inputs) if inputs is not None else input_columns(outcomes)
    if not names:
        raise DiscoveryError("no varying inputs in this table: discovery needs a run whose scenario draws "
                             "uncertain inputs, or a sweep")
    missing = [n for n in names if n not in outcomes.columns]
    if missing:
        raise DiscoveryError(f"no input {', '.join(missing)} in the table")
    interest = condition.holds(outcomes)
    frame = outcomes[names].reset_index(drop=True)
    usable = ~frame.isna().any(axis=1).to_numpy()
    frame, interest = frame[usable].reset_index(drop=True), interest[usable]
    n_interest = int(interest.sum())
    if n_interest == 0 or n_interest == len(interest):
        raise condition.nothing_to_tell_apart(outcomes, interest)
    x, meaning = _encode(frame)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(1, math.ceil(min_support * len(x))),
                                  class_weight="balanced", random_state=seed)
    tree.fit(x, interest)
    boxes = [_box(limits, frame, interest) for limits in _leaves(tree, meaning, frame)]
    base = n_interest / len(interest)
    boxes = sorted((b for b in boxes if b.density > base), key=lambda b: (-b.density, -b.coverage))
    importance = pd.Series(tree.feature_importances_, index=[m[0] for m in meaning]).groupby(level=0).sum()
    return Discovery(condition, boxes, frame, interest, importance.sort_values(ascending=False))


def _leaves(tree, meaning: list[tuple[str, object]], frame: pd.DataFrame) -> list[dict[str, Limit]]:
    """The leaves the fitted tree assigns to the outcome of interest, as the limits on the
    path to each. Two sibling leaves of the same class are one box: the split between them
    only sharpened the class shares, and reporting both would cut one region in two."""
    t = tree.tree_

    def walk(node: int, limits: dict[str, Limit]) -> list[tuple[dict[str, Limit], bool]]:
        if t.children_left[node] == -1:
            return [(limits, bool(np.argmax(t.value[node][0]) == 1))]
        name, value = meaning[t.feature[node]]
        threshold = float(t.threshold[node])
        left, right = (walk(child, {**limits, name: _narrow(limits.get(name), value, threshold, is_left,
                                                            frame[name])})
                       for child, is_left in ((t.children_left[node], True), (t.children_right[node], False)))
        if len(left) == len(right) == 1 and left[0][1] == right[0][1]:
            return [(limits, left[0][1])]
        return left + right

    return [limits for limits, of_interest in walk(0, {}) if of_interest]


def _narrow(limit: Limit | None, value: object, threshold: float, left: bool, column: pd.Series) -> Limit:
    """A limit with one more split applied (left: x <= threshold)."""
    limit = limit or Limit()
    if value is None:
        return Limit(limit.low, min(limit.high, threshold)) if left else Limit(max(limit.low, threshold), limit.high)
    allowed = limit.allowed if limit.allowed is not None else tuple(sorted(column.unique(), key=str))
    # The 0/1 column of one category: left (<= 0.5) excludes that category, right keeps only it.
    return Limit(allowed=tuple(v for v in allowed if (v != value) == left))


def _box(limits: dict[str, Limit], frame: pd.DataFrame, interest: np.ndarray) -> Box:
    inside = within(limits, frame)
    cases, hits = int(inside.sum()), int((inside & interest).sum())
    return Box(limits, hits / int(interest.sum()), hits / max(cases, 1), cases / len(frame), cases, hits)


def load_outcomes(folder: str | os.PathLike[str]) -> tuple[pd.DataFrame, Manifest]:
    """The outcome table and manifest of a run or sweep folder."""
    path = Path(folder)
    try:
        manifest = Manifest.read(path / "manifest.json")
    except FileNotFoundError:
        raise DiscoveryError(f"{path} is not a results folder (no manifest.json): give the folder "
                             "`sim run` or `sim sweep` wrote") from None
    if manifest.status != "complete":
        raise DiscoveryError(f"{path} holds an unfinished run: finish it with sim run ... --resume")
    if not (path / "outcomes.parquet").exists():
        raise DiscoveryError(f"{path} has no outcomes.parquet")
    return read_columns(path / "outcomes.parquet"), manifest
