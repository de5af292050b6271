"""Paired comparison of scenarios: what changes, replication by replication.

Two runs with the same seed and the same replication indices share their random numbers
(each source draws from its own named stream; see :mod:`sim.streams`), so replication i of
scenario B faces the same attacks, prices and delays as replication i of scenario A, except
where B's parameters change them. The difference B - A in replication i is then the effect
of the change in that world, and the mean of those differences has a far smaller Monte
Carlo error than the difference of two independent means. Pairing needs the same seed and
the same replications; runs that differ in either are refused, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import UsageError
from .outputs import OUTCOMES
from .results import ResultSet, describe_differences, scenario_differences
from .stats import PHASE_COLUMNS, describe, paired_difference

if TYPE_CHECKING:
    from .plots import ComparePlots

COMPARE_COLUMNS: tuple[str, ...] = (
    "outcome", "better", "a", "b", "mean_a", "mean_b", "n", "difference", "mcse", "ci95_low",
    "ci95_high", "pairs", "p_b_better", "p_b_better_low", "p_b_better_high", "p_tie")
"""Columns of the table :func:`compare` returns: one row per outcome and compared run."""


class PairingError(UsageError):
    """Two runs cannot be compared replication by replication."""


ALWAYS_THE_SAME = ("horizon_years", "start_date")
"""What two runs must share to be compared at all, whatever their files say: totals over
25 years and over 30 are not a difference a scenario makes."""


def override_paths(run: ResultSet) -> list[str]:
    """The dotted paths the run's ``--set`` overrides changed (as its manifest records them)."""
    return [str(text).split("=", 1)[0].strip() for text in run.manifest.get("overrides") or []]


def unshared_settings(a: ResultSet, b: ResultSet) -> list[tuple[str, object, object]]:
    """Where the scenario of ``b`` does not share the setting ``a``, the reference, was run
    in: the horizon, the start date, or a value ``a`` changed with ``--set`` (a reference run
    with security switched off, compared with a run that has it on, would measure the
    switch, not the scenario). What ``b`` changes with ``--set`` of its own is what ``b`` is
    (the baseline with one lever set, against the baseline)."""
    watched = (*ALWAYS_THE_SAME, *override_paths(a))
    found = scenario_differences(a.scenario.model_dump(mode="json"), b.scenario.model_dump(mode="json"))
    return [d for d in found if any(d[0] == w or d[0].startswith(w + ".") for w in watched)]


def check_pairable(a: ResultSet, b: ResultSet, names: tuple[str, str] | None = None) -> None:
    """Refuse runs whose seeds, replication counts or replication indices differ, or whose
    scenarios differ in what is not their files' own (see :func:`unshared_settings`)."""
    first, second = names or (a.name, b.name)
    problems = []
    unshared = unshared_settings(a, b)
    if unshared:
        problems.append(f"their scenarios differ in {describe_differences(unshared, first, second)} "
                        "(paired runs need the same horizon and start date, and the value the first "
                        "run set with --set)")
    if a.manifest.get("seed") != b.manifest.get("seed"):
        problems.append(f"seeds differ ({a.manifest.get('seed')} and {b.manifest.get('seed')})")
    if len(a.outcomes) != len(b.outcomes):
        problems.append(f"replication counts differ ({len(a.outcomes)} and {len(b.outcomes)})")
    elif not np.array_equal(np.asarray(a.outcomes["replication"]), np.asarray(b.outcomes["replication"])):
        problems.append("the runs hold different replications")
    if problems:
        raise PairingError(f"cannot pair {first} with {second}: {'; '.join(problems)}. "
                           "Run both with the same --seed and --runs" + (", and the second with the first's --set." if unshared else "."))


def compare(a: ResultSet, others: Sequence[ResultSet], outcomes: Sequence[str] | None = None,
            labels: Sequence[str] | None = None) -> pd.DataFrame:
    """The paired comparison of each run in ``others`` against ``a``: per outcome with a
    direction (see :data:`sim.outputs.OUTCOMES`), the mean difference B - A with its 95%
    interval and the share of replications in which B does better (see
    :func:`sim.stats.paired_difference`). ``labels`` name the runs (``a`` first; default
    their scenario names)."""
    names = list(labels) if labels is not None else [r.name for r in (a, *others)]
    for b, b_name in zip(others, names[1:], strict=True):
        check_pairable(a, b, (names[0], b_name))
    chosen = [c for c in OUTCOMES if c.better and (outcomes is None or c.name in outcomes)]
    rows = []
    for b, b_name in zip(others, names[1:], strict=True):
        for column in chosen:
            if column.name not in a.outcomes.columns or column.name not in b.outcomes.columns:
                continue
            x, y = a.outcomes[column.name], b.outcomes[column.name]
            got = paired_difference(x, y, better=column.better,
                                    nan_is_never=column.name in PHASE_COLUMNS.values())
            rows.append({"outcome": column.name, "better": column.better, "a": names[0], "b": b_name,
                         "mean_a": describe(x)["mean"], "mean_b": describe(y)["mean"],
                         "difference": got.pop("mean"), **got})
    return pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))


@dataclass
class Comparison:
    """Runs compared replication by replication against the first: ``runs`` by label (the
    reference first) and ``table`` (:data:`COMPARE_COLUMNS`, one row per outcome and run)."""

    runs: dict[str, ResultSet]
    table: pd.DataFrame

    @property
    def reference(self) -> str:
        return next(iter(self.runs))

    @property
    def plot(self) -> ComparePlots:
        """``comparison.plot.distributions()`` and ``comparison.plot.survival()``."""
        from .plots import ComparePlots

        return ComparePlots(self)

    def __repr__(self) -> str:
        return f"<Comparison of {', '.join(list(self.runs)[1:])} against {self.reference}>"

    def _repr_html_(self) -> str:
        from .reports import comparison_table

        return comparison_table(self.table).to_html(index=False)
