"""Paired comparison of scenarios: what changes, replication by replication.

Two runs with the same seed and the same replication indices share their random numbers
(each source draws from its own named stream; see :mod:`sim.model.streams`), so replication i of
scenario B faces the same attacks, prices and delays as replication i of scenario A, except
where B's parameters change them. The difference B - A in replication i is then the effect
of the change in that world, and the mean of those differences has a far smaller Monte
Carlo error than the difference of two independent means. Pairing needs the same seed and
the same replications; runs that differ in either are refused, with the reason.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..experiment.results import ResultSet, describe_differences, scenario_differences
from ..model.outputs import OUTCOMES, display, in_sentence, members, number, unit
from .stats import PHASE_COLUMNS, describe, paired_difference, wilson_interval

if TYPE_CHECKING:
    from ..present.plots import ComparePlots

COMPARE_COLUMNS: tuple[str, ...] = (
    "outcome", "label", "unit", "better", "a", "b", "mean_a", "mean_b", "n", "difference", "mcse", "ci95_low",
    "ci95_high", "pairs", "p_b_better", "p_b_better_low", "p_b_better_high", "p_tie", "p_tie_low", "p_tie_high",
    "p_b_worse", "p_b_worse_low", "p_b_worse_high")
"""Columns of the table :func:`compare` returns: one row per outcome and compared run.
``label`` is the outcome in words and ``unit`` the unit of its stored values (the means,
the difference and its interval); the ``p_`` columns are shares of the ``pairs`` paired
replications in which B does better than A, the same (a tie) or worse, each with its 95%
Wilson interval. The three shares add up to 1."""

SHARES_EXPLAINED = (
    "Better / tie / worse: the share of paired replications in which B does better than A, exactly the same, "
    "or worse (better is earlier phases, fewer incidents and costs, more exports, value added and NPV). "
    "Ties are common where both runs often end alike: neither stalls, neither pays an award.")
"""What the better / tie / worse shares mean, said once for every table that shows them."""


class PairingError(UsageError):
    """Two runs cannot be compared replication by replication."""


ALWAYS_THE_SAME = ("horizon_years", "start_date")
"""What two runs must share to be compared at all, whatever their files say: totals over
25 years and over 30 are not a difference a scenario makes."""


def override_paths(run: ResultSet) -> list[str]:
    """The dotted paths the run's ``--set`` overrides changed (as its manifest records them)."""
    return [str(text).split("=", 1)[0].strip() for text in run.manifest.overrides]


def _differences(a: ResultSet, b: ResultSet, paths: Sequence[str]) -> list[tuple[str, object, object]]:
    found = scenario_differences(a.scenario.model_dump(mode="json"), b.scenario.model_dump(mode="json"))
    return [d for d in found if _under(d[0], paths)]


def _under(path: str, prefixes: Sequence[str]) -> bool:
    """Whether the dotted ``path`` is one of ``prefixes`` or lies inside one of them."""
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def unshared_overrides(a: ResultSet, b: ResultSet, names: tuple[str, str] | None = None) -> str | None:
    """A note when ``b`` does not share a value ``a``, the reference, changed with ``--set``
    (and ``b`` did not set itself): the differences then include that change, not only
    what ``b``'s scenario is. Deliberate comparisons do this (a world with every shock
    switched off against the baseline), so it is said, not refused; a scenario file given
    to :func:`sim.compare` is run with the reference's overrides and never needs it."""
    own = override_paths(b)
    found = _differences(a, b, [p for p in override_paths(a) if not _under(p, own)])
    if not found:
        return None
    first, second = names or (a.name, b.name)
    return (f"{second} does not share the --set values {first} was run with: "
            f"{describe_differences(found, first, second)}; its differences include that change.")


def check_pairable(a: ResultSet, b: ResultSet, names: tuple[str, str] | None = None) -> None:
    """Refuse runs whose seeds, replication counts or replication indices differ, or that do
    not share the horizon and start date (:data:`ALWAYS_THE_SAME`)."""
    first, second = names or (a.name, b.name)
    problems = []
    unshared = _differences(a, b, ALWAYS_THE_SAME)
    if unshared:
        problems.append(f"their scenarios differ in {describe_differences(unshared, first, second)} "
                        "(paired runs need the same horizon and start date)")
    if a.manifest.seed != b.manifest.seed:
        problems.append(f"seeds differ ({a.manifest.seed} and {b.manifest.seed})")
    if len(a.outcomes) != len(b.outcomes):
        problems.append(f"replication counts differ ({len(a.outcomes)} and {len(b.outcomes)})")
    elif not np.array_equal(np.asarray(a.outcomes["replication"]), np.asarray(b.outcomes["replication"])):
        problems.append("the runs hold different replications")
    if problems:
        same = [*(["horizon and start date"] if unshared else []),
                *(["--seed and --runs"] if len(problems) > bool(unshared) else [])]
        raise PairingError(f"cannot pair {first} with {second}: {'; '.join(problems)}. "
                           f"Run both with the same {' and the same '.join(same)}.")


