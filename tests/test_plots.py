"""Figures of a run, checked on a synthetic run of plausible shape and magnitude."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from sim.model import outputs
from sim.present import plots

HORIZON = 25
SCENARIO = "synthetic-baseline"


def synthetic_run(
    replications: int = 300, horizon: int = HORIZON, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outcome and time-series tables shaped like a run's, with plausible magnitudes.

    Exports ramp up to about USD 5 bn a year, Phase 2 comes after 2-3 years, Phase 3 after
    8-12 years, and some replications reach neither within the horizon (NaN) or stall.
    """
    rng = np.random.default_rng(seed)
    n = replications
    phase2 = 2.0 + rng.gamma(4.0, 0.15, n)
    phase2[rng.random(n) < 0.05] = np.nan
    phase3 = np.clip(rng.normal(10.0, 1.3, n), 8.0, 12.5)
    phase3[np.isnan(phase2) | (rng.random(n) < 0.18)] = np.nan
    stalled = np.isnan(phase3) & (rng.random(n) < 0.4)
    stall_year = np.where(stalled, rng.uniform(4.0, 15.0, n), np.nan)

    years = np.arange(1, horizon + 1)
    plateau = 5e9 * rng.lognormal(0.0, 0.35, n)
    midpoint = np.where(np.isnan(phase3), 16.0, phase3)
    ramp = 1.0 / (1.0 + np.exp(-(years[None, :] - midpoint[:, None]) / 2.0))
    exports = plateau[:, None] * (0.03 + ramp) * rng.lognormal(0.0, 0.1, (n, horizon))
    exports[stalled[:, None] & (years[None, :] > stall_year[:, None])] *= 0.2
    va_share = np.clip(0.08 + 0.012 * years[None, :] + rng.normal(0, 0.03, (n, horizon)), 0, 1)
    value_added = exports * va_share
    timeseries = pd.DataFrame(
        {
            "replication": np.repeat(np.arange(n), horizon),
            "year": np.tile(years, n),
            "phase": np.ones(n * horizon, dtype=int),
            "export_value_usd": exports.ravel(),
            "domestic_value_added_usd": value_added.ravel(),
            "incidents": rng.poisson(0.6, n * horizon),
            "confidence": rng.uniform(0.2, 0.9, n * horizon),
        }
    )
    total_exports = exports.sum(axis=1)
    total_va = value_added.sum(axis=1)
    outcomes = pd.DataFrame(
        {
            "replication": np.arange(n),
            "phase2_year": phase2,
            "phase3_year": phase3,
            "stalled": stalled,
            "stall_year": stall_year,
            "cumulative_export_value_usd": total_exports,
            "domestic_value_added_usd": total_va,
            "domestic_value_added_share": total_va / total_exports,
            "china_processed_share": rng.beta(5.0, 3.0, n),
            "security_incidents": rng.poisson(14.0, n),
            "downtime_days": rng.gamma(3.0, 60.0, n),
            "tariff_cost_usd": 0.04 * total_exports * rng.uniform(0.5, 1.5, n),
            "npv_usd": rng.normal(4e9, 5e9, n),
            "peak_annual_export_usd": exports.max(axis=1),
            "events": rng.integers(2_000, 6_000, n),
            "shocks.security.hit_probability": rng.uniform(0.05, 0.3, n),
        }
    )
    return outcomes, timeseries


@pytest.fixture(scope="module")
def run() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_run()


def _has_data(ax) -> bool:
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 0]
    return bool(lines) or bool(ax.patches) or bool(ax.collections)


def test_display_units() -> None:
    assert plots.display("npv_usd").unit == "USD bn"
    assert plots.display("npv_usd").scale == 1e9
    assert plots.display("domestic_value_added_share").scale == 0.01
    assert "%" in plots.display("china_processed_share").unit
    assert plots.display("phase2_year").unit == "years since start"
    assert plots.display("some_new_cost_usd").unit == "USD bn"
    drawn = plots.display("shocks.security.hit_probability")  # a drawn input, by its dotted path
    assert (drawn.label, drawn.unit, drawn.scale) == ("Security: hit probability", "share, 0\u20131", 1.0)


