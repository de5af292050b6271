"""Figures of a run: fan charts of yearly flows, phase-timing survival curves, histograms.

Every figure is built on a :class:`matplotlib.figure.Figure` of its own, without ``pyplot``,
so nothing here touches global plotting state or needs a display; figures are written with
:func:`save`. The style is shared: the Okabe-Ito colour-blind-safe palette, money in
billions of U.S. dollars ("USD bn"), shares in percent, axis labels that carry units, a
title naming what is shown and for which scenario, and a light grid.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import textwrap
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from ..analysis import stats
from ..model import outputs
from ..model.outputs import display, format_number, in_sentence, series_display

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
"""The Okabe-Ito palette, distinguishable under the common forms of colour blindness."""

PHASE_COLOURS: dict[int, str] = {2: OKABE_ITO["blue"], 3: OKABE_ITO["vermillion"]}
PHASE_LINESTYLES: dict[int, object] = {2: "-", 3: (0, (6, 2))}
"""Phase 3 is dashed so that both curves stay visible where they coincide (e.g. both at 1)."""

NOMINAL_WINDOWS: dict[int, tuple[float, float, str]] = {
    2: (2.0, 3.0, "after 2\u20133 years"),
    3: (7.0, 11.0, "2\u20133 + 5\u20137 years; 'after a decade'"),
}
"""When the sources expect each phase to begin: (start, end, wording), in years since start."""

DPI = 120
PLOT_FILES: tuple[str, ...] = (
    "export_value_fan.png",
    "domestic_value_added_fan.png",
    "phase_survival.png",
    "outcome_histograms.png",
)
"""The files :func:`write_plots` writes, in order."""

_GRID = "#d9d9d9"
_TITLE_SIZE = 12
_LABEL_SIZE = 10


class Chart(Figure):
    """A matplotlib Figure that shows itself in a notebook (as PNG) without ``pyplot``: the
    figures here are never registered with pyplot, so Jupyter would otherwise print their
    repr. Everything else is the Figure's own (``savefig``, ``axes``, ...)."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=DPI)
        return buffer.getvalue()


def _figure(width: float, height: float) -> Figure:
    return Chart(figsize=(width, height), layout="constrained")


def _panels(count: int, ncols: int, panel_width: float, panel_height: float,
            margin: float) -> tuple[Figure, np.ndarray]:
    """A figure with a grid of ``count`` panels, ``ncols`` wide (fewer if fewer panels); the
    unused cells are hidden. Returns the figure and its axes, row by row."""
    ncols = max(1, min(ncols, count))
    nrows = max(1, math.ceil(count / ncols))
    fig = _figure(panel_width * ncols, panel_height * nrows + margin)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes


def _style(ax: Axes) -> None:
    ax.grid(True, color=_GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9)


def _finite(values: object) -> np.ndarray:
    x = stats.as_float_array(values)
    return x[np.isfinite(x)]


def fan_chart(
    timeseries: pd.DataFrame,
    column: str,
    *,
    scenario: str,
    label: str,
    unit_scale: float = 1e9,
    unit: str = "USD bn",
) -> Figure:
    """Fan chart of a yearly quantity: the median and the 50% and 90% bands across replications.

    The mean is drawn dashed for comparison with the median. Values are divided by
    ``unit_scale`` and the y axis is labelled ``label (unit)``; the legend sits below the axes.
    """
    table = stats.fan(timeseries, column)
    year = table["year"].to_numpy(dtype=float)
    scaled = {name: table[name].to_numpy(dtype=float) / unit_scale for name in table.columns[1:]}
    n = int(timeseries["replication"].nunique()) if "replication" in timeseries else None
    colour = OKABE_ITO["blue"]

    fig = _figure(8.0, 4.8)
    ax = fig.add_subplot()
    for low, high, alpha, band in (("p5", "p95", 0.18, "90% of replications (p5\u2013p95)"),
                                    ("p25", "p75", 0.38, "50% of replications (p25\u2013p75)")):
        ax.fill_between(year, scaled[low], scaled[high], color=colour, alpha=alpha, linewidth=0, label=band)
    ax.plot(year, scaled["p50"], color=colour, linewidth=2.2, label="median")
    ax.plot(
        year,
        scaled["mean"],
        color=OKABE_ITO["black"],
        linewidth=1.1,
        linestyle="--",
        label="mean",
    )
    _style(ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(year) > 1:
        ax.set_xlim(year.min(), year.max())
    lowest = np.nanmin(scaled["p5"]) if np.isfinite(scaled["p5"]).any() else 0.0
    if lowest >= 0:
        ax.set_ylim(bottom=0)
    ax.set_xlabel("Model year (years since start)", fontsize=_LABEL_SIZE)
    ax.set_ylabel(f"{label} ({unit})", fontsize=_LABEL_SIZE)
    across = f"across {n:,} replications" if n is not None else "across replications"
    ax.set_title(
        f"{label} by year: median and spread {across}\nScenario: {scenario}",
        fontsize=_TITLE_SIZE,
    )
    # Below the axes, so that it never hides the bands whatever their shape.
    fig.legend(loc="outside lower center", ncols=4, fontsize=9, frameon=False)
    return fig


def survival_chart(outcomes: pd.DataFrame, horizon_years: float, *, scenario: str) -> Figure:
    """Kaplan-Meier curves of the time to Phase 2 and Phase 3, with 95% confidence bands.

    Each curve is the estimated probability that the phase has not yet been reached, against
    years since start; replications that never reached a phase within the horizon are
    right-censored there, and the legend says how many there were. The windows in which the
    sources expect each phase to begin are shaded lightly.
    """
    horizon = float(horizon_years)
    fig = _figure(8.5, 5.6)
    ax = fig.add_subplot()
    total = len(outcomes)
    for phase, column in stats.PHASE_COLUMNS.items():
        colour = PHASE_COLOURS[phase]
        start, end, wording = NOMINAL_WINDOWS[phase]
        ax.axvspan(
            start,
            end,
            facecolor=colour,
            alpha=0.10,
            edgecolor=colour,
            hatch="//",
            linewidth=0,
            label=f"Phase {phase} nominal start ({wording})",
        )
        if column not in outcomes.columns:
            continue
        times = stats.as_float_array(outcomes[column])
        curve = stats.survival(times, horizon)
        if curve.empty:
            continue
        never = int(np.count_nonzero(np.isnan(times) | (times > horizon)))
        median = stats.median_time(curve)
        median_text = (
            f"median {median:.1f} yr" if math.isfinite(median) else f"median > {horizon:g} yr"
        )
        share = never / total if total else math.nan
        ax.fill_between(
            curve["time"],
            curve["ci_low"],
            curve["ci_high"],
            step="post",
            color=colour,
            alpha=0.22,
            linewidth=0,
        )
        ax.step(
            curve["time"],
            curve["survival"],
            where="post",
            color=colour,
            linewidth=2.0,
            linestyle=PHASE_LINESTYLES[phase],
            label=(
                f"Phase {phase}: {median_text}; not reached within {horizon:g} yr "
                f"(censored): {never:,} of {total:,} ({share:.1%})"
            ),
        )
    _survival_axes(ax, horizon)
    ax.set_ylabel("Probability phase not yet reached (%)", fontsize=_LABEL_SIZE)
    ax.set_title(
        f"Time to reach Phase 2 and Phase 3 (Kaplan\u2013Meier, {total:,} replications)"
        f"\nScenario: {scenario}",
        fontsize=_TITLE_SIZE,
    )
    handles, labels = ax.get_legend_handles_labels()
    band = Patch(facecolor="#808080", alpha=0.3, linewidth=0)
    handles.append(band)
    labels.append("95% confidence band (pointwise, Greenwood)")
    order = sorted(range(len(labels)), key=lambda i: ("nominal" in labels[i], i))
    fig.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="outside lower center",
        ncols=1,
        fontsize=9,
        frameon=False,
    )
    return fig


