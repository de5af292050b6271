"""Global sensitivity: which of the varied inputs move an outcome, and how much.

The inputs are ranges of scenario values (factors, as in a sweep). Two methods, both from
SALib:

- **Sobol** (Saltelli's sampling, scrambled Sobol sequence): the first-order index S1 of a
  factor is the share of the outcome's variance it explains alone; the total-order index ST
  adds every interaction it takes part in. ``samples`` N (a power of two) gives N (D + 2)
  model evaluations for D factors. Intervals are 95% bootstrap intervals.
- **Morris** (elementary effects along N one-at-a-time trajectories over 4 levels, N (D + 1)
  evaluations): mu* (mean absolute effect of moving the factor across its range) ranks the
  factors cheaply; sigma large against mu* means the effect depends on the other factors
  (interactions or non-linearity).

Here the model is the simulator: each design point is a sweep point (common random numbers,
``runs`` replications), and the value analysed is the point's mean of an outcome (or its
probability, for ``P(...)`` quantities). Replication noise left in those means shows up as
variance no factor explains; more replications per point reduce it. The same code path
analyses any function of the points, such as the Ishigami test function.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from ..experiment.results import atomic_write
from ..experiment.sizes import refuse_design
from ..experiment.sweeps import Factor, Sweep, SweepError, run_sweep
from ..model.outputs import OUTCOMES
from . import stats

METHODS = ("sobol", "morris")
MORRIS_LEVELS = 4

SENSITIVITY_QUANTITIES: tuple[str, ...] = (
    "P(phase3 by year 15)",
    "P(stalled)",
    "cumulative_export_value_usd",
    "domestic_value_added_share",
    "npv_usd",
)
"""What the simulator's sensitivity is reported for, unless told otherwise (the per-point
mean of an outcome, or a probability row of the run summary)."""

WIDE_INTERVAL = 0.1
"""A Sobol index whose 95% interval is wider than this either side cannot be told apart
from its neighbours (indices are shares of variance, 0 to 1)."""

Evaluate = Callable[[pd.DataFrame], pd.DataFrame]
"""Points (``point`` and one column per factor) in, one row per point and one column per
quantity out, in the same order."""


def _problem(factors: Sequence[Factor]) -> dict:
    listed = [f.path for f in factors if not f.is_range]
    if listed:
        raise SweepError(f"sensitivity needs ranges (PATH=LOW:HIGH), not listed values: {', '.join(listed)}")
    if not factors:
        raise SweepError("nothing to vary: give at least one --vary PATH=LOW:HIGH")
    return {"num_vars": len(factors), "names": [f.path for f in factors],
            "bounds": [[f.low, f.high] for f in factors]}


def design_size(factors: Sequence[Factor], method: str, samples: int) -> int:
    """The number of points the method asks for: N (D + 2) for sobol, N (D + 1) for morris."""
    return samples * (len(factors) + (2 if method == "sobol" else 1))


def design(factors: Sequence[Factor], method: str, samples: int, seed: int) -> pd.DataFrame:
    """The points the method asks for: ``point`` and one column per factor."""
    problem = _problem(factors)
    refuse_design(design_size(factors, method, samples), f"{method} design")
    if method == "sobol":
        if samples < 2 or samples & (samples - 1):
            up = 1 << max(1, math.ceil(math.log2(max(samples, 2))))
            raise SweepError(f"--samples must be a power of two for sobol (got {samples}; try {up})")
        x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    elif method == "morris":
        if samples < 2:
            raise SweepError("--samples (trajectories) must be at least 2 for morris")
        x = morris_sample.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
    else:
        raise SweepError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    points = pd.DataFrame(x, columns=problem["names"])
    points.insert(0, "point", np.arange(len(points), dtype=np.int64))
    return points


@dataclass
class Sensitivity:
    """Indices per (quantity, factor), the points and values they came from, and notes on
    how far they can be trusted."""

    method: str
    samples: int
    indices: pd.DataFrame
    points: pd.DataFrame
    values: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    sweep: Sweep | None = None
    """The simulator's runs at the design points (``None`` for a function such as Ishigami)."""
    scenario_name: str = ""

    def __repr__(self) -> str:
        return (f"<Sensitivity ({self.method}, N = {self.samples}, {len(self.points)} points) of "
                f"{', '.join(dict.fromkeys(self.indices.get('quantity', [])))}>")

    def _repr_html_(self) -> str:
        """The indices with outcomes and inputs in words (``indices`` keeps the raw names)."""
        from ..model.outputs import display

        notes = "".join(f"<p>Note: {html.escape(n)}</p>" for n in self.notes)
        shown = self.indices.assign(quantity=self.indices["quantity"].map(lambda q: display(str(q)).label),
                                    factor=self.indices["factor"].map(lambda f: display(str(f)).label))
        return shown.rename(columns={"quantity": "outcome", "factor": "input"}).to_html(
            index=False, float_format="{:.3f}".format) + notes

    def plot(self) -> Any:
        """The tornado chart: factors by effect, one panel per quantity."""
        from ..present.plots import tornado_chart

        return tornado_chart(self.indices, self.method, scenario=self.scenario_name or "function")

    def write(self, folder: str | os.PathLike[str], *, plots: bool = True, sweep: bool = True) -> list[Path]:
        """``indices.csv``, the design's runs (as a sweep, unless not ``sweep``: a sweep run
        into the folder has written them already) and ``plots/tornado.png``."""
        out = Path(folder)
        written = self.sweep.write(out, plots=False) if sweep and self.sweep is not None else []
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(out / "indices.csv", lambda p: self.indices.to_csv(p, index=False))
        written.append(out / "indices.csv")
        if plots and not self.indices.empty:
            from ..present.plots import save

            written.append(save(self.plot(), out / "plots" / "tornado.png"))
        return written


