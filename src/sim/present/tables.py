"""A run's summary as people read it: the headline table, the probabilities, and the
labelled summary written beside ``summary.csv``.

A summary (:func:`sim.analysis.stats.summarize`) holds raw names and stored units, for scripts.
The tables here say the same in words, in the units people read (USD bn, percent), with
each interval kept inside what its quantity can be, as :mod:`sim.model.outputs` shows every
column. The result set (its summary in words and its notebook view), the report and the
command line all read them from here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from ..model.outputs import HEADLINE, display, number, probability_label, unit


def headline_table(summary: pd.DataFrame, names: Sequence[str] = HEADLINE) -> pd.DataFrame:
    """The headline outcomes of a summary as text: mean with its 95% interval (kept inside
    what the quantity can be), and the 5th, 50th and 95th percentiles across replications."""
    rows = summary.set_index("quantity")
    out = []
    for name in names:
        if name not in rows.index:
            continue
        r, shown = rows.loc[name], display(name)
        out.append({"outcome": shown.label, "unit": unit(name),
                    "mean (95% interval)": f"{number(name, r['mean'])} ({number(name, shown.clip(r['ci95_low']))} "
                                           f"to {number(name, shown.clip(r['ci95_high']))})",
                    "P5": number(name, r["p5"]), "median": number(name, r["p50"]), "P95": number(name, r["p95"])})
    return pd.DataFrame(out, columns=["outcome", "unit", "mean (95% interval)", "P5", "median", "P95"])


def probability_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The probability rows of a summary (phase reached by a year, stalled) as percentages."""
    rows = summary[summary["quantity"].str.startswith("P(")]
    return pd.DataFrame({"event": rows["quantity"].map(probability_label),
                         "probability": rows["mean"].map(_percent),
                         "95% interval": [f"{_percent(a)} to {_percent(b)}" for a, b in
                                          zip(rows["ci95_low"], rows["ci95_high"], strict=True)]})


def _percent(share: float) -> str:
    """A probability in percent: whole percent, one decimal below 10% (0.4%, not 0%)."""
    if not math.isfinite(share):
        return "-"
    return f"{share:.0%}" if share == 0 or share >= 0.1 else f"{share:.1%}"


def labelled_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """A run's summary (:func:`sim.analysis.stats.summarize`) for people: one row per quantity, the
    raw name kept in ``quantity`` (to join on), then the label and the shown unit, and the
    numbers scaled to it (USD bn, %), rounded to four significant figures, the interval kept
    inside what the quantity can be. Written beside ``summary.csv`` as ``summary_labelled.csv``."""
    rows = []
    for r in summary.itertuples(index=False):
        shown = display(r.quantity)
        scaled = {head: _round(value / shown.scale) for head, value in (
            ("mean", r.mean), ("MCSE", r.mcse), ("95% interval from", shown.clip(r.ci95_low)),
            ("95% interval to", shown.clip(r.ci95_high)), ("P5", r.p5), ("P25", r.p25), ("median", r.p50),
            ("P75", r.p75), ("P95", r.p95))}
        rows.append({"quantity": r.quantity, "outcome": shown.label, "unit": shown.unit,
                     "replications with a value": r.n, **scaled})
    return pd.DataFrame(rows)


def _round(value: float, figures: int = 4) -> float:
    if not math.isfinite(value) or value == 0:
        return value
    return round(value, figures - 1 - math.floor(math.log10(abs(value))))