def test_fan_chart(run) -> None:
    _, timeseries = run
    fig = plots.fan_chart(timeseries, "export_value_usd", scenario=SCENARIO, label="Export value")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert SCENARIO in ax.get_title()
    assert "Export value" in ax.get_title()
    assert "USD bn" in ax.get_ylabel()
    assert "year" in ax.get_xlabel().lower()
    median = next(line for line in ax.get_lines() if line.get_label() == "median")
    np.testing.assert_array_equal(median.get_xdata(), np.arange(1, HORIZON + 1))
    # Shown in billions: the median plateau is a few USD bn, not 1e9-sized numbers.
    assert 1.0 < np.max(median.get_ydata()) < 20.0
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    labels = ax.get_legend_handles_labels()[1]
    assert any("p25" in label and "p75" in label for label in labels)
    assert any("p5" in label and "p95" in label for label in labels)


def test_fan_chart_custom_unit(run) -> None:
    _, timeseries = run
    fig = plots.fan_chart(
        timeseries, "incidents", scenario=SCENARIO, label="Incidents", unit_scale=1, unit="count"
    )
    (ax,) = fig.axes
    assert ax.get_ylabel() == "Incidents (count)"


def test_fan_chart_single_year() -> None:
    timeseries = pd.DataFrame({"replication": [0, 1], "year": [1, 1], "x": [1e9, 3e9]})
    fig = plots.fan_chart(timeseries, "x", scenario=SCENARIO, label="Exports")
    (ax,) = fig.axes
    assert ax.get_lines()[0].get_ydata()[0] == pytest.approx(2.0)


def test_survival_chart(run) -> None:
    outcomes, _ = run
    fig = plots.survival_chart(outcomes, HORIZON, scenario=SCENARIO)
    (ax,) = fig.axes
    assert SCENARIO in ax.get_title()
    assert "years" in ax.get_xlabel().lower()
    assert "not yet reached" in ax.get_ylabel()
    assert ax.get_xlim() == (0.0, HORIZON)
    curves = [line for line in ax.get_lines() if line.get_label().startswith("Phase")]
    assert len(curves) == 2
    for line in curves:
        y = np.asarray(line.get_ydata(), dtype=float)
        assert y[0] == 1.0
        assert np.all(np.diff(y) <= 0)
    legend_text = [t.get_text() for t in fig.legends[0].get_texts()]
    never2 = int(outcomes["phase2_year"].isna().sum())
    never3 = int(outcomes["phase3_year"].isna().sum())
    assert any(f"{never2} of {len(outcomes)}" in t and "censored" in t for t in legend_text)
    assert any(f"{never3} of {len(outcomes)}" in t for t in legend_text)
    assert any("2\u20133 years" in t for t in legend_text)
    assert any("after a decade" in t for t in legend_text)
    assert any("confidence" in t for t in legend_text)


@pytest.mark.parametrize("reached", ["none", "all"])
def test_survival_chart_extremes(reached: str) -> None:
    n = 50
    times = np.full(n, np.nan) if reached == "none" else np.linspace(1.0, 9.0, n)
    outcomes = pd.DataFrame({"phase2_year": times, "phase3_year": times + 5.0})
    fig = plots.survival_chart(outcomes, HORIZON, scenario=SCENARIO)
    (ax,) = fig.axes
    curves = [line for line in ax.get_lines() if line.get_label().startswith("Phase")]
    assert len(curves) == 2
    final = {float(np.asarray(line.get_ydata())[-1]) for line in curves}
    assert final == ({1.0} if reached == "none" else {0.0})


def test_histograms(run) -> None:
    outcomes, _ = run
    columns = [c for c in outputs.HEADLINE if c in outcomes.columns]
    fig = plots.histograms(outcomes, columns, scenario=SCENARIO)
    assert SCENARIO in fig.get_suptitle()
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(columns)
    for ax, column in zip(visible, columns, strict=True):
        assert ax.get_title()
        assert "(" in ax.get_xlabel() and ")" in ax.get_xlabel()
        assert ax.get_ylabel() == "replications"
        assert ax.patches, column
        medians = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert len(medians) == 1
    by_column = dict(zip(columns, visible, strict=True))
    reached = int(outcomes["phase3_year"].notna().sum())
    assert f"n reached = {reached} of {len(outcomes)}" in by_column["phase3_year"].get_title()
    npv_axis = by_column["npv_usd"]
    assert "USD bn" in npv_axis.get_xlabel()
    median_x = next(line for line in npv_axis.get_lines()).get_xdata()[0]
    assert median_x == pytest.approx(np.median(outcomes["npv_usd"]) / 1e9)


