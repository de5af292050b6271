"""The command line, used as a user would: exit codes, messages, files."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
from typer.testing import CliRunner

from conftest import BASELINE
from sim.cli import app

runner = CliRunner()


def _sim(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_run_writes_results_and_prints_a_summary(tmp_path):
    out = tmp_path / "base"
    r = _sim("run", str(BASELINE), "--runs", "6", "--workers", "1", "--seed", "4", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "phase3_year" in r.output and "P(phase3 by year 10)" in r.output
    assert (out / "outcomes.parquet").exists() and (out / "plots" / "phase_survival.png").exists()
    assert len(pd.read_parquet(out / "outcomes.parquet")) == 6


def test_set_overrides_reach_the_model(tmp_path):
    r = _sim("run", str(BASELINE), "--runs", "3", "--workers", "1", "--quiet", "--no-plots",
             "--set", "shocks.tariff.enabled=false", "--set", "horizon_years=30", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    o = pd.read_parquet(tmp_path / "outcomes.parquet")
    ts = pd.read_parquet(tmp_path / "timeseries.parquet")
    assert (o.tariff_cost_usd == 0).all()
    assert ts.year.max() == 30


def test_a_run_with_overrides_gets_a_folder_of_its_own(tmp_path, monkeypatch):
    """Without --out, a run with --set goes to results/<name>+<n>-overrides, so the results
    of the scenario as written (results/<name>) are not replaced by it; a run of another
    scenario into a finished run's folder is refused."""
    monkeypatch.chdir(tmp_path)
    quick = ("--runs", "3", "--workers", "1", "--quiet", "--no-plots")
    assert _sim("run", str(BASELINE), *quick).exit_code == 0
    r = _sim("run", str(BASELINE), *quick, "--set", "shocks.security.enabled=false", "--set", "horizon_years=30")
    assert r.exit_code == 0 and "results/baseline+2-overrides/" in r.output, r.output
    assert pd.read_parquet(tmp_path / "results/baseline/timeseries.parquet").year.max() == 25
    assert pd.read_parquet(tmp_path / "results/baseline+2-overrides/timeseries.parquet").year.max() == 30
    r = _sim("run", str(BASELINE), *quick, "--set", "horizon_years=30")
    assert r.exit_code == 0 and "results/baseline+1-override/" in r.output, r.output
    r = runner.invoke(app, ["run", str(BASELINE.parent / "hybrid_model.yaml"), *quick, "--out", "results/baseline"])
    assert r.exit_code == 2 and "holds a finished run of baseline" in r.output, r.output
    assert "Choose another --out, or replace it with --overwrite" in r.output


def test_validate_reports_each_problem_on_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASELINE}\nhorizon_years: 500\nmarket:\n  step_yeers: 0.5\n")
    r = runner.invoke(app, ["validate", str(BASELINE), str(bad)])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if str(bad) in ln]
    assert any(ln.startswith(f"{bad}:2: horizon_years: must be >= 1 and <= 100") and "(got 500)" in ln for ln in lines), r.output
    assert any(ln.startswith(f"{bad}:4: market.step_yeers: unknown key") for ln in lines), r.output
    assert "Traceback" not in r.output


def test_bad_set_path_is_reported(tmp_path):
    r = runner.invoke(app, ["run", str(BASELINE), "--runs", "2", "--set", "horizon_years.x=1",
                            "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert r.output.startswith("--set: horizon_years")
    assert not any(tmp_path.iterdir())


def test_missing_file_is_a_clear_error():
    r = runner.invoke(app, ["validate", "no/such/file.yaml"])
    assert r.exit_code == 2
    assert "no/such/file.yaml" in r.output and "Traceback" not in r.output


def test_trace_prints_the_event_log_of_one_replication():
    r = _sim("trace", str(BASELINE), "--replication", "17", "--seed", "1")
    assert r.exit_code == 0
    assert "commissioned" in r.output and "enters Phase 2" in r.output
    assert "Drawn inputs" in r.output and "phase2_year" in r.output


def test_console_script_runs_without_a_traceback(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("horizon_years: [1, 2\n")
    proc = subprocess.run([sys.executable, "-m", "sim", "validate", str(bad)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"{bad}:")
    assert "Traceback" not in proc.stderr


def test_the_command_starts_without_plotting_or_sensitivity_libraries():
    """`sim validate` or `sim --help` should answer at once: matplotlib, SALib and
    scipy.stats load only when a command draws, runs a sensitivity study or summarises."""
    code = ("import sys, sim.cli; print(' '.join(m for m in ('matplotlib', 'SALib', 'scipy.stats', 'dask') "
            "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_the_resume_command_repeats_the_options_given_and_numbers_in_full():
    """What Ctrl-C prints must resume the same plan: a precision of 1/300 written as 0.00333333
    would be refused as another target."""
    import shlex

    from sim.cli import _resume_command

    text = _resume_command(["sim", "run", "my scenario.yaml"], {
        "--target-precision": 1 / 300, "--runs": 50, "--set": ["a.b=1", "c=x y"], "--workers": None,
        "--no-plots": True, "--quiet": False})
    words = shlex.split(text)
    assert words == ["sim", "run", "my scenario.yaml", "--target-precision", repr(1 / 300), "--runs", "50",
                     "--set", "a.b=1", "--set", "c=x y", "--no-plots", "--resume"]
    assert float(words[4]) == 1 / 300