def analyse(factors: Sequence[Factor], method: str, samples: int, points: pd.DataFrame,
            values: pd.DataFrame, seed: int) -> Sensitivity:
    """Sobol or Morris indices of every column of ``values`` (one row per point of
    :func:`design`, in order)."""
    problem = _problem(factors)
    x = points[problem["names"]].to_numpy(dtype=float)
    rows, notes = [], []
    for quantity in values.columns:
        y = values[quantity].to_numpy(dtype=float)
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            why = "it has missing values" if not np.isfinite(y).all() else "it does not vary"
            notes.append(f"{quantity}: no indices, {why} over the design.")
            continue
        if method == "sobol":
            r = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
            for j, name in enumerate(problem["names"]):
                rows.append({"quantity": quantity, "factor": name, "S1": r["S1"][j], "S1_conf": r["S1_conf"][j],
                             "ST": r["ST"][j], "ST_conf": r["ST_conf"][j]})
        else:
            r = morris_analyze.analyze(problem, x, y, conf_level=0.95, num_levels=MORRIS_LEVELS, seed=seed)
            for j, name in enumerate(problem["names"]):
                rows.append({"quantity": quantity, "factor": name, "mu_star": r["mu_star"][j],
                             "mu_star_conf": r["mu_star_conf"][j], "sigma": r["sigma"][j], "mu": r["mu"][j]})
    indices = pd.DataFrame(rows)
    notes += _reliability(indices, method, samples)
    return Sensitivity(method, samples, indices, points, values, notes)


def _reliability(indices: pd.DataFrame, method: str, samples: int) -> list[str]:
    """Plain warnings where the sample is too small for the intervals to mean anything."""
    if indices.empty:
        return []
    notes = []
    if method == "sobol":
        for quantity, rows in indices.groupby("quantity", sort=False):
            widest = float(rows[["S1_conf", "ST_conf"]].max().max())
            if widest > WIDE_INTERVAL:
                notes.append(f"{quantity}: intervals up to \u00b1{widest:.2f} with N = {samples}: too wide to "
                             "rank the factors; raise --samples (the width falls as 1/sqrt(N)).")
    else:
        for quantity, rows in indices.groupby("quantity", sort=False):
            top = float(rows["mu_star"].max())
            shaky = rows[(rows["mu_star"] >= 0.1 * top) & (rows["mu_star_conf"] > 0.5 * rows["mu_star"])]
            if len(shaky):
                notes.append(f"{quantity}: mu* of {', '.join(shaky['factor'])} uncertain by more than half "
                             f"with {samples} trajectories; raise --samples.")
    return notes