def _survival_axes(ax: Axes, horizon: float) -> None:
    """Axes of a survival plot: years since start to the horizon, probability in percent."""
    _style(ax)
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(lambda value, _pos: f"{value:.0%}")
    ax.set_xlabel("Years since start", fontsize=_LABEL_SIZE)


def _bins(values: np.ndarray) -> np.ndarray | int:
    if values.size == 0:
        return 10
    low, high = float(values.min()), float(values.max())
    whole = np.all(values == np.round(values))
    if whole and high - low <= 40:
        return np.arange(low - 0.5, high + 1.5)
    if low == high:
        return 1
    edges = np.histogram_bin_edges(values, bins="auto")
    return edges if len(edges) - 1 <= 40 else 40


def histograms(
    outcomes: pd.DataFrame, columns: Sequence[str], *, scenario: str, ncols: int = 3
) -> Figure:
    """A grid of histograms, one per outcome column, each with a dashed median line.

    Missing values are dropped; each panel says how many replications it shows (for the
    phase years, how many reached the phase within the horizon). Money is shown in USD bn
    and shares in percent.
    """
    columns = list(columns)
    missing = [name for name in columns if name not in outcomes.columns]
    if missing:
        raise KeyError(f"columns not in the outcome table: {', '.join(missing)}")
    total = len(outcomes)
    fig, axes = _panels(len(columns), ncols, 3.8, 3.1, 0.6)
    for ax, column in zip(axes, columns, strict=False):
        shown = display(column)
        values = _finite(outcomes[column]) / shown.scale
        _style(ax)
        is_phase = column in stats.PHASE_COLUMNS.values()
        if is_phase:
            count = f"n reached = {values.size:,} of {total:,}"
        else:
            count = f"n = {values.size:,} of {total:,}"
        ax.set_title(f"{shown.label}\n{count}", fontsize=10)
        ax.set_xlabel(shown.axis_label, fontsize=9)
        ax.set_ylabel("replications", fontsize=9)
        if values.size == 0:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.text(
                0.5,
                0.5,
                "no replication reached\nthis phase within the horizon"
                if is_phase
                else "no values",
                transform=ax.transAxes,
                ha="center",
                va="center",
                color="#555555",
            )
            continue
        ax.hist(
            values,
            bins=_bins(values),
            color=OKABE_ITO["sky_blue"],
            edgecolor="white",
            linewidth=0.5,
        )
        whole = bool(np.all(values == np.round(values)))
        if is_phase:  # the one median time to a phase: over all replications (stats.time_percentiles)
            median = stats.time_percentiles(outcomes[column], math.inf)["p50"] / shown.scale
            said = (f"median {format_number(median)}{shown.short_unit}, over all runs" if math.isfinite(median)
                    else "median: not reached\n(fewer than half did)")
        else:
            median = float(np.median(values))
            said = f"median {format_number(median, whole=whole)}{shown.short_unit}"
        ax.axvline(
            median if math.isfinite(median) else values.max(),
            color=OKABE_ITO["black"] if math.isfinite(median) else "none",
            linestyle="--",
            linewidth=1.3,
            label=said,
        )
        ax.legend(loc="best", fontsize=8, frameon=True, framealpha=0.85, handlelength=1.6)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=whole))
    fig.suptitle(
        f"Distribution of headline outcomes across {total:,} replications\nScenario: {scenario}",
        fontsize=_TITLE_SIZE,
    )
    return fig