def compare(a: ResultSet, others: Sequence[ResultSet], outcomes: Sequence[str] | None = None,
            labels: Sequence[str] | None = None) -> pd.DataFrame:
    """The paired comparison of each run in ``others`` against ``a``: per outcome with a
    direction (see :data:`sim.model.outputs.OUTCOMES`), the mean difference B - A with its 95%
    interval and the shares of replications in which B does better, the same and worse
    (see :func:`sim.analysis.stats.paired_difference`), in the columns :data:`COMPARE_COLUMNS`.
    ``labels`` name the runs (``a`` first; default their scenario names)."""
    names = list(labels) if labels is not None else [r.name for r in (a, *others)]
    for b, b_name in zip(others, names[1:], strict=True):
        check_pairable(a, b, (names[0], b_name))
    # By default the programme's totals; a family's members (one commodity's exports, ...)
    # when asked for by name.
    asked = [c.name for c in OUTCOMES if c.family is None] if outcomes is None else list(outcomes)
    chosen = members(OUTCOMES, asked)
    rows = []
    for b, b_name in zip(others, names[1:], strict=True):
        for name, column in chosen:
            if not column.better or name not in a.outcomes.columns or name not in b.outcomes.columns:
                continue
            x, y = a.outcomes[name], b.outcomes[name]
            got = paired_difference(x, y, better=column.better,
                                    nan_is_never=name in PHASE_COLUMNS.values())
            rows.append({"outcome": name, "label": display(name).label, "unit": column.unit,
                         "better": column.better, "a": names[0], "b": b_name,
                         "mean_a": describe(x)["mean"], "mean_b": describe(y)["mean"],
                         "difference": got.pop("mean"), **got, **_tie_and_worse(got)})
    return pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))


def _tie_and_worse(got: dict[str, float]) -> dict[str, float]:
    """The tie share's interval and the worse share with its interval, from the counts
    behind the better and tie shares of :func:`sim.analysis.stats.paired_difference`."""
    pairs = int(got["pairs"])
    if not pairs:
        return dict.fromkeys(("p_tie_low", "p_tie_high", "p_b_worse", "p_b_worse_low", "p_b_worse_high"), math.nan)
    ties, wins = round(got["p_tie"] * pairs), round(got["p_b_better"] * pairs)
    losses = pairs - wins - ties
    tie_low, tie_high = wilson_interval(ties, pairs)
    worse_low, worse_high = wilson_interval(losses, pairs)
    return {"p_tie_low": tie_low, "p_tie_high": tie_high, "p_b_worse": losses / pairs,
            "p_b_worse_low": worse_low, "p_b_worse_high": worse_high}


def percent(share: float) -> str:
    """A share of paired replications in whole percent, never rounded to a certainty it is
    not: "62%", but "<1%" for 1 in 1,000 and ">99%" for 999 in 1,000 (0% and 100% are exact)."""
    if 0 < share < 0.01:
        return "<1%"
    if 0.99 < share < 1:
        return ">99%"
    return f"{share:.0%}"


def shares_text(row: Any, sep: str = " / ") -> str:
    """Better / tie / worse of one comparison row, in whole percent: "62 / 30 / 8%"."""
    shares = (row.p_b_better, row.p_tie, row.p_b_worse)
    if not all(math.isfinite(v) for v in shares):
        return "-"
    return sep.join(percent(v).removesuffix("%") for v in shares) + "%"


def difference_text(row: Any) -> str:
    """B - A of one comparison row with its 95% interval, as shown: "0.11 (0.08 to 0.14)"."""
    o = row.outcome
    return f"{number(o, row.difference)} ({number(o, row.ci95_low)} to {number(o, row.ci95_high)})"


def labelled_table(table: pd.DataFrame, sep: str = " / ") -> pd.DataFrame:
    """A comparison table (:data:`COMPARE_COLUMNS`) as people read it: one row per compared
    run and outcome, in words, scaled as shown (USD bn, %), the better / tie / worse shares
    in whole percent, joined by ``sep`` (see :data:`SHARES_EXPLAINED`)."""
    rows = [{"compared": f"{r.b} against {r.a}", "outcome": display(r.outcome).label, "unit": unit(r.outcome),
             "mean A": number(r.outcome, r.mean_a), "mean B": number(r.outcome, r.mean_b),
             "B - A (95% interval)": difference_text(r), "better / tie / worse": shares_text(r, sep)}
            for r in table.itertuples()]
    return pd.DataFrame(rows, columns=["compared", "outcome", "unit", "mean A", "mean B", "B - A (95% interval)",
                                       "better / tie / worse"])


