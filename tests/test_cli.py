"""The command line, used as a user would: exit codes, messages, files."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections.abc import Iterable

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import BASELINE
from sim.cli import app
from sim.model.engine import run_replication
from sim.model.outputs import HEADLINE, display, number
from sim.scenario.files import load_scenario

runner = CliRunner()


def _sim(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _sim80(*args: str):
    """The command in a terminal 80 columns wide."""
    return runner.invoke(app, list(args), env={"COLUMNS": "80"}, catch_exceptions=False)


def assert_readable(text: str, cells: Iterable[str], width: int = 80) -> None:
    """``text`` fits in ``width`` columns and every word of ``cells`` is in it whole: a table
    that broke a word or a name across lines would show its pieces, not the word."""
    # a line ending in a name too long to share a line (a folder's path) is the terminal's to wrap
    lines = [ln for ln in text.splitlines() if not (ln.split() and len(ln.split()[-1]) > width // 2)]
    assert max(map(len, lines)) <= width, max(lines, key=len)
    printed = set(re.split(r"[\s\u2500-\u257f]+", text))
    broken = sorted({w for cell in cells for w in str(cell).split() if w not in printed})
    assert not broken, f"split or missing: {broken[:10]}"


def test_run_writes_results_and_prints_a_summary_in_words(tmp_path):
    out = tmp_path / "base"
    r = _sim80("run", str(BASELINE), "--runs", "6", "--workers", "1", "--seed", "4", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "Time to reach Phase 3" in r.output and "Phase 3 reached within 10 years" in r.output
    assert "phase3_year" not in r.output and "cumulative_export_value_usd" not in r.output
    assert (out / "outcomes.parquet").exists() and (out / "plots" / "phase_survival.png").exists()
    assert len(pd.read_parquet(out / "outcomes.parquet")) == 6
    summary = pd.read_csv(out / "summary.csv")  # for scripts: raw names, stored units, as before
    assert list(summary.columns[:6]) == ["quantity", "n", "mean", "mcse", "ci95_low", "ci95_high"]
    labelled = pd.read_csv(out / "summary_labelled.csv").set_index("quantity")  # for people
    row = labelled.loc["cumulative_export_value_usd"]
    assert (row["outcome"], row["unit"]) == ("Cumulative export value", "USD bn")
    raw = summary.set_index("quantity").loc["cumulative_export_value_usd", "mean"]
    assert row["mean"] == pytest.approx(raw / 1e9, rel=1e-3)
    assert labelled.loc["P(stalled)", "outcome"] == "Stalled within the horizon"
    assert labelled.loc["china_processed_share", "unit"] == "% of processed output"
    means = summary.set_index("quantity")["mean"]
    assert_readable(r.output, [display(q).label for q in HEADLINE] + [number(q, means[q]) for q in HEADLINE])


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
    r = _sim80("trace", str(BASELINE), "--replication", "17", "--seed", "1")
    assert r.exit_code == 0
    assert "commissioned" in r.output and "enters Phase 2" in r.output
    assert "Drawn inputs" in r.output and "Time to reach Phase 2" in r.output
    log = run_replication(load_scenario(BASELINE), 1, 17, trace=True).log
    assert_readable(r.output, [w for _, source, text in log if source != "market" for w in (source, *text.split())])


def test_trace_shows_the_market_steps_only_when_asked():
    log = run_replication(load_scenario(BASELINE), 1, 0, trace=True).log
    steps = [e for _, s, e in log if s == "market"]
    plain = _sim80("trace", str(BASELINE))
    assert f"{len(log) - len(steps)} of {len(log)} logged events" in plain.output
    assert f"{len(steps)} market steps" in plain.output and "outside China," not in plain.output
    asked = _sim80("trace", str(BASELINE), "--only", "market", "--to", "1")
    assert asked.exit_code == 0 and "rare_earths: USD" in asked.output and "antimony: USD" in asked.output


def test_trace_shows_only_the_kinds_and_the_window_asked_for():
    scn = load_scenario(BASELINE)
    log = run_replication(scn, 1, 0, trace=True).log
    r = _sim80("trace", str(BASELINE), "--only", "milestones,attacks")
    assert r.exit_code == 0, r.output
    wanted = [(t, s, e) for t, s, e in log if s in ("programme", "security")]
    assert f"{len(wanted)} of {len(log)} logged events" in r.output
    assert "enters Phase 2" in r.output and "incident at" in r.output
    assert "outage" not in r.output and "regime ->" not in r.output
    r = _sim80("trace", str(BASELINE), "--only", "outages", "--from", "2", "--to", "5")
    between = [e for t, s, e in log if s == "infrastructure" and 2 <= t <= 5]
    assert f"{len(between)} of {len(log)} logged events" in r.output and between
    dates = _sim80("trace", str(BASELINE), "--only", "outages", "--from", "2027-10-02", "--to", "2030-10-02")
    assert f"{len(between)} of {len(log)} logged events" in dates.output  # the same window, as dates
    project = _sim80("trace", str(BASELINE), "--only", "reko_diq")
    assert "construction starts" in project.output and "antimony" not in project.output.split("Drawn")[0]


def test_trace_refuses_an_unknown_kind_or_date_and_names_the_known_ones():
    r = runner.invoke(app, ["trace", str(BASELINE), "--only", "milestones,atacks"])
    assert r.exit_code == 2
    assert "--only: no kind of event 'atacks'" in r.output
    assert "milestones, projects, refinery, attacks" in r.output and "reko_diq" in r.output
    r = runner.invoke(app, ["trace", str(BASELINE), "--from", "2030/01/01"])
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["trace", str(BASELINE), "--from", "10", "--to", "5"])
    assert r.exit_code == 2 and "is after --to" in r.output


def test_params_grep_keeps_the_rows_whose_path_value_or_source_match():
    every = list(csv.DictReader(io.StringIO(_sim("params", str(BASELINE), "--format", "csv").output)))
    r = _sim("params", str(BASELINE), "--format", "csv", "--grep", "TARIFF")
    kept = list(csv.DictReader(io.StringIO(r.output)))
    expected = [row for row in every if any("tariff" in row[c].lower() for c in ("path", "value", "source"))]
    assert kept == expected and 0 < len(kept) < len(every)
    assert any("tariff" not in row["path"].lower() for row in kept)  # found by its source
    r = _sim80("params", str(BASELINE), "--grep", "tariff")
    assert f"{len(kept)} of {len(every)} match 'tariff'" in " ".join(r.output.split())
    assert_readable(r.output, [w for row in kept for c in ("value", "source") for w in row[c].split()]
                    + [row["path"].rsplit(".", 1)[-1] for row in kept])
    r = runner.invoke(app, ["params", str(BASELINE), "--grep", "no such text anywhere"])
    assert r.exit_code == 1 and "no parameter" in r.output


def test_params_table_reads_at_80_columns():
    every = list(csv.DictReader(io.StringIO(_sim("params", str(BASELINE), "--format", "csv").output)))
    r = _sim80("params", str(BASELINE))
    assert r.exit_code == 0
    words = [w for row in every for c in ("value", "source") for w in row[c].split()]
    sections = {row["path"].rpartition(".")[0] for row in every} - {""}
    assert_readable(r.output, words + [row["path"].rsplit(".", 1)[-1] for row in every] + sorted(sections))
    assert len(r.output.splitlines()) < 3.5 * len(every)  # was 1,916 lines for 363 parameters


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


def test_the_resume_command_repeats_the_options_given_and_numbers_in_full(tmp_path, monkeypatch):
    """What Ctrl-C prints must resume the same plan: the command as typed (a precision of
    1/300 written in full, not as 0.00333333, which would be refused as another target),
    the folder it wrote to, --resume, and no --overwrite, which would discard what was saved."""
    import shlex

    from sim import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "run", interrupted)
    out = tmp_path / "my run"
    done = CliRunner().invoke(app, ["run", str(BASELINE), "--runs", "50", "--target-precision", repr(1 / 300),
                                    "--set", "horizon_years=30", "--set", "name=x y", "--no-plots", "--quiet",
                                    "--overwrite", "--out", str(out)])
    assert done.exit_code == 130
    words = shlex.split(done.output.split("Finish the run with:")[1].strip().splitlines()[0])
    assert words == ["sim", "run", str(BASELINE), "--runs", "50", "--set", "horizon_years=30", "--set", "name=x y",
                     "--target-precision", repr(1 / 300), "--no-plots", "--quiet", "--out", str(out), "--resume"]
    assert float(words[words.index("--target-precision") + 1]) == 1 / 300