def save(fig: Figure, path: str | os.PathLike[str], *, dpi: int = DPI) -> Path:
    """Write ``fig`` as PNG or SVG (chosen by the suffix), atomically: a temporary file in the
    same directory is written first and then renamed over ``path``."""
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ValueError(
            f"cannot save a figure as {target.suffix or 'no suffix'}: use .png or .svg"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    metadata = {"Date": None} if fmt == "svg" else None
    try:
        fig.savefig(temporary, format=fmt, dpi=dpi, metadata=metadata)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def run_figures(
    outcomes: pd.DataFrame,
    timeseries: pd.DataFrame,
    horizon_years: float,
    *,
    scenario: str,
) -> dict[str, Figure]:
    """The figures of a run keyed by their file name in :data:`PLOT_FILES`, in that order.

    Fan charts of the yearly export value and domestic value added, the phase survival
    curves, and histograms of the :data:`sim.model.outputs.HEADLINE` outcomes present in
    ``outcomes``; without a time series (an empty table), the last two only.
    """
    headline = [name for name in outputs.HEADLINE if name in outcomes.columns]
    per_outcome = {
        "phase_survival.png": survival_chart(outcomes, horizon_years, scenario=scenario),
        "outcome_histograms.png": histograms(outcomes, headline, scenario=scenario),
    }
    if timeseries.empty:  # a run that kept outcomes only: no fan charts
        return per_outcome
    for column in ("year", "export_value_usd", "domestic_value_added_usd"):
        if column not in timeseries.columns:
            raise KeyError(f"column {column!r} not in the time-series table")
    fans = {}
    for name, column in (("export_value_fan.png", "export_value_usd"),
                         ("domestic_value_added_fan.png", "domestic_value_added_usd")):
        shown = series_display(column)
        fans[name] = fan_chart(timeseries, column, scenario=scenario, label=shown.label, unit=shown.unit,
                               unit_scale=shown.scale)
    return {**fans, **per_outcome}


def write_plots(
    outcomes: pd.DataFrame,
    timeseries: pd.DataFrame,
    horizon_years: float,
    *,
    scenario: str,
    out_dir: str | os.PathLike[str],
    dpi: int = DPI,
) -> list[Path]:
    """Write the figures of :func:`run_figures` into ``out_dir`` (created if needed) as PNG.

    Each file is written under a temporary name and renamed into place (see :func:`save`).
    Returns the paths written, in the order of :data:`PLOT_FILES`.
    """
    figures = run_figures(outcomes, timeseries, horizon_years, scenario=scenario)
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    return [save(figures[name], directory / name, dpi=dpi) for name in PLOT_FILES if name in figures]


# --- sweeps --------------------------------------------------------------------------------

SWEEP_QUANTITIES: tuple[str, ...] = (
    "P(phase2 by year 5)",
    "P(phase3 by year 15)",
    "P(stalled)",
    "cumulative_export_value_usd",
    "domestic_value_added_share",
    "npv_usd",
)
"""Summary quantities drawn against a sweep's factors (those present in its summary)."""

_FEW = 12
"""A factor with at most this many distinct values is drawn level by level, not as a cloud."""


def _factor_axis(values: pd.Series) -> tuple[np.ndarray, list[Any] | None]:
    """Positions on the x axis: the numbers themselves, or 0, 1, ... for words and booleans
    (with the tick labels to use)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float), None
    levels = list(dict.fromkeys(values))
    return np.array([levels.index(v) for v in values], dtype=float), levels


def sweep_effect_chart(summary: pd.DataFrame, factors: Sequence[str], factor: str,
                       quantities: Sequence[str], *, scenario: str, ncols: int = 3) -> Figure:
    """Each quantity against one factor of a sweep, one panel per quantity.

    With few levels, the mean at each level is a line with its 95% interval as a band; if
    the sweep has exactly one other factor with few levels, one line per level of it (its
    interaction with ``factor`` shows as lines that are not parallel); with more factors,
    the line is the average over the other factors' points and the band the range of their
    means. With many distinct values (a Latin hypercube or Sobol sample), each point's mean
    is a dot with its 95% interval.
    """
    quantities = [q for q in quantities if q in set(summary["quantity"])]
    others = [f for f in factors if f != factor]
    few = summary[factor].nunique() <= _FEW
    split = (others[0] if few and len(others) == 1 and summary[others[0]].nunique() <= 8 else None)
    fig, axes = _panels(len(quantities), ncols, 3.9, 3.1, 0.9)
    colours = [OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green", "orange",
                                      "reddish_purple", "sky_blue", "black", "yellow")]
    points = summary["point"].nunique()
    for ax, quantity in zip(axes, quantities, strict=False):
        shown = display(quantity)
        rows = summary[summary["quantity"] == quantity]
        _style(ax)
        x, labels = _factor_axis(rows[factor])
        mean = rows["mean"].to_numpy(dtype=float) / shown.scale
        # an interval cannot reach past what the quantity can be (no P(stalled) above 100%)
        low = np.clip(rows["ci95_low"].to_numpy(dtype=float), *shown.bounds) / shown.scale
        high = np.clip(rows["ci95_high"].to_numpy(dtype=float), *shown.bounds) / shown.scale
        if not few:
            ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o", markersize=3,
                        color=OKABE_ITO["blue"], ecolor=_GRID, elinewidth=1, label="point mean, 95% interval")
        elif split is not None:
            styles = itertools.cycle([(c, ("-", "--", ":", "-.")[i % 4], "os^D"[i % 4])
                                      for i, c in enumerate(colours)])
            for (colour, line, marker), level in zip(styles, dict.fromkeys(rows[split]), strict=False):
                pick = (rows[split] == level).to_numpy()
                order = np.argsort(x[pick], kind="stable")
                ax.plot(x[pick][order], mean[pick][order], marker=marker, linestyle=line, color=colour,
                        markersize=3.5, linewidth=1.4, label=f"{display(split).label} = {_level(level)}")
                ax.fill_between(x[pick][order], low[pick][order], high[pick][order], color=colour, alpha=0.15,
                                linewidth=0)
        else:
            frame = pd.DataFrame({"x": x, "mean": mean, "low": low, "high": high})
            by = frame.groupby("x", sort=True)
            level_x = np.array(list(by.groups), dtype=float)
            if others:
                centre, lo, hi = by["mean"].mean(), by["mean"].min(), by["mean"].max()
                band = f"range over the other factors' {points // max(len(level_x), 1)} points"
            else:
                centre, lo, hi = by["mean"].mean(), by["low"].mean(), by["high"].mean()
                band = "95% interval of the mean"
            ax.plot(level_x, centre.to_numpy(), "o-", color=OKABE_ITO["blue"], markersize=3.5,
                    linewidth=1.6, label="mean" if not others else "mean over the other factors")
            ax.fill_between(level_x, lo.to_numpy(), hi.to_numpy(), color=OKABE_ITO["sky_blue"],
                            alpha=0.35, linewidth=0, label=band)
        if labels is not None:
            ax.set_xticks(range(len(labels)), [_level(v) for v in labels])
        ax.set_title(_wrapped(shown.label, 40), fontsize=10)
        ax.set_xlabel(_wrapped(display(factor).axis_label, 45), fontsize=9)
        ax.set_ylabel(shown.unit, fontsize=9)
    handles, names = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, names, loc="outside lower center", ncol=min(len(names), 3), fontsize=8,
                   frameon=False)
    fig.suptitle(f"Outcomes against {display(factor).label} ({points:,} sweep points)\nScenario: {scenario}",
                 fontsize=_TITLE_SIZE)
    return fig


def _wrapped(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters, broken between words only."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def _level(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value).lower() if isinstance(value, bool | np.bool_) else str(value)


def sweep_heatmap(summary: pd.DataFrame, x: str, y: str, quantities: Sequence[str], *,
                  scenario: str, ncols: int = 3) -> Figure:
    """Each quantity's mean over two factors as a heatmap, one panel per quantity (the
    other factors averaged over). Factors with many distinct values (a sample rather than a
    grid) are cut into five bins of equal count."""
    quantities = [q for q in quantities if q in set(summary["quantity"])]
    fig, axes = _panels(len(quantities), ncols, 4.1, 3.4, 0.6)

    def binned(values: pd.Series) -> pd.Series:
        if values.nunique() <= _FEW:
            return values
        cut = pd.qcut(values.astype(float), 5, duplicates="drop")
        return cut.map(lambda iv: f"{format_number(iv.left, small_digits=3)}\u2013"
                                  f"{format_number(iv.right, small_digits=3)}").astype(str)

    for ax, quantity in zip(axes, quantities, strict=False):
        shown = display(quantity)
        rows = summary[summary["quantity"] == quantity]
        table = (pd.DataFrame({"x": binned(rows[x]), "y": binned(rows[y]), "mean": rows["mean"] / shown.scale})
                 .pivot_table(index="y", columns="x", values="mean", aggfunc="mean", sort=True))
        image = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [_level(v) for v in table.columns], fontsize=8)
        ax.set_yticks(range(table.shape[0]), [_level(v) for v in table.index], fontsize=8)
        if table.size <= 64:
            values = table.to_numpy(dtype=float)
            middle = np.nanmean(values) if np.isfinite(values).any() else 0.0
            for (i, j), v in np.ndenumerate(values):
                ax.text(j, i, format_number(v, small_digits=2), ha="center", va="center", fontsize=7.5,
                        color="black" if v >= middle else "white")
        ax.set_xlabel(_wrapped(display(x).axis_label, 40), fontsize=9)
        ax.set_ylabel(_wrapped(display(y).axis_label, 30), fontsize=9)
        ax.set_title(_wrapped(shown.label, 40), fontsize=10)
        fig.colorbar(image, ax=ax, label=shown.unit, shrink=0.9)
    fig.suptitle(f"Mean outcome over {display(x).label} and {display(y).label}\nScenario: {scenario}",
                 fontsize=_TITLE_SIZE)
    return fig


def sweep_figures(sweep: Any, summary: pd.DataFrame) -> dict[str, Figure]:
    """The figures of a sweep keyed by file name: one effect chart per factor (the first
    six) and, with two factors or more, the heatmap of the first two."""
    factors = sweep.factors
    figures = {f"effect_{name}.png": sweep_effect_chart(summary, factors, name, SWEEP_QUANTITIES,
                                                        scenario=sweep.name)
               for name in factors[:6]}
    if len(factors) >= 2:
        figures["heatmap.png"] = sweep_heatmap(summary, factors[0], factors[1], SWEEP_QUANTITIES,
                                               scenario=sweep.name)
    return figures


def write_sweep_plots(sweep: Any, summary: pd.DataFrame, out_dir: str | os.PathLike[str],
                      *, dpi: int = DPI) -> list[Path]:
    """Write :func:`sweep_figures` into ``out_dir`` as PNG; returns the paths written."""
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    return [save(fig, directory / name, dpi=dpi) for name, fig in sweep_figures(sweep, summary).items()]


# --- sensitivity ---------------------------------------------------------------------------

def tornado_chart(indices: pd.DataFrame, method: str, *, scenario: str, ncols: int = 3) -> Figure:
    """Sensitivity indices as a tornado: one panel per quantity, factors sorted by effect,
    largest on top, named in words. Sobol: total-order ST (light bar) with first-order S1
    (dark bar) inside, each with its 95% interval, all kept within 0 to 1, the range a share
    of variance can take (small samples give estimates outside it). Morris: mu* (bar, 95%
    interval) and sigma (diamond), in the quantity's unit."""
    quantities = list(dict.fromkeys(indices["quantity"]))
    fig, axes = _panels(len(quantities), ncols, 4.6, 0.5 * indices["factor"].nunique() + 1.7, 0.9)
    key = "ST" if method == "sobol" else "mu_star"
    for ax, quantity in zip(axes, quantities, strict=False):
        rows = indices[indices["quantity"] == quantity].sort_values(key, ascending=True)
        y = np.arange(len(rows))
        _style(ax)
        ax.grid(False, axis="y")
        if method == "sobol":
            for name, height, colour, ecolour, label in (("ST", 0.7, OKABE_ITO["sky_blue"], "#555555", "total order ST"),
                                                         ("S1", 0.35, OKABE_ITO["blue"], "#222222", "first order S1")):
                value = rows[name].to_numpy(dtype=float)
                low = np.clip(value - rows[f"{name}_conf"].to_numpy(dtype=float), 0, 1)
                high = np.clip(value + rows[f"{name}_conf"].to_numpy(dtype=float), 0, 1)
                shown_value = np.clip(value, 0, 1)
                ax.barh(y, shown_value, xerr=[shown_value - low, high - shown_value], height=height, color=colour,
                        error_kw={"ecolor": ecolour, "elinewidth": 0.9, "capsize": 2}, label=label)
            ax.set_xlabel("share of the outcome's variance", fontsize=9)
            ax.set_xlim(0, 1.02)
            ax.xaxis.set_major_formatter(lambda value, _pos: f"{value:.0%}")
        else:
            shown = display(quantity)
            ax.barh(y, rows["mu_star"] / shown.scale, xerr=rows["mu_star_conf"] / shown.scale, height=0.6,
                    color=OKABE_ITO["sky_blue"], error_kw={"ecolor": "#555555", "elinewidth": 0.9, "capsize": 2},
                    label="mu* (mean absolute effect)")
            ax.plot(rows["sigma"] / shown.scale, y, "D", color=OKABE_ITO["vermillion"], markersize=5,
                    label="sigma (interactions, non-linearity)")
            ax.set_xlabel(f"effect across the input's range ({shown.unit})", fontsize=9)
        ax.set_yticks(y, [_wrapped(display(f).label, 24) for f in rows["factor"]], fontsize=8)
        ax.set_title(_wrapped(display(quantity).label, 40), fontsize=10)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    title = ("Sobol indices (95% intervals, within 0\u2013100%)" if method == "sobol"
             else "Morris elementary effects (95% intervals)")
    fig.suptitle(f"{title}\nScenario: {scenario}", fontsize=_TITLE_SIZE)
    return fig


