"""The report as a reader meets it: the comparison said in a sentence, ties shown, the
parameter table folded away, a missed precision target admitted, progress while it runs."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

import sim
from conftest import BASELINE, SCENARIOS
from sim.cli import app
from sim.present.reports import precision_note
from sim.present.tables import labelled_summary

RUNS = 8


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "base"
    sim.run(BASELINE, runs=RUNS, seed=5, workers=1, out=out, plots=False)
    return out


def test_the_report_says_what_each_comparison_found(folder, tmp_path):
    r = CliRunner().invoke(app, ["report", str(folder), "--compare", str(SCENARIOS / "hybrid_model.yaml"),
                                 "--out", str(tmp_path / "r.html")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    # progress, on standard error, while the compared scenario runs and the figures are drawn
    assert f"running hybrid_model ({RUNS} replications, seed 5)" in r.stderr
    assert "report: drawing figure 1 of 7" in r.stderr and "drawing figure 7 of 7" in r.stderr
    text = (tmp_path / "r.html").read_text()
    cmp = sim.compare(sim.open(folder), sim.run(SCENARIOS / "hybrid_model.yaml",
                                                runs=RUNS, seed=5, workers=1), labels=["base", "hybrid_model"])
    said = cmp.findings()["hybrid_model"]
    assert said.startswith("Against base, hybrid_model ")
    assert f'<p class="finding">{said}</p>' in text.replace("&#x27;", "'")
    assert "<th>better / tie / worse</th>" in text and "Ties are common" in text
    assert "P(B better)" not in text


def test_the_parameter_table_is_folded_and_fits_the_page(folder, tmp_path):
    text = sim.report(folder, out=tmp_path / "r.html").read_text()
    folded = re.search(r"<details><summary>Show all (\d+) parameters</summary><table class=\"params\">", text)
    assert folded and int(folded[1]) > 300
    assert "table-layout: fixed" in text  # the table takes the page's width, not its own
    assert "commodities.<wbr>rare_earths.<wbr>price_usd" in text  # a long path breaks at its dots only
    md = sim.report(folder, out=tmp_path / "r.md").read_text()
    assert "<details><summary>Show all" in md


def test_a_precision_run_that_missed_its_target_says_so(tmp_path):
    res = sim.run(BASELINE, set={"horizon_years": 10}, runs=4, max_runs=8, target_precision=0.001, seed=2,
                  workers=1, out=tmp_path / "p", plots=False)
    record = res.manifest["precision"]
    assert record["met"] is False
    note = precision_note(record)
    assert note.startswith("Target precision \u00b10.10% NOT met: the run stopped at its cap of 8 replications")
    assert "Net present value \u00b1" in note or "Cumulative export value \u00b1" in note  # means named in words
    text = sim.report(tmp_path / "p", out=tmp_path / "p.html").read_text()
    assert f'<p class="note">{note}</p>' in text.replace("&#x27;", "'")
    met = precision_note({**record, "met": True, "runs": 8, "check_every": 4})
    assert met.startswith("Target precision \u00b10.10% met at 8 replications (checked every 4)")


def test_the_labelled_summary_reads_in_words_and_shown_units(folder):
    res = sim.open(folder)
    shown = labelled_summary(res.summary()).set_index("quantity")
    raw = res.summary().set_index("quantity")
    assert shown.loc["npv_usd", "outcome"] == "Net present value" and shown.loc["npv_usd", "unit"] == "USD bn"
    assert shown.loc["npv_usd", "median"] == pytest.approx(raw.loc["npv_usd", "p50"] / 1e9, rel=1e-3)
    share = shown.loc["china_processed_share"]
    assert share["mean"] == pytest.approx(raw.loc["china_processed_share", "mean"] * 100, rel=1e-3)
    assert share["95% interval from"] >= 0  # kept within what a share can be
    assert res.summary(labels=True).equals(labelled_summary(res.summary()))