def sensitivity(factors: Sequence[Factor], evaluate: Evaluate, *, method: str = "sobol", samples: int = 64,
                seed: int = 1) -> Sensitivity:
    """Design the points, evaluate them, and analyse every quantity ``evaluate`` returns."""
    points = design(factors, method, samples, seed)
    values = evaluate(points).reset_index(drop=True)
    if len(values) != len(points):
        raise ValueError(f"evaluate returned {len(values)} rows for {len(points)} points")
    return analyse(factors, method, samples, points, values, seed)


def ishigami(points: pd.DataFrame, a: float = 7.0, b: float = 0.1) -> pd.DataFrame:
    """The Ishigami function of the first three factor columns (each on [-pi, pi]):
    sin x1 + a sin^2 x2 + b x3^4 sin x1. Its indices are known in closed form."""
    x = points.drop(columns="point").to_numpy(dtype=float)
    y = np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])
    return pd.DataFrame({"ishigami": y})


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> pd.DataFrame:
    """The exact first- and total-order Sobol indices of :func:`ishigami` (Ishigami and Homma 1990)."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return pd.DataFrame({"factor": ["x1", "x2", "x3"], "S1": [v1 / total, v2 / total, 0.0],
                         "ST": [(v1 + v13) / total, v2 / total, v13 / total]})


def known_quantities(by_years: Sequence[float] = (5, 10, 15, 20)) -> list[str]:
    """The names a sensitivity can be asked for: every outcome, and the probability rows of a
    run's summary (:func:`sim.analysis.stats.summarize`)."""
    names = [c.name for c in OUTCOMES]
    names += [f"P(phase{p} by year {y:g})" for p in stats.PHASE_COLUMNS for y in by_years]
    return names + ["P(stalled)"]


def run_sensitivity(scenario_path: str | os.PathLike[str], factors: Sequence[Factor], *, method: str,
                    samples: int, runs: int, seed: int, overrides: Sequence[str] = (),
                    quantities: Sequence[str] = SENSITIVITY_QUANTITIES, scenario_name: str = "",
                    **sweep_options: Any) -> Sensitivity:
    """Sensitivity of the simulator: each design point is a sweep point of ``runs``
    replications, and each quantity's value there is its per-point mean (or probability);
    the result keeps those runs as its ``sweep``. ``sweep_options`` go to
    :func:`sim.experiment.sweeps.run_sweep` (workers, executor, progress ...)."""
    unknown = [q for q in quantities if q not in known_quantities()]
    if unknown:
        raise SweepError(f"no such outcome: {', '.join(unknown)}; known: {', '.join(known_quantities())}")
    ran: list[Sweep] = []

    def evaluate(points: pd.DataFrame) -> pd.DataFrame:
        sweep = run_sweep(scenario_path, points, runs=runs, seed=seed, overrides=overrides,
                          design={"method": method, "samples": samples}, **sweep_options)
        ran.append(sweep)
        # The summary of the quantities asked about only: a point's summary of every outcome
        # costs about four times as much, for 1,792 points in a Sobol analysis of five factors.
        asked = [q for q in quantities if q in sweep.outcomes.columns]
        means = sweep.summary(asked).pivot_table(index="point", columns="quantity", values="mean",
                                                 sort=True, dropna=False)
        missing = [q for q in quantities if q not in means.columns]
        if missing:
            raise SweepError(f"no such outcome or summary row: {', '.join(missing)}")
        return means.reindex(points["point"])[list(quantities)]

    result = sensitivity(factors, evaluate, method=method, samples=samples, seed=seed)
    result.sweep, result.scenario_name = ran[0], scenario_name
    return result