def discovery_chart(found: Any, *, name: str, boxes: int = 5) -> Figure:
    """Scenario discovery (:class:`sim.analysis.discovery.Discovery`) in two panels. Left: the cases
    over the two inputs that matter most to the best box (of interest in colour, the rest
    grey), with that box drawn. Right: coverage and density of each box, best first, against
    the base rate."""
    fig = _figure(11.5, 4.8)
    scatter, bars = fig.subplots(1, 2, width_ratios=[1.15, 1])
    top = found.boxes[0] if found.boxes else None
    numeric = [c for c in found.importance.index
               if pd.api.types.is_numeric_dtype(found.inputs[c]) and not pd.api.types.is_bool_dtype(found.inputs[c])]
    restricted = [c for c in (top.limits if top else {}) if c in numeric]
    axes_of = list(dict.fromkeys(restricted + numeric))[:2]
    _style(scatter)
    if len(axes_of) == 2:
        x, y = (found.inputs[c].to_numpy(dtype=float) for c in axes_of)
        rest = ~found.interest
        scatter.scatter(x[rest], y[rest], s=6, color="#b0b0b0", alpha=0.5, linewidths=0, label="other cases")
        scatter.scatter(x[found.interest], y[found.interest], s=8, color=OKABE_ITO["vermillion"], alpha=0.7,
                        linewidths=0, label=_condition_words(found.condition))
        if top is not None:
            (x0, x1), (y0, y1) = (_span(top.limits.get(c), v) for c, v in zip(axes_of, (x, y), strict=True))
            scatter.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, linewidth=1.6,
                                        edgecolor=OKABE_ITO["blue"], label="box 1"))
        scatter.set_xlabel(display(axes_of[0]).axis_label, fontsize=9)
        scatter.set_ylabel(_wrapped(display(axes_of[1]).axis_label, 40), fontsize=9)
        scatter.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.13), ncol=3)
    else:
        scatter.text(0.5, 0.5, "fewer than two numeric inputs to plot", ha="center", va="center",
                     transform=scatter.transAxes)
    hidden = len(top.limits) - len([c for c in axes_of if c in top.limits]) if top else 0
    scatter.set_title("Cases over the inputs of box 1"
                      + (f" ({hidden} more limit{'s' if hidden > 1 else ''} not drawn)" if hidden else ""),
                      fontsize=10)
    shown = found.boxes[:boxes]
    _style(bars)
    if shown:
        y = np.arange(len(shown))[::-1]
        bars.barh(y + 0.18, [b.coverage for b in shown], height=0.34, color=OKABE_ITO["sky_blue"], label="coverage")
        bars.barh(y - 0.18, [b.density for b in shown], height=0.34, color=OKABE_ITO["blue"], label="density")
        bars.axvline(found.base_rate, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1,
                     label=f"base rate {found.base_rate:.0%}")
        for i, b in enumerate(shown):
            for value, offset in ((b.coverage, 0.18), (b.density, -0.18)):
                bars.text(min(value, 0.88) + 0.01, y[i] + offset, f"{value:.0%}", va="center", fontsize=8)
        bars.set_yticks(y, [f"box {i + 1}" for i in range(len(shown))], fontsize=9)
        bars.set_ylim(-0.7, max(len(shown), 4) - 0.3)  # thin bars even for one box
        bars.grid(False, axis="y")
        bars.set_xlim(0, 1)
        bars.set_xlabel("share of cases", fontsize=9)
        bars.xaxis.set_major_formatter(lambda value, _pos: f"{value:.0%}")
        bars.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.13), ncol=3)
    else:
        bars.text(0.5, 0.5, "no box", ha="center", va="center", transform=bars.transAxes)
    bars.set_title("Coverage and density of each box", fontsize=10)
    fig.suptitle(f"Where {_condition_words(found.condition)}\nResults: {name}", fontsize=_TITLE_SIZE)
    return fig


