"""Scenario discovery: planted boxes are found, conditions read as written, and the command
works on a real run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import baseline
from sim.analysis.discovery import DiscoveryError, discover, parse_condition
from sim.cli import app
from sim.experiment.store import run_to_folder


def _planted(n: int = 3000, noise: float = 0.03, seed: int = 0) -> pd.DataFrame:
    """Four uniform inputs and a policy; Phase 3 never comes when x1 > 0.6 and x3 < 0.3 (and,
    where asked, the deal is not a treaty), with a share ``noise`` of the cases flipped."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.uniform(size=(n, 4)), columns=["a.x1", "a.x2", "a.x3", "a.x4"])
    table["levers.deal_basis"] = rng.choice(["treaty", "personality", "none"], n)
    table["replication"] = np.arange(n)
    late = (table["a.x1"] > 0.6) & (table["a.x3"] < 0.3)
    flip = rng.uniform(size=n) < noise
    table["phase3_year"] = np.where(late ^ flip, np.nan, rng.uniform(6, 12, n))
    table["stalled"] = (late & (table["levers.deal_basis"] != "treaty")) ^ flip
    return table


@pytest.mark.check("analytic", source="a box planted in synthetic data (x1 > 0.6 and x3 < 0.3, 3% of cases "
                   "flipped) is recovered", tolerance="limits within 0.05; coverage and density within 0.03 of the planted box's")
def test_discovery_finds_a_planted_box(figure):
    found = discover(_planted(), parse_condition("> 15", "phase3_year"))
    best = found.boxes[0]
    assert set(best.limits) == {"a.x1", "a.x3"}, best.describe()
    assert best.limits["a.x1"].low == pytest.approx(0.6, abs=0.05) and np.isinf(best.limits["a.x1"].high)
    assert best.limits["a.x3"].high == pytest.approx(0.3, abs=0.05) and np.isinf(best.limits["a.x3"].low)
    # The planted box itself scores below 1 on both, through the flipped cases.
    table = _planted()
    late, planted = found.interest, ((table["a.x1"] > 0.6) & (table["a.x3"] < 0.3)).to_numpy()
    coverage, density = (late & planted).sum() / late.sum(), (late & planted).sum() / planted.sum()
    assert best.coverage == pytest.approx(coverage, abs=0.03) and best.density == pytest.approx(density, abs=0.03)
    assert found.importance.index[:2].tolist() in (["a.x3", "a.x1"], ["a.x1", "a.x3"])
    figure(f"{best.describe()}; coverage {best.coverage:.3f} (planted box {coverage:.3f}), "
           f"density {best.density:.3f} (planted box {density:.3f})")


def test_a_categorical_limit_is_a_set_of_allowed_values():
    found = discover(_planted(), parse_condition("stalled == true"), min_support=0.02)
    best = found.boxes[0]
    assert set(best.limits["levers.deal_basis"].allowed) == {"none", "personality"}
    assert "levers.deal_basis in {none, personality}" in best.describe()
    assert best.density > 0.8


def test_measures_are_what_they_say():
    table = _planted()
    found = discover(table, parse_condition("phase3_year > 15"))
    late = table["phase3_year"].isna().to_numpy()  # a phase never reached is later than any year
    assert np.array_equal(found.interest, late)
    for b in found.boxes:
        inside = b.contains(table)
        assert b.cases == inside.sum() and b.of_interest == (inside & late).sum()
        assert b.coverage == pytest.approx((inside & late).sum() / late.sum())
        assert b.density == pytest.approx((inside & late).sum() / inside.sum())
        assert b.support >= 0.05 - 1e-12


def test_conditions_read_as_written():
    assert str(parse_condition("> 15", "phase3_year")) == "phase3_year > 15"
    assert str(parse_condition("stalled == TRUE")) == "stalled == true"
    assert parse_condition("<= 2.5", "npv_usd").value == 2.5
    for where, outcome, message in (("15", "phase3_year", "operator"), ("> soon", "phase3_year", "not a number"),
                                    ("> 15", None, "which outcome"), ("npv_usd > 1", "phase3_year", "names")):
        with pytest.raises(DiscoveryError, match=message):
            parse_condition(where, outcome)
    table = _planted()
    with pytest.raises(DiscoveryError, match="true or false"):
        discover(table, parse_condition("stalled > 1"))
    with pytest.raises(DiscoveryError, match="no replication"):
        discover(table, parse_condition("phase3_year < 0"))
    with pytest.raises(DiscoveryError, match="no outcome"):
        discover(table, parse_condition("phase4_year > 1"))


def test_a_condition_takes_the_printed_unit_or_says_the_range():
    """The summary prints china_processed_share in % and money in USD bn, while the table
    holds a share (0.356) and USD: "> 40%" and "> 5bn" mean what they say, and a value in the
    wrong unit ("> 40" for a share) is answered with the column's range in both units."""
    assert parse_condition("> 40%", "china_processed_share").value == pytest.approx(0.40)
    assert parse_condition("npv_usd < -2.5 USD bn").value == pytest.approx(-2.5e9)
    assert parse_condition("cumulative_export_value_usd >= 60bn").value == pytest.approx(6e10)
    assert str(parse_condition("> 40%", "china_processed_share")) == "china_processed_share > 40%"
    for where, message in (("npv_usd > 5%", "printed in USD bn, not %"),
                           ("phase3_year > 5bn", "printed in years since start, not bn"),
                           ("npv_usd > inf", "finite")):
        with pytest.raises(DiscoveryError, match=message):
            parse_condition(where)
    rng = np.random.default_rng(3)
    table = pd.DataFrame({"china_processed_share": rng.uniform(0.30, 0.41, 200), "x": rng.uniform(size=200)})
    with pytest.raises(DiscoveryError, match=r"no replication meets china_processed_share > 40: nothing to tell apart; "
                       r"china_processed_share runs from 0\.3\d* to 0\.4\d* in this table \(3\d\.?\d*% to "
                       r"4\d\.?\d*% as printed\); if you meant 40%, write '> 40%'"):
        discover(table, parse_condition("> 40", "china_processed_share"))
    found = discover(table, parse_condition("> 40%", "china_processed_share"), inputs=["x"])
    assert found.interest.sum() == (table["china_processed_share"] > 0.40).sum() > 0


def test_discover_command_on_a_run(tmp_path):
    run_to_folder(baseline(), tmp_path / "run", runs=60, seed=1, workers=1, timeseries=False)
    done = CliRunner().invoke(app, ["discover", str(tmp_path / "run"), "--outcome", "phase3_year", "--where", "> 12"],
                              catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert "meet phase3_year > 12" in done.output and "coverage" in done.output
    boxes = pd.read_csv(tmp_path / "run" / "discovery" / "boxes.csv")
    assert list(boxes.columns[:5]) == ["box", "limits", "coverage", "density", "support"]
    assert (tmp_path / "run" / "discovery" / "plots" / "discovery.png").stat().st_size > 10_000
    for args, message in ((("run", "--where", "> 12"), "which outcome"),
                          (("nowhere", "--where", "phase3_year > 12"), "not a results folder"),
                          (("run", "--where", "phase3_year > 12", "--input", "no.such"), "no input")):
        done = CliRunner().invoke(app, ["discover", str(tmp_path / args[0]), *args[1:]], catch_exceptions=False)
        assert done.exit_code == 2 and message in done.output, done.output
