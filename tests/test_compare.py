"""Paired comparison: same replications in both runs, refusals when they are not."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import BASELINE, baseline
from sim.analysis.pairing import (
    COMPARE_COLUMNS,
    PairingError,
    compare,
    finding,
    labelled_table,
    shares_text,
)
from sim.cli import app
from sim.experiment.results import ResultSet
from sim.experiment.runner import simulate

RUNS, SEED = 20, 6


@pytest.fixture(scope="module")
def base_run():
    return simulate(baseline(), runs=RUNS, seed=SEED, workers=1)


def test_a_run_against_itself_differs_by_nothing(base_run):
    table = compare(base_run, [base_run])
    assert (table["difference"].fillna(0.0) == 0.0).all()
    assert (table["p_b_better"] == 0.0).all() and (table["p_tie"] == 1.0).all() and (table["p_b_worse"] == 0.0).all()


@pytest.mark.check("metamorphic", source="paired design: switching attacks off removes every incident in "
                   "every replication, and never adds site-days lost",
                   tolerance="exact, 20 paired replications")
def test_switching_attacks_off_is_seen_in_every_pair(figure, base_run):
    calm = simulate(baseline(**{"shocks.security.enabled": False}), runs=RUNS, seed=SEED, workers=1)
    table = compare(base_run, [calm]).set_index("outcome")
    incidents = table.loc["security_incidents"]
    figure(f"incidents {incidents['difference']:.1f} per replication, "
           f"P(fewer) = {incidents['p_b_better']:.2f}")
    assert incidents["difference"] == -base_run.outcomes["security_incidents"].mean()
    assert incidents["ci95_high"] < 0
    assert table.loc["downtime_days", "difference"] < 0


def test_runs_with_other_seeds_or_counts_are_refused(base_run):
    other_seed = simulate(baseline(), runs=RUNS, seed=SEED + 1, workers=1)
    with pytest.raises(PairingError, match=r"seeds differ \(6 and 7\)"):
        compare(base_run, [other_seed])
    fewer = simulate(baseline(), runs=RUNS - 5, seed=SEED, workers=1)
    with pytest.raises(PairingError, match=r"replication counts differ \(20 and 15\)"):
        compare(base_run, [fewer])


def test_compare_command_runs_a_scenario_file_with_the_folder_seed(tmp_path):
    cli = CliRunner()
    folder = tmp_path / "base"
    r = cli.invoke(app, ["run", str(BASELINE), "--runs", "8", "--seed", "3", "--workers", "1",
                         "--quiet", "--no-plots", "--out", str(folder)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["compare", str(folder), str(BASELINE), "--workers", "1",
                         "--out", str(tmp_path / "c.csv"), "--plots", str(tmp_path / "plots")],
                   catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "8 paired replications" in r.output
    for name in ("differences.png", "distributions.png", "phase_survival.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 20_000
    table = pd.read_csv(tmp_path / "c.csv")
    assert (table["difference"].fillna(0.0) == 0.0).all()  # the same scenario, the same numbers
    assert (table["p_tie"] == 1.0).all() and (table["p_b_worse"] == 0.0).all()
    other = tmp_path / "other"
    cli.invoke(app, ["run", str(BASELINE), "--runs", "8", "--seed", "4", "--workers", "1",
                     "--quiet", "--no-plots", "--out", str(other)], catch_exceptions=False)
    r = cli.invoke(app, ["compare", str(folder), str(other)])
    assert r.exit_code == 2
    assert "seeds differ (3 and 4)" in r.output and "same --seed and --runs" in r.output
    (tmp_path / "empty").mkdir()
    r = cli.invoke(app, ["compare", str(tmp_path / "empty"), str(folder)])
    assert r.exit_code == 2 and "is not a results folder (no manifest.json)" in r.output


def test_a_scenario_file_is_compared_as_the_first_run_was_run(tmp_path):
    """``sim compare h30 hybrid_model.yaml`` runs the file with h30's --set (a 30-year
    horizon), says so, and the table is that of a paired run made by hand with the same --set."""
    cli = CliRunner()
    quick = ["--runs", "6", "--seed", "2", "--workers", "1", "--quiet", "--no-plots"]
    for name, file in (("h7", BASELINE), ("hybrid7", BASELINE.parent / "hybrid_model.yaml")):
        r = cli.invoke(app, ["run", str(file), *quick, "--set", "horizon_years=7", "--out", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["compare", str(tmp_path / "h7"), str(BASELINE.parent / "hybrid_model.yaml"),
                         "--workers", "1", "--out", str(tmp_path / "file.csv")])
    assert r.exit_code == 0, r.output
    assert "with the first run's --set horizon_years=7" in r.output
    r = cli.invoke(app, ["compare", str(tmp_path / "h7"), str(tmp_path / "hybrid7"), "--out", str(tmp_path / "ran.csv")])
    assert r.exit_code == 0, r.output
    by_file = pd.read_csv(tmp_path / "file.csv").drop(columns="b")
    by_hand = pd.read_csv(tmp_path / "ran.csv").drop(columns="b")
    pd.testing.assert_frame_equal(by_file, by_hand)


def _run_with(scenario, **columns) -> ResultSet:
    """A run of ``len`` replications holding only the given outcome columns."""
    n = len(next(iter(columns.values())))
    outcomes = pd.DataFrame({"replication": np.arange(n), **columns})
    return ResultSet(scenario, outcomes, pd.DataFrame(), {"seed": 1, "runs": n})


def test_ties_are_shown_beside_better_and_worse(tmp_path):
    """Stalling 3.0% against 1.5%: B is better in only 1.5% of pairs because 98.5% tie;
    "P(B better) 0.01" alone read as if B were no better at all."""
    scn = baseline()
    a_stalls = np.zeros(1000, dtype=bool)
    a_stalls[:30] = True  # 3.0%
    b_stalls = np.zeros(1000, dtype=bool)
    b_stalls[:15] = True  # 1.5%, in replications where A stalled too
    a, b = _run_with(scn, stalled=a_stalls), _run_with(scn, stalled=b_stalls)
    row = compare(a, [b], labels=["A", "B"]).set_index("outcome").loc["stalled"]
    assert (row["p_b_better"], row["p_tie"], row["p_b_worse"]) == (0.015, 0.985, 0.0)
    assert row["p_tie_low"] < 0.985 < row["p_tie_high"] <= 1.0
    assert row["p_b_worse_low"] == 0.0 < row["p_b_worse_high"] < 0.01
    assert row["label"] == "Stalled within the horizon" and row["unit"] == "bool"
    shown = labelled_table(compare(a, [b], labels=["A", "B"]))
    assert shown.loc[0, "better / tie / worse"] == "2 / 98 / 0%"
    assert shown.loc[0, "outcome"] == "Stalled within the horizon"
    said = finding(compare(a, [b], labels=["A", "B"]), "B")
    assert said.startswith("Against A, B lowers the share of replications stalled within the horizon by 1.5 "
                           "percentage points")
    assert "the same in 98%" in said


def test_better_tie_and_worse_add_up_to_every_pair(base_run):
    calm = simulate(baseline(**{"shocks.security.rate_factor": 0.5}), runs=RUNS, seed=SEED, workers=1)
    table = compare(base_run, [calm])
    total = table["p_b_better"] + table["p_tie"] + table["p_b_worse"]
    assert np.allclose(total, 1.0)
    for share in ("p_b_better", "p_tie", "p_b_worse"):
        assert ((table[f"{share}_low"] <= table[share]) & (table[share] <= table[f"{share}_high"])).all()
    assert list(table.columns) == list(COMPARE_COLUMNS)


@pytest.mark.parametrize("reference_cost", [0.0, 90.0])
def test_the_finding_leads_with_a_relative_change_not_a_cost_from_zero(reference_cost):
    """A lever's cost rises from nothing (or from a few dollars, next to B's billions) in
    every pair; the finding leads with what it bought."""
    row = {"a": "A", "b": "B", "pairs": 100, "p_b_better": 1.0, "p_tie": 0.0, "p_b_worse": 0.0}
    table = pd.DataFrame([
        {**row, "outcome": "lever_cost_usd", "label": "Cost of the levers", "mean_a": reference_cost,
         "mean_b": 5e9 + reference_cost, "difference": 5e9, "ci95_low": 4.9e9, "ci95_high": 5.1e9,
         "p_b_better": 0.0, "p_b_worse": 1.0},
        {**row, "outcome": "domestic_value_added_usd", "label": "Domestic value added", "mean_a": 1e9,
         "mean_b": 1.3e9, "difference": 3e8, "ci95_low": 2.9e8, "ci95_high": 3.1e8}])
    said = finding(table, "B")
    assert said.startswith("Against A, B raises domestic value added by USD 0.300bn")
    assert "it also raises cost of the levers" in said


def test_a_large_relative_change_from_a_small_reference_still_leads():
    """Stalling from 0.3% to 33% is a hundredfold change, not a ratio of rounding: it leads."""
    row = {"a": "A", "b": "B", "pairs": 300, "p_b_better": 0.0, "p_tie": 0.7, "p_b_worse": 0.3}
    table = pd.DataFrame([
        {**row, "outcome": "stalled", "label": "Stalled within the horizon", "mean_a": 0.003, "mean_b": 0.33,
         "difference": 0.327, "ci95_low": 0.27, "ci95_high": 0.38},
        {**row, "outcome": "npv_usd", "label": "Net present value", "mean_a": 1.5e10, "mean_b": 0.8e10,
         "difference": -0.7e10, "ci95_low": -0.75e10, "ci95_high": -0.65e10}])
    assert finding(table, "B").startswith("Against A, B raises the share of replications stalled")


def test_a_comparison_that_finds_nothing_says_so(base_run):
    said = finding(compare(base_run, [base_run], labels=["A", "B"]), "B")
    assert said == (f"B does not differ detectably from A: over {RUNS} paired replications every 95% interval of "
                    "a mean difference includes zero.")


def test_the_compare_command_shows_better_tie_and_worse_at_80_columns(tmp_path, base_run):
    from test_cli import assert_readable

    base_run.write(tmp_path / "a", plots=False)
    calm = simulate(baseline(**{"shocks.security.rate_factor": 0.5}), runs=RUNS, seed=SEED, workers=1)
    calm.write(tmp_path / "calm", plots=False)
    r = CliRunner().invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "calm"), "--out",
                                 str(tmp_path / "c.csv")], env={"COLUMNS": "80"}, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "c.csv")
    for column in ("label", "p_b_better", "p_tie", "p_b_worse", "p_tie_low", "p_b_worse_high"):
        assert column in table.columns
    shown = labelled_table(table, sep="/")
    assert_readable(r.output, [*shown.drop(columns="compared").to_numpy().ravel(), "better", "tie", "worse"])
    said = finding(table, "calm")
    assert " ".join(said.split()) in " ".join(r.output.split())
    assert "Ties are common" in " ".join(r.output.split())
    assert "P(B better)" not in r.output


def test_shares_are_never_rounded_to_a_certainty_they_are_not():
    """999 of 1,000 paired replications better is not "100%", and 1 in 1,000 worse is not "0%"."""
    from sim.analysis.pairing import percent

    assert [percent(x) for x in (0.0, 0.001, 0.009, 0.01, 0.62, 0.99, 0.995, 0.999, 1.0)] == \
        ["0%", "<1%", "<1%", "1%", "62%", "99%", ">99%", ">99%", "100%"]
    row = SimpleNamespace(p_b_better=0.999, p_tie=0.0, p_b_worse=0.001)
    assert shares_text(row, "/") == ">99/0/<1%"
