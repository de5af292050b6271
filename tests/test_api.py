"""The Python API (sim.load_scenario, run, open, compare, sweep, discover, report), the report
it writes, and the command line as a thin layer over it."""

from __future__ import annotations

import doctest
import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from conftest import BASELINE, ROOT, SCENARIOS
from sim import api
from sim.analysis.pairing import PairingError
from sim.cli import app
from sim.present.plots import Chart, save

RUNS = 8


@pytest.fixture(scope="module")
def res():
    return sim.run(sim.load_scenario(BASELINE, set={"horizon_years": 20}), runs=RUNS, seed=3, workers=1)


@pytest.fixture(scope="module")
def other():
    return sim.run(SCENARIOS / "hybrid_model.yaml", set=["horizon_years=20"], runs=RUNS, seed=3, workers=1)


def test_load_scenario_takes_overrides_as_a_mapping_or_as_strings():
    a = sim.load_scenario(BASELINE, set={"horizon_years": 30, "shocks.tariff.enabled": False})
    b = sim.load_scenario(BASELINE, set=["horizon_years=30", "shocks.tariff.enabled=false"])
    assert a == b and a.horizon_years == 30 and not a.shocks.tariff.enabled
    with pytest.raises(sim.ScenarioError, match="horizon_years"):
        sim.load_scenario(BASELINE, set={"horizon_years": 0})
    with pytest.raises(sim.UsageError, match="mapping or a list"):
        sim.load_scenario(BASELINE, set="horizon_years=30")


def test_a_scenario_carries_its_origin_through_copies_and_says_when_it_was_edited(tmp_path):
    """The file, the files it extends and the overrides travel with the scenario as data: a
    copy (a pickle, a model_copy) keeps them, and a run of the copy records where it came
    from; an edited copy says so, and its file is no longer taken for what it holds."""
    import pickle

    child = SCENARIOS / "refining_embargo.yaml"
    scn = sim.load_scenario(child, set={"horizon_years": 20})
    origin = scn.origin
    assert origin.file == str(child) and origin.overrides == ("horizon_years=20",)
    assert origin.files[0] == str(child) and origin.files[1].endswith("baseline.yaml") and not origin.edited
    for copy in (scn.model_copy(), pickle.loads(pickle.dumps(scn))):
        assert copy.origin == origin and copy == scn
    run = sim.run(scn.model_copy(), runs=2, seed=1, workers=1)
    assert run.manifest["scenario_file"] == str(child) and run.manifest["overrides"] == ["horizon_years=20"]
    edited = scn.model_copy(update={"description": "changed in memory"})
    assert edited.origin.edited and edited.origin.file == origin.file
    with pytest.raises(sim.UsageError, match="changed in memory after it was loaded"):
        sim.run(edited, runs=2, set={"horizon_years": 10})
    assert "scenario_file" not in sim.run(edited, runs=2, seed=1, workers=1).manifest
    # A replication's drawn scenario is an edited copy too (its origin shared between
    # replications), and leaves the loaded one as it was.
    from sim.model.sampling import realize
    from sim.model.streams import Streams

    drawn = [realize(scn, Streams(1, i))[0] for i in range(2)]
    assert all(d.origin.edited and d.origin.file == origin.file for d in drawn) and drawn[0].origin is drawn[1].origin
    assert scn.origin is origin and not origin.edited
    # Equal values are equal scenarios, wherever they came from; one built in Python has no origin.
    assert sim.load_scenario(BASELINE, set={"horizon_years": 20}) != scn
    assert type(scn).model_validate(scn.model_dump()).origin is None


def test_what_sampling_remembers_about_a_scenario_is_forgotten_by_an_edited_copy():
    from sim.model.sampling import uncertain_inputs
    from sim.scenario.distributions import Dist

    scn = sim.load_scenario(BASELINE)
    drawn = dict(uncertain_inputs(scn))
    assert isinstance(scn.projects["antimony"].resource_factor, Dist) and ("projects", "antimony", "resource_factor") in drawn
    fixed = scn.model_copy(update={"projects": {**scn.projects, "antimony": scn.projects["antimony"].model_copy(
        update={"resource_factor": 1.0})}})
    assert ("projects", "antimony", "resource_factor") not in dict(uncertain_inputs(fixed))
    assert len(uncertain_inputs(scn)) == len(drawn)


def test_run_returns_tidy_tables_and_records_where_the_scenario_came_from(res):
    assert isinstance(res.outcomes, pd.DataFrame) and isinstance(res.timeseries, pd.DataFrame)
    assert list(res.outcomes["replication"]) == list(range(RUNS))
    assert res.timeseries["year"].max() == 20
    summary = res.summary()
    assert {"quantity", "mean", "ci95_low", "ci95_high", "p5", "p95"} <= set(summary.columns)
    m = res.manifest
    assert m["scenario_file"].endswith("baseline.yaml") and m["overrides"] == ["horizon_years=20"]
    assert m["question"].startswith("Baseline: what happens to Pakistan")
    assert "ResultSet baseline: 8 replications" in repr(res)
    assert "<table" in res._repr_html_()


