"""Sizes: jobs that cannot fit are refused before anything starts, with what they would take;
long ones are described before they start."""

from __future__ import annotations

import re
import time

import pytest
from typer.testing import CliRunner

import sim
import sim.model.world
from conftest import BASELINE
from sim.cli import app
from sim.errors import EventBudgetError
from sim.experiment import sizes
from sim.experiment.sizes import MAX_CHUNKS, MAX_POINTS, Size, SizeError

SMALL_RUN = {"horizon_years": 2}


def _refused(args: list[str], *words: str) -> str:
    began = time.perf_counter()
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2, done.output
    assert time.perf_counter() - began < 60
    text = " ".join(done.output.split())
    for w in words:
        assert w in text, text
    assert "Traceback" not in done.output
    return text


def test_ten_billion_replications_are_refused_up_front_and_no_folder_is_made(tmp_path):
    out = tmp_path / "big"
    text = _refused(["run", str(BASELINE), "--runs", "10000000000", "--out", str(out)],
                    "10,000,000,000 replications", "chunks", f"{MAX_CHUNKS:,}", "timed on this scenario", "on disk")
    # The time it would take, at the rate measured on the scenario: days or years, as the
    # machine is quiet or busy (under 58,000 replications a second on each worker).
    assert re.search(r"about [\d,.]+ (days|years) on \d+ worker", text), text
    assert not out.exists()


def test_a_precision_run_with_a_huge_cap_is_refused(tmp_path):
    out = tmp_path / "big"
    _refused(["run", str(BASELINE), "--runs", "100", "--target-precision", "0.001", "--max-runs", "10000000000",
              "--out", str(out)], "10,000,000,000 replications", "chunks")
    assert not out.exists()


@pytest.mark.parametrize("args", [
    ["--levels", "1000000"],
    ["--design", "lhs", "--samples", "100000000"],
])
def test_sweeps_too_large_are_refused_before_the_design_is_made(tmp_path, args):
    out = tmp_path / "sweep"
    _refused(["sweep", str(BASELINE), "--vary", "shocks.security.rate_factor=0:2", *args, "--out", str(out)],
             "points", f"{MAX_POINTS:,}", "replications")
    assert not out.exists()


def test_a_grid_of_many_factors_is_refused_by_its_size_not_by_filling_memory(tmp_path):
    vary = [f"--vary=levers.{k}=0:1" for k in ("local_equity_share", "community_participation", "output_tracking",
                                               "processing_mandate", "technology_transfer", "distress_discount")]
    _refused(["sweep", str(BASELINE), *vary, "--levels", "1000", "--out", str(tmp_path / "s")],
             "1,000,000,000,000,000,000 points")


def test_a_huge_sensitivity_design_is_refused_at_once():
    _refused(["sensitivity", str(BASELINE), "--vary", "shocks.security.rate_factor=0:2", "--samples", "1048576"],
             "3,145,728 points", "sensitivity analysis")


def test_an_in_memory_run_larger_than_free_memory_is_refused(monkeypatch):
    monkeypatch.setattr(sizes, "free_memory", lambda: 10_000)
    with pytest.raises(SizeError, match="memory") as caught:
        sim.run(BASELINE, set=SMALL_RUN, runs=2000, workers=1)
    assert "2,000 replications" in str(caught.value)


def test_a_run_larger_than_the_free_disk_is_refused_before_its_folder_is_made(monkeypatch, tmp_path):
    monkeypatch.setattr(sizes, "free_disk", lambda folder: 10_000)
    out = tmp_path / "run"
    with pytest.raises(SizeError, match="on disk"):
        sim.run(BASELINE, set=SMALL_RUN, runs=20, workers=1, out=out, plots=False)
    assert not out.exists()


def test_a_long_job_is_described_before_it_starts(monkeypatch):
    monkeypatch.setattr(sizes, "LONG_JOB", 0.0)
    told: list[str] = []
    res = sim.run(BASELINE, set=SMALL_RUN, runs=3, workers=1, out=None, notice=told.append)
    assert len(res.outcomes) == 3
    assert told == []  # a small in-memory run is not timed, so not described
    monkeypatch.setattr(sizes, "PROBE_FROM", 1)
    sim.run(BASELINE, set=SMALL_RUN, runs=3, workers=1, notice=told.append)
    assert len(told) == 1 and "3 replications" in told[0] and "timed on this scenario" in told[0]


def test_the_command_prints_the_estimate_of_a_long_run(monkeypatch, tmp_path):
    monkeypatch.setattr(sizes, "LONG_JOB", 0.0)
    done = CliRunner().invoke(app, ["run", str(BASELINE), "--set", "horizon_years=2", "--runs", "3", "--workers", "1",
                                    "--no-plots", "--out", str(tmp_path / "r")])
    assert done.exit_code == 0, done.output
    assert "This run is 3 replications, about" in " ".join(done.output.split())


def test_a_run_past_the_event_budget_is_refused_before_its_folder_is_made(monkeypatch, tmp_path):
    monkeypatch.setattr(sim.model.world, "EVENT_BUDGET", 50)
    out = tmp_path / "run"
    with pytest.raises(EventBudgetError, match="passed 50 simulation events"):
        sim.run(BASELINE, runs=2, workers=1, out=out)
    assert not out.exists()
    done = CliRunner().invoke(app, ["run", str(BASELINE), "--runs", "2", "--out", str(out)])
    assert done.exit_code == 2 and "passed 50 simulation events" in done.output and not out.exists()


def test_size_says_what_a_job_takes():
    size = Size("run", 2_000_000, 1, 8000, 2, memory=3 * 10**9, disk=8 * 10**9,
                seconds_per_replication=1 / 24, free_memory=2 * 10**9, free_disk=10**12)
    text = size.describe()
    assert text == ("This run is 2,000,000 replications, about 12.9 h on 2 worker(s) at 24 replications/s each "
                    "(timed on this scenario), about 3.0 GB of memory, 8.0 GB on disk.")
    assert size.problems() == ["it needs about 3.0 GB of memory and 2.0 GB is free"]
    assert Size("run", 10, 1, 1, 1, 0, 0).problems() == []
    assert sizes.duration(30) == "30 s" and sizes.duration(3 * 86400) == "3 days"