def test_histograms_empty_column() -> None:
    outcomes = pd.DataFrame({"phase3_year": [np.nan] * 10, "npv_usd": np.linspace(-1e9, 1e9, 10)})
    fig = plots.histograms(outcomes, ["phase3_year", "npv_usd"], scenario=SCENARIO)
    first = fig.axes[0]
    assert "n reached = 0 of 10" in first.get_title()
    assert not first.patches


def test_histograms_unknown_column(run) -> None:
    outcomes, _ = run
    with pytest.raises(KeyError, match="no_such_column"):
        plots.histograms(outcomes, ["no_such_column"], scenario=SCENARIO)


def test_run_figures(run) -> None:
    outcomes, timeseries = run
    figures = plots.run_figures(outcomes, timeseries, HORIZON, scenario=SCENARIO)
    assert list(figures) == list(plots.PLOT_FILES)
    for name in ("export_value_fan.png", "domestic_value_added_fan.png"):
        (ax,) = figures[name].axes
        assert ax.get_ylabel().endswith("(USD bn per year)")
    hist_titles = [ax.get_title() for ax in figures["outcome_histograms.png"].axes]
    assert len([t for t in hist_titles if t]) == len(outputs.HEADLINE)
    with pytest.raises(KeyError, match="export_value_usd"):
        plots.run_figures(
            outcomes, timeseries.drop(columns="export_value_usd"), HORIZON, scenario=SCENARIO
        )


def test_write_plots(run, tmp_path) -> None:
    outcomes, timeseries = run
    out_dir = tmp_path / "nested" / "plots"
    written = plots.write_plots(outcomes, timeseries, HORIZON, scenario=SCENARIO, out_dir=out_dir)
    assert [p.name for p in written] == list(plots.PLOT_FILES)
    assert plots.PLOT_FILES[:2] == ("export_value_fan.png", "domestic_value_added_fan.png")
    for path in written:
        assert path.parent == out_dir
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 10_000
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(plots.PLOT_FILES)


def test_write_plots_skips_absent_headline_columns(run, tmp_path) -> None:
    outcomes, timeseries = run
    trimmed = outcomes.drop(columns=["npv_usd", "tariff_cost_usd"])
    written = plots.write_plots(trimmed, timeseries, HORIZON, scenario=SCENARIO, out_dir=tmp_path)
    assert all(p.stat().st_size > 0 for p in written)


def test_save_png_and_svg(run, tmp_path) -> None:
    _, timeseries = run
    fig = plots.fan_chart(timeseries, "export_value_usd", scenario=SCENARIO, label="Exports")
    png = plots.save(fig, tmp_path / "fan.png")
    svg = plots.save(fig, tmp_path / "fan.SVG")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in svg.read_bytes()[:2000]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fan.SVG", "fan.png"]
    with pytest.raises(ValueError, match="png or .svg"):
        plots.save(fig, tmp_path / "fan.jpg")
    assert not (tmp_path / "fan.jpg").exists()


def test_plotting_leaves_pyplot_alone(tmp_path) -> None:
    code = (
        "import sys, pathlib, pandas as pd; import sim.present.plots as p; "
        "t = pd.DataFrame({'replication': [0, 0], 'year': [1, 2], 'x': [1e9, 2e9]}); "
        "p.save(p.fan_chart(t, 'x', scenario='s', label='x'), pathlib.Path(sys.argv[1])); "
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "f.png")], check=True)
    assert (tmp_path / "f.png").stat().st_size > 0


# --- comparisons, sweeps and sensitivity: words on the axes, differences, legibility ---------

def _paired(outcomes: pd.DataFrame, shift: float, name: str):
    """A run whose every outcome is the reference's moved by ``shift`` of its spread."""
    from conftest import baseline
    from sim.experiment.results import ResultSet

    moved = outcomes.copy()
    for column in moved.columns.drop(["replication", "stalled"]):
        if pd.api.types.is_float_dtype(moved[column]):
            moved[column] = moved[column] + shift * np.nanstd(moved[column])
    return ResultSet(baseline(name=name), moved, pd.DataFrame(), {"seed": 1})


