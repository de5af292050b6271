"""Runs of many replications: worker-count independence, tables, files, provenance."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import SCENARIOS, baseline
from sim.experiment.manifest import scenario_digest
from sim.experiment.results import ResultSet
from sim.experiment.runner import assemble, plan_chunks, run_many, simulate
from sim.model import outputs
from sim.model.engine import run_chunk
from sim.model.sampling import dotted, uncertain_inputs
from sim.scenario.files import load_scenario
from sim.scenario.schema import CHINA_REGIMES


def test_chunks_cover_every_replication_once():
    for runs, workers, size in ((1, 1, None), (1000, 2, None), (37, 4, 5), (10, 3, 100), (10_000, 2, None),
                                (12_345, 7, 300)):
        for taper in (True, False):
            chunks = plan_chunks(runs, workers, size, taper=taper)
            covered = [i for a, b in chunks for i in range(a, b)]
            assert covered == list(range(runs))


def test_a_long_plan_ends_in_smaller_and_smaller_pieces():
    """So the workers finish together: the tail halves down to the smallest piece, and
    the plan does not depend on the number of workers once the chunk size is fixed."""
    sizes = [b - a for a, b in plan_chunks(10_000, 2)]
    assert sizes[0] == 250 and sizes[-8:] == [125, 125, 62, 62, 31, 31, 15, 15]
    assert plan_chunks(10_000, 2, 250) == plan_chunks(10_000, 1, 250) == plan_chunks(10_000, 64, 250)
    assert {b - a for a, b in plan_chunks(10_000, 2, taper=False)} == {250}


@pytest.mark.check("invariant", source="reproducibility: replication i depends only on (scenario, seed, i)",
                   tolerance="bit-identical tables")
def test_results_identical_whatever_workers_and_chunk_size(figure):
    scn = baseline()
    one = run_many(scn, runs=24, seed=42, workers=1, chunk_size=24)
    two = run_many(scn, runs=24, seed=42, workers=2, chunk_size=5)
    three = run_many(scn, runs=24, seed=42, workers=1, chunk_size=7)
    for other in (two, three):
        pd.testing.assert_frame_equal(one.outcomes, other.outcomes, check_exact=True)
        pd.testing.assert_frame_equal(one.timeseries, other.timeseries, check_exact=True)
    figure("24 runs: identical on 1 worker (chunk 24), 2 workers (chunk 5), 1 worker (chunk 7)")


def test_outcomes_only_chunks_carry_the_same_outcomes(base):
    """Without time series, workers send back no yearly rows, and the outcomes do not change."""
    full = run_chunk(base, 5, 0, 6)
    bare = run_chunk(base, 5, 0, 6, timeseries=False)
    assert bare.series == {} and len(full.series["year"]) > 0
    for name, column in full.outcomes.items():
        np.testing.assert_array_equal(column, bare.outcomes[name], err_msg=name)
    outcomes, series = assemble([bare])
    assert series.empty and len(outcomes) == 6


def test_tables_have_the_documented_columns(base):
    tables = run_many(base, runs=6, seed=1, workers=1)
    keyed = {"commodity": list(base.commodities), "project": list(base.projects), None: [None]}
    documented = [c.of(k) if k else c.name for c in outputs.OUTCOMES for k in keyed[c.family]]
    assert list(tables.outcomes.columns[: len(documented)]) == documented
    inputs = [dotted(p) for p, _ in uncertain_inputs(base)]
    assert list(tables.outcomes.columns[len(documented):]) == inputs
    ts = tables.timeseries
    assert len(ts) == 6 * base.horizon_years
    keys = {"commodity": list(base.commodities), "group": list(base.shocks.refining.groups),
            "province": list(base.shocks.security.provinces)}
    expected = set()
    for col in outputs.TIMESERIES:
        family = re.search(r"<([a-z]+)>", col.name)
        if family is None:
            expected.add(col.name)
        elif col.name != "price_china_<commodity>_usd":  # only where China's price differs
            expected.update(col.name.replace(family[0], k) for k in keys[family[1]])
    expected.update(f"price_china_{c}_usd" for c, spec in base.commodities.items() if spec.market is not None)
    assert set(ts.columns) == expected
    assert set(ts.china_regime_rare_earths.cat.categories) == set(CHINA_REGIMES)
    assert ts.year.min() == 1 and ts.year.max() == base.horizon_years


def test_write_and_open_round_trip(tmp_path, base):
    res = simulate(base, runs=8, seed=3, workers=1)
    files = res.write(tmp_path / "run")
    names = {p.name for p in files}
    assert {"outcomes.parquet", "timeseries.parquet", "summary.csv", "manifest.json",
            "export_value_fan.png", "domestic_value_added_fan.png", "phase_survival.png",
            "outcome_histograms.png"} <= names
    assert not list((tmp_path / "run").glob(".*tmp*"))
    back = ResultSet.open(tmp_path / "run")
    pd.testing.assert_frame_equal(back.outcomes, res.outcomes)
    pd.testing.assert_frame_equal(back.timeseries, res.timeseries)
    assert scenario_digest(back.scenario) == scenario_digest(base)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["runs"] == 8
    assert manifest["scenario_sha256"] == scenario_digest(base)
    assert manifest["events_per_replication"] == pytest.approx(res.outcomes.events.mean())
    assert {"numpy", "simpy", "pydantic", "python"} <= set(manifest["versions"])
    summary = pd.read_csv(tmp_path / "run" / "summary.csv")
    assert {"quantity", "mean", "mcse", "ci95_low", "ci95_high", "p5", "p50", "p95"} <= set(summary.columns)
    assert "P(phase3 by year 10)" in set(summary.quantity)


def test_a_failed_write_leaves_no_half_written_file(tmp_path, base, monkeypatch):
    res = simulate(base, runs=4, seed=3, workers=1)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError):
        res.write(tmp_path / "run")
    assert list((tmp_path / "run").iterdir()) == []


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_runs(path):
    text = path.read_text()
    assert text.lstrip().startswith("#"), "a scenario opens with a comment saying what it asks"
    if path.name != "baseline.yaml":
        assert "extends:" in text
    scn = load_scenario(path)
    tables = run_many(scn, runs=4, seed=1, workers=1)
    assert len(tables.outcomes) == 4
    assert tables.outcomes.cumulative_export_value_usd.gt(0).all()
