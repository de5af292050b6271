"""Sweeps: designs, common random numbers, files and the command line."""

from __future__ import annotations

import contextlib
import json
import shlex
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import BASELINE, baseline, hears_ctrl_c, interrupt_after
from sim.cli import app
from sim.errors import ScenarioError
from sim.experiment.runner import run_many
from sim.experiment.store import RunFolderError
from sim.experiment.sweeps import (
    Sweep,
    SweepError,
    load_sweep_file,
    make_design,
    make_factor,
    parse_vary,
    run_sweep,
)

RATE = "shocks.security.rate_factor"
TARIFF = "shocks.tariff.initial_rate"


def test_vary_reads_ranges_and_listed_values():
    assert parse_vary(f"{RATE}=0.5:4") == make_factor(RATE, {"low": 0.5, "high": 4})
    listed = parse_vary("levers.deal_basis=treaty,personality")
    assert listed.values == ("treaty", "personality")
    assert parse_vary(f"{TARIFF}=0,0.19,0.29").values == (0, 0.19, 0.29)
    for bad in (RATE, f"{RATE}=", f"{RATE}=4:0.5", f"{RATE}=a:b", f"{RATE}=1,1", f"{RATE}=[1, 2"):
        with pytest.raises(SweepError):
            parse_vary(bad)


def test_grid_is_every_combination_last_factor_fastest():
    points = make_design([parse_vary(f"{RATE}=1,2"), parse_vary(f"{TARIFF}=0:0.2")], levels=3)
    assert list(points["point"]) == list(range(6))
    assert list(points[RATE]) == [1, 1, 1, 2, 2, 2]
    assert np.allclose(points[TARIFF], [0, 0.1, 0.2] * 2)


@pytest.mark.parametrize("design", ["lhs", "sobol"])
def test_samples_are_seeded_inside_their_ranges(design):
    factors = [parse_vary(f"{RATE}=0.5:4"), parse_vary("levers.deal_basis=treaty,personality")]
    a = make_design(factors, design, samples=16, seed=3)
    assert a.equals(make_design(factors, design, samples=16, seed=3))
    assert not a.equals(make_design(factors, design, samples=16, seed=4))
    assert a[RATE].between(0.5, 4).all()
    assert set(a["levers.deal_basis"]) == {"treaty", "personality"}
    # Both designs put exactly one point in each of 16 equal slices of the range (a Sobol
    # sequence of 2^k points is stratified like a Latin hypercube in each coordinate).
    slices = np.floor((a[RATE] - 0.5) / 3.5 * 16).astype(int)
    assert sorted(slices) == list(range(16))


def test_designs_say_what_is_missing():
    with pytest.raises(SweepError, match="needs --samples"):
        make_design([parse_vary(f"{RATE}=0.5:4")], "lhs")
    with pytest.raises(SweepError, match="nothing to vary"):
        make_design([])
    with pytest.raises(SweepError, match="unknown design"):
        make_design([parse_vary(f"{RATE}=1,2")], "factorial")


@pytest.mark.check("invariant", source="common random numbers: a sweep point is the single run with the point's values",
                   tolerance="bit-identical outcomes")
def test_each_point_is_exactly_the_single_run_with_its_values(figure):
    points = make_design([parse_vary(f"{RATE}=1,3"), parse_vary("levers.deal_basis=personality,treaty")])
    sweep = run_sweep(BASELINE, points, runs=6, seed=9, workers=2, chunk_size=4)
    for row in points.itertuples(index=False):
        single = run_many(baseline(**{RATE.replace(".", "__"): row[1], "levers__deal_basis": row[2]}),
                          runs=6, seed=9, workers=1).outcomes
        got = sweep.outcomes[sweep.outcomes["point"] == row[0]].drop(columns=["point", RATE, "levers.deal_basis"])
        pd.testing.assert_frame_equal(got.reset_index(drop=True), single, check_exact=True)
    # Common random numbers: the point at today's values is the baseline run itself, and
    # tripling attacks gives at least as many incidents in nearly every replication.
    calm = sweep.outcomes[(sweep.outcomes[RATE] == 1) & (sweep.outcomes["levers.deal_basis"] == "personality")]
    worse = sweep.outcomes[(sweep.outcomes[RATE] == 3) & (sweep.outcomes["levers.deal_basis"] == "personality")]
    pd.testing.assert_frame_equal(calm.drop(columns=["point", RATE, "levers.deal_basis"]).reset_index(drop=True),
                                  run_many(baseline(), runs=6, seed=9, workers=1).outcomes, check_exact=True)
    assert worse.security_incidents.sum() > calm.security_incidents.sum()
    figure(f"4 points x 6 replications identical to the 4 single runs; incidents {calm.security_incidents.sum()} "
           f"-> {worse.security_incidents.sum()} when attacks triple")