def _condition_words(condition: Any) -> str:
    """A discovery condition with its outcome in words: "Time to reach Phase 3 > 15"."""
    text = str(condition)
    column = getattr(condition, "column", "")
    return text.replace(column, in_sentence(display(column).label), 1) if column else text


def _span(limit: Any, values: np.ndarray) -> tuple[float, float]:
    """A box's extent on one axis, clipped to the data (an unlimited side reaches the edge)."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if limit is None:
        return low, high
    return max(low, limit.low), min(high, limit.high)


COMPARE_COLOURS = (OKABE_ITO["black"], OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["bluish_green"],
                   OKABE_ITO["orange"], OKABE_ITO["reddish_purple"], OKABE_ITO["sky_blue"])
"""Run colours of a comparison, the reference (A) first."""
COMPARE_LINESTYLES: tuple[Any, ...] = ("-", (0, (6, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (3, 1, 1, 1, 1, 1)),
                                       (0, (10, 3)), (0, (2, 3)))
"""Run line styles, the reference solid: runs stay apart where their colours are hard to tell."""


def _versus(runs: dict[str, Any]) -> str:
    names = list(runs)
    return f"{', '.join(names[1:])} against {names[0]}" if len(names) > 1 else names[0]


def _spread(ax: Axes, rows: dict[str, np.ndarray], colours: Sequence[str],
            means: dict[str, tuple[float, float, float]] | None = None) -> None:
    """One horizontal row per entry of ``rows``, top to bottom: its values' P5-P95 as a line,
    P25-P75 as a box, the median as a bar across it and the mean as a white dot (with its
    95% interval, if ``means`` gives (mean, low, high))."""
    for i, ((name, x), colour) in enumerate(zip(rows.items(), colours, strict=False)):
        y = -i
        if x.size == 0:
            ax.text(0.5, y, "no values", transform=ax.get_yaxis_transform(), ha="center", va="center",
                    color="#555555", fontsize=8)
            continue
        p5, p25, p50, p75, p95 = np.percentile(x, [5, 25, 50, 75, 95])
        ax.plot([p5, p95], [y, y], color=colour, linewidth=1.4, solid_capstyle="butt")
        ax.add_patch(Rectangle((p25, y - 0.22), p75 - p25, 0.44, facecolor=colour, alpha=0.35, edgecolor=colour,
                               linewidth=1.2))
        ax.plot([p50, p50], [y - 0.22, y + 0.22], color=colour, linewidth=2.2)
        mean, low, high = means[name] if means is not None else (float(np.mean(x)), math.nan, math.nan)
        if math.isfinite(low) and math.isfinite(high):
            ax.errorbar([mean], [y], xerr=[[mean - low], [high - mean]], fmt="none", ecolor="black",
                        elinewidth=1.4, capsize=4, zorder=4)
        ax.plot([mean], [y], "o", markersize=5.5, markerfacecolor="white", markeredgecolor="black", zorder=5)
    ax.set_ylim(-len(rows) + 0.4, 0.6)
    ax.set_yticks([-i for i in range(len(rows))], list(rows), fontsize=8)
    ax.grid(False, axis="y")


def _spread_legend(fig: Figure, with_interval: bool) -> None:
    colour = "#777777"
    handles = [Line2D([], [], color=colour, linewidth=1.4),
               Patch(facecolor=colour, alpha=0.35, edgecolor=colour),
               Line2D([], [], color=colour, linewidth=2.2, marker="|", markersize=9, linestyle="none"),
               Line2D([], [], marker="o", markerfacecolor="white", markeredgecolor="black", linestyle="none")]
    names = ["90% of replications (P5\u2013P95)", "middle 50% (P25\u2013P75)", "median",
             "mean" + (" with its 95% interval" if with_interval else "")]
    if with_interval:
        handles.append(Line2D([], [], color="#555555", linewidth=1, linestyle=(0, (4, 2))))
        names.append("no difference")
    fig.legend(handles, names, loc="outside lower center", ncol=len(names), fontsize=8, frameon=False)


def compare_differences(runs: dict[str, pd.DataFrame], table: pd.DataFrame,
                        columns: Sequence[str] | None = None, *, ncols: int = 3) -> Figure:
    """The paired differences B - A, the point of a paired comparison: one panel per outcome
    and in it one row per compared run, showing the spread of its replication-by-replication
    differences (P5-P95, P25-P75, median), their mean with its 95% interval, and the shares of
    pairs in which B did better, the same or worse. ``table`` is the comparison
    (:data:`sim.analysis.pairing.COMPARE_COLUMNS`); the first run in ``runs`` is A."""
    names = list(runs)
    reference, others = names[0], names[1:]
    compared = list(dict.fromkeys(table["outcome"]))
    columns = [c for c in (columns or compared) if c in compared]
    rows = table.set_index(["b", "outcome"])
    fig, axes = _panels(len(columns), ncols, 4.1, 0.55 * len(others) + 1.75, 1.0)
    for k, (ax, column) in enumerate(zip(axes, columns, strict=False)):
        shown = display(column)
        a = stats.as_float_array(runs[reference][column])
        spread: dict[str, np.ndarray] = {}
        means: dict[str, tuple[float, float, float]] = {}
        for b in others:
            d = stats.as_float_array(runs[b][column]) - a
            spread[b] = d[np.isfinite(d)] / shown.scale
            r = rows.loc[(b, column)]
            span = shown.bounds[1] - shown.bounds[0]  # a difference lies within +-(high - low)
            mean, low, high = (float(np.clip(v, -span, span)) / shown.scale
                               for v in (r["difference"], r["ci95_low"], r["ci95_high"]))
            means[b] = (mean, low, high)
        _style(ax)
        ax.axvline(0, color="#555555", linewidth=1, linestyle=(0, (4, 2)), zorder=1)
        _spread(ax, spread, COMPARE_COLOURS[1:], means)
        if k % ncols:
            ax.set_yticklabels([])
        for i, b in enumerate(others):  # under each row's box, where no data is drawn
            r = rows.loc[(b, column)]
            ax.text(0.01, -i - 0.27, f"better {r['p_b_better']:.0%} \u00b7 tie {r['p_tie']:.0%} \u00b7 "
                    f"worse {r['p_b_worse']:.0%}", transform=ax.get_yaxis_transform(), ha="left", va="top",
                    fontsize=7, color="#333333",
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.3})
        ax.set_ylim(-len(others) + 0.3, 0.45)
        better = outputs.better_direction(column)
        ax.set_title(f"{shown.label}\n({better} is better)" if better else shown.label, fontsize=10)
        ax.set_xlabel(f"B \u2212 A ({shown.difference_unit})", fontsize=9)
    _spread_legend(fig, with_interval=True)
    pairs = int(table["pairs"].max()) if len(table) else 0
    fig.suptitle(f"Paired differences B \u2212 A over {pairs:,} replications, A = {reference}\n"
                 "(the same replication in both runs: the differences are the effect of the change)",
                 fontsize=_TITLE_SIZE)
    return fig


def compare_distributions(runs: dict[str, pd.DataFrame], columns: Sequence[str], *, ncols: int = 3) -> Figure:
    """The distribution of each outcome in every compared run, one row per run in each panel
    (P5-P95, P25-P75, median and mean), the reference first: legible for many runs, where
    overlaid histograms are not."""
    columns = [c for c in columns if all(c in o.columns for o in runs.values())]
    fig, axes = _panels(len(columns), ncols, 4.0, 0.45 * len(runs) + 1.5, 0.9)
    for k, (ax, column) in enumerate(zip(axes, columns, strict=False)):
        shown = display(column)
        _style(ax)
        _spread(ax, {name: _finite(o[column]) / shown.scale for name, o in runs.items()}, COMPARE_COLOURS)
        if k % ncols:
            ax.set_yticklabels([])
        is_phase = column in stats.PHASE_COLUMNS.values()
        ax.set_title(f"{shown.label}" + ("\n(replications that reached it)" if is_phase else ""), fontsize=10)
        ax.set_xlabel(shown.axis_label, fontsize=9)
    _spread_legend(fig, with_interval=False)
    total = {len(o) for o in runs.values()}
    fig.suptitle(f"Outcome distributions, {' / '.join(f'{n:,}' for n in sorted(total))} replications per run\n"
                 f"Scenarios: {_versus(runs)}", fontsize=_TITLE_SIZE)
    return fig


def compare_survival(runs: dict[str, pd.DataFrame], horizon_years: float) -> Figure:
    """Kaplan-Meier curves of the time to Phase 2 and to Phase 3, one panel per phase and one
    curve per compared run (its own colour and line style), each with its 95% band; one
    legend below the panels, clear of the curves, gives each run's two medians."""
    horizon = float(horizon_years)
    fig = _figure(11.5, 5.0 + 0.2 * math.ceil(len(runs) / 2))
    axes = fig.subplots(1, len(stats.PHASE_COLUMNS), squeeze=False).ravel()
    medians: dict[str, list[str]] = {name: [] for name in runs}
    handles: dict[str, Any] = {}
    for ax, (phase, column) in zip(axes, stats.PHASE_COLUMNS.items(), strict=True):
        start, end, wording = NOMINAL_WINDOWS[phase]
        handles["window"] = ax.axvspan(start, end, facecolor="#888888", alpha=0.12, linewidth=0)
        ax.text((start + end) / 2, 1.005, f"nominal start\n{wording}", ha="center", va="bottom", fontsize=7,
                color="#555555", transform=ax.get_xaxis_transform())
        styles = zip(COMPARE_COLOURS, COMPARE_LINESTYLES, strict=False)
        for (name, outcomes), (colour, line) in zip(runs.items(), styles, strict=False):
            if column not in outcomes.columns:
                continue
            curve = stats.survival(stats.as_float_array(outcomes[column]), horizon)
            if curve.empty:
                continue
            median = stats.median_time(curve)
            medians[name].append(f"Phase {phase} {median:.1f} yr" if math.isfinite(median)
                                 else f"Phase {phase} > {horizon:g} yr")
            ax.fill_between(curve["time"], np.clip(curve["ci_low"], 0, 1), np.clip(curve["ci_high"], 0, 1),
                            step="post", color=colour, alpha=0.10 if len(runs) > 3 else 0.15, linewidth=0)
            (handles[name],) = ax.step(curve["time"], curve["survival"], where="post", color=colour, linewidth=1.8,
                                       linestyle=line)
        _survival_axes(ax, horizon)
        ax.set_title(f"Phase {phase} not yet reached", fontsize=11, pad=22)
    axes[0].set_ylabel("Probability phase not yet reached (Kaplan\u2013Meier)", fontsize=_LABEL_SIZE)
    shown = [name for name in runs if name in handles]
    fig.legend([handles[n] for n in shown] + [Patch(facecolor="#808080", alpha=0.3, linewidth=0)],
               [f"{n}: median {', '.join(medians[n])}" for n in shown] + ["95% confidence band (pointwise)"],
               loc="outside lower center", ncol=2, fontsize=8.5, frameon=False)
    fig.suptitle(f"Time to reach Phase 2 and Phase 3, compared\nScenarios: {_versus(runs)}", fontsize=_TITLE_SIZE)
    return fig


