"""Precision-driven runs: the moments, the stopping rule, and runs that stop at the same
replication count whatever the layout, interrupted or not."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import BASELINE, baseline
from sim.cli import app
from sim.experiment.precision import Moments, PrecisionWatch, aligned_chunks, check_points
from sim.experiment.results import read_columns
from sim.experiment.store import RunFolderError, run_to_folder


def test_moments_combine_to_those_of_the_whole():
    rng = np.random.default_rng(1)
    x = rng.lognormal(20, 1, 1000)
    parts = np.split(x, [3, 200, 201, 640])
    total = Moments()
    for part in parts:
        total = total + Moments.of(part)
    whole = Moments.of(x)
    assert total.n == 1000
    assert total.mean == pytest.approx(whole.mean, rel=1e-12) and total.m2 == pytest.approx(whole.m2, rel=1e-10)
    assert whole.half_width() == pytest.approx(1.959964 * x.std(ddof=1) / math.sqrt(1000), rel=1e-6)
    assert Moments.of(np.array([np.nan, 1.0, 3.0])).n == 2  # a phase never reached is not a value
    assert Moments.of(np.zeros(5)).relative_half_width() == 0  # exact: no spread
    assert Moments.of(np.array([-1.0, 1.0])).relative_half_width() == math.inf  # zero mean with spread


def test_check_points_and_chunks_line_up():
    assert check_points(100, 350) == [100, 200, 300, 350]
    assert check_points(500, 500) == [500]
    chunks = aligned_chunks([100, 200, 300, 350], 40)
    assert chunks[:4] == [(0, 40), (40, 80), (80, 100), (100, 140)]
    assert {b for _, b in chunks} >= {100, 200, 300, 350}
    assert sum(b - a for a, b in chunks) == 350 and all(b - a <= 40 for a, b in chunks)


@pytest.mark.check("analytic", source="the 95% half-width of a mean is 1.96 sd / sqrt(n): a normal stream of "
                   "mean 10 and sd 2 needs about (1.96 x 2 / 0.1)^2 = 1537 values for 1%",
                   tolerance="stops at the first check point (every 100) whose prefix meets 1%, and within "
                   "1537 +- 300")
def test_the_watch_stops_at_the_first_check_point_that_meets_the_target(figure):
    rng = np.random.default_rng(7)
    x = rng.normal(10, 2, 5000)
    points = check_points(100, 5000)
    chunks = aligned_chunks(points, 37)

    def stop_with(order):
        watch = PrecisionWatch(0.01, ["y"], points)
        for a, b in order:
            verdict = watch.add(a, b, {"y": x[a:b]})
            if verdict:
                return verdict.runs
        return None

    in_order = stop_with(chunks)
    shuffled = [chunks[i] for i in np.random.default_rng(3).permutation(len(chunks))]
    # Chunks beyond the stop may arrive first; the verdict is the same.
    assert stop_with(shuffled) == in_order
    first = next(n for n in points if Moments.of(x[:n]).relative_half_width() < 0.01)
    assert in_order == first
    assert abs(in_order - 1537) <= 300
    figure(f"stopped at {in_order} values (closed form about 1537)")


def _run(tmp_path, name, **options):
    out = tmp_path / name
    stored = run_to_folder(baseline(), out, seed=11, timeseries=False, **options)
    return stored.manifest, read_columns(out / "outcomes.parquet")


def test_a_precision_run_stops_at_the_same_count_in_any_layout_and_equals_a_plain_run(tmp_path):
    options = {"runs": 400, "target_precision": 0.06, "check_every": 20,
               "precision_columns": ["cumulative_export_value_usd"]}
    one, a = _run(tmp_path, "one", workers=1, chunk_size=7, **options)
    # Another chunking (arrival out of order is covered by the shuffled watch above).
    two, b = _run(tmp_path, "two", workers=1, chunk_size=25, **options)
    assert one["precision"]["met"] and one["runs"] == two["runs"] < 400
    assert one["runs"] % 20 == 0 and len(a) == one["runs"]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    _, plain = _run(tmp_path, "plain", runs=one["runs"], workers=1)
    pd.testing.assert_frame_equal(a, plain, check_exact=True)
    checks = one["precision"]["checks"]
    assert [n for n, _ in checks] == list(range(20, one["runs"] + 1, 20)) and len(checks) >= 3
    assert checks[-1][1] < 0.06 <= checks[-2][1]


def test_an_interrupted_precision_run_resumes_to_the_same_stop(tmp_path):
    options = {"runs": 400, "target_precision": 0.07, "check_every": 20,
               "precision_columns": ["cumulative_export_value_usd"], "workers": 1, "chunk_size": 15}
    whole, expected = _run(tmp_path, "whole", **options)
    seen = []

    def interrupt(n):
        seen.append(n)
        if sum(seen) >= 30:  # mid-segment: chunks 0-15 and 15-30 are in, the second segment is not whole
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_to_folder(baseline(), tmp_path / "cut", seed=11, timeseries=False, progress=interrupt, **options)
    assert json.loads((tmp_path / "cut" / "manifest.json").read_text())["status"] == "running"
    # Refusals name the options as the user gave them: the cap is --max-runs, not --runs.
    for change, words in (({"target_precision": 0.02}, "has --target-precision 0.07 checked every 20 (--runs) "
                           "up to 400 (--max-runs), watching cumulative_export_value_usd"),
                          ({"runs": 500}, "a cap of 400 replications (this command asks for --max-runs 500)"),
                          ({"target_precision": None, "runs": 20}, "has --target-precision 0.07")):
        with pytest.raises(RunFolderError, match="cannot resume") as refused:
            run_to_folder(baseline(), tmp_path / "cut", seed=11, timeseries=False, resume=True,
                          **{**options, **change})
        assert words in str(refused.value) and "20 runs" not in str(refused.value)
    resumed, got = _run(tmp_path, "cut", resume=True, **options)
    assert resumed["runs"] == whole["runs"]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_run_command_refuses_precision_options_that_cannot_work(tmp_path):
    for extra, message in ((("--max-runs", "500"), "go with --target-precision"),
                           (("--target-precision", "0.01", "--max-runs", "50"), "at least --runs"),
                           (("--target-precision", "0.01", "--precision-for", "npv"), "no outcome npv")):
        done = CliRunner().invoke(app, ["run", str(BASELINE), "--runs", "100", "--out", str(tmp_path / "x"), *extra],
                                  catch_exceptions=False)
        assert done.exit_code == 2 and message in done.output, done.output
        assert not (tmp_path / "x").exists()