def test_the_compare_plot_shows_the_paired_differences(run) -> None:
    from sim.analysis.pairing import compare

    outcomes, _ = run
    a = _paired(outcomes, 0.0, "A")
    others = [_paired(outcomes, s, f"B{i}") for i, s in enumerate((0.5, -0.3))]
    table = compare(a, others)
    runs = {"A": a.outcomes, **{r.name: r.outcomes for r in others}}
    fig = plots.compare_differences(runs, table, ["npv_usd", "phase3_year"])
    npv, phase3 = [ax for ax in fig.axes if ax.get_visible()][:2]
    assert npv.get_title() == "Net present value\n(higher is better)"
    assert npv.get_xlabel() == "B \u2212 A (USD bn)" and phase3.get_xlabel() == "B \u2212 A (years)"
    assert [t.get_text() for t in npv.get_yticklabels()] == ["B0", "B1"]
    means = [line for line in npv.get_lines() if line.get_marker() == "o"]
    expected = table.set_index(["b", "outcome"]).loc[[("B0", "npv_usd"), ("B1", "npv_usd")], "difference"] / 1e9
    np.testing.assert_allclose([m.get_xdata()[0] for m in means], expected.to_numpy())
    texts = [t.get_text() for t in npv.texts]
    assert any(t.startswith("better ") and "tie" in t and "worse" in t for t in texts)
    assert any(line.get_xdata()[0] == 0 for line in npv.get_lines())  # "no difference" drawn at 0


def test_five_compared_runs_stay_apart(run) -> None:
    outcomes, _ = run
    runs = {f"scenario_{i}": _paired(outcomes, 0.2 * i, f"s{i}").outcomes for i in range(5)}
    fig = plots.compare_survival(runs, HORIZON)
    panel = fig.axes[0]
    styles = {(line.get_color(), str(line.get_linestyle())) for line in panel.get_lines()}
    assert len(styles) == 5  # each run its own colour and line style
    assert not any(ax.get_legend() for ax in fig.axes)  # no legend over the curves
    (legend,) = fig.legends
    assert sum(text.get_text().startswith("scenario_") for text in legend.get_texts()) == 5
    fig = plots.compare_distributions(runs, ["npv_usd", "china_processed_share"])
    first = fig.axes[0]
    assert [t.get_text() for t in first.get_yticklabels()] == list(runs)
    assert first.get_xlabel() == "Net present value (USD bn)"


def test_intervals_are_clipped_to_what_is_possible() -> None:
    summary = pd.DataFrame({"point": [0, 1, 2], "shocks.security.rate_factor": [1.0, 2.0, 4.0],
                            "quantity": "P(stalled)", "mean": [0.0, 0.6, 0.98],
                            "ci95_low": [-0.05, 0.45, 0.9], "ci95_high": [0.04, 0.75, 1.06]})
    fig = plots.sweep_effect_chart(summary, ["shocks.security.rate_factor"], "shocks.security.rate_factor",
                                   ["P(stalled)"], scenario=SCENARIO)
    ax = fig.axes[0]
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    y = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    assert y.min() >= 0.0 and y.max() <= 100.0  # percent of replications
    assert y.max() == pytest.approx(100.0)
    assert ax.get_title() == "Stalled within the horizon"
    assert ax.get_xlabel() == "Security: rate factor (multiplier)"  # words, not a truncated path
    assert "Security: rate factor" in fig.get_suptitle()


def test_the_tornado_names_inputs_in_words_and_keeps_indices_within_0_and_1() -> None:
    indices = pd.DataFrame({"quantity": "npv_usd", "factor": ["shocks.security.rate_factor",
                                                              "levers.processing_mandate"],
                            "S1": [-0.2, 0.5], "S1_conf": [0.8, 0.1], "ST": [1.3, 0.6], "ST_conf": [0.9, 0.1]})
    fig = plots.tornado_chart(indices, "sobol", scenario=SCENARIO)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Lever: processing\nmandate", "Security: rate factor"]
    widths = [bar.get_width() for bar in ax.patches]
    assert min(widths) >= 0.0 and max(widths) <= 1.0
    ends = np.concatenate([seg[:, 0] for c in ax.collections for seg in c.get_segments()])
    assert ends.min() >= 0.0 and ends.max() <= 1.0
    assert ax.get_title() == "Net present value"