# --- accessors: res.plot.fan(...), sweep.plot.effect(...), comparison.plot.survival() --------

class RunPlots:
    """The figures of one run, as ``res.plot``: each method returns a
    :class:`~matplotlib.figure.Figure` (shown in a notebook, written with :func:`save` or
    ``fig.savefig("name.svg")``)."""

    def __init__(self, res: Any):
        self._res = res

    def fan(self, column: str = "export_value_usd") -> Figure:
        """Median, 50% and 90% bands by year of a time-series column (needs the time series)."""
        series = self._res.timeseries
        if series.empty:
            raise ValueError(f"{self._res.name} kept no time series (run without --no-timeseries)")
        if column not in series.columns:
            raise KeyError(f"no time-series column {column!r}; columns: {', '.join(series.columns)}")
        shown = series_display(column)
        return fan_chart(series, column, scenario=self._res.name, label=shown.label, unit=shown.unit,
                         unit_scale=shown.scale)

    def survival(self) -> Figure:
        """Kaplan-Meier curves of the time to Phase 2 and Phase 3."""
        return survival_chart(self._res.outcomes, self._res.horizon_years, scenario=self._res.name)

    def hist(self, columns: str | Sequence[str] | None = None) -> Figure:
        """Histograms of one outcome or several (default: the headline outcomes)."""
        chosen = [columns] if isinstance(columns, str) else list(columns or outputs.HEADLINE)
        missing = [c for c in chosen if c not in self._res.outcomes.columns]
        if missing:
            raise KeyError(f"no outcome {', '.join(map(repr, missing))}")
        return histograms(self._res.outcomes, chosen, scenario=self._res.name)

    def all(self) -> dict[str, Figure]:
        """Every figure ``sim run`` writes, keyed by file name."""
        return run_figures(self._res.outcomes, self._res.timeseries, self._res.horizon_years,
                           scenario=self._res.name)