def finding(table: pd.DataFrame, b: str, most: int = 2) -> str:
    """One plain sentence saying what the comparison of run ``b`` against the reference
    found: the outcomes whose mean changed by more than the 95% interval allows (at most
    ``most``, largest relative change first), by how much, and in what share of paired
    replications B did better, the same and worse. An outcome that was zero in the reference
    (a lever's cost, when the reference pulls no lever) has no relative change and comes after
    those that have one; so does one whose reference mean is under a millionth of B's (the
    baseline's lever cost is a few dollars of stockpile carrying cost on average, shown as
    0.000 in the table), whose relative change would be a ratio of rounding."""
    rows = table[table["b"] == b]
    if rows.empty:
        raise KeyError(f"no comparison of {b!r}; compared: {', '.join(dict.fromkeys(table['b']))}")
    a, pairs = rows["a"].iloc[0], int(rows["pairs"].max())
    clear = rows[(rows["ci95_low"] > 0) | (rows["ci95_high"] < 0)]
    if clear.empty:
        return (f"{b} does not differ detectably from {a}: over {pairs:,} paired replications every 95% "
                "interval of a mean difference includes zero.")
    reference = clear["mean_a"].abs()
    relative = clear["difference"].abs() / reference.where(reference > 1e-6 * clear["mean_b"].abs(), math.nan)
    order = relative.fillna(-1.0).sort_values(ascending=False, kind="stable").index[:most]
    clauses = [_change(clear.loc[i]) for i in order]
    first = clear.loc[order[0]]
    said = (f"Against {a}, {b} {clauses[0]} and does better in {percent(first.p_b_better)} of paired "
            f"replications, the same in {percent(first.p_tie)} and worse in {percent(first.p_b_worse)}")
    if len(clauses) > 1:
        said += f"; it also {clauses[1]}"
    return said + "."


def _change(row: pd.Series) -> str:
    """ "raises net present value by USD 0.11bn (95% interval 0.08 to 0.14)"."""
    o = row["outcome"]
    verb = "raises" if row["difference"] > 0 else "lowers"
    low, high = sorted((abs(row["ci95_low"]), abs(row["ci95_high"])))
    label = in_sentence(row["label"])
    shown = display(o).unit
    subject = (f"the share of replications {label}" if shown == "% of replications"
               else f"the {label}" if shown.startswith("%") else label)  # "the share processed via China"
    return (f"{verb} {subject} by {amount(o, abs(row['difference']))} "
            f"(95% interval {number(o, low)} to {number(o, high)})")


def amount(name: str, value: float) -> str:
    """A difference of ``name`` written with its unit in words: "USD 0.4bn", "2.1 percentage
    points", "0.7 years", "2,855 site-days"."""
    shown = display(name)
    text = number(name, value)
    if shown.unit.startswith("USD bn"):
        return f"USD {text}bn" + (" a year" if "per year" in shown.unit else "")
    if shown.unit.startswith("%"):
        return f"{text} percentage points"
    if shown.unit.startswith("years"):
        return f"{text} years"
    return text if shown.unit in ("", "count", "value") else f"{text} {shown.unit}"


@dataclass
class Comparison:
    """Runs compared replication by replication against the first: ``runs`` by label (the
    reference first) and ``table`` (:data:`COMPARE_COLUMNS`, one row per outcome and run)."""

    runs: dict[str, ResultSet]
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    """What the table does not show: a compared run that lacks a --set value of the reference."""

    @property
    def reference(self) -> str:
        return next(iter(self.runs))

    @property
    def plot(self) -> ComparePlots:
        """``comparison.plot.differences()``, ``comparison.plot.distributions()`` and
        ``comparison.plot.survival()``."""
        from ..present.plots import ComparePlots

        return ComparePlots(self)

    def summary(self, labels: bool = False) -> pd.DataFrame:
        """The comparison table (:data:`COMPARE_COLUMNS`); with ``labels``, as people read it:
        outcomes in words, values scaled as shown (USD bn, %), better / tie / worse in
        percent (:func:`labelled_table`), for a notebook or a document."""
        return labelled_table(self.table) if labels else self.table.copy()

    def findings(self) -> dict[str, str]:
        """One plain sentence per compared run saying what its comparison found (:func:`finding`)."""
        return {b: finding(self.table, b) for b in dict.fromkeys(self.table["b"])}

    def __repr__(self) -> str:
        return f"<Comparison of {', '.join(list(self.runs)[1:])} against {self.reference}>"

    def _repr_html_(self) -> str:
        said = "".join(f"<p>{html.escape(text)}</p>" for text in self.findings().values())
        return (said + labelled_table(self.table).to_html(index=False)
                + f"<p><small>{html.escape(SHARES_EXPLAINED)}</small></p>")