def test_the_plot_accessors_give_labelled_figures_with_the_data(res, tmp_path):
    fan = res.plot.fan("export_value_usd")
    ax = fan.axes[0]
    assert ax.get_ylabel() == "Export value (USD bn per year)" and "Scenario: baseline" in ax.get_title()
    median = res.timeseries.groupby("year")["export_value_usd"].median().to_numpy() / 1e9
    assert np.allclose(ax.lines[0].get_ydata(), median)
    survival = res.plot.survival()
    assert "Kaplan" in survival.axes[0].get_title() and survival.axes[0].get_xlabel() == "Years since start"
    hist = res.plot.hist("npv_usd")
    assert hist.axes[0].get_xlabel() == "Net present value (USD bn)"
    assert sum(p.get_height() for p in hist.axes[0].patches) == RUNS  # every replication is in a bar
    for fig in (fan, survival, hist):
        assert isinstance(fig, Chart) and fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"  # shows in Jupyter
    assert save(fan, tmp_path / "fan.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(KeyError, match="no outcome 'npv'"):
        res.plot.hist("npv")


def test_a_run_written_to_a_folder_is_the_run_held_in_memory(res, tmp_path):
    scn = sim.load_scenario(BASELINE, set={"horizon_years": 20})
    stored = sim.run(scn, runs=RUNS, seed=3, workers=2, chunk_size=3, out=tmp_path / "r", plots=False)
    opened = sim.open(tmp_path / "r")
    for got in (stored, opened):
        pd.testing.assert_frame_equal(got.outcomes, res.outcomes, check_dtype=False)
    params = {row["path"]: row["source"] for row in opened.manifest["parameters"]}
    assert "first consignment to U.S. Strategic Metals" in params["start_date"]
    assert params["horizon_years"] == "set on the command line"


def test_run_refuses_options_that_cannot_work():
    for kwargs, message in (({"runs": 0}, "at least 1"), ({"executor": "spark"}, "local, dask"),
                            ({"max_runs": 50}, "go with target_precision"),
                            ({"target_precision": 0.01, "max_runs": 5}, "at least runs"),
                            ({"target_precision": 0.01, "precision_for": ["npv"]}, "no outcome npv")):
        with pytest.raises(sim.UsageError, match=message):
            sim.run(BASELINE, **{"runs": 10, **kwargs})


def test_compare_pairs_runs_and_runs_scenarios_with_the_first_runs_seed(res, other):
    cmp = sim.compare(res, other)
    assert list(cmp.runs) == ["baseline", "hybrid_model"]
    row = cmp.table.set_index("outcome").loc["domestic_value_added_usd"]
    paired = (other.outcomes["domestic_value_added_usd"] - res.outcomes["domestic_value_added_usd"]).mean()
    assert row["difference"] == pytest.approx(paired) and row["pairs"] == RUNS
    told = []
    again = sim.compare(res, SCENARIOS / "hybrid_model.yaml", labels=["a", "b"],
                        on_run=lambda *a: told.append(a))
    # run with the first run's replications, seed and --set overrides (its 20-year horizon)
    assert told == [("b", RUNS, 3, ["horizon_years=20"])]
    assert again.runs["b"].horizon_years == 20
    assert again.table.equals(cmp.table.replace({"baseline": "a", "hybrid_model": "b"}))
    assert "Scenarios: b against a" in again.plot.survival()._suptitle.get_text()
    other_seed = sim.run(BASELINE, set={"horizon_years": 20}, runs=RUNS, seed=4, workers=1)
    with pytest.raises(PairingError, match="seeds differ"):
        sim.compare(res, other_seed)
    as_written = sim.run(SCENARIOS / "hybrid_model.yaml", runs=RUNS, seed=3, workers=1)  # 25 years
    with pytest.raises(PairingError, match=r"differ in horizon_years \(20 in baseline, 25 in hybrid_model\)"):
        sim.compare(res, as_written)
    calm = sim.run(BASELINE, set={"horizon_years": 20, "shocks.security.enabled": False}, runs=RUNS, seed=3,
                   workers=1)
    # A run that lacks a --set value of the reference is compared, with a note saying so.
    lacking = sim.compare(calm, other, labels=["a", "b"])
    assert lacking.notes == ["b does not share the --set values a was run with: shocks.security.enabled "
                             "(false in a, true in b); its differences include that change."]
    # What the second run sets of its own is what it is (the reference with security off, or
    # security switched back on against a reference that has it off): no note.
    assert sim.compare(other, calm).notes == []
    assert sim.compare(other, calm).table.set_index("outcome").loc["security_incidents", "difference"] < 0
    back_on = sim.run(BASELINE, set={"horizon_years": 20, "shocks.security.enabled": True}, runs=RUNS, seed=3,
                      workers=1)
    assert sim.compare(calm, back_on).notes == []
    assert sim.compare(calm, back_on).table.set_index("outcome").loc["security_incidents", "difference"] > 0


def test_open_tells_a_sweep_from_a_run(tmp_path):
    sw = sim.sweep(BASELINE, {"shocks.security.rate_factor": [1, 2]}, runs=3, workers=1, out=tmp_path / "s",
                   plots=False)
    opened = sim.open(tmp_path / "s")
    assert isinstance(opened, type(sw)) and opened.factors == ["shocks.security.rate_factor"]
    pd.testing.assert_frame_equal(opened.points, sw.points, check_dtype=False)
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        sim.open(tmp_path)


def test_discover_takes_a_run_or_its_table(res):
    found = sim.discover(res, "phase3_year > 12")
    same = sim.discover(res.outcomes, "> 12", outcome="phase3_year")
    assert found.name == "baseline" and found.table().equals(same.table())
    assert int(found.interest.sum()) == int((res.outcomes["phase3_year"].fillna(np.inf) > 12).sum())


def test_the_report_is_one_self_contained_html_file(res, other, tmp_path):
    path = sim.report(res, [other], out=tmp_path / "r.html")
    text = path.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing fetched from a network
    assert text.count("data:image/png;base64,") == 7  # survival, 2 fans, histograms, 3 comparison plots
    for heading in ("The question", "The scenario in plain words", "Headline numbers", "Phase timing",
                    "Yearly flows", "Comparison", "Parameters and sources", "Provenance"):
        assert f">{heading}</h2>" in text
    assert "Baseline: what happens to Pakistan" in text  # the question, from the file's top comment
    assert res.manifest["scenario_sha256"] in text and "sim run" in text and "--seed 3" in text
    assert "first consignment to U.S. Strategic Metals" in text  # a parameter's source
    mean = res.summary().set_index("quantity").loc["cumulative_export_value_usd", "mean"] / 1e9
    assert f"{mean:.1f}" in text
    assert "hybrid_model against baseline" in text


def test_the_markdown_report_links_its_figures(res, tmp_path):
    path = sim.report(res, out=tmp_path / "r.md")
    text = path.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 4 and all((tmp_path / link).stat().st_size > 10_000 for link in links)
    assert "| outcome | unit | mean (95% interval) |" in text


def test_the_command_line_gives_what_the_api_gives(res, tmp_path):
    cli = CliRunner()
    done = cli.invoke(app, ["run", str(BASELINE), "--set", "horizon_years=20", "--runs", str(RUNS), "--seed", "3",
                            "--workers", "1", "--quiet", "--no-plots", "--out", str(tmp_path / "c")])
    assert done.exit_code == 0, done.output
    pd.testing.assert_frame_equal(sim.open(tmp_path / "c").outcomes, res.outcomes, check_dtype=False)
    done = cli.invoke(app, ["report", str(tmp_path / "c"), "--format", "md"])
    assert done.exit_code == 0 and (tmp_path / "c" / "report.md").exists(), done.output
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["question"] == res.manifest["question"]
    done = cli.invoke(app, ["report", str(tmp_path / "nothing")])
    assert done.exit_code == 2 and "no manifest.json" in done.output and "Traceback" not in done.output
    done = cli.invoke(app, ["report", str(tmp_path / "c"), "--format", "pdf"])
    assert done.exit_code == 2 and "--format: must be html or md" in done.output


def test_the_api_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SIM_WORKERS", "1")
    outcome = doctest.testmod(api, optionflags=doctest.ELLIPSIS)
    assert outcome.attempted >= 3 and outcome.failed == 0


def test_every_public_name_loads_from_its_home_module():
    """``sim`` loads its public names on first use; the list a reader sees (``__all__``, and
    ``dir(sim)``) must be the names it can load, each the object of the module it lives in."""
    import importlib

    homes = sim._HOMES
    assert sorted(homes) == sorted(sim.__all__)
    for name in sim.__all__:
        home = importlib.import_module(f"sim.{homes[name]}")
        assert getattr(sim, name) is getattr(home, name)
    assert set(sim.__all__) <= set(dir(sim))
    with pytest.raises(AttributeError, match="no attribute 'simulate'"):
        sim.simulate  # noqa: B018 - the lookup is the test