class SweepPlots:
    """The figures of a sweep, as ``sweep.plot``."""

    def __init__(self, sweep: Any):
        self._sweep = sweep

    def effect(self, factor: str | None = None, quantities: Sequence[str] = SWEEP_QUANTITIES) -> Figure:
        """Each summary quantity against one factor (default: the first)."""
        factor = factor or self._sweep.factors[0]
        return sweep_effect_chart(self._sweep.summary(), self._sweep.factors, factor, quantities,
                                  scenario=self._sweep.name)

    def heatmap(self, x: str | None = None, y: str | None = None,
                quantities: Sequence[str] = SWEEP_QUANTITIES) -> Figure:
        """Each summary quantity over two factors (default: the first two)."""
        factors = self._sweep.factors
        if len(factors) < 2 and (x is None or y is None):
            raise ValueError("a heatmap needs two factors; this sweep varies one")
        return sweep_heatmap(self._sweep.summary(), x or factors[0], y or factors[1], quantities,
                             scenario=self._sweep.name)


class ComparePlots:
    """The figures of a comparison, as ``comparison.plot``."""

    def __init__(self, comparison: Any):
        self._cmp = comparison

    def _outcomes(self) -> dict[str, pd.DataFrame]:
        return {label: res.outcomes for label, res in self._cmp.runs.items()}

    def differences(self, columns: Sequence[str] = outputs.HEADLINE) -> Figure:
        """The paired differences B - A of each outcome, per compared run (the point of a
        paired comparison), with their means, 95% intervals and better / tie / worse shares."""
        return compare_differences(self._outcomes(), self._cmp.table, columns)

    def distributions(self, columns: Sequence[str] = outputs.HEADLINE) -> Figure:
        """Each outcome's distribution in every run, one row per run."""
        return compare_distributions(self._outcomes(), columns)

    def survival(self) -> Figure:
        """Time to Phase 2 and Phase 3 in every run (Kaplan-Meier)."""
        horizon = min(res.horizon_years for res in self._cmp.runs.values())
        return compare_survival(self._outcomes(), horizon)