def test_sweep_tables_round_trip_and_summarise_per_point(tmp_path):
    points = make_design([parse_vary(f"{RATE}=0.5,2")])
    sweep = run_sweep(BASELINE, points, runs=5, seed=2, workers=1)
    written = sweep.write(tmp_path, plots=True)
    assert {p.name for p in written} >= {"points.parquet", "outcomes.parquet", "summary.csv", "manifest.json",
                                         f"effect_{RATE}.png"}
    again = Sweep.open(tmp_path)
    pd.testing.assert_frame_equal(again.outcomes, sweep.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(again.points, sweep.points, check_exact=True)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary["point"]) == {0, 1}
    exports = summary[summary["quantity"] == "cumulative_export_value_usd"].set_index("point")["mean"]
    for point in (0, 1):
        assert exports[point] == pytest.approx(
            sweep.outcomes.loc[sweep.outcomes["point"] == point, "cumulative_export_value_usd"].mean())
    assert sweep.manifest["kind"] == "sweep" and sweep.manifest["factors"] == [RATE]


def test_a_point_that_breaks_the_scenario_is_named():
    points = make_design([parse_vary(f"{RATE}=1,50")])
    with pytest.raises(ScenarioError, match=r"at point 1 \(shocks.security.rate_factor=50\)"):
        run_sweep(BASELINE, points, runs=2, seed=1, workers=1)


def test_sweep_file_errors_point_at_their_line(tmp_path):
    good = tmp_path / "s.yaml"
    good.write_text(f"scenario: {BASELINE}\ndesign: lhs\nsamples: 4\nvary:\n  {RATE}: {{low: 0.5, high: 4}}\n")
    spec = load_sweep_file(good)
    assert spec.design == "lhs" and spec.vary[RATE] == {"low": 0.5, "high": 4}
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"scenario: {BASELINE}\ndesing: lhs\nvary:\n  {RATE}: {{low: 4, high: 1}}\n")
    with pytest.raises(ScenarioError) as caught:
        load_sweep_file(bad)
    text = str(caught.value)
    assert "bad.yaml:2: desing" in text


