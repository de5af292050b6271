"""Global sensitivity: SALib's Sobol and Morris methods on functions whose indices are known,
and on the simulator from the command line."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import BASELINE
from sim.analysis.gsa import design, ishigami, ishigami_indices, known_quantities, sensitivity
from sim.cli import app
from sim.experiment.sweeps import SweepError, parse_vary

ISHIGAMI = [parse_vary(f"{x}={-math.pi}:{math.pi}") for x in ("x1", "x2", "x3")]
RATE = "shocks.security.rate_factor"


@pytest.mark.check("analytic", source="Ishigami and Homma (1990): S1 = .314, .442, 0; ST = .558, .442, .244",
                   tolerance="every index within 0.05 with N = 4096 (36,864 evaluations)")
def test_sobol_indices_of_the_ishigami_function_match_the_closed_form(figure):
    result = sensitivity(ISHIGAMI, ishigami, method="sobol", samples=4096, seed=2)
    got = result.indices.set_index("factor")
    exact = ishigami_indices().set_index("factor")
    for column in ("S1", "ST"):
        assert np.allclose(got[column], exact[column], atol=0.05), (column, got[column], exact[column])
    assert (got["ST"] >= got["S1"] - 0.02).all()  # a total index includes the first-order one
    assert result.notes == []
    figure("S1 " + ", ".join(f"{v:.3f}" for v in got["S1"]) + "; ST " + ", ".join(f"{v:.3f}" for v in got["ST"]))


def test_a_small_sobol_sample_says_its_intervals_are_too_wide():
    result = sensitivity(ISHIGAMI, ishigami, method="sobol", samples=16, seed=2)
    assert any("too wide" in note for note in result.notes)


@pytest.mark.check("analytic", source="Morris (1991): the elementary effect of a linear input is its slope "
                   "times its range, the same at every point", tolerance="1e-9")
def test_morris_effects_of_a_linear_function_are_slope_times_range(figure):
    factors = [parse_vary("a=0:1"), parse_vary("b=0:10"), parse_vary("c=-1:1")]

    def linear(points: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"y": 3 * points["a"] + 1 * points["b"] + 0 * points["c"] + 5})

    result = sensitivity(factors, linear, method="morris", samples=20, seed=1)
    got = result.indices.set_index("factor")
    assert np.allclose(got["mu_star"], [3, 10, 0], atol=1e-9)
    assert np.allclose(got["mu"], [3, 10, 0], atol=1e-9)
    assert np.allclose(got["sigma"], 0, atol=1e-9)
    assert len(result.points) == 20 * 4
    figure("mu* " + ", ".join(f"{v:.6g}" for v in got["mu_star"]) + f"; largest sigma {got['sigma'].max():.1e}")


def test_designs_refuse_what_the_methods_cannot_use():
    with pytest.raises(SweepError, match="power of two.*try 64"):
        design(ISHIGAMI, "sobol", 48, seed=1)
    with pytest.raises(SweepError, match="ranges"):
        design([parse_vary("levers.deal_basis=treaty,personality")], "morris", 8, seed=1)
    with pytest.raises(SweepError, match="unknown method"):
        design(ISHIGAMI, "fast", 8, seed=1)
    a = design(ISHIGAMI, "sobol", 8, seed=1)
    assert len(a) == 8 * (3 + 2) and a.equals(design(ISHIGAMI, "sobol", 8, seed=1))
    assert a[["x1", "x2", "x3"]].abs().le(math.pi).all().all()


def test_a_quantity_that_does_not_vary_gets_a_note_not_an_error():
    result = sensitivity(ISHIGAMI[:2], lambda p: pd.DataFrame({"flat": np.ones(len(p))}), method="morris",
                         samples=4, seed=1)
    assert result.indices.empty
    assert result.notes == ["flat: no indices, it does not vary over the design."]


def _sim(*args):
    return CliRunner().invoke(app, list(map(str, args)), catch_exceptions=False)


def test_sensitivity_command_writes_indices_and_tornado(tmp_path):
    done = _sim("sensitivity", BASELINE, "--vary", f"{RATE}=0.5:3", "--vary", "shocks.tariff.initial_rate=0:0.4",
                "--method", "morris", "--samples", 2, "--runs", 3, "--workers", 1, "--outcome", "npv_usd",
                "--outcome", "P(stalled)", "--out", tmp_path / "s", "--quiet")
    assert done.exit_code == 0, done.output
    indices = pd.read_csv(tmp_path / "s" / "indices.csv")
    assert set(indices["factor"]) == {RATE, "shocks.tariff.initial_rate"}
    assert set(indices["quantity"]) <= {"npv_usd", "P(stalled)"}
    assert (tmp_path / "s" / "plots" / "tornado.png").stat().st_size > 10_000
    assert (tmp_path / "s" / "points.parquet").exists()
    assert "Morris elementary effects" in done.output


def test_sensitivity_command_refuses_bad_input_before_running(tmp_path):
    cases = ((("--method", "fast"), "must be one of"),
             (("--samples", 48), "power of two"),
             (("--outcome", "npv"), "no such outcome"),
             (("--vary", "levers.deal_basis=treaty,personality"), "ranges"))
    for extra, expected in cases:
        vary = () if "--vary" in extra else ("--vary", f"{RATE}=0.5:3")
        done = _sim("sensitivity", BASELINE, *vary, *extra, "--runs", 2, "--workers", 1, "--out", tmp_path / "x")
        assert done.exit_code == 2 and expected in done.output, (extra, done.output)
        assert not (tmp_path / "x").exists()
    assert "npv_usd" in known_quantities() and "P(phase3 by year 15)" in known_quantities()


def test_an_interrupted_sensitivity_analysis_resumes_to_the_same_indices(tmp_path):
    """The design's runs are saved as a sweep's are, so an analysis stopped part way is
    finished with resume, to the indices of one uninterrupted analysis."""
    from conftest import interrupt_after
    from sim import api

    options = {"vary": [f"{RATE}=0.5:3", "shocks.tariff.initial_rate=0:0.4"], "method": "morris", "samples": 2,
               "runs": 3, "seed": 2, "outcomes": ["npv_usd"], "workers": 1, "plots": False}
    whole = api.sensitivity(BASELINE, **options, out=tmp_path / "whole")
    out = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        api.sensitivity(BASELINE, **options, out=out, progress=interrupt_after(2))
    assert not (out / "indices.csv").exists() and len(list((out / "shards").iterdir())) == 2
    resumed = api.sensitivity(BASELINE, **options, out=out, resume=True)
    assert resumed.sweep is not None and resumed.sweep.manifest["chunks_resumed"] == 2
    pd.testing.assert_frame_equal(resumed.indices, whole.indices, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_csv(out / "indices.csv"), pd.read_csv(tmp_path / "whole" / "indices.csv"))