def _sim(*args, cwd):
    """The command in-process (no interpreter start-up), run from ``cwd``; returns
    ``returncode``, ``stdout`` and ``stderr`` like a finished subprocess."""
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(app, list(map(str, args)), catch_exceptions=False)
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def test_sweep_command_from_options_and_from_a_file(tmp_path):
    done = _sim("sweep", BASELINE, "--vary", f"{RATE}=0.5,2", "--runs", 3, "--workers", 1, "--out", "a",
                "--no-plots", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Sweep written to a/" in done.stdout
    (tmp_path / "s.yaml").write_text(f"scenario: {BASELINE}\nruns: 3\nvary:\n  {RATE}: [0.5, 2]\n")
    done = _sim("sweep", "s.yaml", "--workers", 1, "--out", "b", "--no-plots", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    a, b = Sweep.open(tmp_path / "a"), Sweep.open(tmp_path / "b")
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes, check_exact=True)


def test_sweep_command_refuses_bad_input_in_one_line(tmp_path):
    for args, expected in (((f"{RATE}=4:1",), "LOW < HIGH"), (("no.such.path=1,2",), "no.such")):
        done = _sim("sweep", BASELINE, *[a for v in args for a in ("--vary", v)], "--runs", 2, "--workers", 1,
                    cwd=tmp_path)
        assert done.returncode == 2
        assert expected in done.stderr and "Traceback" not in done.stderr
    done = _sim("sweep", BASELINE, "--runs", 2, cwd=tmp_path)
    assert done.returncode == 2 and "nothing to vary" in done.stderr


SWEEP_FILES = sorted((BASELINE.parent.parent / "sweeps").glob("*.yaml"))


def test_the_example_sweep_file_loads():
    spec = load_sweep_file(BASELINE.parent.parent / "sweeps" / "security_vs_community.yaml")
    assert spec.design == "grid" and set(spec.vary) == {RATE, "levers.community_participation"}
    points = make_design([make_factor(k, v) for k, v in spec.vary.items()], spec.design, levels=spec.levels)
    assert len(points) == 12


@pytest.mark.parametrize("path", SWEEP_FILES, ids=[p.stem for p in SWEEP_FILES])
def test_every_shipped_sweep_file_varies_something_that_matters(path):
    """An example teaches what it shows: each factor of a shipped sweep file, moved from its
    lowest to its highest value with the others at their lowest, changes a headline outcome's
    mean (a sweep of a tariff the exemption makes irrelevant had shown flat lines)."""
    spec = load_sweep_file(path)
    factors = [make_factor(k, v) for k, v in spec.vary.items()]
    low = {f.path: min(f.values) if f.values else f.low for f in factors}
    for f in factors:
        high = {**low, f.path: max(f.values) if f.values else f.high}
        points = pd.DataFrame([low, high])
        points.insert(0, "point", [0, 1])
        means = run_sweep(spec.scenario, points, runs=12, seed=1, workers=1,
                          overrides=[f"{k}={v}" for k, v in (spec.set or {}).items()]).summary()
        means = means.pivot_table(index="point", columns="quantity", values="mean")
        # A lever's own cost moving (a tariff's duties) is not enough: what the programme earns,
        # adds or suffers must move by at least 1%.
        moved = [q for q in ("security_incidents", "cumulative_export_value_usd", "npv_usd",
                             "domestic_value_added_usd")
                 if abs(means.at[1, q] - means.at[0, q]) > 0.01 * abs(means.at[0, q])]
        assert moved, f"{path.name}: {f.path} from {low[f.path]} to {high[f.path]} moves no headline mean"


# --- durable sweeps: saved chunk by chunk, resumed after an interruption --------------------

def test_an_interrupted_sweep_resumes_to_the_same_tables(tmp_path):
    points = make_design([parse_vary(f"{RATE}=1,3"), parse_vary("levers.deal_basis=personality,treaty")])
    whole = run_sweep(BASELINE, points, runs=6, seed=9, workers=1)
    out = tmp_path / "sweep"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(BASELINE, points, runs=6, seed=9, workers=1, chunk_size=4, out=out,
                  progress=interrupt_after(3))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running" and len(manifest["chunks_done"]) == 3
    assert len(list((out / "shards").iterdir())) == 3
    with pytest.raises(FileNotFoundError, match="unfinished sweep"):
        Sweep.open(out)
    with pytest.raises(RunFolderError, match=r"holds an interrupted sweep \(10 of 24 replications saved\)"):
        run_sweep(BASELINE, points, runs=6, seed=9, workers=1, out=out)
    respelt = points.astype({RATE: float})  # --vary 1.0,3.0: the same scenarios, other table types
    changes = (({"seed": 8}, "seed 9 (this command asks for 8)"),
               ({"runs": 7}, "6 runs per point (this command asks for 7)"),
               ({"points": points.iloc[:3]}, "different points"), ({"points": respelt}, "different points"))

    def refused_resumes():
        for change, words in changes:
            with pytest.raises(RunFolderError, match="cannot resume") as refused:
                run_sweep(BASELINE, change.get("points", points), runs=change.get("runs", 6),
                          seed=change.get("seed", 9), workers=1, out=out, resume=True)
            assert words in str(refused.value)

    refused_resumes()
    resumed = run_sweep(BASELINE, points, runs=6, seed=9, workers=2, out=out, resume=True, plots=False)
    assert resumed.manifest["chunks_resumed"] == 3 and resumed.manifest["plan"]["chunk_size"] == 4
    pd.testing.assert_frame_equal(resumed.outcomes, whole.outcomes, check_exact=True)
    again = Sweep.open(out)  # as written: mixed-kind factor columns are stored as text
    pd.testing.assert_frame_equal(again.outcomes.drop(columns="levers.deal_basis"),
                                  whole.outcomes.drop(columns="levers.deal_basis"), check_exact=True)
    assert not (out / "shards").exists() and (out / "summary.csv").exists()
    # Resuming a finished sweep reads it back, if it is the sweep asked for; the same points
    # may be swept anew (other runs), but other points replace it only with --overwrite.
    assert run_sweep(BASELINE, points, runs=6, seed=9, out=out, resume=True).manifest["status"] == "complete"
    refused_resumes()
    run_sweep(BASELINE, points, runs=2, seed=9, workers=1, out=out, plots=False)
    assert len(Sweep.open(out).outcomes) == 8
    with pytest.raises(RunFolderError, match="holds a finished sweep of other points.*--overwrite"):
        run_sweep(BASELINE, points.iloc[:1], runs=2, seed=9, workers=1, out=out, plots=False)
    assert len(Sweep.open(out).outcomes) == 8
    run_sweep(BASELINE, points.iloc[:1], runs=2, seed=9, workers=1, out=out, plots=False, overwrite=True)
    assert len(Sweep.open(out).outcomes) == 2


@pytest.mark.slow  # the same resume as the test above, through the command line; about 17 s
def test_sweep_command_interrupted_by_ctrl_c_says_how_to_resume_and_resumes(tmp_path):
    out = tmp_path / "sweep"
    cmd = ["sweep", str(BASELINE), "--vary", f"{RATE}=1,2", "--runs", "30", "--seed", "5", "--out", str(out),
           "--workers", "2", "--no-plots"]
    proc = subprocess.Popen([sys.executable, "-m", "sim", *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=hears_ctrl_c)
    began = time.monotonic()
    while not (out / "shards").exists() or not any((out / "shards").iterdir()):
        assert proc.poll() is None and time.monotonic() - began < 120, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    again = shlex.split(stderr.split("Finish the sweep with:")[1].strip().splitlines()[0])
    assert again[:2] == ["sim", "sweep"] and again[-1] == "--resume"
    typed = cmd[1:]
    at = typed.index("--out")
    assert again[2:-1] == typed[:at] + typed[at + 2:] + ["--out", str(out)]  # every option as the sweep was started
    finished = subprocess.run([sys.executable, "-m", "sim", *again[1:]], capture_output=True,
                              text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    assert "chunks were already done" in finished.stdout
    whole = run_sweep(BASELINE, make_design([parse_vary(f"{RATE}=1,2")]), runs=30, seed=5, workers=1)
    pd.testing.assert_frame_equal(Sweep.open(out).outcomes, whole.outcomes, check_exact=True)
